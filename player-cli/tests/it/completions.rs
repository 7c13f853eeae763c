//! `completions`: a script for each shell that knows every subcommand, with
//! no database needed.

use crate::common::cli_env;

#[test]
fn each_shell_gets_a_script_naming_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        // A URL nothing answers: completions never connect, nor read it.
        let run = cli_env(
            &["completions", shell],
            &[("DATABASE_URL", "mysql://nobody@127.0.0.1:1/none")],
        );
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{shell}: {run:?}");
        for word in [
            "player-cli",
            "scenarios",
            "setup",
            "migrate",
            "player",
            "create",
            "trade",
            "load",
            "ping",
            "bank",
            "completions",
            "database-url",
            "json",
        ] {
            assert!(
                run.stdout.contains(word),
                "{shell}: no {word} in the script"
            );
        }
    }
    let run = cli_env(&["completions", "tcsh"], &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("invalid value 'tcsh'"), "{run:?}");
}

#[test]
fn the_bash_script_is_valid_bash() {
    let run = cli_env(&["completions", "bash"], &[]);
    let out = std::process::Command::new("bash")
        .args(["-n", "-c", &run.stdout])
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
