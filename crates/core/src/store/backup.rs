//! Backing up and restoring the whole store.
//!
//! A backup is a consistent copy of the database (SQLite's online backup,
//! safe while Blastdesk runs), written next to its target and renamed into
//! place. A restore first checks the file is a Blastdesk backup this version
//! can read (an SQLite file, Blastdesk's application id, not newer, intact),
//! and only then copies it over the live database in one step: a file that is
//! not a Blastdesk backup is refused and changes nothing.

use std::path::Path;

use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::{Error, Result, Store, migrations};

impl Store {
    /// Writes a consistent copy of the database to `path`.
    pub fn backup_to(&self, path: &Path) -> Result<()> {
        let mut partial = path.file_name().unwrap_or_default().to_os_string();
        partial.push(".partial");
        let partial = path.with_file_name(partial);
        let io = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        self.read(|conn| {
            conn.backup(MAIN_DB, &partial, None).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e),
            })
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Replaces the database with the backup at `path`, if it is one.
    pub fn restore_from(&self, path: &Path) -> Result<()> {
        check_backup(path)?;
        self.write(|conn| {
            conn.restore(MAIN_DB, path, None::<fn(rusqlite::backup::Progress)>)
                .map_err(|e| Error::NotABackup {
                    path: path.to_path_buf(),
                    reason: format!("it could not be copied in ({e})"),
                })?;
            // A backup from an older Blastdesk is brought up to date.
            migrations::migrate(conn, migrations::ALL)?;
            Ok(())
        })
    }
}

/// Puts a backup in place of the database in `data_dir` without opening
/// that database: for when it cannot be opened (damaged, not a database).
/// The backup is checked first (refused, nothing changed, if it is not an
/// intact Blastdesk backup); the file it replaces is kept beside it, renamed
/// `blastdesk.sqlite3.replaced-<ms>`, and its journal files with it. Returns
/// where the old file went, if there was one. Nothing may have the database
/// open meanwhile.
pub fn restore_file_into(
    data_dir: &Path,
    backup: &Path,
    now_ms: i64,
) -> Result<Option<std::path::PathBuf>> {
    check_backup(backup)?;
    let live = data_dir.join(super::FILE_NAME);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    let mut partial = live.clone().into_os_string();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    std::fs::copy(backup, &partial).map_err(io(&partial))?;
    let mut kept = None;
    for suffix in ["", "-wal", "-shm"] {
        let mut from = live.clone().into_os_string();
        from.push(suffix);
        let from = std::path::PathBuf::from(from);
        if from.exists() {
            let mut to = live.clone().into_os_string();
            to.push(format!(".replaced-{now_ms}{suffix}"));
            let to = std::path::PathBuf::from(to);
            std::fs::rename(&from, &to).map_err(io(&from))?;
            if suffix.is_empty() {
                kept = Some(to);
            }
        }
    }
    std::fs::rename(&partial, &live).map_err(io(&live))?;
    Ok(kept)
}

/// Refuses anything but an intact Blastdesk database this version can read.
fn check_backup(path: &Path) -> Result<()> {
    let not = |reason: &str| Error::NotABackup {
        path: path.to_path_buf(),
        reason: reason.to_owned(),
    };
    if !path.is_file() {
        return Err(not("there is no such file"));
    }
    match super::refuse_non_sqlite(path) {
        Ok(true) => {}
        Ok(false) => return Err(not("the file is empty")),
        Err(_) => return Err(not("it is not a database file")),
    }
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|_| not("it cannot be opened"))?;
    match super::identify(&conn, path) {
        Ok(()) => {}
        Err(Error::TooNew {
            found, supported, ..
        }) => {
            return Err(not(&format!(
                "it was made by a newer Blastdesk (database version {found}; this one reads up to {supported})"
            )));
        }
        Err(_) => return Err(not("it is another program's database")),
    }
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|_| not("it cannot be read"))?;
    if application_id != super::APPLICATION_ID {
        return Err(not("it holds no Blastdesk data"));
    }
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .map_err(|_| not("it is damaged"))?;
    if check != "ok" {
        return Err(not("it is damaged"));
    }
    Ok(())
}
