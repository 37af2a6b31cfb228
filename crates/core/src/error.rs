//! Stable error codes.
//!
//! Every error that can reach a person carries one of these codes. The UI and
//! scripts switch on the code, never on the message text, so messages can be
//! reworded (or translated) without breaking anything.

use serde::Serialize;

/// A stable, machine-readable error code. The serialised names are part of
/// Blastdesk's interface: never rename one, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The file is not an SQLite database at all.
    NotADatabase,
    /// The file is an SQLite database, but another program's.
    ForeignDatabase,
    /// The database was written by a newer Blastdesk.
    DatabaseTooNew,
    /// The database file is damaged.
    DatabaseCorrupt,
    /// Another process holds the database locked for too long.
    DatabaseBusy,
    /// No usable data directory could be found or created.
    DataDirUnavailable,
    /// Reading or writing a file failed.
    Io,
    /// A file to import cannot be read (damaged, not a spreadsheet, missing).
    FileUnreadable,
    /// A file to import has no rows.
    FileEmpty,
    /// A file to import is beyond what a spreadsheet can hold (a cell past
    /// Excel's last row or column, too many cells, too much text).
    FileTooLarge,
    /// A file to import is protected with a password.
    FileEncrypted,
    /// A file to import is of a kind Blastdesk does not read.
    FileUnsupported,
    /// The sheet asked for is not in the file.
    SheetNotFound,
    /// The phone column could not be found: the person must choose it.
    PhoneColumnUnknown,
    /// An audience with that name already exists.
    AudienceExists,
    /// No audience has that name.
    AudienceNotFound,
    /// No blast has that id.
    BlastNotFound,
    /// No account has that id.
    AccountNotFound,
    /// A file given to restore is not a Blastdesk backup this version reads.
    NotABackup,
    /// No schedule has that id.
    ScheduleNotFound,
    /// A message template cannot be used (unclosed brace, unknown column).
    TemplateInvalid,
    /// Pacing settings that cannot work (a reversed range, an empty window).
    PacingInvalid,
    /// The blast is completed or cancelled: it cannot be paused, resumed or cancelled.
    BlastFinished,
    /// The blast's attachment is missing or unreadable.
    AttachmentUnreadable,
    /// A value the person gave is not acceptable (a name, a country code, ...).
    InvalidInput,
    /// Another Blastdesk program (the app, the daemon, a command) owns the
    /// data folder while it sends.
    DataFolderInUse,
    /// Anything else: a bug, reported with its details.
    Internal,
}

impl ErrorCode {
    /// The code as it is serialised, e.g. `"database_too_new"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotADatabase => "not_a_database",
            ErrorCode::ForeignDatabase => "foreign_database",
            ErrorCode::DatabaseTooNew => "database_too_new",
            ErrorCode::DatabaseCorrupt => "database_corrupt",
            ErrorCode::DatabaseBusy => "database_busy",
            ErrorCode::DataDirUnavailable => "data_dir_unavailable",
            ErrorCode::DataFolderInUse => "data_folder_in_use",
            ErrorCode::Io => "io",
            ErrorCode::FileUnreadable => "file_unreadable",
            ErrorCode::FileEmpty => "file_empty",
            ErrorCode::FileTooLarge => "file_too_large",
            ErrorCode::FileEncrypted => "file_encrypted",
            ErrorCode::FileUnsupported => "file_unsupported",
            ErrorCode::SheetNotFound => "sheet_not_found",
            ErrorCode::PhoneColumnUnknown => "phone_column_unknown",
            ErrorCode::AudienceExists => "audience_exists",
            ErrorCode::AudienceNotFound => "audience_not_found",
            ErrorCode::BlastNotFound => "blast_not_found",
            ErrorCode::AccountNotFound => "account_not_found",
            ErrorCode::TemplateInvalid => "template_invalid",
            ErrorCode::ScheduleNotFound => "schedule_not_found",
            ErrorCode::NotABackup => "not_a_backup",
            ErrorCode::PacingInvalid => "pacing_invalid",
            ErrorCode::BlastFinished => "blast_finished",
            ErrorCode::AttachmentUnreadable => "attachment_unreadable",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Internal => "internal",
        }
    }
}

/// What an error says, as data: a window puts it into words in its own
/// language from `kind`, `reason` and the values named beside them (the
/// file, the column, the position...), while the English message stays for
/// logs and the command line. Serialised as one flat object:
/// `{"kind": "import", "reason": "sheet_not_found", "file": ..., "sheet": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Details {
    Import(crate::import::ImportError),
    Template(crate::template::TemplateError),
    Pacing(crate::pacing::PacingError),
    Schedule(crate::schedule::RuleError),
    Blast(BlastProblem),
    Store(StoreProblem),
    Phone(PhoneProblem),
}

/// A number typed by the person that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum PhoneProblem {
    /// `value` is not a usable number, so nothing was added; `problem` is
    /// why, as [`crate::phone::PhoneError::code`] says it.
    Unusable {
        value: String,
        problem: &'static str,
    },
    /// `value` cannot be used to ask for a pairing code; `problem` as above.
    NotForPairing {
        value: String,
        problem: &'static str,
    },
    /// Nothing that looks like a number was given.
    NoneGiven,
}

