//! The first day of a new owner: the welcome, a rehearsal to the sample list
//! from first run to a completed simulated blast, in English and in Bahasa
//! Indonesia (chosen from the system's language); sending again the messages
//! of unknown fate after a crash; and backing up and restoring the database.

use std::ffi::OsString;
use std::str::FromStr;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::messenger::read_ledger;
use blastdesk_core::phone::{Country, Phone};
use blastdesk_core::reason::PauseCode;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::runs::BlastState;

use crate::harness::{App, Result, bounded, one_message_a_second, step, wait_until};
use crate::support::{create_blast, numbered_customers};

/// What each language says at the points the test checks.
struct Language {
    code: &'static str,
    /// The system locale the app is started in.
    env_lang: &'static str,
    welcome: &'static str,
    recipients: &'static str,
    review_from: &'static str,
    /// The sample message in this language.
    template: &'static str,
    /// How a refused number begins (the core's words, after their meaning).
    refusal: &'static str,
}

const ENGLISH: Language = Language {
    code: "en",
    env_lang: "en_GB.UTF-8",
    welcome: "Welcome to Blastdesk",
    recipients: "6 recipients (0 numbers on the do-not-contact list left out).",
    review_from: "the rehearsal account (nothing is sent to WhatsApp)",
    template: blastdesk_core::sample::TEMPLATE,
    refusal: "“12” is not a usable number: Too short to be a phone number.",
};

