//! Blastdesk's adapter (`Session`, the account machine, the store) against
//! the fake WhatsApp server, on Tokio's paused clock: what an account's
//! life does at each way WhatsApp ends or refuses it (a lock, a temporary
//! ban, an outdated client, a rate limit), and opt-out replies from
//! customers addressed by LID.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::Recipient;
use blastdesk_core::clock::Clock;
use blastdesk_core::messenger::{Messenger, Outgoing};
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::PauseCode;
use blastdesk_core::store::runs::BlastState;
use blastdesk_whatsapp::session::SessionEvent;
use blastdesk_whatsapp::version;
use wa_test_server::{Addressing, Failure, Intent, StreamError, TestServer, WebClient};
use whatsapp_rust::http::{HttpClient, HttpRequest, HttpResponse};

mod support;
use support::{
    Account, PHONE, STEP, TestResult, account, connected, create_blast, linked, linked_with,
    recipient, start_linking,
};

const HOUR: Duration = Duration::from_secs(3_600);

/// A waiting blast of `account` to `phones`.
fn waiting_blast(account: &Account, phones: &[&str]) -> TestResult<i64> {
    let recipients: Vec<Recipient> = phones
        .iter()
        .map(|phone| recipient(phone, "Budi"))
        .collect();
    create_blast(account, "Promo", "Hi {nama}!", &recipients, None)
}

/// WhatsApp locks the number: the next login is refused with a 403 and
/// WhatsApp's words. The account is locked with those words, its waiting
/// blasts are paused for it, its keys are deleted, and nothing tries to
/// connect again (linking again cannot help until WhatsApp unlocks it).
#[tokio::test(start_paused = true)]
async fn a_locked_number_stops_for_good_pauses_its_blasts_and_forgets_its_keys() -> TestResult {
    let server = TestServer::new();
    let (mut account, running) = linked(&server).await?;
    let blast_id = waiting_blast(&account, &["+6281111111111"])?;
    assert!(account.keys().exists(), "a linked account has its keys");

    server.fail_next_login(Failure::Locked {
        header: "Your account has been locked".into(),
        subtext: "Request a review in WhatsApp".into(),
    });
    // WhatsApp restarts the stream; the next login meets the lock.
    server.stream_error(StreamError::Code(515))?;
    let message = account
        .status("locked", |s| match s {
            AccountStatus::Locked { message } => Some(message.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(
        message.as_deref(),
        Some("Your account has been locked Request a review in WhatsApp")
    );
    // The session ends by itself.
    tokio::time::timeout(STEP, running).await??;

    let stored = account.store.account(account.id)?;
    assert_eq!(stored.status, AccountStatus::Locked { message });
    let summary = account.store.blast_summary(blast_id)?;
    assert_eq!(
        (summary.state, summary.pause_code),
        (BlastState::Paused, Some(PauseCode::AccountLocked))
    );
    assert!(!account.keys().exists(), "the keys are deleted");

    let attempts = server.connections().len();
    tokio::time::sleep(HOUR).await;
    assert_eq!(
        server.connections().len(),
        attempts,
        "no attempt after the lock"
    );
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::Locked { .. }
    ));
    Ok(())
}

/// A temporary ban refuses the next login for an hour: the account is
/// banned until then, does not try to connect during the ban, and connects
/// by itself once it is over.
#[tokio::test(start_paused = true)]

async fn a_temporary_ban_waits_out_its_hour_and_then_connects_by_itself() -> TestResult {
    let server = TestServer::new();
    let (mut account, running) = linked(&server).await?;
    server.fail_next_login(Failure::TempBan {
        code: 101,
        expire_secs: 3_600,
    });
    server.stream_error(StreamError::Code(515))?;
    let (until_ms, reason_code) = account
        .status("temporarily banned", |s| match s {
            AccountStatus::TemporarilyBanned {
                until_ms,
                reason_code,
            } => Some((*until_ms, *reason_code)),
            _ => None,
        })
        .await?;
    let now = account.clock.now_ms();
    assert_eq!(reason_code, 101);
    assert!(
        (until_ms - (now + 3_600_000)).abs() <= 5_000,
        "banned until {until_ms}, an hour from {now} is {}",
        now + 3_600_000
    );
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::TemporarilyBanned { .. }
    ));

    let attempts = server.connections().len();
    tokio::time::sleep(Duration::from_secs(59 * 60)).await;
    assert_eq!(
        server.connections().len(),
        attempts,
        "no attempt during the ban; statuses: {:#?}; connections: {:#?}",
        account.statuses(),
        server.connections()
    );
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::TemporarilyBanned { .. }
    ));

    account.status("connected after the ban", connected).await?;
    assert!(
        account.clock.now_ms() >= until_ms,
        "connected at {}, before the ban's end {until_ms}",
        account.clock.now_ms()
    );
    assert_eq!(server.connections().len(), attempts + 1);
    assert_eq!(
        account.store.account(account.id)?.status,
        AccountStatus::Connected
    );
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

const SW_JS: &str = "https://web.whatsapp.com/sw.js";

