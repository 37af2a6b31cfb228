//! The engine over a real store file and the simulated (or a scripted)
//! messenger, with tokio's clock paused: no test waits for real time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::{Clock, Millis, TokioClock};
use blastdesk_core::engine::{self, Control, Engine, Event, Outcome, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{
    Accepted, AccountProblem, Faults, MediaKind, Messenger, Outgoing, RecipientProblem, SendError,
    SimulatedMessenger, read_ledger,
};
use blastdesk_core::pacing::{LocalTime, Pacing, WaitReason, Window};
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::{DeliveryCode, PauseCode};
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::Receipt;
use blastdesk_core::store::runs::{BlastState, UnknownDecision};
use blastdesk_core::template::MissingValue;
use blastdesk_core::zone;

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
    options: BlastOptions,
) -> Result<i64, Box<dyn std::error::Error>> {
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    new_blast_for(store, account, recipients, options)
}

fn new_blast_for(
    store: &Store,
    account: i64,
    recipients: &[Recipient],
    options: BlastOptions,
) -> Result<i64, Box<dyn std::error::Error>> {
    create_with(store, account, recipients, options, None)
}

fn create_with(
    store: &Store,
    account: i64,
    recipients: &[Recipient],
    options: BlastOptions,
    attach: Option<&Path>,
) -> Result<i64, Box<dyn std::error::Error>> {
    let created = blast::create(
        store,
        &NewBlast {
            name: "Promo",
            template: "Hi {nama}, {see you|bye}!",
            sender: Sender::Account(account),
            recipients,
            options,
            attach,
        },
        START,
    )?;
    Ok(created.blast_id)
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
    let blast = new_blast(&store, &recipients(50), BlastOptions::default())?;
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
    let blast = new_blast(&store, &recipients(3), BlastOptions::default())?;
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
    let blast = new_blast(&store, &recipients(4), BlastOptions::default())?;
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

/// WhatsApp refusing a message (a nack) fails that delivery: it reached no
/// one, so it is never counted sent. A 463 (the account may not message
/// people who have not written first) puts the message back and pauses the
/// account with its own reason, the step before a ban.
#[tokio::test(start_paused = true)]
async fn a_refused_message_fails_and_a_reach_out_restriction_pauses_the_account() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(4), BlastOptions::default())?;
    let clock = TokioClock::starting_at(START);
    let refused = SendError::Recipient {
        problem: RecipientProblem::Refused { code: 479 },
    };
    let restricted = SendError::Account {
        problem: AccountProblem::ReachOutRestricted,
    };
    let messenger = Scripted::new(
        clock,
        vec![(phone(1), vec![refused]), (phone(2), vec![restricted])],
    );
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::ReachOutRestricted
        }
    );
    let reason = events
        .iter()
        .find_map(|e| match e {
            Event::BlastPaused { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .ok_or("no pause was told")?;
    assert!(reason.contains("code 463"), "{reason}");
    let counts = store.delivery_counts(blast)?;
    assert_eq!(
        (counts.sent, counts.failed, counts.queued),
        (1, 1, 2),
        "the refused one failed; the restricted one went back to the queue"
    );
    let report = blastdesk_core::report::Report::load(&store, blast)?;
    let failed = report
        .rows
        .iter()
        .find(|row| row.phone == phone(1))
        .ok_or("no row")?;
    assert_eq!(failed.error_code, Some(DeliveryCode::Refused));
    assert!(
        failed
            .error_detail
            .as_deref()
            .is_some_and(|d| d.contains("code 479")),
        "{failed:?}"
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_logout_pauses_the_blast_and_a_resume_sends_no_one_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(6), BlastOptions::default())?;
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
            code: PauseCode::LoggedOut
        }
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::BlastPaused { code, .. } if *code == PauseCode::LoggedOut))
    );
    let counts = store.delivery_counts(blast)?;
    assert_eq!(
        (counts.sent, counts.queued, counts.failed),
        (2, 4, 0),
        "the refused message went back to the queue"
    );

    // The pause is durable: running again sends nothing until it is resumed.
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        (
            summary.state.as_str(),
            summary.pause_code.map(PauseCode::as_str)
        ),
        ("paused", Some("logged_out"))
    );
    assert_eq!(
        summary.pause_reason.as_deref(),
        Some("the account was logged out.")
    );
    let second_ledger = dir.path().join("second.jsonl");
    let engine = simulated_engine(&store, &second_ledger, Faults::default(), clock)?;
    let (end, _) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::LoggedOut
        }
    );
    assert!(ledger_phones(&second_ledger)?.is_empty());

    // The account is linked again; the blast resumes.
    engine.control().resume(blast)?;
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
        BlastOptions {
            missing_value: MissingValue::Skip,
            ..BlastOptions::default()
        },
    )?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Delivery { outcome: Outcome::Skipped { code, .. }, .. } if *code == DeliveryCode::MissingValue
    )));
    assert_eq!(ledger_phones(&ledger)?, [phone(0), phone(2)]);
    Ok(())
}

/// As if the previous run died after recording the intent for a blast's
/// first delivery, before its outcome.
fn died_while_sending_the_first(data: &Path, blast: i64) -> TestResult {
    let conn = rusqlite::Connection::open(data.join(blastdesk_core::store::FILE_NAME))?;
    conn.execute(
        "UPDATE deliveries SET state = 'sending', attempts = 1
         WHERE id = (SELECT min(id) FROM deliveries WHERE blast_id = ?1)",
        [blast],
    )?;
    Ok(())
}

/// A blast whose first message was in flight at a crash, recovered and run
/// until it waits for the person's decision about that one message.
struct AwaitingDecision {
    dir: tempfile::TempDir,
    store: Store,
    blast: i64,
    ledger: std::path::PathBuf,
    engine: Engine<SimulatedMessenger<TokioClock>, TokioClock>,
}

