//! The app's WhatsApp sessions: one per linked account, resumed at launch,
//! started by "Link account", ended by "Log out" or "Remove". Their events
//! go to the window ("account" events) and the tray; a session that connects
//! gets its account's send worker started.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use blastdesk_core::Store;
use blastdesk_core::account::{AccountStatus, LinkSignal};
use blastdesk_core::clock::SystemClock;
use blastdesk_core::engine::Control;
use blastdesk_core::store::AccountKind;
use blastdesk_whatsapp::session::{self, Network, Session, SessionConfig, SessionEvent, Start};
use blastdesk_whatsapp::version;
use serde::Serialize;
use tauri::{AppHandle, Emitter};

use crate::words::{Lang, Words};

/// What the window is told about an account.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum AccountEvent {
    #[serde(rename_all = "camelCase")]
    Status {
        account_id: i64,
        status: AccountStatus,
    },
    #[serde(rename_all = "camelCase")]
    Qr {
        account_id: i64,
        svg: String,
        /// What the code encodes (the window's tests scan it from here).
        payload: String,
        expires_at_ms: i64,
    },
    /// A customer replied with an opt-out word and is now on the do-not-contact list.
    #[serde(rename_all = "camelCase")]
    OptOut {
        account_id: i64,
        phone: String,
        word: String,
    },
    /// The account's WhatsApp profile name, which the window suggests as
    /// its name after linking.
    #[serde(rename_all = "camelCase")]
    ProfileName { account_id: i64, name: String },
}

/// What to do when an account connects.
type OnConnected = Box<dyn Fn(i64) + Send + Sync>;

#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    app: AppHandle,
    store: Store,
    control: Control,
    data_dir: PathBuf,
    live: Mutex<HashMap<i64, Arc<Session>>>,
    /// Called when an account connects (the runner starts its worker).
    on_connected: Mutex<Option<OnConnected>>,
}

impl Sessions {
    pub fn new(app: AppHandle, store: Store, control: Control, data_dir: PathBuf) -> Sessions {
        Sessions {
            inner: Arc::new(Inner {
                app,
                store,
                control,
                data_dir,
                live: Mutex::new(HashMap::new()),
                on_connected: Mutex::new(None),
            }),
        }
    }

    pub fn on_connected(&self, callback: impl Fn(i64) + Send + Sync + 'static) {
        *lock(&self.inner.on_connected) = Some(Box::new(callback));
    }

    /// Connects every linked WhatsApp account again (at launch).
    pub fn resume_all(&self) {
        if Network::scripted() {
            return; // scripted accounts have no client to resume
        }
        let accounts = match self.inner.store.list_accounts() {
            Ok(accounts) => accounts,
            Err(error) => {
                tracing::error!("cannot list accounts: {error}");
                return;
            }
        };
        for account in accounts {
            if account.kind != AccountKind::Whatsapp {
                continue;
            }
            if account.status.is_linked() {
                let session = self.fresh(account.id);
                tauri::async_runtime::spawn(session.run(Start::Resume));
            } else if matches!(
                account.status,
                AccountStatus::AwaitingQr { .. } | AccountStatus::AwaitingPairCode { .. }
            ) {
                // A link the app closed in the middle of: ready to link again.
                self.cancel_link(account.id, true);
            }
        }
    }

    /// Starts linking an account: QR codes, or a pairing code for `phone`.
    pub fn link(&self, account_id: i64, phone: Option<String>) {
        if let Some(old) = lock(&self.inner.live).remove(&account_id) {
            old.stop();
        }
        let session = self.fresh(account_id);
        let start = match phone {
            Some(phone) => Start::LinkWithCode { phone },
            None => Start::LinkWithQr,
        };
        if Network::scripted() {
            session.begin(&start);
            let script = session::scripted_link("+6281234567890");
            tauri::async_runtime::spawn(async move {
                Arc::clone(&session).play(script).await;
                session.play_replies(session::scripted_replies()).await;
            });
        } else {
            tauri::async_runtime::spawn(session.run(start));
        }
    }

