//! End-to-end tests of the editor part of the window (issue 14): New blast
//! as an editor beside a WhatsApp-style phone preview (formatting as
//! WhatsApp shows it, for one customer and the next, the attachment, columns
//! and variants put in by buttons and shown as chips), the sticky bar that
//! names the count and the number, the confirmation of a rehearsal and of a
//! real blast (through the WhatsApp test server), an error shown next to
//! the action that caused it, and scheduling in the same editor.

use std::ffi::OsString;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::pacing::Pacing;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::runs::BlastState;
use chrono::Timelike;
use wa_test_server::TestServer;

use crate::harness::{App, Result, bounded, step, wait_until};
use crate::support::{
    audience, launch_on_the_server, prepare_for_the_server, received, start_linking,
    wait_for_each_message,
};

/// The customers of the audience "Pelanggan": the last one has no name.
const CUSTOMERS: [(&str, &str); 3] = [
    ("Ani", "+6281200000001"),
    ("Budi", "+6281200000002"),
    ("", "+6281200000003"),
];

/// A data folder past the welcome with the audience and a rehearsal
/// account in Jakarta with `pacing`; optionally the window in Indonesian.
fn prepare(dir: &std::path::Path, pacing: &Pacing, indonesian: bool) -> Result {
    let store = Store::open_in(dir)?;
    store.set_setting_text("welcome_done", Some("yes"), 0)?;
    if indonesian {
        store.set_setting_text("ui_language", Some("id"), 0)?;
    }
    store.save_audience("Pelanggan", &audience(&CUSTOMERS), false, 0)?;
    let account = store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
    store.set_account_pacing(account, pacing)?;
    Ok(())
}

/// Opens New blast with the audience chosen, once its recipients are read.
async fn open_with_audience(app: &App) -> Result {
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-audiences] input[value=Pelanggan]")
        .await?;
    app.element("[data-testid=blast-recipients]").await?;
    app.element("#template").await?;
    Ok(())
}

/// What WhatsApp's formatting becomes in the preview, case by case.
const FORMATTING: &[(&str, &str)] = &[
    ("Hi *Ani*!", "Hi <strong>Ani</strong>!"),
    (
        "_miring_ dan ~coret~",
        "<em>miring</em> dan <del>coret</del>",
    ),
    (
        "*tebal _dan miring_*",
        "<strong>tebal <em>dan miring</em></strong>",
    ),
    (
        "```KODE *10*```",
        "<code class=\"wa-mono\">KODE *10*</code>",
    ),
    ("kode `PROMO`", "kode <code class=\"wa-code\">PROMO</code>"),
    // Markers must hug the text: these stay as typed.
    ("* bukan* dan *bukan *", "* bukan* dan *bukan *"),
    ("2*3*4 dan snake_case_name", "2*3*4 dan snake_case_name"),
    // No simple marker across lines.
    ("*satu\ndua*", "*satu\ndua*"),
    (
        "lihat https://toko.id/promo.",
        "lihat <span class=\"wa-link\">https://toko.id/promo</span>.",
    ),
    // Text from a spreadsheet is never markup.
    ("<b>Ani</b>", "&lt;b&gt;Ani&lt;/b&gt;"),
];

#[tokio::test(flavor = "multi_thread")]
async fn the_phone_preview_formats_each_customers_message_and_a_rehearsal_is_confirmed() -> Result {
    bounded(preview_and_rehearsal()).await
}

