//! End-to-end tests of the linking part of the window (issue 14): linking
//! like WhatsApp Desktop, through the real whatsapp-rust client against the
//! fake WhatsApp server (`wa-test-server`) on the loopback address. One
//! click shows a large QR code at once (no name asked), with the phone's
//! steps beside it, in view at 100% and 150%; the code can be a pairing
//! code instead; success says what to do next and suggests the WhatsApp
//! profile name; the sidebar always shows each number's state.

use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::store::AccountKind;
use wa_test_server::{StreamError, TestServer};

use crate::harness::{App, Result, bounded, step, wait_until};
use crate::support::{launch_on_the_server, pin_whatsapp_version, qr_payload};

const PHONE: &str = "+6281234567890";

/// A data folder past the welcome, with the rehearsal account and a pinned
/// WhatsApp Web version (nothing is fetched); `language`: the window's.
fn prepare(dir: &std::path::Path, language: Option<&str>) -> Result {
    let store = Store::open_in(dir)?;
    store.set_setting_text("welcome_done", Some("yes"), 0)?;
    store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
    pin_whatsapp_version(&store)?;
    if let Some(language) = language {
        store.set_setting_text("ui_language", Some(language), 0)?;
    }
    Ok(())
}

/// Where each part of the link panel is at the current zoom: inside the
/// screen's frame (which is the window's height: the sidebar and the screen
/// fill it), so seen without scrolling; boxes and the frame are measured in
/// the same units whatever the zoom. And the QR code's size.
const IN_VIEW: &str = r#"
const parts = ["[data-testid=qr]", "[data-testid=link-steps]", "[data-testid=link-by-phone]", "[data-testid=cancel-link]"];
const main = document.getElementById("screen");
const frame = main.getBoundingClientRect();
const out = { problems: [], qrWidth: 0, scrolled: main.scrollTop + (document.scrollingElement?.scrollTop ?? 0) };
if (document.documentElement.scrollHeight > document.documentElement.clientHeight + 1) out.problems.push("the window scrolls");
for (const css of parts) {
  const el = document.querySelector(css);
  if (!el) { out.problems.push(`${css}: missing`); continue; }
  const box = el.getBoundingClientRect();
  if (box.bottom > frame.bottom + 0.5 || box.right > frame.right + 0.5 || box.top < frame.top || box.left < frame.left) {
    out.problems.push(`${css}: ${JSON.stringify(box)} outside ${JSON.stringify(frame)}`);
  }
  if (css === "[data-testid=qr]") out.qrWidth = box.width;
}
return out;
"#;

async fn assert_in_view(app: &App, zoom: &str) -> Result {
    app.client
        .execute(
            "document.documentElement.style.zoom = arguments[0]",
            vec![zoom.into()],
        )
        .await?;
    // Measured in one step: the code may be redrawn as it rotates.
    app.element("[data-testid=qr]").await?;
    let seen = app.client.execute(IN_VIEW, vec![]).await?;
    app.screenshot(&format!("linking-zoom-{zoom}")).await?;
    let problems: Vec<String> = serde_json::from_value(seen["problems"].clone())?;
    assert!(problems.is_empty(), "at {zoom}: {problems:#?}");
    assert_eq!(seen["scrolled"].as_f64(), Some(0.0), "at {zoom}: scrolled");
    let width = seen["qrWidth"].as_f64().unwrap_or_default();
    assert!(width >= 239.0, "at {zoom}: the QR code is {width}px wide");
    Ok(())
}

/// The sidebar's entry for the first WhatsApp number, once it says `label`.
async fn sidebar_says(app: &App, status: &str, label: &str) -> Result {
    let entry = format!("#account-states [data-testid=sidebar-account][data-status={status}]");
    app.wait_for_text(&format!("{entry} .account-state-label"), label)
        .await?;
    // Read in one step: the list is redrawn as statuses arrive.
    let href = app
        .client
        .execute(
            "return document.querySelector(arguments[0])?.getAttribute('href') ?? ''",
            vec![entry.clone().into()],
        )
        .await?;
    assert_eq!(href.as_str(), Some("#/accounts"), "{entry}");
    Ok(())
}

