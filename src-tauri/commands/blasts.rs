//! Commands of the Blasts and New blast screens: plan, create, steer and
//! report on blasts. The recipients of a new blast are those of the last
//! import preview, exactly as the person saw them.

use std::path::{Path, PathBuf};

use blastdesk_core::ErrorCode;
use blastdesk_core::engine;
use blastdesk_core::messenger::{Media, MediaKind};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::report::{Report, ReportError, ReportRow};
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::NewBlast;
use blastdesk_core::store::runs::{BlastSummary, Resent, UnknownDecision};
use blastdesk_core::template::{self, MissingValue, Template, TemplateError};
use blastdesk_core::{sample, zone};
use serde::{Deserialize, Serialize};
use tauri::{State, WebviewWindow};

use super::{blocking, now_ms};
use crate::error::Error;
use crate::import_session::ImportSession;
use crate::runner::Runner;
use crate::state::AppState;

/// A file to save to for automated runs: when set, "Export" writes there
/// instead of asking with a dialog.
pub const SAVE_FILE_ENV: &str = "BLASTDESK_SAVE_FILE";

/// The name of the account rehearsals are sent from.
const REHEARSAL: &str = "Rehearsal";

/// The most report rows sent to the window; the export has them all.
const SHOWN_ROWS: usize = 1000;

fn template_error(error: TemplateError) -> Error {
    Error {
        code: ErrorCode::TemplateInvalid,
        message: format!("The message cannot be used: {error}."),
    }
}

fn report_error(error: ReportError) -> Error {
    Error {
        code: error.code(),
        message: error.to_string(),
    }
}

fn no_preview() -> Error {
    Error {
        code: ErrorCode::InvalidInput,
        message: "Choose the recipients first: no list is loaded.".into(),
    }
}

#[tauri::command]
pub async fn list_blasts(state: State<'_, AppState>) -> Result<Vec<BlastSummary>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.list_blasts()?)).await
}

/// The rehearsal account, added (in the computer's time zone) if there is none.
fn rehearsal_account(store: &blastdesk_core::Store) -> Result<i64, Error> {
    Ok(store.ensure_account(
        REHEARSAL,
        AccountKind::Simulated,
        zone::computer().name(),
        now_ms(),
    )?)
}

/// A risky pacing setting, with its words.
#[derive(Debug, Serialize)]
pub struct RiskView {
    code: &'static str,
    message: &'static str,
}

/// What sending to the loaded recipients from an account would look like.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    account_id: i64,
    recipients: usize,
    finish_estimate_ms: i64,
    time_zone: String,
    pacing: Pacing,
    risks: Vec<RiskView>,
}

#[tauri::command]
pub async fn blast_plan(
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    account_id: Option<i64>,
) -> Result<Plan, Error> {
    let store = state.store()?;
    let recipients = session.with_last_preview(|p| p.map(|p| p.recipients.len()));
    let recipients = recipients.ok_or_else(no_preview)?;
    blocking(move || {
        let account_id = match account_id {
            Some(id) => id,
            None => rehearsal_account(&store)?,
        };
        let account = store.account_pacing(account_id)?;
        let now = now_ms();
        Ok(Plan {
            account_id,
            recipients,
            finish_estimate_ms: engine::estimate_finish(
                &store,
                account_id,
                recipients as u64,
                now,
            )?,
            time_zone: account.time_zone.name().to_owned(),
            risks: risks(&account.pacing),
            pacing: account.pacing,
        })
    })
    .await
}

/// Changes an account's pacing; returns the risks of the new settings.
#[tauri::command]
pub async fn set_account_pacing(
    state: State<'_, AppState>,
    account_id: i64,
    pacing: Pacing,
) -> Result<Vec<RiskView>, Error> {
    let store = state.store()?;
    blocking(move || {
        store.set_account_pacing(account_id, &pacing)?;
        Ok(risks(&pacing))
    })
    .await
}

fn risks(pacing: &Pacing) -> Vec<RiskView> {
    pacing
        .risks()
        .into_iter()
        .map(|r| RiskView {
            code: r.code(),
            message: r.message(),
        })
        .collect()
}

/// One recipient's message, as the preview shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderedMessage {
    index: usize,
    phone: String,
    /// The message, or why this recipient would be skipped.
    text: Option<String>,
    skipped: Option<String>,
}