async fn awaiting_decision(
    recipients_n: usize,
) -> Result<AwaitingDecision, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(recipients_n), BlastOptions::default())?;
    died_while_sending_the_first(dir.path(), blast)?;
    let ledger = dir.path().join("ledger.jsonl");
    let engine = simulated_engine(
        &store,
        &ledger,
        Faults::default(),
        TokioClock::starting_at(START),
    )?;
    engine.recover()?;
    assert_eq!(
        run(&engine, blast).await?.0,
        RunEnd::WaitingForDecision { unknown: 1 }
    );
    Ok(AwaitingDecision {
        dir,
        store,
        blast,
        ledger,
        engine,
    })
}

#[tokio::test(start_paused = true)]
async fn a_message_in_flight_at_a_crash_is_never_resent_silently() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(3), BlastOptions::default())?;
    died_while_sending_the_first(dir.path(), blast)?;
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
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        summary.pause_code.map(PauseCode::as_str),
        Some("needs_decision")
    );
    // It keeps waiting for the decision, run after run.
    assert_eq!(
        run(&engine, blast).await?.0,
        RunEnd::WaitingForDecision { unknown: 1 }
    );

    // The person decides to leave it unsent: the blast completes without it.
    let decided = engine
        .control()
        .decide_unknown(blast, UnknownDecision::LeaveUnsent, START)?;
    assert_eq!(decided, 1);
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(completions(&events), 1);
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.skipped, counts.unknown), (2, 1, 0));
    assert_eq!(ledger_phones(&ledger)?, [phone(1), phone(2)]);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_message_of_unknown_fate_is_sent_again_when_the_person_chooses() -> TestResult {
    let AwaitingDecision {
        dir: _dir,
        store: _,
        blast,
        ledger,
        engine,
    } = awaiting_decision(2).await?;
    engine
        .control()
        .decide_unknown(blast, UnknownDecision::Resend, START)?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    assert_eq!(ledger_phones(&ledger)?, [phone(1), phone(0)]);
    Ok(())
}

/// Settings whose every gap is known: 30 s apart, a 5-minute rest after
/// every 20, 09:00-17:00 in Jakarta, at most 300 a day.
fn fixed_pacing() -> Pacing {
    Pacing {
        enabled: true,
        min_delay_s: 30,
        max_delay_s: 30,
        batch_min: 20,
        batch_max: 20,
        rest_min_s: 300,
        rest_max_s: 300,
        per_minute: 6,
        hourly_cap: 0,
        daily_cap: 300,
        warm_up_days: 0,
        window: Some(Window {
            start: LocalTime::hm(9, 0),
            end: LocalTime::hm(17, 0),
        }),
        error_streak: 5,
    }
}

fn jakarta(ms: Millis) -> String {
    let tz = zone::parse("Asia/Jakarta").unwrap_or(chrono_tz::Tz::UTC);
    zone::local(tz, ms).format("%Y-%m-%d %H:%M:%S").to_string()
}

#[tokio::test(start_paused = true)]
async fn pacing_sends_exactly_the_configured_pattern_over_a_simulated_day() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    store.set_account_pacing(account, &fixed_pacing())?;
    let blast = new_blast_for(&store, account, &recipients(320), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    // 05:13:20 in Jakarta: the window opens at 09:00.
    let clock = TokioClock::starting_at(START);
    let messenger = SimulatedMessenger::open(&ledger, Faults::default(), clock)?;
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());

    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    let times: Vec<Millis> = read_ledger(&ledger)?.iter().map(|e| e.at_ms).collect();
    assert_eq!(times.len(), 320);
    // A batch every 14.5 minutes from 09:00, 30 s apart within it; the daily
    // cap stops the day at 300, and the rest go at 09:00 the next day.
    let nine = times[0];
    assert_eq!(jakarta(nine), "2023-11-15 09:00:00");
    for (i, &t) in times[..300].iter().enumerate() {
        let i = i as Millis;
        let expected = nine + (i / 20) * 870_000 + (i % 20) * 30_000;
        assert_eq!(t, expected, "message {i} at {}", jakarta(t));
    }
    assert_eq!(jakarta(times[299]), "2023-11-15 12:32:30");
    assert_eq!(jakarta(times[300]), "2023-11-16 09:00:00");
    assert_eq!(times[319] - times[300], 19 * 30_000);

    // The waits were reported with their reasons.
    let reasons: HashSet<WaitReason> = events
        .iter()
        .filter_map(|e| match e {
            Event::Waiting { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    let expected: HashSet<WaitReason> = [
        WaitReason::OutsideWindow,
        WaitReason::Delay,
        WaitReason::BatchRest,
        WaitReason::DailyCap,
    ]
    .into();
    assert_eq!(reasons, expected);
    // Progress carried an estimate that the run then met.
    let first_estimate = events.iter().find_map(|e| match e {
        Event::Progress {
            finish_estimate_ms: Some(at),
            ..
        } => Some(*at),
        _ => None,
    });
    assert_eq!(first_estimate, Some(times[319]));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_estimate_before_sending_is_when_pacing_would_finish() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    store.set_account_pacing(account, &fixed_pacing())?;
    let finish = engine::estimate_finish(&store, account, 320, START)?;
    assert_eq!(jakarta(finish), "2023-11-16 09:09:30");
    Ok(())
}

/// Runs a blast, calling `act` with the engine's control on each event.
async fn run_with(
    engine: &Engine<impl Messenger, impl Clock>,
    blast: i64,
    mut act: impl FnMut(&Control, &Event) + Send,
) -> Result<(RunEnd, Vec<Event>), Box<dyn std::error::Error>> {
    let control = engine.control().clone();
    let mut events = Vec::new();
    let end = engine
        .run_blast(blast, &mut |e| {
            act(&control, &e);
            events.push(e);
        })
        .await?;
    Ok((end, events))
}

/// Runs a blast, pausing it (as the person would) once `n` messages were sent.
async fn run_pausing_after(
    engine: &Engine<impl Messenger, impl Clock>,
    blast: i64,
    n: usize,
) -> Result<(RunEnd, Vec<Event>), Box<dyn std::error::Error>> {
    let mut sent = 0;
    run_with(engine, blast, |control, event| {
        if matches!(event, Event::Delivery { .. }) {
            sent += 1;
            if sent == n {
                control.pause(blast).ok();
            }
        }
    })
    .await
}

fn sent_count(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Delivery {
                    outcome: Outcome::Sent { .. },
                    ..
                }
            )
        })
        .count()
}

