//! The rest of an owner's day in the real app: a rehearsal scheduled a
//! minute ahead runs by itself; an attachment goes with the message and the
//! draft survives closing the window; the do-not-contact list is kept by
//! hand and from a file; every control can be named by a screen reader and
//! the screens stay usable at 150% scaling, in light and dark.

use std::ffi::OsString;

use blastdesk_core::Store;
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::engine::Control;
use blastdesk_core::messenger::{MediaKind, read_ledger};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::runs::BlastState;
use fantoccini::Locator;

use crate::harness::{App, Result, bounded, step};
use crate::support::{SCREENS, THEMES, assert_theme, rehearse, show_screen};

/// A data folder past the welcome, so tests start where they mean to.
fn welcomed(dir: &std::path::Path) -> Result {
    Store::open_in(dir)?.set_setting_text("welcome_done", Some("yes"), 0)?;
    Ok(())
}

/// Opens the welcome (past the first run it is no longer in the menu, but
/// Settings leads back to it) and starts its rehearsal.
async fn start_rehearsal(app: &App) -> Result {
    app.click("#nav a[data-screen=settings]").await?;
    app.click("[data-testid=show-welcome]").await?;
    rehearse(app).await
}

/// Waits (polling, up to `limit`) until `done` says so; fails naming `what`.
async fn eventually(
    what: &str,
    limit: std::time::Duration,
    mut done: impl FnMut() -> Result<bool>,
) -> Result {
    let deadline = std::time::Instant::now() + limit;
    while !done()? {
        if std::time::Instant::now() > deadline {
            return Err(format!("{what} did not happen within {limit:?}").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rehearsal_scheduled_a_minute_ahead_runs_by_itself() -> Result {
    bounded(scheduled_rehearsal()).await
}

async fn scheduled_rehearsal() -> Result {
    let dir = tempfile::tempdir()?;
    // The first schedule switches Start at login on: under this home.
    let home = tempfile::tempdir()?;
    let app = App::launch_with(
        dir.path(),
        vec![("HOME".into(), home.path().as_os_str().to_owned())],
    )
    .await?;
    rehearse(&app).await?;

    step("schedule it for the next whole minute (two ahead near a minute's end)");
    let zone_name = app
        .element("[data-testid=plan] [data-testid=estimate]")
        .await?
        .attr("data-zone")
        .await?
        .ok_or("no zone on the estimate")?;
    let zone = blastdesk_core::zone::parse(&zone_name).ok_or("an unknown zone")?;
    let now = chrono::Utc::now().with_timezone(&zone);
    let ahead = if chrono::Timelike::second(&now) > 45 {
        2
    } else {
        1
    };
    let at = now + chrono::Duration::minutes(ahead);
    app.click("[data-testid=when-schedule]").await?;
    app.element("[data-testid=schedule-date]").await?;
    app.client
        .execute(
            "document.querySelector('[data-testid=schedule-date]').value = arguments[0];
             document.querySelector('[data-testid=schedule-time]').value = arguments[1];",
            vec![
                at.format("%Y-%m-%d").to_string().into(),
                at.format("%H:%M").to_string().into(),
            ],
        )
        .await?;
    app.click("[data-testid=schedule-blast]").await?;
    app.element("[data-testid=schedule-card]").await?;
    assert!(
        Store::open_in(dir.path())?.list_blasts()?.is_empty(),
        "nothing sent yet"
    );

    step("at that minute the scheduler makes the blast, and it completes");
    app.click("#nav a[data-screen=blasts]").await?;
    eventually(
        "the scheduled rehearsal",
        std::time::Duration::from_secs(150),
        || {
            let blasts = Store::open_in(dir.path())?.list_blasts()?;
            Ok(blasts
                .iter()
                .any(|b| b.state == BlastState::Completed && b.counts.sent == 6))
        },
    )
    .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    assert_eq!(ledger.len(), 6);
    let sent_at = ledger.iter().map(|e| e.at_ms).min().unwrap_or_default();
    assert!(
        sent_at >= at.with_timezone(&chrono::Utc).timestamp_millis() - 60_000,
        "not before its minute"
    );
    app.element("[data-testid=blast-card][data-state=completed]")
        .await?;
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn an_attachment_goes_with_the_message_and_the_draft_outlives_the_window() -> Result {
    bounded(attachment_and_draft()).await
}

async fn attachment_and_draft() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path())?;
    let files = tempfile::tempdir()?;
    let photo = files.path().join("promo.png");
    std::fs::write(&photo, include_bytes!("../../icons/32x32.png"))?;
    let env = || vec![("BLASTDESK_PICK_FILES".to_owned(), OsString::from(&photo))];

    step("a draft is written, then the app is closed");
    let app = App::launch_with(dir.path(), env()).await?;
    start_rehearsal(&app).await?;
    app.replace_text("#blast-name", "Rehearsal Desember")
        .await?;
    app.click("[data-testid=add-attachment]").await?;
    app.element("[data-testid=attachment-name]").await?;
    // The draft is kept a moment after the last change.
    let kept = || -> Result<Option<String>> {
        Ok(Store::open_in(dir.path())?.setting_text("blast_draft")?)
    };
    eventually(
        "keeping the draft",
        std::time::Duration::from_secs(10),
        || {
            let draft = kept()?.unwrap_or_default();
            Ok(draft.contains("Rehearsal Desember") && draft.contains("promo.png"))
        },
    )
    .await?;
    app.close().await?;

    step("opened again, New blast has the draft back");
    let app = App::launch_with(dir.path(), env()).await?;
    app.click("#nav a[data-screen=new-blast]").await?;
    app.wait_for_text_that("[data-testid=rendered]", "the draft's message", |t| {
        t.contains("Ayu")
    })
    .await?;
    let name = app.element("#blast-name").await?.prop("value").await?;
    assert_eq!(name.as_deref(), Some("Rehearsal Desember"));
    // A chosen file is known only while Blastdesk runs: after a restart it
    // must be chosen again, and the draft says so.
    app.wait_for_text(
        "[data-testid=dropped-files]",
        "Blastdesk was restarted since this draft was written: choose promo.png again.",
    )
    .await?;
    assert!(
        app.client
            .find(Locator::Css("[data-testid=attachment-name]"))
            .await
            .is_err()
    );

    step("attach the photo again: it shows in the review and goes with every message");
    app.click("[data-testid=add-attachment]").await?;
    app.wait_for_text_that("[data-testid=attachment-name]", "the photo", |t| {
        t.starts_with("Attached: promo.png (photo,")
    })
    .await?;
    app.wait_for_text("[data-testid=review-attachment]", "promo.png")
        .await?;
    app.click("[data-testid=send-now]").await?;
    app.click("[data-testid=confirm-send]").await?;
    app.element("[data-testid=blast-card][data-state=completed]")
        .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    assert_eq!(ledger.len(), 6);
    for entry in &ledger {
        let media = entry.media.as_ref().ok_or("a message without its photo")?;
        assert_eq!(media.kind, MediaKind::Image);
        assert_eq!(media.file_name.as_deref(), Some("promo.png"));
        assert!(
            media.path.starts_with(dir.path().join("attachments")),
            "a kept copy"
        );
    }
    assert_eq!(kept()?, None, "a sent draft is gone");
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_do_not_contact_list_is_kept_by_hand_and_from_a_file() -> Result {
    bounded(do_not_contact()).await
}

async fn do_not_contact() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path())?;
    let files = tempfile::tempdir()?;
    let list = files.path().join("complaints.csv");
    std::fs::write(
        &list,
        "phone,name\n0812 0000 0103,Citra\n0812-0000-0104,Dewi\nnot a number,X\n",
    )?;
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&list))],
    )
    .await?;
    app.click("#nav a[data-screen=do-not-contact]").await?;

    step("a typo is refused and nothing is added");
    app.type_into("[data-testid=dnc-numbers]", "0812 0000 0101, 12")
        .await?;
    app.click("[data-testid=dnc-add]").await?;
    app.wait_for_text_that("[data-testid=notice]", "the refusal", |t| {
        t.contains("12")
            && t.contains("is not a usable number")
            && t.ends_with("Nothing was added.")
    })
    .await?;
    assert!(Store::open_in(dir.path())?.do_not_contact()?.is_empty());
    // What was typed stays, to be corrected rather than typed again.
    let kept = app
        .element("[data-testid=dnc-numbers]")
        .await?
        .prop("value")
        .await?;
    assert_eq!(kept.as_deref(), Some("0812 0000 0101, 12"));

    step("by hand, then from a file");
    app.replace_text(
        "[data-testid=dnc-numbers]",
        "0812 0000 0101, +62 812-0000-0102",
    )
    .await?;
    app.click("[data-testid=dnc-add]").await?;
    app.wait_for_text(
        "[data-testid=notice]",
        "2 added, 0 already on the list, 0 unusable.",
    )
    .await?;
    app.click("[data-testid=dnc-add-file]").await?;
    app.wait_for_text(
        "[data-testid=notice]",
        "2 added, 0 already on the list, 1 unusable.",
    )
    .await?;
    let rows = app
        .client
        .find_all(Locator::Css("[data-testid=dnc-list] tbody tr"))
        .await?;
    assert_eq!(rows.len(), 4);
    app.wait_for_text_that(
        "[data-testid=dnc-list] tr[data-phone='+6281200000103'] td:nth-child(2)",
        "the file named",
        |t| t == "From a file · From complaints.csv",
    )
    .await?;

    step("the rehearsal leaves them out");
    app.click("#nav a[data-screen=settings]").await?;
    app.click("[data-testid=show-welcome]").await?;
    app.click("[data-testid=start-rehearsal]").await?;
    app.wait_for_text(
        "[data-testid=blast-recipients]",
        "2 recipients (4 numbers on the do-not-contact list left out).",
    )
    .await?;

    step("one is taken off again; the opt-out words are changed, an empty list refused");
    app.click("#nav a[data-screen=do-not-contact]").await?;
    app.click("[data-testid=dnc-list] tr[data-phone='+6281200000101'] [data-testid=dnc-remove]")
        .await?;
    app.confirm_dialog("dnc-remove").await?;
    app.wait_for_text("[data-testid=notice]", "+6281200000101 is off the list.")
        .await?;
    assert_eq!(Store::open_in(dir.path())?.do_not_contact()?.len(), 3);
    app.replace_text("[data-testid=opt-out-words]", " , ")
        .await?;
    app.click("[data-testid=save-opt-out-words]").await?;
    app.wait_for_text_that("[data-testid=notice]", "the refusal", |t| {
        t.contains("at least one opt-out word")
    })
    .await?;
    app.replace_text(
        "[data-testid=opt-out-words]",
        "stop, berhenti, jangan kirim",
    )
    .await?;
    app.click("[data-testid=save-opt-out-words]").await?;
    app.wait_for_text(
        "[data-testid=notice]",
        "Opt-out words: STOP, BERHENTI, JANGAN KIRIM.",
    )
    .await?;
    let words = Store::open_in(dir.path())?.opt_out_words()?;
    assert_eq!(words.matched("Jangan kirim!"), Some("JANGAN KIRIM"));

    step("the rehearsal's sample audience is deleted when no longer wanted");
    app.click("#nav a[data-screen=audiences]").await?;
    app.click("[data-testid=audience-list] [data-testid=delete-audience]")
        .await?;
    app.confirm_dialog("delete-audience").await?;
    app.wait_for_text(
        "main[data-screen=audiences] [data-testid=empty-state] h2",
        "No saved audiences yet",
    )
    .await?;
    assert!(Store::open_in(dir.path())?.audiences()?.is_empty());
    app.close().await
}

