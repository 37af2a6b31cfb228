//! Schedules and their runs. Each due instant is recorded once
//! (`UNIQUE (schedule_id, due_at)`), in the same transaction that moves the
//! schedule to its next run, so a run can never happen twice.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Error, Result, Store};
use crate::schedule::{self, Rule};

/// What a scheduled blast sends, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlastSpec {
    pub account_id: i64,
    pub name: String,
    pub template: String,
    /// Saved audiences, by name.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Blast options (missing-value policy, attachment, number check).
    #[serde(default)]
    pub options: crate::blast::BlastOptions,
}

/// A spreadsheet re-imported before each run (with the same mapping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Refresh {
    pub file: std::path::PathBuf,
    pub sheet: Option<String>,
    pub mapping: Option<crate::import::Mapping>,
}

/// A schedule as the person sets it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    pub name: String,
    pub rule: Rule,
    /// IANA name.
    pub time_zone: String,
    pub grace_seconds: i64,
    pub blast: BlastSpec,
    pub refresh: Option<Refresh>,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub id: i64,
    #[serde(flatten)]
    pub spec: ScheduleSpec,
    pub enabled: bool,
    pub next_run_at: Option<i64>,
}

/// A recorded run of a schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRun {
    pub due_at: i64,
    /// started, skipped or missed.
    pub outcome: String,
    pub detail: Option<String>,
    pub blast_id: Option<i64>,
}

/// How a due instant ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum RunOutcome {
    /// A blast was created for it.
    #[serde(rename_all = "camelCase")]
    Started { blast_id: i64 },
    /// It was due, and not sent, for this reason (an unreadable list, ...).
    Skipped { reason: String },
    /// It was due while Blastdesk was not running, longer ago than the grace period.
    Missed,
}