async fn preview_and_rehearsal() -> Result {
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), &crate::harness::one_message_a_second(), false)?;
    let files = tempfile::tempdir()?;
    let photo = files.path().join("promo.png");
    std::fs::write(&photo, include_bytes!("../../icons/32x32.png"))?;
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&photo))],
    )
    .await?;
    open_with_audience(&app).await?;

    step("the formatting parser, case by case, in the window");
    let cases: Vec<serde_json::Value> = FORMATTING
        .iter()
        .map(|(text, _)| serde_json::Value::from(*text))
        .collect();
    let shown = app
        .client
        .execute_async(
            "const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
             import('./components/phone-preview.js').then((m) => done(cases.map((text) => {
               const p = document.createElement('p');
               p.append(...m.formatted(text));
               return p.innerHTML;
             })), (e) => done([String(e)]));",
            vec![serde_json::Value::from(cases)],
        )
        .await?;
    let shown: Vec<String> = serde_json::from_value(shown)?;
    for ((text, expected), got) in FORMATTING.iter().zip(&shown) {
        assert_eq!(got, expected, "{text:?}");
    }
    assert_eq!(shown.len(), FORMATTING.len(), "{shown:?}");

    step("a column and variants by buttons, shown as chips");
    app.type_into("#template", "Halo ").await?;
    app.click("[data-placeholder=Nama]").await?;
    app.type_into("#template", "! *Promo* _hari ini_ ~mahal~ ```HEMAT10``` ")
        .await?;
    app.click("[data-testid=add-variant]").await?;
    let options = app
        .client
        .find_all(fantoccini::Locator::Css("[data-testid=variant-option]"))
        .await?;
    assert_eq!(options.len(), 2, "two variants to start with");
    options[0].send_keys("Salam").await?;
    options[1].send_keys("Terima kasih").await?;
    app.click("[data-testid=insert-variant]").await?;
    app.wait_for_text_that(
        "[data-testid=token][data-kind=variant]",
        "the variants chip",
        |t| t.contains("Salam / Terima kasih"),
    )
    .await?;
    let field = app.text("[data-testid=token][data-kind=field]").await?;
    assert!(field.contains("Nama"), "{field}");
    let template = app.element("#template").await?.prop("value").await?;
    assert_eq!(
        template.as_deref(),
        Some("Halo {Nama}! *Promo* _hari ini_ ~mahal~ ```HEMAT10``` {Salam|Terima kasih}")
    );

    step("the phone shows the first customer's message formatted, by name");
    app.wait_for_text_that("[data-testid=rendered]", "Ani's message", |t| {
        t.starts_with("Halo Ani! Promo hari ini mahal HEMAT10 ")
    })
    .await?;
    let formatted = |css: &'static str| app.text(css);
    assert_eq!(formatted("[data-testid=rendered] strong").await?, "Promo");
    assert_eq!(formatted("[data-testid=rendered] em").await?, "hari ini");
    assert_eq!(formatted("[data-testid=rendered] del").await?, "mahal");
    assert_eq!(formatted("[data-testid=rendered] code").await?, "HEMAT10");
    app.wait_for_text("[data-testid=preview-name]", "Ani")
        .await?;

    step("the next customer: another name, the same formatting");
    app.click("[data-testid=next-customer]").await?;
    app.wait_for_text("[data-testid=preview-name]", "Budi")
        .await?;
    app.wait_for_text_that("[data-testid=rendered]", "Budi's message", |t| {
        t.starts_with("Halo Budi! Promo")
    })
    .await?;
    assert_eq!(formatted("[data-testid=rendered] strong").await?, "Promo");
    app.wait_for_text("[data-testid=customer-position]", "Customer 2 of 3")
        .await?;

    step("a customer without a name: left out with its space, no “Halo !”");
    app.click("[data-testid=next-customer]").await?;
    app.wait_for_text_that("[data-testid=rendered]", "the nameless message", |t| {
        t.starts_with("Halo! Promo")
    })
    .await?;
    app.wait_for_text("[data-testid=preview-name]", CUSTOMERS[2].1)
        .await?;
    app.click("[data-testid=previous-customer]").await?;
    app.click("[data-testid=previous-customer]").await?;
    app.wait_for_text("[data-testid=preview-name]", "Ani")
        .await?;

    step("the photo shows in the phone above the caption");
    app.click("[data-testid=add-attachment]").await?;
    let thumbnail = app.element("[data-testid=preview-thumbnail]").await?;
    let src = thumbnail.attr("src").await?.unwrap_or_default();
    assert!(src.starts_with("data:image/png;base64,"), "{src:.40}");
    app.element("[data-testid=phone-preview][data-kind=rehearsal] [data-testid=preview-rehearsal]")
        .await?;
    show_phone(&app).await?;
    app.screenshot_for_docs("preview-en").await?;

    step("the sticky bar says what its button does, as a rehearsal");
    app.wait_for_text(
        "[data-testid=action-bar][data-kind=rehearsal] [data-testid=action-summary]",
        "Rehearse with 3 customers",
    )
    .await?;
    app.wait_for_text(
        "[data-testid=action-bar] [data-testid=bar-rehearsal]",
        "Rehearsal — nothing is sent",
    )
    .await?;

    step("an error shows next to the button that caused it");
    app.type_into("#template", " {Kota}").await?;
    app.click("[data-testid=send-now]").await?;
    app.click("[data-testid=send-confirmation] [data-testid=confirm-send]")
        .await?;
    let error = app
        .text("[data-testid=action-bar] [data-testid=send-error][role=alert]")
        .await?;
    assert!(error.contains("{Kota}"), "{error}");
    assert!(Store::open_in(dir.path())?.list_blasts()?.is_empty());

    step("the rehearsal, through its confirmation");
    app.replace_text(
        "#template",
        "Halo {Nama}! *Promo* _hari ini_ ~mahal~ ```HEMAT10``` {Salam|Terima kasih}",
    )
    .await?;
    app.wait_for_text_that("[data-testid=rendered]", "the message again", |t| {
        !t.contains("Kota")
    })
    .await?;
    assert!(
        app.client
            .find(fantoccini::Locator::Css("[data-testid=send-error]"))
            .await
            .is_err(),
        "the error went with the message that caused it"
    );
    app.click("[data-testid=send-now]").await?;
    app.element("[data-testid=send-confirmation][data-kind=rehearsal]")
        .await?;
    let said = app.text("[data-testid=confirmation-text]").await?;
    assert!(said.starts_with("3 recipients, made up"), "{said}");
    app.screenshot_for_docs("confirmation-en").await?;
    app.click("[data-testid=confirm-send]").await?;
    app.element("[data-testid=blast-card]").await?;
    let blasts = Store::open_in(dir.path())?.list_blasts()?;
    assert_eq!(blasts.len(), 1);
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_editor_in_indonesian_shows_the_rehearsal_and_24_hour_times() -> Result {
    bounded(indonesian_editor()).await
}

