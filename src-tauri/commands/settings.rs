//! Commands about settings.

use std::str::FromStr;

use blastdesk_core::ErrorCode;
use blastdesk_core::phone::Country;
use tauri::State;

use super::{blocking, now_ms};
use crate::{error::Error, state::AppState};

/// The default country's two-letter code.
#[tauri::command]
pub async fn default_country(state: State<'_, AppState>) -> Result<String, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.default_country()?.code())).await
}

#[tauri::command]
pub async fn set_default_country(
    state: State<'_, AppState>,
    code: String,
) -> Result<String, Error> {
    let store = state.store()?;
    let country = Country::from_str(&code).map_err(|e| Error {
        code: ErrorCode::InvalidInput,
        message: e.to_string(),
    })?;
    blocking(move || {
        store.set_default_country(country, now_ms())?;
        Ok(country.code())
    })
    .await
}
