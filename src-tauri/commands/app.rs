//! Commands about the app itself: where its data is and what the store holds.

use std::path::PathBuf;

use blastdesk_core::{data_dir, store::Summary};
use serde::Serialize;
use tauri::{AppHandle, State};

use super::{blocking, now_ms};
use crate::words::{self, Lang};
use crate::{error::Error, state::AppState};

/// What the Settings screen shows about this installation.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// This copy's version (the package's: what the updater compares).
    pub version: String,
    pub data_dir: PathBuf,
    pub logs_dir: PathBuf,
    /// This run of Blastdesk: a draft's chosen files are valid only in it.
    pub run_id: i64,
    /// Why the database could not be opened, if it could not.
    pub store_error: Option<Error>,
    /// Whether this build honours the test hooks (a debug build): only then
    /// does the window listen for the window tests' simulated drops.
    pub test_hooks: bool,
    /// The protocol library's version (whatsapp-rust), for the About box.
    pub whatsapp_rust: &'static str,
    /// The WhatsApp Web version announced, for the About box.
    pub whatsapp_web: WhatsappWeb,
}

/// Which WhatsApp Web version Blastdesk announces: the one Settings names,
/// or else WhatsApp's current one (fetched daily), with the built-in one
/// as the fallback. The window says it in its language.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatsappWeb {
    pub named: Option<String>,
    pub fallback: String,
}

#[tauri::command]
pub fn app_info(app: AppHandle, state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        data_dir: state.data_dir().to_path_buf(),
        logs_dir: data_dir::logs_dir(state.data_dir()),
        run_id: state.run_id(),
        store_error: state.store().err(),
        test_hooks: blastdesk_core::hooks::HONOURED,
        whatsapp_rust: blastdesk_whatsapp::version::LIBRARY,
        whatsapp_web: WhatsappWeb {
            named: state
                .store()
                .ok()
                .as_ref()
                .and_then(blastdesk_whatsapp::version::current)
                .map(|version| version.to_string()),
            fallback: blastdesk_whatsapp::version::PINNED.to_string(),
        },
    }
}

#[tauri::command]
pub async fn store_summary(state: State<'_, AppState>) -> Result<Summary, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.summary()?)).await
}

/// Set once the first-run welcome was finished or skipped.
const WELCOME_DONE: &str = "welcome_done";
/// The New blast the person was writing, as the window saved it (JSON).
const DRAFT: &str = "blast_draft";
/// The largest draft kept (a message and its choices, not a document).
const MAX_DRAFT_BYTES: usize = 256 * 1024;

/// What the window needs before it draws: language, first run, the draft.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// None: follow the system's language.
    language: Option<String>,
    /// The system's language where the environment says it (Linux and other
    /// Unix desktops); None: the window asks the web view (Windows, macOS).
    system_language: Option<&'static str>,
    welcome_done: bool,
    draft: Option<String>,
}

#[tauri::command]
pub async fn preferences(state: State<'_, AppState>) -> Result<Preferences, Error> {
    let store = state.store()?;
    blocking(move || {
        Ok(Preferences {
            language: store.setting_text(words::LANGUAGE)?,
            system_language: words::system(|key| std::env::var(key).ok()).map(Lang::code),
            welcome_done: store.setting_text(WELCOME_DONE)?.is_some(),
            draft: store.setting_text(DRAFT)?,
        })
    })
    .await
}

fn language(code: Option<&str>) -> Result<Option<Lang>, Error> {
    code.map(|code| {
        Lang::from_code(code).ok_or_else(|| Error {
            code: blastdesk_core::ErrorCode::InvalidInput,
            details: None,
            message: format!("Blastdesk is not translated into \"{code}\"; choose en or id."),
        })
    })
    .transpose()
}

/// Chooses the window's language; `None` follows the system's. The tray
/// and notifications follow at once.
#[tauri::command]
pub async fn set_language(
    app: AppHandle,
    state: State<'_, AppState>,
    language: Option<String>,
) -> Result<(), Error> {
    let store = state.store()?;
    let chosen = self::language(language.as_deref())?;
    blocking({
        let store = store.clone();
        move || Ok(store.set_setting_text(words::LANGUAGE, chosen.map(Lang::code), now_ms())?)
    })
    .await?;
    crate::tray::refresh_all(&app, &store);
    Ok(())
}

/// The language the window found to be the system's (from the web view),
/// kept for the tray and notifications while the window is closed.
#[tauri::command]
pub async fn note_window_language(
    app: AppHandle,
    state: State<'_, AppState>,
    language: String,
) -> Result<(), Error> {
    let store = state.store()?;
    let Some(seen) = self::language(Some(&language))? else {
        return Ok(());
    };
    let changed = blocking({
        let store = store.clone();
        move || {
            let before = store.setting_text(words::SEEN)?;
            if before.as_deref() == Some(seen.code()) {
                return Ok(false);
            }
            store.set_setting_text(words::SEEN, Some(seen.code()), now_ms())?;
            Ok(true)
        }
    })
    .await?;
    if changed {
        crate::tray::refresh_all(&app, &store);
    }
    Ok(())
}

#[tauri::command]
pub async fn finish_welcome(state: State<'_, AppState>) -> Result<(), Error> {
    let store = state.store()?;
    blocking(move || Ok(store.set_setting_text(WELCOME_DONE, Some("yes"), now_ms())?)).await
}

/// Keeps the New blast being written (`None` once it is sent or discarded).
#[tauri::command]
pub async fn save_draft(state: State<'_, AppState>, draft: Option<String>) -> Result<(), Error> {
    let store = state.store()?;
    if let Some(text) = &draft {
        let invalid = |message: &str| Error {
            code: blastdesk_core::ErrorCode::InvalidInput,
            details: None,
            message: message.to_owned(),
        };
        if text.len() > MAX_DRAFT_BYTES {
            return Err(invalid("The draft is too long to keep (more than 256 KB)."));
        }
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|_| invalid("The draft is not in the form Blastdesk keeps drafts in."))?;
    }
    blocking(move || Ok(store.set_setting_text(DRAFT, draft.as_deref(), now_ms())?)).await
}

/// The rehearsal the welcome offers: the sample audience, saved, and a
/// message that uses its columns.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rehearsal {
    audience: String,
    contacts: u64,
    template: &'static str,
}

/// `language`: the window's, for the sample message.
#[tauri::command]
pub async fn start_rehearsal(
    state: State<'_, AppState>,
    language: Option<String>,
) -> Result<Rehearsal, Error> {
    use blastdesk_core::sample;
    let store = state.store()?;
    let sample_language = match self::language(language.as_deref())? {
        Some(Lang::Id) => sample::Language::Indonesian,
        Some(Lang::En) | None => sample::Language::English,
    };
    blocking(move || {
        let info = sample::save_in(&store, sample_language, now_ms())?;
        Ok(Rehearsal {
            audience: info.name,
            contacts: info.contacts,
            template: sample_language.template(),
        })
    })
    .await
}
