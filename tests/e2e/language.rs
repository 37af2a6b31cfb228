//! One language at a time, fully: the whole window in Bahasa Indonesia with
//! no English word of the app's own, the core's messages included (a paused
//! blast's reason, a failed message's reason, a refused number, invalid rows
//! of an imported file, an account's state).
//!
//! "English words" are found from the catalogs themselves: every word of an
//! English text that no Indonesian translation uses (so "WhatsApp", "file"
//! and "blast", which Indonesian uses too, never count). The scan reads every
//! visible text and the placeholders, labels and titles of the window; only
//! `<code>` (error codes for support) and folder paths are exempt.

use std::ffi::OsString;

use blastdesk_core::Store;
use blastdesk_core::blast::Sender;
use blastdesk_core::store::AccountKind;

use crate::fixtures::{Cell, write_xlsx};
use crate::harness::{App, Result, bounded, step};
use crate::support::{create_blast, indonesian_system, numbered_customers};

/// Lists each visible text of the window holding an English-only word.
const SCAN: &str = r##"
const done = arguments[arguments.length - 1];
import("./i18n.js").then(({ catalog }) => {
  const words = (text) => String(text).toLowerCase().match(/[a-z]+/g) ?? [];
  const id = catalog("id");
  // The translations' own words, without their {placeholders} (English names).
  const indonesian = new Set(Object.values(id).flatMap((text) => words(text.replace(/\{\w+\}/g, " "))));
  const english = new Set(Object.keys(id).flatMap(words).filter((w) => w.length >= 3 && !indonesian.has(w)));
  const found = [];
  // A path names the person's own folders, not the app's words.
  const path = (text) => /^\s*(\/|[A-Za-z]:\\|~\/)\S*\s*$/.test(text);
  const check = (el, text, where) => {
    if (path(text)) return;
    const hits = words(text).filter((w) => english.has(w));
    if (hits.length) found.push(`${where} <${el.tagName.toLowerCase()}${el.dataset.testid ? ` data-testid=${el.dataset.testid}` : ""}> “${String(text).trim().slice(0, 120)}”: ${[...new Set(hits)].join(", ")}`);
  };
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const el = node.parentElement;
    if (!el || el.closest("code, script, style") || !visible(el)) continue;
    check(el, node.textContent, "text");
  }
  for (const el of document.querySelectorAll("[placeholder], [aria-label], [title], [alt]")) {
    if (!visible(el) && !el.closest("#nav, .sidebar")) continue;
    for (const attr of ["placeholder", "aria-label", "title", "alt"]) {
      if (el.hasAttribute(attr)) check(el, el.getAttribute(attr), attr);
    }
  }
  check(document.documentElement, document.title, "title");
  done({ found, english: english.size });
}).catch((error) => done({ found: [`the scan failed: ${error}`], english: 0 }));
"##;

/// Fails with every English text the current screen shows.
async fn no_english(app: &App, screen: &str) -> Result {
    // What sits behind a disclosure is read too.
    app.client
        .execute(
            "document.querySelectorAll('details').forEach((d) => { d.open = true; })",
            vec![],
        )
        .await?;
    let result = app.client.execute_async(SCAN, vec![]).await?;
    let english = result["english"].as_u64().unwrap_or(0);
    assert!(
        english > 100,
        "the catalogs yield English words to look for ({english})"
    );
    let found: Vec<String> = result["found"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|f| f.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        found.is_empty(),
        "English on {screen} of the Indonesian window:\n  {}",
        found.join("\n  ")
    );
    Ok(())
}

