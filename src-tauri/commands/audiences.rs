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
