//! Commands of the do-not-contact list and the opt-out reply words.

use std::str::FromStr;

use blastdesk_core::ErrorCode;
use blastdesk_core::error::{Details, PhoneProblem};
use blastdesk_core::import::{self, ImportOptions};
use blastdesk_core::optout::Words;
use blastdesk_core::phone::{self, Country};
use blastdesk_core::store::DoNotContact;
use serde::Serialize;
use tauri::State;

use super::{blocking, now_ms};
use crate::error::Error;
use crate::import_session::ImportSession;
use crate::state::AppState;

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidInput, message)
}

/// A typed number refused, with what the window needs to say why.
fn unusable(message: String, problem: PhoneProblem) -> Error {
    Error {
        details: Some(Details::Phone(problem)),
        ..invalid(message)
    }
}

#[tauri::command]
pub async fn list_do_not_contact(state: State<'_, AppState>) -> Result<Vec<DoNotContact>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.do_not_contact_entries()?)).await
}

/// Adds numbers typed by the person (one per line, or separated by commas).
/// Every one must be a usable number; otherwise none is added.
#[tauri::command]
pub async fn add_do_not_contact(
    state: State<'_, AppState>,
    numbers: String,
) -> Result<Added, Error> {
    let store = state.store()?;
    blocking(move || {
        let country: Country = store.default_country()?;
        let mut phones = Vec::new();
        for raw in numbers
            .split([',', '\n', ';'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let phone = phone::normalize(raw, country).map_err(|e| {
                unusable(
                    format!("\"{raw}\" is not a usable number: {e}. Nothing was added."),
                    PhoneProblem::Unusable {
                        value: raw.to_owned(),
                        problem: e.code(),
                    },
                )
            })?;
            phones.push(phone);
        }
        if phones.is_empty() {
            return Err(unusable(
                "Type at least one number.".into(),
                PhoneProblem::NoneGiven,
            ));
        }
        let now = now_ms();
        let mut added = 0;
        for phone in &phones {
            added += u64::from(store.add_do_not_contact_noted(phone, "manual", None, now)?);
        }
        Ok(Added {
            added,
            already: phones.len() as u64 - added,
            invalid: 0,
        })
    })
    .await
}

/// How many numbers were added, were on the list already, or were unusable.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Added {
    added: u64,
    already: u64,
    invalid: u64,
}

/// Adds every number of a chosen file (read like a customer list).
#[tauri::command]
pub async fn add_do_not_contact_file(
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    file_id: u64,
) -> Result<Added, Error> {
    let store = state.store()?;
    let path = session.path(file_id)?;
    blocking(move || {
        let options = ImportOptions {
            country: store.default_country()?,
            ..ImportOptions::default()
        };
        let file = import::read(&path, &options).map_err(|e| Error {
            code: e.code(),
            details: Some(Details::Import(e.clone())),
            message: e.to_string(),
        })?;
        let note = format!("From {}", file.file);
        let phones: Vec<_> = file.rows.iter().map(|row| row.phone.clone()).collect();
        let added = store.add_do_not_contact_all(&phones, "import", Some(&note), now_ms())?;
        Ok(Added {
            added,
            already: file.rows.len() as u64 - added,
            invalid: file.invalid.len() as u64,
        })
    })
    .await
}

#[tauri::command]
pub async fn remove_do_not_contact(
    state: State<'_, AppState>,
    phone: String,
) -> Result<bool, Error> {
    let store = state.store()?;
    let phone = phone::Phone::from_e164_unchecked(phone);
    blocking(move || Ok(store.remove_do_not_contact(&phone)?)).await
}

/// The opt-out words, comma-separated.
#[tauri::command]
pub async fn opt_out_words(state: State<'_, AppState>) -> Result<String, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.opt_out_words()?.to_string())).await
}

#[tauri::command]
pub async fn set_opt_out_words(state: State<'_, AppState>, words: String) -> Result<String, Error> {
    let store = state.store()?;
    let words = Words::from_str(&words)
        .map_err(|reason| invalid(format!("The opt-out words: {reason}.")))?;
    blocking(move || {
        store.set_opt_out_words(&words, now_ms())?;
        Ok(words.to_string())
    })
    .await
}
