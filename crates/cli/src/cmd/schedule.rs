//! `schedule`: add, list, pause, resume and remove scheduled blasts; and
//! `daemon`: the scheduler and the send engine without a window.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::blast::BlastOptions;
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Control, Engine, Event, RetryPolicy};
use blastdesk_core::messenger::{Faults, SimulatedMessenger};
use blastdesk_core::pacing::LocalTime;
use blastdesk_core::schedule::Rule;
use blastdesk_core::scheduler::{ScheduleEvent, Scheduler};
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::schedules::{BlastSpec, Refresh, Schedule, ScheduleSpec};
use blastdesk_core::zone;
use blastdesk_whatsapp::session::{Session, Start};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Schedule a blast: once, or every day, week or month, in a time zone
    Add(Box<AddArgs>),
    /// List schedules with their next run (in their zone and this computer's)
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop a schedule from running until it is resumed
    Pause { schedule: i64 },
    /// Let a paused schedule run again (from its next due time after now)
    Resume { schedule: i64 },
    /// Delete a schedule (the blasts it made stay)
    Remove { schedule: i64 },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    #[arg(long)]
    name: String,
    /// The account to send from
    #[arg(long, value_name = "ID")]
    account: i64,
    #[arg(long)]
    template: String,
    /// A saved audience (repeatable)
    #[arg(long = "audience", value_name = "NAME")]
    audiences: Vec<String>,
    /// A spreadsheet to read again before each run (its newest contents are sent)
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,
    #[arg(long, value_name = "SHEET", requires = "file")]
    sheet: Option<String>,
    /// once, daily, weekly or monthly
    #[arg(long, default_value = "daily")]
    repeat: String,
    /// The local time, HH:MM
    #[arg(long)]
    time: String,
    /// For --repeat once: the date, YYYY-MM-DD
    #[arg(long)]
    date: Option<String>,
    /// For --repeat weekly: days, 1 = Monday ... 7 = Sunday, e.g. 1,4
    #[arg(long, value_delimiter = ',')]
    days: Vec<u8>,
    /// For --repeat monthly: the day of the month (the last day of shorter months)
    #[arg(long)]
    day: Option<u8>,
    /// IANA time zone [default: this computer's]
    #[arg(long)]
    zone: Option<String>,
    /// A run missed by less than this (Blastdesk closed, computer asleep) still runs
    #[arg(long, default_value_t = 60)]
    grace_minutes: i64,
    /// For a recipient without a value: "drop" (leave it out with the space
    /// before it), "skip" (do not send to them), or a text to put instead
    #[arg(long, default_value = "drop")]
    missing: String,
    #[arg(long)]
    json: bool,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let store = if matches!(args.command, Command::List { .. }) {
        Store::open_in_for_reading(data_dir)?
    } else {
        Store::open_in(data_dir)?
    };
    let now = super::now_ms();
    match args.command {
        Command::Add(args) => add(&store, *args, now)?,
        Command::List { json } => {
            let schedules = store.list_schedules()?;
            if json {
                println!("{}", serde_json::to_string(&schedules)?);
            } else if schedules.is_empty() {
                println!("Nothing scheduled.");
            } else {
                for schedule in &schedules {
                    println!("{}", describe(schedule));
                }
            }
        }
        Command::Pause { schedule } => {
            store.set_schedule_enabled(schedule, false, now)?;
            println!("Schedule {schedule} is paused.");
        }
        Command::Resume { schedule } => {
            store.set_schedule_enabled(schedule, true, now)?;
            println!("{}", describe(&store.schedule(schedule)?));
        }
        Command::Remove { schedule } => {
            store.remove_schedule(schedule)?;
            println!("Schedule {schedule} is removed.");
        }
    }
    Ok(())
}

