//! Updates of Blastdesk itself, as data and decisions: what the update feed
//! offers, what the window and the tray say about it, whether to look for
//! one by itself and when to look again. The desktop shell fetches, checks
//! the signature and installs (Tauri's updater plugin); nothing here knows
//! of Tauri or of the network.
//!
//! The feed is Tauri's `latest.json` (`version`, `notes`, `pub_date`,
//! `platforms`), with one field of Blastdesk's own beside them:
//! `"important": "WhatsApp changed; linking fails without this update"`,
//! for a protocol emergency, shown prominently.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Store;
use crate::store::Error as StoreError;

/// The settings key of [`CheckPolicy`].
pub const POLICY_SETTING: &str = "update_checks";
/// The settings key of the last check's time (Unix ms).
pub const LAST_CHECK_SETTING: &str = "update_last_check";
/// How often a resident Blastdesk looks for an update by itself.
pub const CHECK_EVERY: Duration = Duration::from_secs(24 * 60 * 60);
/// How soon an automatic check that failed (no connection, the server
/// down) is tried again: a computer that starts offline learns of an
/// urgent update within the hour it comes online, not a day later.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60 * 60);
/// The longest `important` notice shown; the rest is cut.
pub const MAX_NOTICE_CHARS: usize = 300;
/// The longest release notes shown; the rest is cut.
pub const MAX_NOTES_CHARS: usize = 4000;

/// Whether Blastdesk looks for updates by itself (at start, then daily) or
/// only when the person asks. Automatic unless the person chose otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CheckPolicy {
    #[default]
    Automatic,
    OnRequest,
}

impl CheckPolicy {
    fn code(self) -> &'static str {
        match self {
            CheckPolicy::Automatic => "automatic",
            CheckPolicy::OnRequest => "on_request",
        }
    }

    /// The person's choice; a value this version does not know reads as the default.
    pub fn of(store: &Store) -> Result<CheckPolicy, StoreError> {
        Ok(match store.setting_text(POLICY_SETTING)?.as_deref() {
            Some("on_request") => CheckPolicy::OnRequest,
            _ => CheckPolicy::Automatic,
        })
    }

    pub fn save(self, store: &Store, now_ms: i64) -> Result<(), StoreError> {
        store.set_setting_text(POLICY_SETTING, Some(self.code()), now_ms)
    }
}

/// Records that a check was answered (whatever it found; a check that
/// failed is not recorded, and is tried again after [`RETRY_AFTER_FAILURE`]).
pub fn note_check(store: &Store, now_ms: i64) -> Result<(), StoreError> {
    store.set_setting_text(LAST_CHECK_SETTING, Some(&now_ms.to_string()), now_ms)
}

/// How long until the next automatic check, from the last one's time: at
/// once when there was none (or the clock went back past it), else a day
/// after it. A Blastdesk started after a day away checks at once.
pub fn next_check_in(last_check_ms: Option<i64>, now_ms: i64) -> Duration {
    let Some(last) = last_check_ms.filter(|last| *last <= now_ms) else {
        return Duration::ZERO;
    };
    let due = last.saturating_add(CHECK_EVERY.as_millis() as i64);
    Duration::from_millis(due.saturating_sub(now_ms).max(0) as u64)
}

/// When the last check was made, if one was.
pub fn last_check(store: &Store) -> Result<Option<i64>, StoreError> {
    Ok(store
        .setting_text(LAST_CHECK_SETTING)?
        .and_then(|text| text.parse().ok()))
}

/// An update the feed offers, as the window and the tray show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    pub version: String,
    /// The release's date as the feed gives it (RFC 3339), if it does.
    pub date: Option<String>,
    /// What changed, as the feed says it (plain text, cut to a length).
    pub notes: Option<String>,
    /// Set for a protocol emergency: why this update matters now.
    pub important: Option<String>,
}

impl Offer {
    /// An offer from the feed's fields; `feed` is the whole document, for
    /// Blastdesk's own `important` field.
    pub fn new(
        version: String,
        date: Option<String>,
        notes: Option<String>,
        feed: &serde_json::Value,
    ) -> Offer {
        Offer {
            version,
            date,
            notes: notes.and_then(|n| cut(&n, MAX_NOTES_CHARS)),
            important: important_notice(feed),
        }
    }
}

