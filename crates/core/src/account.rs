//! A linked account's life: linking by QR code or pairing code, connecting,
//! reconnecting, and the ways it can end (logged out, replaced, banned,
//! outdated). [`AccountMachine`] is pure: the WhatsApp adapter turns what
//! the WhatsApp library reports into [`LinkSignal`]s, and carries out the
//! [`Effect`]s the machine answers with. Nothing here reads a message's
//! text: every decision is made on the kind of signal.

use serde::{Deserialize, Serialize};

use crate::clock::Millis;
use crate::reason::PauseCode;

/// Who ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoutBy {
    /// The person, from Blastdesk.
    You,
    /// The phone (Linked devices > Log out), or WhatsApp's servers.
    Phone,
}

/// Where an account stands, as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "status",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum AccountStatus {
    /// Never linked, or ready to link again.
    Unlinked,
    /// A QR code is on screen until `expires_at_ms`.
    AwaitingQr {
        expires_at_ms: Millis,
        shown: u32,
    },
    /// A pairing code is on screen until `expires_at_ms`.
    AwaitingPairCode {
        code: String,
        expires_at_ms: Millis,
    },
    /// The link attempt ended without a link: try again.
    LinkFailed {
        reason: String,
    },
    Connecting,
    Connected,
    /// Not connected; the next attempt is at `next_attempt_at_ms`.
    /// `offline`: WhatsApp could not be reached at all.
    Disconnected {
        reason: String,
        next_attempt_at_ms: Millis,
        offline: bool,
    },
    /// The session is over and its keys are deleted: link again to send.
    LoggedOut {
        by: LogoutBy,
    },
    /// WhatsApp Web (or another Blastdesk) took over this session.
    Replaced,
    TemporarilyBanned {
        until_ms: Millis,
        reason_code: u16,
    },
    /// WhatsApp locked (banned) the number; `message` is WhatsApp's own
    /// words when it sent any. Linking again cannot help until WhatsApp
    /// unlocks it: the review is requested in WhatsApp on the phone.
    Locked {
        message: Option<String>,
    },
    /// WhatsApp no longer accepts the version Blastdesk announces.
    Outdated,
}

impl AccountStatus {
    /// A stable code for the status column and the UI.
    pub fn code(&self) -> &'static str {
        match self {
            AccountStatus::Unlinked => "unlinked",
            AccountStatus::AwaitingQr { .. } => "awaiting_qr",
            AccountStatus::AwaitingPairCode { .. } => "awaiting_pair_code",
            AccountStatus::LinkFailed { .. } => "link_failed",
            AccountStatus::Connecting => "connecting",
            AccountStatus::Connected => "connected",
            AccountStatus::Disconnected { .. } => "disconnected",
            AccountStatus::LoggedOut { .. } => "logged_out",
            AccountStatus::Replaced => "replaced",
            AccountStatus::TemporarilyBanned { .. } => "temporarily_banned",
            AccountStatus::Locked { .. } => "locked",
            AccountStatus::Outdated => "outdated",
        }
    }

    /// The person should look at this account (the tray says so).
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            AccountStatus::LinkFailed { .. }
                | AccountStatus::Disconnected { .. }
                | AccountStatus::LoggedOut { .. }
                | AccountStatus::Replaced
                | AccountStatus::TemporarilyBanned { .. }
                | AccountStatus::Locked { .. }
                | AccountStatus::Outdated
        )
    }

    /// A session (and its keys) exists and should be connected.
    pub fn is_linked(&self) -> bool {
        matches!(
            self,
            AccountStatus::Connecting
                | AccountStatus::Connected
                | AccountStatus::Disconnected { .. }
                | AccountStatus::TemporarilyBanned { .. }
        )
    }
}