#[tokio::test(start_paused = true)]
async fn pause_takes_effect_before_the_next_message_and_resume_goes_on() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(10), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;

    let (end, _) = run_pausing_after(&engine, blast, 3).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::ByYou
        }
    );
    assert_eq!(read_ledger(&ledger)?.len(), 3);
    // Still paused in a new run (as after a restart).
    assert!(matches!(
        run(&engine, blast).await?.0,
        RunEnd::Paused { .. }
    ));

    engine.control().resume(blast)?;
    let (end, events) = run(&engine, blast).await?;
    assert_eq!((end, sent_count(&events)), (RunEnd::Completed, 7));
    assert_eq!(ledger_phones(&ledger)?.len(), 10);
    // A finished blast cannot be paused or resumed.
    let error = engine.control().pause(blast).err().map(|e| e.code());
    assert_eq!(error, Some(blastdesk_core::ErrorCode::BlastFinished));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn cancel_skips_what_was_not_sent_and_never_completes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(10), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (end, events) = run_with(&engine, blast, |control, event| {
        if matches!(event, Event::Delivery { .. }) && read_ledger_len(&ledger) == 4 {
            control.cancel(blast, START).ok();
        }
    })
    .await?;
    assert_eq!(end, RunEnd::Cancelled);
    assert_eq!(completions(&events), 0);
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::BlastCancelled { .. }))
    );
    let summary = store.blast_summary(blast)?;
    assert_eq!(summary.state, BlastState::Cancelled);
    assert_eq!((summary.counts.sent, summary.counts.skipped), (4, 6));
    // Nothing more is sent, whatever is asked.
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Cancelled);
    assert!(engine.control().resume(blast).is_err());
    assert_eq!(read_ledger(&ledger)?.len(), 4);
    Ok(())
}

fn read_ledger_len(path: &Path) -> usize {
    read_ledger(path).map_or(0, |l| l.len())
}

#[tokio::test(start_paused = true)]
async fn a_run_of_failures_pauses_every_blast_of_the_account() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    store.set_account_pacing(
        account,
        &Pacing {
            window: None,
            daily_cap: 0,
            ..fixed_pacing()
        },
    )?;
    let first = new_blast_for(&store, account, &recipients(20), BlastOptions::default())?;
    let second = new_blast_for(&store, account, &recipients(5), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let faults = Faults {
        permanent_share: 1.0,
        ..Faults::default()
    };
    let engine = simulated_engine(&store, &ledger, faults, clock)?.with_pacing(Pacing {
        window: None,
        daily_cap: 0,
        ..fixed_pacing()
    });
    let (end, events) = run(&engine, first).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::ErrorStreak
        }
    );
    assert_eq!(store.delivery_counts(first)?.failed, 5);
    let paused: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::BlastPaused { blast_id, .. } => Some(*blast_id),
            _ => None,
        })
        .collect();
    assert_eq!(paused, [second, first]);
    let reason = store
        .blast_summary(second)?
        .pause_reason
        .unwrap_or_default();
    assert!(reason.starts_with("5 messages in a row failed"), "{reason}");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_ban_pauses_with_its_end_in_the_account_zone() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(5), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let faults = Faults {
        ban_after: Some(2),
        ban_for_ms: 24 * 3_600_000,
        ..Faults::default()
    };
    let engine = simulated_engine(&store, &ledger, faults, clock)?;
    let (end, _) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::TemporarilyBanned
        }
    );
    let reason = store.blast_summary(blast)?.pause_reason.unwrap_or_default();
    assert_eq!(
        reason,
        "WhatsApp has temporarily banned this account, until 2023-11-16 05:13 (Asia/Jakarta)."
    );
    assert_eq!(store.delivery_counts(blast)?.queued, 3);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_account_worker_sends_its_blasts_in_order_and_wakes_for_new_ones() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let first = new_blast_for(&store, account, &recipients(3), BlastOptions::default())?;
    let second = new_blast_for(&store, account, &recipients(2), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let mut emit = move |e: Event| {
        events.send(e).ok();
    };
    let completed = async {
        let mut done = Vec::new();
        while let Some(event) = received.recv().await {
            if let Event::BlastCompleted { blast_id, .. } = event {
                done.push(blast_id);
                if done.len() == 2 {
                    // Idle now; a new blast and a wake-up start it.
                    let third =
                        new_blast_for(&store, account, &recipients(4), BlastOptions::default())
                            .unwrap_or(0);
                    engine.control().wake();
                    done.push(-third);
                }
                if done.len() == 4 {
                    return done;
                }
            }
        }
        done
    };
    let done = tokio::select! {
        () = engine.run_account(account, &mut emit) => panic!("the worker stopped"),
        done = completed => done,
    };
    assert_eq!(done[..2], [first, second]);
    assert_eq!(done[3], -done[2]);
    assert_eq!(read_ledger(&ledger)?.len(), 9);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn media_goes_with_its_caption_and_a_missing_file_pauses_the_blast() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let chosen = tempfile::tempdir()?;
    let picture = chosen.path().join("promo.jpg");
    std::fs::write(&picture, b"\xFF\xD8\xFF\xE0 not really a jpeg")?;
    let blast = create_with(
        &store,
        account,
        &recipients(2),
        BlastOptions::default(),
        Some(&picture),
    )?;
    // The blast sends its own copy, kept in the data folder: the original
    // may be moved or deleted once the blast exists.
    std::fs::remove_file(&picture)?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    let entries = read_ledger(&ledger)?;
    let sent = entries[0].media.as_ref().ok_or("no media was sent")?;
    assert_eq!(sent.kind, MediaKind::Image);
    assert_eq!(sent.file_name.as_deref(), Some("promo.jpg"));
    assert!(sent.path.starts_with(dir.path().join("attachments")));
    assert_eq!(
        std::fs::read(&sent.path)?,
        b"\xFF\xD8\xFF\xE0 not really a jpeg"
    );
    assert!(entries[0].text.starts_with("Hi Customer 0"));

    let document = chosen.path().join("Price list.pdf");
    std::fs::write(&document, b"%PDF-1.4")?;
    let blast = create_with(
        &store,
        account,
        &recipients(2),
        BlastOptions::default(),
        Some(&document),
    )?;
    for kept in std::fs::read_dir(dir.path().join("attachments"))? {
        let kept = kept?.path();
        if kept.to_string_lossy().ends_with("Price list.pdf") {
            std::fs::remove_file(kept)?;
        }
    }
    let (end, _) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::AttachmentUnreadable
        }
    );
    assert_eq!(read_ledger(&ledger)?.len(), 2);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_daily_cap_holds_across_runs_of_the_engine() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    store.set_account_pacing(
        account,
        &Pacing {
            daily_cap: 5,
            ..fixed_pacing()
        },
    )?;
    let blast = new_blast_for(&store, account, &recipients(8), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    // Paused after three, as if the app were closed ...
    let (end, _) = run_pausing_after(&engine, blast, 3).await?;
    assert!(matches!(end, RunEnd::Paused { .. }));
    // ... and a new engine, which knows the day's sends only from the store.
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    engine.control().resume(blast)?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    let days: Vec<String> = read_ledger(&ledger)?
        .iter()
        .map(|e| jakarta(e.at_ms)[..10].to_owned())
        .collect();
    assert_eq!(
        days,
        ["2023-11-15"; 5]
            .into_iter()
            .chain(["2023-11-16"; 3])
            .collect::<Vec<_>>()
    );
    Ok(())
}

