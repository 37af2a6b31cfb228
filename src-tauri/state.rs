//! What the shell keeps for the app's lifetime.

use std::path::{Path, PathBuf};

use blastdesk_core::owner::Owner;
use blastdesk_core::{Store, logging::LogGuard};

use crate::error::Error;

/// Managed state: the data directory and the store (or why it could not be opened).
pub struct AppState {
    data_dir: PathBuf,
    /// When this run of Blastdesk started (Unix ms): files chosen in the
    /// window are known by id only during one run.
    run_id: i64,
    /// The claim on the data folder, held for as long as the app runs.
    _owner: Option<Owner>,
    store: Result<Store, Error>,
    has_tray: bool,
    _log_guard: Option<LogGuard>,
}

impl AppState {
    pub fn new(
        data_dir: PathBuf,
        owner: Option<Owner>,
        store: Result<Store, Error>,
        has_tray: bool,
        log_guard: Option<LogGuard>,
    ) -> AppState {
        AppState {
            data_dir,
            run_id: crate::commands::now_ms(),
            _owner: owner,
            store,
            has_tray,
            _log_guard: log_guard,
        }
    }

    pub fn run_id(&self) -> i64 {
        self.run_id
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The store, or the error that kept it from opening.
    pub fn store(&self) -> Result<Store, Error> {
        self.store.clone()
    }

    pub fn has_tray(&self) -> bool {
        self.has_tray
    }
}
