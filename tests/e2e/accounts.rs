//! Linking an account through the real app. WhatsApp is never reached: the
//! app runs with `BLASTDESK_NETWORK=scripted` (a simulated link through the
//! same account machine and effects as a real one) or `offline` (the real
//! WhatsApp client on a network that reaches nothing).

use std::ffi::OsString;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;

use crate::harness::{App, Result, bounded, step, wait_until};

const NETWORK: &str = "BLASTDESK_NETWORK";

/// One click links: no name is asked (the account is "WhatsApp 1").
async fn add_and_link(app: &App) -> Result {
    app.click("#nav a[data-screen=accounts]").await?;
    app.click("[data-testid=link-whatsapp]").await?;
    app.element("[data-testid=link-panel]").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn linking_shows_the_qr_code_and_the_account_becomes_connected() -> Result {
    bounded(scripted_link()).await
}

async fn scripted_link() -> Result {
    let dir = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![(NETWORK.into(), OsString::from("scripted"))],
    )
    .await?;
    step("add an account and link it");
    add_and_link(&app).await?;
    // The screen is redrawn as codes rotate: read what it shows in one step.
    app.element("[data-testid=qr]").await?;
    let src = app
        .client
        .execute(
            "return document.querySelector('[data-testid=qr]')?.getAttribute('src') ?? ''",
            vec![],
        )
        .await?;
    let src = src.as_str().unwrap_or_default();
    assert!(
        src.starts_with("data:image/svg+xml"),
        "{}",
        &src[..src.len().min(40)]
    );
    app.screenshot("account-link-qr").await?;
    // The codes rotate; the phone scans one; the app restarts the connection
    // after pairing and does not take it for a logout.
    app.wait_for_text("[data-testid=link-success] h2", "Linked: +6281234567890")
        .await?;
    let card = "[data-testid=account-card]";
    app.element(&format!("{card}[data-status=connected]"))
        .await?;
    app.wait_for_text(&format!("{card} [data-testid=account-status]"), "Connected")
        .await?;
    app.wait_for_text_that(
        &format!("{card} [data-testid=account-where]"),
        "the linked number",
        |t| t.starts_with("+6281234567890"),
    )
    .await?;
    step("named after linking, with its business unit");
    app.click("[data-testid=link-success] [data-testid=rename]")
        .await?;
    app.replace_text("[data-testid=rename-name]", "Toko Pusat")
        .await?;
    app.type_into("[data-testid=rename-unit]", "Pusat").await?;
    app.click("[data-testid=rename-save]").await?;
    app.wait_for_text(&format!("{card} h2"), "Toko Pusat")
        .await?;
    app.screenshot("account-connected").await?;
    let store = Store::open_in(dir.path())?;
    let accounts = store.list_accounts()?;
    let account = accounts
        .iter()
        .find(|a| a.kind == blastdesk_core::store::AccountKind::Whatsapp)
        .ok_or("no WhatsApp account")?;
    assert_eq!(
        (
            account.name.as_str(),
            account.business_unit.as_deref(),
            account.phone.as_deref()
        ),
        ("Toko Pusat", Some("Pusat"), Some("+6281234567890"))
    );
    assert_eq!(account.status, AccountStatus::Connected);

    step("a customer replies \"Stop!\": on the do-not-contact list, shown there");
    // Once it is recorded (the app logs it), the list shows it.
    crate::shell::wait_for_log(
        dir.path(),
        "a customer opted out by reply",
        std::time::Duration::from_secs(10),
    )?;
    app.click("#nav a[data-screen=do-not-contact]").await?;
    app.wait_for_text(
        "[data-testid=dnc-list] tr[data-phone='+6281299990002'] td:nth-child(2)",
        "Replied to opt out · Replied \"STOP\"",
    )
    .await?;
    let listed = store.do_not_contact()?;
    assert_eq!(listed.len(), 1, "a thank-you is not an opt-out");

    step("override the WhatsApp Web version, and refuse a bad one");
    app.click("#nav a[data-screen=settings]").await?;
    // Behind "Advanced".
    app.click("[data-testid=advanced] summary").await?;
    app.type_into("#whatsapp-version", "2.3001.5").await?;
    app.click("[data-testid=save-version]").await?;
    app.wait_for_text_that("[data-testid=version-status]", "the new version", |t| {
        t.starts_with("Announcing 2.3001.5.")
    })
    .await?;
    let input = app.element("#whatsapp-version").await?;
    input.clear().await?;
    input.send_keys("latest").await?;
    app.click("[data-testid=save-version]").await?;
    app.wait_for_text_that("[data-testid=version-status]", "a refusal", |t| {
        t.contains("is not a WhatsApp Web version")
    })
    .await?;
    assert_eq!(
        store
            .setting_text(blastdesk_whatsapp::version::SETTING)?
            .as_deref(),
        Some("2.3001.5")
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_the_account_says_whatsapp_cannot_be_reached_and_when_it_retries() -> Result {
    bounded(offline_link()).await
}

async fn offline_link() -> Result {
    let dir = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![(NETWORK.into(), OsString::from("offline"))],
    )
    .await?;
    step("add an account and link it, offline");
    add_and_link(&app).await?;
    app.wait_for_text_that(
        "[data-testid=link-panel] [role=status]",
        "that WhatsApp cannot be reached, and when the next attempt is",
        |t| t.starts_with("Cannot reach WhatsApp. Next attempt "),
    )
    .await?;
    app.screenshot("account-offline").await?;

    step("\"Try again\" tries at once instead of waiting for the next attempt");
    let next_attempt = || -> Option<i64> {
        let store = Store::open_in(dir.path()).ok()?;
        match store.list_accounts().ok()?.first()?.status {
            AccountStatus::Disconnected {
                next_attempt_at_ms, ..
            } => Some(next_attempt_at_ms),
            _ => None,
        }
    };
    let before = next_attempt().ok_or("not disconnected")?;
    app.click("[data-testid=link-panel] [data-testid=relink]")
        .await?;
    wait_until(Duration::from_secs(20), "a new attempt", || {
        next_attempt().is_some_and(|at| at != before)
    })?;
    app.element("[data-testid=link-panel] [data-testid=relink]")
        .await?;
    step("Cancel: the card offers Link again");
    app.click("[data-testid=cancel-link]").await?;
    app.element("[data-testid=account-card][data-status=unlinked] [data-testid=link]")
        .await?;
    app.close().await
}
