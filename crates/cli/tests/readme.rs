//! Every command and flag the README shows for `blastdesk-cli` is run by a
//! CLI test: a documented command nobody runs is how `blast decide` came to
//! be refused by its own parser. This reads the README's shell blocks and
//! the CLI tests' sources, and names whatever is documented but never run.

use std::collections::BTreeSet;
use std::path::Path;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The commands (as their words, e.g. `blast decide`) and flags of every
/// `blastdesk-cli` line in the README's shell blocks.
fn documented(readme: &str) -> (BTreeSet<Vec<String>>, BTreeSet<String>) {
    let mut commands = BTreeSet::new();
    let mut flags = BTreeSet::new();
    let mut in_shell = false;
    let mut group: Option<String> = None;
    let mut continued = false;
    for line in readme.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_shell = trimmed == "```sh";
            continue;
        }
        if !in_shell {
            continue;
        }
        let code = trimmed.split(" # ").next().unwrap_or("").trim();
        let continuation = continued;
        let rest = if let Some(rest) = code.strip_prefix("blastdesk-cli ") {
            rest
        } else if let Some(rest) = code.strip_prefix("cargo run -p blastdesk-cli -- ") {
            rest
        } else if continuation {
            // A continuation line: flags only.
            code
        } else {
            continue;
        };
        continued = code.ends_with('\\');
        for word in rest.split_whitespace() {
            let word = word.trim_matches(|c| matches!(c, '[' | ']'));
            if let Some(flag) = word.strip_prefix("--") {
                flags.insert(format!("--{flag}"));
            }
        }
        if continuation {
            continue;
        }
        // `--data-dir DIR status`: the command follows the global flag.
        let rest = match rest.strip_prefix("--data-dir ") {
            Some(after) => after.split_once(' ').map_or("", |(_, command)| command),
            None => rest,
        };
        // `schedule pause 1 | resume 1 | remove 1`: three commands of one group.
        for (n, segment) in rest.split(" | ").enumerate() {
            let words: Vec<String> = segment
                .split_whitespace()
                .filter(|w| !w.starts_with('-') && !w.starts_with('['))
                .take_while(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
                .map(str::to_owned)
                .collect();
            let words = match (n, words.first().map(String::as_str)) {
                (0, Some(first)) => {
                    group = Some(first.to_owned());
                    words.into_iter().take(2).collect::<Vec<_>>()
                }
                (_, Some(_)) => match &group {
                    Some(group) => std::iter::once(group.clone())
                        .chain(words.into_iter().take(1))
                        .collect(),
                    None => continue,
                },
                _ => continue,
            };
            if !words.is_empty() {
                commands.insert(words);
            }
        }
    }
    (commands, flags)
}

/// The CLI tests' sources with all whitespace collapsed, so `"blast",
/// "create"` is found however a call is wrapped.
fn test_sources() -> Result<String, std::io::Error> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut all = String::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("readme.rs") {
            all.push_str(&std::fs::read_to_string(path)?);
        }
    }
    Ok(all.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[test]
fn every_command_and_flag_in_the_readme_is_run_by_a_cli_test() -> TestResult {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))?;
    let (commands, flags) = documented(&readme);
    assert!(commands.len() > 20, "too few commands found: {commands:?}");
    let sources = test_sources()?;
    let mut untested = Vec::new();
    for command in &commands {
        let quoted: Vec<String> = command.iter().map(|w| format!("{w:?}")).collect();
        if !sources.contains(&quoted.join(", ")) {
            untested.push(command.join(" "));
        }
    }
    for flag in &flags {
        if !sources.contains(&format!("{flag:?}")) {
            untested.push(flag.clone());
        }
    }
    assert!(
        untested.is_empty(),
        "documented in the README but run by no CLI test: {untested:?}"
    );
    Ok(())
}

#[test]
fn the_readme_reader_finds_commands_groups_and_flags() {
    let readme = "```sh\nblastdesk-cli blast decide 1 --resend | --leave-unsent   # x\n\
                  blastdesk-cli schedule pause 1 | resume 1\n\
                  blastdesk-cli schedule add --name \"A\" \\\n    --time 09:00\n\
                  cargo run -p blastdesk-cli -- --data-dir DIR status\n```\n\
                  blastdesk-cli outside --not-a-block\n";
    let (commands, flags) = documented(readme);
    let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        commands,
        BTreeSet::from([
            words("blast decide"),
            words("schedule pause"),
            words("schedule resume"),
            words("schedule add"),
            words("status"),
        ])
    );
    assert_eq!(
        flags,
        BTreeSet::from(
            [
                "--resend",
                "--leave-unsent",
                "--name",
                "--time",
                "--data-dir"
            ]
            .map(String::from)
        )
    );
}
