//! The scheduler: sleeps until the next schedule is due (no polling), runs
//! what is due by the missed-run policy, and wakes early when a schedule is
//! edited. It naps at most a minute at a time, so a computer waking from
//! sleep or a clock that jumps is noticed within a minute. Time comes from
//! an injected clock and tokio's timers, so tests run a week in no time.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

use crate::audience::{self, PreviewRequest};
use crate::blast::{self, NewBlast, Sender};
use crate::clock::{Clock, Millis};
use crate::import::ImportOptions;
use crate::schedule::{self, Overdue};
use crate::shutdown::Shutdown;
use crate::store::schedules::{RunOutcome, Schedule};
use crate::store::{self, Store};

/// What the scheduler reports (to the window, the tray, notifications).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum ScheduleEvent {
    #[serde(rename_all = "camelCase")]
    RunStarted {
        schedule_id: i64,
        due_at_ms: Millis,
        blast_id: i64,
    },
    #[serde(rename_all = "camelCase")]
    RunSkipped {
        schedule_id: i64,
        due_at_ms: Millis,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    RunMissed { schedule_id: i64, due_at_ms: Millis },
}

const MAX_NAP: Millis = 60_000;

/// The first wait after a store error, and the longest.
const RETRY_FIRST: Millis = 5_000;
const RETRY_MAX: Millis = 300_000;

pub struct Scheduler<C> {
    store: Store,
    clock: C,
    wake: Arc<Notify>,
    shutdown: Shutdown,
}

impl<C: Clock> Scheduler<C> {
    pub fn new(store: Store, clock: C) -> Scheduler<C> {
        Scheduler {
            store,
            clock,
            wake: Arc::new(Notify::new()),
            shutdown: Shutdown::new(),
        }
    }

    /// Stops with the engine's workers (share [`crate::engine::Control::shutdown`]).
    pub fn with_shutdown(mut self, shutdown: Shutdown) -> Scheduler<C> {
        self.shutdown = shutdown;
        self
    }

    /// Wake the loop after a schedule was added, edited, paused or removed.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Runs until its shutdown is asked for (between two turns: a turn is
    /// one transaction). Supervised: a store error (the disk full, the
    /// database busy) is logged and the loop tries again after a wait (5 s,
    /// doubling up to 5 minutes, or an edit's wake-up); a run claimed before
    /// the error is never run twice (see [`Store::claim_schedule_run`]).
    pub async fn run(&self, emit: &mut (impl FnMut(ScheduleEvent) + Send)) {
        let Some(_running) = self.shutdown.enter() else {
            return;
        };
        let mut backoff = RETRY_FIRST;
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let nap = match self.turn(emit) {
                Ok(nap) => {
                    backoff = RETRY_FIRST;
                    nap
                }
                Err(error) => {
                    tracing::error!("the scheduler cannot read its schedules: {error}");
                    let wait = backoff;
                    backoff = (backoff * 2).min(RETRY_MAX);
                    wait
                }
            };
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(nap as u64)) => {}
                () = woken => {}
                () = self.shutdown.requested() => {
                    tracing::info!("scheduler stopped");
                    return;
                }
            }
        }
    }

    /// Runs what is due; returns how long to nap.
    fn turn(&self, emit: &mut (impl FnMut(ScheduleEvent) + Send)) -> Result<Millis, store::Error> {
        for event in self.tick()? {
            emit(event);
        }
        let now = self.clock.now_ms();
        Ok(match self.store.next_schedule_at()? {
            Some(at) => (at - now).clamp(0, MAX_NAP),
            None => MAX_NAP,
        })
    }

    /// Handles every schedule due now, by the missed-run policy.
    pub fn tick(&self) -> Result<Vec<ScheduleEvent>, store::Error> {
        let now = self.clock.now_ms();
        let mut events = Vec::new();
        for due in self.store.due_schedules(now)? {
            let Some(due_at) = due.next_run_at else {
                continue;
            };
            let tz = crate::zone::parse(&due.spec.time_zone).unwrap_or(chrono_tz::Tz::UTC);
            // The next run counts from now: late runs never pile up.
            let next = schedule::next_run(&due.spec.rule, tz, now.max(due_at));
            let missed =
                schedule::overdue(due_at, now, due.spec.grace_seconds * 1_000) == Overdue::Missed;
            if !self
                .store
                .claim_schedule_run(due.id, due_at, missed, next, now)?
            {
                continue;
            }
            let schedule_id = due.id;
            if missed {
                tracing::info!(schedule_id, "a scheduled run was missed");
                events.push(ScheduleEvent::RunMissed {
                    schedule_id,
                    due_at_ms: due_at,
                });
                continue;
            }
            let outcome = match self.launch(&due) {
                Ok(blast_id) => RunOutcome::Started { blast_id },
                Err(reason) => RunOutcome::Skipped { reason },
            };
            self.store
                .finish_schedule_run(schedule_id, due_at, &outcome)?;
            events.push(match outcome {
                RunOutcome::Started { blast_id } => ScheduleEvent::RunStarted {
                    schedule_id,
                    due_at_ms: due_at,
                    blast_id,
                },
                RunOutcome::Skipped { reason } => ScheduleEvent::RunSkipped {
                    schedule_id,
                    due_at_ms: due_at,
                    reason,
                },
                RunOutcome::Missed => ScheduleEvent::RunMissed {
                    schedule_id,
                    due_at_ms: due_at,
                },
            });
        }
        Ok(events)
    }

    /// Creates the blast of a due run, from its audiences and (re-imported
    /// now) its linked spreadsheet. Any problem skips the run with the
    /// reason: never a send to a stale or partial list.
    fn launch(&self, due: &Schedule) -> Result<i64, String> {
        let spec = &due.spec.blast;
        let country = self.store.default_country().map_err(|e| e.to_string())?;
        let files = match &due.spec.refresh {
            Some(refresh) => {
                if !refresh.file.is_file() {
                    return Err(format!(
                        "the list {} is missing, so nothing was sent to an old copy of it",
                        refresh.file.display()
                    ));
                }
                vec![(
                    refresh.file.clone(),
                    ImportOptions {
                        country,
                        sheet: refresh.sheet.clone(),
                        mapping: refresh.mapping.clone(),
                    },
                )]
            }
            None => Vec::new(),
        };
        let request = PreviewRequest {
            audiences: spec.audiences.clone(),
            files,
        };
        let (preview, _) = audience::preview(&self.store, &request)
            .map_err(|e| format!("the list could not be read, so nothing was sent: {e}"))?;
        let created = blast::create(
            &self.store,
            &NewBlast {
                name: &spec.name,
                template: &spec.template,
                sender: Sender::Account(spec.account_id),
                recipients: &preview.recipients,
                options: spec.options.clone(),
                attach: None,
            },
            self.clock.now_ms(),
        )
        .map_err(|e| e.to_string())?;
        Ok(created.blast_id)
    }
}