/// The feed's `important` notice: a non-empty text, cut to a length; any
/// other value (a number, an object) is no notice.
pub fn important_notice(feed: &serde_json::Value) -> Option<String> {
    cut(feed.get("important")?.as_str()?, MAX_NOTICE_CHARS)
}

/// Trimmed, without control characters but line breaks, at most `max`
/// characters; `None` when nothing is left.
fn cut(text: &str, max: usize) -> Option<String> {
    let clean: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(max)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// Where updating Blastdesk stands, as the window and the tray show it.
/// Sent to the window whole each time it changes (the `update` event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "state",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum UpdateStatus {
    /// No check since Blastdesk started (checks are on request, or the
    /// first one has not answered yet).
    NotChecked,
    Checking,
    /// The feed offers nothing newer than this version.
    UpToDate {
        checked_at_ms: i64,
    },
    Available {
        offer: Offer,
    },
    /// Downloading: `received` bytes of `total` (when the server says).
    Downloading {
        offer: Offer,
        received: u64,
        total: Option<u64>,
    },
    /// Downloaded and its signature checked; the blasts stop after the
    /// message each is sending, then it is installed.
    Finishing {
        offer: Offer,
    },
    /// Installed; Blastdesk restarts into the new version.
    Restarting {
        offer: Offer,
    },
    /// The update was refused; nothing changed.
    Refused {
        refusal: Refusal,
    },
    /// The check or the download failed; nothing changed.
    Failed {
        stage: Stage,
        detail: String,
    },
}

impl UpdateStatus {
    /// The offer in hand, if there is one.
    pub fn offer(&self) -> Option<&Offer> {
        match self {
            UpdateStatus::Available { offer }
            | UpdateStatus::Downloading { offer, .. }
            | UpdateStatus::Finishing { offer }
            | UpdateStatus::Restarting { offer } => Some(offer),
            _ => None,
        }
    }

    /// Whether an install is under way (a second one is not started).
    pub fn is_installing(&self) -> bool {
        matches!(
            self,
            UpdateStatus::Downloading { .. }
                | UpdateStatus::Finishing { .. }
                | UpdateStatus::Restarting { .. }
        )
    }

    /// In English, for logs and the command line.
    pub fn message(&self) -> String {
        match self {
            UpdateStatus::NotChecked => "Not checked for updates yet.".into(),
            UpdateStatus::Checking => "Checking for updates…".into(),
            UpdateStatus::UpToDate { .. } => "Blastdesk is up to date.".into(),
            UpdateStatus::Available { offer } => {
                format!("Blastdesk {} is available.", offer.version)
            }
            UpdateStatus::Downloading { offer, .. } => {
                format!("Downloading Blastdesk {}…", offer.version)
            }
            UpdateStatus::Finishing { offer } => format!(
                "Blastdesk {} is downloaded and verified; it is installed once the message being sent is done.",
                offer.version
            ),
            UpdateStatus::Restarting { offer } => {
                format!("Blastdesk {} is installed; restarting.", offer.version)
            }
            UpdateStatus::Refused { refusal } => refusal.message(),
            UpdateStatus::Failed { stage, detail } => format!(
                "{} Nothing changed. ({detail})",
                match stage {
                    Stage::Check => "Cannot check for updates now.",
                    Stage::Download => "The update could not be downloaded.",
                    Stage::Install => "The update could not be installed.",
                }
            ),
        }
    }
}

/// Which step of updating failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Check,
    Download,
    Install,
}

/// Why an update was refused. Each leaves this version as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Refusal {
    /// The feed offers a version older than this one: never installed
    /// (a feed that goes back is a mistake or an attack).
    Older { offered: String, current: String },
    /// The download's signature is not one of Blastdesk's: it was not
    /// installed.
    BadSignature { version: String },
    /// The signature is Blastdesk's but was made for another version than
    /// the feed announces (an old release passed off as a new one).
    WrongVersion { version: String },
    /// The download is not an installer for this system.
    NotAnInstaller { version: String },
    /// This copy was not installed from a Blastdesk package (it was built
    /// from source, or runs from an unpacked folder): it cannot replace
    /// itself.
    NotInstalled { version: String },
}

