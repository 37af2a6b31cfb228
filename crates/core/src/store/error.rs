use std::path::{Path, PathBuf};

use crate::ErrorCode;

/// Why the store could not do what was asked. Messages are written for the
/// person using Blastdesk; [`Error::code`] is for programs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} is not a Blastdesk database (it is not a database file at all); it was left untouched", .path.display())]
    NotADatabase { path: PathBuf },

    #[error("{} is a database of another program, not Blastdesk's; it was left untouched", .path.display())]
    ForeignDatabase { path: PathBuf },

    #[error(
        "{} was written by a newer version of Blastdesk (database version {found}, this version reads up to {supported}); install the newer Blastdesk to open it. The file was left untouched",
        .path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("{} is damaged and cannot be read as a database: {source}", .path.display())]
    Corrupt {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error("{} is locked by another program; close it and try again", .path.display())]
    Busy { path: PathBuf },

    #[error("cannot use {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "updating the database to version {version} ({name}) failed, so nothing was changed: {source}"
    )]
    Migration {
        version: u32,
        name: &'static str,
        source: rusqlite::Error,
    },

    #[error("an audience named {name:?} already exists; choose another name or replace it")]
    AudienceExists { name: String },

    #[error("there is no saved audience named {name:?}")]
    AudienceNotFound { name: String },

    #[error("{reason}")]
    InvalidName { reason: &'static str },

    #[error("there is no blast {blast_id}")]
    BlastNotFound { blast_id: i64 },

    #[error("{} is not a Blastdesk backup: {reason}. Nothing was changed", .path.display())]
    NotABackup { path: PathBuf, reason: String },

    #[error("there is no schedule {schedule_id}")]
    ScheduleNotFound { schedule_id: i64 },

    #[error("the schedule cannot work: {0}")]
    InvalidSchedule(crate::schedule::RuleError),

    #[error("there is no account {account_id}")]
    AccountNotFound { account_id: i64 },

    #[error("the pacing settings cannot work: {0}")]
    InvalidPacing(#[from] crate::pacing::PacingError),

    #[error("{name:?} is not a time zone Blastdesk knows (use a name like Asia/Jakarta)")]
    UnknownTimeZone { name: String },

    #[error("blast {blast_id} is {state}; it cannot be {action}")]
    BlastFinished {
        blast_id: i64,
        state: String,
        action: &'static str,
    },

    #[error("delivery {delivery_id} cannot take the step {step} from the state {state}")]
    InvalidStep {
        delivery_id: i64,
        step: String,
        state: String,
    },

    /// A request that cannot be carried out as asked; the reason says why.
    #[error("{reason}")]
    Invalid { reason: String },

    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Error {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotADatabase { .. } => ErrorCode::NotADatabase,
            Error::ForeignDatabase { .. } => ErrorCode::ForeignDatabase,
            Error::TooNew { .. } => ErrorCode::DatabaseTooNew,
            Error::Corrupt { .. } => ErrorCode::DatabaseCorrupt,
            Error::Busy { .. } => ErrorCode::DatabaseBusy,
            Error::Io { .. } => ErrorCode::Io,
            Error::AudienceExists { .. } => ErrorCode::AudienceExists,
            Error::AudienceNotFound { .. } => ErrorCode::AudienceNotFound,
            Error::InvalidName { .. } | Error::Invalid { .. } => ErrorCode::InvalidInput,
            Error::BlastNotFound { .. } => ErrorCode::BlastNotFound,
            Error::AccountNotFound { .. } => ErrorCode::AccountNotFound,
            Error::ScheduleNotFound { .. } => ErrorCode::ScheduleNotFound,
            Error::NotABackup { .. } => ErrorCode::NotABackup,
            Error::InvalidSchedule(_) => ErrorCode::InvalidInput,
            Error::InvalidPacing(_) => ErrorCode::PacingInvalid,
            Error::UnknownTimeZone { .. } => ErrorCode::InvalidInput,
            Error::BlastFinished { .. } => ErrorCode::BlastFinished,
            Error::Migration { .. } | Error::InvalidStep { .. } | Error::Sqlite(_) => {
                ErrorCode::Internal
            }
        }
    }

    /// What the error says, as data a window can put into words; `None`
    /// where the code alone says it (or it is a bug).
    pub fn details(&self) -> Option<crate::error::Details> {
        use crate::error::{Details, StoreProblem as P};
        let path = |p: &Path| p.display().to_string();
        let problem = match self {
            Error::NotADatabase { path: p } => P::NotADatabase { path: path(p) },
            Error::ForeignDatabase { path: p } => P::ForeignDatabase { path: path(p) },
            Error::TooNew {
                path: p,
                found,
                supported,
            } => P::TooNew {
                path: path(p),
                found: *found,
                supported: *supported,
            },
            Error::Corrupt { path: p, .. } => P::Corrupt { path: path(p) },
            Error::Busy { path: p } => P::Busy { path: path(p) },
            Error::AudienceExists { name } => P::AudienceExists { name: name.clone() },
            Error::AudienceNotFound { name } => P::AudienceNotFound { name: name.clone() },
            Error::NotABackup { path: p, .. } => P::NotABackup { path: path(p) },
            Error::UnknownTimeZone { name } => P::UnknownTimeZone { name: name.clone() },
            Error::BlastFinished { state, action, .. } => P::BlastFinished {
                state: state.clone(),
                action: (*action).to_owned(),
            },
            Error::InvalidSchedule(rule) => return Some(Details::Schedule(rule.clone())),
            Error::InvalidPacing(pacing) => return Some(Details::Pacing(pacing.clone())),
            Error::Io { .. }
            | Error::Migration { .. }
            | Error::InvalidName { .. }
            | Error::BlastNotFound { .. }
            | Error::ScheduleNotFound { .. }
            | Error::AccountNotFound { .. }
            | Error::InvalidStep { .. }
            | Error::Invalid { .. }
            | Error::Sqlite(_) => return None,
        };
        Some(Details::Store(problem))
    }

    /// Classifies an SQLite error met while opening the file at `path`, by its
    /// SQLite result code (never by its message).
    pub(crate) fn at(path: &Path, error: rusqlite::Error) -> Error {
        use rusqlite::ErrorCode as Sqlite;
        let path = path.to_path_buf();
        match error.sqlite_error_code() {
            Some(Sqlite::NotADatabase) => Error::NotADatabase { path },
            Some(Sqlite::DatabaseCorrupt) => Error::Corrupt {
                path,
                source: error,
            },
            Some(Sqlite::DatabaseBusy | Sqlite::DatabaseLocked) => Error::Busy { path },
            Some(Sqlite::CannotOpen | Sqlite::PermissionDenied | Sqlite::ReadOnly) => Error::Io {
                path,
                source: std::io::Error::other(error),
            },
            _ => Error::Sqlite(error),
        }
    }

    /// Attaches `path` to a bare SQLite error.
    pub(crate) fn with_path(self, path: &Path) -> Error {
        match self {
            Error::Sqlite(e) => Error::at(path, e),
            other => other,
        }
    }
}
