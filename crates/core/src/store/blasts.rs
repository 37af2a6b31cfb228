//! Blasts and their deliveries.
//!
//! A blast is written together with one delivery per recipient, in one
//! transaction. Each delivery moves through a state machine whose every step
//! is a guarded `UPDATE` (it happens only from the states it may come from),
//! and only the engine takes those steps:
//!
//! ```text
//! queued ──> sending ──> sent
//!   ^  │        │ ├────> retry_wait ──> sending ...
//!   │  │        │ ├────> failed
//!   │  │        │ └────> queued      (the account could not send: not an attempt)
//!   │  └──> skipped                  (missing value, not on WhatsApp, cancelled)
//!   │      sending ──> unknown       (found so after a crash: never re-sent silently)
//!   └──────── unknown                (only when the person chooses to re-send)
//!             unknown ──> skipped    (left unsent, or sent again in a new blast)
//! ```
//!
//! The do-not-contact list is part of the guard: the intent to send, and a
//! re-send, are refused for a number on it, and the intent's refusal skips
//! the delivery in the same transaction. No path can hand an opted-out
//! number to a messenger.
//!
//! Progress is counted from the deliveries' states, never kept as a number
//! of its own; a blast is complete when sent + failed + skipped = total, and
//! that moment is recorded exactly once.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Error, Result, Store};
use crate::audience::Recipient;
use crate::blast::BlastOptions;
use crate::reason::DeliveryCode;

/// A blast as written, once [`crate::blast::create`] has checked it.
#[derive(Debug, Clone)]
pub(crate) struct BlastRecord<'a> {
    pub account_id: i64,
    pub name: &'a str,
    pub template: &'a str,
    pub options: &'a BlastOptions,
    pub simulated: bool,
    pub recipients: &'a [Recipient],
}

/// Deliveries of a blast by state, counted from the deliveries themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryCounts {
    pub total: u64,
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub retry_wait: u64,
    pub failed: u64,
    pub skipped: u64,
    pub unknown: u64,
}

impl DeliveryCounts {
    /// Final outcomes: sent, failed for good, skipped.
    pub fn finished(&self) -> u64 {
        self.sent + self.failed + self.skipped
    }

    /// Adds `n` deliveries in `state`.
    pub(crate) fn add(&mut self, state: &str, n: u64) {
        self.total += n;
        let slot = match state {
            "queued" => &mut self.queued,
            "sending" => &mut self.sending,
            "sent" => &mut self.sent,
            "retry_wait" => &mut self.retry_wait,
            "failed" => &mut self.failed,
            "skipped" => &mut self.skipped,
            "unknown" => &mut self.unknown,
            _ => return,
        };
        *slot += n;
    }

    /// Not yet sent, but will be: queued, in hand, or waiting to retry.
    pub fn pending(&self) -> u64 {
        self.queued + self.sending + self.retry_wait
    }

    /// Every delivery has a final outcome.
    pub fn is_complete(&self) -> bool {
        self.total > 0 && self.finished() == self.total
    }
}

crate::reason::codes! {
    /// A state a delivery can be in.
    pub enum DeliveryState {
        Queued = "queued",
        Sending = "sending",
        Sent = "sent",
        RetryWait = "retry_wait",
        Failed = "failed",
        Skipped = "skipped",
        Unknown = "unknown",
    }
}

/// A step of the state machine: where it may start, where it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Intent recorded before the message is handed to the messenger.
    StartSending,
    Sent,
    RetryLater,
    Fail,
    /// The account could not send; the attempt does not count.
    BackToQueue,
    Skip,
    /// A message in flight when the app stopped: its fate is unknown.
    MarkUnknown,
    /// The person chose to send an unknown one again, in its own blast.
    Resend,
    /// The person chose not to re-send an unknown one: it ends skipped.
    LeaveUnsent,
    /// An unknown one is sent again in a new blast: here it ends skipped.
    SentAgain,
    /// The blast was cancelled before this one was sent.
    Cancel,
    /// WhatsApp refused a message after taking it (a nack): it reached no one.
    Refused,
}

