//! End-to-end tests of the progress part of the window (issue 14): the
//! stacked bar (a failure shows in the danger colour, receipts as delivered
//! and read), the countdown to the next message, the state line, correct
//! plurals, and the report with names, ticks, filters and "Send again"
//! through the app's own dialog; in English and in Bahasa Indonesia.

use std::ffi::OsString;
use std::sync::Arc;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, Sender};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::Control;
use blastdesk_core::pacing::Pacing;
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{Network, Session, SessionConfig, SessionEvent, Start};
use fantoccini::Locator;
use wa_test_server::{ReceiptKind, TestServer};

use crate::fixtures::one_message_every;
use crate::harness::{App, Result, bounded, step, wait_until};
use crate::support::{
    create_blast, indonesian_system, launch_on_the_server, now_ms, pin_whatsapp_version,
};

const PHONE: &str = "+6281234567890";
const CARD: &str = "[data-testid=blast-card]";

/// Dewi's message is refused by WhatsApp; Budi reads his, Sari's arrives.
const CUSTOMERS: [(&str, &str); 3] = [
    ("Dewi", "+6281311110001"),
    ("Budi", "+6281311110002"),
    ("Sari", "+6281311110003"),
];

fn recipients(customers: &[(&str, &str)]) -> Vec<Recipient> {
    customers
        .iter()
        .map(|(name, phone)| Recipient {
            phone: Phone::from_e164_unchecked((*phone).into()),
            fields: Fields::new(vec![
                (Arc::from("Nama"), (*name).into()),
                (Arc::from("Kota"), "Bandung".into()),
            ]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect()
}

/// One message every `seconds`, nothing else in the way: slow enough to
/// read the countdown between two messages.
fn every(seconds: u32) -> Pacing {
    Pacing {
        error_streak: 0,
        ..one_message_every(seconds)
    }
}

fn create(store: &Store, name: &str, sender: Sender, list: &[Recipient], at: i64) -> Result<i64> {
    create_blast(
        store,
        name,
        "Halo {Nama}, stok baru sudah datang",
        sender,
        list,
        at,
    )
}

/// Links `account` to the test server before the app starts (the window's
/// linking has its own tests): the app resumes it with the stored keys.
async fn link_before_launch(
    server: &TestServer,
    dir: &std::path::Path,
    store: &Store,
    account: i64,
) -> Result {
    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
    let session = Session::new(SessionConfig {
        account_id: account,
        data_dir: dir.to_path_buf(),
        store: store.clone(),
        control: Control::new(store.clone()),
        version: Some(blastdesk_whatsapp::version::PINNED),
        clock: Arc::new(SystemClock),
        notify: Arc::new(move |event: SessionEvent| {
            sender.send(event).ok();
        }),
        network: Network::custom(server.factory()).with_web(server.web()),
    });
    let running = tokio::spawn(session.run(Start::LinkWithQr));
    let linked = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(event) = events.recv().await {
            match event {
                SessionEvent::Qr { payload, .. } => {
                    server.scan(&payload, PHONE)?;
                }
                SessionEvent::Status {
                    status: AccountStatus::Connected,
                    ..
                } => return Ok(()),
                _ => {}
            }
        }
        Err::<(), crate::harness::Error>("the session ended before it connected".into())
    })
    .await;
    session.stop();
    if tokio::time::timeout(Duration::from_secs(20), running)
        .await
        .is_err()
    {
        return Err("the linking session did not stop".into());
    }
    linked.map_err(|_| "the account did not connect within a minute")??;
    Ok(())
}

/// The computed width of the first segment of `kind` and whether its colour
/// is the danger colour of the theme.
async fn segment(app: &App, card: &str, kind: &str) -> Result<(f64, String, String)> {
    let found = app
        .client
        .execute(
            "const [card, kind] = arguments;
             const segment = document.querySelector(`${card} [data-testid=segment][data-kind=${kind}]`);
             if (!segment) return null;
             const probe = document.createElement('span');
             probe.style.color = 'var(--danger)';
             document.body.append(probe);
             const danger = getComputedStyle(probe).color;
             probe.remove();
             const style = getComputedStyle(segment);
             return [segment.getBoundingClientRect().width, style.backgroundColor, danger];",
            vec![card.into(), kind.into()],
        )
        .await?;
    let width = found[0].as_f64().ok_or(format!("no {kind} segment"))?;
    let colour = found[1].as_str().unwrap_or_default().to_owned();
    let danger = found[2].as_str().unwrap_or_default().to_owned();
    Ok((width, colour, danger))
}

/// The texts of every element at `css`.
async fn texts(app: &App, css: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for element in app.client.find_all(Locator::Css(css)).await? {
        out.push(element.text().await?.trim().to_owned());
    }
    Ok(out)
}

/// "in 12 s" for 1 ≤ N ≤ `most`.
fn seconds_in(text: &str, before: &str, after: &str, most: u32) -> bool {
    text.strip_prefix(before)
        .and_then(|rest| rest.strip_suffix(after))
        .and_then(|n| n.parse::<u32>().ok())
        .is_some_and(|n| (1..=most).contains(&n))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_and_receipts_show_at_a_glance_and_the_failed_are_sent_again_from_the_report()
-> Result {
    bounded(through_the_test_server()).await
}

async fn through_the_test_server() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    for (_, phone) in CUSTOMERS {
        server.add_customer(phone)?;
    }
    let dir = tempfile::tempdir()?;
    step("a linked WhatsApp account with a blast to three customers, one message every 15 s");
    let blast = {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        pin_whatsapp_version(&store)?;
        let account = store.add_account("Toko Pusat", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        store.set_account_pacing(account, &every(15))?;
        link_before_launch(&server, dir.path(), &store, account).await?;
        server.nack_next_to(CUSTOMERS[0].1, 479)?;
        create(
            &store,
            "Stok baru",
            Sender::Account(account),
            &recipients(&CUSTOMERS),
            now_ms()?,
        )?
    };
    let app = launch_on_the_server(dir.path(), address).await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = format!("{CARD}[data-blast-id=\"{blast}\"]");

    step("Dewi's message is refused: the bar shows it in the danger colour at once");
    app.element(&format!("{card} [data-testid=segment][data-kind=failed]"))
        .await?;
    let (width, colour, danger) = segment(&app, &card, "failed").await?;
    assert!(width > 0.0, "the failed segment is {width}px wide");
    assert_eq!(colour, danger, "failed is drawn in the danger colour");
    app.wait_for_text(&format!("{card} [data-testid=count-failed]"), "1")
        .await?;
    let label = app
        .element(&format!("{card} [data-testid=progress-bar]"))
        .await?
        .attr("aria-label")
        .await?
        .unwrap_or_default();
    assert!(label.contains("1 failed"), "{label}");

    step("the countdown to the next message, and the state line");
    app.wait_for_text_that(
        &format!("{card} [data-testid=countdown]"),
        "a countdown in seconds",
        |t| seconds_in(t, "Next message in ", " s: a pause between messages.", 15),
    )
    .await?;
    app.wait_for_text_that(
        &format!("{card} [data-testid=state-line]"),
        "sending, one failed, with the finish",
        |t| {
            t.starts_with("Sending: ")
                && t.contains(" of 3 sent, 1 failed. Finishes about today ")
                && t.ends_with(" WIB.")
        },
    )
    .await?;
    app.element(&format!("{card} [data-testid=send-chart]"))
        .await?;
    app.screenshot_for_docs("progress-failure-en").await?;

    step("the others are sent; then Budi reads his and Sari's arrives");
    wait_until(Duration::from_secs(90), "the blast to complete", || {
        Store::open_in(dir.path())
            .and_then(|s| s.blast_summary(blast))
            .is_ok_and(|b| b.completed_at.is_some())
    })?;
    app.element(&format!("{card}[data-state=completed]"))
        .await?;
    let id_of = |phone: &str| -> Result<String> {
        Ok(server
            .received(phone)?
            .first()
            .ok_or(format!("{phone} received nothing"))?
            .message_id
            .clone())
    };
    assert!(
        server.received(CUSTOMERS[0].1)?.is_empty(),
        "Dewi's was refused"
    );
    server.receipt(&id_of(CUSTOMERS[1].1)?, ReceiptKind::Read)?;
    server.receipt(&id_of(CUSTOMERS[2].1)?, ReceiptKind::Delivered)?;
    wait_until(Duration::from_secs(20), "the receipts in the store", || {
        Store::open_in(dir.path())
            .and_then(|s| s.blast_summary(blast))
            .is_ok_and(|b| (b.receipts.delivered, b.receipts.read) == (2, 1))
    })?;
    // The finished blast's card reads the receipts again by itself.
    app.element(&format!("{card} [data-testid=segment][data-kind=read]"))
        .await?;
    for (kind, n) in [
        ("read", "1"),
        ("delivered", "1"),
        ("sent", "0"),
        ("failed", "1"),
        ("total", "3"),
    ] {
        app.wait_for_text(&format!("{card} [data-testid=count-{kind}]"), n)
            .await?;
    }
    for kind in ["read", "delivered", "failed"] {
        let (width, _, _) = segment(&app, &card, kind).await?;
        assert!(width > 0.0, "{kind} is {width}px wide");
    }
    app.wait_for_text_that(
        &format!("{card} [data-testid=state-line]"),
        "the finished state",
        |t| t.starts_with("Finished today ") && t.ends_with(" WIB: 2 of 3 sent, 1 failed."),
    )
    .await?;

    step("the report: names, ticks, the zone once, and the failed only");
    app.click(&format!("{card} [data-testid=report]")).await?;
    app.element("[data-testid=report] tbody tr").await?;
    assert_eq!(
        texts(&app, "[data-testid=report] [data-testid=customer-name]").await?,
        ["Dewi", "Budi", "Sari"]
    );
    assert_eq!(
        texts(&app, "[data-testid=report] [data-testid=tick] .tick-label").await?,
        ["Failed", "Read", "Delivered"]
    );
    assert_eq!(
        texts(&app, "[data-testid=report] [data-testid=tick] .tick").await?,
        ["!", "✓✓", "✓✓"]
    );
    let read_tick = app
        .client
        .execute(
            "const tick = document.querySelector('[data-testid=tick][data-outcome=read] .tick');
             const probe = document.createElement('span');
             probe.style.color = 'var(--tick-read)';
             document.body.append(probe);
             const blue = getComputedStyle(probe).color;
             probe.remove();
             return getComputedStyle(tick).color === blue;",
            vec![],
        )
        .await?;
    assert_eq!(
        read_tick,
        serde_json::json!(true),
        "a read message's ticks are blue"
    );
    app.wait_for_text("[data-testid=report-zone]", "Times in WIB.")
        .await?;
    let times = texts(&app, "[data-testid=report] td.time-cell").await?;
    assert!(
        times.iter().all(|t| !t.contains("WIB")),
        "no zone on the rows: {times:?}"
    );
    let headers = texts(&app, "[data-testid=report] th").await?;
    assert_eq!(
        headers,
        ["Customer", "Status", "Reason", "Sent at", "Message"]
    );
    app.click("[data-testid=report-filter][data-filter=failed]")
        .await?;
    app.element("[data-testid=report][data-filter=failed]")
        .await?;
    let outcomes = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=report] tbody tr')].map(r => r.dataset.outcome)",
            vec![],
        )
        .await?;
    assert_eq!(outcomes, serde_json::json!(["failed"]));
    app.wait_for_text(
        "[data-testid=report-filter][data-filter=failed]",
        "Failed (1)",
    )
    .await?;
    app.screenshot_for_docs("report-en").await?;

    step("send again from there: the dialog says what happens, then a new blast");
    app.click("[data-testid=report-resend]").await?;
    let said = app
        .text("[data-testid=dialog][data-kind=resend] [data-testid=dialog-text]")
        .await?;
    assert!(
        said.starts_with("A new blast goes to the 1 recipient whose message failed"),
        "{said}"
    );
    app.confirm_dialog("resend").await?;
    app.wait_for_text(
        "[data-testid=notice]",
        "Sending again to 1 recipient as a new blast.",
    )
    .await?;
    app.wait_for_text_that(&format!("{CARD} h2"), "the new blast", |t| {
        t == "Stok baru (again)"
    })
    .await?;
    let again = &Store::open_in(dir.path())?.list_blasts()?[0];
    assert_eq!(
        (again.name.as_str(), again.counts.total),
        ("Stok baru (again)", 1)
    );
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn one_message_and_two_messages_of_unknown_fate_are_worded_apart() -> Result {
    bounded(plurals()).await
}

async fn plurals() -> Result {
    let dir = tempfile::tempdir()?;
    step("two rehearsals that were sending when the app died: one and two messages in hand");
    let (one, two) = {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        let one = create(
            &store,
            "Promo 1",
            Sender::Rehearsal,
            &recipients(&CUSTOMERS),
            0,
        )?;
        let two = create(
            &store,
            "Promo 2",
            Sender::Rehearsal,
            &recipients(&CUSTOMERS),
            0,
        )?;
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute_batch(&format!(
            "UPDATE deliveries SET state = 'sending', attempts = 1
               WHERE id IN (SELECT id FROM deliveries WHERE blast_id = {one} ORDER BY id LIMIT 1);
             UPDATE deliveries SET state = 'sending', attempts = 1
               WHERE id IN (SELECT id FROM deliveries WHERE blast_id = {two} ORDER BY id LIMIT 2);"
        ))?;
        (one, two)
    };
    let app = App::launch(dir.path()).await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = |id: i64| format!("{CARD}[data-blast-id=\"{id}\"]");
    for id in [one, two] {
        app.element(&format!(
            "{}[data-state=paused] [data-testid=state-line][data-code=needs_decision]",
            card(id)
        ))
        .await?;
    }
    app.wait_for_text(
        &format!("{} [data-testid=state-line]", card(one)),
        "1 message may or may not have gone out when Blastdesk stopped: send it again, or leave it unsent.",
    )
    .await?;
    app.wait_for_text(
        &format!("{} [data-testid=state-line]", card(two)),
        "2 messages may or may not have gone out when Blastdesk stopped: send them again, or leave them unsent.",
    )
    .await?;
    app.wait_for_text(
        &format!("{} [data-testid=resend-unknown]", card(one)),
        "Send the 1 unknown one again",
    )
    .await?;
    app.wait_for_text(
        &format!("{} [data-testid=resend-unknown]", card(two)),
        "Send the 2 unknown ones again",
    )
    .await?;
    app.wait_for_text(&format!("{} [data-testid=count-unknown]", card(two)), "2")
        .await?;

    step("cancelling asks first: no keeps it, yes cancels it");
    app.click(&format!("{} [data-testid=cancel]", card(one)))
        .await?;
    app.click("[data-testid=dialog][data-kind=cancel-blast] [data-testid=dialog-cancel]")
        .await?;
    app.element(&format!("{}[data-state=paused]", card(one)))
        .await?;
    app.click(&format!("{} [data-testid=cancel]", card(one)))
        .await?;
    app.wait_for_text(
        "[data-testid=dialog][data-kind=cancel-blast] [data-testid=dialog-text]",
        "Cancel “Promo 1”? The 1 message not sent yet will not be sent.",
    )
    .await?;
    app.confirm_dialog("cancel-blast").await?;
    app.wait_for_text(
        &format!(
            "{}[data-state=cancelled] [data-testid=state-line]",
            card(one)
        ),
        "Cancelled: 2 of 3 sent.",
    )
    .await?;

    step("the report counts its recipients with the right noun");
    app.click(&format!("{} [data-testid=report]", card(two)))
        .await?;
    app.wait_for_text("[data-testid=report] .report-top p", "3 recipients")
        .await?;
    app.wait_for_text(
        "[data-testid=report-filter][data-filter=unknown]",
        "Unknown (2)",
    )
    .await?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_and_the_report_read_in_indonesian() -> Result {
    bounded(in_indonesian()).await
}

/// 2026-11-18 14:13 UTC: when the finished blast was made.
const CREATED: i64 = 1_795_010_000_000;

async fn in_indonesian() -> Result {
    let dir = tempfile::tempdir()?;
    step(
        "a rehearsal sending one message every 20 s, its first one failed; a finished blast with receipts",
    );
    let now = now_ms()?;
    let (sending, finished) = {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        let rehearsal = blast::rehearsal_account(&store, 0)?;
        store.set_account_pacing(rehearsal, &every(20))?;
        let toko = store.add_account("Toko", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        let finished = create(
            &store,
            "Promo Desember",
            Sender::Account(toko),
            &recipients(&CUSTOMERS),
            CREATED,
        )?;
        let more = [
            ("Dewi", "+6281311110001"),
            ("Budi", "+6281311110002"),
            ("Sari", "+6281311110003"),
            ("Eko", "+6281311110004"),
        ];
        let sending = create(
            &store,
            "Stok baru",
            Sender::Rehearsal,
            &recipients(&more),
            now,
        )?;
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute_batch(&format!(
            "UPDATE deliveries SET state = 'sent', attempts = 1, sent_at = {CREATED} + 60000, message_id = 'm' || id
               WHERE blast_id = {finished};
             UPDATE deliveries SET receipt = 'read', delivered_at = {CREATED} + 70000, read_at = {CREATED} + 80000
               WHERE blast_id = {finished} AND phone = '+6281311110002';
             UPDATE deliveries SET receipt = 'delivered', delivered_at = {CREATED} + 70000
               WHERE blast_id = {finished} AND phone = '+6281311110003';
             UPDATE deliveries SET state = 'failed', error_code = 'refused',
                    error_detail = 'WhatsApp refused the message (error 479)', sent_at = NULL, message_id = NULL,
                    updated_at = {CREATED} + 60000
               WHERE blast_id = {finished} AND phone = '+6281311110001';
             UPDATE blasts SET state = 'completed', started_at = {CREATED}, completed_at = {CREATED} + 600000
               WHERE id = {finished};
             UPDATE deliveries SET state = 'failed', attempts = 1, error_code = 'not_on_whatsapp',
                    error_detail = 'this number is not on WhatsApp', updated_at = {now}
               WHERE id = (SELECT min(id) FROM deliveries WHERE blast_id = {sending});"
        ))?;
        (sending, finished)
    };
    let mut env = indonesian_system();
    env.push(("BLASTDESK_NETWORK".into(), OsString::from("offline")));
    let app = App::launch_with(dir.path(), env).await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = format!("{CARD}[data-blast-id=\"{sending}\"]");

    step("the sending one: the failure, the countdown and the state line in Indonesian");
    let (width, colour, danger) = {
        app.element(&format!(
            "{card}[data-state=running] [data-testid=segment][data-kind=failed]"
        ))
        .await?;
        segment(&app, &card, "failed").await?
    };
    assert!(width > 0.0 && colour == danger, "{width} {colour} {danger}");
    let countdown = app
        .wait_for_text_that(
            &format!("{card} [data-testid=countdown]"),
            "a countdown in seconds",
            |t| t.starts_with("Pesan berikutnya ") && t.contains(" detik lagi: "),
        )
        .await?;
    let seconds = countdown
        .trim()
        .strip_prefix("Pesan berikutnya ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(
        seconds.is_some_and(|n| (1..=20).contains(&n)),
        "{countdown}"
    );
    app.wait_for_text_that(
        &format!("{card} [data-testid=state-line]"),
        "sending, one failed, with the finish",
        |t| {
            // The rehearsal account keeps the computer's zone.
            t.starts_with("Mengirim: ")
                && t.contains(" dari 4 terkirim, 1 gagal. Selesai sekitar hari ini ")
        },
    )
    .await?;
    let legend = texts(&app, &format!("{card} .legend-label")).await?;
    assert!(
        legend.iter().any(|l| l == "gagal") && legend.iter().any(|l| l == "menunggu"),
        "{legend:?}"
    );
    app.screenshot_for_docs("progress-failure-id").await?;

    step("the finished one's report: names, ticks, the zone once, the failed filter");
    let finished_card = format!("{CARD}[data-blast-id=\"{finished}\"]");
    app.click(&format!("{finished_card} [data-testid=report]"))
        .await?;
    app.element("[data-testid=report] tbody tr").await?;
    assert_eq!(
        texts(&app, "[data-testid=report] [data-testid=tick] .tick-label").await?,
        ["Gagal", "Dibaca", "Sampai"]
    );
    assert_eq!(
        texts(&app, "[data-testid=report] th").await?,
        ["Pelanggan", "Status", "Alasan", "Waktu kirim", "Pesan"]
    );
    app.wait_for_text("[data-testid=report-zone]", "Waktu dalam WIB.")
        .await?;
    app.wait_for_text(
        "[data-testid=report-filter][data-filter=failed]",
        "Gagal (1)",
    )
    .await?;
    app.wait_for_text_that(
        &format!("{finished_card} [data-testid=state-line]"),
        "finished, in Indonesian",
        |t| t.starts_with("Selesai ") && t.ends_with(": 2 dari 3 terkirim, 1 gagal."),
    )
    .await?;
    app.scroll_into_view("[data-testid=report]", "start")
        .await?;
    app.screenshot_for_docs("report-id").await?;
    app.click("[data-testid=report-filter][data-filter=failed]")
        .await?;
    app.element("[data-testid=report][data-filter=failed]")
        .await?;
    assert_eq!(
        texts(&app, "[data-testid=report] [data-testid=customer-name]").await?,
        ["Dewi"]
    );
    app.wait_for_text_that("[data-testid=report-resend]", "the action", |t| {
        t == "Kirim ulang"
    })
    .await?;
    app.close().await
}
