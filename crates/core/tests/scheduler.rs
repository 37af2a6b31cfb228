//! The scheduler under tokio's paused clock: runs fire at their instant and
//! once, late runs follow the missed-run policy, edits wake the loop, and a
//! missing linked list skips the run instead of sending to a stale one.

use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::clock::{Clock, Millis, TokioClock};
use blastdesk_core::pacing::LocalTime;
use blastdesk_core::phone::Phone;
use blastdesk_core::schedule::Rule;
use blastdesk_core::scheduler::{ScheduleEvent, Scheduler};
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::schedules::{BlastSpec, Refresh, ScheduleSpec};
use blastdesk_core::zone;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// 2026-11-28 00:00 in Jakarta.
fn midnight() -> Millis {
    let tz = zone::parse("Asia/Jakarta").unwrap_or(chrono_tz::Tz::UTC);
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default();
    zone::at(tz, date, chrono::NaiveTime::MIN)
}

const HOUR: Millis = 3_600_000;

fn setup(store: &Store) -> Result<i64, Box<dyn std::error::Error>> {
    let recipients: Vec<Recipient> = (0..3)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+6281200000{i:03}")),
            fields: Fields::new(vec![(Arc::from("Nama"), format!("Pelanggan {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect();
    store.save_audience("Pelanggan", &recipients, false, 0)?;
    Ok(store.add_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?)
}

fn daily_at_nine(account: i64) -> ScheduleSpec {
    ScheduleSpec {
        name: "Promo pagi".into(),
        rule: Rule::Daily {
            time: LocalTime::hm(9, 0),
        },
        time_zone: "Asia/Jakarta".into(),
        grace_seconds: 3_600,
        blast: BlastSpec {
            account_id: account,
            name: "Promo pagi".into(),
            template: "Selamat pagi {Nama}".into(),
            audiences: vec!["Pelanggan".into()],
            options: Default::default(),
        },
        refresh: None,
    }
}

/// Runs the scheduler until `n` events arrived.
async fn events(scheduler: &Scheduler<TokioClock>, n: usize) -> Vec<ScheduleEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut emit = move |e: ScheduleEvent| {
        tx.send(e).ok();
    };
    let collect = async {
        let mut got = Vec::new();
        while let Some(event) = rx.recv().await {
            got.push(event);
            if got.len() == n {
                break;
            }
        }
        got
    };
    tokio::select! {
        () = scheduler.run(&mut emit) => panic!("the scheduler stopped"),
        got = collect => got,
    }
}

#[tokio::test(start_paused = true)]
async fn a_daily_run_fires_at_its_instant_once_a_day() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let clock = TokioClock::starting_at(midnight());
    let id = store.add_schedule(&daily_at_nine(account), clock.now_ms())?;
    let scheduler = Scheduler::new(store.clone(), clock);

    let got = events(&scheduler, 2).await;
    let nine = midnight() + 9 * HOUR;
    let started: Vec<(i64, Millis)> = got
        .iter()
        .filter_map(|e| match e {
            ScheduleEvent::RunStarted {
                schedule_id,
                due_at_ms,
                ..
            } => Some((*schedule_id, *due_at_ms)),
            _ => None,
        })
        .collect();
    assert_eq!(started, [(id, nine), (id, nine + 24 * HOUR)]);
    // Each run made one blast, at its instant, for the audience.
    let blasts = store.list_blasts()?;
    assert_eq!(blasts.len(), 2);
    assert_eq!(
        blasts.iter().map(|b| b.created_at).collect::<Vec<_>>(),
        [nine + 24 * HOUR, nine]
    );
    assert!(blasts.iter().all(|b| b.counts.total == 3));
    assert_eq!(store.schedule_runs(id)?.len(), 2);
    // A second scheduler over the same store does not run those instants again.
    let again = Scheduler::new(store.clone(), clock);
    assert!(again.tick()?.is_empty());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_late_run_runs_within_the_grace_period_else_it_is_missed_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let nine = midnight() + 9 * HOUR;
    let id = store.add_schedule(&daily_at_nine(account), midnight())?;

    // Blastdesk opens at 09:40: within the hour of grace, the run goes now.
    let late = Scheduler::new(store.clone(), TokioClock::starting_at(nine + 40 * 60_000));
    let got = late.tick()?;
    assert!(
        matches!(got[..], [ScheduleEvent::RunStarted { due_at_ms, .. }] if due_at_ms == nine),
        "{got:?}"
    );

    // Closed for three days: one missed run, no burst, the next is tomorrow 09:00.
    let away = nine + 3 * 24 * HOUR + 2 * HOUR;
    let scheduler = Scheduler::new(store.clone(), TokioClock::starting_at(away));
    let got = scheduler.tick()?;
    assert_eq!(
        got,
        [ScheduleEvent::RunMissed {
            schedule_id: id,
            due_at_ms: nine + 24 * HOUR
        }]
    );
    assert_eq!(
        store.list_blasts()?.len(),
        1,
        "nothing sent for the missed runs"
    );
    assert_eq!(store.schedule(id)?.next_run_at, Some(nine + 4 * 24 * HOUR));
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn editing_a_schedule_wakes_the_loop() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let start = midnight() + 10 * HOUR;
    let clock = TokioClock::starting_at(start);
    // Next due tomorrow at 09:00: the loop sleeps.
    let id = store.add_schedule(&daily_at_nine(account), start)?;
    let scheduler = Scheduler::new(store.clone(), clock);
    let waker = scheduler.waker();
    let edited_store = store.clone();
    let edit = async move {
        tokio::task::yield_now().await;
        // Now once, in one second; the loop must not wait out its nap.
        let soon = ScheduleSpec {
            rule: Rule::Once {
                date: chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default(),
                time: LocalTime::hm(10, 0),
            },
            ..daily_at_nine(account)
        };
        edited_store.update_schedule(id, &soon, start - 1)?;
        waker.notify_waiters();
        Ok::<(), blastdesk_core::store::Error>(())
    };
    let (got, edited) = tokio::join!(events(&scheduler, 1), edit);
    edited?;
    assert!(
        matches!(got[..], [ScheduleEvent::RunStarted { .. }]),
        "{got:?}"
    );
    let created = store.list_blasts()?[0].created_at;
    assert!(
        created - start < 60_000,
        "woken, not after a nap: {} ms",
        created - start
    );
    Ok(())
}

#[test]
fn a_one_off_schedule_in_the_past_is_refused() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let past = ScheduleSpec {
        rule: Rule::Once {
            date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap_or_default(),
            time: LocalTime::hm(9, 0),
        },
        ..daily_at_nine(account)
    };
    let error = store
        .add_schedule(&past, midnight())
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        error.as_deref(),
        Some("the schedule cannot work: that date and time have already passed")
    );
    assert!(store.list_schedules()?.is_empty());
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_missing_linked_list_skips_the_run_with_the_reason() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let nine = midnight() + 9 * HOUR;
    let spec = ScheduleSpec {
        refresh: Some(Refresh {
            file: dir.path().join("pelanggan-hari-ini.xlsx"),
            sheet: None,
            mapping: None,
        }),
        ..daily_at_nine(account)
    };
    let id = store.add_schedule(&spec, midnight())?;
    let scheduler = Scheduler::new(store.clone(), TokioClock::starting_at(nine));
    let got = scheduler.tick()?;
    let [ScheduleEvent::RunSkipped { reason, .. }] = &got[..] else {
        return Err(format!("{got:?}").into());
    };
    assert!(
        reason.contains("pelanggan-hari-ini.xlsx is missing"),
        "{reason}"
    );
    assert!(store.list_blasts()?.is_empty());
    assert_eq!(store.schedule_runs(id)?[0].outcome, "skipped");
    Ok(())
}

