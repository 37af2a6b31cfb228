//! Blastdesk's desktop shell: windows, tray, commands and events around
//! `blastdesk-core`. It holds no business logic: every command takes the managed
//! state, calls one core function and maps the error to `{code, message}`.

mod commands;
mod error;
mod import_session;
mod runner;
mod sessions;
mod state;
mod tray;
mod window;

use std::path::PathBuf;

use blastdesk_core::{Store, data_dir, logging};
use tauri::{App, AppHandle, DragDropEvent, Emitter, Manager, RunEvent, WindowEvent};

use crate::import_session::ImportSession;
use crate::state::AppState;

/// Builds and runs the app until the person quits it.
pub fn run() {
    let app = tauri::Builder::default()
        // First, so that a second launch hands over before anything else starts.
        .plugin(single_instance())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            setup(app);
            Ok(())
        })
        .manage(ImportSession::default())
        .on_window_event(|window, event| match event {
            WindowEvent::CloseRequested { .. } => {
                tracing::info!(window = window.label(), "window close requested");
            }
            WindowEvent::Destroyed => tracing::info!(window = window.label(), "window closed"),
            WindowEvent::DragDrop(drop) => on_drag_drop(window, drop),
            _ => {}
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::store_summary,
            commands::audiences::list_audiences,
            commands::import::pick_files,
            commands::import::import_preview,
            commands::import::save_audience,
            commands::settings::default_country,
            commands::settings::set_default_country,
            commands::blasts::list_blasts,
            commands::accounts::list_accounts,
            commands::accounts::add_account,
            commands::accounts::link_account,
            commands::accounts::logout_account,
            commands::accounts::rename_account,
            commands::accounts::remove_account,
            commands::blasts::blast_plan,
            commands::blasts::set_account_pacing,
            commands::blasts::render_message,
            commands::blasts::create_blast,
            commands::blasts::pause_blast,
            commands::blasts::resume_blast,
            commands::blasts::cancel_blast,
            commands::blasts::decide_unknown,
            commands::blasts::blast_report,
            commands::blasts::export_report,
        ])
        .build(tauri::generate_context!());
    match app {
        Ok(app) => app.run(on_run_event),
        Err(error) => {
            eprintln!("Blastdesk could not start: {error}");
            std::process::exit(1);
        }
    }
}

/// One instance per data directory: a second launch shows the first one's
/// window and exits. Tests that point the app at a temporary data directory
/// get an instance lock of their own.
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let mut builder = tauri_plugin_single_instance::Builder::new()
        .callback(|app, _argv, _cwd| window::show_main(app));
    if let Some(dir) = data_dir::from_env() {
        builder = builder.dbus_id(format!(
            "{}.Dir{:016x}",
            data_dir::APP_IDENTIFIER,
            fnv1a(dir.as_os_str().as_encoded_bytes())
        ));
    }
    builder.build()
}

/// A stable 64-bit hash (FNV-1a), for naming the instance lock of a data dir.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn setup(app: &mut App) {
    let data_dir = resolve_data_dir(app.handle());
    let echo = if cfg!(debug_assertions) {
        logging::Echo::FileAndStderr
    } else {
        logging::Echo::FileOnly
    };
    let log_guard = match logging::init(&data_dir::logs_dir(&data_dir), echo) {
        Ok(guard) => Some(guard),
        Err(error) => {
            eprintln!("Blastdesk: logging to a file is off: {error}");
            None
        }
    };
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Blastdesk starting");

    // A store that cannot be opened does not stop the app: the window shows
    // why (newer version, damaged file, ...) instead of vanishing.
    let store = Store::open_in(&data_dir).inspect_err(|error| {
        tracing::error!(code = %error.code(), "cannot open the database: {error}");
    });
    let has_tray = tray::install(app.handle());
    tracing::info!(has_tray, "shell ready");
    if let Ok(store) = &store {
        let control = blastdesk_core::engine::Control::new(store.clone());
        let sessions = sessions::Sessions::new(
            app.handle().clone(),
            store.clone(),
            control.clone(),
            data_dir.clone(),
        );
        let runner = runner::Runner::start(
            app.handle().clone(),
            store.clone(),
            control,
            sessions.clone(),
            data_dir.clone(),
        );
        // A connected account's waiting blasts go out.
        let on_connect = runner.clone();
        sessions.on_connected(move |account_id| on_connect.ensure_worker(account_id));
        sessions.resume_all();
        tray::refresh_attention(app.handle(), store);
        app.manage(runner);
        app.manage(sessions);
    }
    app.manage(AppState::new(data_dir, store, has_tray, log_guard));
}

/// `BLASTDESK_DATA_DIR` if set, else the OS's app-data dir for Blastdesk.
fn resolve_data_dir(app: &AppHandle) -> PathBuf {
    if let Some(dir) = data_dir::from_env() {
        return dir;
    }
    match app.path().app_data_dir() {
        Ok(dir) => dir,
        Err(error) => {
            let fallback = data_dir::platform_default()
                .unwrap_or_else(|| std::env::temp_dir().join(data_dir::APP_IDENTIFIER));
            eprintln!(
                "Blastdesk: no app-data directory ({error}); using {}",
                fallback.display()
            );
            fallback
        }
    }
}

/// Files dropped on the window are granted to the import flow; the window
/// is told their ids, and when a drag hovers, to show where to drop.
fn on_drag_drop(window: &tauri::Window, drop: &DragDropEvent) {
    match drop {
        DragDropEvent::Enter { .. } => {
            let _ = window.emit("drag-hover", true);
        }
        DragDropEvent::Leave => {
            let _ = window.emit("drag-hover", false);
        }
        DragDropEvent::Drop { paths, .. } => {
            let _ = window.emit("drag-hover", false);
            let granted = window.state::<ImportSession>().grant(paths.iter().cloned());
            tracing::info!(files = granted.len(), "files dropped");
            let _ = window.emit("files-dropped", granted);
        }
        _ => {}
    }
}

fn on_run_event(app: &AppHandle, event: RunEvent) {
    if let RunEvent::ExitRequested {
        code: None, api, ..
    } = event
    {
        // The last window was closed. With a tray icon the app stays resident
        // (the web view is gone, so it stays light); without one, closing the
        // window is the only way to quit, so let it exit.
        if app.state::<AppState>().has_tray() {
            tracing::info!("window closed; staying in the tray");
            api.prevent_exit();
        } else {
            tracing::info!("window closed and there is no tray; quitting");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tauri_conf_identifier_is_the_core_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap_or_default();
        assert_eq!(
            conf["identifier"].as_str(),
            Some(blastdesk_core::data_dir::APP_IDENTIFIER)
        );
    }

    #[test]
    fn instance_lock_names_differ_per_data_dir() {
        assert_ne!(super::fnv1a(b"/tmp/a"), super::fnv1a(b"/tmp/b"));
        assert_eq!(super::fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
