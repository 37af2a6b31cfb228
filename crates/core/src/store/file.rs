//! How Blastdesk opens an SQLite file: every database it opens (its own,
//! a backup, the staging copy of a restore, the WhatsApp session keys) goes
//! through here, so that a path the file system accepts is one SQLite
//! accepts too.
//!
//! On Windows, SQLite's default VFS ("win32") passes a path to `CreateFileW`
//! as given, which Windows refuses beyond `MAX_PATH` (260 characters) unless
//! long paths are enabled machine-wide and the program opts in, and it caps a
//! full path at 1,040 bytes of UTF-8 itself. Its "win32-longpath" VFS takes up
//! to 32,767 characters when the path is in the verbatim `\\?\` form, which
//! Windows accepts everywhere; so on Windows a database is opened through
//! that VFS by its verbatim absolute path. `C:\Users\Dewi Ayu\...` deep
//! inside a synced folder works as a short path does.
//!
//! Elsewhere the path is used as given. SQLite's Unix VFS caps a path at 512
//! bytes, which neither macOS's nor Linux's own folders come near; a deeper
//! path is refused with SQLite's "unable to open" error, naming the path
//! (docs/windows.md, "Long paths").

use std::path::Path;
#[cfg(windows)]
use std::path::PathBuf;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, MAIN_DB, OpenFlags};

/// The VFS that takes verbatim paths of any length Windows allows.
#[cfg(windows)]
const LONG_PATH_VFS: &str = "win32-longpath";

/// Opens the database file at `path` with `flags`.
pub fn open(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    #[cfg(windows)]
    {
        Connection::open_with_flags_and_vfs(verbatim(path), flags, LONG_PATH_VFS)
    }
    #[cfg(not(windows))]
    {
        Connection::open_with_flags(path, flags)
    }
}

/// The database file at `path` as an SQLite URI, for a library that opens
/// its database from a URL (the WhatsApp session keys' store): on Windows
/// it names the verbatim path and the long-path VFS, as [`open`] does.
/// The library must open it with URIs enabled (`SQLITE_OPEN_URI`).
pub fn uri(path: &Path) -> String {
    #[cfg(windows)]
    let (path, query) = (verbatim(path), "?vfs=win32-longpath");
    #[cfg(not(windows))]
    let (path, query) = (path.to_path_buf(), "");
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        // The characters a URI's path gives a meaning to; SQLite decodes
        // every `%HH` back.
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3F"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str(query);
    uri
}

/// The name to give SQLite for the file at `path` where it takes a file
/// name in SQL (`ATTACH DATABASE`), which it opens through the VFS of the
/// connection that [`open`] chose.
pub fn sql_name(path: &Path) -> String {
    #[cfg(windows)]
    let path = verbatim(path);
    path.to_string_lossy().into_owned()
}

/// Copies the main database of `from`, consistently, into a new database
/// file at `to` (which must not be in use).
pub fn copy_to(from: &Connection, to: &Path) -> rusqlite::Result<()> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
    let mut target = open(to, flags)?;
    run(&Backup::new_with_names(
        from,
        MAIN_DB,
        &mut target,
        MAIN_DB,
    )?)
}

/// Replaces the main database of `into` with the database file at `from`.
pub fn copy_from(into: &mut Connection, from: &Path) -> rusqlite::Result<()> {
    let source = open(from, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    run(&Backup::new_with_names(&source, MAIN_DB, into, MAIN_DB)?)
}

/// Runs a backup to its end in one pass of steps. Every copy Blastdesk makes
/// is made while it holds the connection it copies (or the one it
/// replaces), so another step of its own cannot interleave; another
/// program's lock is waited for by the busy handler and otherwise fails the
/// copy, which then changed nothing of the source.
fn run(backup: &Backup<'_, '_>) -> rusqlite::Result<()> {
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More => {}
            StepResult::Busy => return Err(busy(rusqlite::ffi::SQLITE_BUSY)),
            StepResult::Locked => return Err(busy(rusqlite::ffi::SQLITE_LOCKED)),
            // A future outcome rusqlite may add: treated as a failure.
            _ => return Err(busy(rusqlite::ffi::SQLITE_BUSY)),
        }
    }
}

fn busy(code: std::ffi::c_int) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        Some("another program held the database during the copy".into()),
    )
}

/// `path` as an absolute verbatim path (`\\?\C:\...`, `\\?\UNC\server\...`),
/// which Windows takes up to 32,767 characters long. A path Windows cannot
/// make absolute is returned as it is, for SQLite to refuse by name.
#[cfg(windows)]
fn verbatim(path: &Path) -> PathBuf {
    let Ok(absolute) = std::path::absolute(path) else {
        return path.to_path_buf();
    };
    let text = absolute.as_os_str().to_string_lossy();
    if text.starts_with(r"\\?\") || text.starts_with(r"\\.\") {
        return absolute;
    }
    let mut long = std::ffi::OsString::from(r"\\?\");
    match text.strip_prefix(r"\\") {
        Some(share) => {
            long.push(r"UNC\");
            long.push(share);
        }
        None => long.push(absolute.as_os_str()),
    }
    PathBuf::from(long)
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn a_uri_keeps_every_character_of_the_path() -> TestResult {
        let dir = tempfile::tempdir()?;
        // Windows forbids `?` in a file name; the rest it allows.
        let name = if cfg!(windows) {
            "100% #1 toko Ñoño"
        } else {
            "100% #1 toko? Ñoño"
        };
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder)?;
        let file = folder.join("kunci.db");
        let uri = uri(&file);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&uri, flags)?;
        conn.execute_batch("CREATE TABLE t (x)")?;
        drop(conn);
        assert!(file.is_file(), "{uri} opened {}", file.display());
        Ok(())
    }

    #[test]
    fn a_copy_there_and_back_keeps_the_data() -> TestResult {
        let dir = tempfile::tempdir()?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE;
        let original = open(&dir.path().join("a.db"), flags)?;
        original.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);")?;
        let copy = dir.path().join("copy.db");
        copy_to(&original, &copy)?;
        let mut other = open(&dir.path().join("b.db"), flags)?;
        other.execute_batch("CREATE TABLE u (y)")?;
        copy_from(&mut other, &copy)?;
        let sum: i64 = other.query_row("SELECT sum(x) FROM t", [], |r| r.get(0))?;
        assert_eq!(sum, 3);
        Ok(())
    }

    #[cfg(windows)]
    #[test]
    fn windows_paths_become_verbatim() {
        for (given, expected) in [
            (r"C:\Users\Dewi Ayu\a.db", r"\\?\C:\Users\Dewi Ayu\a.db"),
            (r"C:\Users\Dewi\..\Ayu\a.db", r"\\?\C:\Users\Ayu\a.db"),
            (r"\\nas\toko\a.db", r"\\?\UNC\nas\toko\a.db"),
            (r"\\?\C:\already\a.db", r"\\?\C:\already\a.db"),
        ] {
            assert_eq!(
                verbatim(Path::new(given)),
                PathBuf::from(expected),
                "{given}"
            );
        }
    }
}
