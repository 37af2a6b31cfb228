//! The tray icon: the app's handle while its window is closed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, include_image};

use crate::window;

const OPEN: &str = "open";
const QUIT: &str = "quit";

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

fn build(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, OPEN, "Open Blastdesk", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit Blastdesk", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &separator, &quit])?;
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