/// A simulated messenger that records its number checks.
struct Checking {
    inner: SimulatedMessenger<TokioClock>,
    clock: TokioClock,
    checks: Mutex<Vec<(Millis, usize)>>,
}

impl Checking {
    fn new(
        ledger: &Path,
        faults: Faults,
        clock: TokioClock,
    ) -> Result<Checking, Box<dyn std::error::Error>> {
        Ok(Checking {
            inner: SimulatedMessenger::open(ledger, faults, clock)?,
            clock,
            checks: Mutex::new(Vec::new()),
        })
    }
}

/// A blast of 45 recipients whose numbers are checked first, from an
/// account paced by `pacing` (at any hour).
fn blast_to_check(store: &Store, pacing: Pacing) -> Result<i64, Box<dyn std::error::Error>> {
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    store.set_account_pacing(
        account,
        &Pacing {
            window: None,
            ..pacing
        },
    )?;
    new_blast_for(
        store,
        account,
        &recipients(45),
        BlastOptions {
            check_numbers: true,
            ..BlastOptions::default()
        },
    )
}

impl Messenger for Checking {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        self.inner.send(message).await
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        self.checks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((self.clock.now_ms(), phones.len()));
        self.inner.check_numbers(phones).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_number_check_skips_numbers_not_on_whatsapp_in_small_spaced_batches_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = blast_to_check(&store, fixed_pacing())?;
    let clock = TokioClock::starting_at(START);
    let faults = Faults {
        not_on_whatsapp: [3, 21, 44]
            .iter()
            .map(|&i| Phone::from_e164_unchecked(phone(i)))
            .collect(),
        ..Faults::default()
    };
    let ledger = dir.path().join("ledger.jsonl");
    let messenger = Checking::new(&ledger, faults, clock)?;
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    let checks = engine
        .messenger()
        .checks
        .lock()
        .map(|c| c.clone())
        .unwrap_or_default();
    let sizes: Vec<usize> = checks.iter().map(|(_, n)| *n).collect();
    assert_eq!(sizes, [20, 20, 5], "small batches");
    assert!(
        checks.windows(2).all(|w| w[1].0 - w[0].0 == 30_000),
        "spaced like messages: {checks:?}"
    );
    let skipped: Vec<i64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Delivery {
                delivery_id,
                outcome: Outcome::Skipped { code, .. },
                ..
            } if *code == DeliveryCode::NotOnWhatsapp => Some(*delivery_id),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 3);
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.skipped), (42, 3));
    assert!(!ledger_phones(&ledger)?.contains(&phone(21)));
    Ok(())
}

/// A messenger whose account is not connected.
struct Disconnected;

impl Messenger for Disconnected {
    fn ready(&self) -> Result<(), SendError> {
        Err(SendError::Account {
            problem: blastdesk_core::messenger::AccountProblem::NotConnected,
        })
    }

    async fn send(&self, _message: &Outgoing) -> Result<Accepted, SendError> {
        self.ready().map(|()| Accepted {
            message_id: String::new(),
            at_ms: 0,
        })
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        Ok(vec![true; phones.len()])
    }
}

