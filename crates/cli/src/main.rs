//! `blastdesk-cli`: Blastdesk without a window, on the same store and engine.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use blastdesk_core::data_dir;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "blastdesk-cli", version, about)]
struct Cli {
    /// Where Blastdesk keeps its database and logs [default: the app's data folder]
    #[arg(long, global = true, env = data_dir::ENV_VAR, value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Also print logs to stderr
    #[arg(long, short, global = true)]
    verbose: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Open the database and summarise what it holds
    Status(cmd::status::Args),
    /// Preview recipients from spreadsheets and saved audiences; optionally save them
    Import(cmd::import::Args),
    /// Show or change settings
    Settings(cmd::settings::Args),
    /// Create, run and follow blasts
    Blast(cmd::blast::Args),
    /// Add, link, list, log out and remove WhatsApp accounts
    Account(cmd::account::Args),
    /// The do-not-contact list and the opt-out reply words
    Contacts(cmd::contacts::Args),
    /// Schedule blasts: once, or every day, week or month, in a time zone
    Schedule(cmd::schedule::Args),
    /// Run the scheduler and every account's sending without a window (for a
    /// computer that is always on)
    Daemon(cmd::schedule::DaemonArgs),
    /// Copy the whole database to a file
    Backup(cmd::backup::Args),
    /// Replace the database with a backup (a file that is not one changes nothing)
    Restore(cmd::backup::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Panics go to the log, not the terminal: a reader library that panics
    // on a damaged file is reported as an error by the import itself, and a
    // bug is reported below in one line.
    std::panic::set_hook(Box::new(|info| {
        tracing::error!("panic: {info}");
    }));
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(error)) => {
            // One clear line; the chain of causes joined, no backtrace.
            eprintln!("blastdesk-cli: {error:#}");
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("blastdesk-cli: internal error; the details are in the log file");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let data_dir = match cli.data_dir.or_else(data_dir::platform_default) {
        Some(dir) => dir,
        None => anyhow::bail!(
            "this system has no per-user data folder; pass --data-dir or set {}",
            data_dir::ENV_VAR
        ),
    };
    let echo = if cli.verbose {
        blastdesk_core::logging::Echo::FileAndStderr
    } else {
        blastdesk_core::logging::Echo::FileOnly
    };
    // Logging is a help, not a requirement: a read-only data folder still gets
    // a precise error from the store below.
    let _log_guard = blastdesk_core::logging::init(&data_dir::logs_dir(&data_dir), echo).ok();
    let ok = |()| ExitCode::SUCCESS;
    match cli.command {
        Command::Status(args) => cmd::status::run(&data_dir, args).map(ok),
        Command::Import(args) => cmd::import::run(&data_dir, args).map(ok),
        Command::Settings(args) => cmd::settings::run(&data_dir, args).map(ok),
        Command::Blast(args) => cmd::blast::run(&data_dir, args),
        Command::Account(args) => cmd::account::run(&data_dir, args),
        Command::Contacts(args) => cmd::contacts::run(&data_dir, args).map(ok),
        Command::Schedule(args) => cmd::schedule::run(&data_dir, args).map(ok),
        Command::Daemon(args) => cmd::schedule::daemon(&data_dir, args).map(ok),
        Command::Backup(args) => cmd::backup::backup(&data_dir, args).map(ok),
        Command::Restore(args) => cmd::backup::restore(&data_dir, args).map(ok),
    }
}
