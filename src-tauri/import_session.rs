//! The files the person handed to Blastdesk (dropped or picked) and the last
//! preview built from them.
//!
//! The web view never names a path itself: it gets an id for each file the
//! person chose, and only those can be imported. The last preview stays here
//! so that saving it as an audience does not send every row back over IPC.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use blastdesk_core::ErrorCode;
use blastdesk_core::audience::Preview;
use serde::Serialize;

use crate::error::Error;

/// A file the person chose, as the UI knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantedFile {
    pub id: u64,
    pub name: String,
}

#[derive(Default)]
pub struct ImportSession {
    granted: Mutex<Granted>,
    last_preview: Mutex<Option<Preview>>,
}

#[derive(Default)]
struct Granted {
    next_id: u64,
    paths: HashMap<u64, PathBuf>,
}

impl ImportSession {
    /// Records files the person chose and returns their ids.
    pub fn grant(&self, paths: impl IntoIterator<Item = PathBuf>) -> Vec<GrantedFile> {
        let mut granted = self.granted.lock().unwrap_or_else(PoisonError::into_inner);
        paths
            .into_iter()
            .filter(|path| path.is_file())
            .map(|path| {
                granted.next_id += 1;
                let id = granted.next_id;
                let name = blastdesk_core::import::display_name(&path);
                granted.paths.insert(id, path);
                GrantedFile { id, name }
            })
            .collect()
    }

    /// The path of a granted file; an error the person can act on for an id
    /// this run of Blastdesk never gave out (it was restarted since).
    pub fn path(&self, id: u64) -> Result<PathBuf, Error> {
        let granted = self.granted.lock().unwrap_or_else(PoisonError::into_inner);
        granted.paths.get(&id).cloned().ok_or_else(|| Error {
            code: ErrorCode::InvalidInput,
            details: None,
            message: "That file was not chosen in this session; choose it again.".into(),
        })
    }

    pub fn set_last_preview(&self, preview: Preview) {
        *self
            .last_preview
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(preview);
    }

    /// Runs `f` with the last preview, if there is one.
    pub fn with_last_preview<T>(&self, f: impl FnOnce(Option<&Preview>) -> T) -> T {
        f(self
            .last_preview
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_existing_files_are_granted_and_ids_are_unique() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let a = dir.path().join("a.csv");
        let b = dir.path().join("b.xlsx");
        std::fs::write(&a, "phone\n")?;
        std::fs::write(&b, "x")?;
        let session = ImportSession::default();
        let granted = session.grant([
            a.clone(),
            dir.path().join("missing.csv"),
            dir.path().to_path_buf(),
        ]);
        assert_eq!(
            granted,
            [GrantedFile {
                id: 1,
                name: "a.csv".into()
            }]
        );
        let again = session.grant([b.clone()]);
        assert_eq!(again[0].id, 2);
        assert_eq!(session.path(1).ok(), Some(a));
        assert_eq!(session.path(2).ok(), Some(b));
        assert_eq!(session.path(3).ok(), None);
        Ok(())
    }
}