async fn indonesian_editor() -> Result {
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), &Pacing::default(), true)?;
    let app = App::launch(dir.path()).await?;
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-audiences] input[value=Pelanggan]")
        .await?;
    app.element("#template").await?;
    app.type_into("#template", "Halo ").await?;
    app.click("[data-placeholder=Nama]").await?;
    app.type_into("#template", ", *promo* _Desember_ sudah mulai!")
        .await?;
    app.wait_for_text_that("[data-testid=rendered]", "Ani's message", |t| {
        t.starts_with("Halo Ani, promo Desember")
    })
    .await?;
    app.wait_for_text(
        "[data-testid=preview-rehearsal]",
        "Uji coba — tidak ada yang dikirim",
    )
    .await?;
    app.wait_for_text("[data-testid=action-summary]", "Uji coba ke 3 pelanggan")
        .await?;
    show_phone(&app).await?;
    app.screenshot_for_docs("preview-id").await?;

    step("a schedule's time is written the Indonesian way, in WIB");
    app.click("[data-testid=when-schedule]").await?;
    let time = app
        .element("[data-testid=schedule-time]")
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b'.',
        "24-hour with a dot: {time:?}"
    );
    app.wait_for_text("[data-testid=schedule-zone-name]", "WIB")
        .await?;

    step("the rehearsal's confirmation, in Indonesian");
    app.click("[data-testid=when-now]").await?;
    app.click("[data-testid=send-now]").await?;
    app.element("[data-testid=send-confirmation][data-kind=rehearsal]")
        .await?;
    app.screenshot_for_docs("confirmation-id").await?;
    app.click("[data-testid=cancel-send]").await?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_blast_names_its_count_number_and_finish_before_it_goes() -> Result {
    bounded(real_blast()).await
}

