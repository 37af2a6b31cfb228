//! The engine over a real store file and the simulated (or a scripted)
//! messenger, with tokio's clock paused: no test waits for real time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::clock::{Clock, Millis, TokioClock};
use blastdesk_core::engine::{Engine, Event, Outcome, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{
    Accepted, Faults, Messenger, Outgoing, RecipientProblem, SendError, SimulatedMessenger,
    read_ledger,
};
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::NewBlast;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const START: Millis = 1_700_000_000_000;

fn phone(i: usize) -> String {
    format!("+62812{i:08}")
}

fn recipients(n: usize) -> Vec<Recipient> {
    (0..n)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(phone(i)),
            fields: Fields::new(vec![(Arc::from("nama"), format!("Customer {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Regulars"),
            },
        })
        .collect()
}

fn new_blast(
    store: &Store,
    recipients: &[Recipient],
    options: serde_json::Value,
) -> Result<i64, Box<dyn std::error::Error>> {
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    Ok(store.create_blast(
        &NewBlast {
            account_id: account,
            name: "Promo",
            template: "Hi {nama}, {see you|bye}!",
            options,
            simulated: true,
            recipients,
        },
        START,
    )?)
}

/// An engine on `store` sending through a simulated messenger into `ledger`.
fn simulated_engine(
    store: &Store,
    ledger: &Path,
    faults: Faults,
    clock: TokioClock,
) -> Result<Engine<SimulatedMessenger<TokioClock>, TokioClock>, Box<dyn std::error::Error>> {
    let messenger = SimulatedMessenger::open(ledger, faults, clock)?;
    Ok(Engine::new(store.clone(), messenger, clock, no_jitter()))
}

fn no_jitter() -> RetryPolicy {
    RetryPolicy {
        jitter: 0.0,
        ..RetryPolicy::default()
    }
}

async fn run(
    engine: &Engine<impl Messenger, impl Clock>,
    blast: i64,
) -> Result<(RunEnd, Vec<Event>), Box<dyn std::error::Error>> {
    let mut events = Vec::new();
    let end = engine.run_blast(blast, &mut |e| events.push(e)).await?;
    Ok((end, events))
}

fn completions(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::BlastCompleted { .. }))
        .count()
}

fn ledger_phones(path: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(read_ledger(path)?
        .into_iter()
        .map(|e| e.phone.to_string())
        .collect())
}

#[tokio::test(start_paused = true)]
async fn a_blast_sends_everyone_once_and_completes_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(50), serde_json::json!({}))?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;

    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(completions(&events), 1);
    let entries = read_ledger(&ledger)?;
    let unique: HashSet<_> = entries.iter().map(|e| e.phone.to_string()).collect();
    assert_eq!((entries.len(), unique.len()), (50, 50));
    assert!(
        entries[7].text.starts_with("Hi Customer 7, "),
        "{}",
        entries[7].text
    );
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.total), (50, 50));

    // Running a completed blast again sends nothing and reports nothing new.
    let (again, events) = run(&engine, blast).await?;
    assert_eq!(again, RunEnd::Completed);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(read_ledger(&ledger)?.len(), 50);
    Ok(())
}

/// A messenger that answers from a script per number, then accepts.
struct Scripted {
    clock: TokioClock,
    script: Mutex<HashMap<String, VecDeque<SendError>>>,
    attempts: Mutex<Vec<(String, Millis)>>,
}

impl Scripted {
    fn new(clock: TokioClock, script: Vec<(String, Vec<SendError>)>) -> Scripted {
        Scripted {
            clock,
            script: Mutex::new(script.into_iter().map(|(p, e)| (p, e.into())).collect()),
            attempts: Mutex::new(Vec::new()),
        }
    }

    fn attempts_of(&self, phone: &str) -> Vec<Millis> {
        let attempts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
        attempts
            .iter()
            .filter(|(p, _)| p == phone)
            .map(|(_, at)| *at - START)
            .collect()
    }
}

impl Messenger for Scripted {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let phone = message.to.to_string();
        self.attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((phone.clone(), self.clock.now_ms()));
        let next = self
            .script
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(&phone)
            .and_then(VecDeque::pop_front);
        match next {
            Some(error) => Err(error),
            None => Ok(Accepted {
                message_id: format!("ok-{}", message.delivery_id),
                at_ms: self.clock.now_ms(),
            }),
        }
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        Ok(vec![true; phones.len()])
    }
}

