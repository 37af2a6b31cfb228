//! Why a blast is paused and why a message was not sent (yet): two closed
//! sets, stored and sent to the window as their snake_case names. The words
//! for the person travel beside a code (a reason, a detail); the code is what
//! programs match on.

/// Declares a closed set of codes with their stored (and serialised)
/// names, and the conversions to and from SQLite text: the one way the
/// crate declares a stored state or code.
macro_rules! codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The code with this stored name.
            pub fn from_name(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.as_str().into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let text = value.as_str()?;
                $name::from_name(text).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!("{text:?} is not a {}", stringify!($name)).into(),
                    )
                })
            }
        }
    };
}
pub(crate) use codes;

codes! {
    /// Why a blast is paused.
    pub enum PauseCode {
        /// The person paused it.
        ByYou = "paused_by_you",
        /// Several messages in a row failed: maybe the first sign of a ban.
        ErrorStreak = "error_streak",
        /// Only messages of unknown fate are left: the person decides.
        NeedsDecision = "needs_decision",
        AttachmentUnreadable = "attachment_unreadable",
        TemplateInvalid = "template_invalid",
        /// Came back with a restored backup: waits for the person to resume it.
        Restored = "restored",
        /// The blast's stored settings cannot be read (a damaged row).
        OptionsUnreadable = "options_unreadable",
        /// The store failed while sending; the worker tries again by itself.
        StoreError = "store_error",
        /// Its account was removed.
        AccountRemoved = "account_removed",
        /// The account is not connected; resumes when it is.
        NotConnected = "not_connected",
        /// The account was logged out (on the phone, or by WhatsApp).
        LoggedOut = "logged_out",
        /// WhatsApp asked the account to slow down.
        RateLimited = "rate_limited",
        /// WhatsApp banned the account for a while.
        TemporarilyBanned = "temporarily_banned",
        /// WhatsApp locked (banned) the account.
        AccountLocked = "account_locked",
        /// WhatsApp Web or another app took over the account's session.
        ConnectionReplaced = "connection_replaced",
        /// WhatsApp no longer accepts the WhatsApp Web version announced.
        OutdatedClient = "outdated_client",
        /// WhatsApp restricts the account from messaging people who have not
        /// written to it first (nack 463, a "reach-out timelock"): a ban signal.
        ReachOutRestricted = "reach_out_restricted",
    }
}

codes! {
    /// Why a message failed, waits for another attempt, was skipped, or has
    /// an unknown fate.
    pub enum DeliveryCode {
        /// A passing problem: tried again later.
        Transient = "transient",
        NotOnWhatsapp = "not_on_whatsapp",
        InvalidNumber = "invalid_number",
        NotConnected = "not_connected",
        LoggedOut = "logged_out",
        RateLimited = "rate_limited",
        TemporarilyBanned = "temporarily_banned",
        /// The message needs a value this recipient's row does not have.
        MissingValue = "missing_value",
        /// The number is on the do-not-contact list.
        DoNotContact = "do_not_contact",
        /// The blast was cancelled before this one was sent.
        Cancelled = "cancelled",
        /// Of unknown fate, and the person chose not to send it again.
        UnknownLeftUnsent = "unknown_left_unsent",
        /// Of unknown fate, and sent again in a new blast.
        SentAgain = "sent_again",
        /// Was being sent when the restored backup was taken.
        Restored = "restored",
        /// Was being sent when Blastdesk's data failed: its outcome was lost.
        StoreError = "store_error",
        /// WhatsApp took the message, then refused it (a nack): it reached no one.
        Refused = "refused",
        /// Back in the queue: WhatsApp refuses the account's messages to
        /// people who have not written to it first (nack 463).
        ReachOutRestricted = "reach_out_restricted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::blasts::DeliveryState;
    use crate::store::runs::BlastState;

    /// Each code is stored and serialised by one name and reads back as
    /// itself; a stored name the set does not know is an error.
    fn round_trips<T>(all: &[T], unknown: &str) -> Result<(), Box<dyn std::error::Error>>
    where
        T: Copy
            + PartialEq
            + std::fmt::Debug
            + std::fmt::Display
            + serde::Serialize
            + rusqlite::types::ToSql
            + rusqlite::types::FromSql,
    {
        let conn = rusqlite::Connection::open_in_memory()?;
        for &code in all {
            assert_eq!(serde_json::to_value(code)?, code.to_string(), "{code:?}");
            let back: T = conn.query_row("SELECT ?1", [code], |row| row.get(0))?;
            assert_eq!(back, code);
        }
        let read: rusqlite::Result<T> = conn.query_row("SELECT ?1", [unknown], |row| row.get(0));
        assert!(
            read.is_err(),
            "{unknown:?} is not a code and reads as an error"
        );
        Ok(())
    }

    #[test]
    fn every_stored_code_reads_back_as_itself_and_no_other()
    -> Result<(), Box<dyn std::error::Error>> {
        round_trips(PauseCode::ALL, "made_up")?;
        round_trips(DeliveryCode::ALL, "rejected")?;
        round_trips(BlastState::ALL, "sending")?;
        round_trips(DeliveryState::ALL, "running")
    }
}
