//! Stopping the engine's workers and the scheduler at a safe point, and
//! knowing when they have: before a restore replaces the data under them,
//! before an update restarts the app. A worker stops after the message in
//! hand is recorded (never between handing it over and recording what came
//! of it); the scheduler between two turns (each turn is one transaction).

use std::sync::Arc;

use tokio::sync::watch;

/// Shared by everything that must stop together. Cheap to clone.
#[derive(Clone)]
pub struct Shutdown {
    requested: Arc<watch::Sender<bool>>,
    running: Arc<watch::Sender<usize>>,
}

/// Held by a running worker or scheduler; dropping it says it has stopped.
#[must_use = "the task counts as running only while this is held"]
pub struct Running {
    running: Arc<watch::Sender<usize>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.running.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown {
            requested: Arc::new(watch::Sender::new(false)),
            running: Arc::new(watch::Sender::new(0)),
        }
    }

    /// Counts a task as running until the guard is dropped; none once a
    /// stop was asked for (the task should not start).
    pub fn enter(&self) -> Option<Running> {
        let mut entered = false;
        self.running.send_modify(|n| {
            // Checked inside the update, so a stop cannot slip in between.
            if !*self.requested.borrow() {
                *n += 1;
                entered = true;
            }
        });
        entered.then(|| Running {
            running: Arc::clone(&self.running),
        })
    }

    /// Whether a stop was asked for.
    pub fn is_requested(&self) -> bool {
        *self.requested.borrow()
    }

    /// Resolves once a stop is asked for (at once if it was).
    pub async fn requested(&self) {
        let mut seen = self.requested.subscribe();
        // The sender lives in `self`, so the wait cannot end with an error.
        let _ = seen.wait_for(|&stop| stop).await;
    }

    /// Asks every task to stop; `wake` rouses those waiting on their own
    /// signal. Resolves when the last one has stopped.
    pub async fn stop(&self, wake: impl Fn()) {
        self.running.send_modify(|_| {
            self.requested.send_replace(true);
        });
        wake();
        let mut running = self.running.subscribe();
        let _ = running.wait_for(|&n| n == 0).await;
    }

    /// How many tasks are running now.
    pub fn running(&self) -> usize {
        *self.running.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stop_waits_for_every_running_task_and_none_starts_after_it() {
        let shutdown = Shutdown::new();
        let first = shutdown.enter();
        let second = shutdown.enter();
        assert_eq!(shutdown.running(), 2);
        let stopping = {
            let shutdown = shutdown.clone();
            tokio::spawn(async move { shutdown.stop(|| {}).await })
        };
        shutdown.requested().await;
        assert!(
            shutdown.enter().is_none(),
            "nothing starts once a stop is asked for"
        );
        drop(first);
        tokio::task::yield_now().await;
        assert!(!stopping.is_finished(), "one task still runs");
        drop(second);
        assert!(stopping.await.is_ok());
        assert_eq!(shutdown.running(), 0);
    }
}
