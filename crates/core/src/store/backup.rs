//! Backing up and restoring the whole store.
//!
//! A backup is a consistent copy of the database (SQLite's online backup,
//! safe while Blastdesk runs), written next to its target and renamed into
//! place. A restore first checks the file is a Blastdesk backup this version
//! can read (an SQLite file, Blastdesk's application id, not newer, intact),
//! and only then copies it over the live database in one step: a file that is
//! not a Blastdesk backup is refused and changes nothing.

use std::path::{Path, PathBuf};

use rusqlite::{OpenFlags, params};
use serde::Serialize;

use super::{Error, Result, Store, migrations};
use crate::reason::{DeliveryCode, PauseCode};

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
            super::file::copy_to(conn, &partial).map_err(|e| Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(e),
            })
        })
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&partial);
        })?;
        std::fs::rename(&partial, path).map_err(io)
    }

    /// Replaces the database with the backup at `path`, if it is one,
    /// without forgetting a message that went out: a backup cannot know what
    /// was sent after it was taken, so what the replaced database recorded
    /// is carried into the restored data first (see [`Restored`]), and the
    /// restored data is settled (see [`settle`]). All of it happens in a
    /// staging copy, which then replaces the database in one step: a
    /// failure on the way changes nothing. Nothing may be sending meanwhile
    /// (the caller owns the data folder and has stopped its engine).
    pub fn restore_from(&self, path: &Path, now_ms: i64) -> Result<Restored> {
        check_backup(path)?;
        let folder = match self.data_dir() {
            Some(folder) => folder.to_path_buf(),
            None => std::env::temp_dir(),
        };
        let staging = Staging::new(&folder, "restoring", now_ms);
        let replaced = Staging::new(&folder, "replaced-snapshot", now_ms);
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::copy(path, &staging.0).map_err(io(&staging.0))?;
        // From the snapshot to the swap, this store's connection is held:
        // nothing this process records in between can be left out.
        let restored = self.write(|live| {
            super::file::copy_to(live, &replaced.0).map_err(|e| Error::Io {
                path: replaced.0.clone(),
                source: std::io::Error::other(e),
            })?;
            let restored = {
                let mut conn = super::file::open(&staging.0, read_write())?;
                conn.pragma_update(None, "foreign_keys", true)?;
                // A backup from an older Blastdesk is brought up to date.
                migrations::migrate(&mut conn, migrations::ALL)?;
                conn.execute(
                    "ATTACH DATABASE ?1 AS replaced",
                    [super::file::sql_name(&replaced.0)],
                )?;
                let tx = conn.transaction()?;
                let carried = carry_forward(&tx, now_ms)?;
                let settled = settle(&tx, now_ms)?;
                tx.commit()?;
                conn.execute("DETACH DATABASE replaced", [])?;
                Restored { carried, settled }
            };
            super::file::copy_from(live, &staging.0).map_err(|e| Error::NotABackup {
                path: path.to_path_buf(),
                reason: format!("it could not be copied in ({e})"),
            })?;
            Ok(restored)
        })?;
        tracing::info!(?restored, "restored from a backup");
        Ok(restored)
    }
}

/// How a restore opens its staging copy: to change it, never to create it.
fn read_write() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// What a restore did besides putting the backup's data in place.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub carried: Carried,
    pub settled: Settled,
}

/// What the replaced database knew that the backup did not, carried in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Carried {
    /// Deliveries whose later fate (sent, failed, skipped, unknown) was
    /// taken from the replaced database.
    pub deliveries: u64,
    /// Accounts and blasts made after the backup was taken, kept whole.
    pub accounts: u64,
    pub blasts: u64,
    /// Numbers put on the do-not-contact list after the backup was taken.
    pub do_not_contact: u64,
}

/// How the restored data was made safe to go on from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settled {
    /// Blasts that were waiting, sending or paused, now paused (`restored`).
    pub paused: u64,
    /// Messages that were being handed over when the backup was taken and
    /// whose fate no record tells: unknown, for the person to decide.
    pub unknown: u64,
    /// Schedules whose due run had passed, recorded as missed.
    pub missed_runs: u64,
}

/// A file beside the database for the length of a restore, removed (with
/// its journal files) when dropped.
struct Staging(PathBuf);