/// Why a blast was not created, where no finer error says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum BlastProblem {
    NoName,
    NameTooLong {
        chars: usize,
        max: usize,
    },
    NothingToSend,
    NoRecipients,
    SampleRecipients,
    /// The attachment cannot be used; `detail` is the system's own words.
    Attachment {
        detail: String,
    },
    KeepAttachment {
        folder: String,
    },
    NoDataFolder,
}

/// What the store refused, with the values a person needs to act on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum StoreProblem {
    NotADatabase {
        path: String,
    },
    ForeignDatabase {
        path: String,
    },
    TooNew {
        path: String,
        found: u32,
        supported: u32,
    },
    Corrupt {
        path: String,
    },
    Busy {
        path: String,
    },
    AudienceExists {
        name: String,
    },
    AudienceNotFound {
        name: String,
    },
    NotABackup {
        path: String,
    },
    UnknownTimeZone {
        name: String,
    },
    /// The blast is completed or cancelled; `action` is what was asked.
    BlastFinished {
        state: String,
        action: String,
    },
    /// Another Blastdesk program holds the data folder.
    DataFolderInUse,
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::{BlastProblem, Details, ErrorCode, StoreProblem};
    use crate::import::ImportError;
    use crate::pacing::PacingError;
    use crate::schedule::RuleError;
    use crate::template::TemplateError;
    use serde_json::json;

    /// The window words an error from these fields (ui/reasons.js): each
    /// kind of detail serialises flat, with its reason and named values.
    #[test]
    fn details_serialise_as_one_flat_object_with_kind_reason_and_values()
    -> Result<(), serde_json::Error> {
        let cases = [
            (
                Details::Import(ImportError::SheetNotFound {
                    file: "pelanggan.xlsx".into(),
                    sheet: "Juni".into(),
                    available: vec!["Mei".into()],
                }),
                json!({"kind": "import", "reason": "sheet_not_found", "file": "pelanggan.xlsx", "sheet": "Juni", "available": ["Mei"]}),
            ),
            (
                Details::Import(ImportError::TooLarge {
                    file: "a.csv".into(),
                    reason: "too many cells".into(),
                }),
                json!({"kind": "import", "reason": "too_large", "file": "a.csv", "limit": "too many cells"}),
            ),
            (
                Details::Template(TemplateError::Unclosed { position: 4 }),
                json!({"kind": "template", "reason": "unclosed", "position": 4}),
            ),
            (
                Details::Template(TemplateError::UnknownColumns {
                    names: vec!["nama".into()],
                    columns: vec!["Name".into()],
                }),
                json!({"kind": "template", "reason": "unknown_columns", "names": ["nama"], "columns": ["Name"]}),
            ),
            (
                Details::Pacing(PacingError::RangeReversed { setting: "delay" }),
                json!({"kind": "pacing", "reason": "range_reversed", "setting": "delay"}),
            ),
            (
                Details::Pacing(PacingError::EmptyWindow),
                json!({"kind": "pacing", "reason": "empty_window"}),
            ),
            (
                Details::Schedule(RuleError::BadWeekday { day: 9 }),
                json!({"kind": "schedule", "reason": "bad_weekday", "day": 9}),
            ),
            (
                Details::Blast(BlastProblem::NameTooLong {
                    chars: 250,
                    max: 200,
                }),
                json!({"kind": "blast", "reason": "name_too_long", "chars": 250, "max": 200}),
            ),
            (
                Details::Store(StoreProblem::TooNew {
                    path: "/d/blastdesk.sqlite3".into(),
                    found: 9,
                    supported: 6,
                }),
                json!({"kind": "store", "reason": "too_new", "path": "/d/blastdesk.sqlite3", "found": 9, "supported": 6}),
            ),
        ];
        for (details, expected) in cases {
            assert_eq!(serde_json::to_value(&details)?, expected, "{details:?}");
        }
        Ok(())
    }

    #[test]
    fn as_str_matches_serialised_name() {
        let all = [
            ErrorCode::NotADatabase,
            ErrorCode::ForeignDatabase,
            ErrorCode::DatabaseTooNew,
            ErrorCode::DatabaseCorrupt,
            ErrorCode::DatabaseBusy,
            ErrorCode::DataDirUnavailable,
            ErrorCode::DataFolderInUse,
            ErrorCode::Io,
            ErrorCode::FileUnreadable,
            ErrorCode::FileEmpty,
            ErrorCode::FileTooLarge,
            ErrorCode::FileEncrypted,
            ErrorCode::FileUnsupported,
            ErrorCode::SheetNotFound,
            ErrorCode::PhoneColumnUnknown,
            ErrorCode::AudienceExists,
            ErrorCode::AudienceNotFound,
            ErrorCode::BlastNotFound,
            ErrorCode::AccountNotFound,
            ErrorCode::TemplateInvalid,
            ErrorCode::ScheduleNotFound,
            ErrorCode::NotABackup,
            ErrorCode::PacingInvalid,
            ErrorCode::BlastFinished,
            ErrorCode::AttachmentUnreadable,
            ErrorCode::InvalidInput,
            ErrorCode::Internal,
        ];
        for code in all {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::from(code.as_str()), "{code:?}");
        }
    }
}
