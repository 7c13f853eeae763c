//! Shell completion scripts, from clap_complete, with its bash script
//! repaired for a binary whose name holds a hyphen.
//!
//! clap_complete 4.6's bash script (clap-rs/clap#6421, open at the time of
//! writing) spells a subcommand's state one way where it walks the words
//! typed (`player__cli__subcmd__trade`) and another in the labels that list
//! each subcommand's flags (`player__subcmd__cli__subcmd__trade`), so no
//! label ever matches and `player-cli trade --<Tab>` completes nothing. The
//! labels are respelled the way the walk spells them; zsh and fish scripts
//! keep the name verbatim and need nothing.

use clap::Command;
use clap_complete::Shell;

/// The completion script of `cmd`, installed as `bin_name`, for `shell`.
pub fn script(shell: Shell, cmd: &mut Command, bin_name: &str) -> String {
    // Into memory first: clap_complete panics on a failed write, and a closed
    // stdout (`| head`) must end the command quietly.
    let mut script = Vec::new();
    clap_complete::generate(shell, cmd, bin_name, &mut script);
    let script = String::from_utf8_lossy(&script).into_owned();
    match shell {
        Shell::Bash => repair_bash(&script, bin_name),
        _ => script,
    }
}

/// The bash script with the case labels spelled as its dispatch loop spells
/// the states. Already-right scripts (a name without a hyphen, or a fixed
/// clap_complete) come back unchanged.
fn repair_bash(script: &str, bin_name: &str) -> String {
    let walked = bin_name.replace('-', "__");
    let labelled = bin_name.replace('-', "__subcmd__");
    if walked == labelled {
        return script.to_owned();
    }
    script.replace(
        &format!("{labelled}__subcmd__"),
        &format!("{walked}__subcmd__"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_take_the_walks_spelling() {
        let broken = "cmd=\"my__app__subcmd__run\"\n        my__subcmd__app__subcmd__run)\n        my__app)\n";
        assert_eq!(
            repair_bash(broken, "my-app"),
            "cmd=\"my__app__subcmd__run\"\n        my__app__subcmd__run)\n        my__app)\n"
        );
        assert_eq!(repair_bash(broken, "myapp"), broken);
    }
}