/// The test server's web, and WhatsApp Web's `sw.js` naming the current
/// revision (2.3000.`revision`), which a test can change.
#[derive(Clone)]
struct WebWithVersion {
    server: WebClient,
    revision: Arc<AtomicU32>,
    fetches: Arc<AtomicUsize>,
}

#[whatsapp_rust::async_trait]
impl HttpClient for WebWithVersion {
    async fn execute(&self, request: HttpRequest) -> whatsapp_rust::anyhow::Result<HttpResponse> {
        if request.method == "GET" && request.url == SW_JS {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            let revision = self.revision.load(Ordering::SeqCst);
            let body = format!(
                "self.__swData = {{\"client_revision\":{revision},\"assets-manifest-{revision}\":1}};"
            );
            return Ok(HttpResponse {
                status_code: 200,
                body: body.into_bytes(),
            });
        }
        self.server.execute(request).await
    }
}

/// WhatsApp says the version is outdated: the adapter fetches WhatsApp
/// Web's current version and logs in again, once, with it; the account
/// ends connected, never "outdated".
#[tokio::test(start_paused = true)]

async fn an_outdated_version_is_replaced_by_the_current_one_and_the_account_reconnects()
-> TestResult {
    let older = version::PINNED.2;
    let newer = older + 1_000;
    // The sw.js body parses as the library reads it.
    assert_eq!(
        whatsapp_rust::version::parse_sw_js(&format!("{{\"client_revision\":{newer}}}")),
        Some((2, 3000, newer))
    );
    let server = TestServer::new();
    let web = WebWithVersion {
        server: server.web(),
        revision: Arc::new(AtomicU32::new(older)),
        fetches: Arc::new(AtomicUsize::new(0)),
    };
    let (mut account, running) = linked_with(&server, None, web.clone()).await?;
    let fetched_at_link = web.fetches.load(Ordering::SeqCst);
    assert!(
        fetched_at_link >= 1,
        "the library fetched the version itself"
    );

    // WhatsApp moves on: the announced version is now outdated.
    web.revision.store(newer, Ordering::SeqCst);
    server.fail_next_login(Failure::Outdated);
    let attempts = server.connections().len();
    server.stream_error(StreamError::Code(515))?;
    account.status("connected again", connected).await?;
    assert_eq!(
        account.store.account(account.id)?.status,
        AccountStatus::Connected
    );
    let statuses = account.statuses();
    assert!(
        !statuses.contains(&AccountStatus::Outdated),
        "{statuses:#?}"
    );
    let intents: Vec<Option<Intent>> = server.connections()[attempts..]
        .iter()
        .map(|c| c.intent.clone())
        .collect();
    let login = Some(Intent::Login {
        phone: PHONE.trim_start_matches('+').into(),
        device: 1,
    });
    assert_eq!(intents, [login.clone(), login], "one retry");
    assert!(
        web.fetches.load(Ordering::SeqCst) > fetched_at_link,
        "the adapter fetched the current version after \"outdated\"; statuses: {statuses:#?}"
    );

    // The test server does not record the version a login announces (it
    // is in the encrypted ClientPayload); the device's stored version,
    // which the library announces, is the fetched one.
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    let store = whatsapp_rust::store::SqliteStore::new(&account.keys().to_string_lossy()).await?;
    let device = whatsapp_rust::store::traits::DeviceStore::load(&store)
        .await?
        .ok_or("no device in the session store")?;
    assert_eq!(
        (
            device.app_version_primary,
            device.app_version_secondary,
            device.app_version_tertiary
        ),
        (2, 3000, newer)
    );
    Ok(())
}

const CUSTOMER: &str = "+6282222222222";
const CUSTOMER_LID: &str = "200000000000002";

