//! Commands about the data itself: back up, restore, open the data folder.

use std::path::PathBuf;

use blastdesk_core::{ErrorCode, store};
use tauri::{AppHandle, Manager, State, WebviewWindow};

use super::blasts::SAVE_FILE_ENV;
use super::blocking;
use super::import::PICK_FILES_ENV;
use crate::import_session::ImportSession;
use crate::runner::Runner;
use crate::{error::Error, state::AppState};

/// Asks where to save a backup and writes it; the path, or nothing if cancelled.
#[tauri::command]
pub async fn backup_database(
    window: WebviewWindow,
    state: State<'_, AppState>,
) -> Result<Option<String>, Error> {
    let store = state.store()?;
    let today = chrono::Local::now().format("%Y-%m-%d");
    let path: Option<PathBuf> = match blastdesk_core::hooks::test_env(SAVE_FILE_ENV) {
        Some(path) => Some(PathBuf::from(path)),
        None => rfd::AsyncFileDialog::new()
            .set_title("Back up Blastdesk's data")
            .set_file_name(format!("Blastdesk backup {today}.blastdesk"))
            .add_filter("Blastdesk backup", &["blastdesk"])
            .set_parent(&window)
            .save_file()
            .await
            .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    blocking(move || {
        store.backup_to(&path)?;
        tracing::info!("database backed up");
        Ok(Some(path.display().to_string()))
    })
    .await
}

/// Restores a backup (the granted file `file_id`, e.g. one dropped on
/// Settings, or else one asked for), then restarts Blastdesk so that every
/// part (accounts, workers, schedules) starts from the restored data. A file
/// that is not a Blastdesk backup is refused before anything stops or
/// changes. Otherwise the workers and the scheduler stop first (each worker
/// after recording the message in hand), so the restore, which carries
/// forward everything sent since the backup, sees every send. A blast that
/// was sending comes back paused for the person to check and resume. When
/// the database could not be opened at all, the backup takes the damaged
/// file's place, which is kept beside it.
#[tauri::command]
pub async fn restore_database(
    app: AppHandle,
    window: WebviewWindow,
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    file_id: Option<u64>,
) -> Result<Option<String>, Error> {
    let store = state.store().ok();
    let granted = file_id.map(|id| session.path(id)).transpose()?;
    let path: Option<PathBuf> = match (granted, blastdesk_core::hooks::test_env(PICK_FILES_ENV)) {
        (Some(path), _) => Some(path),
        (None, Some(list)) => std::env::split_paths(&list).next(),
        (None, None) => rfd::AsyncFileDialog::new()
            .set_title("Restore a Blastdesk backup")
            .add_filter("Blastdesk backup", &["blastdesk", "sqlite3", "db"])
            .set_parent(&window)
            .pick_file()
            .await
            .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    let checked = path.clone();
    blocking(move || Ok(store::backup::check_backup(&checked)?)).await?;
    if let Some(runner) = app.try_state::<Runner>() {
        tracing::info!("stopping the workers and the scheduler to restore a backup");
        runner.control().stop_workers().await;
    }
    let data_dir = state.data_dir().to_path_buf();
    let restored = blocking(move || {
        match store {
            Some(store) => {
                store.restore_from(&path, super::now_ms())?;
            }
            None => {
                let kept = store::backup::restore_file_into(&data_dir, &path, super::now_ms())?;
                if let Some(kept) = kept {
                    tracing::info!(
                        "the database that could not be opened is kept as {}",
                        kept.display()
                    );
                }
            }
        }
        Ok(path.display().to_string())
    })
    .await;
    // The workers are stopped: restart whatever came of it (a failed
    // restore changed nothing, and the blasts go on after the restart).
    match &restored {
        Ok(_) => tracing::info!("database restored from a backup; restarting"),
        Err(error) => tracing::error!("the restore failed, nothing changed; restarting: {error}"),
    }
    // Restart a moment later, so the window can say what happened first.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        app.request_restart();
    });
    restored.map(Some)
}

/// Opens the data folder in the system's file manager.
#[tauri::command]
pub fn open_data_folder(state: State<'_, AppState>) -> Result<(), Error> {
    let folder = state.data_dir();
    let (program, args) = opener(folder);
    std::process::Command::new(program)
        .args(args)
        .spawn()
        .map(drop)
        .map_err(|e| Error {
            code: ErrorCode::Io,
            details: None,
            message: format!("Cannot open {}: {e}.", folder.display()),
        })
}

/// The program that opens a folder on this system, and its arguments.
fn opener(folder: &std::path::Path) -> (&'static str, Vec<std::ffi::OsString>) {
    let program = if cfg!(target_os = "windows") {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    (program, vec![folder.as_os_str().to_owned()])
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_folder_is_given_to_the_system_opener_as_one_argument() {
        let folder = std::path::Path::new("/home/ayu/My Data/blastdesk");
        let (program, args) = super::opener(folder);
        assert!(["explorer", "open", "xdg-open"].contains(&program));
        assert_eq!(args, [folder.as_os_str()]);
    }
}