    /// Gives up an account's link attempt (the person closed the code): it
    /// is unlinked again, ready to link. One the phone already accepted
    /// goes on.
    /// Whether it was given up (false: the phone had accepted it already,
    /// or nothing was being linked). `leftover`: the store shows a code of
    /// an earlier run, which a session is made to give up.
    pub fn cancel_link(&self, account_id: i64, leftover: bool) -> bool {
        let session = match self.session(account_id) {
            Some(session) => session,
            None if leftover => self.fresh(account_id),
            None => return false,
        };
        session.cancel_link();
        let cancelled = session.status() == AccountStatus::Unlinked;
        if cancelled {
            // This session only: a new link started meanwhile keeps its own.
            let mut live = lock(&self.inner.live);
            if live
                .get(&account_id)
                .is_some_and(|current| Arc::ptr_eq(current, &session))
            {
                live.remove(&account_id);
            }
        }
        cancelled
    }

    /// Connects an account again with its keys, now: one that was
    /// disconnected (instead of waiting for the next attempt), replaced by
    /// another session, or outdated (after a newer version was set).
    pub fn reconnect(&self, account_id: i64) {
        if let Some(old) = lock(&self.inner.live).remove(&account_id) {
            old.stop();
        }
        let session = self.fresh(account_id);
        if Network::scripted() {
            // A scripted account has no client: it connects on cue.
            session.begin(&Start::Resume);
            let script = vec![(std::time::Duration::from_millis(300), LinkSignal::Connected)];
            tauri::async_runtime::spawn(session.play(script));
        } else {
            tauri::async_runtime::spawn(session.run(Start::Resume));
        }
    }

    /// Logs an account out and deletes its keys (works offline too);
    /// whether WhatsApp was told (see [`Session::logout`]).
    pub async fn logout(&self, account_id: i64) -> bool {
        let session = lock(&self.inner.live)
            .get(&account_id)
            .cloned()
            .unwrap_or_else(|| self.fresh(account_id));
        let told = session.logout().await;
        lock(&self.inner.live).remove(&account_id);
        told
    }

    /// Stops an account's session and waits until it has let go of its
    /// session store (so the keys can be deleted, on Windows too).
    pub async fn stop_and_release(&self, account_id: i64) {
        let session = lock(&self.inner.live).remove(&account_id);
        if let Some(session) = session {
            session.stop();
            session.released().await;
        }
    }

    /// The live session of an account, if it has one.
    pub fn session(&self, account_id: i64) -> Option<Arc<Session>> {
        lock(&self.inner.live).get(&account_id).cloned()
    }

    fn fresh(&self, account_id: i64) -> Arc<Session> {
        let inner = Arc::clone(&self.inner);
        let session = Session::new(SessionConfig {
            account_id,
            data_dir: self.inner.data_dir.clone(),
            store: self.inner.store.clone(),
            control: self.inner.control.clone(),
            version: version::current(&self.inner.store),
            clock: Arc::new(SystemClock),
            notify: Arc::new(move |event| inner.tell(event)),
            network: Network::from_env(),
        });
        lock(&self.inner.live).insert(account_id, Arc::clone(&session));
        session
    }
}

impl Inner {
    fn tell(&self, event: SessionEvent) {
        let event = match event {
            SessionEvent::Status { account_id, status } => {
                if status == AccountStatus::Connected
                    && let Some(callback) = lock(&self.on_connected).as_ref()
                {
                    callback(account_id);
                }
                AccountEvent::Status { account_id, status }
            }
            SessionEvent::Qr {
                account_id,
                svg,
                payload,
                expires_at_ms,
            } => AccountEvent::Qr {
                account_id,
                svg,
                payload,
                expires_at_ms,
            },
            SessionEvent::ProfileName { account_id, name } => {
                AccountEvent::ProfileName { account_id, name }
            }
            SessionEvent::OptOut {
                account_id,
                phone,
                word,
            } => {
                let lang = Lang::of(&self.store);
                crate::runner::notify(
                    &self.app,
                    &Words::CustomerOptedOut.text(lang),
                    &Words::OptedOut {
                        phone: &phone,
                        word: &word,
                    }
                    .text(lang),
                );
                AccountEvent::OptOut {
                    account_id,
                    phone,
                    word,
                }
            }
        };
        if let Err(error) = self.app.emit("account", &event) {
            tracing::warn!("cannot tell the window: {error}");
        }
        crate::tray::refresh_attention(&self.app, &self.store);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
