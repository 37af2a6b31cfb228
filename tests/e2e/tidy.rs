//! End-to-end tests of the tidy part of the window (issue 14): every screen
//! readable (text and controls contrast) in light and dark, with no live
//! region larger than a line; pacing as presets; Settings' technical part
//! behind Advanced; Do not contact searchable, fed by a dropped file; the
//! app's own question instead of `confirm()`; a drop that goes where the
//! screen shown needs it.

use std::ffi::OsString;
use std::path::Path;
use std::str::FromStr;

use blastdesk_core::Store;
use blastdesk_core::pacing::{Pacing, Preset};
use blastdesk_core::phone::{Country, Phone};
use fantoccini::Locator;

use crate::harness::{App, Result, bounded, step};
use crate::support::{SCREENS, THEMES, assert_theme, rehearse, show_screen};

/// A data folder past the welcome, in `language` (None: the system's).
fn welcomed(dir: &Path, language: Option<&str>) -> Result {
    let store = Store::open_in(dir)?;
    store.set_setting_text("welcome_done", Some("yes"), 0)?;
    store.set_setting_text("ui_language", language, 0)?;
    Ok(())
}

/// Drops the files `BLASTDESK_PICK_FILES` names on the window: they are
/// granted as a picked file is, then go where a native drop goes
/// (app.js, `blastdesk:files-dropped`); a test cannot drag from a file
/// manager. Returns how many files were dropped.
async fn drop_files(app: &App) -> Result<u64> {
    let dropped = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__TAURI__.core.invoke('pick_files').then(
               (files) => {
                 window.dispatchEvent(new CustomEvent('blastdesk:files-dropped', { detail: files }));
                 done(files.length);
               },
               (error) => done(String(error?.message ?? error)),
             );",
            vec![],
        )
        .await?;
    dropped
        .as_u64()
        .ok_or_else(|| format!("the drop failed: {dropped}").into())
}

/// What the drop overlay says on the screen shown.
async fn drop_hint(app: &App) -> Result<String> {
    let hint = app
        .client
        .execute(
            "window.dispatchEvent(new CustomEvent('blastdesk:drag-hover', { detail: true }));
             const hint = document.body.dataset.dropHint;
             const shown = document.body.classList.contains('drag-hover')
               && getComputedStyle(document.body, '::after').content.includes(hint);
             window.dispatchEvent(new CustomEvent('blastdesk:drag-hover', { detail: false }));
             return shown ? hint : `not shown: ${hint}`;",
            vec![],
        )
        .await?;
    Ok(hint.as_str().unwrap_or_default().to_owned())
}

/// The numbers the do-not-contact list shows (the search hides the others).
async fn visible_rows(app: &App) -> Result<Vec<String>> {
    let rows = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=dnc-list] tbody tr')].filter((r) => !r.hidden).map((r) => r.dataset.phone)",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(rows)?)
}

/// Clicks the element at `css` once it is scrolled to the middle of the
/// window (not under New blast's sticky action bar).
async fn click_centred(app: &App, css: &str) -> Result {
    app.element(css).await?;
    app.scroll_into_view(css, "center").await?;
    app.click(css).await
}

/// Whether the element at `css` is shown.
async fn shown(app: &App, css: &str) -> Result<bool> {
    app.element(css).await?;
    let shown = app
        .client
        .execute(
            "const el = document.querySelector(arguments[0]);
             if (el === null || !el.checkVisibility({ visibilityProperty: true })) return false;
             const closed = el.closest('details:not([open])');
             return closed === null || closed.querySelector(':scope > summary').contains(el);",
            vec![css.into()],
        )
        .await?;
    Ok(shown.as_bool() == Some(true))
}