const INDONESIAN: Language = Language {
    code: "id",
    env_lang: "id_ID.UTF-8",
    welcome: "Selamat datang di Blastdesk",
    recipients: "6 penerima (0 nomor di daftar jangan dihubungi tidak diikutkan).",
    review_from: "akun uji coba (tidak ada yang dikirim ke WhatsApp)",
    template: blastdesk_core::sample::TEMPLATE_ID,
    refusal: "“12” bukan nomor yang bisa dipakai: Terlalu pendek untuk nomor HP.",
};

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_rehearsal_reaches_a_completed_blast_in_english() -> Result {
    bounded(first_run_rehearsal(&ENGLISH)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_rehearsal_reaches_a_completed_blast_in_indonesian() -> Result {
    bounded(first_run_rehearsal(&INDONESIAN)).await
}

async fn first_run_rehearsal(language: &Language) -> Result {
    let dir = tempfile::tempdir()?;
    let system = |key: &str| (key.to_owned(), OsString::from(language.env_lang));
    let app = App::launch_with(
        dir.path(),
        vec![
            system("LANG"),
            system("LC_ALL"),
            ("LANGUAGE".into(), OsString::from(language.code)),
        ],
    )
    .await?;
    let docs = |name: &str| format!("{name}-{}", language.code);

    step("the first run opens on the welcome, in the system's language");
    app.wait_for_text("main[data-screen=welcome] h1", language.welcome)
        .await?;
    let lang = app
        .client
        .execute("return document.documentElement.lang", vec![])
        .await?;
    assert_eq!(lang.as_str(), Some(language.code));
    app.screenshot_for_docs(&docs("welcome")).await?;

    step("start the rehearsal: the sample list and message are ready");
    app.click("[data-testid=start-rehearsal]").await?;
    app.wait_for_text("[data-testid=blast-recipients]", language.recipients)
        .await?;
    app.wait_for_text_that(
        "[data-testid=rendered]",
        "the first sample customer's message",
        |text| text.contains("Ayu") && text.contains("Bandung"),
    )
    .await?;
    app.wait_for_text("[data-testid=review-from]", language.review_from)
        .await?;
    let count = app.text("[data-testid=char-count]").await?;
    assert!(
        count.starts_with(&language.template.chars().count().to_string()),
        "{count}"
    );
    app.screenshot_for_docs(&docs("new-blast")).await?;
    app.client
        .execute(
            "document.querySelector('[data-testid=review]').scrollIntoView()",
            vec![],
        )
        .await?;
    app.screenshot_for_docs(&docs("new-blast-review")).await?;

    step("the welcome is done: New blast is open");
    let restarted = app.client.execute("return location.hash", vec![]).await?;
    assert_eq!(restarted.as_str(), Some("#/new-blast"));

    step("send now: the rehearsal completes and nothing went to WhatsApp");
    app.click("[data-testid=send-now]").await?;
    app.click("[data-testid=confirm-send]").await?;
    let card = "[data-testid=blast-card]";
    app.element(&format!("{card}[data-state=completed]"))
        .await?;
    app.wait_for_text(&format!("{card} [data-testid=count-sent]"), "6")
        .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    assert_eq!(ledger.len(), 6);
    assert!(
        ledger.iter().all(|entry| entry.text.ends_with(
            language
                .template
                .rsplit_once('!')
                .map_or("", |(_, rest)| rest)
        )),
        "every message is the sample's"
    );
    app.screenshot_for_docs(&docs("blasts")).await?;

    step("a refusal says what it means in the window's language");
    app.click("#nav a[data-screen=do-not-contact]").await?;
    app.type_into("[data-testid=dnc-numbers]", "12").await?;
    app.click("[data-testid=dnc-add]").await?;
    app.wait_for_text_that("[data-testid=notice]", "the refusal", |t| {
        t.starts_with(language.refusal)
    })
    .await?;

    step("the other main screens, for the documentation");
    for screen in [
        "accounts",
        "audiences",
        "schedules",
        "do-not-contact",
        "settings",
    ] {
        app.click(&format!("#nav a[data-screen={screen}]")).await?;
        app.element(&format!("main[data-screen={screen}] h1"))
            .await?;
        app.screenshot_for_docs(&docs(screen)).await?;
    }
    app.close().await
}

/// A blast "Promo" from `account` to `n` customers (+6281200000000, ...).
fn promo(store: &Store, account: i64, n: usize, simulated: bool, at: i64) -> Result<i64> {
    let blast = create_blast(
        store,
        "Promo",
        "Promo!",
        Sender::Account(account),
        &numbered_customers(n),
        at,
    )?;
    assert_eq!(
        store.blast_summary(blast)?.simulated,
        simulated,
        "the account's kind decides"
    );
    Ok(blast)
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_of_unknown_fate_after_a_crash_are_sent_again_on_request() -> Result {
    bounded(resend_unknown()).await
}

async fn resend_unknown() -> Result {
    let dir = tempfile::tempdir()?;
    step("a rehearsal blast that was sending its first message when the app died");
    let blast = {
        let store = Store::open_in(dir.path())?;
        let account =
            store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
        let blast = promo(&store, account, 3, true, 0)?;
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute(
            "UPDATE deliveries SET state = 'sending', attempts = 1
             WHERE id = (SELECT min(id) FROM deliveries WHERE blast_id = ?1)",
            [blast],
        )?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        blast
    };
    let app = App::launch(dir.path()).await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = format!("[data-testid=blast-card][data-blast-id=\"{blast}\"]");
    step("the other two are sent; the unknown one waits for the person");
    app.element(&format!("{card}[data-state=paused]")).await?;
    app.wait_for_text(&format!("{card} [data-testid=count-unknown]"), "1")
        .await?;
    app.wait_for_text(
        &format!("{card} [data-testid=resend-unknown]"),
        "Send the 1 unknown one again",
    )
    .await?;
    app.screenshot_for_docs("blast-unknown").await?;
    step("send it again: the blast completes, the unknown one sent once more");
    app.click(&format!("{card} [data-testid=resend-unknown]"))
        .await?;
    app.element(&format!("{card}[data-state=completed]"))
        .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    let mut phones: Vec<String> = ledger.iter().map(|e| e.phone.to_string()).collect();
    phones.sort();
    assert_eq!(
        phones,
        ["+6281200000000", "+6281200000001", "+6281200000002"]
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backup_restores_from_settings_and_a_foreign_file_is_refused() -> Result {
    bounded(backup_and_restore()).await
}

async fn backup_and_restore() -> Result {
    let dir = tempfile::tempdir()?;
    let files = tempfile::tempdir()?;
    let backup = files.path().join("Blastdesk backup.blastdesk");
    let foreign = files.path().join("holiday photos.blastdesk");
    std::fs::write(&foreign, b"not a database at all")?;
    Store::open_in(dir.path())?.set_setting_text("welcome_done", Some("yes"), 0)?;
    let country =
        |dir: &std::path::Path| -> Result<Country> { Ok(Store::open_in(dir)?.default_country()?) };

    step("a file that is not a backup is refused and changes nothing");
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&foreign))],
    )
    .await?;
    app.click("#nav a[data-screen=settings]").await?;
    app.click("[data-testid=restore]").await?;
    app.confirm_dialog("restore").await?;
    let refusal = app
        .wait_for_text_that("[data-testid=data-status]", "a refusal", |t| !t.is_empty())
        .await?;
    assert!(
        refusal.contains("is not a Blastdesk backup") && refusal.contains("Nothing was changed"),
        "{refusal}"
    );
    assert_eq!(country(dir.path())?.code(), "ID");
    app.close().await?;

    step("back up mid-blast, change a setting, restore while it sends: the setting is back");
    let blast = sending_rehearsal(dir.path())?;
    let sent = |dir: &std::path::Path| -> u64 {
        Store::open_in(dir)
            .and_then(|store| store.delivery_counts(blast))
            .map_or(0, |counts| counts.sent)
    };
    let app = App::launch_with(
        dir.path(),
        vec![
            ("BLASTDESK_SAVE_FILE".into(), OsString::from(&backup)),
            ("BLASTDESK_PICK_FILES".into(), OsString::from(&backup)),
        ],
    )
    .await?;
    app.click("#nav a[data-screen=settings]").await?;
    wait_until(Duration::from_secs(30), "two messages sent", || {
        sent(dir.path()) >= 2
    })?;
    app.click("[data-testid=backup]").await?;
    app.wait_for_text_that("[data-testid=data-status]", "the backup's path", |t| {
        t.starts_with("Backed up to")
    })
    .await?;
    assert!(backup.is_file());
    let in_backup = Store::open(&backup)?.delivery_counts(blast)?.sent;
    wait_until(Duration::from_secs(30), "two more messages sent", || {
        sent(dir.path()) >= in_backup + 2
    })?;
    app.element("[data-testid=default-country]")
        .await?
        .select_by_value("MY")
        .await?;
    app.wait_for_text_that("[data-testid=country-status]", "saved", |t| {
        t.contains("MY")
    })
    .await?;
    assert_eq!(country(dir.path())?.code(), "MY");
    app.click("[data-testid=restore]").await?;
    app.confirm_dialog("restore").await?;
    app.wait_for_text_that("[data-testid=data-status]", "restored", |t| {
        t.starts_with("Restored from")
    })
    .await?;
    assert_eq!(
        country(dir.path())?.code(),
        "ID",
        "the backup's setting is back"
    );
    // The workers stopped before the restore: every message that went out
    // is in the restored data (none of it "being sent"), and the blast waits
    // for the person, so no one gets it twice.
    let store = Store::open_in(dir.path())?;
    let summary = store.blast_summary(blast)?;
    assert_eq!(
        (summary.state, summary.pause_code),
        (BlastState::Paused, Some(PauseCode::Restored))
    );
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    let phones: std::collections::HashSet<&str> =
        ledger.iter().map(|entry| entry.phone.as_str()).collect();
    assert_eq!(phones.len(), ledger.len(), "no one got the message twice");
    let counts = summary.counts;
    assert!(counts.sent > in_backup, "{counts:?}");
    assert_eq!(
        (counts.sent, counts.sending, counts.unknown),
        (ledger.len() as u64, 0, 0)
    );
    Ok(())
}

/// A rehearsal blast of 40 customers, paced one message a second, that the
/// app starts sending at launch.
fn sending_rehearsal(dir: &std::path::Path) -> Result<i64> {
    let store = Store::open_in(dir)?;
    let account = blast::rehearsal_account(&store, 0)?;
    store.set_account_pacing(account, &one_message_a_second())?;
    let recipients: Vec<Recipient> = (0..40)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+6281300000{i:03}")),
            fields: Fields::new(vec![]),
            source: Source::Audience {
                audience: std::sync::Arc::from("Pelanggan"),
            },
        })
        .collect();
    let created = blast::create(
        &store,
        &NewBlast {
            name: "Sending during the restore",
            template: "Our new stock is in",
            sender: Sender::Rehearsal,
            recipients: &recipients,
            options: BlastOptions::default(),
            attach: None,
        },
        0,
    )?;
    Ok(created.blast_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn history_shows_receipts_and_sends_a_finished_blast_again_to_the_failed() -> Result {
    bounded(history()).await
}

/// 2026-11-18 14:13 UTC: when the finished blast was made.
const CREATED: i64 = 1_795_010_000_000;

async fn history() -> Result {
    let dir = tempfile::tempdir()?;
    step(
        "a finished blast from a WhatsApp account: three sent (two arrived, one read), one failed",
    );
    let blast = {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        let account = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        let blast = promo(&store, account, 4, false, CREATED)?;
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute_batch(&format!(
            "UPDATE deliveries SET state = 'sent', attempts = 1, sent_at = 1, message_id = 'm' || id
               WHERE blast_id = {blast};
             UPDATE deliveries SET receipt = 'delivered', delivered_at = 2
               WHERE blast_id = {blast} AND phone = '+6281200000000';
             UPDATE deliveries SET receipt = 'read', delivered_at = 2, read_at = 3
               WHERE blast_id = {blast} AND phone = '+6281200000001';
             UPDATE deliveries SET state = 'failed', error_code = 'rejected', receipt = NULL
               WHERE blast_id = {blast} AND phone = '+6281200000003';
             UPDATE blasts SET state = 'completed', started_at = {CREATED}, completed_at = {CREATED} + 600000
               WHERE id = {blast};"
        ))?;
        blast
    };
    // WhatsApp is never reached from a test.
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_NETWORK".into(), OsString::from("offline"))],
    )
    .await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = format!("[data-testid=blast-card][data-blast-id=\"{blast}\"]");
    // The bar's legend: one read, one delivered (not read), one sent
    // without a receipt, one failed.
    for (kind, n) in [
        ("read", "1"),
        ("delivered", "1"),
        ("sent", "1"),
        ("failed", "1"),
    ] {
        app.wait_for_text(&format!("{card} [data-testid=count-{kind}]"), n)
            .await?;
    }
    app.screenshot_for_docs("history").await?;

    step("send it again: one click, to the one that failed, as a new blast");
    app.wait_for_text(
        &format!("{card} [data-testid=resend]"),
        "Send again to 1 (failed or unknown)",
    )
    .await?;
    app.click(&format!("{card} [data-testid=resend]")).await?;
    app.confirm_dialog("resend").await?;
    app.wait_for_text(
        "[data-testid=notice]",
        "Sending again to 1 recipient as a new blast.",
    )
    .await?;
    app.wait_for_text_that("[data-testid=blast-card] h2", "the new blast", |t| {
        t == "Promo (again)"
    })
    .await?;
    let store = Store::open_in(dir.path())?;
    let again = &store.list_blasts()?[0];
    assert_eq!(
        (again.name.as_str(), again.counts.total),
        ("Promo (again)", 1)
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_that_cannot_be_opened_is_mended_from_a_backup_in_settings() -> Result {
    bounded(mend_from_backup()).await
}

async fn mend_from_backup() -> Result {
    let dir = tempfile::tempdir()?;
    let files = tempfile::tempdir()?;
    let backup = files.path().join("Blastdesk backup.blastdesk");
    {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        store.set_default_country(Country::from_str("MY")?, 0)?;
        store.backup_to(&backup)?;
    }
    let live = dir.path().join(blastdesk_core::store::FILE_NAME);
    let damaged = b"this file was overwritten by accident";
    std::fs::write(&live, damaged)?;

    step("the window says the database cannot be opened, and how to mend it");
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&backup))],
    )
    .await?;
    app.click("[data-testid=restore-hint]").await?;
    app.element("main[data-screen=settings]").await?;
    assert!(
        app.client
            .find(fantoccini::Locator::Css("[data-testid=backup]"))
            .await
            .is_err(),
        "nothing to back up without a database"
    );
    app.click("[data-testid=restore]").await?;
    app.confirm_dialog("restore").await?;
    app.wait_for_text_that("[data-testid=data-status]", "restored", |t| {
        t.starts_with("Restored from")
    })
    .await?;

    step("the backup is the database now; the damaged file is kept beside it");
    assert_eq!(Store::open_in(dir.path())?.default_country()?.code(), "MY");
    let kept: Vec<_> = std::fs::read_dir(dir.path())?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("blastdesk.sqlite3.replaced-")
        })
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(kept[0].path())?, damaged);
    Ok(())
}