async fn real_blast() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    let dir = tempfile::tempdir()?;
    let customers = [("Dewi", "+6281311110001"), ("Budi", "+6281311110002")];
    prepare_for_the_server(dir.path(), &customers)?;
    let app = launch_on_the_server(dir.path(), address).await?;
    for (_, phone) in customers {
        server.add_customer(phone)?;
    }

    step("link a number through the test server; the owner names it Toko Pusat");
    let payload = start_linking(&app).await?;
    server.scan(&payload, "+6281234567890")?;
    app.element("[data-testid=account-card][data-status=connected]")
        .await?;
    Store::open_in(dir.path())?.set_account_details(1, "Toko Pusat", "")?;
    Store::open_in(dir.path())?.set_account_pacing(
        1,
        &Pacing {
            enabled: false,
            ..Pacing::default()
        },
    )?;

    step("the bar names the count and the number; the confirmation the finish");
    open_with_audience(&app).await?;
    app.type_into("#template", "Halo ").await?;
    app.click("[data-placeholder=Nama]").await?;
    app.type_into("#template", ", *stok baru* sudah datang")
        .await?;
    app.wait_for_text(
        "[data-testid=action-bar][data-kind=real] [data-testid=action-summary]",
        "Send to 2 customers from Toko Pusat",
    )
    .await?;
    app.element("[data-testid=phone-preview][data-kind=real]")
        .await?;
    app.click("[data-testid=send-now]").await?;
    app.element("[data-testid=send-confirmation][data-kind=real]")
        .await?;
    let said = app.text("[data-testid=confirmation-text]").await?;
    assert!(
        said.starts_with(
            "To 2 recipients from Toko Pusat (+6281234567890), one by one; the last one about "
        ),
        "{said}"
    );
    assert!(
        said.ends_with("A message that went out cannot be taken back."),
        "{said}"
    );
    assert!(server.received(customers[0].1)?.is_empty(), "nothing yet");
    app.click("[data-testid=confirm-send]").await?;
    wait_for_each_message(&server, &customers)?;
    for (name, phone) in customers {
        // WhatsApp formats it on the phone: the markers go as written.
        assert_eq!(
            received(&server, phone),
            [format!("Halo {name}, *stok baru* sudah datang")]
        );
    }
    wait_until(Duration::from_secs(30), "the blast completed", || {
        Store::open_in(dir.path())
            .and_then(|s| s.list_blasts())
            .is_ok_and(|b| b.iter().any(|b| b.state == BlastState::Completed))
    })?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn scheduling_in_the_editor_defaults_to_a_free_slot_and_turns_start_at_login_on() -> Result {
    bounded(scheduling()).await
}