#[tokio::test(start_paused = true)]
async fn a_disconnected_account_pauses_at_once_instead_of_waiting_for_its_window() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    // 05:13 in Jakarta: the window opens at 09:00.
    store.set_account_pacing(account, &fixed_pacing())?;
    let blast = new_blast_for(&store, account, &recipients(2), BlastOptions::default())?;
    let clock = TokioClock::starting_at(START);
    let engine = Engine::new(store.clone(), Disconnected, clock, no_jitter());
    let began = tokio::time::Instant::now();
    let (end, _) = run(&engine, blast).await?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::NotConnected
        }
    );
    assert_eq!(tokio::time::Instant::now(), began, "no wait at all");
    assert_eq!(store.delivery_counts(blast)?.queued, 2);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_opt_out_reply_mid_blast_stops_every_waiting_message_to_that_number() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(5), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (end, _) = run_pausing_after(&engine, blast, 2).await?;
    assert!(matches!(end, RunEnd::Paused { .. }), "{end:?}");

    // Customer 0 (already sent) and customer 3 (still waiting) reply.
    let cases = [
        (phone(3), "Berhenti!", Some("BERHENTI")),
        (phone(0), "stop", Some("STOP")),
        (phone(4), "stop the promos please", None),
    ];
    for (number, reply, word) in &cases {
        let opted =
            store.handle_reply(&Phone::from_e164_unchecked(number.clone()), reply, START)?;
        assert_eq!(opted.as_ref().map(|o| o.word.as_str()), *word, "{reply:?}");
    }
    let listed: Vec<(String, Option<String>)> = store
        .do_not_contact_entries()?
        .into_iter()
        .map(|e| (e.phone, e.note))
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(listed.contains(&(phone(3), Some("Replied \"BERHENTI\"".into()))));

    engine.control().resume(blast)?;
    let (end, events) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(completions(&events), 1);
    assert_eq!(
        ledger_phones(&ledger)?,
        [phone(0), phone(1), phone(2), phone(4)],
        "nothing more after the opt-out"
    );
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.skipped), (4, 1));

    // Taken off the list, the number may be sent to again (in a new blast).
    assert!(store.remove_do_not_contact(&Phone::from_e164_unchecked(phone(3)))?);
    assert!(!store.remove_do_not_contact(&Phone::from_e164_unchecked(phone(3)))?);
    assert_eq!(store.do_not_contact_entries()?.len(), 1);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn sending_again_goes_to_the_failed_and_unknown_ones_only_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = new_blast(&store, &recipients(5), BlastOptions::default())?;
    died_while_sending_the_first(dir.path(), blast)?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    engine.recover()?;

    // Not while it is still waiting for the decision about the unknown one.
    let Err(refused) = store.resend_blast(blast, START) else {
        return Err("a blast waiting for a decision was sent again".into());
    };
    assert_eq!(refused.code().as_str(), "invalid_input");
    assert!(refused.to_string().contains("still"), "{refused}");

    let (end, _) = run(&engine, blast).await?;
    assert_eq!(end, RunEnd::WaitingForDecision { unknown: 1 });
    engine.control().cancel(blast, START)?;
    // As if the server had refused customer 2's message, and customer 4
    // had opted out since.
    let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    conn.execute(
        "UPDATE deliveries SET state = 'failed', error_code = 'invalid_number' WHERE blast_id = ?1 AND phone IN (?2, ?3)",
        rusqlite::params![blast, phone(2), phone(4)],
    )?;
    store.add_do_not_contact(&Phone::from_e164_unchecked(phone(4)), "manual", START)?;
    assert_eq!(store.blast_summary(blast)?.resendable, 2);

    let again = store.resend_blast(blast, START + 1)?;
    assert_eq!(again.recipients, 2, "the unknown one and the failed one");
    let summary = store.blast_summary(again.blast_id)?;
    assert_eq!(summary.name, "Promo (again)");
    assert_eq!(summary.state, BlastState::Queued);
    let first = store.delivery_counts(blast)?;
    assert_eq!(
        (first.unknown, first.skipped),
        (0, 1),
        "the unknown one is now counted in the new blast"
    );

    let (end, _) = run(&engine, again.blast_id).await?;
    assert_eq!(end, RunEnd::Completed);
    assert_eq!(
        ledger_phones(&ledger)?,
        [phone(1), phone(2), phone(3), phone(4), phone(0), phone(2)]
    );
    // Everyone in the new blast has an outcome: nothing to send again.
    let Err(nothing) = store.resend_blast(again.blast_id, START + 2) else {
        return Err("a blast with nothing to send again was sent again".into());
    };
    assert!(nothing.to_string().contains("no one"), "{nothing}");

    // "Send again" pressed a second time on the first blast: its failed row
    // stays failed (that is what happened to it), but it was sent again
    // already, so no one gets the message a third time.
    let Err(twice) = store.resend_blast(blast, START + 3) else {
        return Err("the same failed recipients were sent again twice".into());
    };
    assert!(twice.to_string().contains("already"), "{twice}");
    assert_eq!(
        store.blast_summary(blast)?.resendable,
        0,
        "no button to press"
    );
    assert_eq!(store.delivery_counts(blast)?.failed, 2);
    assert_eq!(ledger_phones(&ledger)?.len(), 6, "nothing more went out");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn resending_the_unknown_ones_leaves_the_failed_ones_alone() -> TestResult {
    let AwaitingDecision {
        dir,
        store,
        blast,
        ledger,
        engine,
    } = awaiting_decision(4).await?;
    // The server refused customer 3's message for good.
    let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    conn.execute(
        "UPDATE deliveries SET state = 'failed', error_code = 'invalid_number' WHERE blast_id = ?1 AND phone = ?2",
        rusqlite::params![blast, phone(3)],
    )?;
    let decided = engine
        .control()
        .decide_unknown(blast, UnknownDecision::Resend, START)?;
    assert_eq!(decided, 1, "the unknown one only");
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    assert_eq!(
        ledger_phones(&ledger)?,
        [phone(1), phone(2), phone(3), phone(0)]
    );
    assert_eq!(
        store.delivery_counts(blast)?.failed,
        1,
        "still failed, not re-sent"
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_stop_that_comes_after_the_blast_was_made_is_honoured_at_the_hand_over() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    // Made from a preview taken before customer 1 said STOP, as if the list
    // had reached the store without the do-not-contact check.
    let blast = new_blast(&store, &recipients(3), BlastOptions::default())?;
    let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    conn.execute(
        "INSERT INTO do_not_contact (phone, reason, added_at) VALUES (?1, 'reply', ?2)",
        rusqlite::params![phone(1), START],
    )?;
    let ledger = dir.path().join("ledger.jsonl");
    let engine = simulated_engine(
        &store,
        &ledger,
        Faults::default(),
        TokioClock::starting_at(START),
    )?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    assert_eq!(ledger_phones(&ledger)?, [phone(0), phone(2)]);
    let code: String = conn.query_row(
        "SELECT error_code FROM deliveries WHERE blast_id = ?1 AND phone = ?2 AND state = 'skipped'",
        rusqlite::params![blast, phone(1)],
        |row| row.get(0),
    )?;
    assert_eq!(code, "do_not_contact");
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn deciding_to_resend_does_not_requeue_a_number_that_said_stop() -> TestResult {
    let AwaitingDecision {
        dir: _dir,
        store,
        blast,
        ledger,
        engine,
    } = awaiting_decision(2).await?;
    store.add_do_not_contact(&Phone::from_e164_unchecked(phone(0)), "reply", START)?;
    engine
        .control()
        .decide_unknown(blast, UnknownDecision::Resend, START)?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    assert_eq!(
        ledger_phones(&ledger)?,
        [phone(1)],
        "customer 0 is not sent to"
    );
    Ok(())
}

/// A backup taken mid-blast, the blast going on, then the backup restored:
/// the restore keeps what went out after the backup, the blast comes back
/// paused (`restored`), a STOP and a blast made after the backup survive,
/// and once resumed no one gets the message twice.
#[tokio::test(start_paused = true)]
async fn restoring_a_backup_taken_mid_blast_never_sends_a_message_twice() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let everyone = recipients(300);
    let blast = new_blast_for(&store, account, &everyone, BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let control = engine.control().clone();

    run_pausing_after(&engine, blast, 100).await?;
    let backup = dir.path().join("backup.blastdesk");
    store.backup_to(&backup)?;

    // After the backup: 100 more are sent, one customer says STOP, and a
    // second blast goes out in full.
    control.resume(blast)?;
    run_pausing_after(&engine, blast, 100).await?;
    let stopped = &everyone[250].phone;
    store.add_do_not_contact(stopped, "opt_out_reply", START)?;
    let later = new_blast_for(&store, account, &recipients(5), BlastOptions::default())?;
    assert_eq!(run(&engine, later).await?.0, RunEnd::Completed);
    assert_eq!(read_ledger(&ledger)?.len(), 205);

    // A message sent before the backup is read after it.
    let first_sent = read_ledger(&ledger)?
        .into_iter()
        .next()
        .ok_or("nothing was sent")?;
    assert!(store.record_receipt(&first_sent.message_id, Receipt::Read, clock.now_ms())?);

    let restored = store.restore_from(&backup, clock.now_ms())?;
    assert_eq!(
        store.blast_summary(blast)?.receipts.read,
        1,
        "the receipt was kept"
    );
    // The 100 sent after the backup, and the STOP's skipped message.
    assert_eq!(restored.carried.deliveries, 101);
    assert_eq!(restored.carried.blasts, 1);
    assert_eq!(restored.carried.do_not_contact, 1);
    assert_eq!(restored.settled.paused, 1);
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        (
            summary.state.as_str(),
            summary.pause_code.map(PauseCode::as_str)
        ),
        ("paused", Some("restored"))
    );
    assert_eq!(summary.counts.sent, 200);
    assert_eq!(store.blast_summary(later)?.counts.sent, 5);
    assert!(store.do_not_contact()?.contains(stopped));
    // A restored blast waits for the person: a worker finds nothing to send.
    assert!(matches!(
        run(&engine, blast).await?.0,
        RunEnd::Paused { .. }
    ));
    assert_eq!(read_ledger(&ledger)?.len(), 205);

    control.resume(blast)?;
    assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
    let entries = read_ledger(&ledger)?;
    let mut seen = HashMap::new();
    for entry in &entries {
        *seen
            .entry((entry.blast_id, entry.phone.to_string()))
            .or_insert(0) += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    // Everyone of the first blast but the one who said STOP, once.
    let first: Vec<_> = entries.iter().filter(|e| e.blast_id == blast).collect();
    assert_eq!(first.len(), 299);
    assert!(!first.iter().any(|e| &e.phone == stopped));
    Ok(())
}

/// A messenger that backs up the store while it hands the first message
/// over (the intent recorded, the outcome not yet), then sends.
struct BackingUp {
    store: Store,
    backup: std::path::PathBuf,
    taken: Mutex<bool>,
}

impl Messenger for BackingUp {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        if !*taken {
            *taken = self.store.backup_to(&self.backup).is_ok();
        }
        Ok(Accepted {
            message_id: format!("ok-{}", message.delivery_id),
            at_ms: START,
        })
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        Ok(vec![true; phones.len()])
    }
}

/// A backup taken while a message was being handed over, restored in place
/// of a database that can no longer be read: nothing tells that message's
/// fate, so it comes back unknown for the person to decide; the blast comes
/// back paused, and a schedule whose run fell due meanwhile moves past now,
/// the run recorded as missed, instead of running a second time.
#[tokio::test(start_paused = true)]
async fn a_restored_in_flight_message_is_unknown_and_a_due_schedule_does_not_run_again()
-> TestResult {
    use blastdesk_core::schedule::Rule;
    use blastdesk_core::store::backup::restore_file_into;
    use blastdesk_core::store::schedules::{BlastSpec, ScheduleSpec};
    let dir = tempfile::tempdir()?;
    let backup = dir.path().join("backup.blastdesk");
    let (blast, schedule, due) = {
        let store = Store::open_in(dir.path())?;
        let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
        let spec = ScheduleSpec {
            name: "Harian".into(),
            rule: serde_json::from_value::<Rule>(
                serde_json::json!({ "repeat": "daily", "time": "09:00" }),
            )?,
            time_zone: "Asia/Jakarta".into(),
            grace_seconds: 3600,
            blast: BlastSpec {
                account_id: account,
                name: "Harian".into(),
                template: "Halo".into(),
                audiences: vec![],
                options: BlastOptions::default(),
            },
            refresh: None,
        };
        let schedule = store.add_schedule(&spec, START)?;
        let due = store.schedule(schedule)?.next_run_at.ok_or("no next run")?;
        let blast = new_blast_for(&store, account, &recipients(3), BlastOptions::default())?;
        let messenger = BackingUp {
            store: store.clone(),
            backup: backup.clone(),
            taken: Mutex::new(false),
        };
        let engine = Engine::new(
            store.clone(),
            messenger,
            TokioClock::starting_at(START),
            no_jitter(),
        )
        .with_pacing(Pacing::off());
        assert_eq!(run(&engine, blast).await?.0, RunEnd::Completed);
        (blast, schedule, due)
    };
    // The database is damaged beyond reading; the backup replaces it.
    let live = dir.path().join(blastdesk_core::store::FILE_NAME);
    std::fs::write(&live, b"not a database any more")?;
    for journal in ["-wal", "-shm"] {
        let mut path = live.clone().into_os_string();
        path.push(journal);
        std::fs::remove_file(std::path::PathBuf::from(path)).ok();
    }
    let after_due = due + 2 * 86_400_000;
    restore_file_into(dir.path(), &backup, after_due)?;

    let store = Store::open_in(dir.path())?;
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        (
            summary.state.as_str(),
            summary.pause_code.map(PauseCode::as_str)
        ),
        ("paused", Some("restored"))
    );
    assert_eq!((summary.counts.unknown, summary.counts.queued), (1, 2));
    let back = store.schedule(schedule)?;
    assert!(back.next_run_at.is_some_and(|t| t > after_due));
    let runs = store.schedule_runs(schedule)?;
    assert_eq!(
        runs.iter()
            .map(|r| (r.due_at, r.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(due, "missed")]
    );
    Ok(())
}

/// A store error mid-blast (here a trigger refuses to record a fourth sent
/// message, as a full disk would) does not end the account's worker: the
/// blast pauses with the reason, the worker tries again by itself once the
/// store works, the message whose outcome was lost becomes unknown, and no
/// one gets the message twice.
#[tokio::test(start_paused = true)]
async fn a_store_error_mid_blast_pauses_with_its_reason_and_the_worker_recovers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let blast = new_blast_for(&store, account, &recipients(10), BlastOptions::default())?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let db = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    db.execute_batch(
        "CREATE TRIGGER fail_after_three BEFORE UPDATE OF state ON deliveries
         WHEN new.state = 'sent' AND (SELECT count(*) FROM deliveries WHERE state = 'sent') >= 3
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )?;
    let events = run_account_until(
        &engine,
        account,
        move |event| {
            if let Event::BlastPaused { code, .. } = event
                && *code == PauseCode::StoreError
            {
                // The disk has room again.
                db.execute_batch("DROP TRIGGER fail_after_three").ok();
            }
        },
        |event| matches!(event, Event::NeedsDecision { .. }),
    )
    .await;
    let paused = events
        .iter()
        .find_map(|e| match e {
            Event::BlastPaused { code, reason, .. } if *code == PauseCode::StoreError => {
                Some(reason)
            }
            _ => None,
        })
        .ok_or("the blast was not paused for the store error")?;
    assert!(paused.contains("database or disk is full"), "{paused}");
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.unknown), (9, 1));
    let phones = ledger_phones(&ledger)?;
    let unique: HashSet<&String> = phones.iter().collect();
    assert_eq!((phones.len(), unique.len()), (10, 10));
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        summary.pause_code.map(PauseCode::as_str),
        Some("needs_decision")
    );
    Ok(())
}