/// WCAG 2.x contrast of what the screen shows: every visible text against
/// its effective background (ancestors' backgrounds composited), 4.5:1, or
/// 3:1 for large text (24px, or 18.66px bold); every enabled control
/// (field, list, button, check box) 3:1 for its edge or its fill against
/// what surrounds it (a text-only button: its text, 3:1). Disabled controls
/// are exempt, as WCAG says. (A placeholder cannot be measured: WebKit
/// gives `::placeholder` the field's own colour; styles.css draws it in
/// `--muted`, which is measured as text everywhere else.) Returns the
/// offenders, one line each.
const CONTRAST_AUDIT: &str = r#"
const parse = (value) => {
  if (!value || value === "transparent") return { r: 0, g: 0, b: 0, a: 0 };
  let m = value.match(/^rgba?\(([^)]+)\)$/);
  if (m) {
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  }
  m = value.match(/^color\(srgb ([^)]+)\)$/);
  if (m) {
    const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
    return { r: p[0] * 255, g: p[1] * 255, b: p[2] * 255, a: p.length > 3 ? p[3] : 1 };
  }
  return null;
};
const over = (top, bottom) => ({
  r: top.r * top.a + bottom.r * (1 - top.a),
  g: top.g * top.a + bottom.g * (1 - top.a),
  b: top.b * top.a + bottom.b * (1 - top.a),
  a: 1,
});
const luminance = ({ r, g, b }) => {
  const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const ratio = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};