impl Step {
    fn allowed_from(self) -> &'static [DeliveryState] {
        use DeliveryState::*;
        match self {
            Step::StartSending => &[Queued, RetryWait],
            Step::Sent | Step::RetryLater | Step::Fail | Step::BackToQueue | Step::MarkUnknown => {
                &[Sending]
            }
            Step::Skip | Step::Cancel => &[Queued, RetryWait],
            Step::Resend | Step::LeaveUnsent | Step::SentAgain => &[Unknown],
            Step::Refused => &[Sent],
        }
    }

    /// Whether the step is refused for a number on the do-not-contact list:
    /// the steps that lead to a message being handed over.
    fn guards_do_not_contact(self) -> bool {
        matches!(self, Step::StartSending | Step::Resend)
    }

    fn target(self) -> DeliveryState {
        match self {
            Step::StartSending => DeliveryState::Sending,
            Step::Sent => DeliveryState::Sent,
            Step::RetryLater => DeliveryState::RetryWait,
            Step::Fail | Step::Refused => DeliveryState::Failed,
            Step::BackToQueue | Step::Resend => DeliveryState::Queued,
            Step::Skip | Step::LeaveUnsent | Step::SentAgain | Step::Cancel => {
                DeliveryState::Skipped
            }
            Step::MarkUnknown => DeliveryState::Unknown,
        }
    }
}

/// How hard a write insists on reaching the disk before it returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives the app crashing (WAL, synchronous=NORMAL).
    Normal,
    /// Also survives the computer losing power (synchronous=FULL): for the
    /// intent to hand a real message over.
    PowerSafe,
}

/// What a step records besides the new state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepDetails {
    pub error_code: Option<DeliveryCode>,
    pub error_detail: Option<String>,
    pub message_id: Option<String>,
    pub next_attempt_at: Option<i64>,
    pub rendered_text: Option<String>,
}

impl Store {
    /// Writes a blast and one queued delivery per recipient, all or nothing;
    /// those whose number is on the do-not-contact list are skipped at once.
    /// Returns the blast's id and how many were skipped. (Blasts are created
    /// with [`crate::blast::create`], which checks them first.)
    pub(crate) fn create_blast(&self, blast: &BlastRecord<'_>, now_ms: i64) -> Result<(i64, u64)> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO blasts (account_id, name, template, options, state, simulated, created_at)
                 VALUES (?1, ?2, ?3, ?4, 'queued', ?5, ?6)",
                params![
                    blast.account_id,
                    blast.name,
                    blast.template,
                    blast.options,
                    blast.simulated,
                    now_ms
                ],
            )?;
            let blast_id = tx.last_insert_rowid();
            {
                let mut insert = tx.prepare(
                    "INSERT INTO deliveries (blast_id, phone, fields, source, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for recipient in blast.recipients {
                    insert.execute(params![
                        blast_id,
                        recipient.phone.as_str(),
                        super::to_json(&recipient.fields)?,
                        super::to_json(&recipient.source)?,
                        now_ms
                    ])?;
                }
            }
            let opted_out = step_all_in(
                &tx,
                Scope::OptedOutIn(blast_id),
                Step::Skip,
                Some(OPTED_OUT),
                now_ms,
            )?;
            tx.commit()?;
            Ok((blast_id, opted_out))
        })
    }

    /// Counts a blast's deliveries by state.
    pub fn delivery_counts(&self, blast_id: i64) -> Result<DeliveryCounts> {
        self.read(|conn| {
            let mut counts = DeliveryCounts::default();
            let sql = "SELECT state, count(*) FROM deliveries WHERE blast_id = ?1 GROUP BY state";
            for (state, n) in super::counts_by_state(conn, sql, [blast_id])? {
                counts.add(&state, n);
            }
            Ok(counts)
        })
    }

    /// Takes one step of a delivery's state machine. Fails, changing nothing,
    /// if the delivery is not in a state the step may start from. (The
    /// engine takes its steps with [`Store::take_steps`].)
    #[cfg(test)]
    pub(crate) fn step_delivery(
        &self,
        delivery_id: i64,
        step: Step,
        details: &StepDetails,
        now_ms: i64,
    ) -> Result<()> {
        let request = StepRequest {
            delivery_id,
            step,
            details,
            at_ms: now_ms,
        };
        if self.take_steps(&[request], Durability::Normal)?[0] {
            return Ok(());
        }
        let state: Option<String> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT state FROM deliveries WHERE id = ?1",
                    [delivery_id],
                    |row| row.get(0),
                )
                .optional()?)
        })?;
        Err(Error::InvalidStep {
            delivery_id,
            step: format!("{step:?}"),
            state: state.unwrap_or_else(|| "missing".into()),
        })
    }

    /// Takes several steps in one transaction; returns which were taken. A
    /// step is taken only from a state it may start from; recording the
    /// intent to send ([`Step::StartSending`]) also requires the blast to be
    /// waiting or running: no message is handed over for a paused or
    /// cancelled blast, whatever the caller believed.
    pub(crate) fn take_steps(
        &self,
        steps: &[StepRequest<'_>],
        durability: Durability,
    ) -> Result<Vec<bool>> {
        self.write(|conn| {
            let power_safe = durability == Durability::PowerSafe;
            if power_safe {
                conn.pragma_update(None, "synchronous", "FULL")?;
            }
            let taken = (|| {
                let tx =
                    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let mut taken = Vec::with_capacity(steps.len());
                for request in steps {
                    taken.push(step_in(&tx, request)?);
                }
                tx.commit()?;
                Ok(taken)
            })();
            if power_safe {
                conn.pragma_update(None, "synchronous", "NORMAL")?;
            }
            taken
        })
    }

    /// After a crash: every delivery still "sending" becomes "unknown".
    /// Returns how many.
    pub(crate) fn mark_in_flight_unknown(&self, now_ms: i64) -> Result<u64> {
        self.write(|conn| step_all_in(conn, Scope::Everywhere, Step::MarkUnknown, None, now_ms))
    }

    /// After a store error stopped an account's worker: its deliveries still
    /// "being sent" had their outcome lost with the error. Returns how many.
    pub(crate) fn mark_account_in_flight_unknown(
        &self,
        account_id: i64,
        now_ms: i64,
    ) -> Result<u64> {
        self.write(|conn| {
            step_all_in(
                conn,
                Scope::Account(account_id),
                Step::MarkUnknown,
                Some((
                    DeliveryCode::StoreError,
                    Some("Its outcome could not be recorded when Blastdesk's data failed"),
                )),
                now_ms,
            )
        })
    }

    /// Records the blast complete if every delivery is final. True only for
    /// the one call that recorded it: completion is observed exactly once.
    pub(crate) fn complete_if_done(&self, blast_id: i64, now_ms: i64) -> Result<bool> {
        self.write(|conn| {
            let changed = conn
                .prepare_cached(
                    "UPDATE blasts SET state = 'completed', completed_at = ?2
                 WHERE id = ?1 AND completed_at IS NULL AND state <> 'cancelled'
                   AND EXISTS (SELECT 1 FROM deliveries WHERE blast_id = ?1)
                   AND NOT EXISTS (SELECT 1 FROM deliveries WHERE blast_id = ?1
                                   AND state IN ('queued', 'sending', 'retry_wait', 'unknown'))",
                )?
                .execute(params![blast_id, now_ms])?;
            Ok(changed == 1)
        })
    }
}

