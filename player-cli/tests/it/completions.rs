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

/// What bash completes after `words` (the last one being the one
/// under the cursor), run by a real bash the way its completion does:
/// `COMP_WORDS`, `COMP_CWORD` and the function `complete -p` names.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let run = cli_env(&["completions", "bash"], &[]);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("player-cli.bash");
    std::fs::write(&path, &run.stdout).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let driver = format!(
        r#"source '{}'
spec=$(complete -p player-cli) || exit 3
fn=$(sed -E 's/.*-F ([^ ]+) .*/\1/' <<<"$spec")
COMP_WORDS=({})
COMP_CWORD={cword}
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
"$fn" player-cli "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        path.display(),
        quoted.join(" ")
    );
    let run = player_testkit::cli::Cli::new("bash")
        .args(["--norc", "-c", &driver])
        .run();
    assert_eq!(run.code, 0, "{run:?}");
    run.stdout.lines().map(str::to_owned).collect()
}

/// Flags of a subcommand complete in bash, though the binary's name holds a
/// hyphen (which clap_complete's own script gets wrong).
#[test]
fn bash_completes_the_flags_of_subcommands() {
    for (words, expected) in [
        (
            &["player-cli", "--"][..],
            &["--database-url", "--reset", "--help"][..],
        ),
        (
            &["player-cli", "trade", "--"],
            &[
                "--seller",
                "--buyer",
                "--amount",
                "--price",
                "--time-limit",
                "--json",
            ],
        ),
        (
            &["player-cli", "player", "create", "--"],
            &["--coins", "--goods", "--json"],
        ),
        (
            &["player-cli", "bank", "--"],
            &["--workers", "--bank-database", "--hot-share"],
        ),
        (&["player-cli", "player", "l"], &["list"]),
    ] {
        let got = bash_completes(words);
        for flag in expected {
            assert!(
                got.iter().any(|g| g == flag),
                "{words:?}: no {flag} in {got:?}"
            );
        }
    }
    // A flag of another subcommand is not offered.
    let got = bash_completes(&["player-cli", "trade", "--"]);
    assert!(!got.iter().any(|g| g == "--coins"), "{got:?}");
}

/// fish completes the same flags (`complete -C`); zsh parses its script.
/// Each shell is skipped, with a line, where it is not installed.
#[test]
fn fish_and_zsh_scripts_work_where_the_shells_are() {
    let installed = |shell: &str| {
        std::process::Command::new(shell)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let dir = tempfile::tempdir().expect("dir");
    if installed("fish") {
        let script = dir.path().join("player-cli.fish");
        std::fs::write(&script, cli_env(&["completions", "fish"], &[]).stdout).expect("write");
        for (line, flag) in [
            ("player-cli trade --", "--seller"),
            ("player-cli player create --", "--coins"),
        ] {
            let run = player_testkit::cli::Cli::new("fish")
                .args([
                    "--no-config",
                    "-c",
                    &format!("source '{}'; complete -C '{line}'", script.display()),
                ])
                .run();
            assert!(
                run.stdout
                    .lines()
                    .any(|l| l.split('\t').next() == Some(flag)),
                "{line}: {run:?}"
            );
        }
    } else {
        eprintln!("skipped: fish is not installed");
    }
    if installed("zsh") {
        let script = dir.path().join("_player-cli");
        std::fs::write(&script, cli_env(&["completions", "zsh"], &[]).stdout).expect("write");
        let run = player_testkit::cli::Cli::new("zsh")
            .args(["-n", &script.display().to_string()])
            .run();
        assert_eq!(run.code, 0, "{run:?}");
    } else {
        eprintln!("skipped: zsh is not installed");
    }
}