/// Waits for the opt-out of `phone` and checks it is on the list.
async fn opted_out(account: &mut Account, phone: &str) -> TestResult {
    let word = account
        .wait_for("an opt-out", |event| match event {
            SessionEvent::OptOut {
                phone: who, word, ..
            } if who == phone => Some(word.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(word, "STOP");
    let list = account.store.do_not_contact()?;
    assert!(
        list.contains(&Phone::from_e164_unchecked(phone.to_owned())),
        "{list:?}"
    );
    Ok(())
}

/// A customer the account messaged (so the library learnt their LID from
/// WhatsApp's answer) replies "STOP" addressed by LID alone, with no phone
/// number beside it: the library's LID-to-number mapping names them, and
/// they land on the do-not-contact list.
#[tokio::test(start_paused = true)]
async fn a_stop_from_a_lid_without_its_number_lands_on_the_do_not_contact_list() -> TestResult {
    let server = TestServer::new();
    server.add_customer_with_lid(CUSTOMER, CUSTOMER_LID)?;
    let (mut account, running) = linked(&server).await?;
    let accepted = account
        .session
        .send(&Outgoing {
            blast_id: 1,
            delivery_id: 1,
            to: Phone::from_e164_unchecked(CUSTOMER.to_owned()),
            text: "Halo, ada promo!".into(),
            media: None,
        })
        .await?;
    let received: Vec<String> = server
        .received(CUSTOMER)?
        .into_iter()
        .map(|r| r.message_id)
        .collect();
    assert_eq!(received, [accepted.message_id]);

    server.reply_from_as(CUSTOMER, Addressing::Lid { with_phone: false }, "STOP")?;
    opted_out(&mut account, CUSTOMER).await?;
    assert_eq!(server.problems(), Vec::<String>::new());
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// A "STOP" addressed by LID with the phone number beside it: the number
/// is read from the message itself, without the account having written
/// first.
#[tokio::test(start_paused = true)]
async fn a_stop_from_a_lid_with_its_number_lands_on_the_do_not_contact_list() -> TestResult {
    let server = TestServer::new();
    server.add_customer_with_lid(CUSTOMER, CUSTOMER_LID)?;
    let (mut account, running) = linked(&server).await?;
    server.reply_from_as(CUSTOMER, Addressing::Lid { with_phone: true }, "STOP")?;
    opted_out(&mut account, CUSTOMER).await?;
    assert_eq!(server.problems(), Vec::<String>::new());
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// WhatsApp ends a connection for sending too much (stream error 429):
/// the account is disconnected with its next attempt after a wait, not at
/// once, and it reconnects by itself then.
#[tokio::test(start_paused = true)]
async fn a_rate_limited_connection_reconnects_by_itself_after_a_wait() -> TestResult {
    let server = TestServer::new();
    let (mut account, running) = linked(&server).await?;
    let attempts = server.connections().len();
    server.stream_error(StreamError::Code(429))?;
    let (next_attempt_at_ms, offline) = account
        .status("disconnected", |s| match s {
            AccountStatus::Disconnected {
                next_attempt_at_ms,
                offline,
                ..
            } => Some((*next_attempt_at_ms, *offline)),
            _ => None,
        })
        .await?;
    assert!(!offline, "WhatsApp was reached");
    let told_at = account.clock.now_ms();
    assert!(
        next_attempt_at_ms - told_at >= 900,
        "the next attempt at {next_attempt_at_ms} is {} ms after {told_at}",
        next_attempt_at_ms - told_at
    );
    assert_eq!(
        server.connections().len(),
        attempts,
        "no attempt right away"
    );
    assert!(matches!(
        account.store.account(account.id)?.status,
        AccountStatus::Disconnected { .. }
    ));

    account.status("connected again", connected).await?;
    assert!(account.clock.now_ms() >= next_attempt_at_ms);
    assert_eq!(server.connections().len(), attempts + 1);
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

/// After a 429 the wait is the library's own rate-limit penalty (its
/// backoff counter jumps by five: at least 8 s, less 10% jitter), which the
/// docs say the adapter follows ("with the library's own policy"), not the
/// 1 s of an ordinary first drop.
#[tokio::test(start_paused = true)]

async fn a_rate_limited_connection_waits_the_library_s_rate_limit_backoff() -> TestResult {
    let server = TestServer::new();
    let (mut account, running) = linked(&server).await?;
    server.stream_error(StreamError::Code(429))?;
    let clock = account.clock;
    let connections = server.connections().len();
    let next_attempt_at_ms = account
        .status("disconnected, slowed down", |s| match s {
            AccountStatus::Disconnected {
                next_attempt_at_ms,
                reason,
                ..
            } if reason.contains("slow down") => Some(*next_attempt_at_ms),
            _ => None,
        })
        .await?;
    let wait = next_attempt_at_ms - clock.now_ms();
    assert!(wait >= 7_200, "waits {wait} ms after a rate limit");
    tokio::time::sleep(Duration::from_millis(5_000)).await;
    assert_eq!(
        server.connections().len(),
        connections,
        "no attempt before the wait ends"
    );
    account.session.stop();
    tokio::time::timeout(STEP, running).await??;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_profile_name_set_on_the_phone_is_told_after_linking() -> TestResult {
    let server = TestServer::new();
    server.set_profile_name(PHONE, "Toko Maju")?;
    let mut account = account(&server)?;
    let (running, qr) = start_linking(&mut account).await?;
    server.scan(&qr, PHONE)?;
    let name = account
        .wait_for("the profile name", |event| match event {
            SessionEvent::ProfileName { name, .. } => Some(name.clone()),
            _ => None,
        })
        .await?;
    assert_eq!(name, "Toko Maju");
    account.status("connected", connected).await?;
    account.session.stop();
    running.await?;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_link_given_up_stops_the_client_forgets_its_keys_and_is_unlinked() -> TestResult {
    let server = TestServer::new();
    let mut account = account(&server)?;
    let (running, qr) = start_linking(&mut account).await?;
    account.session.cancel_link();
    account
        .status("unlinked", |s| {
            (*s == AccountStatus::Unlinked).then_some(())
        })
        .await?;
    tokio::time::timeout(STEP, running).await??;
    assert_eq!(
        account.store.account(account.id)?.status,
        AccountStatus::Unlinked
    );
    assert!(!account.keys().exists(), "the unfinished keys are gone");
    // The code shown before is no longer good for anything.
    assert!(
        server.scan(&qr, PHONE).is_err(),
        "a closed attempt cannot be scanned"
    );
    Ok(())
}