/// What WhatsApp reported back about a sent message, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    /// The server accepted it.
    Server,
    /// It reached the recipient's phone.
    Delivered,
    /// The recipient opened it.
    Read,
}

impl Receipt {
    fn as_str(self) -> &'static str {
        match self {
            Receipt::Server => "server",
            Receipt::Delivered => "delivered",
            Receipt::Read => "read",
        }
    }
}

impl Store {
    /// Records a receipt for the sent message with this id. Receipts only move
    /// forward (a late "delivered" after "read" changes nothing); "read"
    /// implies "delivered". Returns whether anything changed.
    pub fn record_receipt(&self, message_id: &str, receipt: Receipt, at_ms: i64) -> Result<bool> {
        const RANK: &str = "CASE receipt WHEN 'server' THEN 1 WHEN 'delivered' THEN 2 WHEN 'read' THEN 3 ELSE 0 END";
        let rank = receipt as i64 + 1;
        self.write(|conn| {
            let changed = conn
                .prepare_cached(&format!(
                    "UPDATE deliveries SET receipt = ?2,
                         delivered_at = CASE WHEN ?3 >= 2 THEN coalesce(delivered_at, ?4) ELSE delivered_at END,
                         read_at = CASE WHEN ?3 >= 3 THEN coalesce(read_at, ?4) ELSE read_at END
                     WHERE message_id = ?1 AND state = 'sent' AND {RANK} < ?3"
                ))?
                .execute(params![message_id, receipt.as_str(), rank, at_ms])?;
            Ok(changed > 0)
        })
    }