fn account_status(dir: &std::path::Path) -> Option<AccountStatus> {
    let store = Store::open_in(dir).ok()?;
    store
        .list_accounts()
        .ok()?
        .into_iter()
        .find(|a| a.kind == AccountKind::Whatsapp)
        .map(|a| a.status)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_click_shows_a_large_qr_code_beside_the_steps_and_success_says_what_to_do_next()
-> Result {
    bounded(link_by_qr()).await
}

async fn link_by_qr() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), Some("en"))?;
    let app = launch_on_the_server(dir.path(), address).await?;

    step("no number yet: the hero with its one action; the rehearsal is not an unlinked account");
    app.click("#nav a[data-screen=accounts]").await?;
    app.element("[data-testid=empty-state] [data-testid=link-whatsapp]")
        .await?;
    app.element("[data-testid=rehearsal-note]").await?;
    let main = app.text("main").await?;
    assert!(!main.contains("Not linked"), "{main}");
    assert!(
        app.client
            .find_all(fantoccini::Locator::Css("[data-testid=account-card]"))
            .await?
            .is_empty(),
        "the rehearsal is no account card"
    );
    sidebar_says_none(&app).await?;
    app.screenshot_for_docs("accounts-empty-en").await?;

    step("one click, no name: the QR code at once, with the steps, no countdown");
    app.click("[data-testid=link-whatsapp]").await?;
    let payload = qr_payload(&app).await?;
    app.element("[data-testid=link-panel][data-mode=qr] [data-testid=link-steps]")
        .await?;
    let steps = app.text("[data-testid=link-steps]").await?;
    for words in [
        "Open WhatsApp",
        "Linked devices",
        "Link a device",
        "Point your phone",
    ] {
        assert!(steps.contains(words), "{steps}");
    }
    let panel = app.text("[data-testid=link-panel]").await?;
    assert!(
        !panel.contains("changes in"),
        "no ticking countdown: {panel}"
    );
    sidebar_says(&app, "awaiting_qr", "Linking…").await?;
    let store = Store::open_in(dir.path())?;
    let named: Vec<String> = store
        .list_accounts()?
        .into_iter()
        .filter(|a| a.kind == AccountKind::Whatsapp)
        .map(|a| a.name)
        .collect();
    assert_eq!(named, ["WhatsApp 1"], "named by default");

    step("the code and the steps are in view at 100% and at 150%");
    assert_in_view(&app, "1.5").await?;
    assert_in_view(&app, "1").await?;
    app.screenshot_for_docs("linking-qr-en").await?;

    step("Cancel leaves no dead end: the card offers Link again, which shows a code at once");
    app.click("[data-testid=cancel-link]").await?;
    app.element("[data-testid=account-card][data-status=unlinked] [data-testid=link]")
        .await?;
    sidebar_says(&app, "unlinked", "Not linked").await?;
    wait_until(Duration::from_secs(10), "unlinked in the store", || {
        account_status(dir.path()) == Some(AccountStatus::Unlinked)
    })?;
    app.click("[data-testid=account-card] [data-testid=link]")
        .await?;
    let fresh = qr_payload(&app).await?;
    assert_ne!(fresh, payload, "a new link attempt has a new code");

    step("the phone scans it: success, with the next step and the profile name as a name");
    server.set_profile_name(PHONE, "Toko Maju")?;
    server.scan(&fresh, PHONE)?;
    app.wait_for_text("[data-testid=link-success] h2", &format!("Linked: {PHONE}"))
        .await?;
    app.element("[data-testid=link-success] [data-testid=first-blast]")
        .await?;
    sidebar_says(&app, "connected", "Connected").await?;
    let accept = "[data-testid=link-success] [data-testid=accept-name][data-name='Toko Maju']";
    app.wait_for_text(accept, "Name it “Toko Maju”").await?;
    app.screenshot_for_docs("linking-success-en").await?;
    app.click(accept).await?;
    app.wait_for_text("[data-testid=account-card] h2", "Toko Maju")
        .await?;
    app.wait_for_text(
        "#account-states [data-testid=sidebar-account] .account-state-name",
        "Toko Maju",
    )
    .await?;
    assert_eq!(
        store
            .list_accounts()?
            .into_iter()
            .find(|a| a.kind == AccountKind::Whatsapp)
            .map(|a| (a.name, a.phone)),
        Some(("Toko Maju".to_owned(), Some(PHONE.to_owned())))
    );

    step("another session takes over: the sidebar says so; Reconnect now connects again");
    server.stream_error(StreamError::Replaced)?;
    sidebar_says(&app, "replaced", "Replaced by another session").await?;
    app.wait_for_text_that(
        "[data-testid=account-card] [data-testid=account-advice]",
        "what to do",
        |t| t.starts_with("WhatsApp Web or another app took over."),
    )
    .await?;
    app.click("[data-testid=account-card] [data-testid=reconnect]")
        .await?;
    sidebar_says(&app, "connected", "Connected").await?;

    step("the app's own dialog logs it out; the sidebar and the card say so, with Link");
    app.click("[data-testid=account-card] [data-testid=logout]")
        .await?;
    app.confirm_dialog("logout-account").await?;
    sidebar_says(&app, "logged_out", "Logged out").await?;
    app.wait_for_text(
        "[data-testid=account-card] [data-testid=account-advice]",
        "You logged it out. Link it again to send.",
    )
    .await?;
    app.element("[data-testid=account-card][data-status=logged_out] [data-testid=link]")
        .await?;

    step("the first blast is one click from a fresh link");
    app.click("[data-testid=account-card] [data-testid=link]")
        .await?;
    let again = qr_payload(&app).await?;
    server.scan(&again, PHONE)?;
    app.click("[data-testid=link-success] [data-testid=first-blast]")
        .await?;
    app.element("main[data-screen=new-blast] h1").await?;
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    app.close().await
}

