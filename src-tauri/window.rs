//! The main window. Closing it destroys it (and its web view, so the app left
//! in the tray stays light); opening it again builds a fresh one from the
//! configuration in tauri.conf.json.

use tauri::{AppHandle, Manager, WebviewWindowBuilder};

pub const MAIN: &str = "main";

/// Shows the main window with the update on offer in its banner.
pub fn show_update(app: &AppHandle) {
    show_main(app);
    // An open window shows the banner again even if it was put off; a new
    // one shows it as it loads.
    if let Err(error) = tauri::Emitter::emit(app, "show-update", ()) {
        tracing::warn!("cannot tell the window: {error}");
    }
}

/// Shows the main window, recreating it if it was closed.
pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let Some(config) = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
    else {
        tracing::error!("tauri.conf.json has no main window");
        return;
    };
    // Built off the event-loop thread: building a window from a menu handler
    // on the main thread can deadlock on Windows.
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        match WebviewWindowBuilder::from_config(&app, &config).and_then(|b| b.build()) {
            Ok(window) => {
                tracing::info!("main window reopened");
                let _ = window.set_focus();
            }
            Err(error) => tracing::error!("cannot open the window: {error}"),
        }
    });
}
