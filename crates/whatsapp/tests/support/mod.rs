//! What the adapter's tests through the test server share (`adapter.rs`,
//! `adapter_account.rs`): an account's `Session` on the fake WhatsApp server,
//! what it tells the window, and linking it with the QR code.

#![allow(dead_code)] // each test file uses its part

use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::{Clock, Millis, TokioClock};
use blastdesk_core::engine::Control;
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{Network, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::version::{self, WebVersion};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::task::JoinHandle;
use wa_test_server::TestServer;
use whatsapp_rust::http::HttpClient;

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

pub const PHONE: &str = "+6281234567890";
/// How long any one step may take, on the paused clock.
pub const STEP: Duration = Duration::from_secs(300);
/// When the sessions' and engines' paused clock starts.
pub const START_MS: Millis = 1_800_000_000_000;

/// An account's session on the test server, and what it told the window.
pub struct Account {
    pub id: i64,
    pub store: Store,
    pub session: Arc<Session>,
    pub clock: TokioClock,
    pub events: UnboundedReceiver<SessionEvent>,
    pub told: Arc<Mutex<Vec<SessionEvent>>>,
    /// The data folder, inside `dir`.
    pub data: std::path::PathBuf,
    pub dir: tempfile::TempDir,
}

/// An account announcing `version` (`None`: the library's current one,
/// fetched from `web`).
pub fn account_with(
    server: &TestServer,
    version: Option<WebVersion>,
    web: impl HttpClient + 'static,
) -> TestResult<Account> {
    account_at(server, version, web, |dir| dir.to_path_buf())
}

/// An account announcing `version`, with its data in the folder `folder`
/// makes of a new temporary folder.
pub fn account_at(
    server: &TestServer,
    version: Option<WebVersion>,
    web: impl HttpClient + 'static,
    folder: impl FnOnce(&std::path::Path) -> std::path::PathBuf,
) -> TestResult<Account> {
    let dir = tempfile::tempdir()?;
    let data = folder(dir.path());
    let store = Store::open_in(&data)?;
    let id = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let (sender, events) = unbounded_channel();
    let told = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&told);
    let clock = TokioClock::starting_at(START_MS);
    let session = Session::new(SessionConfig {
        account_id: id,
        data_dir: data.clone(),
        store: store.clone(),
        control: Control::new(store.clone()),
        version,
        clock: Arc::new(clock),
        notify: Arc::new(move |event: SessionEvent| {
            kept.lock().map(|mut t| t.push(event.clone())).ok();
            sender.send(event).ok();
        }),
        network: Network::custom(server.factory()).with_web(web),
    });
    Ok(Account {
        id,
        store,
        session,
        clock,
        events,
        told,
        data,
        dir,
    })
}

impl Account {
    /// The first event `pick` accepts, skipping the others.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        pick: impl Fn(&SessionEvent) -> Option<T>,
    ) -> TestResult<T> {
        let found = tokio::time::timeout(STEP, async {
            while let Some(event) = self.events.recv().await {
                if let Some(found) = pick(&event) {
                    return Some(found);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(found)) => Ok(found),
            _ => Err(format!("no {what}; statuses told: {:#?}", self.statuses()).into()),
        }
    }

    /// The first status `wanted` accepts.
    pub async fn status<T>(
        &mut self,
        what: &str,
        wanted: impl Fn(&AccountStatus) -> Option<T>,
    ) -> TestResult<T> {
        self.wait_for(what, |event| match event {
            SessionEvent::Status { status, .. } => wanted(status),
            _ => None,
        })
        .await
    }

    /// Every status told so far, in order.
    pub fn statuses(&self) -> Vec<AccountStatus> {
        self.told
            .lock()
            .map(|told| {
                told.iter()
                    .filter_map(|event| match event {
                        SessionEvent::Status { status, .. } => Some(status.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn keys(&self) -> std::path::PathBuf {
        blastdesk_core::data_dir::session_file(&self.data, self.id)
    }
}

pub fn connected(status: &AccountStatus) -> Option<()> {
    (*status == AccountStatus::Connected).then_some(())
}

/// Starts linking `account` with a QR code; returns the session's task
/// and the payload of the first QR code it shows.
pub async fn start_linking(account: &mut Account) -> TestResult<(JoinHandle<()>, String)> {
    let running = tokio::spawn(account.session.run(Start::LinkWithQr));
    let qr = account
        .wait_for("a QR code", |event| match event {
            SessionEvent::Qr { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .await?;
    Ok((running, qr))
}

/// Links an account with the QR code and waits until it is connected.
pub async fn linked_with(
    server: &TestServer,
    version: Option<WebVersion>,
    web: impl HttpClient + 'static,
) -> TestResult<(Account, JoinHandle<()>)> {
    let mut account = account_with(server, version, web)?;
    let (running, qr) = start_linking(&mut account).await?;
    server.scan(&qr, PHONE)?;
    account.status("connected", connected).await?;
    Ok((account, running))
}

/// Links an account announcing the pinned version.
pub async fn linked(server: &TestServer) -> TestResult<(Account, JoinHandle<()>)> {
    linked_with(server, Some(version::PINNED), server.web()).await
}

/// A folder under `root` with a path longer than `MAX_PATH`, of names with a
/// space and letters beyond ASCII. On Windows 1,100 characters (more than
/// 1,040 bytes of UTF-8, SQLite's own cap for its default Windows VFS);
/// elsewhere 300, inside the 512 bytes SQLite's Unix VFS takes
/// (blastdesk_core::store::file).
pub fn deep_folder(root: &std::path::Path) -> std::path::PathBuf {
    let chars = if cfg!(windows) { 1100 } else { 300 };
    let mut folder = root.to_path_buf();
    let mut n = 0;
    while folder.to_string_lossy().chars().count() < chars {
        folder.push(format!("Toko Ñoño {n:02} {}", "x".repeat(40)));
        n += 1;
    }
    folder
}

/// An account announcing the pinned version, not linked yet.
pub fn account(server: &TestServer) -> TestResult<Account> {
    account_with(server, Some(version::PINNED), server.web())
}

/// A customer by number, with a `nama` field.
pub fn recipient(phone: &str, nama: &str) -> Recipient {
    Recipient {
        phone: Phone::from_e164_unchecked(phone.to_owned()),
        fields: Fields::new(vec![(Arc::from("nama"), nama.to_owned())]),
        source: Source::Audience {
            audience: Arc::from("Pelanggan"),
        },
    }
}

/// A blast of `account` to `recipients`, waiting to be sent.
pub fn create_blast(
    account: &Account,
    name: &str,
    template: &str,
    recipients: &[Recipient],
    attach: Option<&std::path::Path>,
) -> TestResult<i64> {
    let created = blast::create(
        &account.store,
        &NewBlast {
            name,
            template,
            sender: Sender::Account(account.id),
            recipients,
            options: BlastOptions::default(),
            attach,
        },
        account.clock.now_ms(),
    )?;
    Ok(created.blast_id)
}
