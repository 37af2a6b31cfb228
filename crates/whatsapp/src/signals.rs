//! What whatsapp-rust reports, mapped to what Blastdesk acts on: account
//! signals for the core's `AccountMachine`, receipts for deliveries, and
//! send errors in the engine's classes. Every decision is made on a variant
//! or a numeric code the protocol defines, never on a message's text.

use blastdesk_core::account::LinkSignal;
use blastdesk_core::clock::Millis;
use blastdesk_core::messenger::{AccountProblem, RecipientProblem, SendError};
use blastdesk_core::store::blasts::Receipt;
use whatsapp_rust::ClientError;
use whatsapp_rust::prelude::MessageExt;
use whatsapp_rust::prelude::{IqError, SendError as WaSendError};
use whatsapp_rust::types::events::{ConnectFailureReason, Event};
use whatsapp_rust::types::presence::ReceiptType;

use crate::jid;

/// Why a WhatsApp Business account of the hosted kind cannot be linked yet.
pub const HOSTED_BUSINESS: &str = "This WhatsApp Business number could not be linked: it is set up with Meta's hosting or the Cloud API (coexistence), which this version of Blastdesk cannot link yet (a known problem of the WhatsApp library it uses, fixed in a coming release). Trying again will not help; meanwhile link a number used with the WhatsApp or WhatsApp Business app on a phone.";

/// What an event means for Blastdesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    Account(LinkSignal),
    /// Messages this account sent were delivered or read.
    Receipt {
        message_ids: Vec<String>,
        receipt: Receipt,
        at_ms: Millis,
    },
    /// The server's answer to a message it was handed: taken (`nack` is
    /// `None`), or refused with a protocol code (a nack).
    Ack {
        message_id: String,
        nack: Option<String>,
    },
    /// Text messages people sent this account (opt-out replies among them):
    /// one-to-one chats only, never the account's own messages. `by_lid`:
    /// those whose sender came as a LID with no phone number beside it, for
    /// the library's LID-to-number lookup.
    Replies {
        replies: Vec<Reply>,
        by_lid: Vec<(whatsapp_rust::Jid, String)>,
    },
    /// The account's own WhatsApp profile name (its push name), as WhatsApp
    /// sent it after linking or when it changed: what the window suggests
    /// naming the account.
    ProfileName(String),
}

/// A text message someone sent this account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// E.164.
    pub phone: String,
    pub text: String,
}

fn millis(duration: std::time::Duration) -> Millis {
    Millis::try_from(duration.as_millis()).unwrap_or(Millis::MAX)
}