/// Every control of the screen shown has a name a screen reader can say,
/// no control is taken out of the keyboard's reach, and nothing is wider
/// than the window.
const ACCESSIBILITY_AUDIT: &str = r#"
const problems = [];
const name = (el) => {
  if (el.getAttribute("aria-label")) return el.getAttribute("aria-label");
  if (el.getAttribute("aria-labelledby")) return document.getElementById(el.getAttribute("aria-labelledby"))?.textContent;
  if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(" ");
  if (el.closest("label")) return el.closest("label").textContent;
  if (el.tagName === "BUTTON" || el.tagName === "A") return el.textContent;
  if (el.getAttribute("title")) return el.getAttribute("title");
  return "";
};
for (const el of document.querySelectorAll("button, a[href], input, select, textarea")) {
  if (el.type === "hidden") continue;
  if (!(name(el) ?? "").trim()) problems.push(`no name: ${el.outerHTML.slice(0, 120)}`);
  if (Number(el.getAttribute("tabindex")) < 0 && !el.closest("[hidden]")) problems.push(`out of keyboard reach: ${el.outerHTML.slice(0, 120)}`);
}
for (const el of document.querySelectorAll("[onclick], div[role=button], span[role=button]")) {
  problems.push(`clickable non-control: ${el.outerHTML.slice(0, 120)}`);
}
const width = document.documentElement.clientWidth;
for (const el of document.querySelectorAll("main *")) {
  if (el.closest(".table-wrap")) continue;
  const box = el.getBoundingClientRect();
  if (box.width > 0 && box.right > width + 1) { problems.push(`wider than the window: ${el.outerHTML.slice(0, 120)}`); break; }
}
return problems;
"#;

