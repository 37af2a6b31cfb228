//! The tray icon: the app's handle while its window is closed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, include_image};

use crate::window;

const OPEN: &str = "open";
const QUIT: &str = "quit";
const ATTENTION: &str = "attention";
const ALL_FINE: &str = "Every account is fine";
const NEXT_RUN: &str = "next-run";
const NOTHING_SCHEDULED: &str = "Nothing scheduled";

/// Installs the tray icon. Returns false where the system has no tray (a Linux
/// desktop without an indicator library); the app then runs without one, and
/// closing its window quits it.
pub fn install(app: &AppHandle) -> bool {
    // The Linux indicator binding panics when its library is missing: that is
    // "no tray here", not a reason to crash.
    match catch_unwind(AssertUnwindSafe(|| build(app))) {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            tracing::warn!("no tray icon: {error}");
            false
        }
        Err(_) => {
            tracing::warn!("no tray icon: this system has no tray host");
            false
        }
    }
}

/// The tray menu's line about accounts that need the person.
pub struct Attention(MenuItem<tauri::Wry>);

/// The tray menu's line about the next scheduled run.
pub struct NextRun(MenuItem<tauri::Wry>);

fn build(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, OPEN, "Open Blastdesk", true, None::<&str>)?;
    let attention = MenuItem::with_id(app, ATTENTION, ALL_FINE, false, None::<&str>)?;
    let next_run = MenuItem::with_id(app, NEXT_RUN, NOTHING_SCHEDULED, false, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit Blastdesk", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &attention, &next_run, &separator, &quit])?;
    app.manage(Attention(attention));
    app.manage(NextRun(next_run));
    TrayIconBuilder::with_id("main")
        .icon(include_image!("icons/tray.png"))
        .tooltip("Blastdesk")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            OPEN => window::show_main(app),
            QUIT => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                window::show_main(tray.app_handle());
            }
        })
        .build(app)?;
    Ok(())
}

/// Sets the tray icon's tooltip (no-op without a tray).
pub fn set_tooltip(app: &AppHandle, text: &str) {
    if let Some(tray) = app.tray_by_id("main")
        && let Err(error) = tray.set_tooltip(Some(text))
    {
        tracing::warn!("cannot set the tray tooltip: {error}");
    }
}

/// Says in the tray menu how many accounts need the person (logged out,
/// banned, disconnected, ...), with their names.
pub fn refresh_attention(app: &AppHandle, store: &blastdesk_core::Store) {
    let Some(item) = app.try_state::<Attention>() else {
        return;
    };
    let names: Vec<String> = store
        .list_accounts()
        .map(|all| {
            all.into_iter()
                .filter(|a| a.needs_attention)
                .map(|a| a.name)
                .collect()
        })
        .unwrap_or_default();
    let text = attention_text(&names);
    if let Err(error) = item.0.set_text(text) {
        tracing::warn!("cannot update the tray menu: {error}");
    }
}

/// Says in the tray menu when the next scheduled blast runs.
pub fn refresh_next_run(app: &AppHandle, store: &blastdesk_core::Store) {
    let Some(item) = app.try_state::<NextRun>() else {
        return;
    };
    let next = store
        .list_schedules()
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.enabled)
        .filter_map(|s| s.next_run_at.map(|at| (at, s.spec.name)))
        .min();
    let text = match next {
        None => NOTHING_SCHEDULED.to_owned(),
        Some((at, name)) => {
            let here = blastdesk_core::zone::computer();
            format!(
                "Next: {name}, {}",
                blastdesk_core::zone::local(here, at).format("%a %d %b %H:%M")
            )
        }
    };
    if let Err(error) = item.0.set_text(text) {
        tracing::warn!("cannot update the tray menu: {error}");
    }
}

fn attention_text(names: &[String]) -> String {
    match names {
        [] => ALL_FINE.to_owned(),
        [one] => format!("{one} needs attention"),
        many => format!(
            "{} accounts need attention: {}",
            many.len(),
            many.join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_tray_names_the_accounts_that_need_attention() {
        let names = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(super::attention_text(&[]), "Every account is fine");
        assert_eq!(
            super::attention_text(&names(&["Toko"])),
            "Toko needs attention"
        );
        assert_eq!(
            super::attention_text(&names(&["Toko", "Cabang"])),
            "2 accounts need attention: Toko, Cabang"
        );
    }
}