/// Maps one event; `None` for the many events Blastdesk has no use for.
/// `logging_out` is true while Blastdesk itself is logging the account out,
/// which is how a logout by the person is told from one by the phone.
pub fn map_event(event: &Event, logging_out: bool) -> Option<Mapped> {
    let signal = match event {
        Event::PairingQrCode(qr) => LinkSignal::QrCode {
            code: qr.code.clone(),
            valid_for_ms: millis(qr.timeout),
        },
        Event::PairingQrCodesExhausted(_) => LinkSignal::QrCodesExhausted,
        Event::PairingCode(code) => LinkSignal::PairCode {
            code: code.code.clone(),
            valid_for_ms: millis(code.timeout),
        },
        Event::PairingCodeRefresh(_) => LinkSignal::PairCodeRefresh,
        Event::PairingCodeError(_) => LinkSignal::PairCodeFailed {
            reason: "WhatsApp did not give a pairing code for this number; check it, or link with the QR code.".into(),
        },
        Event::PairSuccess(success) => LinkSignal::PairSuccess {
            phone: jid::phone_of(&success.id),
        },
        // A Business account hosted by Meta (or in coexistence with the
        // Cloud API) is told by its business name in the pair-success;
        // whatsapp-rust 0.7.0 cannot verify its identity (upstream
        // oxidezap/whatsapp-rust#1439, fixed after 0.7.0), so trying again
        // cannot help until Blastdesk moves to a release with the fix.
        Event::PairError(error) if !error.business_name.is_empty() => LinkSignal::PairFailed {
            reason: HOSTED_BUSINESS.into(),
        },
        Event::PairError(_) => LinkSignal::PairFailed {
            reason: "The phone could not complete the link; try again.".into(),
        },
        Event::QrScannedWithoutMultidevice(_) => LinkSignal::PairFailed {
            reason: "The phone that scanned the code cannot link devices; update WhatsApp on it and try again.".into(),
        },
        Event::Connected(_) => LinkSignal::Connected,
        Event::Disconnected(disconnected) => LinkSignal::Disconnected {
            reason: disconnected.reason.to_string(),
            reached: true,
        },
        // A lock (403) is a ban, not a logout: linking again cannot help.
        Event::LoggedOut(out) if out.reason == ConnectFailureReason::AccountLocked => {
            LinkSignal::Locked {
                message: out.logout_message.as_ref().and_then(|m| {
                    let words: Vec<&str> = [m.header.as_deref(), m.subtext.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect();
                    (!words.is_empty()).then(|| words.join(" "))
                }),
            }
        }
        Event::LoggedOut(_) => LinkSignal::LoggedOut {
            by_user: logging_out,
        },
        Event::StreamReplaced(_) => LinkSignal::Replaced,
        Event::TemporaryBan(ban) => LinkSignal::TemporaryBan {
            reason_code: u16::try_from(ban.code.code()).unwrap_or(0),
            lasts_ms: ban.expire.num_milliseconds(),
        },
        Event::ClientOutdated(_) => LinkSignal::ClientOutdated,
        Event::ConnectFailure(failure) => match failure.reason {
            ConnectFailureReason::ClientOutdated => LinkSignal::ClientOutdated,
            ConnectFailureReason::AccountLocked => LinkSignal::Locked {
                message: failure.message.clone(),
            },
            reason if reason.is_logged_out() => LinkSignal::LoggedOut {
                by_user: logging_out,
            },
            // 500 and 503: WhatsApp's trouble, worth another attempt.
            reason if reason.should_reconnect() => LinkSignal::Disconnected {
                reason: format!("WhatsApp refused the connection (code {})", reason.code()),
                reached: true,
            },
            // Any other refusal is final, as the library treats it.
            reason => LinkSignal::Refused {
                code: u16::try_from(reason.code()).unwrap_or(0),
            },
        },
        Event::Receipt(receipt) => {
            let receipt_kind = match receipt.r#type {
                ReceiptType::Delivered => Receipt::Delivered,
                ReceiptType::Read | ReceiptType::Played => Receipt::Read,
                _ => return None,
            };
            return Some(Mapped::Receipt {
                message_ids: receipt.message_ids.clone(),
                receipt: receipt_kind,
                at_ms: receipt.timestamp.timestamp_millis(),
            });
        }
        Event::SelfPushNameUpdated(update) => {
            let name = update.new_name.trim();
            return (!name.is_empty()).then(|| Mapped::ProfileName(name.to_owned()));
        }
        Event::ServerAck(ack) if ack.class.as_deref() == Some("message") => {
            return Some(Mapped::Ack {
                message_id: ack.id.clone(),
                nack: ack.error.clone(),
            });
        }
        Event::Messages(batch) => {
            let mut replies = Vec::new();
            let mut by_lid = Vec::new();
            for inbound in batch.iter() {
                let source = &inbound.info.source;
                if source.is_from_me || source.is_group {
                    continue;
                }
                let Some(text) = inbound.message.text_content() else {
                    continue;
                };
                // Addressed by LID, the phone number is the alternative.
                let phone = jid::phone_of(&source.sender)
                    .or_else(|| source.sender_alt.as_ref().and_then(jid::phone_of));
                match phone {
                    Some(phone) => replies.push(Reply {
                        phone,
                        text: text.to_owned(),
                    }),
                    None if source.sender.is_lid() => {
                        by_lid.push((source.sender.clone(), text.to_owned()));
                    }
                    None => {}
                }
            }
            return (!replies.is_empty() || !by_lid.is_empty())
                .then_some(Mapped::Replies { replies, by_lid });
        }
        _ => return None,
    };
    Some(Mapped::Account(signal))
}