fn add(store: &Store, args: AddArgs, now: i64) -> anyhow::Result<()> {
    let time = LocalTime::try_from(args.time.clone()).map_err(anyhow::Error::msg)?;
    let rule = match args.repeat.as_str() {
        "once" => {
            let text = args.date.context("--repeat once needs --date YYYY-MM-DD")?;
            let date = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| anyhow::anyhow!("{text:?} is not a date like 2026-12-24"))?;
            Rule::Once { date, time }
        }
        "daily" => Rule::Daily { time },
        "weekly" => Rule::Weekly {
            days: args.days,
            time,
        },
        "monthly" => Rule::Monthly {
            day: args.day.context("--repeat monthly needs --day N")?,
            time,
        },
        other => anyhow::bail!("{other:?} is not a repeat: use once, daily, weekly or monthly"),
    };
    let zone = args
        .zone
        .unwrap_or_else(|| zone::computer().name().to_owned());
    store.account(args.account)?;
    let spec = ScheduleSpec {
        name: args.name.clone(),
        rule,
        time_zone: zone,
        grace_seconds: args.grace_minutes.max(0) * 60,
        blast: BlastSpec {
            account_id: args.account,
            name: args.name,
            template: args.template,
            audiences: args.audiences,
            options: BlastOptions {
                missing_value: super::missing_value(&args.missing),
                ..BlastOptions::default()
            },
        },
        refresh: args.file.map(|file| Refresh {
            file: std::path::absolute(&file).unwrap_or(file),
            sheet: args.sheet,
            mapping: None,
        }),
    };
    let id = store.add_schedule(&spec, now)?;
    let schedule = store.schedule(id)?;
    if args.json {
        println!("{}", serde_json::to_string(&schedule)?);
    } else {
        println!("{}", describe(&schedule));
    }
    Ok(())
}

/// A schedule with its next run in its zone and this computer's.
fn describe(schedule: &Schedule) -> String {
    let state = if schedule.enabled { "" } else { " (paused)" };
    let next = match schedule.next_run_at {
        None => "no next run".to_owned(),
        Some(at) => {
            let tz = zone::parse(&schedule.spec.time_zone).unwrap_or(chrono_tz::Tz::UTC);
            let here = zone::computer();
            let there = format!(
                "{} {}",
                zone::local(tz, at).format("%Y-%m-%d %H:%M"),
                tz.name()
            );
            if here == tz {
                format!("next run {there}")
            } else {
                format!(
                    "next run {there} ({} {})",
                    zone::local(here, at).format("%Y-%m-%d %H:%M"),
                    here.name()
                )
            }
        }
    };
    format!("{} {}{state}: {next}", schedule.id, schedule.spec.name)
}

/// `daemon`: runs the scheduler and every account's sending, headless.
#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Handle what is due now, send until nothing waits, and exit
    #[arg(long)]
    once: bool,
    /// Print scheduler and engine events as JSON lines
    #[arg(long)]
    json: bool,
}

