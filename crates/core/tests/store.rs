//! The store against real SQLite files in temporary directories.

use std::path::{Path, PathBuf};

use blastdesk_core::ErrorCode;
use blastdesk_core::store::{self, APPLICATION_ID, SCHEMA_VERSION, Store};
use rusqlite::Connection;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn raw(path: &Path) -> rusqlite::Result<Connection> {
    Connection::open(path)
}

fn schema_sql(path: &Path) -> rusqlite::Result<Vec<String>> {
    let conn = raw(path)?;
    let mut statement =
        conn.prepare("SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")?;
    statement.query_map([], |row| row.get(0))?.collect()
}

#[test]
fn opening_an_empty_directory_creates_the_latest_schema() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data_dir = dir.path().join("nested").join("data");
    let store = Store::open_in(&data_dir)?;

    assert_eq!(store.schema_version()?, SCHEMA_VERSION);
    let database = data_dir.join(store::FILE_NAME);
    assert_eq!(store.path(), Some(database.as_path()));

    let conn = raw(&database)?;
    let journal: String = conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?;
    assert_eq!(journal, "wal");
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    assert_eq!(app_id, APPLICATION_ID);
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    tables.sort();
    assert_eq!(
        tables,
        [
            "accounts",
            "audience_contacts",
            "audiences",
            "blasts",
            "deliveries",
            "do_not_contact",
            "schedule_runs",
            "schedules",
            "sends",
            "settings",
        ]
    );

    let summary = store.summary()?;
    assert_eq!(summary.schema_version, SCHEMA_VERSION);
    assert_eq!(summary.accounts, 0);
    assert_eq!(summary.blasts.total, 0);
    Ok(())
}

#[test]
fn reopening_changes_neither_schema_nor_data() -> TestResult {
    let dir = tempfile::tempdir()?;
    let database = {
        let store = Store::open_in(dir.path())?;
        let path = store.path().map(PathBuf::from).ok_or("no path")?;
        let conn = raw(&path)?;
        conn.execute(
            "INSERT INTO settings (key, value, updated_at) VALUES ('country', '\"ID\"', 1)",
            [],
        )?;
        path
    };
    let before = schema_sql(&database)?;

    let store = Store::open_in(dir.path())?;
    assert_eq!(store.schema_version()?, SCHEMA_VERSION);
    assert_eq!(schema_sql(&database)?, before);
    let value: String = raw(&database)?.query_row(
        "SELECT value FROM settings WHERE key = 'country'",
        [],
        |row| row.get(0),
    )?;
    assert_eq!(value, "\"ID\"");
    Ok(())
}

/// How to make a file that is not a database Blastdesk may open.
struct Refusal {
    name: &'static str,
    make: fn(&Path) -> TestResult,
    code: ErrorCode,
    message_mentions: &'static str,
}

fn random_bytes(path: &Path) -> TestResult {
    // Deterministic "random" bytes: an xorshift stream.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let bytes: Vec<u8> = (0..8192)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    std::fs::write(path, bytes)?;
    Ok(())
}

fn spreadsheet_by_mistake(path: &Path) -> TestResult {
    std::fs::write(path, "name,phone\nAni,0812-3456-7890\n")?;
    Ok(())
}

fn newer_blastdesk(path: &Path) -> TestResult {
    let conn = raw(path)?;
    conn.execute_batch("CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);")?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)?;
    Ok(())
}

fn other_programs_database(path: &Path) -> TestResult {
    let conn = raw(path)?;
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL);")?;
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)", [])?;
    Ok(())
}

fn truncated_blastdesk(path: &Path) -> TestResult {
    let dir = tempfile::tempdir()?;
    let full = {
        let store = Store::open_in(dir.path())?;
        store.path().map(PathBuf::from).ok_or("no path")?
    };
    // Fold the WAL into the main file, then keep only its first page's start.
    raw(&full)?.pragma_update(None, "journal_mode", "DELETE")?;
    let bytes = std::fs::read(&full)?;
    std::fs::write(path, &bytes[..bytes.len().min(1000)])?;
    Ok(())
}

const REFUSALS: &[Refusal] = &[
    Refusal {
        name: "random bytes",
        make: random_bytes,
        code: ErrorCode::NotADatabase,
        message_mentions: "not a Blastdesk database",
    },
    Refusal {
        name: "a CSV file saved under the database's name",
        make: spreadsheet_by_mistake,
        code: ErrorCode::NotADatabase,
        message_mentions: "not a Blastdesk database",
    },
    Refusal {
        name: "a database from a newer Blastdesk",
        make: newer_blastdesk,
        code: ErrorCode::DatabaseTooNew,
        message_mentions: "newer version of Blastdesk",
    },
    Refusal {
        name: "another program's SQLite database",
        make: other_programs_database,
        code: ErrorCode::ForeignDatabase,
        message_mentions: "another program",
    },
    Refusal {
        name: "a truncated Blastdesk database",
        make: truncated_blastdesk,
        code: ErrorCode::DatabaseCorrupt,
        message_mentions: "damaged",
    },
];

#[test]
fn files_that_are_not_our_database_are_refused_and_left_untouched() -> TestResult {
    for case in REFUSALS {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(store::FILE_NAME);
        (case.make)(&path)?;
        let before = std::fs::read(&path)?;
        let entries_before = std::fs::read_dir(dir.path())?.count();

        let error = match Store::open(&path) {
            Ok(_) => return Err(format!("{}: was opened", case.name).into()),
            Err(error) => error,
        };
        assert_eq!(error.code(), case.code, "{}: {error}", case.name);
        let message = error.to_string();
        assert!(
            message.contains(case.message_mentions),
            "{}: {message}",
            case.name
        );
        assert!(
            message.contains(&path.display().to_string()),
            "{}: the message names no file: {message}",
            case.name
        );
        assert_eq!(std::fs::read(&path)?, before, "{}: file changed", case.name);
        assert_eq!(
            std::fs::read_dir(dir.path())?.count(),
            entries_before,
            "{}: files were created beside it",
            case.name
        );
    }
    Ok(())
}

#[test]
fn an_empty_file_is_a_new_database() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join(store::FILE_NAME);
    std::fs::write(&path, b"")?;
    let store = Store::open(&path)?;
    assert_eq!(store.schema_version()?, SCHEMA_VERSION);
    Ok(())
}