/// The engine's class for a send error, by variant and protocol code.
pub fn send_error(error: &WaSendError) -> SendError {
    let transient = |detail: &str| SendError::Transient {
        detail: detail.to_owned(),
    };
    let account = |problem| SendError::Account { problem };
    match error {
        WaSendError::NotLoggedIn => account(AccountProblem::LoggedOut),
        WaSendError::Client(ClientError::NotLoggedIn) => account(AccountProblem::LoggedOut),
        WaSendError::Client(ClientError::NotConnected) => account(AccountProblem::NotConnected),
        WaSendError::Client(ClientError::Iq(iq)) | WaSendError::Iq(iq) => iq_error(iq),
        WaSendError::Client(ClientError::Socket(_)) => {
            transient("the connection dropped while sending")
        }
        WaSendError::Client(ClientError::EncryptSend(_)) => {
            transient("the message could not be encrypted for sending")
        }
        WaSendError::Client(_) => transient("the WhatsApp client failed while sending"),
        WaSendError::InvalidRequest(_) => SendError::Recipient {
            problem: RecipientProblem::InvalidNumber,
        },
        WaSendError::Internal(_) => transient("an internal error in the WhatsApp client"),
        _ => transient("an unexpected error in the WhatsApp client"),
    }
}

fn iq_error(error: &IqError) -> SendError {
    match error {
        IqError::NotConnected => SendError::Account {
            problem: AccountProblem::NotConnected,
        },
        IqError::ServerError {
            code: 429, backoff, ..
        } => SendError::Account {
            problem: AccountProblem::RateLimited {
                retry_after_ms: backoff.map(|s| Millis::from(s) * 1_000),
            },
        },
        IqError::ServerError { code: 401, .. } => SendError::Account {
            problem: AccountProblem::LoggedOut,
        },
        IqError::ServerError { code: 404, .. } => SendError::Recipient {
            problem: RecipientProblem::NotOnWhatsapp,
        },
        _ => SendError::Transient {
            detail: "WhatsApp did not answer in time".into(),
        },
    }
}

/// A failed number check, in the engine's classes: the IQ's error decides
/// (429 pauses the account, which a check straight into a rate limit would
/// make worse; not connected or logged out are the account's too); a
/// number the library cannot ask about fails the check for a moment.
pub fn contact_error(error: &whatsapp_rust::features::ContactError) -> SendError {
    match error {
        whatsapp_rust::features::ContactError::Iq(iq) => iq_error(iq),
        whatsapp_rust::features::ContactError::InvalidJid(_) => SendError::Transient {
            detail: "a number could not be checked".into(),
        },
        _ => SendError::Transient {
            detail: "WhatsApp did not answer the number check".into(),
        },
    }
}

/// One number in WhatsApp's answer to a number check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAnswer {
    /// E.164, when the answer names a phone number.
    pub phone: Option<String>,
    pub registered: bool,
    /// WhatsApp could not answer for this number (a per-user error).
    pub errored: bool,
}

/// Which of `phones` may be sent to after a number check: only a number
/// WhatsApp plainly answered as not registered is skipped. A number it
/// could not answer for, or left out of its answer, is not known to be
/// missing, so it is sent to (skipping a real customer for good would be
/// worse than one failed message).
pub fn on_whatsapp(phones: &[blastdesk_core::phone::Phone], answers: &[CheckAnswer]) -> Vec<bool> {
    phones
        .iter()
        .map(|phone| {
            let about: Vec<&CheckAnswer> = answers
                .iter()
                .filter(|a| a.phone.as_deref() == Some(phone.as_str()))
                .collect();
            about.is_empty() || about.iter().any(|a| a.registered || a.errored)
        })
        .collect()
}