/// What the WhatsApp library reported, reduced to what matters here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSignal {
    /// A new link attempt (a new client) starts.
    LinkStarted,
    /// The person gave the link attempt up (closed the code) before the
    /// phone accepted it: the account is unlinked again, ready to link.
    LinkCancelled,
    /// A linked account's client starts again with its stored keys.
    Resumed,
    /// A QR code to show, valid for `valid_for_ms`.
    QrCode {
        code: String,
        valid_for_ms: Millis,
    },
    /// Every QR code of this attempt went unscanned.
    QrCodesExhausted,
    PairCode {
        code: String,
        valid_for_ms: Millis,
    },
    PairCodeFailed {
        reason: String,
    },
    /// WhatsApp asks for a new pairing code (the one shown is no longer valid).
    PairCodeRefresh,
    /// The phone accepted the link; `phone` is the account's number (E.164).
    PairSuccess {
        phone: Option<String>,
    },
    PairFailed {
        reason: String,
    },
    Connected,
    /// The connection ended. `reached`: it had reached WhatsApp (false: the
    /// network or WhatsApp's servers could not be reached at all).
    Disconnected {
        reason: String,
        reached: bool,
    },
    /// The session ended; `by_user` when Blastdesk asked for it.
    LoggedOut {
        by_user: bool,
    },
    /// Another client took over the session.
    Replaced,
    /// `lasts_ms` from now.
    TemporaryBan {
        reason_code: u16,
        lasts_ms: Millis,
    },
    /// WhatsApp locked the account (a ban), with its own words if any.
    Locked {
        message: Option<String>,
    },
    /// WhatsApp ended the connection because the account sends too much (a
    /// 429 stream error): the backoff jumps by `steps` (the library's own
    /// penalty).
    SlowedDown {
        steps: u32,
    },
    /// WhatsApp refused the connection with a code that trying again does
    /// not change (400, 409, 413-418, 501, a 402 without its end): the
    /// library stops there, and so does the account.
    Refused {
        code: u16,
    },
    ClientOutdated,
}

/// What the adapter must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Record and show this status.
    Status(AccountStatus),
    /// Show this QR code (rendered by the adapter) until `expires_at_ms`.
    ShowQr { code: String, expires_at_ms: Millis },
    /// Record the account's number.
    Linked { phone: Option<String> },
    /// Delete the session's stored keys.
    ForgetSession,
    /// Stop the client; nothing reconnects until a new link or start.
    StopClient,
    /// End the current connection; the session goes on (it reconnects when
    /// a [`Effect::Reconnect`] says).
    DisconnectClient,
    /// Connect again at this instant.
    Reconnect { at_ms: Millis },
    /// Pause the account's blasts with this reason.
    PauseBlasts { code: PauseCode, reason: String },
    /// Resume the account's blasts paused only because it was not connected.
    ResumeBlasts,
    /// Ask WhatsApp for a new pairing code for this attempt's number.
    RequestPairCode,
}

/// The longest wait between reconnection attempts (WhatsApp Web's, and
/// whatsapp-rust's: 900 s).
const MAX_BACKOFF: Millis = 15 * 60_000;

/// A connection that lasted this long was stable: the next loss starts the
/// backoff afresh (WhatsApp Web's `resetDelay`). A shorter one keeps
/// counting, so a connection that drops at once is not retried every second.
const STABLE_CONNECTION: Millis = 30_000;

/// The share of a wait drawn at random either way, so that many computers
/// do not reconnect in step (WhatsApp Web: 10%).
const JITTER: f64 = 0.1;

/// Waits between reconnection attempts: 1, 1, 2, 3, 5, 8 ... seconds (the
/// Fibonacci sequence WhatsApp Web uses), at most [`MAX_BACKOFF`].
fn backoff_ms(failures: u32) -> Millis {
    let (mut a, mut b): (Millis, Millis) = (1_000, 1_000);
    for _ in 1..failures {
        (a, b) = (b, a.saturating_add(b));
        if a >= MAX_BACKOFF {
            return MAX_BACKOFF;
        }
    }
    a.min(MAX_BACKOFF)
}

