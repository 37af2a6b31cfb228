//! Blasts as the person sees and steers them: the list with counts, and
//! pause, resume, cancel, and the decision about messages of unknown fate.
//! Every change here is one transaction, so it survives a crash whole.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::blasts::{DeliveryCounts, OPTED_OUT, Scope, Step, step_all_in};
use super::{Error, Result, Store};
use crate::reason::{DeliveryCode, PauseCode};

crate::reason::codes! {
    /// Where a blast is.
    pub enum BlastState {
        Draft = "draft",
        Queued = "queued",
        Running = "running",
        Paused = "paused",
        Cancelled = "cancelled",
        Completed = "completed",
    }
}

impl BlastState {
    /// Completed or cancelled: nothing more is sent.
    pub fn is_finished(self) -> bool {
        matches!(self, BlastState::Completed | BlastState::Cancelled)
    }

    /// Waiting to start or sending.
    pub fn is_sending(self) -> bool {
        matches!(self, BlastState::Queued | BlastState::Running)
    }
}

/// A blast, with its deliveries counted by state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastSummary {
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    pub account_name: String,
    pub time_zone: String,
    /// queued, running, paused, cancelled or completed.
    pub state: BlastState,
    pub pause_code: Option<PauseCode>,
    pub pause_reason: Option<String>,
    pub simulated: bool,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub counts: DeliveryCounts,
    /// How many of the sent messages WhatsApp says arrived, and were read.
    pub receipts: Receipts,
    /// How many "Send again" would reach: failed or unknown, not sent again
    /// already, not on the do-not-contact list.
    pub resendable: u64,
}

/// Receipts of a blast's sent messages (a read message counts as delivered).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipts {
    pub delivered: u64,
    pub read: u64,
}

/// Counts receipts per blast: (blast_id, delivered, read).
const RECEIPTS: &str = "SELECT blast_id,
        count(*) FILTER (WHERE receipt IN ('delivered', 'read')),
        count(*) FILTER (WHERE receipt = 'read')
     FROM deliveries WHERE receipt IS NOT NULL";

fn receipts_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Receipts)> {
    let count = |i| row.get::<_, i64>(i).map(|n| u64::try_from(n).unwrap_or(0));
    Ok((
        row.get(0)?,
        Receipts {
            delivered: count(1)?,
            read: count(2)?,
        },
    ))
}

/// Why a blast was paused, as a code and in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseReason<'a> {
    pub code: PauseCode,
    pub reason: &'a str,
}

/// A blast sent again to those whose message failed or stayed unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resent {
    pub blast_id: i64,
    pub recipients: u64,
}

/// What the person decides about messages whose fate is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnknownDecision {
    /// Send them again (a recipient may get the message twice).
    Resend,
    /// Do not send them again; they end as skipped.
    LeaveUnsent,
}

const SUMMARY: &str = "SELECT b.id, b.name, b.account_id, a.name, a.time_zone, b.state,
        b.pause_code, b.pause_reason, b.simulated, b.created_at, b.started_at, b.completed_at
     FROM blasts b JOIN accounts a ON a.id = b.account_id";

fn summary_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<BlastSummary> {
    Ok(BlastSummary {
        id: row.get(0)?,
        name: row.get(1)?,
        account_id: row.get(2)?,
        account_name: row.get(3)?,
        time_zone: row.get(4)?,
        state: row.get(5)?,
        pause_code: row.get(6)?,
        pause_reason: row.get(7)?,
        simulated: row.get(8)?,
        created_at: row.get(9)?,
        started_at: row.get(10)?,
        completed_at: row.get(11)?,
        counts: DeliveryCounts::default(),
        receipts: Receipts::default(),
        resendable: 0,
    })
}

/// The deliveries "Send again" would reach, as a condition on `deliveries`.
const RESENDABLE: &str = "state IN ('failed', 'unknown') AND resent_in IS NULL
     AND phone NOT IN (SELECT phone FROM do_not_contact)";