/// What a server nack means, in the engine's classes. A nacked message
/// reached no one. 463 (the library: "MissingTcToken", a reach-out
/// timelock: the account may not message people who have not written to
/// it) and 429 (too many requests) stop the account's sending; any other
/// code (479, a malformed stanza; 400; 404; 503 ...) fails that message.
pub fn nack_error(code: &str) -> SendError {
    match code {
        "463" => SendError::Account {
            problem: AccountProblem::ReachOutRestricted,
        },
        "429" => SendError::Account {
            problem: AccountProblem::RateLimited {
                retry_after_ms: None,
            },
        },
        other => SendError::Recipient {
            problem: RecipientProblem::Refused {
                code: other.parse().unwrap_or(0),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use whatsapp_rust::Jid;
    use whatsapp_rust::prelude::{BatchOrigin, InboundMessage, MessageBatch, MessageInfo};
    use whatsapp_rust::types::events::{
        ClientOutdated, ConnectFailure, Connected, Disconnected, LoggedOut, LogoutMessage,
        PairError, PairSuccess, PairingCode, PairingCodeError, PairingQrCode,
        PairingQrCodesExhausted, QrScannedWithoutMultidevice, Receipt as WaReceipt, ServerAck,
        StreamReplaced, TempBanReason, TemporaryBan,
    };
    use whatsapp_rust::types::message::MessageSource;
    use whatsapp_rust::wacore::net::DisconnectReason;

    use super::*;

    fn phone_jid() -> Jid {
        Jid::pn("6281234567890")
    }

    fn receipt(kind: ReceiptType) -> Event {
        Event::Receipt(
            WaReceipt::builder()
                .source(MessageSource {
                    chat: phone_jid(),
                    sender: phone_jid(),
                    ..MessageSource::default()
                })
                .message_ids(vec!["3EB0A1".into(), "3EB0A2".into()])
                .timestamp(
                    whatsapp_rust::chrono::DateTime::from_timestamp(1_764_471_600, 0)
                        .unwrap_or_default(),
                )
                .r#type(kind)
                .offline(false)
                .build(),
        )
    }

    fn ack(class: &str, error: Option<&str>) -> Event {
        Event::ServerAck(
            ServerAck::builder()
                .id("3EB0A1".into())
                .class(class.into())
                .maybe_error(error.map(String::from))
                .build(),
        )
    }

    fn failure(reason: ConnectFailureReason) -> Event {
        Event::ConnectFailure(ConnectFailure::builder().reason(reason).build())
    }

    #[test]
    fn every_event_the_adapter_handles_maps_by_its_kind() {
        let account = |s| Some(Mapped::Account(s));
        let cases: Vec<(&str, Event, bool, Option<Mapped>)> = vec![
            (
                "qr code",
                Event::PairingQrCode(
                    PairingQrCode::builder()
                        .code("2@abc".into())
                        .timeout(Duration::from_secs(60))
                        .build(),
                ),
                false,
                account(LinkSignal::QrCode {
                    code: "2@abc".into(),
                    valid_for_ms: 60_000,
                }),
            ),
            (
                "qr codes exhausted",
                Event::PairingQrCodesExhausted(
                    PairingQrCodesExhausted::builder()
                        .disconnected(true)
                        .build(),
                ),
                false,
                account(LinkSignal::QrCodesExhausted),
            ),
            (
                "pairing code",
                Event::PairingCode(
                    PairingCode::builder()
                        .code("ABCD-EFGH".into())
                        .timeout(Duration::from_secs(180))
                        .build(),
                ),
                false,
                account(LinkSignal::PairCode {
                    code: "ABCD-EFGH".into(),
                    valid_for_ms: 180_000,
                }),
            ),
            (
                "pair success",
                Event::PairSuccess(
                    PairSuccess::builder()
                        .id("6281234567890:3@s.whatsapp.net"
                            .parse()
                            .unwrap_or_else(|_| phone_jid()))
                        .lid(Jid::pn("1"))
                        .business_name(String::new())
                        .platform("android".into())
                        .build(),
                ),
                false,
                account(LinkSignal::PairSuccess {
                    phone: Some("+6281234567890".into()),
                }),
            ),
            (
                "connected",
                Event::Connected(Connected::builder().build()),
                false,
                account(LinkSignal::Connected),
            ),
            (
                "disconnected (the restart after pairing looks like this too)",
                Event::Disconnected(
                    Disconnected::builder()
                        .reason(DisconnectReason::StreamEnded)
                        .build(),
                ),
                false,
                account(LinkSignal::Disconnected {
                    reason: "stream ended (EOF)".into(),
                    reached: true,
                }),
            ),
            (
                "logged out from the phone",
                Event::LoggedOut(
                    LoggedOut::builder()
                        .on_connect(false)
                        .reason(ConnectFailureReason::LoggedOut)
                        .build(),
                ),
                false,
                account(LinkSignal::LoggedOut { by_user: false }),
            ),
            (
                "logged out by the person",
                Event::LoggedOut(
                    LoggedOut::builder()
                        .on_connect(false)
                        .reason(ConnectFailureReason::LoggedOut)
                        .build(),
                ),
                true,
                account(LinkSignal::LoggedOut { by_user: true }),
            ),
            (
                "replaced",
                Event::StreamReplaced(StreamReplaced::builder().build()),
                false,
                account(LinkSignal::Replaced),
            ),
            (
                "temporary ban",
                Event::TemporaryBan(
                    TemporaryBan::builder()
                        .code(TempBanReason::SentToTooManyPeople)
                        .expire(whatsapp_rust::chrono::Duration::seconds(3_600))
                        .build(),
                ),
                false,
                account(LinkSignal::TemporaryBan {
                    reason_code: 101,
                    lasts_ms: 3_600_000,
                }),
            ),
            (
                "outdated",
                Event::ClientOutdated(ClientOutdated::builder().build()),
                false,
                account(LinkSignal::ClientOutdated),
            ),
            (
                "failure: outdated",
                failure(ConnectFailureReason::ClientOutdated),
                false,
                account(LinkSignal::ClientOutdated),
            ),
            (
                "failure: account locked",
                failure(ConnectFailureReason::AccountLocked),
                false,
                account(LinkSignal::Locked { message: None }),
            ),
            (
                "logged out because the account is locked, in WhatsApp's words",
                Event::LoggedOut(
                    LoggedOut::builder()
                        .on_connect(true)
                        .reason(ConnectFailureReason::AccountLocked)
                        .logout_message(
                            LogoutMessage::builder()
                                .header("This account is not allowed to use WhatsApp".into())
                                .subtext("Request a review in the app.".into())
                                .build(),
                        )
                        .build(),
                ),
                false,
                account(LinkSignal::Locked {
                    message: Some(
                        "This account is not allowed to use WhatsApp Request a review in the app."
                            .into(),
                    ),
                }),
            ),
            (
                "failure: service unavailable",
                failure(ConnectFailureReason::ServiceUnavailable),
                false,
                account(LinkSignal::Disconnected {
                    reason: "WhatsApp refused the connection (code 503)".into(),
                    reached: true,
                }),
            ),
            (
                "failure: a bad user agent is final",
                failure(ConnectFailureReason::BadUserAgent),
                false,
                account(LinkSignal::Refused { code: 409 }),
            ),
            (
                "failure: a ban without its end is final",
                failure(ConnectFailureReason::TempBanned),
                false,
                account(LinkSignal::Refused { code: 402 }),
            ),
            (
                "delivered",
                receipt(ReceiptType::Delivered),
                false,
                Some(Mapped::Receipt {
                    message_ids: vec!["3EB0A1".into(), "3EB0A2".into()],
                    receipt: Receipt::Delivered,
                    at_ms: 1_764_471_600_000,
                }),
            ),
            (
                "read",
                receipt(ReceiptType::Read),
                false,
                Some(Mapped::Receipt {
                    message_ids: vec!["3EB0A1".into(), "3EB0A2".into()],
                    receipt: Receipt::Read,
                    at_ms: 1_764_471_600_000,
                }),
            ),
            (
                "a retry receipt is not an outcome",
                receipt(ReceiptType::Retry),
                false,
                None,
            ),
            (
                "a plain ack",
                ack("message", None),
                false,
                Some(Mapped::Ack {
                    message_id: "3EB0A1".into(),
                    nack: None,
                }),
            ),
            (
                "a nack",
                ack("message", Some("479")),
                false,
                Some(Mapped::Ack {
                    message_id: "3EB0A1".into(),
                    nack: Some("479".into()),
                }),
            ),
            (
                "an ack of a receipt",
                ack("receipt", Some("500")),
                false,
                None,
            ),
        ];
        for (what, event, logging_out, expected) in cases {
            assert_eq!(map_event(&event, logging_out), expected, "{what}");
        }
        // The failures outside the table are not silently dropped either.
        let failed_pair = Event::PairError(
            PairError::builder()
                .id(phone_jid())
                .lid(phone_jid())
                .business_name(String::new())
                .platform(String::new())
                .error("whatever text".into())
                .build(),
        );
        assert!(matches!(
            map_event(&failed_pair, false),
            Some(Mapped::Account(LinkSignal::PairFailed { reason })) if reason != HOSTED_BUSINESS
        ));
        // A hosted Business account's failure says plainly that trying
        // again will not help (told by the business name, not the text).
        let hosted = Event::PairError(
            PairError::builder()
                .id(phone_jid())
                .lid(phone_jid())
                .business_name("Toko Maju".into())
                .platform("smbi".into())
                .error("whatever text".into())
                .build(),
        );
        assert_eq!(
            map_event(&hosted, false),
            Some(Mapped::Account(LinkSignal::PairFailed {
                reason: HOSTED_BUSINESS.into()
            }))
        );
        let code_error =
            Event::PairingCodeError(PairingCodeError::builder().error("ignored".into()).build());
        assert!(matches!(
            map_event(&code_error, false),
            Some(Mapped::Account(LinkSignal::PairCodeFailed { .. }))
        ));
        let no_md =
            Event::QrScannedWithoutMultidevice(QrScannedWithoutMultidevice::builder().build());
        assert!(matches!(
            map_event(&no_md, false),
            Some(Mapped::Account(LinkSignal::PairFailed { .. }))
        ));
    }

    #[test]
    fn the_accounts_own_profile_name_is_mapped_and_an_empty_one_ignored() {
        let named = |old: &str, new: &str| {
            Event::SelfPushNameUpdated(
                whatsapp_rust::types::events::SelfPushNameUpdated::builder()
                    .from_server(true)
                    .old_name(old.into())
                    .new_name(new.into())
                    .build(),
            )
        };
        assert_eq!(
            map_event(&named("", " Toko Maju "), false),
            Some(Mapped::ProfileName("Toko Maju".into()))
        );
        assert_eq!(map_event(&named("Toko Maju", "  "), false), None);
    }

    #[test]
    fn send_errors_fall_in_the_engine_classes_by_variant() {
        use blastdesk_core::messenger::ErrorClass;
        let server = |code: u16, backoff: Option<u32>| {
            WaSendError::Iq(IqError::ServerError {
                code,
                text: "ignored".into(),
                error_type: None,
                backoff,
            })
        };
        let cases: Vec<(WaSendError, ErrorClass, &str)> = vec![
            (WaSendError::NotLoggedIn, ErrorClass::Account, "logged_out"),
            (
                WaSendError::Client(ClientError::NotConnected),
                ErrorClass::Account,
                "not_connected",
            ),
            (
                WaSendError::Iq(IqError::NotConnected),
                ErrorClass::Account,
                "not_connected",
            ),
            (
                WaSendError::Iq(IqError::Timeout),
                ErrorClass::Transient,
                "transient",
            ),
            (server(429, Some(30)), ErrorClass::Account, "rate_limited"),
            (server(401, None), ErrorClass::Account, "logged_out"),
            (server(404, None), ErrorClass::Recipient, "not_on_whatsapp"),
            (server(500, None), ErrorClass::Transient, "transient"),
            (
                WaSendError::InvalidRequest("bad jid".into()),
                ErrorClass::Recipient,
                "invalid_number",
            ),
            (
                WaSendError::Internal(whatsapp_rust::anyhow::anyhow!("boom")),
                ErrorClass::Transient,
                "transient",
            ),
        ];
        for (error, class, code) in cases {
            let mapped = send_error(&error);
            assert_eq!(
                (mapped.class(), mapped.code().as_str()),
                (class, code),
                "{error}"
            );
        }
        assert_eq!(
            send_error(&server(429, Some(30))),
            SendError::Account {
                problem: AccountProblem::RateLimited {
                    retry_after_ms: Some(30_000)
                }
            }
        );
    }

    #[test]
    fn a_number_check_skips_only_numbers_whatsapp_plainly_says_are_not_registered() {
        let phones: Vec<blastdesk_core::phone::Phone> = [
            "+6281200000001",
            "+6281200000002",
            "+6281200000003",
            "+6281200000004",
        ]
        .into_iter()
        .map(|p| blastdesk_core::phone::Phone::from_e164_unchecked(p.into()))
        .collect();
        let answer = |phone: &str, registered, errored| CheckAnswer {
            phone: Some(phone.into()),
            registered,
            errored,
        };
        let answers = [
            answer("+6281200000001", true, false),
            answer("+6281200000002", false, false),
            // A per-user error: not known to be missing.
            answer("+6281200000003", false, true),
            // +6281200000004 is left out of the answer.
        ];
        assert_eq!(on_whatsapp(&phones, &answers), [true, false, true, true]);
    }

    #[test]
    fn a_number_check_refused_for_sending_too_much_pauses_instead_of_sending_unchecked() {
        use blastdesk_core::messenger::ErrorClass;
        let rate_limited = IqError::ServerError {
            code: 429,
            text: "ignored".into(),
            error_type: None,
            backoff: Some(60),
        };
        let limited = contact_error(&whatsapp_rust::features::ContactError::Iq(rate_limited));
        assert_eq!(
            (limited.class(), limited.code().as_str()),
            (ErrorClass::Account, "rate_limited")
        );
        let offline = contact_error(&whatsapp_rust::features::ContactError::Iq(
            IqError::NotConnected,
        ));
        assert_eq!(offline.class(), ErrorClass::Account);
        let odd = contact_error(&whatsapp_rust::features::ContactError::InvalidJid(
            "x".into(),
        ));
        assert_eq!(odd.class(), ErrorClass::Transient);
    }

    #[test]
    fn a_reach_out_timelock_and_too_many_requests_stop_the_account_other_nacks_fail_the_message() {
        use blastdesk_core::messenger::ErrorClass;
        for (code, class, stored) in [
            ("463", ErrorClass::Account, "reach_out_restricted"),
            ("429", ErrorClass::Account, "rate_limited"),
            ("479", ErrorClass::Recipient, "refused"),
            ("503", ErrorClass::Recipient, "refused"),
            ("", ErrorClass::Recipient, "refused"),
        ] {
            let error = nack_error(code);
            assert_eq!(
                (error.class(), error.code().as_str()),
                (class, stored),
                "{code}"
            );
        }
        assert!(nack_error("479").to_string().contains("code 479"));
    }

    fn inbound(
        sender: Jid,
        alt: Option<Jid>,
        from_me: bool,
        group: bool,
        text: &str,
    ) -> InboundMessage {
        use whatsapp_rust::prelude::wa;
        let message = wa::Message {
            conversation: Some(text.to_owned()),
            ..Default::default()
        };
        let info = MessageInfo {
            source: MessageSource {
                chat: sender.clone(),
                sender,
                sender_alt: alt,
                is_from_me: from_me,
                is_group: group,
                ..Default::default()
            },
            ..Default::default()
        };
        InboundMessage::builder()
            .message(std::sync::Arc::new(message))
            .info(std::sync::Arc::new(info))
            .build()
    }

    #[test]
    fn replies_from_people_are_mapped_and_the_rest_ignored() {
        let lid: Jid = "123456789012345@lid"
            .parse()
            .unwrap_or_else(|_| Jid::pn("x"));
        let batch = MessageBatch::builder()
            .messages(std::sync::Arc::from(vec![
                inbound(phone_jid(), None, false, false, "STOP"),
                inbound(
                    lid.clone(),
                    Some(Jid::pn("6289876543210")),
                    false,
                    false,
                    "berhenti",
                ),
                inbound(phone_jid(), None, true, false, "my own message"),
                inbound(phone_jid(), None, false, true, "in a group"),
                inbound(lid, None, false, false, "no number known"),
            ]))
            .origin(BatchOrigin::Live)
            .build();
        assert_eq!(
            map_event(&Event::Messages(batch), false),
            Some(Mapped::Replies {
                replies: vec![
                    Reply {
                        phone: "+6281234567890".into(),
                        text: "STOP".into()
                    },
                    Reply {
                        phone: "+6289876543210".into(),
                        text: "berhenti".into()
                    },
                ],
                // Left for the library's LID-to-number lookup, not dropped.
                by_lid: vec![(
                    "123456789012345@lid"
                        .parse()
                        .unwrap_or_else(|_| Jid::pn("x")),
                    "no number known".into()
                )],
            })
        );
        let only_own = MessageBatch::builder()
            .messages(std::sync::Arc::from(vec![inbound(
                phone_jid(),
                None,
                true,
                false,
                "hi",
            )]))
            .origin(BatchOrigin::Live)
            .build();
        assert_eq!(map_event(&Event::Messages(only_own), false), None);
    }
}
