//! Commands of the Blasts and New blast screens: plan, create, steer and
//! report on blasts. The recipients of a new blast are those of the last
//! import preview, exactly as the person saw them.

use std::path::PathBuf;

use blastdesk_core::ErrorCode;
use blastdesk_core::blast::{self, BlastOptions, Created, NewBlast, Sender};
use blastdesk_core::engine;
use blastdesk_core::messenger::{Media, MediaKind};
use blastdesk_core::pacing::Pacing;
use blastdesk_core::report::{Report, ReportError, ReportRow, Timeline};
use blastdesk_core::store::runs::{BlastSummary, Resent, UnknownDecision};
use blastdesk_core::template::{self, MissingValue, Template, TemplateError};
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

/// The most report rows sent to the window; the export has them all.
const SHOWN_ROWS: usize = 1000;

fn template_error(error: TemplateError) -> Error {
    Error {
        code: ErrorCode::TemplateInvalid,
        details: Some(blastdesk_core::error::Details::Template(error.clone())),
        message: format!("The message cannot be used: {error}."),
    }
}

fn report_error(error: ReportError) -> Error {
    Error {
        code: error.code(),
        details: None,
        message: error.to_string(),
    }
}

fn no_preview() -> Error {
    Error {
        code: ErrorCode::InvalidInput,
        details: None,
        message: "Choose the recipients first: no list is loaded.".into(),
    }
}

#[tauri::command]
pub async fn list_blasts(state: State<'_, AppState>) -> Result<Vec<BlastSummary>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.list_blasts()?)).await
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
            None => blast::rehearsal_account(&store, now_ms())?,
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

/// Creates a blast for the loaded recipients (as they were previewed) and
/// starts sending it.
#[tauri::command]
pub async fn create_blast(
    state: State<'_, AppState>,
    session: State<'_, ImportSession>,
    runner: State<'_, Runner>,
    args: CreateArgs,
) -> Result<Created, Error> {
    let store = state.store()?;
    let recipients =
        session.with_last_preview(|p| p.map(|p| p.recipients.clone()).ok_or_else(no_preview))?;
    let attachment = args.attachment_id.map(|id| session.path(id)).transpose()?;
    let created = blocking(move || {
        let sender = match args.account_id {
            Some(id) => Sender::Account(id),
            None => Sender::Rehearsal,
        };
        Ok(blast::create(
            &store,
            &NewBlast {
                name: &args.name,
                template: &args.template,
                sender,
                recipients: &recipients,
                options: BlastOptions {
                    missing_value: args.missing,
                    check_numbers: args.check_numbers,
                    media: None,
                },
                attach: attachment.as_deref(),
            },
            now_ms(),
        )?)
    })
    .await?;
    runner.ensure_worker(created.account_id);
    Ok(created)
}

/// An attachment the person chose: its id for `create_blast`, and what it is.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    id: u64,
    name: String,
    kind: MediaKind,
    bytes: u64,
    /// A photo as a `data:` URL for the window's preview (small photos only).
    thumbnail: Option<String>,
}

/// The largest photo the preview shows from its own bytes.
const THUMBNAIL_BYTES: u64 = 4 * 1024 * 1024;

/// A photo as a `data:` URL (the window cannot read the file itself).
fn thumbnail(path: &std::path::Path, kind: MediaKind) -> Option<String> {
    use base64::Engine as _;
    use std::io::Read as _;
    if kind != MediaKind::Image {
        return None;
    }
    // Read at most one byte past the limit: a larger file (or one that grew
    // since it was chosen) gets no thumbnail, whatever its metadata said.
    let mut data = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(THUMBNAIL_BYTES + 1)
        .read_to_end(&mut data)
        .ok()?;
    if data.len() as u64 > THUMBNAIL_BYTES {
        return None;
    }
    let mime = image_type(&data)?;
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(&data)
    ))
}

/// The type of an image the web view can draw, from its first bytes (never
/// from its name); `None` for anything else.
fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Opens the file dialog for an attachment; nothing if cancelled.
#[tauri::command]
pub async fn pick_attachment(
    window: WebviewWindow,
    session: State<'_, ImportSession>,
) -> Result<Option<AttachmentView>, Error> {
    let path: Option<PathBuf> =
        match blastdesk_core::hooks::test_env(crate::commands::import::PICK_FILES_ENV) {
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
        details: None,
        message: format!("The attachment: {reason}."),
    })?;
    let (bytes, thumbnail) = {
        let path = path.clone();
        blocking(move || {
            let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            Ok((bytes, thumbnail(&path, media.kind)))
        })
        .await?
    };
    let Some(granted) = session.grant([path]).into_iter().next() else {
        return Ok(None);
    };
    Ok(Some(AttachmentView {
        id: granted.id,
        name: granted.name,
        kind: media.kind,
        bytes,
        thumbnail,
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

/// A blast's sends minute by minute, for the chart of its progress.
#[tauri::command]
pub async fn blast_timeline(state: State<'_, AppState>, blast_id: i64) -> Result<Timeline, Error> {
    let store = state.store()?;
    blocking(move || Timeline::load(&store, blast_id).map_err(report_error)).await
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
    let path: Option<PathBuf> = match blastdesk_core::hooks::test_env(SAVE_FILE_ENV) {
        Some(path) => Some(PathBuf::from(path)),
        None => rfd::AsyncFileDialog::new()
            .set_title("Export the report")
            .set_file_name(format!(
                "{} report.xlsx",
                blast::safe_file_name(&name, "Blast")
            ))
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_thumbnail_is_an_image_known_by_its_bytes_and_bounded() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let cases: &[(&str, &[u8], Option<&str>)] = &[
            (
                "a.jpg",
                b"\xff\xd8\xff\xe0rest",
                Some("data:image/jpeg;base64,/9j/4HJlc3Q="),
            ),
            (
                "a.png",
                b"\x89PNG\r\n\x1a\n",
                Some("data:image/png;base64,iVBORw0KGgo="),
            ),
            // Named as a photo, but not one: no thumbnail.
            ("fake.jpg", b"<svg onload=alert(1)>", None),
        ];
        for (name, data, expected) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, data)?;
            assert_eq!(
                super::thumbnail(&path, super::MediaKind::Image).as_deref(),
                *expected,
                "{name}"
            );
        }
        let large = dir.path().join("large.jpg");
        let mut data = vec![0xff, 0xd8, 0xff];
        data.resize(super::THUMBNAIL_BYTES as usize + 1, 0);
        std::fs::write(&large, data)?;
        assert_eq!(super::thumbnail(&large, super::MediaKind::Image), None);
        Ok(())
    }
}
