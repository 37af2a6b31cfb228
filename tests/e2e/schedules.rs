//! Scheduling through the real app: a weekly blast in Asia/Jakarta (only the
//! fields a weekly rule needs, its next run shown in the schedule's zone as
//! WIB, edited, paused, resumed and deleted), a blast scheduled from New
//! blast, and starting at login.

use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::phone::Phone;
use blastdesk_core::schedule::Rule;
use blastdesk_core::store::AccountKind;

use crate::harness::{App, Result, bounded};

/// A data folder with an audience "Pelanggan" and a rehearsal account in Jakarta.
fn prepare(dir: &std::path::Path) -> Result {
    let store = Store::open_in(dir)?;
    let recipients = [Recipient {
        phone: Phone::from_e164_unchecked("+6281200000001".into()),
        fields: Fields::new(vec![(Arc::from("Nama"), "Dewi".into())]),
        source: Source::Audience {
            audience: Arc::from("Pelanggan"),
        },
    }];
    store.save_audience("Pelanggan", &recipients, false, 0)?;
    store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_weekly_schedule_is_made_shown_paused_and_resumed() -> Result {
    bounded(weekly_schedule()).await
}

async fn weekly_schedule() -> Result {
    let dir = tempfile::tempdir()?;
    prepare(dir.path())?;
    let list = dir.path().join("pelanggan-minggu-ini.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\n")?;
    // The first schedule switches Start at login on: under this home.
    let home = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![
            ("BLASTDESK_PICK_FILES".into(), list.as_os_str().to_owned()),
            ("HOME".into(), home.path().as_os_str().to_owned()),
        ],
    )
    .await?;
    app.click("#nav a[data-screen=schedules]").await?;
    app.element("#schedule-name")
        .await?
        .send_keys("Promo Senin")
        .await?;
    app.click("[data-testid=schedule-form] input[data-audience=Pelanggan]")
        .await?;
    app.element("#schedule-template")
        .await?
        .send_keys("Halo {Nama}")
        .await?;
    // Only the fields a repeat needs: a weekly one has days and a time.
    app.element("#schedule-repeat")
        .await?
        .select_by_value("weekly")
        .await?;
    app.element("[data-testid=schedule-form] [data-testid=rule-fields][data-repeat=weekly]")
        .await?;
    assert!(
        app.client
            .find(fantoccini::Locator::Css(
                "[data-testid=schedule-form] #schedule-date"
            ))
            .await
            .is_err(),
        "no date for a weekly schedule"
    );
    app.click("[data-testid=schedule-form] input[data-weekday='1']")
        .await?;
    app.click("[data-testid=schedule-form] input[data-weekday='4']")
        .await?;
    // A 24-hour time, written either way; the zone picked from a list.
    app.replace_text("#schedule-time", "09.00").await?;
    app.element("#schedule-zone")
        .await?
        .select_by_value("Asia/Jakarta")
        .await?;
    app.click("[data-testid=save-schedule]").await?;

    let card = "[data-testid=schedule-card]";
    app.wait_for_text(
        &format!("{card} [data-testid=schedule-rule]"),
        "Every Mon, Thu at 09:00 WIB",
    )
    .await?;
    let next = app.text(&format!("{card} [data-testid=next-run]")).await?;
    assert!(
        next.starts_with("Next run: ") && next.contains("WIB"),
        "{next}"
    );
    app.element("[data-testid=login-notice]").await?;
    app.screenshot("schedules").await?;

    let store = Store::open_in(dir.path())?;
    let stored = &store.list_schedules()?[0];
    assert_eq!(
        stored.spec.rule,
        Rule::Weekly {
            days: vec![1, 4],
            time: blastdesk_core::pacing::LocalTime::hm(9, 0)
        }
    );
    assert_eq!(stored.spec.blast.audiences, ["Pelanggan"]);

    // Edit: a later time, and a spreadsheet read again before each run.
    app.click(&format!("{card} [data-testid=edit-schedule]"))
        .await?;
    app.element("#schedule-time").await?;
    app.client
        .execute(
            "document.querySelector('#schedule-time').value = '10:30';",
            vec![],
        )
        .await?;
    app.click("[data-testid=choose-linked]").await?;
    app.wait_for_text(
        "[data-testid=linked-file]",
        "Read again before each run: pelanggan-minggu-ini.csv",
    )
    .await?;
    app.click("[data-testid=save-schedule]").await?;
    app.wait_for_text(
        &format!("{card} [data-testid=schedule-rule]"),
        "Every Mon, Thu at 10:30 WIB",
    )
    .await?;
    let edited = &store.list_schedules()?[0];
    assert_eq!(
        edited.spec.refresh.as_ref().map(|r| r.file.clone()),
        Some(list.clone())
    );

    app.click(&format!("{card} [data-testid=pause-schedule]"))
        .await?;
    app.element(&format!("{card}[data-enabled=false]")).await?;
    app.click(&format!("{card} [data-testid=resume-schedule]"))
        .await?;
    app.element(&format!("{card}[data-enabled=true]")).await?;

    // Deleting asks first, in the app's own dialog.
    app.click(&format!("{card} [data-testid=delete-schedule]"))
        .await?;
    app.confirm_dialog("delete-schedule").await?;
    app.element("main[data-screen=schedules] [data-testid=empty-state]")
        .await?;
    assert!(store.list_schedules()?.is_empty());
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn new_blast_can_be_scheduled_instead_of_sent_now() -> Result {
    bounded(schedule_from_new_blast()).await
}

async fn schedule_from_new_blast() -> Result {
    let dir = tempfile::tempdir()?;
    prepare(dir.path())?;
    let home = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![("HOME".into(), home.path().as_os_str().to_owned())],
    )
    .await?;
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-audiences] input[value=Pelanggan]")
        .await?;
    app.type_into("#blast-name", "Promo Natal").await?;
    app.type_into("#template", "Selamat Natal {Nama}").await?;
    let day = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    app.click("[data-testid=when-schedule]").await?;
    // Date inputs take their value from script: WebDriver typing into them is locale-bound.
    app.client
        .execute(
            "document.querySelector('[data-testid=schedule-date]').value = arguments[0];",
            vec![serde_json::Value::from(day.clone())],
        )
        .await?;
    app.replace_text("[data-testid=schedule-time]", "09:00")
        .await?;
    app.click("[data-testid=schedule-blast]").await?;
    app.wait_for_text_that("[data-testid=schedule-rule]", "the rule in words", |t| {
        t.starts_with("Once, on ") && t.ends_with(" at 09:00 WIB")
    })
    .await?;
    let store = Store::open_in(dir.path())?;
    let schedule = &store.list_schedules()?[0];
    assert_eq!(schedule.spec.blast.template, "Selamat Natal {Nama}");
    assert_eq!(schedule.spec.blast.audiences, ["Pelanggan"]);
    assert!(store.list_blasts()?.is_empty(), "nothing sent now");
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn start_at_login_is_turned_on_and_off_in_settings() -> Result {
    bounded(start_at_login()).await
}

async fn start_at_login() -> Result {
    let dir = tempfile::tempdir()?;
    // The login items go under this home, not the developer's.
    let home = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![("HOME".into(), home.path().as_os_str().to_owned())],
    )
    .await?;
    app.click("#nav a[data-screen=settings]").await?;
    app.click("#start-at-login").await?;
    app.wait_for_text(
        "[data-testid=login-status]",
        "Blastdesk will start in the tray when you log in.",
    )
    .await?;
    let autostart = home.path().join(".config").join("autostart");
    let entries: Vec<_> = std::fs::read_dir(&autostart)?.flatten().collect();
    assert_eq!(entries.len(), 1);
    let desktop = std::fs::read_to_string(entries[0].path())?;
    assert!(desktop.contains("--in-tray"), "{desktop}");
    app.click("#start-at-login").await?;
    app.wait_for_text(
        "[data-testid=login-status]",
        "Blastdesk will not start by itself.",
    )
    .await?;
    assert_eq!(std::fs::read_dir(&autostart)?.count(), 0);
    app.close().await
}