#[tauri::command]
pub fn render_message(
    session: State<'_, ImportSession>,
    template: String,
    missing: MissingValue,
    index: usize,
) -> Result<RenderedMessage, Error> {
    let parsed = Template::parse(&template).map_err(template_error)?;
    session.with_last_preview(|preview| {
        let preview = preview.ok_or_else(no_preview)?;
        parsed
            .check_columns(&preview.field_names())
            .map_err(template_error)?;
        let index = index.min(preview.recipients.len().saturating_sub(1));
        let recipient = preview.recipients.get(index).ok_or_else(no_preview)?;
        // The blast does not exist yet: variants are picked as for blast 0,
        // so the preview shows one of them.
        let seed = template::seed_for(0, recipient.phone.as_str());
        let rendered = parsed.render(&recipient.fields, &missing, seed);
        Ok(RenderedMessage {
            index,
            phone: recipient.phone.to_string(),
            skipped: rendered.as_ref().err().map(ToString::to_string),
            text: rendered.ok(),
        })
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateArgs {
    name: String,
    template: String,
    missing: MissingValue,
    /// None: the rehearsal account.
    account_id: Option<i64>,
    #[serde(default)]
    check_numbers: bool,
    /// A file chosen with `pick_attachment`, sent with the message as its caption.
    #[serde(default)]
    attachment_id: Option<u64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    blast_id: i64,
    recipients: usize,
}

/// Creates a blast for the loaded recipients and starts sending it.
#[tauri::command]
pub async fn create_blast(
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    runner: State<'_, Runner>,
    args: CreateArgs,
) -> Result<Created, Error> {
    let store = state.store()?;
    let parsed = Template::parse(&args.template).map_err(template_error)?;
    let name = args.name.trim().to_owned();
    if name.is_empty() {
        return Err(Error {
            code: ErrorCode::InvalidInput,
            message: "Give the blast a name.".into(),
        });
    }
    let recipients = session.with_last_preview(|p| {
        let p = p.ok_or_else(no_preview)?;
        parsed
            .check_columns(&p.field_names())
            .map_err(template_error)?;
        Ok::<_, Error>(p.recipients.clone())
    })?;
    if recipients.is_empty() {
        return Err(Error {
            code: ErrorCode::InvalidInput,
            message: "No one to send to: the list has no usable number.".into(),
        });
    }
    let attachment = args.attachment_id.map(|id| session.path(id)).transpose()?;
    let data_dir = state.data_dir().to_path_buf();
    let (account_id, blast_id) = blocking(move || {
        let account_id = match args.account_id {
            Some(id) => id,
            None => rehearsal_account(&store)?,
        };
        let simulated = store
            .list_accounts()?
            .iter()
            .any(|a| a.id == account_id && a.kind == AccountKind::Simulated);
        if !simulated && sample::contains_sample(&recipients) {
            return Err(Error {
                code: ErrorCode::InvalidInput,
                message: sample::REAL_ACCOUNT_REFUSAL.into(),
            });
        }
        let media = attachment
            .map(|path| keep_attachment(&data_dir, &path))
            .transpose()?;
        let blast_id = store.create_blast(
            &NewBlast {
                account_id,
                name: &name,
                template: &args.template,
                options: serde_json::json!({
                    "missingValue": args.missing,
                    "checkNumbers": args.check_numbers,
                    "media": media,
                }),
                simulated,
                recipients: &recipients,
            },
            now_ms(),
        )?;
        Ok((account_id, blast_id))
    })
    .await?;
    tracing::info!(blast_id, account_id, "blast created");
    runner.ensure_worker(account_id);
    Ok(Created {
        blast_id,
        recipients: session.with_last_preview(|p| p.map_or(0, |p| p.recipients.len())),
    })
}

/// Copies a chosen attachment into the data folder, so the blast (and a
/// later re-send) does not depend on the original staying where it was.
pub(crate) fn keep_attachment(data_dir: &Path, path: &Path) -> Result<Media, Error> {
    let invalid = |message: String| Error {
        code: ErrorCode::InvalidInput,
        message,
    };
    Media::from_file(path).map_err(|reason| invalid(format!("The attachment: {reason}.")))?;
    let folder = data_dir.join("attachments");
    let io = |e: std::io::Error| Error {
        code: ErrorCode::Io,
        message: format!(
            "Cannot keep a copy of the attachment in {}: {e}.",
            folder.display()
        ),
    };
    std::fs::create_dir_all(&folder).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "attachment".into());
    let kept = folder.join(format!("{}-{}", now_ms(), safe_file_name(&name)));
    std::fs::copy(path, &kept).map_err(io)?;
    let mut media = Media::from_file(&kept).map_err(invalid)?;
    media.file_name = Some(name);
    Ok(media)
}

/// An attachment the person chose: its id for `create_blast`, and what it is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    id: u64,
    name: String,
    kind: MediaKind,
    bytes: u64,
}

/// Opens the file dialog for an attachment; nothing if cancelled.
#[tauri::command]
pub async fn pick_attachment(
    window: WebviewWindow,
    session: State<'_, ImportSession>,
) -> Result<Option<AttachmentView>, Error> {
    let path: Option<PathBuf> = match std::env::var_os(crate::commands::import::PICK_FILES_ENV) {
        Some(list) => std::env::split_paths(&list).next(),
        None => rfd::AsyncFileDialog::new()
            .set_title("Choose a photo, video or document to send")
            .set_parent(&window)
            .pick_file()
            .await
            .map(|f| f.path().to_path_buf()),
    };
    let Some(path) = path else { return Ok(None) };
    let media = Media::from_file(&path).map_err(|reason| Error {
        code: ErrorCode::InvalidInput,
        message: format!("The attachment: {reason}."),
    })?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let Some(granted) = session.grant([path]).into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(AttachmentView {
        id: granted.id,
        name: granted.name,
        kind: media.kind,
        bytes,
    }))
}

