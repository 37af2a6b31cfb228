//! Commands about the app itself: where its data is and what the store holds.

use std::path::PathBuf;

use blastdesk_core::{data_dir, store::Summary};
use serde::Serialize;
use tauri::State;

use super::{blocking, now_ms};
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

/// The settings key of the UI language ("en" or "id"; absent: the system's).
const LANGUAGE: &str = "ui_language";
/// Set once the first-run welcome was finished or skipped.
const WELCOME_DONE: &str = "welcome_done";
/// The New blast the person was writing, as the window saved it (JSON).
const DRAFT: &str = "blast_draft";
/// The largest draft kept (a message and its choices, not a document).
const MAX_DRAFT_BYTES: usize = 256 * 1024;
/// The languages the window is translated into.
const LANGUAGES: &[&str] = &["en", "id"];

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
            language: store.setting_text(LANGUAGE)?,
            system_language: system_language(|key| std::env::var(key).ok()),
            welcome_done: store.setting_text(WELCOME_DONE)?.is_some(),
            draft: store.setting_text(DRAFT)?,
        })
    })
    .await
}

/// The translated language the POSIX locale variables ask for, in their order
/// of precedence (LANGUAGE's list, then LC_ALL, LC_MESSAGES, LANG).
fn system_language(var: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    let mut wanted: Vec<String> = var("LANGUAGE")
        .map(|list| list.split(':').map(str::to_owned).collect())
        .unwrap_or_default();
    wanted.extend(
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|k| var(k)),
    );
    wanted.iter().find_map(|tag| {
        let base = tag.split(['_', '-', '.', '@']).next()?.to_ascii_lowercase();
        match base.as_str() {
            "id" | "in" | "ms" => Some("id"),
            "en" => Some("en"),
            _ => None,
        }
    })
}

/// Chooses the window's language; `None` follows the system's.
#[tauri::command]
pub async fn set_language(
    state: State<'_, AppState>,
    language: Option<String>,
) -> Result<(), Error> {
    let store = state.store()?;
    if let Some(code) = &language
        && !LANGUAGES.contains(&code.as_str())
    {
        return Err(Error {
            code: blastdesk_core::ErrorCode::InvalidInput,
            message: format!("Blastdesk is not translated into \"{code}\"; choose en or id."),
        });
    }
    blocking(move || Ok(store.set_setting_text(LANGUAGE, language.as_deref(), now_ms())?)).await
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

#[tauri::command]
pub async fn start_rehearsal(state: State<'_, AppState>) -> Result<Rehearsal, Error> {
    let store = state.store()?;
    blocking(move || {
        let info = blastdesk_core::sample::save(&store, now_ms())?;
        Ok(Rehearsal {
            audience: info.name,
            contacts: info.contacts,
            template: blastdesk_core::sample::TEMPLATE,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_system_language_comes_from_the_locale_variables_in_order() {
        type Vars = &'static [(&'static str, &'static str)];
        let cases: [(Vars, Option<&str>); 7] = [
            (&[("LANG", "id_ID.UTF-8")], Some("id")),
            (&[("LANG", "en_US.UTF-8")], Some("en")),
            (&[("LANG", "de_DE.UTF-8")], None),
            (&[("LANG", "C.UTF-8")], None),
            (
                &[("LANGUAGE", "fr:id"), ("LANG", "en_GB.UTF-8")],
                Some("id"),
            ),
            (
                &[("LC_ALL", "ms_MY.UTF-8"), ("LANG", "en_GB.UTF-8")],
                Some("id"),
            ),
            (&[], None),
        ];
        for (vars, expected) in cases {
            let found = super::system_language(|key| {
                vars.iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| (*v).to_owned())
            });
            assert_eq!(found, expected, "{vars:?}");
        }
    }
}
