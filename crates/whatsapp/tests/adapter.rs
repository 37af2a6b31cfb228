//! Blastdesk's adapter (`Session`, the account machine, the store) driving
//! the real whatsapp-rust client against the fake WhatsApp server
//! (`wa-test-server`), in memory, on Tokio's paused clock: what the person
//! sees and what is recorded at each step of a link, and the account's
//! life after it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::TokioClock;
use blastdesk_core::engine::{Control, Engine, RetryPolicy, RunEnd};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::{DeliveryCode, PauseCode};
use blastdesk_core::report::Report;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{Network, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::version;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use wa_test_server::{Intent, ReceiptKind, TestServer};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const PHONE: &str = "+6281234567890";
/// How long any one step may take, on the paused clock.
const STEP: Duration = Duration::from_secs(300);

/// The clock of the sessions and engines here: Tokio's, paused.
fn clock() -> TokioClock {
    TokioClock::starting_at(1_800_000_000_000)
}

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
        clock: Arc::new(clock()),
        notify: Arc::new(move |event: SessionEvent| {
            kept.lock().map(|mut t| t.push(event.clone())).ok();
            sender.send(event).ok();
        }),
        network: Network::custom(server.factory()).with_web(server.web()),
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

/// A customer's number.
fn customer(i: usize) -> String {
    format!("+62813000000{i:02}")
}

/// A blast from the account to `n` customers (each a customer of the
/// server), paced off, with `template` over a `nama` column.
fn blast_to(
    account: &Account,
    server: &TestServer,
    n: usize,
    template: &str,
    attach: Option<&std::path::Path>,
) -> TestResult<i64> {
    let recipients: Vec<Recipient> = (0..n)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(customer(i)),
            fields: Fields::new(vec![(Arc::from("nama"), format!("Pelanggan {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect();
    for i in 0..n {
        server.add_customer(&customer(i))?;
    }
    account.store.set_account_pacing(
        account.id,
        &Pacing {
            enabled: false,
            ..Pacing::default()
        },
    )?;
    let created = blast::create(
        &account.store,
        &NewBlast {
            name: "Stok baru",
            template,
            sender: Sender::Account(account.id),
            recipients: &recipients,
            options: BlastOptions::default(),
            attach,
        },
        1_800_000_000_000,
    )?;
    Ok(created.blast_id)
}

/// Runs a blast through the engine and the account's session.
async fn send(account: &Account, blast: i64) -> TestResult<RunEnd> {
    let engine = Engine::new(
        account.store.clone(),
        Arc::clone(&account.session),
        clock(),
        RetryPolicy::default(),
    );
    Ok(tokio::time::timeout(STEP, engine.run_blast(blast, &mut |_| {})).await??)
}

/// What a customer's phone received, as text (a caption for media).
fn texts(server: &TestServer, phone: &str) -> TestResult<Vec<String>> {
    Ok(server
        .received(phone)?
        .into_iter()
        .map(|r| {
            let m = r.message;
            m.conversation
                .clone()
                .or_else(|| m.image_message.as_option().and_then(|i| i.caption.clone()))
                .unwrap_or_else(|| {
                    if m.audio_message.is_set() {
                        "<audio>".into()
                    } else {
                        "<other>".into()
                    }
                })
        })
        .collect())
}

/// A blast sent through the real client: each customer's phone decrypts
/// exactly the message rendered for them, once; the message ids the server
/// saw are the ones recorded; the customers' receipts move their deliveries
/// to delivered and read.
#[tokio::test(start_paused = true)]
async fn a_blast_reaches_each_customer_once_as_rendered_and_receipts_are_recorded() -> TestResult {
    let server = TestServer::new();
    let (account, running) = linked(&server).await?;
    let blast = blast_to(
        &account,
        &server,
        3,
        "Halo {nama}, stok baru sudah datang!",
        None,
    )?;
    assert_eq!(send(&account, blast).await?, RunEnd::Completed);
    for i in 0..3 {
        assert_eq!(
            texts(&server, &customer(i))?,
            [format!("Halo Pelanggan {i}, stok baru sudah datang!")]
        );
    }
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    let report = Report::load(&account.store, blast)?;
    for row in &report.rows {
        let seen = server.received(&row.phone)?;
        assert_eq!(
            Some(seen[0].message_id.as_str()),
            row_message_id(&account.store, row.delivery_id)?.as_deref()
        );
    }

    let id = |i: usize| -> TestResult<String> {
        Ok(server.received(&customer(i))?[0].message_id.clone())
    };
    server.receipt(&id(0)?, ReceiptKind::Delivered)?;
    server.receipt(&id(1)?, ReceiptKind::Read)?;
    let outcomes = || -> TestResult<Vec<&'static str>> {
        let report = Report::load(&account.store, blast)?;
        let mut rows = report.rows;
        rows.sort_by(|a, b| a.phone.cmp(&b.phone));
        Ok(rows.into_iter().map(|r| r.outcome).collect())
    };
    tokio::time::timeout(STEP, async {
        while outcomes().ok().as_deref() != Some(&["delivered", "read", "sent"][..]) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await?;
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

fn row_message_id(store: &Store, delivery_id: i64) -> TestResult<Option<String>> {
    let db = rusqlite::Connection::open(
        store
            .data_dir()
            .ok_or("no folder")?
            .join(blastdesk_core::store::FILE_NAME),
    )?;
    Ok(db.query_row(
        "SELECT message_id FROM deliveries WHERE id = ?1",
        [delivery_id],
        |row| row.get(0),
    )?)
}

/// WhatsApp refusing messages, through the real client: a 479 (a
/// malformed stanza) fails that delivery as refused, and the next customer
/// is sent to; a 463 (the account may not message people who have not
/// written first) puts that message back and pauses the blast with its own
/// reason. Neither refused message is counted sent, and neither reached
/// the customer.
#[tokio::test(start_paused = true)]
async fn refused_messages_fail_or_pause_and_are_never_counted_sent() -> TestResult {
    let server = TestServer::new();
    let (account, running) = linked(&server).await?;
    let blast = blast_to(&account, &server, 4, "Halo {nama}", None)?;
    server.nack_next_to(&customer(1), 479)?;
    server.nack_next_to(&customer(2), 463)?;
    assert_eq!(
        send(&account, blast).await?,
        RunEnd::Paused {
            code: PauseCode::ReachOutRestricted
        }
    );
    let counts = account.store.delivery_counts(blast)?;
    assert_eq!(
        (counts.sent, counts.failed, counts.queued),
        (1, 1, 2),
        "{counts:?}"
    );
    let report = Report::load(&account.store, blast)?;
    let refused = report
        .rows
        .iter()
        .find(|r| r.phone == customer(1))
        .ok_or("no row")?;
    assert_eq!(
        (refused.outcome, refused.error_code),
        ("failed", Some(DeliveryCode::Refused))
    );
    let summary = account.store.blast_summary(blast)?;
    assert!(
        summary
            .pause_reason
            .as_deref()
            .is_some_and(|r| r.contains("463")),
        "{summary:?}"
    );
    for i in [1, 2] {
        assert!(texts(&server, &customer(i))?.is_empty(), "customer {i}");
    }
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// An attachment is uploaded once for the whole blast; every customer gets
/// the image with their own caption. Audio, which has no caption, comes
/// after the personalised text, as two messages.
#[tokio::test(start_paused = true)]
async fn a_media_blast_uploads_once_and_audio_comes_after_its_text() -> TestResult {
    let server = TestServer::new();
    let (account, running) = linked(&server).await?;
    let files = tempfile::tempdir()?;
    let image = files.path().join("promo.png");
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend((0..4096u32).map(|i| (i % 251) as u8));
    std::fs::write(&image, &png)?;
    let blast = blast_to(
        &account,
        &server,
        3,
        "Halo {nama}, lihat promo kami",
        Some(&image),
    )?;
    assert_eq!(send(&account, blast).await?, RunEnd::Completed);
    let uploads = server.uploads();
    assert_eq!(
        uploads.iter().map(|u| u.count).collect::<Vec<_>>(),
        [1],
        "one upload for three customers"
    );
    for i in 0..3 {
        assert_eq!(
            texts(&server, &customer(i))?,
            [format!("Halo Pelanggan {i}, lihat promo kami")]
        );
    }

    let voice = files.path().join("pesan.ogg");
    std::fs::write(&voice, b"OggS\0fake opus voice note")?;
    let recipients = [Recipient {
        phone: Phone::from_e164_unchecked(customer(5)),
        fields: Fields::new(vec![(Arc::from("nama"), "Dewi".into())]),
        source: Source::Audience {
            audience: Arc::from("Pelanggan"),
        },
    }];
    server.add_customer(&customer(5))?;
    let voice_blast = blast::create(
        &account.store,
        &NewBlast {
            name: "Pesan suara",
            template: "Halo {nama}, dengarkan ini",
            sender: Sender::Account(account.id),
            recipients: &recipients,
            options: BlastOptions::default(),
            attach: Some(&voice),
        },
        1_800_000_000_000,
    )?
    .blast_id;
    assert_eq!(send(&account, voice_blast).await?, RunEnd::Completed);
    assert_eq!(
        texts(&server, &customer(5))?,
        ["Halo Dewi, dengarkan ini", "<audio>"]
    );
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// A number with no device on WhatsApp: the library would take the message
/// and deliver it to no one, so it fails as not on WhatsApp and is never
/// counted sent; the customers around it are sent to.
#[tokio::test(start_paused = true)]
async fn a_number_without_whatsapp_fails_instead_of_being_sent_to_no_one() -> TestResult {
    let server = TestServer::new();
    let (account, running) = linked(&server).await?;
    let blast = blast_to(&account, &server, 2, "Halo {nama}", None)?;
    // A third recipient the server does not know.
    let stranger = Recipient {
        phone: Phone::from_e164_unchecked("+6281399999999".into()),
        fields: Fields::new(vec![(Arc::from("nama"), "Orang".into())]),
        source: Source::Audience {
            audience: Arc::from("Pelanggan"),
        },
    };
    let mixed = blast::create(
        &account.store,
        &NewBlast {
            name: "Campur",
            template: "Halo {nama}",
            sender: Sender::Account(account.id),
            recipients: &[stranger],
            options: BlastOptions::default(),
            attach: None,
        },
        1_800_000_000_000,
    )?
    .blast_id;
    assert_eq!(send(&account, blast).await?, RunEnd::Completed);
    assert_eq!(send(&account, mixed).await?, RunEnd::Completed);
    let counts = account.store.delivery_counts(mixed)?;
    assert_eq!((counts.sent, counts.failed), (0, 1), "{counts:?}");
    let row = Report::load(&account.store, mixed)?.rows.remove(0);
    assert_eq!(row.error_code, Some(DeliveryCode::NotOnWhatsapp));
    assert_eq!(account.store.delivery_counts(blast)?.sent, 2);
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// The code on screen while linking by pairing code.
async fn pair_code(account: &mut Account) -> TestResult<String> {
    account
        .wait_for("a pairing code", |event| match event {
            SessionEvent::Status {
                status: AccountStatus::AwaitingPairCode { code, .. },
                ..
            } => Some(code.clone()),
            _ => None,
        })
        .await
}

/// Linking by pairing code through Blastdesk's session: the code stays on
/// screen while the library rotates QR codes past their end (the attempt is
/// not ended at ~160 s while the code is valid for 180 s); WhatsApp's
/// request for a new code gets one, which the phone types; the account
/// connects, and the phone lists it as "Blastdesk", a desktop app.
#[tokio::test(start_paused = true)]
async fn a_pairing_code_survives_the_qr_rotation_and_a_refresh_and_links() -> TestResult {
    let server = TestServer::new();
    let mut account = account(&server)?;
    let running = tokio::spawn(account.session.run(Start::LinkWithCode {
        phone: PHONE.into(),
    }));
    let first = pair_code(&mut account).await?;
    // Past every QR code's end: the code is still what the window shows.
    tokio::time::sleep(Duration::from_secs(170)).await;
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::AwaitingPairCode { ref code, .. } if *code == first
    ));
    server.refresh_pair_code(PHONE, true)?;
    let second = pair_code(&mut account).await?;
    assert_ne!(first, second, "a new code");
    server.enter_code(&second, PHONE)?;
    account
        .status("connected", |s| *s == AccountStatus::Connected)
        .await?;
    assert_eq!(
        account.store.account(account.id)?.phone.as_deref(),
        Some(PHONE)
    );
    let registered = server
        .connections()
        .into_iter()
        .next()
        .ok_or("no connection")?;
    assert_eq!(
        (registered.device_os.as_deref(), registered.device_platform),
        (Some("Blastdesk"), Some(7)),
        "the phone lists a desktop app named Blastdesk"
    );
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}
