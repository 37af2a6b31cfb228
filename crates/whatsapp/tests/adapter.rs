//! Blastdesk's adapter (`Session`, the account machine, the store) driving
//! the real whatsapp-rust client against the fake WhatsApp server
//! (`wa-test-server`), in memory, on Tokio's paused clock: what the person
//! sees and what is recorded at each step of a link, and the account's
//! life after it.

use std::sync::Arc;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::Recipient;
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::reason::{DeliveryCode, PauseCode};
use blastdesk_core::report::Report;
use blastdesk_whatsapp::session::{SessionEvent, Start};
use blastdesk_whatsapp::version;
use wa_test_server::{Intent, ReceiptKind, TestServer};

mod support;
use support::{
    Account, PHONE, STEP, TestResult, account, account_at, connected, create_blast, deep_folder,
    linked, recipient, start_linking,
};

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
    account.status("connected", connected).await?;
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
        .statuses()
        .into_iter()
        .filter(AccountStatus::needs_attention)
        .map(|status| format!("{status:?}"))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");

    // Stopped and started again (the app restarts): it logs in with its
    // keys, without a QR code.
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    let again = tokio::spawn(account.session.run(Start::Resume));
    account.status("connected again", connected).await?;
    assert_eq!(server.connections().len(), 3);
    account.session.stop();
    tokio::time::timeout(STEP, again).await??;
    Ok(())
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
    let keys = account.keys();
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

/// A data folder deeper than Windows' `MAX_PATH` holds an account's keys:
/// the client links and logs in again with them, and a logout deletes
/// them.
#[tokio::test(start_paused = true)]
async fn keys_in_a_data_folder_deeper_than_max_path_link_resume_and_are_deleted() -> TestResult {
    let server = TestServer::new();
    let mut account = account_at(&server, Some(version::PINNED), server.web(), deep_folder)?;
    assert!(account.data.to_string_lossy().chars().count() > 260);
    let (running, qr) = start_linking(&mut account).await?;
    server.scan(&qr, PHONE)?;
    account.status("connected", connected).await?;
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    let keys = account.keys();
    assert!(keys.exists(), "the keys are at {}", keys.display());

    let again = tokio::spawn(account.session.run(Start::Resume));
    account.status("connected again", connected).await?;
    let intents: Vec<Option<Intent>> = server.connections().into_iter().map(|c| c.intent).collect();
    assert!(
        matches!(intents.last(), Some(Some(Intent::Login { .. }))),
        "logged in with the keys: {intents:?}"
    );
    let told = tokio::time::timeout(STEP, account.session.logout()).await?;
    assert!(told, "WhatsApp was told");
    tokio::time::timeout(STEP, again).await??;
    assert!(!keys.exists(), "the keys are deleted");
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
        .map(|i| recipient(&customer(i), &format!("Pelanggan {i}")))
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
    create_blast(account, "Stok baru", template, &recipients, attach)
}

/// Runs a blast through the engine and the account's session.
async fn send(account: &Account, blast: i64) -> TestResult<RunEnd> {
    let engine = Engine::new(
        account.store.clone(),
        Arc::clone(&account.session),
        account.clock,
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
    server.add_customer(&customer(5))?;
    let voice_blast = create_blast(
        &account,
        "Pesan suara",
        "Halo {nama}, dengarkan ini",
        &[recipient(&customer(5), "Dewi")],
        Some(&voice),
    )?;
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
    let stranger = recipient("+6281399999999", "Orang");
    let mixed = create_blast(&account, "Campur", "Halo {nama}", &[stranger], None)?;
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
    account.status("connected", connected).await?;
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
