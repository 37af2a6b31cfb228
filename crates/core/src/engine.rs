//! The send engine: takes a blast's deliveries through the state machine in
//! `store::blasts`, one message at a time, through a [`Messenger`], paced by
//! the account's [`Pacer`].
//!
//! For each delivery: render the text (a missing value skips the recipient
//! with the reason, if the blast says so), wait for pacing, record the
//! intent, hand the message over, record the outcome. Transient errors are
//! retried with exponential backoff and jitter up to a set number of
//! attempts; an error for the recipient fails it at once; an account error
//! (and a run of failures) puts the delivery back in the queue and pauses
//! every blast of the account with the reason. Completion is recorded
//! exactly once, when every delivery has a final outcome.
//!
//! [`Control`] pauses, resumes and cancels blasts durably (the store first,
//! then a wake-up for a waiting engine); the engine reads a blast's state
//! before every message, so a pause takes effect before the next one.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Notify;

use crate::clock::{Clock, Millis};
use crate::messenger::{Media, Messenger, Outgoing, SendError};
use crate::pacing::{Pacer, Pacing, WaitReason};
use crate::random::SplitMix64;
use crate::reason::{DeliveryCode, PauseCode};
use crate::shutdown::Shutdown;
use crate::store::blasts::{
    DeliveryCounts, DueDelivery, Durability, Step, StepDetails, StepRequest,
};
use crate::store::runs::{BlastState, PauseReason, UnknownDecision};
use crate::store::{self, Store};
use crate::template::{self, MissingValue, Template};

/// How transient failures are retried.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub first_delay_ms: Millis,
    pub factor: u32,
    /// Up to this share of the delay is added or taken away at random.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            first_delay_ms: 1_000,
            factor: 2,
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The wait before the attempt after `attempts` failed ones.
    fn delay_ms(&self, attempts: u32, random: &mut SplitMix64) -> Millis {
        let exponent = attempts.saturating_sub(1).min(20);
        let base = self
            .first_delay_ms
            .saturating_mul(i64::from(self.factor).saturating_pow(exponent));
        let spread = (random.next_f64() * 2.0 - 1.0) * self.jitter;
        (base as f64 * (1.0 + spread)).round().max(0.0) as Millis
    }
}

/// What happened to one delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
pub enum Outcome {
    Sent {
        message_id: String,
    },
    WillRetry {
        at_ms: Millis,
        code: DeliveryCode,
    },
    Failed {
        code: DeliveryCode,
    },
    Skipped {
        code: DeliveryCode,
        detail: String,
    },
    /// Back in the queue: the account could not send.
    Requeued {
        code: DeliveryCode,
    },
}

/// What the engine reports: one closed set. The shell forwards these to
/// the window, the tray and notifications; the CLI prints them as JSON lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    BlastStarted { blast_id: i64 },
    #[serde(rename_all = "camelCase")]
    Delivery {
        blast_id: i64,
        delivery_id: i64,
        outcome: Outcome,
    },
    /// Counts from the deliveries' states, the sending rate of this run and
    /// when the rest would be sent if all goes well.
    #[serde(rename_all = "camelCase")]
    Progress {
        blast_id: i64,
        counts: DeliveryCounts,
        per_hour: Option<u32>,
        finish_estimate_ms: Option<Millis>,
    },
    /// Pacing holds the next message until `until_ms`.
    #[serde(rename_all = "camelCase")]
    Waiting {
        blast_id: i64,
        until_ms: Millis,
        reason: WaitReason,
    },
    #[serde(rename_all = "camelCase")]
    BlastPaused {
        blast_id: i64,
        code: PauseCode,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    BlastCancelled {
        blast_id: i64,
        counts: DeliveryCounts,
    },
    #[serde(rename_all = "camelCase")]
    BlastCompleted {
        blast_id: i64,
        counts: DeliveryCounts,
    },
    /// Only deliveries of unknown fate are left: the person decides.
    #[serde(rename_all = "camelCase")]
    NeedsDecision { blast_id: i64, unknown: u64 },
}

/// How a run of a blast ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Completed,
    Paused {
        code: PauseCode,
    },
    Cancelled,
    WaitingForDecision {
        unknown: u64,
    },
    /// The workers were stopped ([`Control::stop_workers`]); the blast goes
    /// on when they next start.
    Stopped,
}

/// What one turn of an account's worker did.
enum Turn {
    /// Nothing was waiting.
    Idle,
    /// A blast ran (to its end, a pause, or a decision).
    Sent,
}

/// The first wait after a store error, and the longest.
const STORE_RETRY_FIRST: Millis = 5_000;
const STORE_RETRY_MAX: Millis = 300_000;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the blast's message cannot be used: {0}")]
    Template(#[from] template::TemplateError),
}

/// The longest the engine sleeps before looking at the clock again: after a
/// computer sleeps or its clock jumps, pacing is recomputed within a minute.
const MAX_NAP: Millis = 60_000;

/// The most often progress is counted and reported, in milliseconds.
const PROGRESS_EVERY: Millis = 250;