/// The waits between number-check batches are like every other wait: a
/// pause ends one at once (here ten minutes between batches), and the
/// window hears of the pause.
#[tokio::test(start_paused = true)]
async fn a_pause_during_the_number_check_takes_effect_at_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let blast = blast_to_check(
        &store,
        Pacing {
            min_delay_s: 600,
            max_delay_s: 600,
            ..fixed_pacing()
        },
    )?;
    let clock = TokioClock::starting_at(START);
    let ledger = dir.path().join("ledger.jsonl");
    let messenger = Checking::new(&ledger, Faults::default(), clock)?;
    let engine = Engine::new(store.clone(), messenger, clock, no_jitter());
    let control = engine.control().clone();
    let pauser = async {
        // As soon as the first batch is checked, the person presses Pause.
        while engine.messenger().checks.lock().map_or(0, |c| c.len()) == 0 {
            tokio::task::yield_now().await;
        }
        control.pause(blast).ok();
    };
    let (ran, ()) = tokio::join!(run(&engine, blast), pauser);
    let (end, events) = ran?;
    assert_eq!(
        end,
        RunEnd::Paused {
            code: PauseCode::ByYou
        }
    );
    assert!(
        clock.now_ms() - START < 600_000,
        "the pause waited for the next batch"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::BlastPaused { .. }))
    );
    assert_eq!(engine.messenger().checks.lock().map_or(0, |c| c.len()), 1);
    assert!(read_ledger(&ledger)?.is_empty(), "nothing was sent");
    Ok(())
}

