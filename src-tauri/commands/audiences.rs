//! Commands about saved audiences.

use blastdesk_core::store::AudienceInfo;
use tauri::State;

use super::blocking;
use crate::{error::Error, state::AppState};

#[tauri::command]
pub async fn list_audiences(state: State<'_, AppState>) -> Result<Vec<AudienceInfo>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.audiences()?)).await
}

/// Deletes a saved audience. Blasts made from it keep their recipients;
/// schedules that send to it skip their runs, saying why.
#[tauri::command]
pub async fn delete_audience(state: State<'_, AppState>, name: String) -> Result<(), Error> {
    let store = state.store()?;
    blocking(move || Ok(store.delete_audience(&name)?)).await
}
