//! A summary of what the store holds, for the status screen and `blastdesk-cli status`.

use std::path::PathBuf;

use rusqlite::Connection;
use serde::Serialize;

use super::{Result, Store};

/// Counts of everything in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The database file; `None` for an in-memory store.
    pub database: Option<PathBuf>,
    pub schema_version: u32,
    pub accounts: u64,
    pub audiences: u64,
    /// Contacts across all saved audiences.
    pub contacts: u64,
    pub blasts: BlastCounts,
    pub deliveries: u64,
    pub schedules: u64,
    pub do_not_contact: u64,
}

/// Blasts by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlastCounts {
    pub total: u64,
    pub draft: u64,
    pub queued: u64,
    pub running: u64,
    pub paused: u64,
    pub completed: u64,
    pub cancelled: u64,
}

impl Store {
    /// Counts what the store holds.
    pub fn summary(&self) -> Result<Summary> {
        let database = self.path().map(PathBuf::from);
        self.read(|conn| {
            Ok(Summary {
                database,
                schema_version: super::migrations::user_version(conn)?,
                accounts: count(conn, "SELECT count(*) FROM accounts")?,
                audiences: count(conn, "SELECT count(*) FROM audiences")?,
                contacts: count(conn, "SELECT count(*) FROM audience_contacts")?,
                blasts: blast_counts(conn)?,
                deliveries: count(conn, "SELECT count(*) FROM deliveries")?,
                schedules: count(conn, "SELECT count(*) FROM schedules")?,
                do_not_contact: count(conn, "SELECT count(*) FROM do_not_contact")?,
            })
        })
    }
}

fn count(conn: &Connection, sql: &str) -> Result<u64> {
    let n: i64 = conn.prepare_cached(sql)?.query_row([], |row| row.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

fn blast_counts(conn: &Connection) -> Result<BlastCounts> {
    let mut counts = BlastCounts::default();
    let sql = "SELECT state, count(*) FROM blasts GROUP BY state";
    for (state, n) in super::counts_by_state(conn, sql, [])? {
        counts.total += n;
        match state.as_str() {
            "draft" => counts.draft = n,
            "queued" => counts.queued = n,
            "running" => counts.running = n,
            "paused" => counts.paused = n,
            "completed" => counts.completed = n,
            "cancelled" => counts.cancelled = n,
            _ => {}
        }
    }
    Ok(counts)
}