    /// WhatsApp refused a message of this account that it had taken (a
    /// nack): it reached no one, so its delivery fails, with WhatsApp's code
    /// in the detail. Returns the delivery's blast and id, or `None` when
    /// no sent message of the account has that id (already refused, or not
    /// one of Blastdesk's).
    pub fn refuse_sent(
        &self,
        account_id: i64,
        message_id: &str,
        detail: &str,
        now_ms: i64,
    ) -> Result<Option<(i64, i64)>> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let found: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT d.blast_id, d.id FROM deliveries AS d JOIN blasts AS b ON b.id = d.blast_id
                     WHERE d.message_id = ?1 AND b.account_id = ?2 AND d.state = 'sent'",
                    params![message_id, account_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((blast_id, delivery_id)) = found else {
                return Ok(None);
            };
            step_all_in(
                &tx,
                Scope::Delivery(delivery_id),
                Step::Refused,
                Some((DeliveryCode::Refused, Some(detail))),
                now_ms,
            )?;
            tx.commit()?;
            Ok(Some((blast_id, delivery_id)))
        })
    }
}

/// What the engine needs to know of a blast.
#[derive(Debug, Clone)]
pub struct BlastToRun {
    pub id: i64,
    pub account_id: i64,
    pub template: String,
    /// The options, or why they cannot be read (a damaged row): the engine
    /// pauses that blast rather than failing the account's worker.
    pub options: std::result::Result<BlastOptions, String>,
    pub state: super::runs::BlastState,
    pub numbers_checked_at: Option<i64>,
}

/// The next delivery the engine should send.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub phone: crate::phone::Phone,
    pub fields: crate::audience::Fields,
    pub attempts: u32,
}

impl Store {
    pub fn blast_to_run(&self, blast_id: i64) -> Result<BlastToRun> {
        self.read(|conn| {
            conn.query_row(
                "SELECT id, account_id, template, options, state, numbers_checked_at FROM blasts WHERE id = ?1",
                [blast_id],
                |row| {
                    Ok(BlastToRun {
                        id: row.get(0)?,
                        account_id: row.get(1)?,
                        template: row.get(2)?,
                        options: {
                            let text: String = row.get(3)?;
                            serde_json::from_str(&text).map_err(|e| e.to_string())
                        },
                        state: row.get(4)?,
                        numbers_checked_at: row.get(5)?,
                    })
                },
            )
            .optional()?
            .ok_or(Error::BlastNotFound { blast_id })
        })
    }