const canvas = () => {
  const body = parse(getComputedStyle(document.body).backgroundColor);
  const html = parse(getComputedStyle(document.documentElement).backgroundColor);
  const white = { r: 255, g: 255, b: 255, a: 1 };
  return over(body ?? white, over(html ?? white, white));
};
// The colour behind `el` (its own background included when `own`), or null
// where a picture is behind it (not measurable).
const behind = (el, own) => {
  const layers = [];
  for (let node = own ? el : el.parentElement; node && node !== document.documentElement; node = node.parentElement) {
    const style = getComputedStyle(node);
    if (style.backgroundImage !== "none") return null;
    const color = parse(style.backgroundColor);
    if (color && color.a > 0) layers.push(color);
    if (color && color.a >= 1) break;
  }
  let result = canvas();
  for (const layer of layers.reverse()) result = over(layer, result);
  return result;
};
const opacityOf = (el) => {
  let o = 1;
  for (let node = el; node; node = node.parentElement) o *= Number(getComputedStyle(node).opacity);
  return o;
};
const visible = (el) => {
  if (!el.getClientRects().length || !el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
  const style = getComputedStyle(el);
  return style.visibility === "visible" && Number(style.opacity) > 0;
};
const describe = (el, text) => {
  const id = el.dataset?.testid ? `[data-testid=${el.dataset.testid}]` : el.id ? `#${el.id}` : el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : "";
  return `${el.tagName.toLowerCase()}${id} "${(text ?? "").trim().slice(0, 40)}"`;
};
const disabled = (el) => el.disabled || el.closest("fieldset[disabled]") !== null || el.getAttribute("aria-disabled") === "true";
const problems = [];
const seen = new Set();
for (const el of document.querySelectorAll("body *")) {
  if (!visible(el) || ["SCRIPT", "STYLE", "svg", "path", "OPTION"].includes(el.tagName)) continue;
  const style = getComputedStyle(el);
  const control = el.matches("button, select, textarea, input:not([type=hidden])");
  if (control && disabled(el)) continue;
  const text = [...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join("").trim()
    || (el.matches("input:not([type=checkbox]):not([type=radio]), textarea") ? el.value : "");
  if (text) {
    const bg = behind(el, true);
    const fg = parse(style.color);
    if (bg && fg) {
      const color = over({ ...fg, a: fg.a * opacityOf(el) }, bg);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      const needed = large ? 3 : 4.5;
      const r = ratio(color, bg);
      const line = `text ${describe(el, text)}: ${r.toFixed(2)}:1 (needs ${needed})`;
      if (r < needed - 0.005 && !seen.has(line)) { seen.add(line); problems.push(line); }
    }
  }
  if (control) {
    const around = behind(el, false);
    if (!around) continue;
    let r;
    let what;
    if (el.matches("input[type=checkbox], input[type=radio]") && style.appearance !== "none") {
      const accent = parse(style.accentColor);
      r = accent ? ratio(over(accent, around), around) : 0;
      what = `accent-color ${style.accentColor}`;
    } else {
      const fill = parse(style.backgroundColor);
      const edge = parseFloat(style.borderTopWidth) > 0 && style.borderTopStyle !== "none" ? parse(style.borderTopColor) : null;
      const candidates = [];
      if (fill && fill.a > 0) candidates.push(ratio(over(fill, around), around));
      if (edge && edge.a > 0) candidates.push(ratio(over(edge, around), around));
      if (!candidates.length || Math.max(...candidates) < 1.01) {
        // Neither fill nor edge: a text-only button, known by its text.
        const fg = parse(style.color);
        candidates.push(fg ? ratio(over(fg, around), around) : 0);
        what = "text-only";
      } else what = "edge or fill";
      r = Math.max(...candidates);
    }
    const line = `control ${describe(el, el.getAttribute("aria-label") ?? el.textContent)} (${what}): ${r.toFixed(2)}:1 (needs 3)`;
    if (r < 3 - 0.005 && !seen.has(line)) { seen.add(line); problems.push(line); }
  }
}
return problems;
"#;

/// Live regions stay small: a line that changes (the progress line, a
/// status next to a control), never the main area or a whole screen that
/// a screen reader would read again on every update. An error panel may be
/// an alert.
const LIVE_REGION_AUDIT: &str = r#"
const problems = [];
for (const el of document.querySelectorAll("[aria-live], [role=status], [role=alert], [role=log], output")) {
  if (el.getAttribute("aria-live") === "off") continue;
  const name = `${el.tagName.toLowerCase()}${el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : el.id ? `#${el.id}` : ""}`;
  if (el.matches("main, body, .shell, #screen") || el.querySelector("main, #screen")) problems.push(`${name}: the whole window or main area is live`);
  else if (el.querySelector("h1")) problems.push(`${name}: a whole screen is live`);
  else if (!el.matches(".error-panel") && el.querySelectorAll("*").length > 30) problems.push(`${name}: ${el.querySelectorAll("*").length} elements are live`);
}
return problems;
"#;

/// Runs both audits on what is shown; adds what they find, named by `place`.
async fn audit(app: &App, place: &str, offenders: &mut Vec<String>) -> Result {
    for script in [CONTRAST_AUDIT, LIVE_REGION_AUDIT] {
        let found = app.client.execute(script, vec![]).await?;
        let found: Vec<String> = serde_json::from_value(found)?;
        offenders.extend(found.into_iter().map(|p| format!("{place}: {p}")));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_screen_is_readable_in_light_and_dark_and_only_small_parts_are_live() -> Result {
    bounded(contrast()).await
}

async fn contrast() -> Result {
    let mut offenders = Vec::new();
    for (theme, gtk) in THEMES {
        let dir = tempfile::tempdir()?;
        // Something on the do-not-contact list, so its table is measured.
        Store::open_in(dir.path())?.add_do_not_contact(
            &Phone::from_e164_unchecked("+6281200000999".into()),
            "manual",
            0,
        )?;
        let app =
            App::launch_with(dir.path(), vec![("GTK_THEME".into(), OsString::from(gtk))]).await?;
        step(&format!(
            "{theme}: the rehearsal, so every screen has content"
        ));
        rehearse(&app).await?;
        // Light and dark are two different audits, never the same one twice.
        assert_theme(&app, theme).await?;
        step(&format!(
            "{theme}: the audit finds a planted faint text and a faint field"
        ));
        let planted = app
            .client
            .execute(
                &format!(
                    "const main = document.getElementById('screen');
                     main.prepend(Object.assign(document.createElement('p'), {{ id: 'planted-text', textContent: 'faint', style: 'color: #999; background: #aaa' }}));
                     main.prepend(Object.assign(document.createElement('input'), {{ id: 'planted-field', style: 'border: 1px solid rgb(128 128 128 / 5%); background: transparent; color: rgb(128 128 128 / 5%)' }}));
                     const found = (() => {{ {CONTRAST_AUDIT} }})();
                     document.getElementById('planted-text').remove();
                     document.getElementById('planted-field').remove();
                     return found;"
                ),
                vec![],
            )
            .await?;
        let planted: Vec<String> = serde_json::from_value(planted)?;
        assert!(
            planted.iter().any(|p| p.contains("#planted-text"))
                && planted.iter().any(|p| p.contains("#planted-field")),
            "{planted:#?}"
        );
        for screen in SCREENS {
            show_screen(&app, screen).await?;
            audit(&app, &format!("{screen} ({theme})"), &mut offenders).await?;
        }
        step(&format!(
            "{theme}: what opens on a screen: Advanced, the pacing form, the app's question"
        ));
        show_screen(&app, "settings").await?;
        app.click("[data-testid=advanced] summary").await?;
        audit(
            &app,
            &format!("settings, Advanced open ({theme})"),
            &mut offenders,
        )
        .await?;
        show_screen(&app, "new-blast").await?;
        click_centred(&app, "[data-testid=change-pacing]").await?;
        click_centred(&app, "[data-testid=preset-custom]").await?;
        audit(
            &app,
            &format!("new-blast, pacing form ({theme})"),
            &mut offenders,
        )
        .await?;
        show_screen(&app, "do-not-contact").await?;
        app.click("[data-testid=dnc-remove]").await?;
        app.element("[data-testid=dialog][data-kind=dnc-remove]")
            .await?;
        audit(
            &app,
            &format!("do-not-contact, the question ({theme})"),
            &mut offenders,
        )
        .await?;
        app.click("[data-testid=dialog-cancel]").await?;
        app.close().await?;
    }
    assert!(
        offenders.is_empty(),
        "too little contrast, or too much read aloud:\n{}",
        offenders.join("\n")
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn pacing_is_a_preset_with_its_meaning_and_custom_shows_the_details() -> Result {
    bounded(pacing_presets()).await
}

async fn pacing_presets() -> Result {
    for language in ["en", "id"] {
        let dir = tempfile::tempdir()?;
        welcomed(dir.path(), Some(language))?;
        let app = App::launch(dir.path()).await?;
        show_screen(&app, "welcome").await?;
        rehearse(&app).await?;

        step(&format!(
            "{language}: a rehearsal is unpaced: the form opens on Custom"
        ));
        click_centred(&app, "[data-testid=change-pacing]").await?;
        app.element("[data-testid=pacing-presets]").await?;
        assert!(shown(&app, "[data-testid=pacing-custom]").await?);

        step(&format!(
            "{language}: Safe says what it means and hides the details"
        ));
        click_centred(&app, "[data-testid=preset-safe]").await?;
        let meaning = app
            .text("[data-preset=safe] [data-testid=preset-meaning]")
            .await?;
        let expected = if language == "en" {
            "About 30 messages an hour, at most 100 a day, from 09:00 to 19:00."
        } else {
            "Sekitar 30 pesan per jam, paling banyak 100 sehari, dari pukul 09:00 sampai 19:00."
        };
        assert_eq!(meaning, expected);
        assert!(!shown(&app, "[data-testid=pacing-custom]").await?);
        let names: Vec<String> = {
            let mut names = Vec::new();
            for option in app
                .client
                .find_all(Locator::Css("[data-testid=pacing-presets] .preset-name"))
                .await?
            {
                names.push(option.text().await?);
            }
            names
        };
        let expected: [&str; 4] = if language == "en" {
            ["Safe", "Normal", "Fast", "Custom"]
        } else {
            ["Aman", "Normal", "Cepat", "Atur sendiri"]
        };
        assert_eq!(names, expected);
        app.scroll_into_view("[data-testid=pacing-presets]", "center")
            .await?;
        app.screenshot_for_docs(&format!("pacing-presets-{language}"))
            .await?;

        step(&format!(
            "{language}: saved, it is the account's pacing and shown chosen again"
        ));
        click_centred(&app, "[data-testid=save-pacing]").await?;
        app.element("[data-testid=change-pacing]").await?;
        let store = Store::open_in(dir.path())?;
        let account = blastdesk_core::blast::rehearsal_account(&store, 0)?;
        assert_eq!(
            store.account_pacing(account)?.pacing,
            Pacing::preset(Preset::Safe)
        );
        click_centred(&app, "[data-testid=change-pacing]").await?;
        let chosen = app
            .element("[data-testid=preset-safe]")
            .await?
            .prop("checked")
            .await?;
        assert_eq!(chosen.as_deref(), Some("true"));
        assert!(!shown(&app, "[data-testid=pacing-custom]").await?);

        step(&format!(
            "{language}: Custom shows the details, rests in minutes"
        ));
        click_centred(&app, "[data-testid=preset-custom]").await?;
        assert!(shown(&app, "[data-testid=pacing-custom]").await?);
        let rest = app
            .element("[data-testid=pacing-form] input[data-field=restMinM]")
            .await?
            .prop("value")
            .await?;
        assert_eq!(rest.as_deref(), Some("5"), "Safe's 5-minute rest");
        let rest = app
            .element("[data-testid=pacing-form] input[data-field=restMinM]")
            .await?;
        rest.clear().await?;
        rest.send_keys("7").await?;
        click_centred(&app, "[data-testid=save-pacing]").await?;
        app.element("[data-testid=change-pacing]").await?;
        let saved = store.account_pacing(account)?.pacing;
        assert_eq!(saved.rest_min_s, 7 * 60);
        assert_eq!(Preset::of(&saved), None, "a changed preset is custom");
        app.close().await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_keep_the_technical_part_behind_advanced_and_a_dropped_backup_is_asked_about()
-> Result {
    bounded(settings()).await
}

async fn settings() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path(), None)?;
    let files = tempfile::tempdir()?;
    let backup = files.path().join("Blastdesk backup.blastdesk");
    Store::open_in(dir.path())?.backup_to(&backup)?;
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&backup))],
    )
    .await?;

    step("the owner's settings first, the technical ones behind a closed Advanced");
    show_screen(&app, "settings").await?;
    let headings = app
        .client
        .execute(
            "return [...document.querySelectorAll('main h2, main summary .advanced-title')].map((h) => h.textContent)",
            vec![],
        )
        .await?;
    let headings: Vec<String> = serde_json::from_value(headings)?;
    assert_eq!(
        headings,
        [
            "Language",
            "Phone numbers",
            "Start-up",
            "Your data",
            "Updates",
            "Advanced"
        ]
    );
    let advanced = app.element("[data-testid=advanced]").await?;
    assert_eq!(advanced.attr("open").await?, None, "closed by default");
    assert!(!shown(&app, "[data-testid=version]").await?);
    assert!(!shown(&app, "#whatsapp-version").await?);
    app.click("[data-testid=advanced] summary").await?;
    app.wait_for_text("[data-testid=version]", env!("CARGO_PKG_VERSION"))
        .await?;
    assert!(shown(&app, "#whatsapp-version").await?);
    assert!(shown(&app, "[data-testid=count-dnc]").await?);

    step("a backup dropped on Settings is offered for restoring; No changes nothing");
    assert_eq!(drop_hint(&app).await?, "Drop a backup to restore it");
    assert_eq!(drop_files(&app).await?, 1);
    app.wait_for_text_that(
        "[data-testid=dialog][data-kind=restore] [data-testid=dialog-text]",
        "the question naming the file",
        |t| t.contains("Blastdesk backup.blastdesk"),
    )
    .await?;
    app.click("[data-testid=dialog][data-kind=restore] [data-testid=dialog-cancel]")
        .await?;
    assert!(
        app.client
            .find(Locator::Css("[data-testid=dialog]"))
            .await
            .is_err(),
        "the question is gone"
    );
    assert_eq!(app.text("[data-testid=data-status]").await?, "");

    step("elsewhere a drop imports nothing, and the window says where to drop");
    show_screen(&app, "blasts").await?;
    assert!(
        drop_hint(&app)
            .await?
            .starts_with("Nothing is imported here.")
    );
    drop_files(&app).await?;
    app.wait_for_text_that("[data-testid=drop-notice]", "where to drop", |t| {
        t.starts_with("Nothing is imported here.")
    })
    .await?;
    assert!(Store::open_in(dir.path())?.audiences()?.is_empty());

    step("on Settings again, Yes restores the dropped backup");
    Store::open_in(dir.path())?.set_default_country(Country::from_str("MY")?, 0)?;
    show_screen(&app, "settings").await?;
    drop_files(&app).await?;
    app.confirm_dialog("restore").await?;
    app.wait_for_text_that("[data-testid=data-status]", "restored", |t| {
        t.starts_with("Restored from") && t.contains("Blastdesk backup.blastdesk")
    })
    .await?;
    assert_eq!(
        Store::open_in(dir.path())?.default_country()?.code(),
        "ID",
        "the backup's country is back"
    );
    // Blastdesk restarts after a restore: this session ends with it.
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn do_not_contact_lists_first_searches_takes_a_dropped_file_and_asks_before_removing()
-> Result {
    bounded(do_not_contact()).await
}

async fn do_not_contact() -> Result {
    let dir = tempfile::tempdir()?;
    welcomed(dir.path(), None)?;
    {
        let store = Store::open_in(dir.path())?;
        store.add_do_not_contact_noted(
            &Phone::from_e164_unchecked("+6281200000101".into()),
            "manual",
            Some("complained in the shop"),
            0,
        )?;
        store.add_do_not_contact(
            &Phone::from_e164_unchecked("+6281200000102".into()),
            "manual",
            0,
        )?;
    }
    let files = tempfile::tempdir()?;
    let list = files.path().join("berhenti.csv");
    std::fs::write(
        &list,
        "phone,name\n0812 0000 0201,Citra\n0812-0000-0202,Dewi\nnot a number,X\n",
    )?;
    let app = App::launch_with(
        dir.path(),
        vec![("BLASTDESK_PICK_FILES".into(), OsString::from(&list))],
    )
    .await?;
    show_screen(&app, "do-not-contact").await?;

    step("the list comes first, before the form and the opt-out words");
    let order = app
        .client
        .execute(
            "const at = (css) => [...document.querySelectorAll('main *')].indexOf(document.querySelector(css));
             return [at('[data-testid=dnc-list]'), at('[data-testid=dnc-numbers]'), at('[data-testid=opt-out-words]')];",
            vec![],
        )
        .await?;
    let order: Vec<i64> = serde_json::from_value(order)?;
    assert!(
        order[0] >= 0 && order[0] < order[1] && order[1] < order[2],
        "{order:?}"
    );

    step("the search filters as it is typed, by number or by note");
    app.type_into("[data-testid=dnc-search]", "0812 0000 0102")
        .await?;
    assert_eq!(visible_rows(&app).await?, ["+6281200000102"]);
    app.wait_for_text("[data-testid=dnc-shown]", "1 of 2 shown")
        .await?;
    app.replace_text("[data-testid=dnc-search]", "COMPLAINED")
        .await?;
    assert_eq!(visible_rows(&app).await?, ["+6281200000101"]);
    app.replace_text("[data-testid=dnc-search]", "nobody")
        .await?;
    assert!(visible_rows(&app).await?.is_empty());
    app.wait_for_text(
        "[data-testid=dnc-no-match]",
        "No number or note on the list matches “nobody”.",
    )
    .await?;
    app.element("[data-testid=dnc-search]")
        .await?
        .clear()
        .await?;
    app.type_into("[data-testid=dnc-search]", " ").await?;
    assert_eq!(visible_rows(&app).await?.len(), 2);

    step("a file dropped here adds its numbers as opt-outs");
    assert_eq!(
        drop_hint(&app).await?,
        "Drop to add these numbers to Do not contact"
    );
    assert_eq!(drop_files(&app).await?, 1);
    app.wait_for_text(
        "[data-testid=notice]",
        "2 added, 0 already on the list, 1 unusable.",
    )
    .await?;
    app.wait_for_text_that(
        "[data-testid=dnc-list] tr[data-phone='+6281200000201'] td:nth-child(2)",
        "the file named",
        |t| t == "From a file · From berhenti.csv",
    )
    .await?;
    assert_eq!(Store::open_in(dir.path())?.do_not_contact()?.len(), 4);
    assert!(Store::open_in(dir.path())?.audiences()?.is_empty());

    step("taking one off asks first, in the app's own dialog: No keeps it, Yes removes it");
    let remove = "[data-testid=dnc-list] tr[data-phone='+6281200000101'] [data-testid=dnc-remove]";
    app.click(remove).await?;
    app.wait_for_text_that(
        "[data-testid=dialog][data-kind=dnc-remove] h2",
        "the question",
        |t| t == "Take +6281200000101 off the list?",
    )
    .await?;
    app.click("[data-testid=dialog][data-kind=dnc-remove] [data-testid=dialog-cancel]")
        .await?;
    assert_eq!(Store::open_in(dir.path())?.do_not_contact()?.len(), 4);
    app.click(remove).await?;
    app.confirm_dialog("dnc-remove").await?;
    app.wait_for_text("[data-testid=notice]", "+6281200000101 is off the list.")
        .await?;
    assert_eq!(Store::open_in(dir.path())?.do_not_contact()?.len(), 3);
    app.close().await
}
