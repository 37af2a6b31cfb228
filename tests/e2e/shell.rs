//! The app's frame: navigation, the values Rust commands return, one instance
//! only, and a database that cannot be opened.

use std::path::Path;
use std::time::Duration;

use blastdesk_core::store::{self, SCHEMA_VERSION, Store};

use crate::harness::{App, Result, bounded, wait_until};

/// A store with one saved audience of two contacts and three numbers on the
/// do-not-contact list, written with plain SQL as an older session would have.
fn seed(data_dir: &Path) -> Result {
    let store = Store::open_in(data_dir)?;
    let path = store.path().ok_or("in-memory store")?.to_path_buf();
    drop(store);
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(
        "INSERT INTO audiences (id, name, created_at, updated_at) VALUES (1, '<i>Regulars</i>', 0, 0);
         INSERT INTO audience_contacts (audience_id, phone, fields, position) VALUES
             (1, '+6281234567890', '{\"name\":\"Ani\"}', 0),
             (1, '+6281298765432', '{\"name\":\"Budi\"}', 1);
         INSERT INTO do_not_contact (phone, reason, added_at) VALUES
             ('+6281111111111', 'manual', 0),
             ('+6281222222222', 'manual', 0),
             ('+6281333333333', 'opt_out_reply', 0);",
    )?;
    Ok(())
}

/// Each screen, and what it must show for the seeded store.
const SCREENS: &[(&str, &str, &str, &str)] = &[
    // (nav id, heading, css of the evidence, its text)
    (
        "accounts",
        "Accounts",
        "[data-testid=empty-state] h2",
        "Link your WhatsApp",
    ),
    (
        "audiences",
        "Audiences",
        "[data-testid=audience-list] .list-title",
        // Markup in a name is shown as text.
        "<i>Regulars</i>",
    ),
    (
        "new-blast",
        "New blast",
        // Saved audiences are offered as recipients, their names as text.
        "[data-testid=blast-audiences] [data-testid=audience-name]",
        "<i>Regulars</i>",
    ),
    (
        "blasts",
        "Blasts",
        "[data-testid=empty-state] h2",
        "No blasts yet",
    ),
    (
        "schedules",
        "Schedules",
        "[data-testid=empty-state] h2",
        "Nothing scheduled",
    ),
    // What is stored is behind Advanced (opened below).
    (
        "settings",
        "Settings",
        "[data-testid=advanced] .advanced-title",
        "Advanced",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn navigation_reaches_every_screen_and_shows_what_the_store_holds() -> Result {
    bounded(navigation()).await
}

async fn navigation() -> Result {
    let dir = tempfile::tempdir()?;
    seed(dir.path())?;
    let app = App::launch(dir.path()).await?;

    app.wait_for_text("[data-testid=store-status]", "Ready")
        .await?;
    for (id, heading, evidence, text) in SCREENS {
        app.click(&format!("#nav a[data-screen={id}]")).await?;
        app.wait_for_text("#screen h1", heading).await?;
        app.wait_for_text(evidence, text).await?;
        let current = app
            .client
            .find(fantoccini::Locator::Css("#nav [aria-current=page]"))
            .await?
            .attr("data-screen")
            .await?;
        assert_eq!(current.as_deref(), Some(*id), "highlighted nav item");
        app.screenshot(id).await?;
    }

    // The Settings screen shows what the Rust commands returned, under Advanced.
    app.click("[data-testid=advanced] summary").await?;
    app.wait_for_text("[data-testid=count-dnc]", "3").await?;
    assert_eq!(
        app.text("[data-testid=data-dir]").await?,
        dir.path().display().to_string()
    );
    assert_eq!(
        app.text("[data-testid=schema-version]").await?,
        format!("Version {SCHEMA_VERSION}")
    );
    assert_eq!(app.text("[data-testid=count-audiences]").await?, "1");
    assert_eq!(app.text("[data-testid=count-contacts]").await?, "2");
    assert_eq!(app.text("[data-testid=count-accounts]").await?, "0");
    app.click("#nav a[data-screen=audiences]").await?;

    // A second launch hands over to this instance and exits at once.
    app.desktop.launch_second_instance()?;
    // ... and the first one still answers.
    app.wait_for_text("#screen h1", "Audiences").await?;

    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_a_database_is_reported_and_left_alone() -> Result {
    bounded(store_error()).await
}

async fn store_error() -> Result {
    let dir = tempfile::tempdir()?;
    let database = dir.path().join(store::FILE_NAME);
    let bytes = b"name,phone\nAni,0812-3456-7890\n";
    std::fs::write(&database, bytes)?;

    let app = App::launch(dir.path()).await?;
    app.wait_for_text("[data-testid=store-status]", "Database unavailable")
        .await?;
    let code = app
        .client
        .find(fantoccini::Locator::Css("[data-testid=error]"))
        .await?
        .attr("data-code")
        .await?;
    assert_eq!(code.as_deref(), Some("not_a_database"));
    let heading = app.text("[data-testid=error] h2").await?;
    assert_eq!(heading, "Blastdesk cannot open its database");
    let message = app.text("[data-testid=error] p").await?;
    assert!(message.contains("is not a Blastdesk database"), "{message}");
    app.screenshot("store-error").await?;
    app.close().await?;

    assert_eq!(std::fs::read(&database)?, bytes);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn closing_the_window_keeps_the_app_in_the_tray_and_a_relaunch_reopens_it() -> Result {
    bounded(tray_residency()).await
}

async fn tray_residency() -> Result {
    let dir = tempfile::tempdir()?;
    let app = App::launch(dir.path()).await?;
    app.wait_for_text("[data-testid=store-status]", "Ready")
        .await?;

    // As when the person clicks the window's close button. GTK drops a close
    // request that arrives while it holds a grab (as it may just after start),
    // so, like a person, click again if nothing happened.
    let closed = "window closed; staying in the tray";
    for _ in 0..10 {
        app.desktop.request_close("Blastdesk")?;
        if wait_for_log(dir.path(), closed, Duration::from_secs(3)).is_ok() {
            break;
        }
    }
    wait_for_log(dir.path(), closed, Duration::from_secs(5))?;

    // The app is still running: a second launch hands over to it and exits,
    // and the first instance builds a fresh window.
    app.desktop.launch_second_instance()?;
    wait_for_log(dir.path(), "main window reopened", Duration::from_secs(20))?;
    Ok(())
}

/// Waits until the app's log file in `data_dir` contains `line`.
pub fn wait_for_log(data_dir: &Path, line: &str, timeout: Duration) -> Result {
    wait_until(timeout, line, || read_logs(data_dir).contains(line))
        .map_err(|e| format!("{e}; the app's log:\n{}", read_logs(data_dir)).into())
}

/// Everything the app logged in the data folder `data_dir`.
pub fn read_logs(data_dir: &Path) -> String {
    std::fs::read_dir(data_dir.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .collect()
}
