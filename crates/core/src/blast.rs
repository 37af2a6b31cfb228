//! Creating a blast: the one path from a list of recipients to a blast.
//!
//! The window, the command line and the scheduler all create blasts through
//! [`create`], so every blast is checked the same way: a name, a message
//! that uses only the list's columns, someone to send to, no made-up sample
//! customer on a real account, the do-not-contact list as of now, and an
//! attachment kept inside the data folder (never a path of the caller's).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ErrorCode;
use crate::audience::{self, Recipient};
use crate::messenger::{Media, MediaKind};
use crate::store::{self, AccountKind, Store};
use crate::template::{MissingValue, Template, TemplateError};
use crate::{sample, zone};

/// The name of the account rehearsals are sent from.
pub const REHEARSAL_ACCOUNT: &str = "Rehearsal";

/// The folder of the data folder where attachments are kept.
pub const ATTACHMENTS: &str = "attachments";

/// The longest blast name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// How a blast sends: stored with the blast, and with a schedule's blast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastOptions {
    /// What a recipient without a value for a placeholder gets.
    #[serde(default = "no_text")]
    pub missing_value: MissingValue,
    /// Check the numbers are on WhatsApp before sending.
    #[serde(default)]
    pub check_numbers: bool,
    /// The file sent with the message (the message is its caption).
    #[serde(default)]
    pub media: Option<Attachment>,
}

fn no_text() -> MissingValue {
    MissingValue::Fallback {
        text: String::new(),
    }
}

impl Default for BlastOptions {
    fn default() -> BlastOptions {
        BlastOptions {
            missing_value: no_text(),
            check_numbers: false,
            media: None,
        }
    }
}

/// A file kept in the data folder's attachments, named by its id (its file
/// name there). It names no path: wherever it came from, it resolves only
/// inside the attachments folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "StoredAttachment")]
pub struct Attachment {
    id: String,
    pub kind: MediaKind,
    /// The name the recipient sees (documents).
    pub file_name: Option<String>,
}

/// An attachment as stored: by id, or (blasts made before ids) by the path
/// it was kept at, of which only the file name is used.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoredAttachment {
    id: Option<String>,
    path: Option<String>,
    kind: MediaKind,
    file_name: Option<String>,
}

impl TryFrom<StoredAttachment> for Attachment {
    type Error = String;

    fn try_from(stored: StoredAttachment) -> Result<Attachment, String> {
        let id = match (stored.id, stored.path) {
            (Some(id), _) => id,
            (None, Some(path)) => path.rsplit(['/', '\\']).next().unwrap_or("").to_owned(),
            (None, None) => return Err("an attachment without an id".into()),
        };
        Attachment::new(id, stored.kind, stored.file_name)
    }
}

impl Attachment {
    /// An attachment by its id, refused if the id could name anything but a
    /// file directly inside the attachments folder.
    pub fn new(
        id: String,
        kind: MediaKind,
        file_name: Option<String>,
    ) -> Result<Attachment, String> {
        let plain = !id.is_empty()
            && !id.starts_with('.')
            && !id
                .chars()
                .any(|c| matches!(c, '/' | '\\' | ':') || c.is_control());
        if !plain {
            return Err(format!("{id:?} is not an attachment id"));
        }
        Ok(Attachment {
            id,
            kind,
            file_name,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Deletes a kept copy that nothing uses (what made it failed).
    pub fn discard(&self, data_dir: &Path) {
        std::fs::remove_file(self.media(data_dir).path).ok();
    }

    /// The attachment as the messenger sends it, from the attachments
    /// folder of `data_dir`.
    pub fn media(&self, data_dir: &Path) -> Media {
        Media {
            kind: self.kind,
            path: data_dir.join(ATTACHMENTS).join(&self.id),
            file_name: self.file_name.clone(),
        }
    }
}

impl rusqlite::types::ToSql for BlastOptions {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        serde_json::to_string(self)
            .map(rusqlite::types::ToSqlOutput::from)
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
    }
}

impl rusqlite::types::FromSql for BlastOptions {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        let text = value.as_str()?;
        serde_json::from_str(text).map_err(|e| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

/// Who sends a new blast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// The rehearsal account (added if there is none): nothing goes to WhatsApp.
    Rehearsal,
    /// An account by its id.
    Account(i64),
}

/// A blast to create.
#[derive(Debug, Clone)]
pub struct NewBlast<'a> {
    pub name: &'a str,
    pub template: &'a str,
    pub sender: Sender,
    pub recipients: &'a [Recipient],
    pub options: BlastOptions,
    /// A file to send with the message: a copy is kept in the data folder,
    /// so the blast (and a later re-send) does not depend on the original.
    pub attach: Option<&'a Path>,
}

/// A blast that was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    pub blast_id: i64,
    pub account_id: i64,
    /// Every recipient, including those skipped at once.
    pub recipients: u64,
    /// Recipients skipped at once: their number is on the do-not-contact list.
    pub do_not_contact: u64,
}

/// Why a blast was not created. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("give the blast a name")]
    NoName,
    #[error("the blast's name has {chars} characters; give it at most {MAX_NAME_CHARS}")]
    NameTooLong { chars: usize },
    #[error("the message cannot be used: {0}")]
    Template(#[from] TemplateError),
    #[error("write a message, or attach a file to send")]
    NothingToSend,
    #[error("no one to send to: the list holds no usable number")]
    NoRecipients,
    #[error("{}", sample::REAL_ACCOUNT_REFUSAL)]
    SampleRecipients,
    #[error("the attachment: {0}")]
    Attachment(String),
    #[error("cannot keep a copy of the attachment in {}: {source}", .folder.display())]
    KeepAttachment {
        folder: PathBuf,
        source: std::io::Error,
    },
    #[error("an attachment needs a data folder to be kept in")]
    NoDataFolder,
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl CreateError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CreateError::NoName
            | CreateError::NameTooLong { .. }
            | CreateError::NothingToSend
            | CreateError::NoRecipients
            | CreateError::SampleRecipients => ErrorCode::InvalidInput,
            CreateError::Template(_) => ErrorCode::TemplateInvalid,
            CreateError::Attachment(_) => ErrorCode::AttachmentUnreadable,
            CreateError::KeepAttachment { .. } | CreateError::NoDataFolder => ErrorCode::Io,
            CreateError::Store(error) => error.code(),
        }
    }

    /// What the error says, as data (see [`crate::error::Details`]).
    pub fn details(&self) -> Option<crate::error::Details> {
        use crate::error::{BlastProblem as P, Details};
        let problem = match self {
            CreateError::NoName => P::NoName,
            CreateError::NameTooLong { chars } => P::NameTooLong {
                chars: *chars,
                max: MAX_NAME_CHARS,
            },
            CreateError::NothingToSend => P::NothingToSend,
            CreateError::NoRecipients => P::NoRecipients,
            CreateError::SampleRecipients => P::SampleRecipients,
            CreateError::Attachment(detail) => P::Attachment {
                detail: detail.clone(),
            },
            CreateError::KeepAttachment { folder, .. } => P::KeepAttachment {
                folder: folder.display().to_string(),
            },
            CreateError::NoDataFolder => P::NoDataFolder,
            CreateError::Template(error) => return Some(Details::Template(error.clone())),
            CreateError::Store(error) => return error.details(),
        };
        Some(Details::Blast(problem))
    }
}

