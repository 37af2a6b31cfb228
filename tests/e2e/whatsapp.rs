//! The window linking an account, and sending a blast from it, through the
//! real whatsapp-rust client
//! against the fake WhatsApp server (`wa-test-server`), over a WebSocket on
//! the loopback address: the QR code the window shows is what the
//! simulated phone scans, and the account connects after WhatsApp's
//! restart. Nothing leaves this computer (`BLASTDESK_NETWORK` names the
//! server; the WhatsApp Web version is set, so nothing is fetched).

use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::pacing::Pacing;
use wa_test_server::{Intent, TestServer};

use crate::harness::{Result, bounded, step, wait_until};
use crate::support::{
    launch_on_the_server, prepare_for_the_server, received, start_linking, wait_for_each_message,
};

const PHONE: &str = "+6281234567890";

#[tokio::test(flavor = "multi_thread")]
async fn the_window_links_an_account_and_sends_a_blast_through_the_whatsapp_test_server() -> Result
{
    bounded(link_through_the_server()).await
}

async fn link_through_the_server() -> Result {
    let server = TestServer::new();
    let address = server.listen().await?;
    assert!(address.ip().is_loopback(), "{address}");
    let dir = tempfile::tempdir()?;
    let customers = [("Dewi", "+6281311110001"), ("Budi", "+6281311110002")];
    prepare_for_the_server(dir.path(), &customers)?;
    let app = launch_on_the_server(dir.path(), address).await?;
    app.accept_confirmations().await?;
    for (_, phone) in customers {
        server.add_customer(phone)?;
    }

    step("link WhatsApp in one click: the window shows the server's QR code");
    let payload = start_linking(&app).await?;

    step("the phone scans it: the account connects after the restart");
    server.set_profile_name(PHONE, "Toko Pusat")?;
    server.scan(&payload, PHONE)?;
    let card = "[data-testid=account-card]";
    app.element(&format!("{card}[data-status=connected]"))
        .await?;
    app.wait_for_text_that(
        &format!("{card} [data-testid=account-where]"),
        "the linked number",
        |t| t.starts_with(PHONE),
    )
    .await?;
    step("named as on the phone, in one click");
    app.click("[data-testid=link-success] [data-testid=accept-name][data-name='Toko Pusat']")
        .await?;
    app.wait_for_text(&format!("{card} h2"), "Toko Pusat")
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

    step("send a blast from it: each customer's phone decrypts their own message");
    Store::open_in(dir.path())?.set_account_pacing(
        1,
        &Pacing {
            enabled: false,
            ..Pacing::default()
        },
    )?;
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-audiences] input[value=Pelanggan]")
        .await?;
    app.element("#blast-name")
        .await?
        .send_keys("Stok baru")
        .await?;
    app.element("#template").await?.send_keys("Halo ").await?;
    app.click("[data-placeholder=Nama]").await?;
    app.element("#template")
        .await?
        .send_keys(", stok baru sudah datang")
        .await?;
    // A new blast goes from the connected number, not the rehearsal.
    let from = app
        .client
        .execute(
            "return document.querySelector('[data-testid=send-from]')?.value ?? ''",
            vec![],
        )
        .await?;
    assert_eq!(
        from.as_str(),
        Some("1"),
        "Send from defaults to the connected number"
    );
    app.click("[data-testid=send-now]").await?;
    // The last word names how many, from which number and until when.
    app.element("[data-testid=send-confirmation][data-kind=real]")
        .await?;
    let said = app.text("[data-testid=confirmation-text]").await?;
    assert!(
        said.starts_with("To 2 recipients from Toko Pusat (+6281234567890)"),
        "{said}"
    );
    assert!(
        server.received(customers[0].1)?.is_empty(),
        "nothing before the confirmation"
    );
    app.click("[data-testid=confirm-send]").await?;
    wait_for_each_message(&server, &customers)?;
    for (name, phone) in customers {
        assert_eq!(
            received(&server, phone),
            [format!("Halo {name}, stok baru sudah datang")]
        );
    }
    app.element("[data-testid=blast-card][data-state=completed]")
        .await?;
    assert!(server.problems().is_empty(), "{:?}", server.problems());
    app.close().await
}