/// One account's life, signal by signal.
#[derive(Debug, Clone)]
pub struct AccountMachine {
    status: AccountStatus,
    /// Paired in this attempt and not connected since: the restart WhatsApp
    /// asks for right after pairing is expected, and is not a failure.
    just_paired: bool,
    /// A link attempt is under way and the phone has not accepted it yet:
    /// the only time it can be cancelled.
    linking: bool,
    failures: u32,
    qr_shown: u32,
    /// When the current connection was made, if it is up.
    connected_at: Option<Millis>,
    /// Draws the waits' jitter; none without a seed (tests read exact times).
    random: Option<crate::random::SplitMix64>,
}

impl AccountMachine {
    pub fn new(status: AccountStatus) -> AccountMachine {
        // A code still on record is an attempt that was interrupted (the
        // app closed meanwhile): it can be given up.
        let linking = matches!(
            status,
            AccountStatus::AwaitingQr { .. } | AccountStatus::AwaitingPairCode { .. }
        );
        AccountMachine {
            status,
            just_paired: false,
            linking,
            failures: 0,
            qr_shown: 0,
            connected_at: None,
            random: None,
        }
    }

    /// Spreads the waits between attempts by [`JITTER`] either way, drawn
    /// from `seed` (each account its own).
    pub fn with_jitter(mut self, seed: u64) -> AccountMachine {
        self.random = Some(crate::random::SplitMix64::new(seed));
        self
    }

    /// The wait before the next attempt after `failures` failed ones.
    fn next_wait(&mut self) -> Millis {
        let base = backoff_ms(self.failures);
        match &mut self.random {
            Some(random) => {
                let spread = (random.next_f64() * 2.0 - 1.0) * JITTER;
                (base as f64 * (1.0 + spread)).round() as Millis
            }
            None => base,
        }
    }

    pub fn status(&self) -> &AccountStatus {
        &self.status
    }