#[tokio::test(flavor = "multi_thread")]
async fn every_screen_is_named_for_screen_readers_and_fits_at_125_and_150_percent_in_light_and_dark()
-> Result {
    bounded(accessibility()).await
}

async fn accessibility() -> Result {
    let mut backgrounds = Vec::new();
    for (theme, env) in THEMES {
        let dir = tempfile::tempdir()?;
        let app =
            App::launch_with(dir.path(), vec![("GTK_THEME".into(), OsString::from(env))]).await?;
        step(&format!(
            "{theme}: the rehearsal, so every screen has content"
        ));
        rehearse(&app).await?;
        assert_theme(&app, theme).await?;
        let background = app
            .client
            .execute(
                "return getComputedStyle(document.body).backgroundColor",
                vec![],
            )
            .await?;
        backgrounds.push(background.as_str().unwrap_or_default().to_owned());
        for zoom in ["1.25", "1.5"] {
            app.client
                .execute(
                    "document.documentElement.style.zoom = arguments[0]",
                    vec![zoom.into()],
                )
                .await?;
            for screen in SCREENS {
                show_screen(&app, screen).await?;
                let problems = app.client.execute(ACCESSIBILITY_AUDIT, vec![]).await?;
                let problems: Vec<String> = serde_json::from_value(problems)?;
                assert!(
                    problems.is_empty(),
                    "{theme} {screen} at {zoom}: {problems:#?}"
                );
                if screen == "new-blast" && zoom == "1.5" {
                    app.screenshot_for_docs(&format!("new-blast-150-{theme}"))
                        .await?;
                }
            }
        }
        step(&format!("{theme}: the keyboard alone reaches Send now"));
        app.client
            .execute("location.hash = '#/new-blast'", vec![])
            .await?;
        // Once the screen has read its recipients and drawn their message.
        app.element("main[data-screen=new-blast] [data-testid=review-finish]")
            .await?;
        app.element("main[data-screen=new-blast] [data-testid=rendered]")
            .await?;
        let mut reached = false;
        for _ in 0..120 {
            let pressed = async {
                app.client
                    .active_element()
                    .await?
                    .send_keys("\u{e004}") // Tab
                    .await
            };
            match pressed.await {
                Ok(()) => {}
                // Redrawn between finding the focused control and pressing:
                // press again.
                Err(fantoccini::error::CmdError::Standard(error))
                    if error.error == fantoccini::error::ErrorStatus::StaleElementReference => {}
                Err(error) => return Err(error.into()),
            }
            let focused = app
                .client
                .execute(
                    "return document.activeElement?.dataset?.testid ?? ''",
                    vec![],
                )
                .await?;
            if focused.as_str() == Some("send-now") {
                reached = true;
                break;
            }
        }
        assert!(reached, "{theme}: Send now is not reachable with Tab");
        let outline = app
            .client
            .execute(
                "const style = getComputedStyle(document.activeElement);
                 return style.outlineStyle + ' ' + style.outlineWidth;",
                vec![],
            )
            .await?;
        let outline = outline.as_str().unwrap_or_default();
        assert!(
            !outline.starts_with("none") && !outline.ends_with(" 0px"),
            "{theme}: the focused control shows no focus ring ({outline})"
        );
        app.close().await?;
    }
    assert_ne!(backgrounds[0], backgrounds[1], "the dark theme looks dark");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_list_added_on_new_blast_is_previewed_there_and_sent() -> Result {
    bounded(list_on_new_blast()).await
}

async fn list_on_new_blast() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path())?;
    let files = tempfile::tempdir()?;
    let list = files.path().join("pelanggan.csv");
    std::fs::write(
        &list,
        "telepon,nama\n0812 3456 0001,Ani\n0812 3456 0002,Budi\nbukan nomor,Citra\n0812-3456-0001,Ani Baru\n",
    )?;
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&list))],
    )
    .await?;

    step("the file's preview on the Recipients step: who, and what was left out");
    app.click("#nav a[data-screen=new-blast]").await?;
    app.click("[data-testid=blast-add-files]").await?;
    app.wait_for_text(
        "[data-testid=blast-recipients]",
        "2 recipients (0 numbers on the do-not-contact list left out).",
    )
    .await?;
    app.wait_for_text(
        "[data-testid=blast-preview-problems]",
        "1 row cannot be used; 1 duplicate merged.",
    )
    .await?;

    step("the message for a customer found by name, with its length");
    app.type_into("#template", "Halo {nama}!").await?;
    app.wait_for_text("[data-testid=rendered]", "Halo Ani Baru!")
        .await?;
    app.type_into("[data-testid=find-recipient]", "budi\u{e007}")
        .await?;
    app.wait_for_text("[data-testid=rendered]", "Halo Budi!")
        .await?;
    app.wait_for_text(
        "[data-testid=rendered-length]",
        "10 characters in this customer's message",
    )
    .await?;
    app.wait_for_text_that("[data-testid=duration]", "a duration", |t| {
        t.starts_with("Sending takes about ")
    })
    .await?;

    step("sent from the rehearsal account to exactly those two");
    app.click("[data-testid=send-now]").await?;
    app.click("[data-testid=confirm-send]").await?;
    app.element("[data-testid=blast-card][data-state=completed]")
        .await?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    let mut sent: Vec<(String, String)> = ledger
        .iter()
        .map(|e| (e.phone.to_string(), e.text.clone()))
        .collect();
    sent.sort();
    assert_eq!(
        sent,
        [
            ("+6281234560001".to_owned(), "Halo Ani Baru!".to_owned()),
            ("+6281234560002".to_owned(), "Halo Budi!".to_owned()),
        ]
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blast_cancelled_from_the_command_line_is_caught_up_on_the_blasts_screen() -> Result {
    bounded(caught_up()).await
}

async fn caught_up() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path())?;
    step("a rehearsal paced a minute apart, so it is still sending");
    let blast = {
        let store = Store::open_in(dir.path())?;
        blastdesk_core::sample::save(&store, 0)?;
        let account =
            store.ensure_account("Rehearsal", AccountKind::Simulated, "Asia/Jakarta", 0)?;
        store.set_account_pacing(
            account,
            &Pacing {
                enabled: true,
                min_delay_s: 60,
                max_delay_s: 60,
                window: None,
                ..Pacing::default()
            },
        )?;
        let recipients = blastdesk_core::sample::recipients();
        blast::create(
            &store,
            &NewBlast {
                name: "Promo",
                template: "Promo!",
                sender: Sender::Account(account),
                recipients: &recipients,
                options: BlastOptions::default(),
                attach: None,
            },
            0,
        )?
        .blast_id
    };
    let app = App::launch(dir.path()).await?;
    app.click("#nav a[data-screen=blasts]").await?;
    let card = format!("[data-testid=blast-card][data-blast-id=\"{blast}\"]");
    app.element(&format!("{card}[data-state=running]")).await?;

    step("cancelled by another program (the command line): no event reaches the window");
    let store = Store::open_in(dir.path())?;
    Control::new(store.clone()).cancel(blast, chrono::Utc::now().timestamp_millis())?;
    assert_eq!(store.blast_summary(blast)?.state, BlastState::Cancelled);
    app.element(&format!("{card}[data-state=cancelled]"))
        .await?;
    app.close().await
}
