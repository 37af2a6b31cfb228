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
        details: None,
        message: e.to_string(),
    })?;
    blocking(move || {
        store.set_default_country(country, now_ms())?;
        Ok(country.code())
    })
    .await
}

/// The WhatsApp Web version the setting names (`None`: WhatsApp's
/// current one, which the library fetches), and an example of one.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsappVersion {
    named: Option<String>,
    example: String,
}

fn whatsapp_version_of(store: &blastdesk_core::Store) -> WhatsappVersion {
    use blastdesk_whatsapp::version;
    WhatsappVersion {
        named: version::current(store).map(|v| v.to_string()),
        example: version::PINNED.to_string(),
    }
}

#[tauri::command]
pub async fn whatsapp_version(state: State<'_, AppState>) -> Result<WhatsappVersion, Error> {
    let store = state.store()?;
    blocking(move || Ok(whatsapp_version_of(&store))).await
}

/// Sets the announced version (empty: back to the built-in one). Linked
/// accounts use it from their next connection.
#[tauri::command]
pub async fn set_whatsapp_version(
    state: State<'_, AppState>,
    version: String,
) -> Result<WhatsappVersion, Error> {
    use blastdesk_whatsapp::version::{self, WebVersion};
    let store = state.store()?;
    let text = version.trim().to_owned();
    let parsed = if text.is_empty() {
        None
    } else {
        Some(text.parse::<WebVersion>().map_err(|e| Error {
            code: ErrorCode::InvalidInput,
            details: None,
            message: e.to_string(),
        })?)
    };
    blocking(move || {
        let value = parsed.map(|v| v.to_string());
        store.set_setting_text(version::SETTING, value.as_deref(), now_ms())?;
        Ok(whatsapp_version_of(&store))
    })
    .await
}

/// Whether Blastdesk starts at login (in the tray), so schedules survive a reboot.
#[tauri::command]
pub fn start_at_login(app: tauri::AppHandle) -> Result<bool, Error> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| Error {
        code: ErrorCode::Io,
        details: None,
        message: format!("Cannot tell whether Blastdesk starts at login: {e}."),
    })
}

#[tauri::command]
pub fn set_start_at_login(app: tauri::AppHandle, enabled: bool) -> Result<bool, Error> {
    use tauri_plugin_autostart::ManagerExt;
    let manager = app.autolaunch();
    let result = if enabled {
        manager.enable()
    } else {
        manager.disable()
    };
    result.map_err(|e| Error {
        code: ErrorCode::Io,
        details: None,
        message: format!("Cannot change whether Blastdesk starts at login: {e}."),
    })?;
    tracing::info!(enabled, "start at login changed");
    start_at_login(app)
}

/// A pacing preset, its settings and about how many messages an hour it sends.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PacingPreset {
    preset: blastdesk_core::pacing::Preset,
    pacing: blastdesk_core::pacing::Pacing,
    per_hour: Option<u32>,
}

/// The pacing presets (the core defines them), slowest first.
#[tauri::command]
pub fn pacing_presets() -> Vec<PacingPreset> {
    use blastdesk_core::pacing::{Pacing, Preset};
    Preset::ALL
        .into_iter()
        .map(|preset| {
            let pacing = Pacing::preset(preset);
            PacingPreset {
                preset,
                per_hour: pacing.typical_per_hour(),
                pacing,
            }
        })
        .collect()
}