/// How many numbers are checked against WhatsApp in one request.
const CHECK_BATCH: usize = 20;

/// How many due deliveries are read from the store at a time.
const DUE_BATCH: usize = 256;

/// Pause, resume, cancel and decide, durably; and stop the workers. Cheap
/// to clone; the shell and the CLI hold one, every engine sharing its
/// wake-up and its shutdown.
#[derive(Clone)]
pub struct Control {
    store: Store,
    wake: Arc<Notify>,
    shutdown: Shutdown,
}

impl Control {
    pub fn new(store: Store) -> Control {
        Control {
            store,
            wake: Arc::new(Notify::new()),
            shutdown: Shutdown::new(),
        }
    }

    /// Pauses a blast; a running engine stops before its next message.
    pub fn pause(&self, blast_id: i64) -> Result<(), store::Error> {
        self.store.pause_blast(
            blast_id,
            &PauseReason {
                code: PauseCode::ByYou,
                reason: "Paused by you.",
            },
        )?;
        self.wake();
        Ok(())
    }

    /// Lets a paused blast go on.
    pub fn resume(&self, blast_id: i64) -> Result<(), store::Error> {
        self.store.resume_blast(blast_id)?;
        self.wake();
        Ok(())
    }

    /// Cancels a blast; returns how many messages will not be sent.
    pub fn cancel(&self, blast_id: i64, now_ms: Millis) -> Result<u64, store::Error> {
        let skipped = self.store.cancel_blast(blast_id, now_ms)?;
        self.wake();
        Ok(skipped)
    }

    /// Re-sends, or leaves unsent, the messages of unknown fate; returns how many.
    pub fn decide_unknown(
        &self,
        blast_id: i64,
        decision: UnknownDecision,
        now_ms: Millis,
    ) -> Result<u64, store::Error> {
        let changed = self.store.decide_unknown(blast_id, decision, now_ms)?;
        self.wake();
        Ok(changed)
    }

    /// Pauses every waiting or running blast of an account (its session
    /// ended, or WhatsApp told it to stop). Returns their ids.
    pub fn pause_account(
        &self,
        account_id: i64,
        code: PauseCode,
        reason: &str,
    ) -> Result<Vec<i64>, store::Error> {
        self.store
            .pause_account_blasts(account_id, &PauseReason { code, reason })
    }

    /// Lets go on the account's blasts that were paused with `code` (e.g.
    /// only because it was not connected). Returns their ids.
    pub fn resume_account(
        &self,
        account_id: i64,
        code: PauseCode,
    ) -> Result<Vec<i64>, store::Error> {
        let resumed = self.store.resume_account_blasts(account_id, code)?;
        self.wake();
        Ok(resumed)
    }

    /// At start, before any engine runs: messages that were being handed
    /// over when Blastdesk stopped become "unknown", never re-sent unless the
    /// person chooses to. Returns how many.
    pub fn recover(&self, now_ms: Millis) -> Result<u64, store::Error> {
        self.store.mark_in_flight_unknown(now_ms)
    }

    /// Wakes every waiting engine to look at its blasts again.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// What the workers of this control stop with (the scheduler can share it).
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Stops every worker (and whatever else shares the shutdown) after the
    /// message each has in hand is recorded; resolves when all have
    /// stopped. No worker starts after it. The blasts keep their state, so
    /// they go on when the app next starts.
    pub async fn stop_workers(&self) {
        self.shutdown.stop(|| self.wake()).await;
    }
}

/// When `messages` more messages from an account would all be sent, starting
/// now, if none failed: the estimate shown before sending.
pub fn estimate_finish(
    store: &Store,
    account_id: i64,
    messages: u64,
    now_ms: Millis,
) -> Result<Millis, store::Error> {
    let pacer = account_pacer(store, account_id, None, now_ms)?;
    Ok(pacer.estimate_finish(now_ms, messages))
}

fn account_pacer(
    store: &Store,
    account_id: i64,
    policy: Option<&Pacing>,
    now_ms: Millis,
) -> Result<Pacer, store::Error> {
    let account = store.account_pacing(account_id)?;
    let history = store.recent_sends(account_id, now_ms - 26 * 3_600_000)?;
    Ok(Pacer::new(
        policy.cloned().unwrap_or(account.pacing),
        account.time_zone,
        account.since_ms,
        &history,
        account_id as u64,
    ))
}

pub struct Engine<M, C> {
    store: Store,
    messenger: M,
    clock: C,
    retry: RetryPolicy,
    /// Replaces the account's pacing (e.g. off, for tests).
    pacing: Option<Pacing>,
    control: Control,
}

/// What a delivery's attempt means for the blast.
enum Consequence {
    Carry,
    /// A send failed: counts towards the error streak.
    Failure(String),
    /// The account cannot send: pause its blasts.
    AccountStop {
        code: PauseCode,
        error: SendError,
    },
}

impl<M: Messenger, C: Clock> Engine<M, C> {
    pub fn new(store: Store, messenger: M, clock: C, retry: RetryPolicy) -> Engine<M, C> {
        Engine {
            control: Control::new(store.clone()),
            store,
            messenger,
            clock,
            retry,
            pacing: None,
        }
    }