fn transient() -> SendError {
    SendError::Transient {
        detail: "timeout".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn failing_twice_then_succeeding_completes_only_at_the_end_with_backoff() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(3), serde_json::json!({}))?;
    let clock = TokioClock::starting_at(START);
    let messenger = Scripted::new(clock, vec![(phone(0), vec![transient(), transient()])]);
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());

    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(completions(&events), 1);
    // Completion came after the last outcome, never before.
    let last_delivery = events
        .iter()
        .rposition(|e| matches!(e, Event::Delivery { .. }))
        .unwrap_or(0);
    let completed_at = events
        .iter()
        .position(|e| matches!(e, Event::BlastCompleted { .. }))
        .unwrap_or(0);
    assert!(completed_at > last_delivery);
    let retries = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Delivery {
                    outcome: Outcome::WillRetry { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(retries, 2);
    // Backoff: 1 s, then 2 s, measured on the paused clock.
    let engine_messenger_attempts = engine_attempts(&engine, &phone(0));
    assert_eq!(engine_messenger_attempts, [0, 1_000, 3_000]);
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.failed), (3, 0));
    Ok(())
}

fn engine_attempts(engine: &Engine<Scripted, TokioClock>, phone: &str) -> Vec<Millis> {
    engine.messenger().attempts_of(phone)
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_and_exhausted_retries_still_complete() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(4), serde_json::json!({}))?;
    let clock = TokioClock::starting_at(START);
    let messenger = Scripted::new(
        clock,
        vec![
            (
                phone(1),
                vec![SendError::Recipient {
                    problem: RecipientProblem::NotOnWhatsapp,
                }],
            ),
            (
                phone(2),
                vec![transient(), transient(), transient(), transient()],
            ),
        ],
    );
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(completions(&events), 1);
    assert_eq!(
        engine_attempts(&engine, &phone(1)).len(),
        1,
        "a permanent error is not retried"
    );
    assert_eq!(
        engine_attempts(&engine, &phone(2)).len(),
        3,
        "three attempts in all"
    );
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.failed, counts.total), (2, 2, 4));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_logout_pauses_the_blast_and_a_resume_sends_no_one_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(6), serde_json::json!({}))?;
    let clock = TokioClock::starting_at(START);
    let first_ledger = dir.path().join("first.jsonl");
    let faults = Faults {
        logout_after: Some(2),
        ..Faults::default()
    };
    let engine = simulated_engine(&store, &first_ledger, faults, clock)?;

    let (end, events) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: "logged_out".into()
        }
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::BlastPaused { code, .. } if code == "logged_out"))
    );
    let counts = store.delivery_counts(blast)?;
    assert_eq!(
        (counts.sent, counts.queued, counts.failed),
        (2, 4, 0),
        "the refused message went back to the queue"
    );

    // The account is linked again; the blast resumes.
    let second_ledger = dir.path().join("second.jsonl");
    let engine = simulated_engine(&store, &second_ledger, Faults::default(), clock)?;
    let (end, _) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    let mut all = ledger_phones(&first_ledger)?;
    all.extend(ledger_phones(&second_ledger)?);
    let unique: HashSet<_> = all.iter().cloned().collect();
    assert_eq!((all.len(), unique.len()), (6, 6), "everyone once: {all:?}");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_missing_value_skips_the_recipient_when_the_blast_says_so() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let mut list = recipients(3);
    list[1].fields = Fields::new(vec![(Arc::from("nama"), "  ".into())]);
    let blast = new_blast(
        &store,
        &list,
        serde_json::json!({ "missingValue": { "policy": "skip" } }),
    )?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Delivery { outcome: Outcome::Skipped { code, .. }, .. } if code == "missing_value"
    )));
    assert_eq!(ledger_phones(&ledger)?, [phone(0), phone(2)]);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_message_in_flight_at_a_crash_is_never_resent_silently() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(3), serde_json::json!({}))?;
    // The previous run died after recording the intent for the first delivery.
    {
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute(
            "UPDATE deliveries SET state = 'sending', attempts = 1 WHERE id = (SELECT min(id) FROM deliveries WHERE blast_id = ?1)",
            [blast],
        )?;
    }
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    assert_eq!(engine.recover()?, 1);
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::WaitingForDecision { unknown: 1 });
    assert_eq!(
        completions(&events),
        0,
        "not complete while a fate is unknown"
    );
    assert_eq!(ledger_phones(&ledger)?, [phone(1), phone(2)]);
    Ok(())
}