async fn open(app: &App, screen: &str) -> Result {
    app.click(&format!("#nav a[data-screen={screen}]")).await?;
    app.element(&format!("main[data-screen={screen}] h1"))
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_indonesian_window_shows_no_english_word_of_its_own() -> Result {
    bounded(indonesian_throughout()).await
}

async fn indonesian_throughout() -> Result {
    let dir = tempfile::tempdir()?;
    let fixtures = tempfile::tempdir()?;
    step("a WhatsApp number that is not linked, with a blast paused by a run of failures");
    let paused = {
        let store = Store::open_in(dir.path())?;
        let account =
            store.ensure_account("Toko Pusat", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        // And a number whose link failed, in the core's English words.
        let failed =
            store.ensure_account("Toko Cabang", AccountKind::Whatsapp, "Asia/Jakarta", 0)?;
        store.set_account_status(
            failed,
            &blastdesk_core::account::AccountStatus::LinkFailed {
                reason: "The QR codes expired before one was scanned.".into(),
            },
        )?;
        let blast = create_blast(
            &store,
            "Promo Desember",
            "Halo, stok baru sudah datang!",
            Sender::Account(account),
            &numbered_customers(3),
            0,
        )?;
        let conn = rusqlite::Connection::open(dir.path().join(blastdesk_core::store::FILE_NAME))?;
        conn.execute(
            "UPDATE blasts SET state = 'paused', pause_code = 'error_streak',
                 pause_reason = 'Paused: 5 messages in a row failed (the last: this number is not on WhatsApp).'
             WHERE id = ?1",
            [blast],
        )?;
        conn.execute(
            "UPDATE deliveries SET state = 'failed', error_code = 'not_on_whatsapp',
                 error_detail = 'this number is not on WhatsApp', attempts = 1
             WHERE id = (SELECT min(id) FROM deliveries WHERE blast_id = ?1)",
            [blast],
        )?;
        blast
    };
    step("a customer list with a row that holds no number and one that is no number");
    let list = write_xlsx(
        &fixtures.path().join("pelanggan.xlsx"),
        &[(
            "Pelanggan",
            false,
            vec![
                vec![Cell::Text("Nama"), Cell::Text("No. WA"), Cell::Text("Kota")],
                vec![
                    Cell::Text("Ani"),
                    Cell::Text("0812-3456-7890"),
                    Cell::Text("Jakarta"),
                ],
                vec![Cell::Text("Eka"), Cell::Text("abc"), Cell::Text("Bali")],
                vec![Cell::Text("Gita"), Cell::Empty, Cell::Text("Solo")],
                vec![
                    Cell::Text("Ani"),
                    Cell::Text("62812 3456 7890"),
                    Cell::Text("Bogor"),
                ],
            ],
        )],
    )
    .map_err(|e| e.to_string())?;

    let mut env = indonesian_system();
    env.push(("BLASTDESK_PICK_FILES".into(), OsString::from(&list)));
    let app = App::launch_with(dir.path(), env).await?;

    step("the welcome");
    app.wait_for_text(
        "main[data-screen=welcome] h1",
        "Selamat datang di Blastdesk",
    )
    .await?;
    no_english(&app, "the welcome").await?;

    step("the rehearsal: New blast, the confirmation, the completed blast and its report");
    app.click("[data-testid=start-rehearsal]").await?;
    app.element("[data-testid=send-now]").await?;
    no_english(&app, "New blast").await?;
    step("a message that cannot be used says why, in Indonesian");
    app.type_into("#template", " {").await?;
    app.wait_for_text_that("body", "the template's error", |t| {
        t.contains("Kurung kurawal")
    })
    .await?;
    no_english(&app, "New blast with an unusable message").await?;
    app.replace_text("#template", blastdesk_core::sample::TEMPLATE_ID)
        .await?;
    app.click("[data-testid=send-now]").await?;
    app.element("[data-testid=send-confirmation]").await?;
    no_english(&app, "the send confirmation").await?;
    app.click("[data-testid=confirm-send]").await?;
    app.element("[data-testid=blast-card][data-state=completed]")
        .await?;
    no_english(&app, "Blasts, with a completed and a paused blast").await?;

    step("the paused blast's report: its reason and the failed message's, in Indonesian");
    let card = format!("[data-testid=blast-card][data-blast-id=\"{paused}\"]");
    app.click(&format!("{card} [data-testid=report]")).await?;
    app.element("[data-testid=report] tbody tr").await?;
    no_english(&app, "a report with a failure").await?;

    step("an imported list with invalid rows and an overridden duplicate");
    open(&app, "audiences").await?;
    app.click("[data-testid=pick-files]").await?;
    app.element("[data-testid=count-invalid]").await?;
    no_english(&app, "the import preview").await?;
    app.click("[data-tab=invalid]").await?;
    app.element("[data-testid=preview] tbody tr").await?;
    no_english(&app, "the invalid rows").await?;
    app.click("[data-tab=overridden]").await?;
    app.element("[data-testid=preview] tbody tr").await?;
    no_english(&app, "the overridden duplicates").await?;

    step("a refused number on Do not contact");
    open(&app, "do-not-contact").await?;
    app.type_into("[data-testid=dnc-numbers]", "12").await?;
    app.click("[data-testid=dnc-add]").await?;
    app.element("[data-testid=notice]").await?;
    no_english(&app, "Do not contact, with a refusal").await?;

    step("the other screens");
    for screen in ["accounts", "schedules", "settings"] {
        open(&app, screen).await?;
        no_english(&app, screen).await?;
    }
    app.close().await
}