/// Creates a blast, queued for its account's worker. Checks everything
/// first and writes nothing unless all is well; recipients already on the
/// do-not-contact list are skipped at once, in the same transaction.
pub fn create(store: &Store, blast: &NewBlast<'_>, now_ms: i64) -> Result<Created, CreateError> {
    let name = blast.name.trim();
    if name.is_empty() {
        return Err(CreateError::NoName);
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(CreateError::NameTooLong { chars });
    }
    let template = Template::parse(blast.template)?;
    if blast.template.trim().is_empty() && blast.attach.is_none() && blast.options.media.is_none() {
        return Err(CreateError::NothingToSend);
    }
    if blast.recipients.is_empty() {
        return Err(CreateError::NoRecipients);
    }
    template.check_columns(&audience::field_names(blast.recipients))?;
    let account_id = match blast.sender {
        Sender::Rehearsal => rehearsal_account(store, now_ms)?,
        Sender::Account(id) => id,
    };
    let simulated = store.account(account_id)?.kind == AccountKind::Simulated;
    if !simulated && sample::contains_sample(blast.recipients) {
        return Err(CreateError::SampleRecipients);
    }
    let mut options = blast.options.clone();
    if let Some(media) = &options.media {
        let data_dir = data_dir(store)?;
        let kept = media.media(&data_dir);
        Media::from_file(&kept.path).map_err(CreateError::Attachment)?;
    }
    let kept = match blast.attach {
        Some(path) => Some(keep_attachment(&data_dir(store)?, path, now_ms)?),
        None => None,
    };
    if let Some(attachment) = &kept {
        options.media = Some(attachment.clone());
    }
    let written = store.create_blast(
        &store::blasts::BlastRecord {
            account_id,
            name,
            template: blast.template,
            options: &options,
            simulated,
            recipients: blast.recipients,
        },
        now_ms,
    );
    let (blast_id, do_not_contact) = match written {
        Ok(written) => written,
        Err(error) => {
            // The copy belongs to no blast: do not leave it behind.
            if let (Some(attachment), Ok(dir)) = (&kept, data_dir(store)) {
                attachment.discard(&dir);
            }
            return Err(error.into());
        }
    };
    tracing::info!(blast_id, account_id, "blast created");
    Ok(Created {
        blast_id,
        account_id,
        recipients: blast.recipients.len() as u64,
        do_not_contact,
    })
}

/// The rehearsal account's id, the account added (in the computer's time
/// zone) if there is none.
pub fn rehearsal_account(store: &Store, now_ms: i64) -> store::Result<i64> {
    store.ensure_account(
        REHEARSAL_ACCOUNT,
        AccountKind::Simulated,
        zone::computer().name(),
        now_ms,
    )
}

/// The folder the store's database is in.
fn data_dir(store: &Store) -> Result<PathBuf, CreateError> {
    store
        .data_dir()
        .map(Path::to_path_buf)
        .ok_or(CreateError::NoDataFolder)
}

