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

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

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
