//! Runs the engine inside the app: one worker per account, started at launch
//! for accounts with waiting blasts and when a blast is created or resumed.
//! The workers' events go to the window ("engine" events), to the tray's
//! tooltip, and, when a blast completes or stops by itself, to a desktop
//! notification.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use blastdesk_core::Store;
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::{Control, Engine, Event, RetryPolicy};
use blastdesk_core::messenger::{
    Accepted, AccountProblem, Faults, Messenger, Outgoing, SendError, SimulatedMessenger,
};
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::PauseCode;
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::DeliveryCounts;
use tauri::{AppHandle, Emitter};
use tauri_plugin_notification::NotificationExt;

use crate::sessions::Sessions;
use crate::words::{Lang, Words};

/// The file rehearsals "send" into, in the data folder.
pub const REHEARSAL_LEDGER: &str = "rehearsal-ledger.jsonl";

#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

struct Inner {
    app: AppHandle,
    store: Store,
    control: Control,
    ledger: PathBuf,
    workers: Mutex<HashSet<i64>>,
    sessions: Sessions,
    /// What the tray tooltip tells: running blasts by id, with name and counts.
    running: Mutex<BTreeMap<i64, (String, DeliveryCounts)>>,
}

impl Runner {
    /// Recovers from an earlier stop and starts the workers that have work.
    pub fn start(
        app: AppHandle,
        store: Store,
        control: Control,
        sessions: Sessions,
        data_dir: PathBuf,
    ) -> Runner {
        let runner = Runner {
            inner: Arc::new(Inner {
                app,
                control,
                sessions,
                ledger: data_dir.join(REHEARSAL_LEDGER),
                store,
                workers: Mutex::new(HashSet::new()),
                running: Mutex::new(BTreeMap::new()),
            }),
        };
        match runner.inner.control.recover(crate::commands::now_ms()) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                messages = n,
                "messages were being sent when Blastdesk stopped; their fate is unknown"
            ),
            Err(error) => tracing::error!("cannot recover unfinished sends: {error}"),
        }
        match runner.inner.store.accounts_with_waiting_blasts() {
            Ok(accounts) => accounts.into_iter().for_each(|a| runner.ensure_worker(a)),
            Err(error) => tracing::error!("cannot list waiting blasts: {error}"),
        }
        runner
    }

    pub fn control(&self) -> &Control {
        &self.inner.control
    }

    /// Starts the account's worker if it is not running, and wakes every worker.
    pub fn ensure_worker(&self, account_id: i64) {
        let inner = &self.inner;
        let fresh = inner
            .workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(account_id);
        if !fresh {
            inner.control.wake();
            return;
        }
        let kind = inner.store.account(account_id).ok().map(|a| a.kind);
        let runner = self.clone();
        match kind {
            Some(AccountKind::Simulated) => {
                let messenger =
                    match SimulatedMessenger::open(&inner.ledger, Faults::default(), SystemClock) {
                        Ok(messenger) => messenger,
                        Err(error) => {
                            tracing::error!("cannot open the rehearsal ledger: {error}");
                            self.forget_worker(account_id);
                            return;
                        }
                    };
                runner.spawn_worker(account_id, messenger);
            }
            Some(AccountKind::Whatsapp) => match inner.sessions.session(account_id) {
                Some(_) => runner.spawn_worker(
                    account_id,
                    LiveSession {
                        sessions: inner.sessions.clone(),
                        account_id,
                    },
                ),
                None => {
                    // Not linked or not started: its worker starts when it connects.
                    tracing::info!(account_id, "account has no session yet");
                    self.forget_worker(account_id);
                }
            },
            None => self.forget_worker(account_id),
        }
    }

    fn forget_worker(&self, account_id: i64) {
        self.inner
            .workers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&account_id);
    }

    fn spawn_worker<M: Messenger + 'static>(&self, account_id: i64, messenger: M) {
        let inner = &self.inner;
        let engine = Engine::new(
            inner.store.clone(),
            messenger,
            SystemClock,
            RetryPolicy::default(),
        )
        .with_control(inner.control.clone());
        let runner = self.clone();
        tauri::async_runtime::spawn(async move {
            tracing::info!(account_id, "worker started");
            let mut emit = |event: Event| runner.on_event(event);
            // Supervised in the core: it runs for as long as the app does.
            engine.run_account(account_id, &mut emit).await;
            runner.forget_worker(account_id);
        });
    }

    fn on_event(&self, event: Event) {
        let inner = &self.inner;
        if let Err(error) = inner.app.emit("engine", &event) {
            tracing::warn!("cannot tell the window: {error}");
        }
        let name = |blast_id: i64| {
            inner
                .store
                .blast_summary(blast_id)
                .map(|b| b.name)
                .unwrap_or_else(|_| format!("Blast {blast_id}"))
        };
        // Read only for the events that speak (not for every delivery).
        let lang = || Lang::of(&inner.store);
        let mut running = inner.running.lock().unwrap_or_else(PoisonError::into_inner);
        match &event {
            Event::BlastStarted { blast_id } => {
                if let Ok(blast) = inner.store.blast_summary(*blast_id) {
                    running.insert(*blast_id, (blast.name, blast.counts));
                }
            }
            Event::Progress {
                blast_id, counts, ..
            } => {
                if let Some(entry) = running.get_mut(blast_id) {
                    entry.1 = *counts;
                }
            }
            Event::BlastCompleted { blast_id, counts } => {
                running.remove(blast_id);
                self.notify(
                    &Words::BlastComplete {
                        name: &name(*blast_id),
                    }
                    .text(lang()),
                    &Words::Outcomes {
                        sent: counts.sent,
                        failed: counts.failed,
                        skipped: counts.skipped,
                    }
                    .text(lang()),
                );
            }
            Event::BlastPaused {
                blast_id,
                code,
                reason,
            } => {
                running.remove(blast_id);
                if *code != PauseCode::ByYou {
                    let title = Words::BlastPaused {
                        name: &name(*blast_id),
                    }
                    .text(lang());
                    self.notify(&title, reason);
                }
            }
            Event::NeedsDecision { blast_id, unknown } => {
                running.remove(blast_id);
                self.notify(
                    &Words::NeedsDecision {
                        name: &name(*blast_id),
                    }
                    .text(lang()),
                    &Words::MaybeSent { unknown: *unknown }.text(lang()),
                );
            }
            Event::BlastCancelled { blast_id, .. } => {
                running.remove(blast_id);
            }
            Event::Delivery { .. } | Event::Waiting { .. } => return,
        }
        let tooltip = tooltip(&running, lang());
        drop(running);
        crate::tray::set_tooltip(&inner.app, &tooltip);
    }

    /// Shows a desktop notification (logged, never fatal, where there is no
    /// notification service).
    pub fn notify(&self, title: &str, body: &str) {
        notify(&self.inner.app, title, body);
    }
}

