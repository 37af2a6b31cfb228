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
mod updates;
mod window;
mod words;

use std::path::PathBuf;

use blastdesk_core::owner::{Holder, Owner};
use blastdesk_core::{Store, data_dir, logging};
use tauri::{App, AppHandle, DragDropEvent, Emitter, Manager, RunEvent, WindowEvent};

use crate::import_session::ImportSession;
use crate::state::AppState;

/// The argument Blastdesk is started with at login: no window, only the tray.
const IN_TRAY: &str = "--in-tray";

/// How long a starting app waits for its data folder to be let go: after a
/// restore the app restarts itself, and the old process may still hold it.
const RESTART_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Builds and runs the app until the person quits it.
pub fn run() {
    let app = tauri::Builder::default()
        // First, so that a second launch hands over before anything else starts.
        .plugin(single_instance())
        .plugin(tauri_plugin_notification::init())
        .plugin(updates::plugin())
        // Started at login, Blastdesk opens in the tray, not in a window.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![IN_TRAY]),
        ))
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
            commands::app::preferences,
            commands::app::set_language,
            commands::app::note_window_language,
            commands::app::finish_welcome,
            commands::app::save_draft,
            commands::app::start_rehearsal,
            commands::data::backup_database,
            commands::data::restore_database,
            commands::data::open_data_folder,
            commands::contacts::list_do_not_contact,
            commands::contacts::add_do_not_contact,
            commands::contacts::add_do_not_contact_file,
            commands::contacts::remove_do_not_contact,
            commands::contacts::opt_out_words,
            commands::contacts::set_opt_out_words,
            commands::blasts::pick_attachment,
            commands::blasts::resend_blast,
            commands::audiences::list_audiences,
            commands::audiences::delete_audience,
            commands::import::pick_files,
            commands::import::import_preview,
            commands::import::save_audience,
            commands::settings::default_country,
            commands::settings::set_default_country,
            commands::settings::start_at_login,
            commands::settings::set_start_at_login,
            commands::settings::whatsapp_version,
            commands::settings::set_whatsapp_version,
            commands::settings::pacing_presets,
            commands::blasts::list_blasts,
            commands::accounts::list_accounts,
            commands::schedules::list_schedules,
            commands::schedules::schedule_runs,
            commands::schedules::add_schedule,
            commands::schedules::update_schedule,
            commands::schedules::set_schedule_enabled,
            commands::schedules::remove_schedule,
            commands::schedules::computer_time_zone,
            commands::accounts::add_account,
            commands::accounts::link_account,
            commands::accounts::logout_account,
            commands::accounts::reconnect_account,
            commands::accounts::cancel_link,
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
            commands::blasts::blast_timeline,
            commands::blasts::export_report,
            commands::updates::update_status,
            commands::updates::check_for_update,
            commands::updates::install_update,
            commands::updates::update_policy,
            commands::updates::set_update_policy,
        ])
        .build(context());
    match app {
        Ok(app) => app.run(on_run_event),
        Err(error) => {
            eprintln!("Blastdesk could not start: {error}");
            std::process::exit(1);
        }
    }
}

/// One instance per data directory: a second launch shows the first one's
/// window and exits. An app pointed at another data directory (as each test
/// is) gets an instance lock of its own: on Linux the plugin's D-Bus name
/// says so; on Windows and macOS the plugin names its lock (a named mutex)
/// after the app's identifier, so that is what changes (see `context`).
fn single_instance() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    let mut builder = tauri_plugin_single_instance::Builder::new()
        .callback(|app, _argv, _cwd| window::show_main(app));
    if let Some(id) = instance_id() {
        builder = builder.dbus_id(id);
    }
    builder.build()
}

/// The instance name of an app pointed at a data directory of its own.
fn instance_id() -> Option<String> {
    data_dir::from_env().map(|dir| {
        format!(
            "{}.Dir{:016x}",
            data_dir::APP_IDENTIFIER,
            fnv1a(dir.as_os_str().as_encoded_bytes())
        )
    })
}