impl Staging {
    fn new(folder: &Path, what: &str, now_ms: i64) -> Staging {
        let name = format!(
            "{}.{what}-{now_ms}-{}",
            super::FILE_NAME,
            std::process::id()
        );
        let staging = Staging(folder.join(name));
        staging.remove();
        staging
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            std::fs::remove_file(PathBuf::from(path)).ok();
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        self.remove();
    }
}

/// How far a delivery's state is along: a later state in the replaced
/// database wins over an earlier one in the backup, never the other way.
const RANK: &str = "CASE {s} WHEN 'sent' THEN 3 WHEN 'sending' THEN 2 WHEN 'unknown' THEN 2
                     WHEN 'failed' THEN 1 WHEN 'skipped' THEN 1 ELSE 0 END";

/// The columns of a table in `main`, as a list for `INSERT ... SELECT`.
fn columns(tx: &rusqlite::Transaction<'_>, table: &str) -> Result<Vec<String>> {
    let mut statement = tx.prepare(&format!("PRAGMA main.table_info({table})"))?;
    let names = statement.query_map([], |row| row.get::<_, String>(1))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// Copies the rows of `table` that `main` lacks from `replaced`: those
/// whose `key` is not in `main` and that pass `filter`. Returns how many.
fn copy_missing(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
    key: &str,
    filter: &str,
) -> Result<u64> {
    let list = columns(tx, table)?.join(", ");
    let sql = format!(
        "INSERT INTO main.{table} ({list}) SELECT {list} FROM replaced.{table} AS r
         WHERE r.{key} NOT IN (SELECT {key} FROM main.{table}) {filter}"
    );
    Ok(tx.execute(&sql, [])? as u64)
}

/// Carries into the restored data (`main`) what the replaced database
/// (`replaced`) recorded after the backup was taken: the fate of every
/// delivery both know (the one further along wins: a message recorded as
/// sent, or as being handed over, is never queued again), the accounts and
/// blasts made since (with their deliveries), the account's send log (so
/// pacing and caps count those sends), the do-not-contact list and the
/// schedules' recorded runs.
fn carry_forward(tx: &rusqlite::Transaction<'_>, now_ms: i64) -> Result<Carried> {
    let rank = |s: &str| RANK.replace("{s}", s);
    // Deliveries both databases hold: the same id, blast and number, in a
    // blast made at the same instant (a backup of another installation
    // shares ids, not history).
    let deliveries = tx.execute(
        &format!(
            "UPDATE main.deliveries AS d SET
                 state = CASE o.state WHEN 'sending' THEN 'unknown' ELSE o.state END,
                 attempts = max(d.attempts, o.attempts),
                 next_attempt_at = o.next_attempt_at,
                 rendered_text = coalesce(o.rendered_text, d.rendered_text),
                 error_code = CASE o.state WHEN 'sending' THEN 'restored' ELSE o.error_code END,
                 error_detail = CASE o.state
                     WHEN 'sending' THEN 'Was being sent when the backup was replaced'
                     ELSE o.error_detail END,
                 message_id = coalesce(o.message_id, d.message_id),
                 receipt = coalesce(o.receipt, d.receipt),
                 sent_at = coalesce(o.sent_at, d.sent_at),
                 delivered_at = coalesce(o.delivered_at, d.delivered_at),
                 read_at = coalesce(o.read_at, d.read_at),
                 updated_at = ?1
             FROM replaced.deliveries AS o
             JOIN replaced.blasts AS ob ON ob.id = o.blast_id
             JOIN main.blasts AS mb ON mb.id = o.blast_id AND mb.created_at = ob.created_at
             WHERE o.id = d.id AND o.blast_id = d.blast_id AND o.phone = d.phone
               AND {} > {}",
            rank("o.state"),
            rank("d.state")
        ),
        [now_ms],
    )? as u64;
    // What became of an account both know (linked, logged out, removed)
    // is what its session keys on disk now say.
    tx.execute(
        "UPDATE main.accounts AS a SET status = o.status, status_detail = o.status_detail,
             phone = o.phone, linked_at = o.linked_at, removed_at = o.removed_at
         FROM replaced.accounts AS o
         WHERE o.id = a.id AND o.created_at = a.created_at",
        [],
    )?;
    let accounts = copy_missing(tx, "accounts", "id", "")?;
    // The same account in both (a backup of another installation shares
    // ids, not accounts): what is carried for an account goes only to it.
    const SAME_ACCOUNT: &str = "(SELECT a.id FROM main.accounts AS a
        JOIN replaced.accounts AS o ON o.id = a.id AND o.created_at = a.created_at)";
    let blasts = copy_missing(
        tx,
        "blasts",
        "id",
        &format!("AND r.account_id IN {SAME_ACCOUNT}"),
    )?;
    // A blast both know that was cancelled or completed after the backup
    // stays so.
    tx.execute(
        "UPDATE main.blasts AS b SET state = o.state, completed_at = o.completed_at,
             pause_code = NULL, pause_reason = NULL
         FROM replaced.blasts AS o
         WHERE o.id = b.id AND o.created_at = b.created_at
           AND o.state IN ('cancelled', 'completed')
           AND b.state NOT IN ('cancelled', 'completed')",
        [],
    )?;
    // The deliveries of the blasts just copied (a delivery id the restored
    // data already uses gets a new one).
    let list = columns(tx, "deliveries")?;
    let values: Vec<String> = list
        .iter()
        .map(|c| match c.as_str() {
            "id" => "CASE WHEN r.id IN (SELECT id FROM main.deliveries) THEN NULL ELSE r.id END"
                .to_owned(),
            other => format!("r.{other}"),
        })
        .collect();
    tx.execute(
        &format!(
            "INSERT INTO main.deliveries ({}) SELECT {} FROM replaced.deliveries AS r
             WHERE r.blast_id IN (SELECT id FROM replaced.blasts)
               AND NOT EXISTS (SELECT 1 FROM main.deliveries m WHERE m.blast_id = r.blast_id)
               AND r.blast_id IN (SELECT id FROM main.blasts)
             -- Those keeping their id first: a new id then never takes one
             -- a later row keeps.
             ORDER BY r.id IN (SELECT id FROM main.deliveries), r.id",
            list.join(", "),
            values.join(", ")
        ),
        [],
    )?;
    // Receipts that came after the backup, for messages both know as sent.
    tx.execute(
        "UPDATE main.deliveries AS d SET
             receipt = o.receipt,
             delivered_at = coalesce(d.delivered_at, o.delivered_at),
             read_at = coalesce(d.read_at, o.read_at)
         FROM replaced.deliveries AS o
         JOIN replaced.blasts AS ob ON ob.id = o.blast_id
         JOIN main.blasts AS mb ON mb.id = o.blast_id AND mb.created_at = ob.created_at
         WHERE o.id = d.id AND o.blast_id = d.blast_id AND o.phone = d.phone
           AND d.state = 'sent' AND o.state = 'sent' AND o.receipt IS NOT NULL
           AND CASE o.receipt WHEN 'read' THEN 3 WHEN 'delivered' THEN 2 ELSE 1 END
             > CASE d.receipt WHEN 'read' THEN 3 WHEN 'delivered' THEN 2
                              WHEN 'server' THEN 1 ELSE 0 END",
        [],
    )?;
    // "Sent again": a delivery re-sent in a later blast is not re-sent twice.
    tx.execute(
        "UPDATE main.deliveries AS d SET resent_in = o.resent_in
         FROM replaced.deliveries AS o
         WHERE o.id = d.id AND o.blast_id = d.blast_id AND o.phone = d.phone
           AND d.resent_in IS NULL AND o.resent_in IN (SELECT id FROM main.blasts)",
        [],
    )?;
    tx.execute(
        &format!(
            "INSERT OR IGNORE INTO main.sends (account_id, at, delivery_id, attempt)
             SELECT account_id, at, delivery_id, attempt FROM replaced.sends
             WHERE account_id IN {SAME_ACCOUNT}"
        ),
        [],
    )?;
    let do_not_contact = tx.execute(
        "INSERT OR IGNORE INTO main.do_not_contact (phone, reason, note, added_at)
         SELECT phone, reason, note, added_at FROM replaced.do_not_contact",
        [],
    )? as u64;
    tx.execute(
        "INSERT OR IGNORE INTO main.schedule_runs
             (schedule_id, due_at, outcome, detail, blast_id, recorded_at)
         SELECT schedule_id, due_at, outcome, detail,
                CASE WHEN blast_id IN (SELECT id FROM main.blasts) THEN blast_id END, recorded_at
         FROM replaced.schedule_runs
         WHERE schedule_id IN (SELECT s.id FROM main.schedules AS s
             JOIN replaced.schedules AS o ON o.id = s.id AND o.created_at = s.created_at)",
        [],
    )?;
    // A schedule never goes back to a run the replaced database had passed.
    tx.execute(
        "UPDATE main.schedules AS s SET next_run_at = o.next_run_at
         FROM replaced.schedules AS o
         WHERE o.id = s.id AND o.created_at = s.created_at
           AND o.next_run_at > coalesce(s.next_run_at, 0)",
        [],
    )?;
    Ok(Carried {
        deliveries,
        accounts,
        blasts,
        do_not_contact,
    })
}

