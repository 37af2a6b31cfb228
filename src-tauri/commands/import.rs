//! Commands of the import flow: choose files, preview, save as an audience.

use std::path::PathBuf;
use std::str::FromStr;

use blastdesk_core::ErrorCode;
use blastdesk_core::audience::{
    self, Excluded, Overridden, PreviewError, PreviewRequest, Recipient,
};
use blastdesk_core::import::{
    Column, ImportError, ImportOptions, ImportedFile, InvalidRow, Mapping,
};
use blastdesk_core::phone::Country;
use blastdesk_core::store::AudienceInfo;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, State, WebviewWindow};

use super::blocking;
use crate::error::Error;
use crate::import_session::{GrantedFile, ImportSession};
use crate::state::AppState;

/// Files for automated runs: when set, "Choose files" takes these paths (a
/// list in the platform's PATH format) instead of opening a dialog.
pub const PICK_FILES_ENV: &str = "BLASTDESK_PICK_FILES";

/// The most rows of each list sent to the window; counts are always exact.
const SHOWN_ROWS: usize = 1000;

#[tauri::command]
pub async fn pick_files(
    window: WebviewWindow,
    session: State<'_, ImportSession>,
) -> Result<Vec<GrantedFile>, Error> {
    let paths: Vec<PathBuf> = match blastdesk_core::hooks::test_env(PICK_FILES_ENV) {
        Some(list) => std::env::split_paths(&list).collect(),
        None => rfd::AsyncFileDialog::new()
            .set_title("Choose customer lists")
            .add_filter(
                "Spreadsheets",
                &["xlsx", "xlsm", "xlsb", "xls", "ods", "csv", "tsv", "txt"],
            )
            .set_parent(&window)
            .pick_files()
            .await
            .map(|files| files.iter().map(|f| f.path().to_path_buf()).collect())
            .unwrap_or_default(),
    };
    Ok(session.grant(paths))
}

/// One file to preview, by the id it was granted.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileChoice {
    id: u64,
    sheet: Option<String>,
    mapping: Option<Mapping>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewArgs {
    files: Vec<FileChoice>,
    #[serde(default)]
    audiences: Vec<String>,
    country: Option<String>,
}

/// A preview, or the question the person must answer first.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum PreviewResult {
    #[serde(rename_all = "camelCase")]
    Ready(PreviewView),
    #[serde(rename_all = "camelCase")]
    NeedsMapping {
        file_id: u64,
        file: String,
        sheet: String,
        columns: Vec<Column>,
    },
}

/// What the window shows of a preview: exact counts, the first rows of each list.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewView {
    counts: Counts,
    field_names: Vec<String>,
    recipients: Vec<Recipient>,
    invalid: Vec<InvalidRow>,
    overridden: Vec<Overridden>,
    excluded: Vec<Excluded>,
    files: Vec<ImportedFile>,
}

#[derive(Debug, Serialize)]
pub struct Counts {
    recipients: usize,
    invalid: usize,
    overridden: usize,
    excluded: usize,
}

#[tauri::command]
pub async fn import_preview(
    app: AppHandle,
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    args: PreviewArgs,
) -> Result<PreviewResult, Error> {
    let store = state.store()?;
    let country = match &args.country {
        Some(code) => Some(Country::from_str(code).map_err(|e| Error {
            code: ErrorCode::InvalidInput,
            details: None,
            message: e.to_string(),
        })?),
        None => None,
    };
    let mut files = Vec::with_capacity(args.files.len());
    for choice in &args.files {
        let path = session.path(choice.id)?;
        files.push((
            choice.id,
            path,
            choice.sheet.clone(),
            choice.mapping.clone(),
        ));
    }
    let chosen: Vec<(u64, PathBuf)> = files
        .iter()
        .map(|(id, path, ..)| (*id, path.clone()))
        .collect();
    let audiences = args.audiences.clone();
    let progress_app = app.clone();
    let outcome = blocking(move || {
        // Numbers without a country code: the one asked for, else the setting.
        let country = match country {
            Some(country) => country,
            None => store.default_country()?,
        };
        let request = PreviewRequest {
            audiences,
            files: files
                .into_iter()
                .map(|(_, path, sheet, mapping)| {
                    let options = ImportOptions {
                        country,
                        sheet,
                        mapping,
                    };
                    (path, options)
                })
                .collect(),
        };
        Ok(audience::preview_with_progress(&store, &request, |step| {
            let _ = progress_app.emit("import-progress", step);
        }))
    })
    .await?;
    match outcome {
        Ok((preview, described)) => {
            let view = PreviewView {
                counts: Counts {
                    recipients: preview.recipients.len(),
                    invalid: preview.invalid.len(),
                    overridden: preview.overridden.len(),
                    excluded: preview.excluded.len(),
                },
                field_names: preview.field_names(),
                recipients: preview
                    .recipients
                    .iter()
                    .take(SHOWN_ROWS)
                    .cloned()
                    .collect(),
                invalid: preview.invalid.iter().take(SHOWN_ROWS).cloned().collect(),
                overridden: preview
                    .overridden
                    .iter()
                    .take(SHOWN_ROWS)
                    .cloned()
                    .collect(),
                excluded: preview.excluded.iter().take(SHOWN_ROWS).cloned().collect(),
                files: described,
            };
            session.set_last_preview(preview);
            Ok(PreviewResult::Ready(view))
        }
        Err(PreviewError::Import(ImportError::PhoneColumnUnknown {
            file,
            sheet,
            columns,
        })) => {
            let file_id = chosen
                .iter()
                .find(|(_, path)| blastdesk_core::import::display_name(path) == file)
                .map_or(0, |(id, _)| *id);
            Ok(PreviewResult::NeedsMapping {
                file_id,
                file,
                sheet,
                columns,
            })
        }
        Err(error) => Err(error.into()),
    }
}

#[tauri::command]
pub async fn save_audience(
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    name: String,
    replace: bool,
) -> Result<AudienceInfo, Error> {
    let store = state.store()?;
    let recipients = session.with_last_preview(|preview| preview.map(|p| p.recipients.clone()));
    let recipients = recipients.ok_or_else(|| Error {
        code: ErrorCode::InvalidInput,
        details: None,
        message: "there is no preview to save; import a file first".into(),
    })?;
    blocking(move || Ok(store.save_audience(&name, &recipients, replace, super::now_ms())?)).await
}
