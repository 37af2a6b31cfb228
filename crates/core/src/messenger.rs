//! The messenger: what the engine sends through.
//!
//! Errors come in three classes that decide what the engine does, and they
//! are told apart by type, never by the text of a message:
//! - [`SendError::Transient`]: try again later (a timeout, a dropped connection);
//! - [`SendError::Recipient`]: this recipient cannot be reached (not on
//!   WhatsApp, invalid); fail the delivery at once;
//! - [`SendError::Account`]: the account cannot send now (not connected,
//!   logged out, rate-limited, temporarily banned); pause the account's blasts.
//!
//! [`SimulatedMessenger`] "delivers" into a JSON-lines ledger and can inject
//! faults: the tests' messenger, and the app's rehearsal mode.

mod simulated;

use std::future::Future;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::phone::Phone;
use crate::reason::{DeliveryCode, PauseCode};

pub use simulated::{Faults, LedgerEntry, SimulatedMessenger, read_ledger};

/// One message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outgoing {
    pub blast_id: i64,
    pub delivery_id: i64,
    pub to: Phone,
    /// The text, or the caption when there is media.
    pub text: String,
    pub media: Option<Media>,
}

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    pub kind: MediaKind,
    pub path: PathBuf,
    /// The name the recipient sees (documents).
    pub file_name: Option<String>,
}

/// The largest attachment Blastdesk accepts (WhatsApp's limit for documents).
pub const MAX_ATTACHMENT_BYTES: u64 = 100 * 1024 * 1024;

impl Media {
    /// An attachment from a file: its kind from the extension (photos and
    /// videos show inline; anything else goes as a document with its name).
    pub fn from_file(path: &std::path::Path) -> Result<Media, String> {
        let shown = path.display();
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown} is not a file"));
        }
        if meta.len() == 0 {
            return Err(format!("{shown} is empty"));
        }
        if meta.len() > MAX_ATTACHMENT_BYTES {
            return Err(format!(
                "{shown} is {} MB; WhatsApp takes attachments of at most 100 MB",
                meta.len() / (1024 * 1024)
            ));
        }
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let kind = match extension.as_str() {
            "jpg" | "jpeg" | "png" | "webp" => MediaKind::Image,
            "mp4" | "3gp" | "mov" => MediaKind::Video,
            "mp3" | "ogg" | "opus" | "m4a" | "aac" => MediaKind::Audio,
            _ => MediaKind::Document,
        };
        Ok(Media {
            kind,
            path: std::path::absolute(path).map_err(|e| format!("cannot read {shown}: {e}"))?,
            file_name: path.file_name().map(|n| n.to_string_lossy().into_owned()),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MediaKind {
    Image,
    Video,
    Audio,
    Document,
}

/// A message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    pub message_id: String,
    pub at_ms: Millis,
}

/// Why a recipient cannot be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientProblem {
    NotOnWhatsapp,
    InvalidNumber,
    /// WhatsApp took the message and then refused it (a nack, with its
    /// protocol code): it reached no one.
    Refused {
        code: u16,
    },
}

/// Why the account cannot send now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum AccountProblem {
    NotConnected,
    LoggedOut,
    RateLimited {
        /// How long WhatsApp asks to wait, if it says.
        retry_after_ms: Option<Millis>,
    },
    TemporarilyBanned {
        until_ms: Option<Millis>,
        reason_code: Option<u16>,
    },
    /// WhatsApp refuses this account's messages to people who have not
    /// written to it first (nack 463, a "reach-out timelock"): a ban signal.
    ReachOutRestricted,
}

/// What the engine does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Retry this delivery later.
    Transient,
    /// Fail this delivery now.
    Recipient,
    /// Pause the account's blasts.
    Account,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("a temporary problem: {detail}")]
    Transient { detail: String },
    #[error("{}", recipient_text(.problem))]
    Recipient { problem: RecipientProblem },
    #[error("{}", account_text(.problem))]
    Account { problem: AccountProblem },
}

fn recipient_text(problem: &RecipientProblem) -> String {
    match problem {
        RecipientProblem::NotOnWhatsapp => "this number is not on WhatsApp".into(),
        RecipientProblem::InvalidNumber => "WhatsApp says this number is invalid".into(),
        RecipientProblem::Refused { code } => {
            format!("WhatsApp refused this message (code {code}); it reached no one")
        }
    }
}