impl Refusal {
    /// In English, for logs and the command line.
    pub fn message(&self) -> String {
        match self {
            Refusal::Older { offered, current } => format!(
                "The update server offers Blastdesk {offered}, older than this {current}: it was not installed. Nothing changed."
            ),
            Refusal::BadSignature { version } => format!(
                "The download of Blastdesk {version} is not signed with Blastdesk's key: it was not installed. Nothing changed."
            ),
            Refusal::WrongVersion { version } => format!(
                "The download announced as Blastdesk {version} was signed for another version: it was not installed. Nothing changed."
            ),
            Refusal::NotAnInstaller { version } => format!(
                "The download of Blastdesk {version} is not an installer for this system: it was not installed. Nothing changed."
            ),
            Refusal::NotInstalled { version } => format!(
                "This copy of Blastdesk was not installed from a Blastdesk package, so it cannot update itself to {version}: install the new version from the download page."
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY_MS: i64 = 24 * 60 * 60 * 1000;

    #[test]
    fn the_next_check_is_a_day_after_the_last_or_at_once() {
        let now = 1_800_000_000_000;
        for (last, wait) in [
            (None, Duration::ZERO),
            (Some(now), CHECK_EVERY),
            (Some(now - DAY_MS / 2), CHECK_EVERY / 2),
            (Some(now - DAY_MS), Duration::ZERO),
            (Some(now - 10 * DAY_MS), Duration::ZERO),
            // A clock that went back past the last check: check now.
            (Some(now + DAY_MS), Duration::ZERO),
        ] {
            assert_eq!(next_check_in(last, now), wait, "{last:?}");
        }
    }

    #[test]
    fn the_policy_is_automatic_until_the_person_chooses() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let store = Store::open_in(dir.path())?;
        assert_eq!(CheckPolicy::of(&store)?, CheckPolicy::Automatic);
        CheckPolicy::OnRequest.save(&store, 1)?;
        assert_eq!(CheckPolicy::of(&store)?, CheckPolicy::OnRequest);
        CheckPolicy::Automatic.save(&store, 2)?;
        assert_eq!(CheckPolicy::of(&store)?, CheckPolicy::Automatic);
        assert_eq!(last_check(&store)?, None);
        note_check(&store, 5)?;
        assert_eq!(last_check(&store)?, Some(5));
        Ok(())
    }

    #[test]
    fn the_important_notice_is_a_trimmed_text_or_nothing() {
        let long = "x".repeat(MAX_NOTICE_CHARS + 50);
        for (feed, notice) in [
            (
                serde_json::json!({"version": "0.2.0", "important": "  WhatsApp changed; linking fails without this  "}),
                Some("WhatsApp changed; linking fails without this".to_owned()),
            ),
            (serde_json::json!({"version": "0.2.0"}), None),
            (serde_json::json!({"important": ""}), None),
            (serde_json::json!({"important": "   "}), None),
            (serde_json::json!({"important": 3}), None),
            (serde_json::json!({"important": {"text": "x"}}), None),
            (
                serde_json::json!({"important": "a\u{7}b"}),
                Some("ab".to_owned()),
            ),
            (
                serde_json::json!({ "important": long }),
                Some("x".repeat(MAX_NOTICE_CHARS)),
            ),
            (serde_json::json!("not an object"), None),
        ] {
            assert_eq!(important_notice(&feed), notice, "{feed}");
        }
    }

    #[test]
    fn statuses_are_sent_as_tagged_objects() -> Result<(), serde_json::Error> {
        let offer = Offer::new(
            "0.2.0".into(),
            Some("2026-12-01T10:00:00Z".into()),
            Some(" Faster imports ".into()),
            &serde_json::json!({"important": "WhatsApp changed"}),
        );
        let status = UpdateStatus::Downloading {
            offer: offer.clone(),
            received: 10,
            total: Some(100),
        };
        assert_eq!(
            serde_json::to_value(&status)?,
            serde_json::json!({
                "state": "downloading",
                "offer": {"version": "0.2.0", "date": "2026-12-01T10:00:00Z", "notes": "Faster imports", "important": "WhatsApp changed"},
                "received": 10,
                "total": 100,
            })
        );
        let refused = UpdateStatus::Refused {
            refusal: Refusal::Older {
                offered: "0.0.9".into(),
                current: "0.1.0".into(),
            },
        };
        assert_eq!(
            serde_json::to_value(&refused)?,
            serde_json::json!({"state": "refused", "refusal": {"reason": "older", "offered": "0.0.9", "current": "0.1.0"}})
        );
        assert!(refused.message().contains("older than this 0.1.0"));
        assert!(status.is_installing() && status.offer() == Some(&offer));
        Ok(())
    }
}