/// Copies a file into the data folder's attachments under a new id, after
/// checking it can be sent (readable, not empty, not too large).
pub fn keep_attachment(
    data_dir: &Path,
    path: &Path,
    now_ms: i64,
) -> Result<Attachment, CreateError> {
    let chosen = Media::from_file(path).map_err(CreateError::Attachment)?;
    let folder = data_dir.join(ATTACHMENTS);
    let io = |source: std::io::Error| CreateError::KeepAttachment {
        folder: folder.clone(),
        source,
    };
    std::fs::create_dir_all(&folder).map_err(io)?;
    let name = chosen.file_name.unwrap_or_else(|| "attachment".into());
    let safe = safe_file_name(&name, "attachment");
    // A new file each time: never overwrite the attachment of another blast.
    let (id, mut file) = (0u32..)
        .map(|n| match n {
            0 => format!("{now_ms}-{safe}"),
            n => format!("{now_ms}-{n}-{safe}"),
        })
        .find_map(|id| match std::fs::File::create_new(folder.join(&id)) {
            Ok(file) => Some(Ok((id, file))),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
            Err(e) => Some(Err(e)),
        })
        .unwrap_or_else(|| Err(std::io::Error::other("no free file name")))
        .map_err(io)?;
    let copied = std::fs::File::open(path)
        .and_then(|mut source| std::io::copy(&mut source, &mut file))
        .and_then(|_| file.sync_all());
    drop(file);
    if let Err(error) = copied {
        std::fs::remove_file(folder.join(&id)).ok();
        return Err(io(error));
    }
    Attachment::new(id, chosen.kind, Some(name)).map_err(CreateError::Attachment)
}

/// A name as a file name on every system: no path separators, reserved
/// characters or control characters, no leading or trailing dots or spaces;
/// `fallback` when nothing is left.
pub fn safe_file_name(name: &str, fallback: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '-',
            c if c.is_control() => '-',
            c => c,
        })
        .collect();
    let cleaned = cleaned.trim().trim_matches('.').trim().to_owned();
    if cleaned.is_empty() {
        fallback.into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_on_every_system() {
        let cases = [
            ("Promo Desember", "Promo Desember"),
            ("a/b\\c:d*e?f\"g<h>i|j", "a-b-c-d-e-f-g-h-i-j"),
            ("..", "Blast"),
            ("  ", "Blast"),
            ("line\nbreak", "line-break"),
            ("../../etc/passwd", "-..-etc-passwd"),
        ];
        for (name, expected) in cases {
            assert_eq!(safe_file_name(name, "Blast"), expected, "{name:?}");
        }
    }

    #[test]
    fn an_attachment_resolves_only_inside_the_attachments_folder() {
        let cases: [(serde_json::Value, Option<&str>); 7] = [
            (
                serde_json::json!({ "id": "1-promo.jpg", "kind": "image" }),
                Some("1-promo.jpg"),
            ),
            // Blasts made before ids: only the file name of the kept path counts.
            (
                serde_json::json!({ "path": "/home/dewi/.local/share/blastdesk/attachments/2-list.pdf", "kind": "document" }),
                Some("2-list.pdf"),
            ),
            (
                serde_json::json!({ "path": "C:\\Users\\Dewi Ayu\\AppData\\Roaming\\blastdesk\\attachments\\3-a.png", "kind": "image" }),
                Some("3-a.png"),
            ),
            (
                serde_json::json!({ "id": "../../.ssh/id_rsa", "kind": "document" }),
                None,
            ),
            (serde_json::json!({ "id": "..", "kind": "document" }), None),
            (
                serde_json::json!({ "id": "C:secret", "kind": "document" }),
                None,
            ),
            (serde_json::json!({ "kind": "document" }), None),
        ];
        let data_dir = Path::new("/data");
        for (stored, expected) in cases {
            let parsed: Result<Attachment, _> = serde_json::from_value(stored.clone());
            match expected {
                Some(id) => {
                    let attachment = parsed.unwrap_or_else(|e| panic!("{stored}: {e}"));
                    assert_eq!(attachment.id(), id);
                    assert_eq!(
                        attachment.media(data_dir).path,
                        data_dir.join(ATTACHMENTS).join(id)
                    );
                }
                None => assert!(parsed.is_err(), "{stored} was accepted"),
            }
        }
    }

    #[test]
    fn options_read_from_older_blasts_keep_their_meaning() -> Result<(), serde_json::Error> {
        let old: BlastOptions = serde_json::from_str(
            r#"{"missingValue":{"policy":"skip"},"checkNumbers":true,"media":null}"#,
        )?;
        assert_eq!(old.missing_value, MissingValue::Skip);
        assert!(old.check_numbers);
        assert_eq!(old.media, None);
        let empty: BlastOptions = serde_json::from_str("{}")?;
        assert_eq!(empty, BlastOptions::default());
        let again: BlastOptions = serde_json::from_str(&serde_json::to_string(&old)?)?;
        assert_eq!(again, old);
        Ok(())
    }
}