/// A blast whose stored settings cannot be read (here an attachment id that
/// would name a file outside the attachments folder, written by hand) is
/// paused with that reason; the account's worker goes on to the next blast.
#[tokio::test(start_paused = true)]
async fn a_blast_with_unreadable_settings_pauses_and_the_next_one_is_sent() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let damaged = new_blast_for(&store, account, &recipients(2), BlastOptions::default())?;
    let next = new_blast_for(&store, account, &recipients(3), BlastOptions::default())?;
    let db = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    db.execute(
        r#"UPDATE blasts SET options = '{"media":{"id":"../../.ssh/id_rsa","kind":"document"}}'
           WHERE id = ?1"#,
        [damaged],
    )?;
    let ledger = dir.path().join("ledger.jsonl");
    let clock = TokioClock::starting_at(START);
    let engine = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let events = run_account_until(
        &engine,
        account,
        |_| {},
        |event| matches!(event, Event::BlastCompleted { blast_id, .. } if *blast_id == next),
    )
    .await;
    assert!(events.iter().any(|e| matches!(
        e,
        Event::BlastPaused { blast_id, code, .. } if *blast_id == damaged && *code == PauseCode::OptionsUnreadable
    )));
    let summary = store.blast_summary(damaged)?;
    assert_eq!(
        summary.pause_code.map(PauseCode::as_str),
        Some("options_unreadable")
    );
    assert_eq!(
        read_ledger(&ledger)?.len(),
        3,
        "only the next blast was sent"
    );
    Ok(())
}