pub fn daemon(data_dir: &Path, args: DaemonArgs) -> anyhow::Result<()> {
    let _owner =
        blastdesk_core::owner::Owner::claim(data_dir, blastdesk_core::owner::Holder::Daemon)?;
    let store = Store::open_in(data_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let control = Control::new(store.clone());
    control.recover(super::now_ms())?;
    let json = args.json;
    let print = move |line: String| {
        if json {
            println!("{line}");
        }
    };
    runtime.block_on(async {
        let scheduler =
            Scheduler::new(store.clone(), SystemClock).with_shutdown(control.shutdown().clone());
        let mut on_schedule = {
            let control = control.clone();
            move |event: ScheduleEvent| {
                if let Ok(line) = serde_json::to_string(&event) {
                    print(line);
                }
                if !json {
                    eprintln!("blastdesk-cli: {event:?}");
                }
                control.wake();
            }
        };
        if args.once {
            for event in scheduler.tick()? {
                on_schedule(event);
            }
            for account in store.accounts_with_waiting_blasts()? {
                while let Some(blast) = next_waiting(&store, account)? {
                    let end = run_one(data_dir, &store, &control, account, blast, &print).await?;
                    if end.is_none() {
                        break;
                    }
                }
            }
            return anyhow::Ok(());
        }
        let mut workers = Vec::new();
        for account in store.list_accounts()? {
            let store = store.clone();
            let control = control.clone();
            let data_dir = data_dir.to_path_buf();
            workers.push(tokio::spawn(async move {
                worker(
                    &data_dir,
                    &store,
                    &control,
                    account.id,
                    account.kind,
                    &print,
                )
                .await
            }));
        }
        let stop = async {
            // Ctrl-C: every worker stops after recording the message in hand.
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("blastdesk-cli: stopping after the messages in hand");
            control.stop_workers().await;
        };
        tokio::join!(scheduler.run(&mut on_schedule), stop);
        for worker in workers {
            worker.await??;
        }
        anyhow::Ok(())
    })
}

fn next_waiting(store: &Store, account: i64) -> anyhow::Result<Option<i64>> {
    Ok(store
        .list_blasts()?
        .into_iter()
        .filter(|b| b.account_id == account && b.state.is_sending())
        .map(|b| b.id)
        .min())
}

/// Runs one blast to its end; `None` if it stopped short (paused, waiting for a decision).
async fn run_one(
    data_dir: &Path,
    store: &Store,
    control: &Control,
    account: i64,
    blast: i64,
    print: &(impl Fn(String) + Send + Sync),
) -> anyhow::Result<Option<()>> {
    let mut emit = printer(print);
    let kind = store.account(account)?.kind;
    let end = match kind {
        AccountKind::Simulated => {
            rehearsal_engine(data_dir, store, control)?
                .run_blast(blast, &mut emit)
                .await?
        }
        AccountKind::Whatsapp => {
            let session = super::account::session(data_dir, store, account, |_| {});
            let running = tokio::spawn(session.run(Start::Resume));
            let end = account_engine(store, control, Arc::clone(&session))
                .run_blast(blast, &mut emit)
                .await?;
            session.stop();
            running.await.ok();
            end
        }
    };
    Ok((end == blastdesk_core::engine::RunEnd::Completed).then_some(()))
}

/// Engine events as JSON lines, through `print`.
fn printer(print: &(impl Fn(String) + Send + Sync)) -> impl FnMut(Event) + Send + '_ {
    move |event: Event| {
        if let Ok(line) = serde_json::to_string(&event) {
            print(line);
        }
    }
}

/// The engine of a rehearsal account, "sending" into the data folder's ledger.
fn rehearsal_engine(
    data_dir: &Path,
    store: &Store,
    control: &Control,
) -> anyhow::Result<Engine<SimulatedMessenger<SystemClock>, SystemClock>> {
    let ledger = data_dir.join("rehearsal-ledger.jsonl");
    let messenger = SimulatedMessenger::open(&ledger, Faults::default(), SystemClock)?;
    Ok(Engine::new(
        store.clone(),
        messenger,
        SystemClock,
        RetryPolicy::default(),
    )
    .with_control(control.clone()))
}

/// The engine of a WhatsApp account, sending through its session.
fn account_engine(
    store: &Store,
    control: &Control,
    session: Arc<Session>,
) -> Engine<Arc<Session>, SystemClock> {
    Engine::new(store.clone(), session, SystemClock, RetryPolicy::default())
        .with_control(control.clone())
}

/// One account's sending, for as long as the daemon runs.
async fn worker(
    data_dir: &Path,
    store: &Store,
    control: &Control,
    account: i64,
    kind: AccountKind,
    print: &(impl Fn(String) + Send + Sync),
) -> anyhow::Result<()> {
    let mut emit = printer(print);
    match kind {
        AccountKind::Simulated => {
            rehearsal_engine(data_dir, store, control)?
                .run_account(account, &mut emit)
                .await;
        }
        AccountKind::Whatsapp => {
            if !store.account(account)?.status.is_linked() {
                return Ok(());
            }
            let session = super::account::session(data_dir, store, account, |_| {});
            tokio::spawn(session.run(Start::Resume));
            account_engine(store, control, session)
                .run_account(account, &mut emit)
                .await;
        }
    }
    Ok(())
}