/// Makes restored data safe to go on from: every blast that was waiting,
/// sending or paused is paused as `restored` (one waiting for a decision
/// keeps waiting), for the person to look at and resume by hand; a
/// message that was being handed over becomes unknown; and every schedule
/// whose run is due moves to its next run after now, the passed one
/// recorded as missed (a restored schedule never runs a second time).
pub(crate) fn settle(tx: &rusqlite::Transaction<'_>, now_ms: i64) -> Result<Settled> {
    let unknown = super::blasts::step_all_in(
        tx,
        super::blasts::Scope::Everywhere,
        super::blasts::Step::MarkUnknown,
        Some((
            DeliveryCode::Restored,
            Some("Was being sent when the backup was taken"),
        )),
        now_ms,
    )?;
    let paused = tx.execute(
        "UPDATE blasts SET state = 'paused', pause_code = ?1, pause_reason = ?2
         WHERE state IN ('queued', 'running')
            OR (state = 'paused' AND coalesce(pause_code, '') <> ?3)",
        params![
            PauseCode::Restored,
            RESTORED_REASON,
            PauseCode::NeedsDecision
        ],
    )? as u64;
    let due: Vec<(i64, String, String, i64)> = {
        let mut statement = tx.prepare(
            "SELECT id, rule, time_zone, next_run_at FROM schedules
             WHERE enabled = 1 AND next_run_at <= ?1",
        )?;
        let rows = statement.query_map([now_ms], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut missed_runs = 0;
    for (id, rule, zone, due_at) in due {
        let next = serde_json::from_str::<crate::schedule::Rule>(&rule)
            .ok()
            .and_then(|rule| {
                let tz = crate::zone::parse(&zone).unwrap_or(chrono_tz::Tz::UTC);
                crate::schedule::next_run(&rule, tz, now_ms.max(due_at))
            });
        missed_runs += tx.execute(
            "INSERT OR IGNORE INTO schedule_runs (schedule_id, due_at, outcome, detail, recorded_at)
             VALUES (?1, ?2, 'missed', ?3, ?4)",
            params![id, due_at, "due before the backup was restored", now_ms],
        )? as u64;
        tx.execute(
            "UPDATE schedules SET next_run_at = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, next, now_ms],
        )?;
    }
    Ok(Settled {
        paused,
        unknown,
        missed_runs,
    })
}

const RESTORED_REASON: &str = "Restored from a backup. Messages may have gone out after the backup was taken that Blastdesk cannot know of: check the blast, then resume it.";

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
    // The database it replaces cannot be read, so nothing can be carried
    // over; the restored data is settled all the same.
    let settled = (|| -> Result<Settled> {
        let mut conn = super::file::open(&partial, read_write())?;
        migrations::migrate(&mut conn, migrations::ALL)?;
        let tx = conn.transaction()?;
        let settled = settle(&tx, now_ms)?;
        tx.commit()?;
        Ok(settled)
    })();
    let settled = match settled {
        Ok(settled) => settled,
        Err(error) => {
            Staging(partial.clone()).remove();
            return Err(error);
        }
    };
    tracing::info!(
        ?settled,
        "restored from a backup in place of an unreadable database"
    );
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

/// Refuses anything but an intact Blastdesk database this version can read
/// (a restore checks it again).
pub fn check_backup(path: &Path) -> Result<()> {
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
    let conn = super::file::open(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
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