async fn sidebar_says_none(app: &App) -> Result {
    app.element("#account-states [data-testid=sidebar-account][data-status=none]")
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_with_a_pairing_code_is_one_click_away_in_indonesian() -> Result {
    bounded(link_by_code()).await
}

async fn link_by_code() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    let dir = tempfile::tempdir()?;
    prepare(dir.path(), Some("id"))?;
    let app = launch_on_the_server(dir.path(), address).await?;

    step("Indonesian: one click shows the QR code and the steps");
    app.click("#nav a[data-screen=accounts]").await?;
    app.wait_for_text(
        "[data-testid=empty-state] [data-testid=link-whatsapp]",
        "Tautkan WhatsApp",
    )
    .await?;
    let main = app.text("main").await?;
    assert!(!main.contains("Belum tertaut"), "{main}");
    app.click("[data-testid=link-whatsapp]").await?;
    qr_payload(&app).await?;
    let steps = app.text("[data-testid=link-steps]").await?;
    assert!(steps.contains("Perangkat tertaut"), "{steps}");
    assert!(steps.contains("Tautkan perangkat"), "{steps}");
    sidebar_says(&app, "awaiting_qr", "Menautkan…").await?;
    assert_in_view(&app, "1.5").await?;
    assert_in_view(&app, "1").await?;
    app.screenshot_for_docs("linking-qr-id").await?;

    step("\"Link with phone number instead\": a pairing code for the number typed");
    app.click("[data-testid=link-by-phone]").await?;
    app.type_into("[data-testid=link-phone]", "+62 812-3456-7890")
        .await?;
    app.click("[data-testid=get-pair-code]").await?;
    let code = app
        .wait_for_text_that("[data-testid=pair-code]", "a pairing code", |t| {
            t.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 8
        })
        .await?;
    let steps = app.text("[data-testid=link-steps]").await?;
    assert!(
        steps.contains("Tautkan dengan nomor telepon saja"),
        "{steps}"
    );
    app.screenshot_for_docs("linking-code-id").await?;

    step("typed on the phone: linked, with the number as the suggested name");
    server.enter_code(code.trim(), PHONE)?;
    app.wait_for_text(
        "[data-testid=link-success] h2",
        &format!("Tertaut: {PHONE}"),
    )
    .await?;
    app.wait_for_text(
        "[data-testid=link-success] [data-testid=first-blast]",
        "Buat blast pertama Anda",
    )
    .await?;
    app.element(&format!(
        "[data-testid=link-success] [data-testid=accept-name][data-name='{PHONE}']"
    ))
    .await?;
    sidebar_says(&app, "connected", "Terhubung").await?;
    app.screenshot_for_docs("linking-success-id").await?;

    step("a name of one's own, with the business unit");
    app.click("[data-testid=link-success] [data-testid=rename]")
        .await?;
    app.replace_text(
        "[data-testid=link-success] [data-testid=rename-name]",
        "Toko Cabang",
    )
    .await?;
    app.type_into(
        "[data-testid=link-success] [data-testid=rename-unit]",
        "Cabang",
    )
    .await?;
    app.click("[data-testid=link-success] [data-testid=rename-save]")
        .await?;
    app.wait_for_text("[data-testid=account-card] h2", "Toko Cabang")
        .await?;
    let store = Store::open_in(dir.path())?;
    let account = store
        .list_accounts()?
        .into_iter()
        .find(|a| a.kind == AccountKind::Whatsapp)
        .ok_or("no WhatsApp account")?;
    assert_eq!(
        (
            account.name.as_str(),
            account.business_unit.as_deref(),
            account.phone.as_deref()
        ),
        ("Toko Cabang", Some("Cabang"), Some(PHONE))
    );

    step("the app's own dialog removes it; nothing is left behind");
    app.click("[data-testid=account-card] [data-testid=remove]")
        .await?;
    app.confirm_dialog("remove-account").await?;
    app.element("[data-testid=empty-state] [data-testid=link-whatsapp]")
        .await?;
    sidebar_says_none(&app).await?;
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_welcome_links_through_the_same_one_click_flow() -> Result {
    bounded(link_from_the_welcome()).await
}

async fn link_from_the_welcome() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    let dir = tempfile::tempdir()?;
    {
        let store = Store::open_in(dir.path())?;
        let version = blastdesk_whatsapp::version::PINNED.to_string();
        store.set_setting_text(blastdesk_whatsapp::version::SETTING, Some(&version), 0)?;
        store.set_setting_text("ui_language", Some("en"), 0)?;
    }
    let app = launch_on_the_server(dir.path(), address).await?;
    step("the first run opens on the welcome; its Link WhatsApp shows the QR code at once");
    app.element("main[data-screen=welcome] [data-testid=link-whatsapp]")
        .await?;
    app.click("[data-testid=link-whatsapp]").await?;
    app.wait_for_text("main[data-screen=accounts] h1", "Link WhatsApp")
        .await?;
    let payload = qr_payload(&app).await?;
    app.element("[data-testid=link-panel] [data-testid=link-steps]")
        .await?;
    server.scan(&payload, PHONE)?;
    app.wait_for_text("[data-testid=link-success] h2", &format!("Linked: {PHONE}"))
        .await?;
    wait_until(Duration::from_secs(10), "connected in the store", || {
        account_status(dir.path()) == Some(AccountStatus::Connected)
    })?;
    app.close().await
}
