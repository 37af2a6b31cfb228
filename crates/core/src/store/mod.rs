//! The store: Blastdesk's one SQLite file.
//!
//! Opening a store identifies the file before touching it: a file that is not
//! an SQLite database, another program's database, or a database written by a
//! newer Blastdesk is refused with a specific [`Error`] and left exactly as it
//! was. A Blastdesk database is then put in WAL mode with foreign keys on, and
//! the pending [`migrations`] are applied in one transaction.
//!
//! [`Store`] is a cheap-to-clone handle; every clone shares one connection.
//! Calls are short, synchronous and never held across an `.await`: async
//! callers run them on a blocking thread.

mod accounts;
mod audiences;
pub mod backup;
pub mod blasts;
mod error;
pub mod file;
pub mod migrations;
pub mod runs;
pub mod schedules;
mod settings;
mod summary;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use accounts::{AccountInfo, AccountKind, AccountPacing};
pub use audiences::{AudienceInfo, DoNotContact};
pub use error::Error;
pub use migrations::SCHEMA_VERSION;
pub use summary::{BlastCounts, Summary};

/// `PRAGMA application_id` of every Blastdesk database: "BDSK" in ASCII.
pub const APPLICATION_ID: i32 = 0x4244_534B;

/// The database's file name inside the data directory.
pub const FILE_NAME: &str = "blastdesk.sqlite3";

/// How long a write waits for another connection's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A handle on the open database.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database in a data directory.
    pub fn open_in(data_dir: &Path) -> Result<Store> {
        crate::data_dir::ensure(data_dir).map_err(|source| Error::Io {
            path: data_dir.to_path_buf(),
            source,
        })?;
        Store::open(&data_dir.join(FILE_NAME))
    }

    /// Opens (creating if needed) the database file at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let has_content = refuse_non_sqlite(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = file::open(path, flags).map_err(|e| Error::at(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| Error::at(path, e))?;
        if has_content {
            identify(&conn, path)?;
        }
        // Only now, with the file known to be ours (or new), change anything.
        if !has_content {
            // A new file: 2 KB pages. Sending writes one small transaction per
            // message, and every page it touches is written whole to the WAL;
            // 2 KB pages halve that against the 4 KB default (a blast runs
            // about 12% faster) and still hold a delivery with a long message.
            conn.pragma_update(None, "page_size", 2048)
                .map_err(|e| Error::at(path, e))?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| Error::at(path, e))?;
        Store::finish_open(conn, Some(path.to_path_buf()))
    }

    /// Opens the database in a data directory for reading only, as the
    /// commands that only look (status, lists, exports, an import preview)
    /// do: beside a running app they change nothing, not even the journal
    /// mode. A database that does not exist yet, or needs migrating, is
    /// opened as [`Store::open_in`] opens it (no Blastdesk of this version
    /// can be running on it then); every write through the store fails.
    pub fn open_in_for_reading(data_dir: &Path) -> Result<Store> {
        let path = data_dir.join(FILE_NAME);
        if !refuse_non_sqlite(&path)? {
            return Store::open_in(data_dir);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = file::open(&path, flags).map_err(|e| Error::at(&path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| Error::at(&path, e))?;
        identify(&conn, &path)?;
        let version = migrations::user_version(&conn).map_err(|e| e.with_path(&path))?;
        if version < SCHEMA_VERSION {
            drop(conn);
            return Store::open_in(data_dir);
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| Error::at(&path, e))?;
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path: Some(path),
        })
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> Result<Store> {
        Store::finish_open(Connection::open_in_memory()?, None)
    }

    fn finish_open(mut conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        let at = |e| match &path {
            Some(path) => Error::at(path, e),
            None => Error::Sqlite(e),
        };
        conn.pragma_update(None, "foreign_keys", true).map_err(at)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(at)?;
        // Checkpoint the WAL into the database every 16,384 pages (32 MB)
        // instead of every 1,000: a blast commits once per message, and each
        // checkpoint costs an fsync; the WAL is cut back to 32 MB after one.
        conn.pragma_update(None, "wal_autocheckpoint", 16384)
            .map_err(at)?;
        conn.pragma_update(None, "journal_size_limit", 32 * 1024 * 1024)
            .map_err(at)?;
        let applied = migrations::migrate(&mut conn, migrations::ALL)?;
        if applied > 0 {
            tracing::info!(applied, version = SCHEMA_VERSION, "database migrated");
        }
        Ok(Store {
            conn: Arc::new(Mutex::new(conn)),
            path,
        })
    }

    /// The database file, or `None` for an in-memory store.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The data folder the database is in (`None` for an in-memory store):
    /// where attachments and staging files go.
    pub fn data_dir(&self) -> Option<&Path> {
        self.path().and_then(Path::parent)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<u32> {
        self.read(migrations::user_version)
    }

    /// Runs `f` with the connection. Keep `f` short: it holds the store's lock.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&conn)
    }

    /// Runs `f` with the connection, for writes that need a transaction.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut conn)
    }
}

/// The rows of a `SELECT state, count(*) ... GROUP BY state` query.
fn counts_by_state(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<(String, u64)>> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, |row| {
        Ok((
            row.get::<_, String>(0)?,
            u64::try_from(row.get::<_, i64>(1)?).unwrap_or(0),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A value as JSON text for a JSON column.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|e| Error::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into())))
}

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that exists, has content and is not an SQLite database,
/// without opening it through SQLite. Returns whether the file has content.
fn refuse_non_sqlite(path: &Path) -> Result<bool> {
    use std::io::Read;

    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut header = Vec::with_capacity(SQLITE_HEADER.len());
    file.by_ref()
        .take(SQLITE_HEADER.len() as u64)
        .read_to_end(&mut header)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if header.is_empty() {
        return Ok(false);
    }
    if header.as_slice() != SQLITE_HEADER {
        return Err(Error::NotADatabase {
            path: path.to_path_buf(),
        });
    }
    Ok(true)
}

/// Checks that an existing SQLite file is a Blastdesk database this version can open.
fn identify(conn: &Connection, path: &Path) -> Result<()> {
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| Error::at(path, e))?;
    let version = migrations::user_version(conn).map_err(|e| e.with_path(path))?;
    let has_tables: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table')",
            [],
            |row| row.get(0),
        )
        .map_err(|e| Error::at(path, e))?;
    let is_blank = application_id == 0 && version == 0 && !has_tables;
    if application_id != APPLICATION_ID && !is_blank {
        return Err(Error::ForeignDatabase {
            path: path.to_path_buf(),
        });
    }
    if version > SCHEMA_VERSION {
        return Err(Error::TooNew {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_keys_are_enforced() -> Result<()> {
        let store = Store::open_in_memory()?;
        let orphan = store.read(|conn| {
            Ok(conn.execute(
                "INSERT INTO deliveries (blast_id, phone, updated_at) VALUES (42, '+6281234567890', 0)",
                [],
            ))
        })?;
        let error = orphan.err();
        assert_eq!(
            error.as_ref().and_then(rusqlite::Error::sqlite_error_code),
            Some(rusqlite::ErrorCode::ConstraintViolation),
            "{error:?}"
        );
        Ok(())
    }
}
