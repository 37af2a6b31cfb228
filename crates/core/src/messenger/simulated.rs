//! A messenger that delivers into a file: for tests, and for rehearsals in
//! the app, where the whole flow runs without sending anything.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use super::{Accepted, AccountProblem, Media, Messenger, Outgoing, RecipientProblem, SendError};
use crate::clock::{Clock, Millis};
use crate::phone::Phone;
use crate::random::SplitMix64;

/// Faults to inject. The default injects none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Faults {
    /// Seed of the fault sequence: the same seed, the same faults.
    pub seed: u64,
    /// Share of sends (0 to 1) that fail with a transient error.
    pub transient_share: f64,
    /// Share of sends (0 to 1) that fail as "not on WhatsApp".
    pub permanent_share: f64,
    /// Numbers that are not on WhatsApp.
    pub not_on_whatsapp: HashSet<Phone>,
    /// Log the account out after this many accepted messages.
    pub logout_after: Option<u64>,
    /// Ban the account temporarily after this many accepted messages ...
    pub ban_after: Option<u64>,
    /// ... for this long.
    pub ban_for_ms: Millis,
}

/// One "delivered" message, as a line of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LedgerEntry {
    pub blast_id: i64,
    pub delivery_id: i64,
    pub phone: Phone,
    pub text: String,
    pub at_ms: Millis,
    pub message_id: String,
    /// The attachment, when the message has one: the text is its caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<Media>,
}

pub struct SimulatedMessenger<C> {
    ledger: PathBuf,
    faults: Faults,
    clock: C,
    state: Mutex<State>,
}

struct State {
    file: std::fs::File,
    random: SplitMix64,
    accepted: u64,
    logged_out: bool,
    banned_until: Option<Millis>,
}

impl<C: Clock> SimulatedMessenger<C> {
    /// Appends to the ledger at `path` (created if needed).
    pub fn open(path: &Path, faults: Faults, clock: C) -> std::io::Result<SimulatedMessenger<C>> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let random = SplitMix64::new(faults.seed);
        Ok(SimulatedMessenger {
            ledger: path.to_path_buf(),
            faults,
            clock,
            state: Mutex::new(State {
                file,
                random,
                accepted: 0,
                logged_out: false,
                banned_until: None,
            }),
        })
    }

    pub fn ledger_path(&self) -> &Path {
        &self.ledger
    }

    fn deliver(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let now = self.clock.now_ms();
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.logged_out {
            return Err(SendError::Account {
                problem: AccountProblem::LoggedOut,
            });
        }
        if let Some(until) = state.banned_until {
            if now < until {
                return Err(SendError::Account {
                    problem: AccountProblem::TemporarilyBanned {
                        until_ms: Some(until),
                        reason_code: Some(101),
                    },
                });
            }
            state.banned_until = None;
        }
        if self.faults.not_on_whatsapp.contains(&message.to) {
            return Err(SendError::Recipient {
                problem: RecipientProblem::NotOnWhatsapp,
            });
        }
        let roll = state.random.next_f64();
        if roll < self.faults.transient_share {
            return Err(SendError::Transient {
                detail: "simulated timeout".into(),
            });
        }
        if roll < self.faults.transient_share + self.faults.permanent_share {
            return Err(SendError::Recipient {
                problem: RecipientProblem::NotOnWhatsapp,
            });
        }
        if let Some(media) = &message.media
            && let Err(error) = std::fs::metadata(&media.path)
        {
            return Err(SendError::Transient {
                detail: format!(
                    "cannot read the attachment {}: {error}",
                    media.path.display()
                ),
            });
        }
        state.accepted += 1;
        let entry = LedgerEntry {
            blast_id: message.blast_id,
            delivery_id: message.delivery_id,
            phone: message.to.clone(),
            text: message.text.clone(),
            at_ms: now,
            message_id: format!(
                "SIM-{}-{}-{}",
                message.blast_id, message.delivery_id, state.accepted
            ),
            media: message.media.clone(),
        };
        let mut line = serde_json::to_string(&entry).map_err(|e| SendError::Transient {
            detail: e.to_string(),
        })?;
        line.push('\n');
        // One write per line, flushed: a process killed after this returns
        // has the line in the file.
        state
            .file
            .write_all(line.as_bytes())
            .and_then(|()| state.file.flush())
            .map_err(|e| SendError::Transient {
                detail: format!("cannot write the ledger: {e}"),
            })?;
        if self.faults.logout_after == Some(state.accepted) {
            state.logged_out = true;
        }
        if self.faults.ban_after == Some(state.accepted) {
            state.banned_until = Some(now + self.faults.ban_for_ms);
        }
        Ok(Accepted {
            message_id: entry.message_id,
            at_ms: now,
        })
    }
}

impl<C: Clock> Messenger for SimulatedMessenger<C> {
    fn sends_for_real(&self) -> bool {
        false
    }

    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        self.deliver(message)
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        Ok(phones
            .iter()
            .map(|p| !self.faults.not_on_whatsapp.contains(p))
            .collect())
    }
}

/// Every entry of a ledger file, in order. A torn last line (a process killed
/// mid-write) is ignored.
pub fn read_ledger(path: &Path) -> std::io::Result<Vec<LedgerEntry>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut entries = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        if let Ok(entry) = serde_json::from_str(&line?) {
            entries.push(entry);
        }
    }
    Ok(entries)
}
