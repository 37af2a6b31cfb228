//! `blast`: create a blast, run it headless, steer it, show its status and
//! export its report.

use std::path::{Path, PathBuf};

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::{self, PreviewRequest};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{self, Control, Engine, Event, RetryPolicy, RunEnd};
use blastdesk_core::import::ImportOptions;
use blastdesk_core::messenger::{Faults, Messenger, SimulatedMessenger};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::phone::Country;
use blastdesk_core::report::Report;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::runs::{BlastSummary, UnknownDecision};
use blastdesk_whatsapp::session::{Session, Start};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Create a blast from saved audiences and files; prints its id
    Create(CreateArgs),
    /// Send a blast until it completes, pauses, or needs a decision
    Run(RunArgs),
    /// Show a blast's progress
    Status(BlastArg),
    /// List every blast with its progress
    List {
        #[arg(long)]
        json: bool,
    },
    /// Pause a blast; it stops before its next message
    Pause(BlastArg),
    /// Let a paused blast go on
    Resume(BlastArg),
    /// Cancel a blast: what was not sent yet will not be
    Cancel(BlastArg),
    /// Decide about messages that may or may not have gone out when Blastdesk stopped
    Decide(DecideArgs),
    /// Send a finished blast again to those whose message failed or whose fate is unknown (a new blast)
    Again(BlastArg),
    /// Write a blast's per-recipient report to an .xlsx or .csv file
    Export {
        blast: i64,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct BlastArg {
    blast: i64,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct DecideArgs {
    blast: i64,
    #[command(flatten)]
    decision: Decision,
}

/// Exactly one of the two choices.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
struct Decision {
    /// Send them again (a recipient may get the message twice)
    #[arg(long)]
    resend: bool,
    /// Do not send them again; they count as skipped
    #[arg(long)]
    leave_unsent: bool,
}

#[derive(Debug, clap::Args)]
struct CreateArgs {
    /// Spreadsheets or CSV files with the recipients; later files win
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// A saved audience (repeatable); files override audiences
    #[arg(long = "audience", value_name = "NAME")]
    audiences: Vec<String>,
    /// The message, with {column} placeholders and {a|b} variants
    #[arg(long)]
    template: String,
    /// A name for the blast
    #[arg(long, default_value = "Blast")]
    name: String,
    /// For a recipient without a value: "drop" (leave it out with the space
    /// before it), "skip" (do not send to them), or a text to put instead
    #[arg(long, default_value = "drop")]
    missing: String,
    /// Create it as a rehearsal, on a simulated account
    #[arg(long, conflicts_with = "account")]
    simulate: bool,
    /// The WhatsApp account to send from [default: the only one there is]
    #[arg(long, value_name = "ID")]
    account: Option<i64>,
    /// A file to send with the message (the message becomes its caption)
    #[arg(long, value_name = "FILE")]
    attach: Option<PathBuf>,
    /// Check the numbers are on WhatsApp first (in small, spaced batches) and
    /// skip those that are not
    #[arg(long)]
    check_numbers: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    blast: i64,
    /// Send through the simulated messenger, appending to this ledger
    /// (without it, the blast's WhatsApp account sends for real)
    #[arg(long, value_name = "FILE")]
    ledger: Option<PathBuf>,
    /// Seed of the simulated faults
    #[arg(long, default_value_t = 0)]
    fault_seed: u64,
    /// Share of sends that fail temporarily (0 to 1)
    #[arg(long, default_value_t = 0.0)]
    transient: f64,
    /// Share of sends that fail for good (0 to 1)
    #[arg(long, default_value_t = 0.0)]
    permanent: f64,
    /// Simulate a logout after this many messages
    #[arg(long)]
    logout_after: Option<u64>,
    /// The wait before the first retry of a temporary failure (it doubles
    /// with each further attempt)
    #[arg(long, value_name = "MS", default_value_t = RetryPolicy::default().first_delay_ms)]
    first_retry_ms: i64,
    /// Send as fast as possible, ignoring the account's pacing (for tests
    /// and rehearsals; never for a real number)
    #[arg(long)]
    no_pacing: bool,
    /// Print each event as a JSON line
    #[arg(long)]
    json: bool,
}

/// The exit codes of `blast run` for a paused blast, one that needs a
/// decision, and a cancelled one.
pub const EXIT_PAUSED: u8 = 3;
pub const EXIT_NEEDS_DECISION: u8 = 4;
pub const EXIT_CANCELLED: u8 = 5;

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<std::process::ExitCode> {
    let reading = matches!(
        args.command,
        Command::Status(_) | Command::List { .. } | Command::Export { .. }
    );
    let store = if reading {
        Store::open_in_for_reading(data_dir)?
    } else {
        Store::open_in(data_dir)?
    };
    let control = Control::new(store.clone());
    let done = |()| std::process::ExitCode::SUCCESS;
    match args.command {
        Command::Create(args) => create(&store, args).map(done),
        Command::Run(args) => run_blast(data_dir, &store, args),
        Command::Status(args) => status(&store, args).map(done),
        Command::List { json } => list(&store, json).map(done),
        Command::Pause(args) => {
            control.pause(args.blast)?;
            println!("Blast {} is paused.", args.blast);
            Ok(done(()))
        }
        Command::Resume(args) => {
            control.resume(args.blast)?;
            println!("Blast {} will go on.", args.blast);
            Ok(done(()))
        }
        Command::Cancel(args) => {
            let skipped = control.cancel(args.blast, super::now_ms())?;
            println!(
                "Blast {} is cancelled; {skipped} messages will not be sent.",
                args.blast
            );
            Ok(done(()))
        }
        Command::Again(args) => {
            let again = store.resend_blast(args.blast, super::now_ms())?;
            println!(
                "Blast {} sends blast {} again to {} recipients; run it with `blast run {}`.",
                again.blast_id, args.blast, again.recipients, again.blast_id
            );
            Ok(done(()))
        }
        Command::Decide(args) => {
            let decision = if args.decision.resend {
                UnknownDecision::Resend
            } else {
                UnknownDecision::LeaveUnsent
            };
            let n = control.decide_unknown(args.blast, decision, super::now_ms())?;
            match decision {
                UnknownDecision::Resend => println!("{n} messages will be sent again."),
                UnknownDecision::LeaveUnsent => println!("{n} messages will not be sent again."),
            }
            Ok(done(()))
        }
        Command::Export { blast, out } => {
            let report = Report::load(&store, blast)?;
            report.export(&out)?;
            println!(
                "Wrote the report of {} recipients to {}.",
                report.rows.len(),
                out.display()
            );
            Ok(done(()))
        }
    }
}

fn create(store: &Store, args: CreateArgs) -> anyhow::Result<()> {
    let country: Country = store.default_country()?;
    let options = ImportOptions {
        country,
        ..ImportOptions::default()
    };
    let request = PreviewRequest::same_options(&args.audiences, &args.files, &options);
    let (preview, _) = audience::preview(store, &request)?;
    let sender = if args.simulate {
        Sender::Rehearsal
    } else {
        match args.account {
            Some(id) => Sender::Account(id),
            None => Sender::Account(only_whatsapp_account(store)?),
        }
    };
    let now = super::now_ms();
    let created = blast::create(
        store,
        &NewBlast {
            name: &args.name,
            template: &args.template,
            sender,
            recipients: &preview.recipients,
            options: BlastOptions {
                missing_value: super::missing_value(&args.missing),
                check_numbers: args.check_numbers,
                media: None,
            },
            attach: args.attach.as_deref(),
        },
        now,
    )?;
    let (id, account) = (created.blast_id, created.account_id);
    let count = preview.recipients.len() as u64;
    let finish = engine::estimate_finish(store, account, count, now)?;
    let risks = store.account_pacing(account)?.pacing.risks();
    if args.json {
        let risks: Vec<&str> = risks.iter().map(|r| r.code()).collect();
        println!(
            "{}",
            serde_json::json!({
                "blast": id,
                "recipients": count,
                "doNotContact": created.do_not_contact,
                "finishEstimateMs": finish,
                "risks": risks,
            })
        );
    } else {
        println!("Blast {id} created for {count} recipients.");
        if created.do_not_contact > 0 {
            println!(
                "{} of them are on the do-not-contact list and will not be sent to.",
                created.do_not_contact
            );
        }
        println!(
            "If all goes well it will be sent by {}.",
            local_time(store, account, finish)?
        );
        for risk in risks {
            eprintln!("warning: {}", risk.message());
        }
    }
    Ok(())
}

/// The one WhatsApp account there is, when `--account` is not given.
fn only_whatsapp_account(store: &Store) -> anyhow::Result<i64> {
    let whatsapp: Vec<i64> = store
        .list_accounts()?
        .into_iter()
        .filter(|a| a.kind == AccountKind::Whatsapp)
        .map(|a| a.id)
        .collect();
    match whatsapp[..] {
        [only] => Ok(only),
        [] => anyhow::bail!(
            "there is no WhatsApp account to send from: add one with `blastdesk-cli account add NAME`, or rehearse with --simulate"
        ),
        _ => anyhow::bail!(
            "there are several WhatsApp accounts: choose one with --account ID (`blastdesk-cli account list`)"
        ),
    }
}

/// Runs the engine on one blast, printing events as JSON lines if asked.
async fn drive<M: Messenger>(
    engine: Engine<M, SystemClock>,
    args: &RunArgs,
) -> anyhow::Result<RunEnd> {
    let engine = if args.no_pacing {
        engine.with_pacing(Pacing::off())
    } else {
        engine
    };
    let recovered = engine.recover()?;
    if recovered > 0 && !args.json {
        eprintln!(
            "blastdesk-cli: {recovered} messages were being sent when Blastdesk stopped; their fate is unknown and they will not be re-sent"
        );
    }
    let json = args.json;
    Ok(engine
        .run_blast(args.blast, &mut |event: Event| {
            if json && let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
        })
        .await?)
}

/// Waits (at most a minute) until the session is connected or has said
/// why it is not.
async fn wait_until_settled(session: &Session) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    while tokio::time::Instant::now() < deadline {
        match session.status() {
            AccountStatus::Connecting | AccountStatus::Unlinked => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            _ => return,
        }
    }
}

/// An instant as the account's local time, with the zone's name.
fn local_time(store: &Store, account: i64, ms: i64) -> anyhow::Result<String> {
    let tz = store.account_pacing(account)?.time_zone;
    Ok(format!(
        "{} ({})",
        blastdesk_core::zone::local(tz, ms).format("%Y-%m-%d %H:%M"),
        tz.name()
    ))
}

fn run_blast(
    data_dir: &Path,
    store: &Store,
    args: RunArgs,
) -> anyhow::Result<std::process::ExitCode> {
    let _owner = super::claim(data_dir, &format!("blast run {}", args.blast))?;
    let retry = RetryPolicy {
        first_delay_ms: args.first_retry_ms.max(0),
        ..RetryPolicy::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let end = match &args.ledger {
        Some(ledger) => {
            let faults = Faults {
                seed: args.fault_seed,
                transient_share: args.transient,
                permanent_share: args.permanent,
                logout_after: args.logout_after,
                ..Faults::default()
            };
            let messenger = SimulatedMessenger::open(ledger, faults, SystemClock)
                .with_context(|| format!("cannot open the ledger {}", ledger.display()))?;
            let engine = Engine::new(store.clone(), messenger, SystemClock, retry);
            runtime.block_on(drive(engine, &args))?
        }
        None => {
            let account = store.account(store.blast_summary(args.blast)?.account_id)?;
            if account.kind != AccountKind::Whatsapp {
                anyhow::bail!(
                    "blast {} is a rehearsal: give --ledger FILE to say where its messages go",
                    args.blast
                );
            }
            if !account.status.is_linked() {
                anyhow::bail!(
                    "account {} is not linked ({}); link it with `blastdesk-cli account link {}`",
                    account.id,
                    super::account::status_text(&account.status),
                    account.id
                );
            }
            let session = super::account::session(data_dir, store, account.id, |_| {});
            runtime.block_on(async {
                let running = tokio::spawn(session.run(Start::Resume));
                wait_until_settled(&session).await;
                if !args.json {
                    eprintln!(
                        "blastdesk-cli: account {}: {}",
                        account.id,
                        super::account::status_text(&session.status())
                    );
                }
                let engine = Engine::new(
                    store.clone(),
                    std::sync::Arc::clone(&session),
                    SystemClock,
                    retry,
                );
                let end = drive(engine, &args).await;
                session.stop();
                running.await.ok();
                end
            })?
        }
    };
    let json = args.json;
    let counts = store.delivery_counts(args.blast)?;
    if !json {
        println!(
            "{} sent, {} failed, {} skipped, {} unknown of {}",
            counts.sent, counts.failed, counts.skipped, counts.unknown, counts.total
        );
    }
    Ok(match end {
        RunEnd::Completed => std::process::ExitCode::SUCCESS,
        RunEnd::Paused { code } => {
            let reason = store.blast_summary(args.blast)?.pause_reason;
            eprintln!(
                "blastdesk-cli: the blast is paused ({code}): {}",
                reason.unwrap_or_default()
            );
            std::process::ExitCode::from(EXIT_PAUSED)
        }
        RunEnd::Stopped => {
            eprintln!(
                "blastdesk-cli: stopped before the blast finished; it goes on when run again"
            );
            std::process::ExitCode::from(EXIT_PAUSED)
        }
        RunEnd::Cancelled => {
            eprintln!("blastdesk-cli: the blast was cancelled");
            std::process::ExitCode::from(EXIT_CANCELLED)
        }
        RunEnd::WaitingForDecision { unknown } => {
            if unknown > 0 {
                eprintln!(
                    "blastdesk-cli: {unknown} messages have an unknown fate; choose whether to re-send them"
                );
            }
            std::process::ExitCode::from(EXIT_NEEDS_DECISION)
        }
    })
}

fn status(store: &Store, args: BlastArg) -> anyhow::Result<()> {
    let blast = store.blast_summary(args.blast)?;
    if args.json {
        let mut value = serde_json::to_value(blast.counts)?;
        value["state"] = serde_json::Value::from(blast.state.as_str());
        value["complete"] = serde_json::Value::from(blast.counts.is_complete());
        value["pauseCode"] = serde_json::to_value(blast.pause_code)?;
        value["pauseReason"] = serde_json::to_value(&blast.pause_reason)?;
        println!("{value}");
    } else {
        println!("{}", describe(&blast));
        if let Some(reason) = &blast.pause_reason {
            println!("  paused: {reason}");
        }
    }
    Ok(())
}

fn describe(blast: &BlastSummary) -> String {
    let c = blast.counts;
    format!(
        "Blast {} \"{}\" ({}): {} sent, {} failed, {} skipped, {} waiting, {} unknown of {}",
        blast.id,
        blast.name,
        blast.state,
        c.sent,
        c.failed,
        c.skipped,
        c.pending(),
        c.unknown,
        c.total
    )
}

fn list(store: &Store, json: bool) -> anyhow::Result<()> {
    let blasts = store.list_blasts()?;
    if json {
        println!("{}", serde_json::to_string(&blasts)?);
    } else if blasts.is_empty() {
        println!("No blasts yet.");
    } else {
        for blast in &blasts {
            println!("{}", describe(blast));
        }
    }
    Ok(())
}