impl Store {
    /// Adds a schedule; its first run is the first due instant after `now_ms`.
    pub fn add_schedule(&self, spec: &ScheduleSpec, now_ms: i64) -> Result<i64> {
        let next = self.checked(spec, now_ms)?;
        self.write(|conn| {
            conn.execute(
                "INSERT INTO schedules (name, blast_spec, rule, time_zone, grace_seconds, refresh,
                                        enabled, next_run_at, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?8, ?8)",
                params![
                    spec.name.trim(),
                    super::to_json(&spec.blast)?,
                    super::to_json(&spec.rule)?,
                    spec.time_zone,
                    spec.grace_seconds,
                    spec.refresh.as_ref().map(super::to_json).transpose()?,
                    next,
                    now_ms
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }

    /// Replaces a schedule's settings; its next run is computed again.
    pub fn update_schedule(&self, id: i64, spec: &ScheduleSpec, now_ms: i64) -> Result<()> {
        let next = self.checked(spec, now_ms)?;
        self.write(|conn| {
            let changed = conn.execute(
                "UPDATE schedules SET name = ?2, blast_spec = ?3, rule = ?4, time_zone = ?5,
                     grace_seconds = ?6, refresh = ?7, next_run_at = ?8, updated_at = ?9
                 WHERE id = ?1",
                params![
                    id,
                    spec.name.trim(),
                    super::to_json(&spec.blast)?,
                    super::to_json(&spec.rule)?,
                    spec.time_zone,
                    spec.grace_seconds,
                    spec.refresh.as_ref().map(super::to_json).transpose()?,
                    next,
                    now_ms
                ],
            )?;
            if changed == 0 {
                return Err(Error::ScheduleNotFound { schedule_id: id });
            }
            Ok(())
        })
    }

    pub fn set_schedule_enabled(&self, id: i64, enabled: bool, now_ms: i64) -> Result<()> {
        let schedule = self.schedule(id)?;
        // Resuming counts from now: what fell due while paused is not run.
        let next = if enabled {
            next_after(&schedule.spec, now_ms)?
        } else {
            schedule.next_run_at
        };
        self.write(|conn| {
            conn.execute(
                "UPDATE schedules SET enabled = ?2, next_run_at = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, enabled, next, now_ms],
            )?;
            Ok(())
        })
    }

    pub fn remove_schedule(&self, id: i64) -> Result<()> {
        self.write(|conn| {
            let changed = conn.execute("DELETE FROM schedules WHERE id = ?1", [id])?;
            if changed == 0 {
                return Err(Error::ScheduleNotFound { schedule_id: id });
            }
            Ok(())
        })
    }

    pub fn list_schedules(&self) -> Result<Vec<Schedule>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT id, name, blast_spec, rule, time_zone, grace_seconds, refresh, enabled, next_run_at
                 FROM schedules ORDER BY id",
            )?;
            let rows = statement.query_map([], |row| {
                let parse = |i: usize| -> rusqlite::Result<String> { row.get(i) };
                let blast: BlastSpec = serde_json::from_str(&parse(2)?).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
                })?;
                let rule: Rule = serde_json::from_str(&parse(3)?).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, e.into())
                })?;
                let refresh: Option<String> = row.get(6)?;
                Ok(Schedule {
                    id: row.get(0)?,
                    spec: ScheduleSpec {
                        name: row.get(1)?,
                        rule,
                        time_zone: row.get(4)?,
                        grace_seconds: row.get(5)?,
                        blast,
                        refresh: refresh.and_then(|r| serde_json::from_str(&r).ok()),
                    },
                    enabled: row.get(7)?,
                    next_run_at: row.get(8)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    pub fn schedule(&self, id: i64) -> Result<Schedule> {
        self.list_schedules()?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(Error::ScheduleNotFound { schedule_id: id })
    }

    /// Enabled schedules due at `now_ms`.
    pub fn due_schedules(&self, now_ms: i64) -> Result<Vec<Schedule>> {
        Ok(self
            .list_schedules()?
            .into_iter()
            .filter(|s| s.enabled && s.next_run_at.is_some_and(|t| t <= now_ms))
            .collect())
    }

    /// When the next enabled schedule is due.
    pub fn next_schedule_at(&self) -> Result<Option<i64>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT min(next_run_at) FROM schedules WHERE enabled = 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?
                .flatten())
        })
    }

    /// Claims the run due at `due_at` and moves the schedule to its next
    /// run, together: true for the one caller that claimed it, so an
    /// instant runs at most once, even across a crash (a crash after the
    /// claim loses that run rather than sending it twice).
    pub fn claim_schedule_run(
        &self,
        id: i64,
        due_at: i64,
        missed: bool,
        next_run_at: Option<i64>,
        now_ms: i64,
    ) -> Result<bool> {
        let outcome = if missed { "missed" } else { "started" };
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                "INSERT OR IGNORE INTO schedule_runs (schedule_id, due_at, outcome, recorded_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![id, due_at, outcome, now_ms],
            )?;
            tx.execute(
                "UPDATE schedules SET next_run_at = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, next_run_at, now_ms],
            )?;
            tx.commit()?;
            Ok(inserted == 1)
        })
    }

    /// Records how a claimed run ended: its blast, or why it was skipped.
    pub fn finish_schedule_run(&self, id: i64, due_at: i64, outcome: &RunOutcome) -> Result<()> {
        let (kind, detail, blast_id) = match outcome {
            RunOutcome::Started { blast_id } => ("started", None, Some(*blast_id)),
            RunOutcome::Skipped { reason } => ("skipped", Some(reason.as_str()), None),
            RunOutcome::Missed => ("missed", None, None),
        };
        self.write(|conn| {
            conn.execute(
                "UPDATE schedule_runs SET outcome = ?3, detail = ?4, blast_id = ?5
                 WHERE schedule_id = ?1 AND due_at = ?2",
                params![id, due_at, kind, detail, blast_id],
            )?;
            Ok(())
        })
    }

    /// A schedule's recorded runs, newest first.
    pub fn schedule_runs(&self, id: i64) -> Result<Vec<ScheduleRun>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT due_at, outcome, detail, blast_id FROM schedule_runs WHERE schedule_id = ?1
                 ORDER BY due_at DESC",
            )?;
            let rows = statement.query_map([id], |r| {
                Ok(ScheduleRun {
                    due_at: r.get(0)?,
                    outcome: r.get(1)?,
                    detail: r.get(2)?,
                    blast_id: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

impl Store {
    /// A schedule as set checked before it is stored: it can work (see
    /// [`next_after`]), and the made-up sample customers only ever go to the
    /// rehearsal account: no audience it sends to for a real account holds
    /// their numbers (under whatever name it was saved). Each run checks
    /// again, as every blast is made ([`crate::blast::create`]). Returns its
    /// next run.
    fn checked(&self, spec: &ScheduleSpec, now_ms: i64) -> Result<Option<i64>> {
        let next = next_after(spec, now_ms)?;
        if self.account(spec.blast.account_id)?.kind == super::AccountKind::Simulated {
            return Ok(next);
        }
        let sample = crate::sample::phones();
        let mut holds_sample = false;
        for name in &spec.blast.audiences {
            holds_sample |= self.audience_holds_any(name, &sample)?;
        }
        if holds_sample {
            return Err(Error::Invalid {
                reason: crate::sample::REAL_ACCOUNT_REFUSAL.into(),
            });
        }
        Ok(next)
    }
}

/// The first due instant after `now_ms`, checking the schedule can work.
fn next_after(spec: &ScheduleSpec, now_ms: i64) -> Result<Option<i64>> {
    spec.rule.validate().map_err(Error::InvalidSchedule)?;
    let tz = crate::zone::parse(&spec.time_zone).ok_or_else(|| Error::UnknownTimeZone {
        name: spec.time_zone.clone(),
    })?;
    if spec.name.trim().is_empty() {
        return Err(Error::InvalidName {
            reason: "a schedule needs a name",
        });
    }
    if spec.grace_seconds < 0 {
        return Err(Error::InvalidName {
            reason: "the grace period cannot be negative",
        });
    }
    let next = schedule::next_run(&spec.rule, tz, now_ms);
    if next.is_none() {
        return Err(Error::InvalidSchedule(schedule::RuleError::InThePast));
    }
    Ok(next)
}
