//! Commands about the app itself: where its data is and what the store holds.

use std::path::PathBuf;

use blastdesk_core::{data_dir, store::Summary};
use serde::Serialize;
use tauri::State;

use super::blocking;
use crate::{error::Error, state::AppState};

/// What the Settings screen shows about this installation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: &'static str,
    pub data_dir: PathBuf,
    pub logs_dir: PathBuf,
    /// Why the database could not be opened, if it could not.
    pub store_error: Option<Error>,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION"),
        data_dir: state.data_dir().to_path_buf(),
        logs_dir: data_dir::logs_dir(state.data_dir()),
        store_error: state.store().err(),
    }
}

#[tauri::command]
pub async fn store_summary(state: State<'_, AppState>) -> Result<Summary, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.summary()?)).await
}
