//! The send engine: takes a blast's deliveries through the state machine in
//! `store::blasts`, one message at a time, through a [`Messenger`].
//!
//! For each delivery: render the text (a missing value skips the recipient
//! with the reason, if the blast says so), record the intent, hand the
//! message over, record the outcome. Transient errors are retried with
//! exponential backoff and jitter up to a set number of attempts; an error
//! for the recipient fails it at once; an account error puts the delivery
//! back in the queue and pauses the blast with the reason. Completion is
//! recorded exactly once, when every delivery has a final outcome.
//!
//! Pacing between messages (rate, delays, caps, sending window) is not here
//! yet: this engine sends as fast as the messenger accepts.

use std::time::Duration;

use serde::Serialize;

use crate::clock::{Clock, Millis};
use crate::messenger::{ErrorClass, Messenger, Outgoing};
use crate::random::SplitMix64;
use crate::store::blasts::{DeliveryCounts, Step, StepDetails};
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
        code: String,
    },
    Failed {
        code: String,
    },
    Skipped {
        code: String,
        detail: String,
    },
    /// Back in the queue: the account could not send.
    Requeued {
        code: String,
    },
}

/// What the engine reports. The shell forwards these to the window and tray.
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
    #[serde(rename_all = "camelCase")]
    Progress {
        blast_id: i64,
        counts: DeliveryCounts,
    },
    #[serde(rename_all = "camelCase")]
    BlastPaused {
        blast_id: i64,
        code: String,
        reason: String,
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
    Paused { code: String },
    WaitingForDecision { unknown: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the blast's message cannot be used: {0}")]
    Template(#[from] template::TemplateError),
}

pub struct Engine<M, C> {
    store: Store,
    messenger: M,
    clock: C,
    retry: RetryPolicy,
}

impl<M: Messenger, C: Clock> Engine<M, C> {
    pub fn new(store: Store, messenger: M, clock: C, retry: RetryPolicy) -> Engine<M, C> {
        Engine {
            store,
            messenger,
            clock,
            retry,
        }
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

    /// Sends a blast until it completes, pauses, or only unknown ones are left.
    pub async fn run_blast(
        &self,
        blast_id: i64,
        emit: &mut (impl FnMut(Event) + Send),
    ) -> Result<RunEnd, EngineError> {
        let blast = self.store.blast_to_run(blast_id)?;
        if blast.state == "completed" {
            // Already complete: nothing to send, and completion was reported then.
            return Ok(RunEnd::Completed);
        }
        let template = Template::parse(&blast.template)?;
        let missing: MissingValue = serde_json::from_value(blast.options["missingValue"].clone())
            .unwrap_or(MissingValue::Fallback {
                text: String::new(),
            });
        self.store
            .set_blast_state(blast_id, "running", None, self.clock.now_ms())?;
        emit(Event::BlastStarted { blast_id });
        // Progress is counted from the deliveries' states; counting is a scan,
        // so it is reported every 0.5% of the blast or every second, and at the end.
        let total = self.store.delivery_counts(blast_id)?.total;
        let report_every = (total / 200).max(1);
        let mut since_report = 0u64;
        let mut last_report = self.clock.now_ms();
        loop {
            let now = self.clock.now_ms();
            // While something is due the blast cannot be complete: completion
            // is checked only when nothing is.
            let Some(delivery) = self.store.next_due_delivery(blast_id, now)? else {
                if self.store.complete_if_done(blast_id, now)? {
                    let counts = self.store.delivery_counts(blast_id)?;
                    emit(Event::Progress { blast_id, counts });
                    emit(Event::BlastCompleted { blast_id, counts });
                    return Ok(RunEnd::Completed);
                }
                match self.store.next_retry_at(blast_id)? {
                    Some(at) => {
                        tokio::time::sleep(Duration::from_millis(
                            u64::try_from(at - now).unwrap_or(0),
                        ))
                        .await;
                        continue;
                    }
                    None => {
                        let unknown = self.store.delivery_counts(blast_id)?.unknown;
                        emit(Event::NeedsDecision { blast_id, unknown });
                        return Ok(RunEnd::WaitingForDecision { unknown });
                    }
                }
            };

            let seed = template::seed_for(blast_id, delivery.phone.as_str());
            let (outcome, end) = match template.render(&delivery.fields, &missing, seed) {
                Err(error) => {
                    let details = StepDetails {
                        error_code: Some("missing_value".into()),
                        error_detail: Some(error.to_string()),
                        ..StepDetails::default()
                    };
                    self.store
                        .step_delivery(delivery.id, Step::Skip, &details, now)?;
                    let outcome = Outcome::Skipped {
                        code: "missing_value".into(),
                        detail: error.to_string(),
                    };
                    (outcome, None)
                }
                Ok(text) => self.send_one(blast_id, &delivery, text).await?,
            };
            emit(Event::Delivery {
                blast_id,
                delivery_id: delivery.id,
                outcome,
            });
            since_report += 1;
            let now = self.clock.now_ms();
            if since_report >= report_every || now - last_report >= 1_000 || end.is_some() {
                emit(Event::Progress {
                    blast_id,
                    counts: self.store.delivery_counts(blast_id)?,
                });
                since_report = 0;
                last_report = now;
            }
            if let Some((code, reason)) = end {
                self.store.set_blast_state(
                    blast_id,
                    "paused",
                    Some(&reason),
                    self.clock.now_ms(),
                )?;
                emit(Event::BlastPaused {
                    blast_id,
                    code: code.clone(),
                    reason,
                });
                return Ok(RunEnd::Paused { code });
            }
        }
    }

    /// Records the intent, hands the message over, records the outcome.
    /// Returns the outcome and, for an account error, why the blast pauses.
    async fn send_one(
        &self,
        blast_id: i64,
        delivery: &store::blasts::DueDelivery,
        text: String,
    ) -> Result<(Outcome, Option<(String, String)>), EngineError> {
        let intent = StepDetails {
            rendered_text: Some(text.clone()),
            ..StepDetails::default()
        };
        self.store.step_delivery(
            delivery.id,
            Step::StartSending,
            &intent,
            self.clock.now_ms(),
        )?;
        let message = Outgoing {
            blast_id,
            delivery_id: delivery.id,
            to: delivery.phone.clone(),
            text,
            media: None,
        };
        let result = self.messenger.send(&message).await;
        let now = self.clock.now_ms();
        let attempts = delivery.attempts + 1;
        Ok(match result {
            Ok(accepted) => {
                let details = StepDetails {
                    message_id: Some(accepted.message_id.clone()),
                    ..StepDetails::default()
                };
                self.store
                    .step_delivery(delivery.id, Step::Sent, &details, now)?;
                (
                    Outcome::Sent {
                        message_id: accepted.message_id,
                    },
                    None,
                )
            }
            Err(error) => {
                let code = error.code().to_owned();
                let mut details = StepDetails {
                    error_code: Some(code.clone()),
                    error_detail: Some(error.to_string()),
                    ..StepDetails::default()
                };
                match error.class() {
                    ErrorClass::Transient if attempts < self.retry.max_attempts => {
                        let mut random =
                            SplitMix64::new(delivery.id as u64 ^ (u64::from(attempts) << 32));
                        let at = now + self.retry.delay_ms(attempts, &mut random);
                        details.next_attempt_at = Some(at);
                        self.store
                            .step_delivery(delivery.id, Step::RetryLater, &details, now)?;
                        (Outcome::WillRetry { at_ms: at, code }, None)
                    }
                    ErrorClass::Transient | ErrorClass::Recipient => {
                        self.store
                            .step_delivery(delivery.id, Step::Fail, &details, now)?;
                        (Outcome::Failed { code }, None)
                    }
                    ErrorClass::Account => {
                        self.store
                            .step_delivery(delivery.id, Step::BackToQueue, &details, now)?;
                        let reason = error.to_string();
                        (
                            Outcome::Requeued { code: code.clone() },
                            Some((code, reason)),
                        )
                    }
                }
            }
        })
    }
}
