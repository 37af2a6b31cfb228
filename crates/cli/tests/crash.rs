//! The crash test: the CLI is killed (SIGKILL on Unix, TerminateProcess on
//! Windows, both `Child::kill`) at random points while it sends simulated
//! blasts of 1,000 recipients, and restarted, 20 rounds. It runs on Linux and,
//! cross-built, under Wine (scripts/windows-leg.sh).
//! No one may receive a message twice, every recipient must end in a final
//! state or the explicit unknown state, and the counts must match the ledger.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{Faults, SimulatedMessenger, read_ledger};
use blastdesk_core::owner::{Holder, Owner};
use blastdesk_core::pacing::Pacing;

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

/// A list of `RECIPIENTS` customers, as a CSV file in `dir`.
fn customer_list(dir: &Path) -> std::io::Result<std::path::PathBuf> {
    let list = dir.join("list.csv");
    let mut csv = String::from("nama,hp\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("Customer {i},0812{:08}\n", 10_000_000 + i));
    }
    std::fs::write(&list, csv)?;
    Ok(list)
}

/// Creates a rehearsal blast to `list` with the CLI; returns its id.
fn create_blast(data: &Path, list: &Path) -> Result<String, Box<dyn std::error::Error>> {
    let created = cli(data)
        .args([
            "blast",
            "create",
            "--simulate",
            "--json",
            "--template",
            "Hi {nama}, {promo|sale} today!",
        ])
        .arg(list)
        .output()?;
    assert!(created.status.success(), "{created:?}");
    let blast: serde_json::Value = serde_json::from_slice(&created.stdout)?;
    Ok(blast["blast"].as_i64().ok_or("no blast id")?.to_string())
}

/// The phones in a ledger, each checked to appear only once.
fn phones_once(ledger: &Path) -> Result<HashSet<String>, Box<dyn std::error::Error>> {
    let mut seen = HashSet::new();
    for entry in read_ledger(ledger)? {
        let phone = entry.phone.to_string();
        assert!(seen.insert(phone.clone()), "{phone} got two messages");
    }
    Ok(seen)
}

/// The app's engine sends a blast while `blastdesk-cli blast run` is started
/// on the same data folder, twice: it is refused with one line naming the
/// app, changes nothing, and no one gets the message twice. Once the app has
/// let go, the same command runs (and finds nothing left to send).
#[test]
fn the_app_and_a_cli_sender_never_send_for_one_data_folder_at_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = customer_list(dir.path())?;
    let data = dir.path().join("data");
    let blast = create_blast(&data, &list)?;
    let ledger = data.join("ledger.jsonl");

    let owner = Owner::claim(&data, Holder::App)?;
    let store = blastdesk_core::Store::open_in(&data)?;
    let messenger = SimulatedMessenger::open(&ledger, Faults::default(), SystemClock)?;
    let engine = Engine::new(
        store.clone(),
        messenger,
        SystemClock,
        RetryPolicy::default(),
    )
    .with_pacing(Pacing::off());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let blast_id: i64 = blast.parse()?;
    let app = runtime.spawn(async move {
        engine.recover()?;
        engine.run_blast(blast_id, &mut |_| {}).await
    });

    let cli_sender = || {
        let mut command = cli(&data);
        command
            .args(["blast", "run", &blast, "--no-pacing", "--ledger"])
            .arg(&ledger);
        command
    };
    for _ in 0..2 {
        let refused = cli_sender().output()?;
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        let text = String::from_utf8_lossy(&refused.stderr);
        assert!(
            text.contains("Blastdesk is running") && text.contains("Nothing was changed"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1, "{text}");
    }
    let end = runtime.block_on(app)??;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(phones_once(&ledger)?.len(), RECIPIENTS);
    drop(owner);

    let after = cli_sender().output()?;
    assert!(after.status.success(), "{after:?}");
    assert_eq!(
        phones_once(&ledger)?.len(),
        RECIPIENTS,
        "nothing went twice"
    );
    Ok(())
}

/// Two `blast run` of one blast at once: the second is refused while the
/// first sends (today's bug: the second's recovery marked the first's
/// message in flight unknown, and the first died).
#[test]
fn a_second_blast_run_is_refused_while_the_first_sends() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = customer_list(dir.path())?;
    let data = dir.path().join("data");
    let blast = create_blast(&data, &list)?;
    let ledger = data.join("ledger.jsonl");
    // Half its messages fail for a moment and wait ten minutes to be tried
    // again: the first sender is still at work when the second starts.
    let mut first = cli(&data)
        .args(["blast", "run", &blast, "--ledger"])
        .arg(&ledger)
        .args(["--transient", "0.5", "--first-retry-ms", "600000"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while read_ledger(&ledger).map(|e| e.len()).unwrap_or(0) == 0 {
        assert!(first.try_wait()?.is_none(), "the first sender stopped");
        assert!(Instant::now() < deadline, "the first sender sent nothing");
        // Polling the ledger, not timing anything.
        std::thread::sleep(Duration::from_millis(5));
    }
    let second = cli(&data)
        .args(["blast", "run", &blast, "--no-pacing", "--ledger"])
        .arg(&ledger)
        .output()?;
    assert_eq!(second.status.code(), Some(1), "{second:?}");
    let text = String::from_utf8_lossy(&second.stderr);
    assert!(
        text.contains(&format!("`blastdesk-cli blast run {blast}`")),
        "{text}"
    );
    assert!(first.try_wait()?.is_none(), "the first sender goes on");
    first.kill()?;
    first.wait()?;
    phones_once(&ledger)?;
    let conn = rusqlite::Connection::open(data.join(blastdesk_core::store::FILE_NAME))?;
    let unknown: i64 = conn.query_row(
        "SELECT count(*) FROM deliveries WHERE state = 'unknown'",
        [],
        |r| r.get(0),
    )?;
    assert_eq!(unknown, 0, "the second changed nothing");
    Ok(())
}

#[test]
fn killing_the_sender_at_random_points_never_sends_anyone_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = customer_list(dir.path())?;

    for round in 0..ROUNDS {
        let data = dir.path().join(format!("round-{round}"));
        let ledger = data.join("ledger.jsonl");
        let blast = create_blast(&data, &list)?;

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
            child.kill().ok(); // SIGKILL, or TerminateProcess on Windows
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