/// Tokio's clock plus a jump, as when the computer sleeps (tokio's timers do
/// not count the sleep) or its clock is set forward.
#[derive(Clone)]
struct Jumpy {
    base: TokioClock,
    jump: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock for Jumpy {
    fn now_ms(&self) -> Millis {
        self.base.now_ms() + self.jump.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[tokio::test(start_paused = true)]
async fn a_clock_jump_is_noticed_within_a_minute() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let start = midnight() + 8 * HOUR + 30 * 60_000;
    let jump = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let clock = Jumpy {
        base: TokioClock::starting_at(start),
        jump: Arc::clone(&jump),
    };
    store.add_schedule(&daily_at_nine(account), start)?;
    let scheduler = Scheduler::new(store.clone(), clock.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut emit = move |e: ScheduleEvent| {
        tx.send(e).ok();
    };
    let watch = async {
        // Ten seconds in, the computer wakes from a sleep 40 minutes later.
        tokio::time::sleep(std::time::Duration::from_secs(10)).await;
        jump.store(40 * 60_000, std::sync::atomic::Ordering::SeqCst);
        let event = rx.recv().await;
        (event, tokio::time::Instant::now())
    };
    let began = tokio::time::Instant::now();
    let (event, seen) = tokio::select! {
        () = scheduler.run(&mut emit) => panic!("the scheduler stopped"),
        got = watch => got,
    };
    assert!(
        matches!(event, Some(ScheduleEvent::RunStarted { .. })),
        "{event:?}"
    );
    assert!(
        seen - began <= std::time::Duration::from_secs(60),
        "noticed after {:?}",
        seen - began
    );
    Ok(())
}

#[test]
fn the_made_up_sample_customers_are_never_scheduled_from_a_real_account() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let rehearsal = setup(&store)?;
    let real = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    blastdesk_core::sample::save(&store, 0)?;
    let with_sample = |account| {
        let mut spec = daily_at_nine(account);
        spec.blast.audiences = vec![blastdesk_core::sample::AUDIENCE.into()];
        spec
    };
    let Err(refused) = store.add_schedule(&with_sample(real), midnight()) else {
        return Err("the sample was scheduled from a real account".into());
    };
    assert_eq!(refused.code().as_str(), "invalid_input");
    assert!(store.list_schedules()?.is_empty(), "nothing was added");
    let id = store.add_schedule(&with_sample(rehearsal), midnight())?;
    let Err(_) = store.update_schedule(id, &with_sample(real), midnight()) else {
        return Err("a schedule was moved to a real account with the sample".into());
    };
    assert_eq!(store.schedule(id)?.spec.blast.account_id, rehearsal);

    // A copy saved under another name is the same made-up numbers.
    let copy = blastdesk_core::sample::recipients();
    store.save_audience("My best customers", &copy, false, 0)?;
    let mut spec = daily_at_nine(real);
    spec.blast.audiences = vec!["My best customers".into()];
    let Err(refused) = store.add_schedule(&spec, midnight()) else {
        return Err("a renamed copy of the sample was scheduled from a real account".into());
    };
    assert_eq!(refused.code().as_str(), "invalid_input");
    assert_eq!(store.list_schedules()?.len(), 1, "nothing more was added");
    Ok(())
}

/// A store error when a run falls due (here a trigger refuses to record it,
/// as a full disk would) does not stop the scheduler: it tries again, and
/// once the store works the run starts, once.
#[tokio::test(start_paused = true)]
async fn a_store_error_at_a_due_run_is_retried_and_the_run_happens_once() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = setup(&store)?;
    let clock = TokioClock::starting_at(midnight());
    let id = store.add_schedule(&daily_at_nine(account), clock.now_ms())?;
    let nine = midnight() + 9 * HOUR;
    let db = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
    db.execute_batch(
        "CREATE TRIGGER disk_full BEFORE INSERT ON schedule_runs
         BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
    )?;
    let scheduler = Scheduler::new(store.clone(), clock);
    let mending = async {
        // The disk has room again a little after nine.
        tokio::time::sleep(std::time::Duration::from_millis((9 * HOUR + 2_000) as u64)).await;
        db.execute_batch("DROP TRIGGER disk_full").ok();
        assert!(store.schedule_runs(id).is_ok_and(|runs| runs.is_empty()));
    };
    let (got, ()) = tokio::join!(events(&scheduler, 1), mending);
    assert!(
        matches!(
            got[..],
            [ScheduleEvent::RunStarted { schedule_id, due_at_ms, .. }]
                if schedule_id == id && due_at_ms == nine
        ),
        "{got:?}"
    );
    let runs = store.schedule_runs(id)?;
    assert_eq!(
        runs.iter()
            .map(|r| (r.due_at, r.outcome.as_str()))
            .collect::<Vec<_>>(),
        [(nine, "started")]
    );
    assert_eq!(store.list_blasts()?.len(), 1);
    Ok(())
}
