//! The crash test: the CLI is killed (SIGKILL) at random points while it
//! sends simulated blasts of 1,000 recipients, and restarted, 20 rounds.
//! No one may receive a message twice, every recipient must end in a final
//! state or the explicit unknown state, and the counts must match the ledger.

#![cfg(unix)]

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use blastdesk_core::messenger::read_ledger;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const ROUNDS: u64 = 20;
const RECIPIENTS: usize = 1_000;

fn cli(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("BLASTDESK_DATA_DIR");
    command
}

/// A deterministic sequence for the kill points, from the round number.
fn kill_points(round: u64) -> Vec<usize> {
    let mut state = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut points: Vec<usize> = (0..3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % RECIPIENTS as u64) as usize
        })
        .collect();
    points.sort_unstable();
    points
}

#[test]
fn killing_the_sender_at_random_points_never_sends_anyone_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("list.csv");
    let mut csv = String::from("nama,hp\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("Customer {i},0812{:08}\n", 10_000_000 + i));
    }
    std::fs::write(&list, csv)?;

    for round in 0..ROUNDS {
        let data = dir.path().join(format!("round-{round}"));
        let ledger = data.join("ledger.jsonl");
        let created = cli(&data)
            .args([
                "blast",
                "create",
                "--simulate",
                "--json",
                "--template",
                "Hi {nama}, {promo|sale} today!",
            ])
            .arg(&list)
            .output()?;
        assert!(created.status.success(), "{created:?}");
        let blast: serde_json::Value = serde_json::from_slice(&created.stdout)?;
        let blast = blast["blast"].as_i64().ok_or("no blast id")?.to_string();

        // The sender, with 5% temporary failures and short retry waits.
        let sender = || {
            let mut command = cli(&data);
            command
                .args(["blast", "run", &blast, "--ledger"])
                .arg(&ledger)
                .args(["--fault-seed", &round.to_string(), "--transient", "0.05"])
                .args(["--first-retry-ms", "5"]);
            command
        };
        // Kill the sender once the ledger has reached each kill point ...
        for point in kill_points(round) {
            let mut child = sender()
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()?;
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let sent = std::fs::read(&ledger)
                    .map(|b| b.iter().filter(|&&c| c == b'\n').count())
                    .unwrap_or(0);
                if sent >= point || child.try_wait()?.is_some() || Instant::now() > deadline {
                    break;
                }
                // Polling the ledger, not timing anything: leave the cores to the sender.
                std::thread::sleep(Duration::from_millis(2));
            }
            child.kill().ok(); // SIGKILL
            child.wait()?;
        }
        // ... then let it finish.
        let finished = sender().output()?;
        let code = finished.status.code();
        assert!(
            code == Some(0) || code == Some(4),
            "round {round}: {finished:?}"
        );

        // No one twice.
        let entries = read_ledger(&ledger)?;
        let mut seen = HashSet::new();
        for entry in &entries {
            assert!(
                seen.insert(entry.phone.to_string()),
                "round {round}: {} got two messages",
                entry.phone
            );
        }
        // Every delivery final or unknown, and the counts match the ledger.
        let conn = rusqlite::Connection::open(data.join(blastdesk_core::store::FILE_NAME))?;
        let mut states: HashMap<String, String> = HashMap::new();
        let mut statement = conn.prepare("SELECT phone, state FROM deliveries")?;
        for row in
            statement.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        {
            let (phone, state) = row?;
            states.insert(phone, state);
        }
        assert_eq!(states.len(), RECIPIENTS);
        for (phone, state) in &states {
            assert!(
                ["sent", "failed", "skipped", "unknown"].contains(&state.as_str()),
                "round {round}: {phone} ended {state}"
            );
            if state == "sent" {
                assert!(
                    seen.contains(phone),
                    "round {round}: {phone} is sent but not in the ledger"
                );
            }
        }
        for phone in &seen {
            let state = states.get(phone).map(String::as_str);
            assert!(
                matches!(state, Some("sent" | "unknown")),
                "round {round}: {phone} is in the ledger but {state:?}"
            );
        }
        let sent = states.values().filter(|s| *s == "sent").count();
        let unknown_in_ledger = seen
            .iter()
            .filter(|p| states.get(*p).map(String::as_str) == Some("unknown"))
            .count();
        assert_eq!(entries.len(), sent + unknown_in_ledger, "round {round}");
    }
    Ok(())
}
