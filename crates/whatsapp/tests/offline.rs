//! The real whatsapp-rust client on a network that reaches nothing (as a
//! computer offline): the session reports "cannot reach WhatsApp" with the
//! time of the next attempt, records it, and stops cleanly. Nothing here
//! touches the network: the transport (`session::Offline`) fails before any
//! connection, as name resolution does on a computer without a network.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::clock::{Clock, SystemClock};
use blastdesk_core::engine::Control;
use blastdesk_core::messenger::{Messenger, Outgoing, SendError};
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::PauseCode;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{Network, Offline, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::version;

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A session of `account` whose client reaches nothing, telling `notify`.
fn offline_session(
    store: &Store,
    dir: &std::path::Path,
    account: i64,
    notify: impl Fn(SessionEvent) + Send + Sync + 'static,
) -> Arc<Session> {
    Session::new(SessionConfig {
        account_id: account,
        data_dir: dir.to_path_buf(),
        store: store.clone(),
        control: Control::new(store.clone()),
        version: Some(version::PINNED),
        clock: Arc::new(SystemClock),
        notify: Arc::new(notify),
        network: Network::custom(Offline),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_the_session_says_it_cannot_reach_whatsapp_and_when_it_retries() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let (tx, mut statuses) = tokio::sync::mpsc::unbounded_channel();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let session = offline_session(&store, dir.path(), account, move |event: SessionEvent| {
        seen.lock().map(|mut e| e.push(event.clone())).ok();
        if let SessionEvent::Status { status, .. } = event {
            tx.send(status).ok();
        }
    });
    let running = tokio::spawn(session.run(Start::LinkWithQr));
    let before = SystemClock.now_ms();
    // Wait for the statuses the session reports (bounded: it must never hang).
    let offline = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(status) = statuses.recv().await {
            if let AccountStatus::Disconnected { .. } = status {
                return Some(status);
            }
        }
        None
    })
    .await?;
    let Some(AccountStatus::Disconnected {
        reason,
        next_attempt_at_ms,
        offline,
    }) = offline
    else {
        return Err("no disconnected status".into());
    };
    assert_eq!(reason, "cannot reach WhatsApp");
    assert!(offline);
    assert!(next_attempt_at_ms > before, "a retry time in the future");
    // The store says so too, for the window and `account list`.
    let stored = store.account(account)?.status;
    assert!(
        matches!(stored, AccountStatus::Disconnected { offline: true, .. }),
        "{stored:?}"
    );

    // Sending meanwhile is an account-level "not connected", never a hang.
    let message = Outgoing {
        blast_id: 1,
        delivery_id: 1,
        to: Phone::from_e164_unchecked("+6281234567890".into()),
        text: "Halo".into(),
        media: None,
    };
    let sent = tokio::time::timeout(Duration::from_secs(5), session.send(&message)).await?;
    assert_eq!(
        sent.err().map(|e| e.code()),
        Some(
            SendError::Account {
                problem: blastdesk_core::messenger::AccountProblem::NotConnected
            }
            .code()
        )
    );

    // Logging out offline still ends the session: keys deleted, blasts paused.
    let session_file = blastdesk_core::data_dir::session_file(dir.path(), account);
    assert!(session_file.exists(), "the client made its session store");
    let blast = waiting_blast(&store, account)?;
    session.logout().await;
    tokio::time::timeout(Duration::from_secs(30), running).await??;
    assert_eq!(
        store.account(account)?.status,
        AccountStatus::LoggedOut {
            by: blastdesk_core::account::LogoutBy::You
        }
    );
    assert!(!session_file.exists(), "the keys are gone");
    let blast = store.blast_summary(blast)?;
    assert_eq!(
        (
            blast.state.as_str(),
            blast.pause_code.map(PauseCode::as_str)
        ),
        ("paused", Some("logged_out"))
    );
    let first: Vec<String> = events
        .lock()
        .map(|e| {
            e.iter()
                .map(|ev| match ev {
                    SessionEvent::Status { status, .. } => status.code().to_owned(),
                    SessionEvent::Qr { .. } => "qr".into(),
                    SessionEvent::OptOut { .. } => "opt_out".into(),
                    SessionEvent::ProfileName { .. } => "profile_name".into(),
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(first.first().map(String::as_str), Some("connecting"));
    Ok(())
}

/// A blast of one recipient, waiting to be sent from `account`.
fn waiting_blast(store: &Store, account: i64) -> Result<i64, Box<dyn std::error::Error>> {
    use blastdesk_core::audience::{Fields, Recipient, Source};
    let recipients = [Recipient {
        phone: Phone::from_e164_unchecked("+6281234567890".into()),
        fields: Fields::default(),
        source: Source::Audience {
            audience: Arc::from("Regulars"),
        },
    }];
    use blastdesk_core::blast::{self, NewBlast, Sender};
    Ok(blast::create(
        store,
        &NewBlast {
            name: "Promo",
            template: "Halo",
            sender: Sender::Account(account),
            recipients: &recipients,
            options: Default::default(),
            attach: None,
        },
        0,
    )?
    .blast_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opt_out_reply_reaches_the_do_not_contact_list_and_is_told_once() -> TestResult {
    use blastdesk_whatsapp::signals::Reply;
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let session = offline_session(&store, dir.path(), account, move |event| {
        seen.lock().map(|mut e| e.push(event)).ok();
    });
    let reply = |phone: &str, text: &str| Reply {
        phone: phone.to_owned(),
        text: text.to_owned(),
    };
    session.on_replies(vec![
        reply("+6281200000001", "BERHENTI"),
        reply("+6281200000002", "berhenti kirim promo ya"),
        // The same customer again: already on the list, not told twice.
        reply("+6281200000001", "stop"),
    ]);
    let listed = store.do_not_contact_entries()?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].phone.as_str(),
            listed[0].reason.as_str(),
            listed[0].note.as_deref()
        ),
        (
            "+6281200000001",
            "opt_out_reply",
            Some("Replied \"BERHENTI\"")
        )
    );
    let told: Vec<(String, String)> = events
        .lock()
        .map(|e| {
            e.iter()
                .filter_map(|event| match event {
                    SessionEvent::OptOut { phone, word, .. } => Some((phone.clone(), word.clone())),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(told, [("+6281200000001".to_owned(), "BERHENTI".to_owned())]);
    Ok(())
}

/// Counts the connections the client tries; each fails as offline.
#[derive(Clone, Default)]
struct Counting(Arc<std::sync::atomic::AtomicUsize>);

#[whatsapp_rust::async_trait]
impl whatsapp_rust::transport::TransportFactory for Counting {
    async fn create_transport(
        &self,
    ) -> Result<
        (
            Arc<dyn whatsapp_rust::transport::Transport>,
            whatsapp_rust::async_channel::Receiver<whatsapp_rust::transport::TransportEvent>,
        ),
        whatsapp_rust::anyhow::Error,
    > {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(whatsapp_rust::anyhow::anyhow!("no network"))
    }
}

/// An account started while WhatsApp's temporary ban lasts does not knock
/// on the door before the ban ends (that would only be refused, and looks
/// like a client ignoring the ban); when it ends, it connects by itself.
#[tokio::test(start_paused = true)]
async fn an_account_started_during_a_ban_connects_only_when_the_ban_ends() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let clock = blastdesk_core::clock::TokioClock::starting_at(1_800_000_000_000);
    let hour: i64 = 3_600_000;
    store.set_account_status(
        account,
        &AccountStatus::TemporarilyBanned {
            until_ms: clock.now_ms() + hour,
            reason_code: 101,
        },
    )?;
    let attempts = Counting::default();
    let session = Session::new(SessionConfig {
        account_id: account,
        data_dir: dir.path().to_path_buf(),
        store: store.clone(),
        control: Control::new(store.clone()),
        version: Some(version::PINNED),
        clock: Arc::new(clock),
        notify: Arc::new(|_| {}),
        network: Network::custom(attempts.clone()),
    });
    let running = tokio::spawn(session.run(Start::Resume));
    let count = || attempts.0.load(std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(59 * 60_000)).await;
    assert_eq!(count(), 0, "no connection during the ban");
    assert!(matches!(
        store.account(account)?.status,
        AccountStatus::TemporarilyBanned { .. }
    ));
    tokio::time::sleep(Duration::from_millis(2 * 60_000)).await;
    assert!(count() >= 1, "it connects once the ban is over");
    session.stop();
    tokio::time::timeout(Duration::from_secs(30), running).await??;
    Ok(())
}

/// Removing an account (the window's "Remove", for one being linked): its
/// session stops and lets go of the session store, and then the keys can be
/// deleted; on Windows a file still open would be refused.
#[tokio::test(flavor = "multi_thread")]
async fn a_stopped_session_lets_go_of_its_keys_so_a_removal_deletes_them() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
    let (tx, mut statuses) = tokio::sync::mpsc::unbounded_channel();
    let session = offline_session(&store, dir.path(), account, move |event: SessionEvent| {
        if let SessionEvent::Status { status, .. } = event {
            tx.send(status).ok();
        }
    });
    let running = tokio::spawn(Arc::clone(&session).run(Start::LinkWithQr));
    // Once it tried (and failed) to reach WhatsApp, the store exists.
    tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(status) = statuses.recv().await {
            if matches!(status, AccountStatus::Disconnected { .. }) {
                break;
            }
        }
    })
    .await?;
    let session_file = blastdesk_core::data_dir::session_file(dir.path(), account);
    assert!(session_file.exists(), "the client made its session store");
    session.stop();
    session.released().await;
    tokio::time::timeout(Duration::from_secs(30), running).await??;
    assert!(
        blastdesk_core::data_dir::forget_session(dir.path(), account)?,
        "there were keys to delete"
    );
    assert!(!session_file.exists(), "the keys are gone");
    Ok(())
}
