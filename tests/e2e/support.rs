//! What several end-to-end tests set up the same way: a data folder's
//! customers and blasts, the app launched against the WhatsApp test server
//! or in Indonesian, linking in the window, the screens and the themes.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::phone::Phone;
use wa_test_server::TestServer;

use crate::harness::{App, Result, wait_until};

/// Every screen of the app, by its route.
pub const SCREENS: [&str; 8] = [
    "welcome",
    "accounts",
    "audiences",
    "new-blast",
    "blasts",
    "schedules",
    "do-not-contact",
    "settings",
];

/// The system themes the window is checked in: its name and `GTK_THEME`.
pub const THEMES: [(&str, &str); 2] = [("light", "Adwaita"), ("dark", "Adwaita:dark")];

/// Fails unless the window is in `theme` ("light" or "dark", as in [`THEMES`]).
pub async fn assert_theme(app: &App, theme: &str) -> Result {
    let dark = app
        .client
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches",
            vec![],
        )
        .await?;
    assert_eq!(
        dark.as_bool(),
        Some(theme == "dark"),
        "the {theme} theme reaches the window"
    );
    Ok(())
}

/// Now, in milliseconds since the epoch (as the store keeps times).
pub fn now_ms() -> Result<i64> {
    Ok(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64)
}

/// The audience "Pelanggan": each customer's number, and their name as the
/// column "Nama".
pub fn audience(customers: &[(&str, &str)]) -> Vec<Recipient> {
    customers
        .iter()
        .map(|(name, phone)| Recipient {
            phone: Phone::from_e164_unchecked((*phone).into()),
            fields: Fields::new(vec![(Arc::from("Nama"), (*name).into())]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect()
}

/// `n` customers of the audience "Pelanggan" with no columns, numbered
/// +6281200000000, +6281200000001, …
pub fn numbered_customers(n: usize) -> Vec<Recipient> {
    (0..n)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+6281200000{i:03}")),
            fields: Fields::new(vec![]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect()
}

/// Creates the blast `name` of `template` to `recipients` from `sender`,
/// with the default options and no attachment; returns its id.
pub fn create_blast(
    store: &Store,
    name: &str,
    template: &str,
    sender: Sender,
    recipients: &[Recipient],
    at: i64,
) -> Result<i64> {
    Ok(blast::create(
        store,
        &NewBlast {
            name,
            template,
            sender,
            recipients,
            options: BlastOptions::default(),
            attach: None,
        },
        at,
    )?
    .blast_id)
}

/// Pins the WhatsApp Web version, so that nothing is fetched.
pub fn pin_whatsapp_version(store: &Store) -> Result {
    let version = blastdesk_whatsapp::version::PINNED.to_string();
    store.set_setting_text(blastdesk_whatsapp::version::SETTING, Some(&version), 0)?;
    Ok(())
}

/// A data folder past the welcome, with `customers` as the audience
/// "Pelanggan" and a pinned WhatsApp Web version: ready to link a number
/// through the test server and send them a blast.
pub fn prepare_for_the_server(dir: &Path, customers: &[(&str, &str)]) -> Result {
    let store = Store::open_in(dir)?;
    store.set_setting_text("welcome_done", Some("yes"), 0)?;
    store.save_audience("Pelanggan", &audience(customers), false, 0)?;
    pin_whatsapp_version(&store)
}

/// Starts the app with the WhatsApp test server at `address` as its network.
pub async fn launch_on_the_server(dir: &Path, address: SocketAddr) -> Result<App> {
    App::launch_with(
        dir,
        vec![(
            "BLASTDESK_NETWORK".into(),
            OsString::from(format!("ws://{address}/ws/chat")),
        )],
    )
    .await
}

/// The environment of a computer set to Indonesian.
pub fn indonesian_system() -> Vec<(String, OsString)> {
    let system = |key: &str| (key.to_owned(), OsString::from("id_ID.UTF-8"));
    vec![
        system("LANG"),
        system("LC_ALL"),
        ("LANGUAGE".into(), OsString::from("id")),
    ]
}

/// The QR code's payload, as the window shows it.
pub async fn qr_payload(app: &App) -> Result<String> {
    app.element("[data-testid=qr]").await?;
    let payload = app
        .client
        .execute(
            "return document.querySelector('[data-testid=qr]')?.dataset.payload ?? ''",
            vec![],
        )
        .await?;
    let payload = payload.as_str().unwrap_or_default().to_owned();
    if payload.split(',').count() < 4 {
        return Err(format!("not a QR payload: {payload:?}").into());
    }
    Ok(payload)
}

/// Opens Accounts and links WhatsApp in one click; returns the payload of
/// the QR code the window then shows.
pub async fn start_linking(app: &App) -> Result<String> {
    app.click("#nav a[data-screen=accounts]").await?;
    app.click("[data-testid=link-whatsapp]").await?;
    qr_payload(app).await
}

/// The texts of the messages the test server's customer `phone` received.
pub fn received(server: &TestServer, phone: &str) -> Vec<String> {
    server
        .received(phone)
        .map(|r| {
            r.into_iter()
                .filter_map(|m| m.message.conversation.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until each of `customers` received a message on the test server.
pub fn wait_for_each_message(server: &TestServer, customers: &[(&str, &str)]) -> Result {
    wait_until(Duration::from_secs(60), "both customers' messages", || {
        customers
            .iter()
            .all(|(_, phone)| !received(server, phone).is_empty())
    })
}

/// Starts the welcome's rehearsal and waits for its sample message.
pub async fn rehearse(app: &App) -> Result {
    app.click("[data-testid=start-rehearsal]").await?;
    app.wait_for_text_that("[data-testid=rendered]", "a sample message", |t| {
        t.contains("Ayu")
    })
    .await?;
    Ok(())
}

/// Shows `screen` by its route and waits until it is drawn.
pub async fn show_screen(app: &App, screen: &str) -> Result {
    app.client
        .execute(&format!("location.hash = '#/{screen}'"), vec![])
        .await?;
    app.element(&format!("main[data-screen={screen}] h1"))
        .await?;
    Ok(())
}
