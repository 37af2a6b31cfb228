//! `blast`: create a blast, run it headless, show its status.

use std::path::{Path, PathBuf};

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::audience::{self, PreviewRequest};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Engine, Event, RetryPolicy, RunEnd};
use blastdesk_core::import::ImportOptions;
use blastdesk_core::messenger::{Faults, SimulatedMessenger};
use blastdesk_core::phone::Country;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::NewBlast;
use blastdesk_core::template::{MissingValue, Template};

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
    Status(StatusArgs),
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
    /// For a recipient without a value: "skip", or a text to put instead
    #[arg(long, default_value = "")]
    missing: String,
    /// Create it as a rehearsal, on a simulated account
    #[arg(long)]
    simulate: bool,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    blast: i64,
    /// Send through the simulated messenger, appending to this ledger
    #[arg(long, value_name = "FILE", required = true)]
    ledger: PathBuf,
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
    /// Print each event as a JSON line
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    blast: i64,
    #[arg(long)]
    json: bool,
}

/// The exit code of `blast run` for a paused blast, and for one that needs a decision.
pub const EXIT_PAUSED: u8 = 3;
pub const EXIT_NEEDS_DECISION: u8 = 4;

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<std::process::ExitCode> {
    let store = Store::open_in(data_dir)?;
    match args.command {
        Command::Create(args) => create(&store, args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Run(args) => run_blast(&store, args),
        Command::Status(args) => status(&store, args).map(|()| std::process::ExitCode::SUCCESS),
    }
}

fn create(store: &Store, args: CreateArgs) -> anyhow::Result<()> {
    Template::parse(&args.template).context("the message")?;
    let country: Country = store.default_country()?;
    let options = ImportOptions {
        country,
        ..ImportOptions::default()
    };
    let request = PreviewRequest::same_options(&args.audiences, &args.files, &options);
    let (preview, _) = audience::preview(store, &request)?;
    if preview.recipients.is_empty() {
        anyhow::bail!("no one to send to: the files and audiences hold no usable number");
    }
    let missing = match args.missing.as_str() {
        "skip" => MissingValue::Skip,
        text => MissingValue::Fallback {
            text: text.to_owned(),
        },
    };
    let now = super::now_ms();
    let kind = if args.simulate {
        AccountKind::Simulated
    } else {
        AccountKind::Whatsapp
    };
    let account = store.ensure_account(
        if args.simulate {
            "Rehearsal"
        } else {
            "Default"
        },
        kind,
        "Asia/Jakarta",
        now,
    )?;
    let id = store.create_blast(
        &NewBlast {
            account_id: account,
            name: &args.name,
            template: &args.template,
            options: serde_json::json!({ "missingValue": missing }),
            simulated: args.simulate,
            recipients: &preview.recipients,
        },
        now,
    )?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({ "blast": id, "recipients": preview.recipients.len() })
        );
    } else {
        println!(
            "Blast {id} created for {} recipients.",
            preview.recipients.len()
        );
    }
    Ok(())
}

fn run_blast(store: &Store, args: RunArgs) -> anyhow::Result<std::process::ExitCode> {
    let faults = Faults {
        seed: args.fault_seed,
        transient_share: args.transient,
        permanent_share: args.permanent,
        logout_after: args.logout_after,
        ..Faults::default()
    };
    let messenger = SimulatedMessenger::open(&args.ledger, faults, SystemClock)
        .with_context(|| format!("cannot open the ledger {}", args.ledger.display()))?;
    let retry = RetryPolicy {
        first_delay_ms: args.first_retry_ms.max(0),
        ..RetryPolicy::default()
    };
    let engine = Engine::new(store.clone(), messenger, SystemClock, retry);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let recovered = engine.recover()?;
    if recovered > 0 && !args.json {
        eprintln!(
            "blastdesk-cli: {recovered} messages were being sent when Blastdesk stopped; their fate is unknown and they will not be re-sent"
        );
    }
    let json = args.json;
    let end = runtime.block_on(engine.run_blast(args.blast, &mut |event: Event| {
        if json && let Ok(line) = serde_json::to_string(&event) {
            println!("{line}");
        }
    }))?;
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
            eprintln!("blastdesk-cli: the blast is paused: {code}");
            std::process::ExitCode::from(EXIT_PAUSED)
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

fn status(store: &Store, args: StatusArgs) -> anyhow::Result<()> {
    let blast = store.blast_to_run(args.blast)?;
    let counts = store.delivery_counts(args.blast)?;
    if args.json {
        let mut value = serde_json::to_value(counts)?;
        value["state"] = serde_json::Value::from(blast.state);
        value["complete"] = serde_json::Value::from(counts.is_complete());
        println!("{value}");
    } else {
        println!(
            "Blast {} ({}): {} sent, {} failed, {} skipped, {} waiting, {} unknown of {}",
            args.blast,
            blast.state,
            counts.sent,
            counts.failed,
            counts.skipped,
            counts.queued + counts.retry_wait + counts.sending,
            counts.unknown,
            counts.total
        );
    }
    Ok(())
}
