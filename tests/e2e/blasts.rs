//! A rehearsal blast through the real app: choose an audience, write the
//! message, check a recipient's text, send, pause, resume, watch it complete,
//! read the report and export it.

use std::ffi::OsString;
use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::messenger::read_ledger;
use blastdesk_core::phone::Phone;
use blastdesk_core::store::AccountKind;
use fantoccini::Locator;

use crate::harness::{App, Result, bounded, one_message_a_second, step};

const SAVE_FILE: &str = "BLASTDESK_SAVE_FILE";
const CUSTOMERS: usize = 6;

#[tokio::test(flavor = "multi_thread")]
async fn a_rehearsal_blast_runs_to_complete_with_live_progress_pause_and_report() -> Result {
    bounded(rehearsal_blast()).await
}

/// A data folder with a saved audience, and a rehearsal account paced one
/// message a second, slow enough to watch and to pause.
fn prepare(dir: &std::path::Path) -> Result {
    let store = Store::open_in(dir)?;
    let recipients: Vec<Recipient> = (0..CUSTOMERS)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+6281200000{i:03}")),
            fields: Fields::new(vec![(Arc::from("Nama"), format!("Pelanggan {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect();
    store.save_audience("Pelanggan", &recipients, false, 0)?;
    let account = store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
    store.set_account_pacing(account, &one_message_a_second())?;
    Ok(())
}

async fn rehearsal_blast() -> Result {
    let dir = tempfile::tempdir()?;
    prepare(dir.path())?;
    let report = dir.path().join("exported report.xlsx");
    let app = App::launch_with(
        dir.path(),
        vec![(SAVE_FILE.into(), OsString::from(&report))],
    )
    .await?;

    step("choose the audience and write the message");
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-audiences] input[value=Pelanggan]")
        .await?;
    app.wait_for_text(
        "[data-testid=blast-recipients]",
        "6 recipients (0 numbers on the do-not-contact list left out).",
    )
    .await?;
    app.element("#blast-name")
        .await?
        .send_keys("Promo Desember")
        .await?;
    app.element("#template").await?.send_keys("Halo ").await?;
    app.click("[data-placeholder=Nama]").await?;
    app.element("#template")
        .await?
        .send_keys(", promo {hari ini|minggu ini}!")
        .await?;
    let rendered = app.text("[data-testid=rendered]").await?;
    assert!(
        rendered == "Halo Pelanggan 0, promo hari ini!"
            || rendered == "Halo Pelanggan 0, promo minggu ini!",
        "{rendered}"
    );
    // Pacing and the estimated finish are shown before sending, with the risks.
    let estimate = app.text("[data-testid=estimate]").await?;
    assert!(estimate.ends_with(" WIB"), "{estimate}");
    let risks = app.text("[data-testid=risks]").await?;
    assert!(risks.contains("No sending window"), "{risks}");
    assert!(risks.contains("No warm-up"), "{risks}");
    app.screenshot("new-blast").await?;

    step("change the pacing: a reversed range is refused, a warm-up is saved");
    app.click("[data-testid=change-pacing]").await?;
    set_field(&app, "minDelayS", "5").await?;
    app.click("[data-testid=save-pacing]").await?;
    app.wait_for_text(
        "[data-testid=pacing-error]",
        "The smallest pause between messages is larger than the largest.",
    )
    .await?;
    set_field(&app, "minDelayS", "1").await?;
    set_field(&app, "warmUpDays", "14").await?;
    app.click("[data-testid=save-pacing]").await?;
    app.element("[data-testid=change-pacing]").await?;
    let risks = app.text("[data-testid=risks]").await?;
    assert!(!risks.contains("No warm-up"), "{risks}");
    assert!(risks.contains("No sending window"), "{risks}");

    step("send, then pause while it runs");
    app.click("[data-testid=send-now]").await?;
    app.element("[data-testid=send-confirmation][data-kind=rehearsal]")
        .await?;
    let said = app.text("[data-testid=confirmation-text]").await?;
    assert!(said.contains("nothing reaches WhatsApp"), "{said}");
    app.click("[data-testid=confirm-send]").await?;
    let card = "[data-testid=blast-card]";
    app.element(&format!("{card}[data-state=running]")).await?;
    app.click(&format!("{card} [data-testid=pause]")).await?;
    app.element(&format!("{card}[data-state=paused]")).await?;
    app.wait_for_text(
        &format!("{card} [data-testid=state-line]"),
        "Paused by you.",
    )
    .await?;
    let sent_when_paused = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))
        .map(|l| l.len())
        .unwrap_or(0);
    assert!(
        sent_when_paused < CUSTOMERS,
        "paused after {sent_when_paused}"
    );
    app.screenshot("blast-paused").await?;

    step("resume and watch it complete");
    app.click(&format!("{card} [data-testid=resume]")).await?;
    app.element(&format!("{card}[data-state=completed]"))
        .await?;
    app.wait_for_text(&format!("{card} [data-testid=count-sent]"), "6")
        .await?;
    app.wait_for_text_that(
        &format!("{card} [data-testid=state-line]"),
        "the finished state",
        |t| t.starts_with("Finished today ") && t.ends_with(" WIB: 6 of 6 sent."),
    )
    .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    let mut phones: Vec<String> = ledger.iter().map(|e| e.phone.to_string()).collect();
    phones.sort();
    phones.dedup();
    assert_eq!((ledger.len(), phones.len()), (CUSTOMERS, CUSTOMERS));

    step("the report, and its export");
    app.click(&format!("{card} [data-testid=report]")).await?;
    app.element("[data-testid=report] tbody tr").await?;
    let rows = app
        .client
        .find_all(Locator::Css(
            "[data-testid=report] tbody tr[data-outcome=sent]",
        ))
        .await?;
    assert_eq!(rows.len(), CUSTOMERS);
    app.screenshot("blast-report").await?;
    app.click("[data-testid=export]").await?;
    app.element("[data-testid=notice]").await?;
    assert!(report.exists(), "the report was written");
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook(&report)?;
    use calamine::Reader as _;
    let sheet = workbook.worksheet_range("Report")?;
    assert_eq!(sheet.height(), CUSTOMERS + 1);
    app.close().await
}

/// Replaces the value of a pacing form field.
async fn set_field(app: &App, field: &str, value: &str) -> Result {
    let input = app
        .element(&format!(
            "[data-testid=pacing-form] input[data-field={field}]"
        ))
        .await?;
    input.clear().await?;
    input.send_keys(value).await?;
    Ok(())
}
