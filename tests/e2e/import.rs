//! Importing through the real app: choose a file, read the preview, save it.

use std::ffi::OsString;

use blastdesk_core::Store;
use fantoccini::Locator;

use crate::fixtures::{Cell, messy_rows, write_xlsx};
use crate::harness::{App, Result, bounded};

const PICK_FILES: &str = "BLASTDESK_PICK_FILES";

#[tokio::test(flavor = "multi_thread")]
async fn a_messy_workbook_previews_with_every_problem_shown_and_saves_as_an_audience() -> Result {
    bounded(import_and_save()).await
}

async fn import_and_save() -> Result {
    let dir = tempfile::tempdir()?;
    let fixtures = tempfile::tempdir()?;
    let branch = vec![
        vec![Cell::Text("Nama"), Cell::Text("HP")],
        vec![Cell::Text("Rudi"), Cell::Text("0812-1111-0000")],
    ];
    let workbook = write_xlsx(
        &fixtures.path().join("pelanggan.xlsx"),
        &[
            ("Pelanggan", false, messy_rows()),
            ("Bandung", false, branch),
        ],
    )
    .map_err(|e| e.to_string())?;
    let app = App::launch_with(
        dir.path(),
        vec![(PICK_FILES.into(), OsString::from(&workbook))],
    )
    .await?;

    app.click("#nav a[data-screen=audiences]").await?;
    app.click("[data-testid=pick-files]").await?;
    for (tab, expected) in [
        ("recipients", "4"),
        ("invalid", "3"),
        ("overridden", "1"),
        ("excluded", "0"),
    ] {
        app.wait_for_text(&format!("[data-testid=count-{tab}]"), expected)
            .await?;
    }
    // Every value from the file is text: the markup in a name is shown, not applied.
    let cells = app
        .client
        .find_all(Locator::Css("[data-testid=preview] td"))
        .await?;
    let mut texts = Vec::new();
    for cell in cells {
        texts.push(cell.text().await?);
    }
    assert!(texts.iter().any(|t| t == "<b>Dewi</b>"), "cells: {texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t == "pelanggan.xlsx › Pelanggan, row 11"),
        "cells: {texts:?}"
    );
    app.screenshot("import-preview").await?;

    app.click("[data-tab=invalid]").await?;
    app.wait_for_text(
        "[data-testid=preview] tbody tr:nth-child(1) td:nth-child(3)",
        "Not a phone number: it contains letters or symbols.",
    )
    .await?;
    app.click("[data-tab=overridden]").await?;
    app.wait_for_text(
        "[data-testid=preview] tbody tr td:nth-child(4)",
        "Nama, Kota",
    )
    .await?;
    app.screenshot("import-duplicates").await?;
    let highlighted = app
        .client
        .find_all(Locator::Css("[data-testid=preview] dd.changed"))
        .await?;
    assert_eq!(highlighted.len(), 4, "two differing fields on each side");

    let name = app
        .client
        .find(Locator::Css("[data-testid=save-name]"))
        .await?;
    name.send_keys("Toko Maju").await?;
    app.click("[data-testid=save-audience]").await?;
    app.wait_for_text(
        "[data-testid=save-message]",
        "Saved “Toko Maju” with 4 contacts.",
    )
    .await?;
    app.wait_for_text("[data-testid=audience-list] .list-title", "Toko Maju")
        .await?;

    // The audience is in the database, as the preview showed it.
    let store = Store::open_in(dir.path())?;
    let saved = store.load_audience("Toko Maju")?;
    let phones: Vec<&str> = saved.contacts.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        phones,
        [
            "+6281234567890",
            "+6281298765432",
            "+6281311112222",
            "+6281322223333"
        ]
    );
    assert_eq!(saved.contacts[0].1.get("Nama"), Some("Ani Updated"));

    // Another sheet of the same workbook can be chosen.
    let sheet = app.client.find(Locator::Css("[data-testid=sheet]")).await?;
    sheet.select_by_value("Bandung").await?;
    app.wait_for_text("[data-testid=count-recipients]", "1")
        .await?;
    app.wait_for_text("[data-testid=count-invalid]", "0")
        .await?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unclear_phone_column_is_asked_for_and_the_default_country_applies() -> Result {
    bounded(mapping_and_country()).await
}

async fn mapping_and_country() -> Result {
    let dir = tempfile::tempdir()?;
    let fixtures = tempfile::tempdir()?;
    let list = fixtures.path().join("kedai.csv");
    std::fs::write(
        &list,
        "Name,Code,Ref\nAisyah,A-1,012-345 6789\nBala,B-2,n/a\nChen,C-3,n/a\n",
    )?;
    let app =
        App::launch_with(dir.path(), vec![(PICK_FILES.into(), OsString::from(&list))]).await?;

    // Numbers without a country code are Malaysian from now on.
    app.click("#nav a[data-screen=settings]").await?;
    let select = app.element("[data-testid=default-country]").await?;
    select.select_by_value("MY").await?;
    app.wait_for_text(
        "[data-testid=country-status]",
        "Saved: numbers without a country code are read as MY.",
    )
    .await?;

    app.click("#nav a[data-screen=audiences]").await?;
    app.click("[data-testid=pick-files]").await?;
    app.wait_for_text(
        "[data-testid=mapping] h2",
        "Which column holds the phone numbers?",
    )
    .await?;
    app.screenshot("import-mapping").await?;
    app.click("[data-testid=mapping] input[value=C]").await?;
    app.click("[data-testid=use-column]").await?;
    app.wait_for_text("[data-testid=count-recipients]", "1")
        .await?;
    app.wait_for_text("[data-testid=count-invalid]", "2")
        .await?;
    app.wait_for_text(
        "[data-testid=preview] tbody tr td:nth-child(1)",
        "+60123456789",
    )
    .await?;
    app.close().await
}