/// Runs an account's worker, `act` seeing each event as it is emitted,
/// until an event `done` accepts; returns the events up to it.
async fn run_account_until(
    engine: &Engine<impl Messenger, impl Clock>,
    account: i64,
    mut act: impl FnMut(&Event) + Send,
    done: impl Fn(&Event) -> bool,
) -> Vec<Event> {
    let (events_in, mut events_out) = tokio::sync::mpsc::unbounded_channel();
    let mut emit = move |event: Event| {
        act(&event);
        events_in.send(event).ok();
    };
    let watch = async {
        let mut events = Vec::new();
        while let Some(event) = events_out.recv().await {
            let last = done(&event);
            events.push(event);
            if last {
                break;
            }
        }
        events
    };
    tokio::select! {
        () = engine.run_account(account, &mut emit) => panic!("the worker stopped"),
        events = watch => events,
    }
}

/// Sends once released: the test holds a message "in hand" as long as it likes.
struct Gated {
    in_hand: tokio::sync::mpsc::UnboundedSender<i64>,
    release: tokio::sync::Semaphore,
    sent: Mutex<Vec<i64>>,
}

impl Messenger for Gated {
    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        self.in_hand.send(message.delivery_id).ok();
        self.release
            .acquire()
            .await
            .map_err(|_| transient())?
            .forget();
        self.sent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(message.delivery_id);
        Ok(Accepted {
            message_id: format!("ok-{}", message.delivery_id),
            at_ms: START,
        })
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        Ok(vec![true; phones.len()])
    }
}

/// Stopping the workers (before a restore, an update's restart) waits for
/// the message in hand and records it: nothing is left "being sent" to come
/// back unknown, and no message is handed over after the stop; the blast
/// keeps its state and the next worker sends the rest, no one twice. The
/// scheduler sharing the shutdown stops too, and nothing starts after it.
#[tokio::test(start_paused = true)]
async fn stopping_the_workers_records_the_message_in_hand_and_sends_nothing_after() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    let blast = new_blast_for(&store, account, &recipients(5), BlastOptions::default())?;
    let clock = TokioClock::starting_at(START);
    let (in_hand, mut handed) = tokio::sync::mpsc::unbounded_channel();
    let gated = Gated {
        in_hand,
        release: tokio::sync::Semaphore::new(1),
        sent: Mutex::new(Vec::new()),
    };
    let engine = Engine::new(store.clone(), gated, clock, no_jitter());
    let control = engine.control().clone();
    let scheduler = blastdesk_core::scheduler::Scheduler::new(store.clone(), clock)
        .with_shutdown(control.shutdown().clone());
    let mut emit = |_: Event| {};
    let mut on_schedule = |_| {};
    let worker = engine.run_account(account, &mut emit);
    let stopped = async {
        // The first message goes; the second is in hand when the stop comes.
        handed.recv().await;
        handed.recv().await;
        let stop = control.stop_workers();
        tokio::pin!(stop);
        tokio::select! {
            () = &mut stop => panic!("the stop did not wait for the message in hand"),
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
        assert_eq!(store.delivery_counts(blast)?.sending, 1);
        engine.messenger().release.add_permits(10);
        stop.await;
        TestResult::Ok(())
    };
    let ((), (), stopped) = tokio::join!(worker, scheduler.run(&mut on_schedule), stopped);
    stopped?;
    assert_eq!(control.shutdown().running(), 0);
    let counts = store.delivery_counts(blast)?;
    assert_eq!((counts.sent, counts.sending, counts.queued), (2, 0, 3));
    assert_eq!(
        engine.messenger().sent.lock().map(|s| s.len()).unwrap_or(0),
        2
    );
    assert!(engine.control().shutdown().enter().is_none());
    engine.run_account(account, &mut |_| {}).await; // returns at once: stopped

    // The next start (a fresh control, as after a restart) sends the rest.
    let ledger = dir.path().join("ledger.jsonl");
    let next = simulated_engine(&store, &ledger, Faults::default(), clock)?;
    let (end, _) = run(&next, blast).await?;
    assert_eq!(end, RunEnd::Completed);
    let mut all: Vec<String> = ledger_phones(&ledger)?;
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        3,
        "the three not sent before the stop, once each"
    );
    Ok(())
}