fn account_text(problem: &AccountProblem) -> &'static str {
    match problem {
        AccountProblem::NotConnected => "the account is not connected",
        AccountProblem::LoggedOut => "the account was logged out",
        AccountProblem::RateLimited { .. } => "WhatsApp asked this account to slow down",
        AccountProblem::TemporarilyBanned { .. } => "WhatsApp has temporarily banned this account",
        AccountProblem::ReachOutRestricted => {
            "WhatsApp is refusing this account's messages to people who have not written to it first (code 463, often the step before a ban): wait a day or more before resuming, and send to customers who know your number"
        }
    }
}

impl SendError {
    pub fn class(&self) -> ErrorClass {
        match self {
            SendError::Transient { .. } => ErrorClass::Transient,
            SendError::Recipient { .. } => ErrorClass::Recipient,
            SendError::Account { .. } => ErrorClass::Account,
        }
    }

    /// A stable code for reports and the UI.
    pub fn code(&self) -> DeliveryCode {
        match self {
            SendError::Transient { .. } => DeliveryCode::Transient,
            SendError::Recipient {
                problem: RecipientProblem::NotOnWhatsapp,
            } => DeliveryCode::NotOnWhatsapp,
            SendError::Recipient {
                problem: RecipientProblem::InvalidNumber,
            } => DeliveryCode::InvalidNumber,
            SendError::Recipient {
                problem: RecipientProblem::Refused { .. },
            } => DeliveryCode::Refused,
            SendError::Account { problem } => match problem {
                AccountProblem::NotConnected => DeliveryCode::NotConnected,
                AccountProblem::LoggedOut => DeliveryCode::LoggedOut,
                AccountProblem::RateLimited { .. } => DeliveryCode::RateLimited,
                AccountProblem::TemporarilyBanned { .. } => DeliveryCode::TemporarilyBanned,
                AccountProblem::ReachOutRestricted => DeliveryCode::ReachOutRestricted,
            },
        }
    }
}

impl SendError {
    /// For an account's problem, the code its blasts are paused with.
    pub fn pause_code(&self) -> Option<PauseCode> {
        match self {
            SendError::Account { problem } => Some(problem.pause_code()),
            SendError::Transient { .. } | SendError::Recipient { .. } => None,
        }
    }
}

impl AccountProblem {
    /// The code the account's blasts are paused with.
    pub fn pause_code(&self) -> PauseCode {
        match self {
            AccountProblem::NotConnected => PauseCode::NotConnected,
            AccountProblem::LoggedOut => PauseCode::LoggedOut,
            AccountProblem::RateLimited { .. } => PauseCode::RateLimited,
            AccountProblem::TemporarilyBanned { .. } => PauseCode::TemporarilyBanned,
            AccountProblem::ReachOutRestricted => PauseCode::ReachOutRestricted,
        }
    }
}

/// What the engine sends through: a linked WhatsApp account, or a simulation.
pub trait Messenger: Send + Sync {
    /// Hands one message to the server.
    fn send(&self, message: &Outgoing) -> impl Future<Output = Result<Accepted, SendError>> + Send;

    /// Whether the account can send now. An engine that would otherwise wait
    /// (for pacing, say) asks first, so a disconnected account pauses its
    /// blasts at once instead of after the wait.
    fn ready(&self) -> Result<(), SendError> {
        Ok(())
    }

    /// Whether messages reach real people. The intent to hand a real message
    /// over is written so that it survives a power cut (see
    /// `store::blasts::Durability`); a simulation need not pay for that.
    fn sends_for_real(&self) -> bool {
        true
    }

    /// Which of `phones` are on WhatsApp, in the same order.
    fn check_numbers(
        &self,
        phones: &[Phone],
    ) -> impl Future<Output = Result<Vec<bool>, SendError>> + Send;
}

/// A shared messenger is a messenger (the app shares one per account between
/// its engine and its session).
impl<M: Messenger + ?Sized> Messenger for std::sync::Arc<M> {
    fn send(&self, message: &Outgoing) -> impl Future<Output = Result<Accepted, SendError>> + Send {
        (**self).send(message)
    }

    fn sends_for_real(&self) -> bool {
        (**self).sends_for_real()
    }

    fn ready(&self) -> Result<(), SendError> {
        (**self).ready()
    }

    fn check_numbers(
        &self,
        phones: &[Phone],
    ) -> impl Future<Output = Result<Vec<bool>, SendError>> + Send {
        (**self).check_numbers(phones)
    }
}
