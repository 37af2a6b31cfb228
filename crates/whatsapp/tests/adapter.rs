//! Blastdesk's adapter (`Session`, the account machine, the store) driving
//! the real whatsapp-rust client against the fake WhatsApp server
//! (`wa-test-server`), in memory, on Tokio's paused clock: what the person
//! sees and what is recorded at each step of a link, and the account's
//! life after it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::clock::TokioClock;
use blastdesk_core::engine::Control;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{Network, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::version;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use wa_test_server::{Intent, TestServer};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const PHONE: &str = "+6281234567890";
/// How long any one step may take, on the paused clock.
const STEP: Duration = Duration::from_secs(300);

/// An account's session on the test server, and what it told the window.
struct Account {
    id: i64,
    store: Store,
    session: Arc<Session>,
    events: UnboundedReceiver<SessionEvent>,
    told: Arc<Mutex<Vec<SessionEvent>>>,
    _dir: tempfile::TempDir,
}

fn account(server: &TestServer) -> TestResult<Account> {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let id = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let (sender, events) = unbounded_channel();
    let told = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&told);
    let session = Session::new(SessionConfig {
        account_id: id,
        data_dir: dir.path().to_path_buf(),
        store: store.clone(),
        control: Control::new(store.clone()),
        // The test server's web is nowhere: the version is named.
        version: Some(version::PINNED),
        clock: Arc::new(TokioClock::starting_at(1_800_000_000_000)),
        notify: Arc::new(move |event: SessionEvent| {
            kept.lock().map(|mut t| t.push(event.clone())).ok();
            sender.send(event).ok();
        }),
        network: Network::custom(server.factory()),
    });
    Ok(Account {
        id,
        store,
        session,
        events,
        told,
        _dir: dir,
    })
}

impl Account {
    /// The first event `pick` accepts, skipping the others.
    async fn wait_for<T>(
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
            _ => Err(format!("no {what}; told: {:#?}", self.told.lock().map(|t| t.len())).into()),
        }
    }

    async fn status(&mut self, what: &str, wanted: impl Fn(&AccountStatus) -> bool) -> TestResult {
        self.wait_for(what, |event| match event {
            SessionEvent::Status { status, .. } if wanted(status) => Some(()),
            _ => None,
        })
        .await
    }
}

/// The person links a new account with the QR code the window shows: the
/// phone scans it, the account connects after WhatsApp's restart, its
/// number is recorded, and the status the window and the store tell is
/// "connected" (not a failure, not "waiting for the QR code").
#[tokio::test(start_paused = true)]
async fn a_qr_link_through_the_adapter_ends_connected_with_the_number_recorded() -> TestResult {
    let server = TestServer::new();
    let mut account = account(&server)?;
    let running = tokio::spawn(account.session.run(Start::LinkWithQr));
    let qr = account
        .wait_for("a QR code", |event| match event {
            SessionEvent::Qr { payload, svg, .. } if svg.contains("<svg") => Some(payload.clone()),
            _ => None,
        })
        .await?;
    server.scan(&qr, PHONE)?;
    account
        .status("connected", |s| *s == AccountStatus::Connected)
        .await?;
    let stored = account.store.account(account.id)?;
    assert_eq!(stored.status, AccountStatus::Connected);
    assert_eq!(stored.phone.as_deref(), Some(PHONE));
    let intents: Vec<Option<Intent>> = server.connections().into_iter().map(|c| c.intent).collect();
    assert_eq!(
        intents,
        [
            Some(Intent::Register),
            Some(Intent::Login {
                phone: PHONE.trim_start_matches('+').into(),
                device: 1
            })
        ]
    );
    // Nothing on the way was a failure the person would have been shown.
    let failures: Vec<String> = account
        .told
        .lock()
        .map(|told| {
            told.iter()
                .filter_map(|event| match event {
                    SessionEvent::Status { status, .. } if status.needs_attention() => {
                        Some(format!("{status:?}"))
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(failures.is_empty(), "{failures:?}");

    // Stopped and started again (the app restarts): it logs in with its
    // keys, without a QR code.
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    let again = tokio::spawn(account.session.run(Start::Resume));
    account
        .status("connected again", |s| *s == AccountStatus::Connected)
        .await?;
    assert_eq!(server.connections().len(), 3);
    account.session.stop();
    tokio::time::timeout(STEP, again).await??;
    Ok(())
}

/// Links an account on `server` and waits until it is connected.
async fn linked(server: &TestServer) -> TestResult<(Account, tokio::task::JoinHandle<()>)> {
    let mut account = account(server)?;
    let running = tokio::spawn(account.session.run(Start::LinkWithQr));
    let qr = account
        .wait_for("a QR code", |event| match event {
            SessionEvent::Qr { payload, .. } => Some(payload.clone()),
            _ => None,
        })
        .await?;
    server.scan(&qr, PHONE)?;
    account
        .status("connected", |s| *s == AccountStatus::Connected)
        .await?;
    Ok((account, running))
}

/// Logging out (and removing, which logs out first) tells WhatsApp even
/// when the account is not connected at that moment: it connects, asks
/// WhatsApp to remove the device, and only then deletes the keys, once the
/// client has let go of them.
#[tokio::test(start_paused = true)]
async fn a_logout_of_an_account_not_connected_connects_tells_whatsapp_and_then_forgets_the_keys()
-> TestResult {
    let server = TestServer::new();
    let (account, running) = linked(&server).await?;
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    let keys = blastdesk_core::data_dir::session_file(account._dir.path(), account.id);
    assert!(keys.exists(), "a stopped account keeps its keys");

    let told = tokio::time::timeout(STEP, account.session.logout()).await?;
    assert!(told, "WhatsApp was told");
    let asked: Vec<String> = server
        .stanzas()
        .into_iter()
        .filter(|s| {
            s.node
                .children()
                .is_some_and(|c| c.iter().any(|n| n.tag == "remove-companion-device"))
        })
        .map(|s| format!("{:?}", s.node.attrs))
        .collect();
    assert_eq!(asked.len(), 1, "one logout request: {asked:?}");
    assert!(!keys.exists(), "the keys are deleted");
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::LoggedOut { .. }
    ));
    Ok(())
}