    /// Up to `limit` deliveries that are queued, or waiting to retry and due
    /// at `now_ms`, oldest first.
    pub(crate) fn due_deliveries(
        &self,
        blast_id: i64,
        now_ms: i64,
        limit: usize,
    ) -> Result<Vec<DueDelivery>> {
        // One lookup per state, each in the (blast_id, state) index's order:
        // constant work per delivery, however far the blast has got.
        const QUEUED: &str = "SELECT id, phone, fields, attempts FROM deliveries
             WHERE blast_id = ?1 AND state = 'queued' ORDER BY id LIMIT ?2";
        const DUE_RETRY: &str = "SELECT id, phone, fields, attempts FROM deliveries
             WHERE blast_id = ?1 AND state = 'retry_wait' AND next_attempt_at <= ?3
             ORDER BY id LIMIT ?2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut due = Vec::new();
            let queued: [&dyn rusqlite::ToSql; 2] = [&blast_id, &limit];
            let retry: [&dyn rusqlite::ToSql; 3] = [&blast_id, &limit, &now_ms];
            for (sql, args) in [(QUEUED, &queued[..]), (DUE_RETRY, &retry[..])] {
                let mut statement = conn.prepare_cached(sql)?;
                let rows = statement.query_map(args, |row| {
                    let phone: String = row.get(1)?;
                    let fields: String = row.get(2)?;
                    Ok(DueDelivery {
                        id: row.get(0)?,
                        phone: crate::phone::Phone::from_e164_unchecked(phone),
                        fields: serde_json::from_str(&fields).unwrap_or_default(),
                        attempts: row.get(3)?,
                    })
                })?;
                for row in rows {
                    due.push(row?);
                }
            }
            due.sort_by_key(|d| d.id);
            due.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Ok(due)
        })
    }

    /// When the next waiting retry of a blast is due, if any.
    pub(crate) fn next_retry_at(&self, blast_id: i64) -> Result<Option<i64>> {
        self.read(|conn| {
            Ok(conn.query_row(
                "SELECT min(next_attempt_at) FROM deliveries WHERE blast_id = ?1 AND state = 'retry_wait'",
                [blast_id],
                |row| row.get(0),
            )?)
        })
    }

    /// Queued deliveries with an id above `after`, oldest first, at most `limit`.
    pub(crate) fn queued_after(
        &self,
        blast_id: i64,
        after: i64,
        limit: usize,
    ) -> Result<Vec<(i64, crate::phone::Phone)>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, phone FROM deliveries WHERE blast_id = ?1 AND state = 'queued' AND id > ?2
                 ORDER BY id LIMIT ?3",
            )?;
            let rows = statement.query_map(params![blast_id, after, limit], |row| {
                Ok((
                    row.get(0)?,
                    crate::phone::Phone::from_e164_unchecked(row.get::<_, String>(1)?),
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Records that a blast's numbers were checked.
    pub(crate) fn mark_numbers_checked(&self, blast_id: i64, now_ms: i64) -> Result<()> {
        self.write(|conn| {
            conn.execute(
                "UPDATE blasts SET numbers_checked_at = ?2 WHERE id = ?1",
                params![blast_id, now_ms],
            )?;
            Ok(())
        })
    }

    /// Marks a waiting blast as running (a paused or finished one stays as it is).
    pub(crate) fn mark_running(&self, blast_id: i64, now_ms: i64) -> Result<()> {
        self.write(|conn| {
            conn.prepare_cached(
                "UPDATE blasts SET state = 'running', started_at = coalesce(started_at, ?2)
                 WHERE id = ?1 AND state IN ('queued', 'running')",
            )?
            .execute(params![blast_id, now_ms])?;
            Ok(())
        })
    }
}

/// Which deliveries [`step_all_in`] considers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// Every delivery of a blast.
    Blast(i64),
    /// The deliveries of a blast whose number is on the do-not-contact list.
    OptedOutIn(i64),
    /// One delivery.
    Delivery(i64),
    /// One delivery, if its number is on the do-not-contact list.
    OptedOutDelivery(i64),
    /// A number's deliveries in every blast that has not finished.
    Number(&'a str),
    /// The deliveries of an account's blasts.
    Account(i64),
    /// Every delivery (recovery after a crash).
    Everywhere,
}

/// The guard that keeps a number on the do-not-contact list from being sent to.
const NOT_OPTED_OUT: &str = "AND deliveries.phone NOT IN (SELECT phone FROM do_not_contact)";

/// Takes one step for every delivery in `scope` that may take it, in one
/// statement inside the caller's transaction, recording `reason` (a code,
/// and maybe its words) as the reason. Returns how many.
pub(crate) fn step_all_in(
    conn: &rusqlite::Connection,
    scope: Scope<'_>,
    step: Step,
    reason: Option<(DeliveryCode, Option<&str>)>,
    now_ms: i64,
) -> Result<u64> {
    let from: Vec<&str> = step.allowed_from().iter().map(|s| s.as_str()).collect();
    let placeholders = vec!["?"; from.len()].join(", ");
    let (scope_sql, scope_value): (&str, Box<dyn rusqlite::ToSql + '_>) = match scope {
        Scope::Blast(id) => ("blast_id = ?5", Box::new(id)),
        Scope::OptedOutIn(id) => (
            "blast_id = ?5 AND phone IN (SELECT phone FROM do_not_contact)",
            Box::new(id),
        ),
        Scope::Delivery(id) => ("id = ?5", Box::new(id)),
        Scope::OptedOutDelivery(id) => (
            "id = ?5 AND phone IN (SELECT phone FROM do_not_contact)",
            Box::new(id),
        ),
        Scope::Number(phone) => (
            "phone = ?5 AND blast_id IN (SELECT id FROM blasts
                                         WHERE state NOT IN ('completed', 'cancelled'))",
            Box::new(phone),
        ),
        Scope::Account(id) => (
            "blast_id IN (SELECT id FROM blasts WHERE account_id = ?5)",
            Box::new(id),
        ),
        Scope::Everywhere => ("?5 IS NULL", Box::new(rusqlite::types::Null)),
    };
    let guard = if step.guards_do_not_contact() {
        NOT_OPTED_OUT
    } else {
        ""
    };
    let sql = format!(
        "UPDATE deliveries SET state = ?1, error_code = ?2, error_detail = ?3,
             next_attempt_at = NULL, updated_at = ?4
         WHERE {scope_sql} AND state IN ({placeholders}) {guard}"
    );
    let target = step.target().as_str();
    let (code, detail) = reason.unzip();
    let detail = detail.flatten();
    let mut values: Vec<&dyn rusqlite::ToSql> =
        vec![&target, &code, &detail, &now_ms, scope_value.as_ref()];
    values.extend(from.iter().map(|s| s as &dyn rusqlite::ToSql));
    Ok(conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))? as u64)
}

