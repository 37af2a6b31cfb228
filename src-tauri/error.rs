//! The one error type of the IPC boundary: `{code, message, details}`.
//!
//! `code` is a stable [`ErrorCode`] the UI switches on; `details`, where the
//! core has them, say the same as `message` as data ([`Details`]), which the
//! window puts into words in its own language; `message` is the core's
//! English. The UI never inspects the message.

use blastdesk_core::error::Details;
use blastdesk_core::{ErrorCode, store};
use serde::ser::{Serialize, SerializeStruct, Serializer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Details>,
}

impl Error {
    /// An error with no details beyond its code.
    pub fn new(code: ErrorCode, message: impl std::fmt::Display) -> Error {
        Error {
            code,
            message: message.to_string(),
            details: None,
        }
    }

    pub fn internal(message: impl std::fmt::Display) -> Error {
        Error::new(ErrorCode::Internal, message)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Error {}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Error", 3)?;
        out.serialize_field("code", &self.code)?;
        out.serialize_field("message", &self.message)?;
        out.serialize_field("details", &self.details)?;
        out.end()
    }
}

impl From<store::Error> for Error {
    fn from(error: store::Error) -> Error {
        Error {
            code: error.code(),
            message: error.to_string(),
            details: error.details(),
        }
    }
}

impl From<blastdesk_core::audience::PreviewError> for Error {
    fn from(error: blastdesk_core::audience::PreviewError) -> Error {
        Error {
            code: error.code(),
            message: error.to_string(),
            details: error.details(),
        }
    }
}

impl From<blastdesk_core::blast::CreateError> for Error {
    fn from(error: blastdesk_core::blast::CreateError) -> Error {
        Error {
            code: error.code(),
            message: error.to_string(),
            details: error.details(),
        }
    }
}

impl From<blastdesk_core::owner::OwnerError> for Error {
    fn from(error: blastdesk_core::owner::OwnerError) -> Error {
        Error {
            code: error.code(),
            message: error.to_string(),
            details: error.details(),
        }
    }
}

impl From<tauri::Error> for Error {
    fn from(error: tauri::Error) -> Error {
        Error::internal(error)
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;

    #[test]
    fn serialises_to_code_message_and_details() {
        let cases = [
            (
                Error::from(store::Error::TooNew {
                    path: PathBuf::from("/data/blastdesk.sqlite3"),
                    found: 9,
                    supported: 6,
                }),
                "database_too_new",
                json!({"kind": "store", "reason": "too_new", "path": "/data/blastdesk.sqlite3", "found": 9, "supported": 6}),
            ),
            (
                Error::from(store::Error::NotADatabase {
                    path: PathBuf::from("/data/blastdesk.sqlite3"),
                }),
                "not_a_database",
                json!({"kind": "store", "reason": "not_a_database", "path": "/data/blastdesk.sqlite3"}),
            ),
            (Error::internal("boom"), "internal", json!(null)),
        ];
        for (error, code, details) in cases {
            let value = serde_json::to_value(&error).unwrap_or_default();
            assert_eq!(
                value,
                json!({ "code": code, "message": error.message, "details": details }),
                "{error:?}"
            );
            assert!(!error.message.is_empty());
        }
    }
}
