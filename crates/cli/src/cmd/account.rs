//! `account`: add, link (QR code in the terminal, or a pairing code), list,
//! log out, rename and remove WhatsApp accounts.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::Control;
use blastdesk_core::phone::{self, Country};
use blastdesk_core::store::{AccountInfo, AccountKind};
use blastdesk_whatsapp::session::{Network, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::{qr, version};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Add a WhatsApp account (link it next with `account link`); prints its id
    Add {
        name: String,
        #[arg(long, value_name = "UNIT")]
        business_unit: Option<String>,
        /// The IANA time zone its sending window is in [default: this computer's]
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Link an account: shows QR codes to scan in WhatsApp > Linked devices,
    /// or a pairing code to type on the phone
    Link {
        account: i64,
        /// Link with a code for this phone number instead of a QR code
        #[arg(long, value_name = "PHONE")]
        pair_code: Option<String>,
        /// Print status changes as JSON lines
        #[arg(long)]
        json: bool,
        /// Stop trying after this many seconds without a link
        #[arg(long, value_name = "SECONDS", default_value_t = 300)]
        give_up_after: u64,
    },
    /// List accounts with their status
    List {
        #[arg(long)]
        json: bool,
    },
    /// Log an account out (the phone forgets this device) and delete its keys
    Logout { account: i64 },
    /// Rename an account, or set its business unit
    Rename {
        account: i64,
        name: String,
        #[arg(long, value_name = "UNIT", default_value = "")]
        business_unit: String,
    },
    /// Remove an account (its blasts and reports stay); deletes its keys
    Remove { account: i64 },
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<std::process::ExitCode> {
    let store = if matches!(args.command, Command::List { .. }) {
        Store::open_in_for_reading(data_dir)?
    } else {
        Store::open_in(data_dir)?
    };
    let done = std::process::ExitCode::SUCCESS;
    match args.command {
        Command::Add {
            name,
            business_unit,
            time_zone,
            json,
        } => {
            let zone = match time_zone {
                Some(zone) => zone,
                None => blastdesk_core::zone::computer().name().to_owned(),
            };
            if blastdesk_core::zone::parse(&zone).is_none() {
                anyhow::bail!(
                    "{zone:?} is not a time zone Blastdesk knows (use a name like Asia/Jakarta)"
                );
            }
            let id = store.add_account(&name, AccountKind::Whatsapp, &zone, super::now_ms())?;
            if let Some(unit) = business_unit {
                store.set_account_details(id, &name, &unit)?;
            }
            if json {
                println!("{}", serde_json::json!({ "account": id }));
            } else {
                println!("Account {id} added. Link it with: blastdesk-cli account link {id}");
            }
        }
        Command::Link {
            account,
            pair_code,
            json,
            give_up_after,
        } => {
            let _owner = super::claim(data_dir, &format!("account link {account}"))?;
            let limit = std::time::Duration::from_secs(give_up_after);
            return link(data_dir, &store, account, pair_code, json, limit);
        }
        Command::List { json } => {
            let accounts = store.list_accounts()?;
            if json {
                println!("{}", serde_json::to_string(&accounts)?);
            } else if accounts.is_empty() {
                println!("No accounts yet. Add one with: blastdesk-cli account add NAME");
            } else {
                for account in &accounts {
                    println!("{}", describe(account));
                }
            }
        }
        Command::Logout { account } => {
            let _owner = super::claim(data_dir, &format!("account logout {account}"))?;
            store.account(account)?;
            let runtime = runtime()?;
            let session = session(data_dir, &store, account, |_| {});
            let told = runtime.block_on(session.logout());
            println!("Account {account} is logged out; its keys are deleted.");
            if !told {
                println!("{NOT_TOLD}");
            }
        }
        Command::Rename {
            account,
            name,
            business_unit,
        } => {
            store.set_account_details(account, &name, &business_unit)?;
            println!("Account {account} is now {:?}.", name.trim());
        }
        Command::Remove { account } => {
            let _owner = super::claim(data_dir, &format!("account remove {account}"))?;
            // A linked account is logged out first, so the phone's list of
            // linked devices loses it.
            if store.account(account)?.status.is_linked() {
                let session = session(data_dir, &store, account, |_| {});
                if !runtime()?.block_on(session.logout()) {
                    println!("{NOT_TOLD}");
                }
            }
            store.remove_account(account, super::now_ms())?;
            blastdesk_core::data_dir::forget_session(data_dir, account).with_context(|| {
                format!("account {account} is removed, but its keys could not be deleted")
            })?;
            println!("Account {account} is removed; its blasts and reports stay.");
        }
    }
    Ok(done)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn session(
    data_dir: &Path,
    store: &Store,
    account: i64,
    notify: impl Fn(SessionEvent) + Send + Sync + 'static,
) -> Arc<Session> {
    Session::new(SessionConfig {
        account_id: account,
        data_dir: data_dir.to_path_buf(),
        store: store.clone(),
        control: Control::new(store.clone()),
        version: version::current(store),
        clock: Arc::new(SystemClock),
        notify: Arc::new(notify),
        network: Network::from_env(),
    })
}

/// Links an account, printing QR codes (or the pairing code) and statuses,
/// until it is connected (exit 0) or the attempt ends without a link (exit 1).
fn link(
    data_dir: &Path,
    store: &Store,
    account: i64,
    pair_code: Option<String>,
    json: bool,
    limit: std::time::Duration,
) -> anyhow::Result<std::process::ExitCode> {
    let info = store.account(account)?;
    if info.kind != AccountKind::Whatsapp {
        anyhow::bail!("account {account} is a rehearsal account; it has nothing to link");
    }
    let start = match pair_code {
        Some(number) => {
            let country: Country = store.default_country()?;
            let phone = phone::normalize(&number, country).map_err(|e| {
                anyhow::anyhow!("{number:?} cannot be used for a pairing code: {e}")
            })?;
            Start::LinkWithCode {
                phone: phone.as_str().to_owned(),
            }
        }
        None => Start::LinkWithQr,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let session = session(data_dir, store, account, move |event| {
        tx.send(event).ok();
    });
    let runtime = runtime()?;
    let outcome = runtime.block_on(async {
        let running = tokio::spawn(session.run(start));
        let mut outcome = None;
        let deadline = tokio::time::Instant::now() + limit;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, rx.recv()).await {
            match event {
                SessionEvent::Qr {
                    payload,
                    expires_at_ms,
                    ..
                } => {
                    if json {
                        println!("{}", serde_json::json!({ "qr": payload, "expiresAtMs": expires_at_ms }));
                    } else {
                        let seconds = (expires_at_ms - super::now_ms()).max(0) / 1_000;
                        println!("{}", qr::terminal(&payload)?);
                        println!(
                            "On your phone: WhatsApp > Settings > Linked devices > Link a device, then scan this code (it changes in {seconds} s)."
                        );
                    }
                }
                SessionEvent::OptOut { phone, word, .. } => {
                    println!("{phone} replied \"{word}\": added to the do-not-contact list.");
                }
                // The window suggests it as a name; here the name was given.
                SessionEvent::ProfileName { .. } => {}
                SessionEvent::Status { status, .. } => {
                    if json {
                        println!("{}", serde_json::to_string(&status)?);
                    } else {
                        println!("{}", status_text(&status));
                    }
                    match status {
                        AccountStatus::Connected => {
                            outcome = Some(Ok(()));
                            break;
                        }
                        AccountStatus::LinkFailed { reason } => {
                            outcome = Some(Err(reason));
                            break;
                        }
                        AccountStatus::LoggedOut { .. }
                        | AccountStatus::Replaced
                        | AccountStatus::Outdated
                        | AccountStatus::TemporarilyBanned { .. } => {
                            outcome = Some(Err(status_text(&status)));
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        session.stop();
        running.await.ok();
        anyhow::Ok(outcome)
    })?;
    match outcome {
        Some(Ok(())) => {
            let phone = store.account(account)?.phone.unwrap_or_default();
            println!(
                "Account {account} is linked{}.",
                if phone.is_empty() {
                    String::new()
                } else {
                    format!(" as {phone}")
                }
            );
            Ok(std::process::ExitCode::SUCCESS)
        }
        Some(Err(reason)) => anyhow::bail!("account {account} was not linked: {reason}"),
        None => anyhow::bail!(
            "account {account} was not linked within {} s; run `account link {account}` again",
            limit.as_secs()
        ),
    }
}

fn describe(account: &AccountInfo) -> String {
    let kind = match account.kind {
        AccountKind::Whatsapp => "",
        AccountKind::Simulated => " (rehearsal)",
    };
    let unit = account
        .business_unit
        .as_deref()
        .map(|u| format!(" [{u}]"))
        .unwrap_or_default();
    let phone = account.phone.as_deref().unwrap_or("not linked");
    format!(
        "{} {}{unit}{kind}, {phone}: {}",
        account.id,
        account.name,
        status_text(&account.status)
    )
}

/// What is left to do when a logout could not reach WhatsApp.
const NOT_TOLD: &str = "WhatsApp could not be reached, so the phone still lists this device: on the phone, open WhatsApp > Linked devices and log out \"Blastdesk\" there.";

/// A status in words, with times in UTC.
pub fn status_text(status: &AccountStatus) -> String {
    let at = |ms: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
            .map_or_else(|| ms.to_string(), |t| t.format("%H:%M:%S UTC").to_string())
    };
    match status {
        AccountStatus::Unlinked => "not linked".into(),
        AccountStatus::AwaitingQr { .. } => "waiting for the QR code to be scanned".into(),
        AccountStatus::AwaitingPairCode { code, .. } => {
            format!(
                "type this code on the phone (WhatsApp > Linked devices > Link with phone number): {code}"
            )
        }
        AccountStatus::LinkFailed { reason } => format!("not linked: {reason} Try again."),
        AccountStatus::Connecting => "connecting".into(),
        AccountStatus::Connected => "connected".into(),
        AccountStatus::Disconnected {
            reason,
            next_attempt_at_ms,
            offline,
        } => {
            let why = if *offline {
                "cannot reach WhatsApp"
            } else {
                reason.as_str()
            };
            format!(
                "disconnected ({why}); next attempt at {}",
                at(*next_attempt_at_ms)
            )
        }
        AccountStatus::LoggedOut { by } => match by {
            blastdesk_core::account::LogoutBy::You => {
                "logged out by you; link it again to send".into()
            }
            blastdesk_core::account::LogoutBy::Phone => {
                "logged out from the phone; link it again to send".into()
            }
        },
        AccountStatus::Replaced => "replaced by another WhatsApp Web session".into(),
        AccountStatus::Locked { message } => {
            let words = message
                .as_deref()
                .map(|m| format!(" (WhatsApp: \"{m}\")"))
                .unwrap_or_default();
            format!(
                "locked by WhatsApp{words}; request a review in WhatsApp on the phone: linking again will not work until WhatsApp unlocks it"
            )
        }
        AccountStatus::TemporarilyBanned {
            until_ms,
            reason_code,
        } => format!(
            "temporarily banned until {} ({})",
            at(*until_ms),
            blastdesk_core::account::ban_reason(*reason_code)
        ),
        AccountStatus::Outdated => {
            "WhatsApp requires a newer version (update Blastdesk or set the version in settings)"
                .into()
        }
    }
}