/// An account's messenger: whichever session the account has now. Linking
/// again replaces the session (a new client, new keys); the worker, which
/// outlives it, then sends through the new one, never through a stopped one.
struct LiveSession {
    sessions: Sessions,
    account_id: i64,
}

impl LiveSession {
    fn current(&self) -> Result<Arc<blastdesk_whatsapp::session::Session>, SendError> {
        self.sessions
            .session(self.account_id)
            .ok_or(SendError::Account {
                problem: AccountProblem::NotConnected,
            })
    }
}

impl Messenger for LiveSession {
    fn ready(&self) -> Result<(), SendError> {
        self.current()?.ready()
    }

    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let session = self.current()?;
        session.send(message).await
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        let session = self.current()?;
        session.check_numbers(phones).await
    }
}

/// Shows a desktop notification (logged, never fatal, where there is no
/// notification service). On a blocking thread: a notification service that
/// is slow to answer (or absent, so the call waits for its timeout) must not
/// hold up the engine's events or the window's updates.
pub fn notify(app: &AppHandle, title: &str, body: &str) {
    let (app, title, body) = (app.clone(), title.to_owned(), body.to_owned());
    tauri::async_runtime::spawn_blocking(move || {
        let shown = app.notification().builder().title(title).body(body).show();
        if let Err(error) = shown {
            tracing::warn!("cannot show a notification: {error}");
        }
    });
}

/// "Blastdesk", or what is sending: "Blastdesk: Promo 120 of 500".
fn tooltip(running: &BTreeMap<i64, (String, DeliveryCounts)>, lang: Lang) -> String {
    if running.is_empty() {
        return "Blastdesk".into();
    }
    let lines: Vec<String> = running
        .values()
        .map(|(name, c)| {
            Words::Progress {
                name,
                done: c.finished(),
                total: c.total,
            }
            .text(lang)
        })
        .collect();
    format!("Blastdesk\n{}", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tooltip_lists_running_blasts() {
        let mut running = BTreeMap::new();
        assert_eq!(tooltip(&running, Lang::En), "Blastdesk");
        let counts = DeliveryCounts {
            total: 500,
            sent: 118,
            failed: 2,
            ..DeliveryCounts::default()
        };
        running.insert(3, ("Promo".to_owned(), counts));
        assert_eq!(
            tooltip(&running, Lang::En),
            "Blastdesk\nPromo: 120 of 500 done"
        );
    }
}