/// Sends a finished blast again to those whose message failed or whose fate
/// stayed unknown, as a new blast.
#[tauri::command]
pub async fn resend_blast(
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    blast_id: i64,
) -> Result<Resent, Error> {
    let store = state.store()?;
    let (resent, account_id) = blocking(move || {
        let resent = store.resend_blast(blast_id, now_ms())?;
        Ok((resent, store.blast_summary(resent.blast_id)?.account_id))
    })
    .await?;
    tracing::info!(blast_id, again = resent.blast_id, "blast sent again");
    runner.ensure_worker(account_id);
    Ok(resent)
}

#[tauri::command]
pub async fn pause_blast(runner: State<'_, Runner>, blast_id: i64) -> Result<(), Error> {
    let control = runner.control().clone();
    blocking(move || Ok(control.pause(blast_id)?)).await
}

#[tauri::command]
pub async fn resume_blast(
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    blast_id: i64,
) -> Result<(), Error> {
    let store = state.store()?;
    let control = runner.control().clone();
    let account_id = blocking(move || {
        control.resume(blast_id)?;
        Ok(store.blast_summary(blast_id)?.account_id)
    })
    .await?;
    runner.ensure_worker(account_id);
    Ok(())
}

#[tauri::command]
pub async fn cancel_blast(runner: State<'_, Runner>, blast_id: i64) -> Result<u64, Error> {
    let control = runner.control().clone();
    blocking(move || Ok(control.cancel(blast_id, now_ms())?)).await
}

/// Re-sends (or leaves unsent) the messages of unknown fate; returns how many.
#[tauri::command]
pub async fn decide_unknown(
    state: State<'_, AppState>,
    runner: State<'_, Runner>,
    blast_id: i64,
    resend: bool,
) -> Result<u64, Error> {
    let store = state.store()?;
    let control = runner.control().clone();
    let decision = if resend {
        UnknownDecision::Resend
    } else {
        UnknownDecision::LeaveUnsent
    };
    let (changed, account_id) = blocking(move || {
        let changed = control.decide_unknown(blast_id, decision, now_ms())?;
        Ok((changed, store.blast_summary(blast_id)?.account_id))
    })
    .await?;
    runner.ensure_worker(account_id);
    Ok(changed)
}

/// The report as the window shows it: the first rows, and how many in all.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportView {
    blast: BlastSummary,
    total: usize,
    rows: Vec<ReportRow>,
}

#[tauri::command]
pub async fn blast_report(state: State<'_, AppState>, blast_id: i64) -> Result<ReportView, Error> {
    let store = state.store()?;
    blocking(move || {
        let report = Report::load(&store, blast_id).map_err(report_error)?;
        let total = report.rows.len();
        let mut rows = report.rows;
        rows.truncate(SHOWN_ROWS);
        Ok(ReportView {
            blast: store.blast_summary(blast_id)?,
            total,
            rows,
        })
    })
    .await
}

/// Asks where to save the report (xlsx or CSV) and writes it there. Returns
/// the file written, or nothing if the person cancelled.
#[tauri::command]
pub async fn export_report(
    window: WebviewWindow,
    state: State<'_, AppState>,
    blast_id: i64,
) -> Result<Option<String>, Error> {
    let store = state.store()?;
    let name = blocking({
        let store = store.clone();
        move || Ok(store.blast_summary(blast_id)?.name)
    })
    .await?;
    let path: Option<PathBuf> = match std::env::var_os(SAVE_FILE_ENV) {
        Some(path) => Some(PathBuf::from(path)),
        None => rfd::AsyncFileDialog::new()
            .set_title("Export the report")
            .set_file_name(format!("{} report.xlsx", safe_file_name(&name)))
            .add_filter("Excel workbook", &["xlsx"])
            .add_filter("CSV", &["csv"])
            .set_parent(&window)
            .save_file()
            .await
            .map(|file| file.path().to_path_buf()),
    };
    let Some(path) = path else {
        return Ok(None);
    };
    blocking(move || {
        Report::load(&store, blast_id)
            .and_then(|report| report.export(&path))
            .map_err(report_error)?;
        tracing::info!(blast_id, "report exported");
        Ok(Some(path.display().to_string()))
    })
    .await
}

/// A blast's name as a file name: no path separators or reserved characters.
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').to_owned();
    if cleaned.is_empty() {
        "Blast".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn report_file_names_are_safe_on_every_system() {
        let cases = [
            ("Promo Desember", "Promo Desember"),
            ("a/b\\c:d*e?f\"g<h>i|j", "a-b-c-d-e-f-g-h-i-j"),
            ("..", "Blast"),
            ("  ", "Blast"),
            ("line\nbreak", "line-break"),
        ];
        for (name, expected) in cases {
            assert_eq!(super::safe_file_name(name), expected, "{name:?}");
        }
    }
}