    /// Takes one signal at `now`; returns what to do, in order.
    pub fn on(&mut self, signal: LinkSignal, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        let status = match signal {
            LinkSignal::LinkStarted => {
                self.just_paired = false;
                self.linking = true;
                self.failures = 0;
                self.qr_shown = 0;
                AccountStatus::Connecting
            }
            LinkSignal::LinkCancelled => {
                if !self.linking {
                    // Linked meanwhile (or nothing to give up): nothing changes.
                    return effects;
                }
                self.linking = false;
                effects.push(Effect::StopClient);
                // The unfinished attempt's keys serve no one.
                effects.push(Effect::ForgetSession);
                AccountStatus::Unlinked
            }
            LinkSignal::Resumed => {
                self.just_paired = false;
                self.linking = false;
                if let AccountStatus::TemporarilyBanned { until_ms, .. } = self.status
                    && until_ms > now
                {
                    // Connecting before the ban ends would only be refused.
                    effects.push(Effect::Reconnect { at_ms: until_ms });
                    return effects;
                }
                AccountStatus::Connecting
            }
            LinkSignal::QrCode { .. } | LinkSignal::QrCodesExhausted
                if self.pair_code_shown(now) =>
            {
                // The person is typing the pairing code: the QR codes the
                // library rotates meanwhile neither replace it nor end the
                // attempt while the code is valid.
                return effects;
            }
            LinkSignal::QrCode { code, valid_for_ms } => {
                self.qr_shown += 1;
                let expires_at_ms = now + valid_for_ms;
                effects.push(Effect::ShowQr {
                    code,
                    expires_at_ms,
                });
                AccountStatus::AwaitingQr {
                    expires_at_ms,
                    shown: self.qr_shown,
                }
            }
            LinkSignal::QrCodesExhausted => {
                self.linking = false;
                effects.push(Effect::StopClient);
                AccountStatus::LinkFailed {
                    reason: "The QR codes expired before one was scanned.".into(),
                }
            }
            LinkSignal::PairCode { code, valid_for_ms } => AccountStatus::AwaitingPairCode {
                code,
                expires_at_ms: now + valid_for_ms,
            },
            LinkSignal::PairCodeRefresh => {
                effects.push(Effect::RequestPairCode);
                AccountStatus::Connecting
            }
            LinkSignal::PairCodeFailed { reason } | LinkSignal::PairFailed { reason } => {
                self.linking = false;
                effects.push(Effect::StopClient);
                AccountStatus::LinkFailed { reason }
            }
            LinkSignal::PairSuccess { phone } => {
                self.just_paired = true;
                self.linking = false;
                effects.push(Effect::Linked { phone });
                AccountStatus::Connecting
            }
            LinkSignal::Connected => {
                self.just_paired = false;
                // The backoff starts afresh only once this connection proves
                // stable (see the disconnect below).
                self.connected_at = Some(now);
                effects.push(Effect::ResumeBlasts);
                AccountStatus::Connected
            }
            LinkSignal::Disconnected { reason, reached } => {
                if self
                    .connected_at
                    .take()
                    .is_some_and(|at| now - at >= STABLE_CONNECTION)
                {
                    self.failures = 0;
                }
                if self.ended(now) {
                    // The disconnect that follows a logout, ban or takeover.
                    return effects;
                }
                if self.just_paired {
                    // The restart WhatsApp requires after pairing: reconnect now.
                    self.just_paired = false;
                    effects.push(Effect::Reconnect { at_ms: now });
                    AccountStatus::Connecting
                } else {
                    self.failures += 1;
                    let next_attempt_at_ms = now + self.next_wait();
                    effects.push(Effect::Reconnect {
                        at_ms: next_attempt_at_ms,
                    });
                    AccountStatus::Disconnected {
                        reason,
                        next_attempt_at_ms,
                        offline: !reached,
                    }
                }
            }
            LinkSignal::LoggedOut { by_user } => {
                let by = if by_user {
                    LogoutBy::You
                } else {
                    LogoutBy::Phone
                };
                effects.push(Effect::StopClient);
                effects.push(Effect::ForgetSession);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::LoggedOut,
                    reason: match by {
                        LogoutBy::You => "You logged this account out; link it again to send.",
                        LogoutBy::Phone => {
                            "The account was logged out from the phone; link it again to send."
                        }
                    }
                    .into(),
                });
                AccountStatus::LoggedOut { by }
            }
            LinkSignal::Replaced => {
                effects.push(Effect::StopClient);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::ConnectionReplaced,
                    reason: "WhatsApp Web or another app took over this account's session; reconnect it to send.".into(),
                });
                AccountStatus::Replaced
            }
            LinkSignal::TemporaryBan {
                reason_code,
                lasts_ms,
            } => {
                let until_ms = now + lasts_ms;
                // Not stopped for good: it connects again when the ban ends.
                effects.push(Effect::DisconnectClient);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::TemporarilyBanned,
                    reason: format!(
                        "WhatsApp has temporarily banned this account ({}).",
                        ban_reason(reason_code)
                    ),
                });
                effects.push(Effect::Reconnect { at_ms: until_ms });
                AccountStatus::TemporarilyBanned {
                    until_ms,
                    reason_code,
                }
            }
            LinkSignal::Locked { message } => {
                effects.push(Effect::StopClient);
                // WhatsApp ends the device's session with the lock.
                effects.push(Effect::ForgetSession);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::AccountLocked,
                    reason: "WhatsApp has locked this number (a ban). Open WhatsApp on the phone to request a review; linking again will not work until WhatsApp unlocks it.".into(),
                });
                AccountStatus::Locked { message }
            }
            LinkSignal::SlowedDown { steps } => {
                let AccountStatus::Disconnected { .. } = self.status else {
                    return effects;
                };
                self.failures = self.failures.saturating_add(steps);
                let next_attempt_at_ms = now + self.next_wait();
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::RateLimited,
                    reason: "WhatsApp asked this account to slow down and ended its connection (429). Wait before resuming, and send more slowly.".into(),
                });
                effects.push(Effect::Reconnect {
                    at_ms: next_attempt_at_ms,
                });
                AccountStatus::Disconnected {
                    reason: "WhatsApp asked this account to slow down".into(),
                    next_attempt_at_ms,
                    offline: false,
                }
            }
            LinkSignal::Refused { code } => {
                effects.push(Effect::StopClient);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::NotConnected,
                    reason: format!("WhatsApp refused this device's connection (code {code}); link it again to send."),
                });
                AccountStatus::LinkFailed {
                    reason: format!(
                        "WhatsApp refused this device's connection (code {code}), and trying again will not change that. Link it again."
                    ),
                }
            }
            LinkSignal::ClientOutdated => {
                effects.push(Effect::StopClient);
                effects.push(Effect::PauseBlasts {
                    code: PauseCode::OutdatedClient,
                    reason: "WhatsApp no longer accepts the WhatsApp Web version Blastdesk announces: update Blastdesk, or set a newer version in Settings.".into(),
                });
                AccountStatus::Outdated
            }
        };
        self.status = status.clone();
        effects.insert(0, Effect::Status(status));
        effects
    }

    /// A pairing code is on screen and still valid.
    fn pair_code_shown(&self, now: Millis) -> bool {
        matches!(self.status, AccountStatus::AwaitingPairCode { expires_at_ms, .. } if now < expires_at_ms)
    }

    /// The session ended in a way that a disconnect does not change.
    /// A temporary ban has ended once its time is over: a failed attempt
    /// to connect after it is an ordinary disconnect.
    fn ended(&self, now: Millis) -> bool {
        if let AccountStatus::TemporarilyBanned { until_ms, .. } = self.status {
            return now < until_ms;
        }
        matches!(
            self.status,
            AccountStatus::LoggedOut { .. }
                | AccountStatus::Replaced
                | AccountStatus::Locked { .. }
                | AccountStatus::Outdated
                | AccountStatus::LinkFailed { .. }
                | AccountStatus::Unlinked
        )
    }
}

