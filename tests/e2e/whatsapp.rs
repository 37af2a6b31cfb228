//! The window linking an account through the real whatsapp-rust client
//! against the fake WhatsApp server (`wa-test-server`), over a WebSocket on
//! the loopback address: the QR code the window shows is what the
//! simulated phone scans, and the account connects after WhatsApp's
//! restart. Nothing leaves this computer (`BLASTDESK_NETWORK` names the
//! server; the WhatsApp Web version is set, so nothing is fetched).

use std::ffi::OsString;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use wa_test_server::{Intent, TestServer};

use crate::harness::{App, Result, bounded, step, wait_until};

const PHONE: &str = "+6281234567890";

#[tokio::test(flavor = "multi_thread")]
async fn the_window_links_an_account_through_the_whatsapp_test_server() -> Result {
    bounded(link_through_the_server()).await
}

async fn link_through_the_server() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    assert!(address.ip().is_loopback(), "{address}");
    let dir = tempfile::tempdir()?;
    {
        let store = Store::open_in(dir.path())?;
        store.set_setting_text("welcome_done", Some("yes"), 0)?;
        let version = blastdesk_whatsapp::version::PINNED.to_string();
        store.set_setting_text(blastdesk_whatsapp::version::SETTING, Some(&version), 0)?;
    }
    let app = App::launch_with(
        dir.path(),
        vec![(
            "BLASTDESK_NETWORK".into(),
            OsString::from(format!("ws://{address}/ws/chat")),
        )],
    )
    .await?;

    step("add an account and link it: the window shows the server's QR code");
    app.click("#nav a[data-screen=accounts]").await?;
    app.type_into("#account-name", "Toko Pusat").await?;
    app.click("[data-testid=add-account] button[type=submit]")
        .await?;
    app.element("[data-testid=qr]").await?;
    let payload = app
        .client
        .execute(
            "return document.querySelector('[data-testid=qr]')?.dataset.payload ?? ''",
            vec![],
        )
        .await?;
    let payload = payload.as_str().unwrap_or_default().to_owned();
    assert!(payload.split(',').count() >= 4, "a QR payload: {payload:?}");

    step("the phone scans it: the account connects after the restart");
    server.scan(&payload, PHONE)?;
    let card = "[data-testid=account-card]";
    app.element(&format!("{card}[data-status=connected]"))
        .await?;
    app.wait_for_text_that(&format!("{card} .muted"), "the linked number", |t| {
        t.starts_with(PHONE)
    })
    .await?;
    let intents: Vec<Option<Intent>> = server.connections().into_iter().map(|c| c.intent).collect();
    assert_eq!(intents.first(), Some(&Some(Intent::Register)));
    assert!(
        intents
            .iter()
            .any(|i| matches!(i, Some(Intent::Login { .. }))),
        "{intents:?}"
    );
    let registered = server.connections().into_iter().next().ok_or("none")?;
    assert_eq!(registered.device_os.as_deref(), Some("Blastdesk"));
    wait_until(Duration::from_secs(10), "connected in the store", || {
        Store::open_in(dir.path())
            .and_then(|s| s.list_accounts())
            .is_ok_and(|a| {
                a.first()
                    .is_some_and(|a| a.status == AccountStatus::Connected)
            })
    })?;
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    app.close().await
}