async fn scheduling() -> Result {
    let dir = tempfile::tempdir()?;
    // Sending hours 09:00-20:00 in Jakarta (the default pacing).
    prepare(dir.path(), &Pacing::default(), false)?;
    // The login items go under this home, not the developer's.
    let home = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![("HOME".into(), home.path().as_os_str().to_owned())],
    )
    .await?;
    open_with_audience(&app).await?;
    app.type_into("#template", "Halo {Nama}").await?;

    step("Schedule: once, at the next free time inside the sending hours");
    app.click("[data-testid=when-schedule]").await?;
    app.element("[data-testid=rule-fields][data-repeat=once]")
        .await?;
    let date = value(&app, "[data-testid=schedule-date]").await?;
    let time = value(&app, "[data-testid=schedule-time]").await?;
    let zone = blastdesk_core::zone::parse("Asia/Jakarta").ok_or("no Jakarta")?;
    let at = chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M")?;
    let now = chrono::Utc::now().with_timezone(&zone).naive_local();
    assert!(at > now, "{at} is after {now}");
    assert!((9..20).contains(&at.hour()), "{at} is inside 09:00-20:00");
    assert!(
        at - now <= chrono::Duration::hours(24),
        "{at} is the next slot after {now}"
    );
    app.wait_for_text("[data-testid=schedule-zone-name]", "WIB")
        .await?;
    app.wait_for_text_that("[data-testid=action-summary]", "the bar", |t| {
        t == "Schedule a rehearsal with 3 customers"
    })
    .await?;

    app.scroll_into_view("[data-testid=when]", "start").await?;
    app.screenshot("editor-schedule").await?;

    step("each repeat shows only the fields it needs");
    assert_eq!(shown_fields(&app, "daily").await?, ["schedule-time"]);
    assert_eq!(
        shown_fields(&app, "weekly").await?,
        ["schedule-weekdays", "schedule-time"]
    );
    assert_eq!(
        shown_fields(&app, "monthly").await?,
        ["schedule-day", "schedule-time"]
    );
    assert_eq!(
        shown_fields(&app, "once").await?,
        ["schedule-date", "schedule-time"]
    );

    step("a time in the past is refused next to the Schedule button");
    app.client
        .execute(
            "document.querySelector('[data-testid=schedule-date]').value = '2020-01-01';",
            vec![],
        )
        .await?;
    app.click("[data-testid=schedule-blast]").await?;
    app.element("[data-testid=action-bar] [data-testid=send-error][role=alert]")
        .await?;
    assert!(Store::open_in(dir.path())?.list_schedules()?.is_empty());

    step("the first schedule turns Start at login on, and says so");
    app.client
        .execute(
            "document.querySelector('[data-testid=schedule-date]').value = arguments[0];",
            vec![date.clone().into()],
        )
        .await?;
    app.click("[data-testid=schedule-blast]").await?;
    app.wait_for_text_that("[data-testid=login-notice]", "the notice", |t| {
        t.starts_with("Blastdesk now starts in the tray when you log in")
    })
    .await?;
    app.wait_for_text_that("[data-testid=schedule-rule]", "the rule in words", |t| {
        t.starts_with("Once, on ") && t.ends_with(&format!("at {time} WIB"))
    })
    .await?;
    let autostart = home.path().join(".config").join("autostart");
    assert_eq!(std::fs::read_dir(&autostart)?.count(), 1, "a login item");
    let schedules = Store::open_in(dir.path())?.list_schedules()?;
    assert_eq!(schedules.len(), 1);
    assert_eq!(schedules[0].spec.blast.template, "Halo {Nama}");
    app.close().await
}

/// The value of the field at `css`.
async fn value(app: &App, css: &str) -> Result<String> {
    Ok(app
        .element(css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

/// Chooses a repeat in the editor's schedule and lists the fields then shown.
async fn shown_fields(app: &App, repeat: &str) -> Result<Vec<String>> {
    app.element("[data-testid=schedule-repeat]")
        .await?
        .select_by_value(repeat)
        .await?;
    app.element(&format!("[data-testid=rule-fields][data-repeat={repeat}]"))
        .await?;
    let shown = app
        .client
        .execute(
            "return ['schedule-date', 'schedule-weekdays', 'schedule-day', 'schedule-time']
               .filter((id) => document.querySelector(`[data-testid=${id}]`))",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(shown)?)
}

/// Scrolls the phone preview to the top of the window (for a screenshot).
async fn show_phone(app: &App) -> Result {
    app.scroll_into_view("[data-testid=phone-preview]", "start")
        .await
}
