//! One owner of a data folder while it sends.
//!
//! The tray app, the daemon and every command-line command that sends,
//! links, logs out, restores or runs recovery first claim the data folder:
//! an exclusive lock on `owner.lock` (flock on Unix, `LockFileEx` on
//! Windows, both through std's `File::try_lock`), which the operating system
//! releases when the process ends, however it ends. A second claimant is
//! refused with the name of the one holding it, and changes nothing.
//!
//! Who holds the lock is written beside it, in `owner.json`: on Windows a
//! locked range cannot be read by anyone else, so the description lives in
//! a file of its own. It is only ever read while the lock is held by
//! someone, so a stale description left by a process that died is harmless.
//!
//! Commands that only read (status, list, export, preview) and the durable
//! controls (pause, resume, cancel, decide) do not claim the folder: they
//! work beside the owner, which reads their effect from the store.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::ErrorCode;

/// The file that is locked.
const LOCK_FILE: &str = "owner.lock";
/// The file that says who holds the lock.
const INFO_FILE: &str = "owner.json";

/// Who claims a data folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "holder", rename_all = "snake_case")]
pub enum Holder {
    /// The desktop app (in a window or in the tray).
    App,
    /// `blastdesk-cli daemon`.
    Daemon,
    /// Another `blastdesk-cli` command, e.g. `blast run`.
    Command { command: String },
}

/// A holder as another process found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    #[serde(flatten)]
    pub holder: Holder,
    pub pid: u32,
}

impl std::fmt::Display for Claim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.holder {
            Holder::App => write!(
                f,
                "Blastdesk is running (in its window or in the tray, process {}); quit it or use its window",
                self.pid
            ),
            Holder::Daemon => write!(
                f,
                "`blastdesk-cli daemon` (process {}) is sending for this data folder; stop it first",
                self.pid
            ),
            Holder::Command { command } => write!(
                f,
                "`blastdesk-cli {command}` (process {}) is using this data folder; wait for it to finish or stop it",
                self.pid
            ),
        }
    }
}

/// Why a data folder could not be claimed.
#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    /// Someone else holds it; `by` is who, when they said so.
    #[error("{}", match .by {
        Some(claim) => format!("{claim}. Nothing was changed"),
        None => "another Blastdesk program is using this data folder; close it first. Nothing was changed".into(),
    })]
    InUse { by: Option<Claim> },

    #[error("cannot claim the data folder {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl OwnerError {
    pub fn code(&self) -> ErrorCode {
        match self {
            OwnerError::InUse { .. } => ErrorCode::DataFolderInUse,
            OwnerError::Io { .. } => ErrorCode::Io,
        }
    }

    /// What the error says, as data (see [`crate::error::Details`]).
    pub fn details(&self) -> Option<crate::error::Details> {
        match self {
            OwnerError::InUse { .. } => Some(crate::error::Details::Store(
                crate::error::StoreProblem::DataFolderInUse,
            )),
            OwnerError::Io { .. } => None,
        }
    }
}

/// A claimed data folder: held until dropped (or the process ends).
#[derive(Debug)]
pub struct Owner {
    _lock: File,
}

impl Owner {
    /// Claims `data_dir` for `holder`, creating the folder if needed.
    pub fn claim(data_dir: &Path, holder: Holder) -> Result<Owner, OwnerError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| OwnerError::Io { path, source }
        };
        crate::data_dir::ensure(data_dir).map_err(io(data_dir))?;
        let lock_path = data_dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(OwnerError::InUse {
                    by: Owner::holder(data_dir),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(&lock_path)(source)),
        }
        let claim = Claim {
            holder,
            pid: std::process::id(),
        };
        let info = data_dir.join(INFO_FILE);
        let text = serde_json::to_vec(&claim).map_err(|e| io(&info)(e.into()))?;
        std::fs::write(&info, text).map_err(io(&info))?;
        Ok(Owner { _lock: lock })
    }

    /// Claims `data_dir`, trying again for up to `patience` while someone
    /// else holds it: an app that restarts itself (after a restore) starts
    /// its new process a moment before the old one has let go.
    pub fn claim_patiently(
        data_dir: &Path,
        holder: Holder,
        patience: std::time::Duration,
    ) -> Result<Owner, OwnerError> {
        let deadline = std::time::Instant::now() + patience;
        loop {
            match Owner::claim(data_dir, holder.clone()) {
                Err(OwnerError::InUse { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                result => return result,
            }
        }
    }

    /// Who holds `data_dir` now, if anyone does and said so.
    pub fn holder(data_dir: &Path) -> Option<Claim> {
        let lock = File::open(data_dir.join(LOCK_FILE)).ok()?;
        match lock.try_lock_shared() {
            // Nobody holds it: whatever the description says is stale.
            Ok(()) => None,
            Err(_) => {
                let text = std::fs::read(data_dir.join(INFO_FILE)).ok()?;
                serde_json::from_slice(&text).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_claim_is_refused_with_the_holder_until_the_first_is_released()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let first = Owner::claim(dir.path(), Holder::App)?;
        let cases = [
            Holder::Daemon,
            Holder::Command {
                command: "blast run".into(),
            },
            Holder::App,
        ];
        for holder in cases {
            let Err(refused) = Owner::claim(dir.path(), holder.clone()) else {
                panic!("{holder:?} claimed a folder the app holds");
            };
            assert_eq!(refused.code(), ErrorCode::DataFolderInUse);
            let text = refused.to_string();
            assert!(text.starts_with("Blastdesk is running"), "{text}");
            assert!(text.ends_with("Nothing was changed"), "{text}");
        }
        assert_eq!(
            Owner::holder(dir.path()),
            Some(Claim {
                holder: Holder::App,
                pid: std::process::id()
            })
        );
        drop(first);
        assert_eq!(
            Owner::holder(dir.path()),
            None,
            "a stale description is ignored"
        );
        let second = Owner::claim(
            dir.path(),
            Holder::Command {
                command: "restore".into(),
            },
        )?;
        let Err(refused) = Owner::claim(dir.path(), Holder::App) else {
            panic!("claimed twice");
        };
        assert!(
            refused.to_string().contains("`blastdesk-cli restore`"),
            "{refused}"
        );
        drop(second);
        Ok(())
    }
}