impl Store {
    /// Every blast, newest first, with its counts.
    pub fn list_blasts(&self) -> Result<Vec<BlastSummary>> {
        self.read(|conn| {
            let mut blasts: Vec<BlastSummary> = conn
                .prepare(&format!("{SUMMARY} ORDER BY b.id DESC"))?
                .query_map([], summary_row)?
                .collect::<rusqlite::Result<_>>()?;
            let mut statement = conn.prepare(
                "SELECT blast_id, state, count(*) FROM deliveries GROUP BY blast_id, state",
            )?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
            for row in rows {
                let (blast_id, state, n) = row?;
                if let Some(blast) = blasts.iter_mut().find(|b| b.id == blast_id) {
                    blast.counts.add(&state, u64::try_from(n).unwrap_or(0));
                }
            }
            let mut statement = conn.prepare(&format!("{RECEIPTS} GROUP BY blast_id"))?;
            for row in statement.query_map([], receipts_row)? {
                let (blast_id, receipts) = row?;
                if let Some(blast) = blasts.iter_mut().find(|b| b.id == blast_id) {
                    blast.receipts = receipts;
                }
            }
            let mut statement = conn.prepare(&format!(
                "SELECT blast_id, count(*) FROM deliveries WHERE {RESENDABLE} GROUP BY blast_id"
            ))?;
            let rows = statement
                .query_map([], |row| Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?)))?;
            for row in rows {
                let (blast_id, n) = row?;
                if let Some(blast) = blasts.iter_mut().find(|b| b.id == blast_id) {
                    blast.resendable = u64::try_from(n).unwrap_or(0);
                }
            }
            Ok(blasts)
        })
    }

    /// One blast with its counts.
    pub fn blast_summary(&self, blast_id: i64) -> Result<BlastSummary> {
        let mut blast = self
            .read(|conn| {
                Ok(conn
                    .query_row(
                        &format!("{SUMMARY} WHERE b.id = ?1"),
                        [blast_id],
                        summary_row,
                    )
                    .optional()?)
            })?
            .ok_or(Error::BlastNotFound { blast_id })?;
        blast.counts = self.delivery_counts(blast_id)?;
        blast.receipts = self.read(|conn| {
            Ok(conn
                .query_row(
                    &format!("{RECEIPTS} AND blast_id = ?1 GROUP BY blast_id"),
                    [blast_id],
                    receipts_row,
                )
                .optional()?
                .map(|(_, receipts)| receipts)
                .unwrap_or_default())
        })?;
        blast.resendable = self.read(|conn| {
            let n: i64 = conn.query_row(
                &format!("SELECT count(*) FROM deliveries WHERE blast_id = ?1 AND {RESENDABLE}"),
                [blast_id],
                |row| row.get(0),
            )?;
            Ok(u64::try_from(n).unwrap_or(0))
        })?;
        Ok(blast)
    }

    /// A blast's state and, when paused, the pause code.
    pub(crate) fn blast_state(&self, blast_id: i64) -> Result<(BlastState, Option<PauseCode>)> {
        self.read(|conn| {
            conn.prepare_cached("SELECT state, pause_code FROM blasts WHERE id = ?1")?
                .query_row([blast_id], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()?
                .ok_or(Error::BlastNotFound { blast_id })
        })
    }

    /// Pauses a blast that is waiting or running. Pausing a paused blast
    /// records the newer reason.
    pub(crate) fn pause_blast(&self, blast_id: i64, why: &PauseReason<'_>) -> Result<()> {
        self.write(|conn| {
            let tx = unfinished(conn, blast_id, "paused")?;
            tx.execute(
                "UPDATE blasts SET state = 'paused', pause_code = ?2, pause_reason = ?3 WHERE id = ?1",
                params![blast_id, why.code, why.reason],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Pauses the blast only if it is waiting or running (a blast paused
    /// otherwise keeps its own reason), in one statement. Returns whether
    /// it was paused.
    pub(crate) fn pause_blast_if_sending(
        &self,
        blast_id: i64,
        why: &PauseReason<'_>,
    ) -> Result<bool> {
        self.write(|conn| {
            Ok(conn
                .prepare_cached(
                    "UPDATE blasts SET state = 'paused', pause_code = ?2, pause_reason = ?3
                     WHERE id = ?1 AND state IN ('queued', 'running')",
                )?
                .execute(params![blast_id, why.code, why.reason])?
                == 1)
        })
    }

    /// Pauses every waiting or running blast of an account. Returns their ids.
    pub(crate) fn pause_account_blasts(
        &self,
        account_id: i64,
        why: &PauseReason<'_>,
    ) -> Result<Vec<i64>> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let ids: Vec<i64> = tx
                .prepare(
                    "SELECT id FROM blasts WHERE account_id = ?1 AND state IN ('queued', 'running')
                     ORDER BY id",
                )?
                .query_map([account_id], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            tx.execute(
                "UPDATE blasts SET state = 'paused', pause_code = ?2, pause_reason = ?3
                 WHERE account_id = ?1 AND state IN ('queued', 'running')",
                params![account_id, why.code, why.reason],
            )?;
            tx.commit()?;
            Ok(ids)
        })
    }

    /// Lets a paused blast send again. Resuming a waiting or running blast
    /// changes nothing.
    pub(crate) fn resume_blast(&self, blast_id: i64) -> Result<()> {
        self.write(|conn| {
            let tx = unfinished(conn, blast_id, "resumed")?;
            tx.execute(
                "UPDATE blasts SET state = 'queued', pause_code = NULL, pause_reason = NULL
                 WHERE id = ?1 AND state = 'paused'",
                [blast_id],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Cancels a blast: what was not sent yet is skipped as "cancelled", in
    /// the same transaction. A message being handed over at this moment still
    /// gets its outcome recorded. Returns how many were skipped.
    pub(crate) fn cancel_blast(&self, blast_id: i64, now_ms: i64) -> Result<u64> {
        self.write(|conn| {
            let tx = unfinished(conn, blast_id, "cancelled")?;
            tx.execute(
                "UPDATE blasts SET state = 'cancelled', pause_code = NULL, pause_reason = NULL,
                     completed_at = ?2
                 WHERE id = ?1",
                params![blast_id, now_ms],
            )?;
            let skipped = step_all_in(
                &tx,
                Scope::Blast(blast_id),
                Step::Cancel,
                Some((DeliveryCode::Cancelled, None)),
                now_ms,
            )?;
            tx.commit()?;
            Ok(skipped)
        })
    }

    /// Applies the person's decision to every message of unknown fate in a
    /// blast, and lets the blast go on. Returns how many.
    pub(crate) fn decide_unknown(
        &self,
        blast_id: i64,
        decision: UnknownDecision,
        now_ms: i64,
    ) -> Result<u64> {
        self.write(|conn| {
            let tx = unfinished(conn, blast_id, "changed")?;
            let opted_out = leave_opted_out_unsent(&tx, blast_id, now_ms)?;
            let (step, reason) = match decision {
                UnknownDecision::Resend => (Step::Resend, None),
                UnknownDecision::LeaveUnsent => (
                    Step::LeaveUnsent,
                    Some((DeliveryCode::UnknownLeftUnsent, None)),
                ),
            };
            let changed =
                opted_out + step_all_in(&tx, Scope::Blast(blast_id), step, reason, now_ms)?;
            tx.execute(
                "UPDATE blasts SET state = 'queued', pause_code = NULL, pause_reason = NULL
                 WHERE id = ?1 AND state = 'paused' AND pause_code = ?2",
                params![blast_id, PauseCode::NeedsDecision],
            )?;
            tx.commit()?;
            Ok(changed)
        })
    }

    /// Sends a finished blast again to the recipients whose message failed
    /// or whose fate stayed unknown: a new blast with the same message,
    /// account and options, named after the first. Numbers put on the
    /// do-not-contact list since are left out. Each delivery is sent again
    /// at most once (`resent_in` names the new blast), so pressing "Send
    /// again" twice reaches no one twice; the unknown ones of the first
    /// blast end as skipped (`sent_again`), so no one is counted twice.
    pub fn resend_blast(&self, blast_id: i64, now_ms: i64) -> Result<Resent> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let (name, state): (String, BlastState) = tx
                .query_row(
                    "SELECT name, state FROM blasts WHERE id = ?1",
                    [blast_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?
                .ok_or(Error::BlastNotFound { blast_id })?;
            if !state.is_finished() {
                return Err(Error::Invalid {
                    reason: format!(
                        "\"{name}\" is still {state}; send again once it has finished (messages of unknown fate are decided on the blast itself)"
                    ),
                });
            }
            let again_where = format!("blast_id = ?1 AND {RESENDABLE}");
            let again = format!("{name} (again)");
            tx.execute(
                "INSERT INTO blasts (account_id, name, template, options, state, simulated, created_at)
                 SELECT account_id, ?2, template, options, 'queued', simulated, ?3
                 FROM blasts WHERE id = ?1",
                params![blast_id, again, now_ms],
            )?;
            let new_id = tx.last_insert_rowid();
            let recipients = tx.execute(
                &format!(
                    "INSERT INTO deliveries (blast_id, phone, fields, source, updated_at)
                     SELECT ?2, phone, fields, source, ?3 FROM deliveries WHERE {again_where} ORDER BY id"
                ),
                params![blast_id, new_id, now_ms],
            )? as u64;
            if recipients == 0 {
                return Err(Error::Invalid {
                    reason: format!(
                        "everyone of \"{name}\" whose message failed or stayed unknown has been sent it again already, or said STOP; there is no one to send again to"
                    ),
                });
            }
            tx.execute(
                &format!("UPDATE deliveries SET resent_in = ?2 WHERE {again_where}"),
                params![blast_id, new_id],
            )?;
            leave_opted_out_unsent(&tx, blast_id, now_ms)?;
            let detail = format!("Sent again in blast {new_id}");
            step_all_in(
                &tx,
                Scope::Blast(blast_id),
                Step::SentAgain,
                Some((DeliveryCode::SentAgain, Some(&detail))),
                now_ms,
            )?;
            tx.commit()?;
            Ok(Resent {
                blast_id: new_id,
                recipients,
            })
        })
    }

    /// The oldest blast of an account that is waiting or running.
    pub(crate) fn next_blast_for_account(&self, account_id: i64) -> Result<Option<i64>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id FROM blasts WHERE account_id = ?1 AND state IN ('queued', 'running')
                     ORDER BY id LIMIT 1",
                    [account_id],
                    |row| row.get(0),
                )
                .optional()?)
        })
    }
}

/// A message of unknown fate to a number that said STOP since is not sent
/// again, whatever is decided: it ends skipped, for that reason. Returns how many.
fn leave_opted_out_unsent(
    tx: &rusqlite::Transaction<'_>,
    blast_id: i64,
    now_ms: i64,
) -> Result<u64> {
    step_all_in(
        tx,
        Scope::OptedOutIn(blast_id),
        Step::LeaveUnsent,
        Some(OPTED_OUT),
        now_ms,
    )
}

/// Starts a transaction on a blast that is neither completed nor cancelled.
fn unfinished<'c>(
    conn: &'c mut rusqlite::Connection,
    blast_id: i64,
    action: &'static str,
) -> Result<rusqlite::Transaction<'c>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let state: BlastState = tx
        .query_row(
            "SELECT state FROM blasts WHERE id = ?1",
            [blast_id],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(Error::BlastNotFound { blast_id })?;
    if state.is_finished() {
        return Err(Error::BlastFinished {
            blast_id,
            state: state.to_string(),
            action,
        });
    }
    Ok(tx)
}