/// The app's configuration, with the identifier of its instance where the
/// single-instance lock is named after it (Windows, macOS).
fn context() -> tauri::Context<tauri::Wry> {
    #[allow(unused_mut)]
    let mut context = tauri::generate_context!();
    #[cfg(not(target_os = "linux"))]
    if let Some(id) = instance_id() {
        context.config_mut().identifier = id;
    }
    context
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
    let version = app.package_info().version.to_string();
    tracing::info!(
        %version,
        whatsapp_rust = blastdesk_whatsapp::version::LIBRARY,
        "Blastdesk starting"
    );

    // The app owns its data folder while it runs: a `blastdesk-cli blast
    // run` or daemon sending for it keeps the app from sending too. A store
    // that cannot be opened or owned does not stop the app: the window shows
    // why (in use, newer version, damaged file, ...) instead of vanishing.
    let owner = Owner::claim_patiently(&data_dir, Holder::App, RESTART_PATIENCE)
        .map_err(error::Error::from);
    let store = match &owner {
        Ok(_) => Store::open_in(&data_dir).map_err(error::Error::from),
        Err(refused) => Err(refused.clone()),
    }
    .inspect_err(|error| {
        tracing::error!(code = %error.code, "cannot open the database: {}", error.message);
    });
    // The one Settings names, else WhatsApp's current one (fetched daily),
    // the built-in one as the fallback.
    tracing::info!(
        named = ?store
            .as_ref()
            .ok()
            .and_then(blastdesk_whatsapp::version::current)
            .map(|version| version.to_string()),
        fallback = %blastdesk_whatsapp::version::PINNED,
        "WhatsApp Web version"
    );
    let has_tray = tray::install(app.handle());
    tracing::info!(has_tray, "shell ready");
    if has_tray && std::env::args().any(|a| a == IN_TRAY) {
        // Started at login: schedules run from the tray; the window opens on demand.
        if let Some(window) = app.get_webview_window("main")
            && let Err(error) = window.destroy()
        {
            tracing::warn!("cannot start without a window: {error}");
        }
    }
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
        app.manage(commands::schedules::SchedulerWaker(start_scheduler(
            app.handle(),
            store,
            &runner,
        )));
        // In the person's language, with the accounts that need them.
        tray::refresh_all(app.handle(), store);
        app.manage(runner);
        app.manage(sessions);
    }
    // Updates are looked for even when the database cannot be opened: a
    // newer Blastdesk may be what opens it.
    app.manage(updates::Updates::start(
        app.handle(),
        store.as_ref().ok().cloned(),
    ));
    app.manage(AppState::new(
        data_dir,
        owner.ok(),
        store,
        has_tray,
        log_guard,
    ));
}

/// Runs the scheduler for as long as the app runs (window closed too): due
/// runs create blasts, which the account's worker then sends; the window,
/// the tray and a notification are told. Returns its wake-up.
fn start_scheduler(
    app: &AppHandle,
    store: &Store,
    runner: &runner::Runner,
) -> std::sync::Arc<tokio::sync::Notify> {
    use blastdesk_core::scheduler::{ScheduleEvent, Scheduler};
    // Stops with the workers (before a restore replaces the data).
    let scheduler = Scheduler::new(store.clone(), blastdesk_core::clock::SystemClock)
        .with_shutdown(runner.control().shutdown().clone());
    let waker = scheduler.waker();
    let app = app.clone();
    let store = store.clone();
    let runner = runner.clone();
    tauri::async_runtime::spawn(async move {
        let mut emit = |event: ScheduleEvent| {
            if let Err(error) = app.emit("schedule", &event) {
                tracing::warn!("cannot tell the window: {error}");
            }
            let name = |id: i64| store.schedule(id).map(|s| s.spec.name).unwrap_or_default();
            let lang = words::Lang::of(&store);
            let (title, body) = match &event {
                ScheduleEvent::RunStarted {
                    schedule_id,
                    blast_id,
                    ..
                } => {
                    if let Ok(blast) = store.blast_summary(*blast_id) {
                        runner.ensure_worker(blast.account_id);
                    }
                    (
                        words::Words::ScheduleStarted {
                            name: &name(*schedule_id),
                        }
                        .text(lang),
                        words::Words::ScheduledBlastSending.text(lang),
                    )
                }
                ScheduleEvent::RunSkipped {
                    schedule_id,
                    reason,
                    ..
                } => (
                    words::Words::ScheduleSkipped {
                        name: &name(*schedule_id),
                    }
                    .text(lang),
                    reason.clone(),
                ),
                ScheduleEvent::RunMissed { schedule_id, .. } => (
                    words::Words::ScheduleMissed {
                        name: &name(*schedule_id),
                    }
                    .text(lang),
                    words::Words::MissedBecauseNotRunning.text(lang),
                ),
            };
            runner.notify(&title, &body);
            tray::refresh_next_run(&app, &store);
        };
        tray::refresh_next_run(&app, &store);
        // Supervised in the core: it runs for as long as the app does.
        scheduler.run(&mut emit).await;
    });
    waker
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