/// The reason recorded for a message not sent because its number is on the
/// do-not-contact list.
pub(crate) const OPTED_OUT: (DeliveryCode, Option<&str>) = (
    DeliveryCode::DoNotContact,
    Some("On the do-not-contact list"),
);

/// One step for [`Store::take_steps`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepRequest<'a> {
    pub delivery_id: i64,
    pub step: Step,
    pub details: &'a StepDetails,
    pub at_ms: i64,
}

/// Takes one step inside the caller's transaction; returns whether it was taken.
fn step_in(conn: &rusqlite::Connection, request: &StepRequest<'_>) -> Result<bool> {
    let StepRequest {
        delivery_id,
        step,
        details,
        at_ms: now_ms,
    } = *request;
    let from = step.allowed_from();
    let placeholders = vec!["?"; from.len()].join(", ");
    let blast_guard = if step == Step::StartSending {
        "AND EXISTS (SELECT 1 FROM blasts b WHERE b.id = deliveries.blast_id
                         AND b.state IN ('queued', 'running'))"
    } else {
        ""
    };
    let opt_out_guard = if step.guards_do_not_contact() {
        NOT_OPTED_OUT
    } else {
        ""
    };
    let sql = format!(
        "UPDATE deliveries SET
             state = ?1,
             attempts = attempts + ?2,
             error_code = coalesce(?3, CASE WHEN ?1 IN ('sent', 'queued') THEN NULL ELSE error_code END),
             error_detail = coalesce(?4, CASE WHEN ?1 IN ('sent', 'queued') THEN NULL ELSE error_detail END),
             message_id = coalesce(?5, message_id),
             next_attempt_at = ?6,
             rendered_text = coalesce(?7, rendered_text),
             sent_at = CASE WHEN ?1 = 'sent' THEN ?8 ELSE sent_at END,
             updated_at = ?8
         WHERE id = ?9 AND state IN ({placeholders}) {blast_guard} {opt_out_guard}"
    );
    let counts_as_attempt = i64::from(step == Step::StartSending);
    let undo_attempt = -i64::from(step == Step::BackToQueue);
    let target = step.target().as_str();
    let attempts = counts_as_attempt + undo_attempt;
    let mut values: Vec<&dyn rusqlite::ToSql> = vec![
        &target,
        &attempts,
        &details.error_code,
        &details.error_detail,
        &details.message_id,
        &details.next_attempt_at,
        &details.rendered_text,
        &now_ms,
        &delivery_id,
    ];
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    values.extend(from.iter().map(|s| s as &dyn rusqlite::ToSql));
    let changed = conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(values))?;
    if changed == 0 && step == Step::StartSending {
        // Refused because the number said STOP since the blast was made:
        // the delivery ends skipped, in the same transaction.
        step_all_in(
            conn,
            Scope::OptedOutDelivery(delivery_id),
            Step::Skip,
            Some(OPTED_OUT),
            now_ms,
        )?;
    }
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::audience::{Fields, Source};
    use crate::phone::Phone;
    use crate::store::AccountKind;

    fn recipients(n: usize) -> Vec<Recipient> {
        (0..n)
            .map(|i| Recipient {
                phone: Phone::from_e164_unchecked(format!("+62812{i:08}")),
                fields: Fields::new(vec![(Arc::from("nama"), format!("Customer {i}"))]),
                source: Source::Audience {
                    audience: Arc::from("Regulars"),
                },
            })
            .collect()
    }

    fn blast(store: &Store, recipients: &[Recipient]) -> Result<i64> {
        let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", 0)?;
        let (blast_id, _) = store.create_blast(
            &BlastRecord {
                account_id: account,
                name: "Promo",
                template: "Hi {nama}",
                options: &BlastOptions::default(),
                simulated: true,
                recipients,
            },
            1,
        )?;
        Ok(blast_id)
    }

    fn delivery_ids(store: &Store, blast_id: i64) -> Result<Vec<i64>> {
        store.read(|conn| {
            let mut statement =
                conn.prepare("SELECT id FROM deliveries WHERE blast_id = ?1 ORDER BY id")?;
            let ids = statement.query_map([blast_id], |row| row.get(0))?;
            Ok(ids.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn force_state(store: &Store, id: i64, state: DeliveryState) -> Result<()> {
        store.write(|conn| {
            conn.execute(
                "UPDATE deliveries SET state = ?1 WHERE id = ?2",
                params![state.as_str(), id],
            )?;
            Ok(())
        })
    }

    /// A nack after the send was recorded: the delivery fails with the
    /// detail, once, and only a sent message of that account is touched.
    #[test]
    fn a_message_refused_after_it_was_sent_fails_its_delivery_once() -> Result<()> {
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(2))?;
        let account = store.blast_summary(id)?.account_id;
        let [first, second] = delivery_ids(&store, id)?[..] else {
            return Err(Error::Invalid {
                reason: "two deliveries".into(),
            });
        };
        for delivery in [first, second] {
            store.step_delivery(delivery, Step::StartSending, &StepDetails::default(), 2)?;
        }
        let sent = StepDetails {
            message_id: Some("3EB0AA".into()),
            ..StepDetails::default()
        };
        store.step_delivery(first, Step::Sent, &sent, 3)?;
        let detail = "WhatsApp refused this message (code 479); it reached no one.";
        assert_eq!(store.refuse_sent(account + 1, "3EB0AA", detail, 4)?, None);
        assert_eq!(
            store.refuse_sent(account, "3EB0AA", detail, 4)?,
            Some((id, first))
        );
        assert_eq!(store.refuse_sent(account, "3EB0AA", detail, 5)?, None);
        let counts = store.delivery_counts(id)?;
        assert_eq!((counts.failed, counts.sent, counts.sending), (1, 0, 1));
        let (code, stored): (DeliveryCode, String) = store.read(|conn| {
            Ok(conn.query_row(
                "SELECT error_code, error_detail FROM deliveries WHERE id = ?1",
                [first],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )?)
        })?;
        assert_eq!((code, stored.as_str()), (DeliveryCode::Refused, detail));
        Ok(())
    }

    #[test]
    fn a_blast_and_its_deliveries_are_written_together_or_not_at_all() -> Result<()> {
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(250))?;
        let counts = store.delivery_counts(id)?;
        assert_eq!((counts.total, counts.queued), (250, 250));

        // A duplicate number breaks the blast's uniqueness rule: nothing is written.
        let mut twice = recipients(3);
        twice.push(twice[0].clone());
        assert!(blast(&store, &twice).is_err());
        let blasts: i64 = store
            .read(|conn| Ok(conn.query_row("SELECT count(*) FROM blasts", [], |r| r.get(0))?))?;
        let deliveries: i64 = store.read(|conn| {
            Ok(conn.query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))?)
        })?;
        assert_eq!((blasts, deliveries), (1, 250));
        Ok(())
    }

    #[test]
    fn each_step_is_taken_only_from_the_states_it_may_come_from() -> Result<()> {
        use DeliveryState::*;
        let all = [Queued, Sending, Sent, RetryWait, Failed, Skipped, Unknown];
        let steps = [
            Step::StartSending,
            Step::Sent,
            Step::RetryLater,
            Step::Fail,
            Step::BackToQueue,
            Step::Skip,
            Step::MarkUnknown,
            Step::Resend,
            Step::LeaveUnsent,
            Step::SentAgain,
            Step::Cancel,
            Step::Refused,
        ];
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(1))?;
        let delivery = delivery_ids(&store, id)?[0];
        for step in steps {
            for from in all {
                force_state(&store, delivery, from)?;
                let allowed = step.allowed_from().contains(&from);
                let result = store.step_delivery(delivery, step, &StepDetails::default(), 5);
                assert_eq!(
                    result.is_ok(),
                    allowed,
                    "{step:?} from {from:?}: {result:?}"
                );
                let now: String = store.read(|c| {
                    Ok(c.query_row(
                        "SELECT state FROM deliveries WHERE id = ?1",
                        [delivery],
                        |r| r.get(0),
                    )?)
                })?;
                let expected = if allowed { step.target() } else { from };
                assert_eq!(now, expected.as_str(), "{step:?} from {from:?}");
            }
        }
        Ok(())
    }

    #[test]
    fn completion_counts_final_outcomes_only_and_is_recorded_once() -> Result<()> {
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(3))?;
        let [a, b, c] = delivery_ids(&store, id)?[..] else {
            panic!("three deliveries")
        };
        let none = StepDetails::default();
        let retry = StepDetails {
            error_code: Some(DeliveryCode::Transient),
            next_attempt_at: Some(60_000),
            ..StepDetails::default()
        };

        // The seed system's scenario: fail twice, then succeed.
        for _ in 0..2 {
            store.step_delivery(a, Step::StartSending, &none, 10)?;
            store.step_delivery(a, Step::RetryLater, &retry, 11)?;
            assert!(
                !store.complete_if_done(id, 12)?,
                "a retried failure is not an outcome"
            );
        }
        store.step_delivery(a, Step::StartSending, &none, 20)?;
        store.step_delivery(
            a,
            Step::Sent,
            &StepDetails {
                message_id: Some("m1".into()),
                ..none.clone()
            },
            21,
        )?;
        // A permanent failure and a skip are final outcomes.
        store.step_delivery(b, Step::StartSending, &none, 30)?;
        store.step_delivery(
            b,
            Step::Fail,
            &StepDetails {
                error_code: Some(DeliveryCode::NotOnWhatsapp),
                ..none.clone()
            },
            31,
        )?;
        assert!(!store.complete_if_done(id, 32)?);
        store.step_delivery(
            c,
            Step::Skip,
            &StepDetails {
                error_code: Some(DeliveryCode::MissingValue),
                ..none.clone()
            },
            40,
        )?;

        let counts = store.delivery_counts(id)?;
        assert_eq!(
            (counts.sent, counts.failed, counts.skipped, counts.total),
            (1, 1, 1, 3)
        );
        assert!(counts.is_complete());
        assert!(
            store.complete_if_done(id, 50)?,
            "completes when the last outcome is in"
        );
        assert!(
            !store.complete_if_done(id, 51)?,
            "and is observed exactly once"
        );
        let attempts: i64 = store.read(|conn| {
            Ok(
                conn.query_row("SELECT attempts FROM deliveries WHERE id = ?1", [a], |r| {
                    r.get(0)
                })?,
            )
        })?;
        assert_eq!(attempts, 3);
        Ok(())
    }

    #[test]
    fn in_flight_messages_become_unknown_after_a_crash_and_block_completion() -> Result<()> {
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(2))?;
        let [a, b] = delivery_ids(&store, id)?[..] else {
            panic!("two deliveries")
        };
        let none = StepDetails::default();
        store.step_delivery(a, Step::StartSending, &none, 1)?;
        store.step_delivery(a, Step::Sent, &none, 2)?;
        store.step_delivery(b, Step::StartSending, &none, 3)?;
        // The process dies here; at the next start:
        assert_eq!(store.mark_in_flight_unknown(4)?, 1);
        assert_eq!(store.delivery_counts(id)?.unknown, 1);
        assert!(
            !store.complete_if_done(id, 5)?,
            "an unknown fate is not an outcome"
        );
        // Never re-sent silently: starting it again is refused ...
        assert!(
            store
                .step_delivery(b, Step::StartSending, &none, 6)
                .is_err()
        );
        // ... until the person chooses to re-send it.
        store.step_delivery(b, Step::Resend, &none, 7)?;
        store.step_delivery(b, Step::StartSending, &none, 8)?;
        Ok(())
    }

    #[test]
    fn an_account_error_returns_the_delivery_to_the_queue_without_using_an_attempt() -> Result<()> {
        let store = Store::open_in_memory()?;
        let id = blast(&store, &recipients(1))?;
        let d = delivery_ids(&store, id)?[0];
        let none = StepDetails::default();
        store.step_delivery(d, Step::StartSending, &none, 1)?;
        store.step_delivery(
            d,
            Step::BackToQueue,
            &StepDetails {
                error_code: Some(DeliveryCode::LoggedOut),
                ..none.clone()
            },
            2,
        )?;
        let (state, attempts): (String, i64) = store.read(|conn| {
            Ok(conn.query_row(
                "SELECT state, attempts FROM deliveries WHERE id = ?1",
                [d],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })?;
        assert_eq!((state.as_str(), attempts), ("queued", 0));
        Ok(())
    }
}