    /// Paces with these settings instead of the account's.
    pub fn with_pacing(mut self, pacing: Pacing) -> Engine<M, C> {
        self.pacing = Some(pacing);
        self
    }

    /// Shares a [`Control`] (and so its wake-up) with other engines.
    pub fn with_control(mut self, control: Control) -> Engine<M, C> {
        self.control = control;
        self
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// The messenger this engine sends through.
    pub fn messenger(&self) -> &M {
        &self.messenger
    }

    /// At start: messages that were being handed over when Blastdesk stopped
    /// may or may not have gone out. They become "unknown" and are never sent
    /// again unless the person chooses to. Returns how many.
    pub fn recover(&self) -> Result<u64, EngineError> {
        Ok(self.store.mark_in_flight_unknown(self.clock.now_ms())?)
    }

    /// Sends the account's waiting blasts, oldest first, for as long as the
    /// future is polled; waits for a wake-up when there is nothing to send.
    ///
    /// Supervised: a store error (the disk full, the database busy for too
    /// long) never ends the worker. The blast it was sending is paused with
    /// the reason (`store_error`, which the window and a notification show),
    /// the worker waits (5 s, doubling up to 5 minutes, or a wake-up) and
    /// tries again; a message whose outcome could not be recorded becomes
    /// unknown, for the person to decide, and never goes out twice.
    ///
    /// It returns only when the workers are stopped ([`Control::stop_workers`]).
    pub async fn run_account(&self, account_id: i64, emit: &mut (impl FnMut(Event) + Send)) {
        let shutdown = self.control.shutdown.clone();
        let Some(_running) = shutdown.enter() else {
            return;
        };
        let mut backoff = STORE_RETRY_FIRST;
        loop {
            if shutdown.is_requested() {
                tracing::info!(account_id, "worker stopped");
                return;
            }
            let woken = self.control.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let failed = match self.next_turn(account_id, emit).await {
                Ok(Turn::Idle) => {
                    woken.await;
                    continue;
                }
                Ok(Turn::Sent) => {
                    backoff = STORE_RETRY_FIRST;
                    continue;
                }
                Err((blast_id, error)) => {
                    tracing::error!(account_id, "the store failed: {error}");
                    if let Some(blast_id) = blast_id {
                        self.pause_for_store_error(blast_id, &error, emit);
                    }
                    backoff
                }
            };
            // Wait, then tidy up; while the store still fails, wait longer.
            let mut wait = failed;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                    () = shutdown.requested() => return,
                }
                backoff = (backoff * 2).min(STORE_RETRY_MAX);
                match self.after_store_error(account_id) {
                    Ok(()) => break,
                    Err(error) => {
                        tracing::error!(account_id, "the store still fails: {error}");
                        wait = backoff;
                    }
                }
            }
        }
    }

    /// Pauses a blast that was sending when the store failed, with the
    /// reason; a blast paused otherwise (by the person, an account, a
    /// decision) keeps its own pause.
    fn pause_for_store_error(
        &self,
        blast_id: i64,
        error: &store::Error,
        emit: &mut (impl FnMut(Event) + Send),
    ) {
        let reason = format!(
            "Blastdesk could not read or write its data ({error}). It tries again by itself."
        );
        let why = PauseReason {
            code: PauseCode::StoreError,
            reason: &reason,
        };
        match self.store.pause_blast_if_sending(blast_id, &why) {
            Ok(true) => emit(Event::BlastPaused {
                blast_id,
                code: PauseCode::StoreError,
                reason,
            }),
            Ok(false) => {}
            Err(error) => tracing::error!(blast_id, "cannot pause the blast: {error}"),
        }
    }

    /// Sends the account's next waiting blast, if there is one.
    async fn next_turn(
        &self,
        account_id: i64,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Turn, (Option<i64>, store::Error)> {
        let Some(blast_id) = self
            .store
            .next_blast_for_account(account_id)
            .map_err(|e| (None, e))?
        else {
            return Ok(Turn::Idle);
        };
        match self.run_blast(blast_id, emit).await {
            Ok(_) => Ok(Turn::Sent),
            Err(EngineError::Template(error)) => {
                let reason = error.to_string();
                self.pause(blast_id, PauseCode::TemplateInvalid, &reason, emit)
                    .map_err(|e| (Some(blast_id), e))?;
                Ok(Turn::Sent)
            }
            Err(EngineError::Store(error)) => Err((Some(blast_id), error)),
        }
    }

    /// Before trying again after a store error: a message of this account
    /// left "being sent" had its outcome lost with the error, so its fate
    /// is unknown; the blasts the error paused go on.
    fn after_store_error(&self, account_id: i64) -> Result<(), store::Error> {
        self.store
            .mark_account_in_flight_unknown(account_id, self.clock.now_ms())?;
        self.store
            .resume_account_blasts(account_id, PauseCode::StoreError)?;
        Ok(())
    }

    /// Sends a blast until it completes, pauses, is cancelled, or only
    /// messages of unknown fate are left.
    pub async fn run_blast(
        &self,
        blast_id: i64,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<RunEnd, EngineError> {
        let mut run = match self.start_run(blast_id, emit).await? {
            Ok(run) => run,
            Err(end) => return Ok(end),
        };
        loop {
            // Armed before the state is read, so a pause in between still wakes us.
            let woken = self.control.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.control.shutdown.is_requested() {
                // The message in hand is recorded first.
                self.record(run.unrecorded.take(), &mut run.tally, &run.pacer, emit)?;
                return Ok(RunEnd::Stopped);
            }
            if run.check_state {
                run.check_state = false;
                self.record(run.unrecorded.take(), &mut run.tally, &run.pacer, emit)?;
                if let Some(end) = self.noticed_stop(blast_id, emit)? {
                    return Ok(end);
                }
            }
            let now = self.clock.now_ms();
            if run.due.is_empty() {
                self.record(run.unrecorded.take(), &mut run.tally, &run.pacer, emit)?;
                run.due = self.store.due_deliveries(blast_id, now, DUE_BATCH)?.into();
            }
            // While something is due the blast cannot be complete: completion
            // is checked only when nothing is.
            let Some(delivery) = run.due.pop_front() else {
                match self
                    .nothing_due(&mut run, now, woken.as_mut(), emit)
                    .await?
                {
                    Some(end) => return Ok(end),
                    None => continue,
                }
            };
            let seed = template::seed_for(blast_id, delivery.phone.as_str());
            let text = match run.template.render(&delivery.fields, &run.missing, seed) {
                Ok(text) => text,
                Err(error) => {
                    self.skip_missing_value(&mut run, &delivery, &error, now, emit)?;
                    continue;
                }
            };
            if let Some(end) = self
                .wait_for_pacing(&mut run, delivery, now, woken.as_mut(), emit)
                .await?
            {
                return Ok(end);
            }
            let Some(delivery) = run.held.take() else {
                continue; // it waited for pacing
            };
            if let Some(end) = self.send_one(&mut run, delivery, text, now, emit).await? {
                return Ok(end);
            }
        }
    }

    /// Reads what a run needs and marks the blast running; or how the run
    /// ends before it starts (the blast is finished, paused, or its
    /// attachment cannot be read).
    async fn start_run(
        &self,
        blast_id: i64,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Result<Run, RunEnd>, EngineError> {
        let blast = self.store.blast_to_run(blast_id)?;
        match blast.state {
            // Already complete: nothing to send, and completion was reported then.
            BlastState::Completed => return Ok(Err(RunEnd::Completed)),
            BlastState::Cancelled => return Ok(Err(RunEnd::Cancelled)),
            BlastState::Paused => {
                let (_, code) = self.store.blast_state(blast_id)?;
                if code == Some(PauseCode::NeedsDecision) {
                    let unknown = self.store.delivery_counts(blast_id)?.unknown;
                    return Ok(Err(RunEnd::WaitingForDecision { unknown }));
                }
                return Ok(Err(RunEnd::Paused {
                    code: code.unwrap_or(PauseCode::ByYou),
                }));
            }
            BlastState::Draft | BlastState::Queued | BlastState::Running => {}
        }
        let template = Template::parse(&blast.template)?;
        let options = match blast.options {
            Ok(options) => options,
            Err(error) => {
                let reason = format!("The blast's settings cannot be read ({error}).");
                self.pause(blast_id, PauseCode::OptionsUnreadable, &reason, emit)?;
                return Ok(Err(RunEnd::Paused {
                    code: PauseCode::OptionsUnreadable,
                }));
            }
        };
        let mut unreadable = |reason: &str| {
            self.pause(blast_id, PauseCode::AttachmentUnreadable, reason, emit)
                .map(|()| {
                    Err(RunEnd::Paused {
                        code: PauseCode::AttachmentUnreadable,
                    })
                })
        };
        let media: Option<Media> = match &options.media {
            Some(attachment) => match self.store.data_dir() {
                Some(data_dir) => Some(attachment.media(data_dir)),
                None => {
                    let reason = "The attachment cannot be read: this database has no data folder.";
                    return Ok(unreadable(reason)?);
                }
            },
            None => None,
        };
        if let Some(media) = &media
            && let Err(error) = std::fs::File::open(&media.path)
        {
            let reason = format!(
                "The attachment {} cannot be read: {error}.",
                media.path.display()
            );
            return Ok(unreadable(&reason)?);
        }
        let started = self.clock.now_ms();
        let pacer = account_pacer(&self.store, blast.account_id, self.pacing.as_ref(), started)?;
        self.store.mark_running(blast_id, started)?;
        emit(Event::BlastStarted { blast_id });
        if options.check_numbers
            && blast.numbers_checked_at.is_none()
            && let Some(end) = self
                .check_numbers(blast_id, blast.account_id, &pacer, emit)
                .await?
        {
            return Ok(Err(end));
        }
        Ok(Ok(Run {
            blast_id,
            account_id: blast.account_id,
            template,
            missing: options.missing_value,
            media,
            pacer,
            tally: Tally {
                blast_id,
                started,
                last_report: Millis::MIN,
                sent: 0,
            },
            streak: 0,
            last_wait: None,
            due: VecDeque::new(),
            held: None,
            check_state: true,
            unrecorded: None,
            durability: if self.messenger.sends_for_real() {
                Durability::PowerSafe
            } else {
                Durability::Normal
            },
        }))
    }

    /// The blast was paused or cancelled (by the person, another program,
    /// or an account's trouble): says so, and how the run ends.
    fn noticed_stop(
        &self,
        blast_id: i64,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Option<RunEnd>, EngineError> {
        if self.control.shutdown.is_requested() {
            return Ok(Some(RunEnd::Stopped));
        }
        Ok(match self.store.blast_state(blast_id)? {
            (BlastState::Paused, code) => {
                let code = code.unwrap_or(PauseCode::ByYou);
                let reason = self.store.blast_summary(blast_id)?.pause_reason;
                emit(Event::BlastPaused {
                    blast_id,
                    code,
                    reason: reason.unwrap_or_default(),
                });
                Some(RunEnd::Paused { code })
            }
            (BlastState::Cancelled, _) => {
                let counts = self.store.delivery_counts(blast_id)?;
                emit(Event::BlastCancelled { blast_id, counts });
                Some(RunEnd::Cancelled)
            }
            _ => None,
        })
    }

    /// Nothing is due now: the blast is complete, or waits for a retry, or
    /// only messages of unknown fate are left (the person decides).
    async fn nothing_due(
        &self,
        run: &mut Run,
        now: Millis,
        woken: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Option<RunEnd>, EngineError> {
        let blast_id = run.blast_id;
        if self.store.complete_if_done(blast_id, now)? {
            let counts = self.store.delivery_counts(blast_id)?;
            emit(self.progress(blast_id, counts, &run.pacer, &run.tally));
            emit(Event::BlastCompleted { blast_id, counts });
            return Ok(Some(RunEnd::Completed));
        }
        if let Some(at) = self.store.next_retry_at(blast_id)? {
            self.nap(now, at, woken).await;
            run.check_state = true;
            return Ok(None);
        }
        let unknown = self.store.delivery_counts(blast_id)?.unknown;
        let reason = if unknown == 1 {
            "1 message may or may not have gone out when Blastdesk stopped. Choose whether to send it again.".to_owned()
        } else {
            format!(
                "{unknown} messages may or may not have gone out when Blastdesk stopped. Choose whether to send them again."
            )
        };
        self.store.pause_blast(
            blast_id,
            &PauseReason {
                code: PauseCode::NeedsDecision,
                reason: &reason,
            },
        )?;
        emit(Event::NeedsDecision { blast_id, unknown });
        Ok(Some(RunEnd::WaitingForDecision { unknown }))
    }

    /// A recipient without a value the message needs is skipped, saying why.
    fn skip_missing_value(
        &self,
        run: &mut Run,
        delivery: &DueDelivery,
        error: &template::RenderError,
        now: Millis,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<(), EngineError> {
        self.record(run.unrecorded.take(), &mut run.tally, &run.pacer, emit)?;
        let skip = Unrecorded {
            delivery_id: delivery.id,
            step: Step::Skip,
            details: StepDetails {
                error_code: Some(DeliveryCode::MissingValue),
                error_detail: Some(error.to_string()),
                ..StepDetails::default()
            },
            at_ms: now,
            outcome: Outcome::Skipped {
                code: DeliveryCode::MissingValue,
                detail: error.to_string(),
            },
        };
        if self
            .store
            .take_steps(&[skip.request()], Durability::Normal)?[0]
        {
            run.tally.announce(&skip, emit);
            self.report_progress(&mut run.tally, &run.pacer, emit)?;
        } else {
            run.due.clear();
            run.check_state = true;
        }
        Ok(())
    }

    /// Holds `delivery` for sending now if pacing allows (in `run.held`);
    /// else puts it back, says how long the wait is, and waits (a wake-up
    /// ends the wait early). Ends the run if the account cannot send.
    async fn wait_for_pacing(
        &self,
        run: &mut Run,
        delivery: DueDelivery,
        now: Millis,
        woken: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Option<RunEnd>, EngineError> {
        let slot = run.pacer.next_slot(now);
        let admitted = if slot.at > now {
            Err((slot.at, slot.reason.unwrap_or(WaitReason::Delay)))
        } else {
            run.pacer
                .admit(now)
                .map_err(|at| (at, WaitReason::PerMinuteLimit))
        };
        let Err((until, reason)) = admitted else {
            run.held = Some(delivery);
            return Ok(None);
        };
        self.record(run.unrecorded.take(), &mut run.tally, &run.pacer, emit)?;
        // Before a wait, make sure the account could send at its end.
        if let Err(error) = self.messenger.ready()
            && let Some(code) = error.pause_code()
        {
            let reason = account_reason(&error, run.pacer.time_zone(), self.clock.now_ms());
            self.stop_account(run.blast_id, run.account_id, code, &reason, emit)?;
            return Ok(Some(RunEnd::Paused { code }));
        }
        if run.last_wait != Some((until, reason)) {
            emit(Event::Waiting {
                blast_id: run.blast_id,
                until_ms: until,
                reason,
            });
            run.last_wait = Some((until, reason));
        }
        run.due.push_front(delivery);
        self.nap(now, until, woken).await;
        run.check_state = true;
        Ok(None)
    }

    /// Records the intent (with the previous message's outcome, in one
    /// transaction), hands the message over and keeps its outcome for the
    /// next transaction; ends the run when the account must stop.
    async fn send_one(
        &self,
        run: &mut Run,
        delivery: DueDelivery,
        text: String,
        now: Millis,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Option<RunEnd>, EngineError> {
        let intent = StepDetails {
            rendered_text: Some(text.clone()),
            ..StepDetails::default()
        };
        let mut requests = Vec::with_capacity(2);
        requests.extend(run.unrecorded.as_ref().map(Unrecorded::request));
        requests.push(StepRequest {
            delivery_id: delivery.id,
            step: Step::StartSending,
            details: &intent,
            at_ms: now,
        });
        let taken = self.store.take_steps(&requests, run.durability)?;
        if let Some(previous) = run.unrecorded.take() {
            if !taken[0] {
                return Err(refused(&previous).into());
            }
            self.report_progress(&mut run.tally, &run.pacer, emit)?;
        }
        if taken.last() != Some(&true) {
            run.due.clear();
            run.check_state = true;
            return Ok(None);
        }
        run.pacer.record_send(now);

        let (result, consequence) = self
            .hand_over(run.blast_id, &delivery, text, run.media.clone())
            .await;
        // Told at once, so that a pause in answer comes before the next
        // message; the outcome is in the store before anything else is.
        run.tally.announce(&result, emit);
        let stop = match consequence {
            Consequence::Carry => {
                run.streak = 0;
                None
            }
            Consequence::Failure(detail) => {
                run.streak += 1;
                let streak = run.streak;
                let limit = run.pacer.policy().error_streak;
                (run.pacer.policy().enabled && limit > 0 && streak >= limit).then(|| {
                    (
                        PauseCode::ErrorStreak,
                        format!(
                            "{streak} messages in a row failed (the last: {detail}). This can be the first sign of a ban: check the account before resuming."
                        ),
                    )
                })
            }
            Consequence::AccountStop { code, error } => Some((
                code,
                account_reason(&error, run.pacer.time_zone(), self.clock.now_ms()),
            )),
        };
        let Some((code, reason)) = stop else {
            run.unrecorded = Some(result);
            return Ok(None);
        };
        run.tally.last_report = Millis::MIN; // report the counts as the blast stops
        self.record(Some(result), &mut run.tally, &run.pacer, emit)?;
        self.stop_account(run.blast_id, run.account_id, code, &reason, emit)?;
        Ok(Some(RunEnd::Paused { code }))
    }

    /// Checks the blast's queued numbers against WhatsApp before sending, in
    /// small batches spaced out like messages (bulk checks are a ban risk
    /// too); a number not on WhatsApp is skipped with that reason. Returns
    /// how the run ends if the check stopped it (a pause, an account error).
    async fn check_numbers(
        &self,
        blast_id: i64,
        account_id: i64,
        pacer: &Pacer,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<Option<RunEnd>, EngineError> {
        let policy = pacer.policy();
        let mut random = SplitMix64::new(blast_id as u64 ^ 0x6e75_6d62);
        let mut after = 0;
        loop {
            // Armed before the state is read, so a pause in between still wakes us.
            let woken = self.control.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(end) = self.noticed_stop(blast_id, emit)? {
                return Ok(Some(end));
            }
            let batch = self.store.queued_after(blast_id, after, CHECK_BATCH)?;
            let Some(&(last, _)) = batch.last() else {
                break;
            };
            after = last;
            let phones: Vec<crate::phone::Phone> = batch.iter().map(|(_, p)| p.clone()).collect();
            let found = match self.messenger.check_numbers(&phones).await {
                Ok(found) => found,
                Err(error) if let Some(code) = error.pause_code() => {
                    let reason = account_reason(&error, pacer.time_zone(), self.clock.now_ms());
                    self.store.pause_account_blasts(
                        account_id,
                        &PauseReason {
                            code,
                            reason: &reason,
                        },
                    )?;
                    emit(Event::BlastPaused {
                        blast_id,
                        code,
                        reason,
                    });
                    return Ok(Some(RunEnd::Paused { code }));
                }
                // A check that fails for a moment is not a reason to skip
                // anyone: the rest are sent unchecked.
                Err(error) => {
                    tracing::warn!(blast_id, "the number check failed: {error}");
                    break;
                }
            };
            let now = self.clock.now_ms();
            for ((delivery_id, _), on_whatsapp) in batch.iter().zip(found) {
                if on_whatsapp {
                    continue;
                }
                let skip = Unrecorded {
                    delivery_id: *delivery_id,
                    step: Step::Skip,
                    details: StepDetails {
                        error_code: Some(DeliveryCode::NotOnWhatsapp),
                        error_detail: Some(
                            "This number is not on WhatsApp (checked before sending).".into(),
                        ),
                        ..StepDetails::default()
                    },
                    at_ms: now,
                    outcome: Outcome::Skipped {
                        code: DeliveryCode::NotOnWhatsapp,
                        detail: "checked before sending".into(),
                    },
                };
                if self
                    .store
                    .take_steps(&[skip.request()], Durability::Normal)?[0]
                {
                    emit(Event::Delivery {
                        blast_id,
                        delivery_id: *delivery_id,
                        outcome: skip.outcome,
                    });
                }
            }
            if policy.enabled {
                let wait = random.between(
                    u64::from(policy.min_delay_s) * 1_000,
                    u64::from(policy.max_delay_s) * 1_000,
                );
                // Like every wait, a pause or a cancel ends it at once; any
                // other wake-up (another blast's pause) keeps the spacing.
                let until = tokio::time::Instant::now() + Duration::from_millis(wait);
                let mut woken = woken;
                loop {
                    tokio::select! {
                        () = tokio::time::sleep_until(until) => break,
                        () = woken.as_mut() => {}
                    }
                    // Armed again before the state is read.
                    woken.set(self.control.wake.notified());
                    woken.as_mut().enable();
                    if let Some(end) = self.noticed_stop(blast_id, emit)? {
                        return Ok(Some(end));
                    }
                }
            }
        }
        self.store
            .mark_numbers_checked(blast_id, self.clock.now_ms())?;
        Ok(None)
    }

    /// Pauses every blast of the account, this one last, with the reason.
    fn stop_account(
        &self,
        blast_id: i64,
        account_id: i64,
        code: PauseCode,
        reason: &str,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<(), EngineError> {
        let paused = self
            .store
            .pause_account_blasts(account_id, &PauseReason { code, reason })?;
        for id in paused.into_iter().filter(|&id| id != blast_id) {
            emit(Event::BlastPaused {
                blast_id: id,
                code,
                reason: reason.into(),
            });
        }
        emit(Event::BlastPaused {
            blast_id,
            code,
            reason: reason.into(),
        });
        Ok(())
    }

    /// Records an outcome on its own, then reports progress if it is time.
    fn record(
        &self,
        unrecorded: Option<Unrecorded>,
        tally: &mut Tally,
        pacer: &Pacer,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<(), EngineError> {
        let Some(unrecorded) = unrecorded else {
            return Ok(());
        };
        if !self
            .store
            .take_steps(&[unrecorded.request()], Durability::Normal)?[0]
        {
            return Err(refused(&unrecorded).into());
        }
        self.report_progress(tally, pacer, emit)
    }

    /// Reports progress, at most every [`PROGRESS_EVERY`].
    fn report_progress(
        &self,
        tally: &mut Tally,
        pacer: &Pacer,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<(), EngineError> {
        // Progress is counted from the deliveries' states; counting is a scan
        // of the blast, so it is reported at most every PROGRESS_EVERY.
        let now = self.clock.now_ms();
        if now.saturating_sub(tally.last_report) >= PROGRESS_EVERY {
            let counts = self.store.delivery_counts(tally.blast_id)?;
            emit(self.progress(tally.blast_id, counts, pacer, tally));
            tally.last_report = now;
        }
        Ok(())
    }

    fn progress(
        &self,
        blast_id: i64,
        counts: DeliveryCounts,
        pacer: &Pacer,
        tally: &Tally,
    ) -> Event {
        let now = self.clock.now_ms();
        let elapsed = now - tally.started;
        let per_hour = (elapsed >= 60_000)
            .then(|| (tally.sent as f64 * 3_600_000.0 / elapsed as f64).round() as u32);
        let pending = counts.pending();
        Event::Progress {
            blast_id,
            counts,
            per_hour,
            finish_estimate_ms: (pending > 0).then(|| pacer.estimate_finish(now, pending)),
        }
    }

    fn pause(
        &self,
        blast_id: i64,
        code: PauseCode,
        reason: &str,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<(), store::Error> {
        self.store
            .pause_blast(blast_id, &PauseReason { code, reason })?;
        emit(Event::BlastPaused {
            blast_id,
            code,
            reason: reason.into(),
        });
        Ok(())
    }

    /// Sleeps until `until` (at most [`MAX_NAP`]) or a wake-up, whichever is first.
    async fn nap(
        &self,
        now: Millis,
        until: Millis,
        woken: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) {
        let ms = (until - now).clamp(0, MAX_NAP);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(ms as u64)) => {}
            () = woken => {}
        }
    }

    /// Hands a message over (its intent is recorded) and says what came of it.
    async fn hand_over(
        &self,
        blast_id: i64,
        delivery: &DueDelivery,
        text: String,
        media: Option<Media>,
    ) -> (Unrecorded, Consequence) {
        let message = Outgoing {
            blast_id,
            delivery_id: delivery.id,
            to: delivery.phone.clone(),
            text,
            media,
        };
        let result = self.messenger.send(&message).await;
        let now = self.clock.now_ms();
        let attempts = delivery.attempts + 1;
        let unrecorded = |step, details, outcome| Unrecorded {
            delivery_id: delivery.id,
            step,
            details,
            at_ms: now,
            outcome,
        };
        let error = match result {
            Ok(accepted) => {
                let details = StepDetails {
                    message_id: Some(accepted.message_id.clone()),
                    ..StepDetails::default()
                };
                let outcome = Outcome::Sent {
                    message_id: accepted.message_id,
                };
                return (unrecorded(Step::Sent, details, outcome), Consequence::Carry);
            }
            Err(error) => error,
        };
        let code = error.code();
        let mut details = StepDetails {
            error_code: Some(code),
            error_detail: Some(error.to_string()),
            ..StepDetails::default()
        };
        match &error {
            SendError::Account { problem } => {
                let stop = Consequence::AccountStop {
                    code: problem.pause_code(),
                    error,
                };
                (
                    unrecorded(Step::BackToQueue, details, Outcome::Requeued { code }),
                    stop,
                )
            }
            SendError::Transient { .. } if attempts < self.retry.max_attempts => {
                let mut random = SplitMix64::new(delivery.id as u64 ^ (u64::from(attempts) << 32));
                let at = now + self.retry.delay_ms(attempts, &mut random);
                details.next_attempt_at = Some(at);
                let outcome = Outcome::WillRetry { at_ms: at, code };
                (
                    unrecorded(Step::RetryLater, details, outcome),
                    Consequence::Failure(error.to_string()),
                )
            }
            SendError::Transient { .. } | SendError::Recipient { .. } => (
                unrecorded(Step::Fail, details, Outcome::Failed { code }),
                Consequence::Failure(error.to_string()),
            ),
        }
    }
}

/// An outcome the messenger gave that is not in the store yet.
/// One run of a blast: what it sends, and where it is.
struct Run {
    blast_id: i64,
    account_id: i64,
    template: Template,
    missing: MissingValue,
    media: Option<Media>,
    pacer: Pacer,
    tally: Tally,
    /// Failures in a row, for the error-streak pause.
    streak: u32,
    /// The last wait announced, so each is told once.
    last_wait: Option<(Millis, WaitReason)>,
    /// Due deliveries, read a batch at a time. The store refuses to start
    /// one that is no longer queued, or whose blast is no longer running;
    /// the run then reads the blast's state and a new batch.
    due: VecDeque<DueDelivery>,
    /// The delivery pacing let through, about to be sent.
    held: Option<DueDelivery>,
    /// Read the blast's state before the next message.
    check_state: bool,
    /// The outcome of the message just sent, recorded in the same
    /// transaction as the intent to send the next one (one commit per
    /// message), or on its own before anything else.
    unrecorded: Option<Unrecorded>,
    durability: Durability,
}

struct Unrecorded {
    delivery_id: i64,
    step: Step,
    details: StepDetails,
    at_ms: Millis,
    outcome: Outcome,
}

impl Unrecorded {
    fn request(&self) -> StepRequest<'_> {
        StepRequest {
            delivery_id: self.delivery_id,
            step: self.step,
            details: &self.details,
            at_ms: self.at_ms,
        }
    }
}

/// The store refused to record an outcome: only this engine moves a
/// delivery out of "sending", so this is a bug, reported as such.
fn refused(unrecorded: &Unrecorded) -> store::Error {
    store::Error::InvalidStep {
        delivery_id: unrecorded.delivery_id,
        step: format!("{:?}", unrecorded.step),
        state: "not sending".into(),
    }
}

/// What a run has done so far, for progress reports.
struct Tally {
    blast_id: i64,
    started: Millis,
    last_report: Millis,
    sent: u64,
}

impl Tally {
    /// Tells of an outcome.
    fn announce(&mut self, outcome: &Unrecorded, emit: &mut (impl FnMut(Event) + Send)) {
        if matches!(outcome.outcome, Outcome::Sent { .. }) {
            self.sent += 1;
        }
        emit(Event::Delivery {
            blast_id: self.blast_id,
            delivery_id: outcome.delivery_id,
            outcome: outcome.outcome.clone(),
        });
    }
}

/// Why an account stopped, in words, with when it may send again if known
/// (in the account's time zone).
fn account_reason(error: &SendError, tz: chrono_tz::Tz, now: Millis) -> String {
    use crate::messenger::AccountProblem;
    let until = match error {
        SendError::Account {
            problem:
                AccountProblem::TemporarilyBanned {
                    until_ms: Some(until),
                    ..
                },
        } => Some(*until),
        SendError::Account {
            problem:
                AccountProblem::RateLimited {
                    retry_after_ms: Some(after),
                },
        } => Some(now + after),
        _ => None,
    };
    match until {
        Some(until) => format!(
            "{error}, until {} ({}).",
            crate::zone::local(tz, until).format("%Y-%m-%d %H:%M"),
            tz.name()
        ),
        None => format!("{error}."),
    }
}