/// The name an account gets when the person gives none: "WhatsApp 1",
/// "WhatsApp 2", ..., the first such name no account in `taken` has.
/// After linking, the window suggests the WhatsApp profile name instead.
pub fn default_name<'a>(taken: impl IntoIterator<Item = &'a str>) -> String {
    let taken: std::collections::HashSet<&str> = taken.into_iter().map(str::trim).collect();
    (1..)
        .map(|n| format!("WhatsApp {n}"))
        .find(|name| !taken.contains(name.as_str()))
        .unwrap_or_else(|| "WhatsApp".into())
}

/// WhatsApp's temporary-ban reasons, in words.
pub fn ban_reason(code: u16) -> &'static str {
    match code {
        101 => "too many messages to people who do not have you in their contacts",
        102 => "too many people blocked you",
        103 => "too many groups with people who do not have you in their contacts",
        104 => "the same message sent to too many people",
        106 => "too many messages to a broadcast list",
        _ => "WhatsApp did not say why",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unnamed_account_gets_the_first_free_default_name() {
        let cases: [(&[&str], &str); 4] = [
            (&[], "WhatsApp 1"),
            (&["Rehearsal", "Toko Pusat"], "WhatsApp 1"),
            (&["WhatsApp 1", "WhatsApp 3"], "WhatsApp 2"),
            (&["WhatsApp 1", " WhatsApp 2 "], "WhatsApp 3"),
        ];
        for (taken, expected) in cases {
            assert_eq!(default_name(taken.iter().copied()), expected, "{taken:?}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let waits: Vec<Millis> = (1..=6).map(backoff_ms).collect();
        assert_eq!(waits, [1_000, 1_000, 2_000, 3_000, 5_000, 8_000]);
        assert_eq!(backoff_ms(40), MAX_BACKOFF);
    }

    #[test]
    fn jitter_spreads_each_wait_by_a_tenth_at_most_and_not_in_step() {
        let mut machine = AccountMachine::new(AccountStatus::Connected).with_jitter(7);
        let mut other = AccountMachine::new(AccountStatus::Connected).with_jitter(8);
        let mut differ = false;
        for failures in 1..30 {
            machine.failures = failures;
            other.failures = failures;
            let base = backoff_ms(failures) as f64;
            let (a, b) = (machine.next_wait() as f64, other.next_wait() as f64);
            assert!(
                (a - base).abs() <= base * JITTER + 1.0,
                "{failures}: {a} vs {base}"
            );
            differ |= a != b;
        }
        assert!(differ, "two accounts do not reconnect in step");
    }
}
