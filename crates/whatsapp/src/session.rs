//! A linked account's live WhatsApp client.
//!
//! [`Session`] owns the whatsapp-rust client of one account, its session
//! store file (`data_dir::session_file`), and the account's
//! [`AccountMachine`]. Every event the client reports goes through
//! [`signals::map_event`] into the machine, and the session carries out the
//! effects it answers with: recording the status, showing QR codes,
//! deleting keys, pausing and resuming the account's blasts, reconnecting.
//! The library's own reconnect loop is turned off so that when to reconnect
//! (and what the person is told about it) is the machine's decision.
//!
//! It is also the account's [`Messenger`]: text and media with a caption,
//! and the number check.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use blastdesk_core::Store;
use blastdesk_core::account::{AccountMachine, AccountStatus, Effect, LinkSignal};
use blastdesk_core::clock::{Clock, Millis};
use blastdesk_core::data_dir;
use blastdesk_core::engine::Control;
use blastdesk_core::messenger::{
    Accepted, AccountProblem, Media, MediaKind, Messenger, Outgoing, RecipientProblem, SendError,
};
use blastdesk_core::phone::Phone;
use blastdesk_core::reason::PauseCode;
use tokio::sync::oneshot;
use whatsapp_rust::download::MediaType;
use whatsapp_rust::http::HttpClient;
use whatsapp_rust::prelude::{Bot, Event, SqliteStore};
use whatsapp_rust::transport::{TokioWebSocketTransportFactory, TransportFactory};
use whatsapp_rust::upload::UploadOptions;
use whatsapp_rust::waproto::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp as wa;
use whatsapp_rust::{Client, SendOptions};

use crate::signals::{self, Mapped, Reply};
use crate::version::WebVersion;
use crate::{jid, qr};

/// What a session tells the window or the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    Status {
        account_id: i64,
        status: AccountStatus,
    },
    /// A QR code to show, as SVG, and the text it encodes (for a terminal).
    Qr {
        account_id: i64,
        svg: String,
        payload: String,
        expires_at_ms: Millis,
    },
    /// Someone replied with an opt-out word and is now on the do-not-contact list.
    OptOut {
        account_id: i64,
        phone: String,
        word: String,
    },
    /// The account's WhatsApp profile name (push name), as WhatsApp sent it
    /// after linking or when it changed (the window suggests it as the
    /// account's name).
    ProfileName { account_id: i64, name: String },
}

/// How a session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Connect with the stored keys.
    Resume,
    /// A new link with QR codes.
    LinkWithQr,
    /// A new link with a pairing code for this number (E.164).
    LinkWithCode { phone: String },
}

/// What a session needs from its surroundings.
pub struct SessionConfig {
    pub account_id: i64,
    pub data_dir: PathBuf,
    pub store: Store,
    pub control: Control,
    /// The WhatsApp Web version to announce; `None`: WhatsApp's current
    /// one, which the library fetches (at most daily).
    pub version: Option<WebVersion>,
    pub clock: Arc<dyn Clock>,
    pub notify: Arc<dyn Fn(SessionEvent) + Send + Sync>,
    /// How the client reaches WhatsApp: [`Network::real`] in the app; tests
    /// give one that never reaches anything.
    pub network: Network,
}

/// How the client reaches WhatsApp: the transport to its servers, and the
/// web (media uploads, WhatsApp Web's current version).
#[derive(Clone)]
pub struct Network {
    transport: Arc<dyn TransportFactory>,
    web: Web,
}

/// The client's HTTP client.
#[derive(Clone)]
pub struct Web(Arc<dyn HttpClient>);

impl Network {
    /// WhatsApp Web's WebSocket and the web.
    pub fn real() -> Network {
        Network {
            transport: Arc::new(TokioWebSocketTransportFactory::new()),
            web: Web(Arc::new(whatsapp_rust::http::UreqHttpClient::new())),
        }
    }

    /// Any transport (tests: one that fails as a computer offline does, or
    /// a test server); the web reaches nothing unless [`Network::with_web`].
    pub fn custom(factory: impl TransportFactory + 'static) -> Network {
        Network {
            transport: Arc::new(factory),
            web: Web(Arc::new(Offline)),
        }
    }

    /// The same transport with this web.
    pub fn with_web(mut self, web: impl HttpClient + 'static) -> Network {
        self.web = Web(Arc::new(web));
        self
    }
}

/// Scripts the network for automated runs: `offline` makes every
/// connection fail as on a computer without a network; `scripted` plays a
/// simulated link; `ws://127.0.0.1:PORT/...` connects to a test server on
/// this computer (debug builds only: see [`blastdesk_core::hooks`]).
pub const NETWORK_ENV: &str = "BLASTDESK_NETWORK";

/// How [`NETWORK_ENV`] names a test server: on the loopback address only.
const TEST_SERVER_PREFIX: &str = "ws://127.0.0.1:";

impl Network {
    /// The real network, unless [`NETWORK_ENV`] scripts another.
    pub fn from_env() -> Network {
        let Some(value) = blastdesk_core::hooks::test_env(NETWORK_ENV) else {
            return Network::real();
        };
        let value = value.to_string_lossy();
        if value == "offline" {
            return Network::custom(Offline);
        }
        // A test server on this computer (`wa-test-server`'s listener): the
        // loopback address only, never anywhere else.
        if let Some(rest) = value.strip_prefix(TEST_SERVER_PREFIX)
            && rest
                .split('/')
                .next()
                .is_some_and(|port| port.parse::<u16>().is_ok())
        {
            return Network::custom(
                TokioWebSocketTransportFactory::new().with_url(value.into_owned()),
            );
        }
        Network::real()
    }

    /// [`NETWORK_ENV`] asks for scripted links ([`Session::play`]).
    pub fn scripted() -> bool {
        blastdesk_core::hooks::test_env(NETWORK_ENV).is_some_and(|value| value == "scripted")
    }
}

/// The link a scripted account goes through: two QR codes, the phone scans
/// the second, the restart after pairing, connected.
pub fn scripted_link(phone: &str) -> Vec<(Duration, LinkSignal)> {
    let ms = Duration::from_millis;
    vec![
        (
            ms(300),
            LinkSignal::QrCode {
                code: "2@scripted-link-first-code".into(),
                valid_for_ms: 1_500,
            },
        ),
        (
            ms(1_500),
            LinkSignal::QrCode {
                code: "2@scripted-link-second-code".into(),
                valid_for_ms: 20_000,
            },
        ),
        (
            ms(1_500),
            LinkSignal::PairSuccess {
                phone: Some(phone.to_owned()),
            },
        ),
        (
            ms(200),
            LinkSignal::Disconnected {
                reason: "stream ended (EOF)".into(),
                reached: true,
            },
        ),
        (ms(300), LinkSignal::Connected),
    ]
}

/// What customers of a scripted account reply once it is connected: one
/// opts out (so the opt-out path can be followed end to end), one thanks.
pub fn scripted_replies() -> Vec<(Duration, Reply)> {
    let reply = |phone: &str, text: &str| Reply {
        phone: phone.to_owned(),
        text: text.to_owned(),
    };
    vec![
        (
            Duration::from_millis(500),
            reply("+6281299990001", "Terima kasih!"),
        ),
        (Duration::from_millis(200), reply("+6281299990002", "Stop!")),
    ]
}

/// What a transport factory makes: the transport and its events.
type Transported = Result<
    (
        Arc<dyn whatsapp_rust::transport::Transport>,
        whatsapp_rust::async_channel::Receiver<whatsapp_rust::transport::TransportEvent>,
    ),
    whatsapp_rust::anyhow::Error,
>;

/// A transport that never opens, as with no network.
pub struct Offline;

#[whatsapp_rust::async_trait]
impl TransportFactory for Offline {
    async fn create_transport(&self) -> Transported {
        Err(whatsapp_rust::anyhow::anyhow!("no network"))
    }
}

#[whatsapp_rust::async_trait]
impl TransportFactory for Network {
    async fn create_transport(&self) -> Transported {
        self.transport.create_transport().await
    }
}

#[whatsapp_rust::async_trait]
impl HttpClient for Offline {
    async fn execute(
        &self,
        _request: whatsapp_rust::http::HttpRequest,
    ) -> whatsapp_rust::anyhow::Result<whatsapp_rust::http::HttpResponse> {
        Err(whatsapp_rust::anyhow::anyhow!("no network"))
    }
}

#[whatsapp_rust::async_trait]
impl HttpClient for Web {
    async fn execute(
        &self,
        request: whatsapp_rust::http::HttpRequest,
    ) -> whatsapp_rust::anyhow::Result<whatsapp_rust::http::HttpResponse> {
        self.0.execute(request).await
    }
}

pub struct Session {
    config: SessionConfig,
    machine: Mutex<AccountMachine>,
    /// The machine's status as it changes, for those who wait on one.
    status_seen: tokio::sync::watch::Sender<AccountStatus>,
    client: Mutex<Option<Arc<Client>>>,
    /// Told when a client has ended and let go of the session store.
    client_closed: tokio::sync::Notify,
    /// Told when the next attempt's time changes.
    attempt_moved: tokio::sync::Notify,
    /// Set while Blastdesk itself logs out, to tell that logout from the phone's.
    logging_out: AtomicBool,
    /// The client must not be started again (logout, ban, takeover, ...).
    stopped: AtomicBool,
    /// Whether the current connection reached WhatsApp at all.
    reached: AtomicBool,
    reconnect_at: Mutex<Option<Millis>>,
    /// Wakes the wait before a reconnection when the session stops.
    woken: tokio::sync::Notify,
    /// Sends waiting for the server's ack, by message id: the nack code,
    /// or `None` for a clean ack.
    acks: Mutex<HashMap<String, oneshot::Sender<Option<String>>>>,
    /// Attachments uploaded, by file, with when.
    uploads: Mutex<HashMap<PathBuf, (Millis, whatsapp_rust::upload::UploadResponse)>>,
    /// Counts the clients this session made; a client's events are heard
    /// only while it is the current one (an old client's QR rotation or
    /// pairing task would otherwise speak for the account after its end).
    generation: AtomicU64,
    /// The keys are to be deleted once the running client has let go of them.
    forget_pending: AtomicBool,
    /// The last client's session store, to know when SQLite has let go of
    /// its file (only then can its keys be deleted on Windows).
    store: Mutex<Option<std::sync::Weak<dyn whatsapp_rust::store::traits::Backend>>>,
    /// Set while a client opens the session file, until its store is in
    /// `store`: a deletion then would race the opening (which recreates the
    /// file, or holds it so Windows refuses), so it waits.
    opening: AtomicBool,
    /// Which opening of the session file (see [`note_opened`]) is this
    /// session's: it deletes keys only if no later one opened the file.
    opened: AtomicU64,
    /// The number of a link by pairing code, until the phone accepts it: a
    /// reconnection during the attempt and WhatsApp's refresh ask for a code
    /// again.
    pair_phone: Mutex<Option<String>>,
    /// WhatsApp said "outdated": the session fetches the current version
    /// and tries again, once, before the account is outdated.
    outdated_retry: AtomicBool,
    version_retried: AtomicBool,
    fetched_version: Mutex<Option<WebVersion>>,
}

/// How long a send waits for the server's ack. Without one in this time
/// the message counts as sent (the library wrote it); a nack after that is
/// still recorded ([`Store::refuse_sent`]).
const ACK_WAIT: Duration = Duration::from_secs(20);

/// How long an upload is used again for more messages before the file is
/// uploaded anew.
const UPLOAD_REUSE: Millis = 24 * 3_600_000;

/// The name the phone shows for a linked Blastdesk.
pub const DEVICE_NAME: &str = "Blastdesk";

/// How long a logout waits to connect (to tell WhatsApp), and for the
/// client to close afterwards.
const LOGOUT_CONNECT_WAIT: Duration = Duration::from_secs(30);

impl Session {
    pub fn new(config: SessionConfig) -> Arc<Session> {
        let status = config
            .store
            .account(config.account_id)
            .map_or(AccountStatus::Unlinked, |a| a.status);
        Arc::new(Session {
            status_seen: tokio::sync::watch::Sender::new(status.clone()),
            client_closed: tokio::sync::Notify::new(),
            attempt_moved: tokio::sync::Notify::new(),
            // Each account's reconnections spread differently.
            machine: Mutex::new(
                AccountMachine::new(status)
                    .with_jitter((config.account_id as u64) ^ (config.clock.now_ms() as u64)),
            ),
            client: Mutex::new(None),
            logging_out: AtomicBool::new(false),
            stopped: AtomicBool::new(false),
            reached: AtomicBool::new(false),
            reconnect_at: Mutex::new(None),
            woken: tokio::sync::Notify::new(),
            acks: Mutex::new(HashMap::new()),
            uploads: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            forget_pending: AtomicBool::new(false),
            store: Mutex::new(None),
            opening: AtomicBool::new(false),
            opened: AtomicU64::new(0),
            pair_phone: Mutex::new(None),
            outdated_retry: AtomicBool::new(false),
            version_retried: AtomicBool::new(false),
            fetched_version: Mutex::new(None),
            config,
        })
    }

    pub fn account_id(&self) -> i64 {
        self.config.account_id
    }

    pub fn status(&self) -> AccountStatus {
        lock(&self.machine).status().clone()
    }

    /// Runs the session until it stops for good (logout, ban, takeover,
    /// outdated client, a link attempt that ended) or [`Session::stop`].
    /// The status changes to "connecting" at once, before the future runs.
    pub fn run(
        self: &Arc<Self>,
        start: Start,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.begin(&start);
        let session = Arc::clone(self);
        async move { session.supervise().await }
    }

    /// What starting does at once: "connecting", and for a new link a fresh
    /// session store.
    pub fn begin(&self, start: &Start) {
        // Before the first signal, so that its effects (a reconnection at a
        // ban's end) are carried out.
        self.stopped.store(false, Ordering::SeqCst);
        match start {
            Start::LinkWithCode { phone } => *lock(&self.pair_phone) = Some(phone.clone()),
            Start::LinkWithQr => *lock(&self.pair_phone) = None,
            Start::Resume => {}
        }
        if *start == Start::Resume {
            self.signal(LinkSignal::Resumed);
        } else {
            // A new link attempt builds a new client on a fresh session store.
            if let Err(error) = data_dir::forget_session(&self.config.data_dir, self.account_id()) {
                tracing::warn!("cannot clear the old session: {error}");
            }
            self.signal(LinkSignal::LinkStarted);
        }
    }

    async fn supervise(self: Arc<Self>) {
        // Started during a temporary ban: connect when it ends, not before.
        let banned = lock(&self.reconnect_at).is_some();
        if banned && !self.wait_for_attempt().await {
            return;
        }
        loop {
            self.reached.store(false, Ordering::SeqCst);
            *lock(&self.reconnect_at) = None;
            if let Err(error) = self.connect_once().await {
                tracing::warn!(
                    account_id = self.account_id(),
                    "cannot start WhatsApp: {error}"
                );
            }
            if self.outdated_retry.swap(false, Ordering::SeqCst) {
                match whatsapp_rust::version::fetch_latest_app_version(&self.config.network.web.0)
                    .await
                {
                    Ok((a, b, c)) if !self.stopped.load(Ordering::SeqCst) => {
                        tracing::info!(
                            account_id = self.account_id(),
                            "WhatsApp said outdated; trying its current version {a}.{b}.{c}"
                        );
                        *lock(&self.fetched_version) = Some(WebVersion(a, b, c));
                        continue;
                    }
                    Ok(_) => return,
                    Err(error) => {
                        tracing::warn!("cannot fetch WhatsApp Web's current version: {error}");
                        self.signal(LinkSignal::ClientOutdated);
                    }
                }
            }
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            if lock(&self.reconnect_at).is_none() {
                // The client ended without a disconnect event: it never
                // reached WhatsApp (no network, DNS, a firewall), or the end
                // was one the library expects, like the restart WhatsApp asks
                // for right after pairing (the library reports no event for
                // it). Either way the machine says when to connect again.
                let reached = self.reached.load(Ordering::SeqCst);
                self.signal(LinkSignal::Disconnected {
                    reason: if reached {
                        "the connection ended".into()
                    } else {
                        "cannot reach WhatsApp".into()
                    },
                    reached,
                });
            }
            if lock(&self.reconnect_at).is_none() || !self.wait_for_attempt().await {
                return;
            }
        }
    }

    /// Waits until the next attempt's time, read again whenever it changes
    /// (a ban that arrives during the wait moves it to the ban's end), or a
    /// stop; whether the session goes on.
    async fn wait_for_attempt(&self) -> bool {
        loop {
            let woken = self.woken.notified();
            let moved = self.attempt_moved.notified();
            tokio::pin!(woken, moved);
            woken.as_mut().enable();
            moved.as_mut().enable();
            if self.stopped.load(Ordering::SeqCst) {
                return false;
            }
            let Some(at) = *lock(&self.reconnect_at) else {
                return true;
            };
            let wait = at - self.config.clock.now_ms();
            if wait <= 0 {
                return true;
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait as u64)) => return !self.stopped.load(Ordering::SeqCst),
                () = woken => {}
                () = moved => {}
            }
        }
    }

    /// One client, from connect until its connection ends.
    async fn connect_once(self: &Arc<Self>) -> Result<(), String> {
        let dir =
            data_dir::ensure_sessions_dir(&self.config.data_dir).map_err(|e| e.to_string())?;
        let file = data_dir::session_file(&self.config.data_dir, self.account_id());
        tracing::debug!(dir = %dir.display(), "session store");
        // As a URI, so that a path of any length opens on Windows too
        // (blastdesk_core::store::file).
        let opening = Opening::start(&self.opening);
        let backend: Arc<dyn whatsapp_rust::store::traits::Backend> = Arc::new(
            SqliteStore::new(&blastdesk_core::store::file::uri(&file))
                .await
                .map_err(|e| e.to_string())?,
        );
        // Whether anything (the bot, the client, a task of the library) still
        // holds the session store open: its keys are deleted only once
        // nothing does (Windows refuses to delete an open file).
        let store_held = Arc::downgrade(&backend);
        *lock(&self.store) = Some(store_held.clone());
        drop(opening);
        self.opened.store(note_opened(&file), Ordering::SeqCst);
        let session = Arc::clone(self);
        let generation = self.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let mut builder = Bot::builder()
            .with_backend_arc(backend)
            .with_transport_factory(self.config.network.clone())
            .with_http_client(self.config.network.web.clone())
            // How the phone lists the device (Linked devices): "Blastdesk",
            // a desktop app, instead of an unknown device.
            .with_device_props(
                whatsapp_rust::wacore::store::DevicePropsOverride::new()
                    .with_os(DEVICE_NAME)
                    .with_platform_type(wa::device_props::PlatformType::DESKTOP),
            )
            .skip_history_sync()
            .with_event_handler(Events {
                session,
                generation,
            });
        // The named version, else one fetched after WhatsApp said "outdated",
        // else the library's own (fetched daily).
        let version = self.config.version.or(*lock(&self.fetched_version));
        if let Some(version) = version {
            builder = builder.with_version(version.tuple());
        }
        let pair_phone = lock(&self.pair_phone).clone();
        if let Some(phone) = pair_phone {
            builder = builder.with_pair_code(pair_code_options(&phone));
        }
        let bot = builder.build().await.map_err(|e| e.to_string())?;
        let client = bot.client();
        // Reconnecting is the account machine's decision, not the library's.
        client.enable_auto_reconnect.store(false, Ordering::SeqCst);
        *lock(&self.client) = Some(Arc::clone(&client));
        bot.run().await;
        *lock(&self.client) = None;
        // A 429 stream error has no event in whatsapp-rust 0.7.0; the library
        // only raises its own backoff count (by five). Ours follows.
        let penalty = client.stats().reconnect_errors;
        if penalty > 0 {
            self.signal(LinkSignal::SlowedDown { steps: penalty });
        }
        // The library saves in the background: what it learnt (the paired
        // device after the restart WhatsApp asks for) is on disk before the
        // next client reads the store, or that client would pair again.
        if let Err(error) = client.persistence_manager().flush().await {
            tracing::warn!("cannot save the session: {error}");
        }
        drop(client);
        let forgotten = if self.forget_pending.load(Ordering::SeqCst) {
            store_released(&store_held).await;
            self.forget_keys_off_runtime().await
        } else {
            Ok(())
        };
        self.client_closed.notify_waiters();
        forgotten
    }

    /// Handles one of the library's events, inline on its dispatch path
    /// (see [`Events`]): what an event changes is done before the library
    /// goes on, so a client's last events are heard before its run ends.
    fn on_event(self: &Arc<Self>, event: &Event) {
        let logging_out = self.logging_out.load(Ordering::SeqCst);
        match signals::map_event(event, logging_out) {
            Some(Mapped::Account(LinkSignal::ClientOutdated))
                if self.config.version.is_none()
                    && !self.version_retried.swap(true, Ordering::SeqCst) =>
            {
                // Told to the machine only if the current version fails too.
                self.reached.store(true, Ordering::SeqCst);
                self.outdated_retry.store(true, Ordering::SeqCst);
            }
            Some(Mapped::Account(signal)) => {
                self.reached.store(true, Ordering::SeqCst);
                if signal == LinkSignal::Connected {
                    // A later "outdated" deserves its own retry.
                    self.version_retried.store(false, Ordering::SeqCst);
                }
                self.signal(signal);
            }
            Some(Mapped::Receipt {
                message_ids,
                receipt,
                at_ms,
            }) => {
                for id in message_ids {
                    if let Err(error) = self.config.store.record_receipt(&id, receipt, at_ms) {
                        tracing::warn!("cannot record a receipt: {error}");
                    }
                }
            }
            Some(Mapped::Ack { message_id, nack }) => self.on_ack(message_id, nack),
            Some(Mapped::ProfileName(name)) => (self.config.notify)(SessionEvent::ProfileName {
                account_id: self.account_id(),
                name,
            }),
            Some(Mapped::Replies { replies, by_lid }) => {
                self.on_replies(replies);
                // A sender known only by LID: the library knows its number
                // once it has seen the mapping (a STOP is never dropped for
                // it). The lookup may read the store, so it is not inline.
                let client = lock(&self.client).clone();
                if let (false, Some(client)) = (by_lid.is_empty(), client) {
                    let session = Arc::clone(self);
                    tokio::spawn(async move {
                        let mut found = Vec::new();
                        for (lid, text) in by_lid {
                            match client.get_lid_pn_entry(&lid).await {
                                Ok(Some(entry)) => found.push(Reply {
                                    phone: format!("+{}", entry.phone_number),
                                    text,
                                }),
                                Ok(None) => {
                                    tracing::warn!("a reply from a LID with no known number")
                                }
                                Err(error) => {
                                    tracing::warn!("cannot look up a LID's number: {error}")
                                }
                            }
                        }
                        session.on_replies(found);
                    });
                }
            }
            None => {}
        }
    }

    /// The server's ack of a message: to the send waiting for it, or, when
    /// none waits any more, a late nack fails the delivery it refused (the
    /// message reached no one) and an account-wide refusal pauses the
    /// account's blasts.
    fn on_ack(&self, message_id: String, nack: Option<String>) {
        if let Some(waiting) = lock(&self.acks).remove(&message_id) {
            // A send that gave up waiting has dropped its receiver: then
            // the late answer is handled below.
            match waiting.send(nack) {
                Ok(()) => return,
                Err(nack) => return self.late_nack(&message_id, nack),
            }
        }
        self.late_nack(&message_id, nack);
    }

    fn late_nack(&self, message_id: &str, nack: Option<String>) {
        let Some(code) = nack else { return };
        let error = signals::nack_error(&code);
        let now = self.config.clock.now_ms();
        let detail = format!("{error}.");
        match self
            .config
            .store
            .refuse_sent(self.account_id(), message_id, &detail, now)
        {
            Ok(Some((blast_id, delivery_id))) => {
                tracing::warn!(
                    blast_id,
                    delivery_id,
                    code,
                    "WhatsApp refused a sent message"
                );
            }
            Ok(None) => {}
            Err(error) => tracing::warn!("cannot record a refused message: {error}"),
        }
        if let Some(pause) = error.pause_code()
            && let Err(error) =
                self.config
                    .control
                    .pause_account(self.account_id(), pause, &format!("{error}."))
        {
            tracing::warn!("cannot pause the account's blasts: {error}");
        }
    }

    /// Customers' replies: an opt-out word puts the sender on the
    /// do-not-contact list (their waiting messages are skipped) and is told.
    pub fn on_replies(&self, replies: Vec<Reply>) {
        let now = self.config.clock.now_ms();
        for reply in replies {
            let phone = Phone::from_e164_unchecked(reply.phone);
            match self.config.store.handle_reply(&phone, &reply.text, now) {
                Ok(Some(opt_out)) if opt_out.added => {
                    tracing::info!(account = self.account_id(), "a customer opted out by reply");
                    (self.config.notify)(SessionEvent::OptOut {
                        account_id: self.account_id(),
                        phone: opt_out.phone.as_str().to_owned(),
                        word: opt_out.word,
                    });
                }
                Ok(_) => {}
                Err(error) => tracing::warn!("cannot record an opt-out reply: {error}"),
            }
        }
    }

    /// Feeds the machine and carries out what it says.
    fn signal(&self, signal: LinkSignal) {
        let now = self.config.clock.now_ms();
        let effects = lock(&self.machine).on(signal, now);
        for effect in effects {
            self.apply(effect);
        }
    }

    fn apply(&self, effect: Effect) {
        let account_id = self.account_id();
        let store = &self.config.store;
        let result = match effect {
            Effect::Status(status) => {
                // Recorded first: whoever is told reads the same from the store.
                let recorded = store
                    .set_account_status(account_id, &status)
                    .map_err(|e| e.to_string());
                self.status_seen.send_replace(status.clone());
                (self.config.notify)(SessionEvent::Status { account_id, status });
                recorded
            }
            Effect::ShowQr {
                code,
                expires_at_ms,
            } => qr::svg(&code)
                .map(|svg| {
                    (self.config.notify)(SessionEvent::Qr {
                        account_id,
                        svg,
                        payload: code,
                        expires_at_ms,
                    });
                })
                .map_err(|e| e.to_string()),
            Effect::Linked { phone } => {
                *lock(&self.pair_phone) = None;
                store
                    .set_account_linked(account_id, phone.as_deref(), self.config.clock.now_ms())
                    .map_err(|e| e.to_string())
            }
            Effect::RequestPairCode => {
                let phone = lock(&self.pair_phone).clone();
                if let (Some(client), Some(phone)) = (lock(&self.client).clone(), phone) {
                    // The new code comes as an event, like the first one.
                    tokio::spawn(async move {
                        if let Err(error) = client.pair_with_code(pair_code_options(&phone)).await {
                            tracing::warn!("cannot get a new pairing code: {error}");
                        }
                    });
                }
                Ok(())
            }
            Effect::ForgetSession => {
                if lock(&self.client).is_some() || self.store_open() {
                    // Deleted when the client has closed its store (a file
                    // still open cannot be deleted on Windows, and the
                    // client's last writes would recreate it).
                    self.forget_pending.store(true, Ordering::SeqCst);
                    Ok(())
                } else {
                    self.forget_keys()
                }
            }
            Effect::StopClient => {
                self.stop();
                Ok(())
            }
            Effect::DisconnectClient => {
                self.disconnect_client();
                Ok(())
            }
            Effect::Reconnect { at_ms } => {
                if !self.stopped.load(Ordering::SeqCst) {
                    *lock(&self.reconnect_at) = Some(at_ms);
                    // A wait already under way reads the new time.
                    self.attempt_moved.notify_waiters();
                }
                Ok(())
            }
            Effect::PauseBlasts { code, reason } => self
                .config
                .control
                .pause_account(account_id, code, &reason)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Effect::ResumeBlasts => self
                .config
                .control
                .resume_account(account_id, PauseCode::NotConnected)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        if let Err(error) = result {
            tracing::error!(account_id, "cannot carry out an account change: {error}");
        }
    }

    fn disconnect_client(&self) {
        if let Some(client) = lock(&self.client).clone() {
            tokio::spawn(async move { client.disconnect().await });
        }
    }

    /// Plays a scripted link instead of talking to WhatsApp: each signal
    /// after its delay, through the same machine and effects as the real
    /// client's. What the app runs when [`NETWORK_ENV`] is `scripted`, so the
    /// link screen can be tested end to end without WhatsApp.
    pub async fn play(self: Arc<Self>, script: Vec<(Duration, LinkSignal)>) {
        self.after_delays(script, |session, signal| session.signal(signal))
            .await;
    }

    /// Plays scripted replies, each after its delay, through the same path
    /// as real ones ([`Session::on_replies`]).
    pub async fn play_replies(self: Arc<Self>, replies: Vec<(Duration, Reply)>) {
        self.after_delays(replies, |session, reply| session.on_replies(vec![reply]))
            .await;
    }

    /// Hands each step to `take` after its delay, until the session stops.
    async fn after_delays<T>(&self, steps: Vec<(Duration, T)>, take: impl Fn(&Self, T)) {
        for (delay, step) in steps {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.woken.notified() => return,
            }
            if self.stopped.load(Ordering::SeqCst) {
                return;
            }
            take(self, step);
        }
    }

    /// Logs the account out (the phone's Linked devices list loses it) and
    /// deletes its keys. Works offline too: the keys go either way.
    ///
    /// WhatsApp is told whenever it can be: a linked account that is not
    /// connected connects first (for at most [`LOGOUT_CONNECT_WAIT`]), so
    /// the phone's list of linked devices loses it. Returns whether WhatsApp
    /// was told; when not (offline), the keys are deleted all the same and
    /// the device stays listed on the phone until removed there.
    pub async fn logout(self: &Arc<Self>) -> bool {
        self.logging_out.store(true, Ordering::SeqCst);
        let mut client = self.connected_client().ok();
        let mut started = None;
        if client.is_none() && self.status().is_linked() {
            // Connecting from here on; the first other status tells.
            let run = self.run(Start::Resume);
            let mut status = self.status_seen.subscribe();
            started = Some(tokio::spawn(run));
            let settled = tokio::time::timeout(
                LOGOUT_CONNECT_WAIT,
                status.wait_for(|s| *s != AccountStatus::Connecting),
            )
            .await;
            if matches!(settled, Ok(Ok(s)) if *s == AccountStatus::Connected) {
                client = self.connected_client().ok();
            }
        }
        let told = client.is_some();
        if let Some(client) = client {
            let closed = self.client_closed.notified();
            tokio::pin!(closed);
            closed.as_mut().enable();
            client.logout().await;
            drop(client);
            // The keys go once the client has let go of them.
            let _ = tokio::time::timeout(LOGOUT_CONNECT_WAIT, closed).await;
        }
        // Offline, or the client's event did not come: the machine still hears it.
        if !matches!(self.status(), AccountStatus::LoggedOut { .. }) {
            self.signal(LinkSignal::LoggedOut { by_user: true });
        }
        if let Some(started) = started {
            self.stop();
            let _ = started.await;
        }
        self.released().await;
        if self.forget_pending.load(Ordering::SeqCst)
            && lock(&self.client).is_none()
            && let Err(error) = self.forget_keys_off_runtime().await
        {
            tracing::warn!("cannot delete the session's keys: {error}");
        }
        self.logging_out.store(false, Ordering::SeqCst);
        told
    }

    /// [`Session::forget_keys`] on a blocking thread (a file still in use is
    /// tried again for a moment).
    async fn forget_keys_off_runtime(self: &Arc<Self>) -> Result<(), String> {
        let session = Arc::clone(self);
        tokio::task::spawn_blocking(move || session.forget_keys())
            .await
            .map_err(|e| e.to_string())?
    }

    /// Whether the last client's session store is still open.
    fn store_open(&self) -> bool {
        self.opening.load(Ordering::SeqCst)
            || lock(&self.store)
                .as_ref()
                .is_some_and(|store| store.strong_count() > 0)
    }

    fn forget_keys(&self) -> Result<(), String> {
        self.forget_pending.store(false, Ordering::SeqCst);
        let file = data_dir::session_file(&self.config.data_dir, self.account_id());
        let mine = self.opened.load(Ordering::SeqCst);
        if mine > 0 && opened_since(&file, mine) {
            // A newer link of this account opened the file meanwhile: the
            // keys there are its own (its start cleared the old ones). A
            // session that never opened the file (a logout offline) deletes
            // what is there: that is what was asked.
            return Ok(());
        }
        data_dir::forget_session(&self.config.data_dir, self.account_id())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Gives up a link attempt the phone has not accepted yet: the client
    /// stops, its unfinished keys go, and the account is unlinked (ready to
    /// link again). An attempt the phone already accepted goes on.
    pub fn cancel_link(&self) {
        self.signal(LinkSignal::LinkCancelled);
    }

    /// Waits (bounded) until the session's client has ended and its store
    /// is closed: then its keys can be deleted, on Windows too.
    pub async fn released(&self) {
        let deadline = std::time::Instant::now() + STORE_RELEASE_WAIT;
        while (lock(&self.client).is_some() || self.opening.load(Ordering::SeqCst))
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let store = lock(&self.store).clone();
        if let Some(store) = store {
            store_released(&store).await;
        }
    }

    /// Stops the client; the account keeps its keys.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // What the stopped client still says (a QR code's rotation) is not heard.
        self.generation.fetch_add(1, Ordering::SeqCst);
        *lock(&self.reconnect_at) = None;
        *lock(&self.pair_phone) = None;
        self.woken.notify_waiters();
        self.disconnect_client();
    }

    /// Sends one message and waits for the server's ack: a nack is the
    /// message's refusal (it reached no one); without an ack in
    /// [`ACK_WAIT`] it counts as sent (a late nack is still heard).
    async fn send_acked(
        &self,
        client: &Arc<Client>,
        to: whatsapp_rust::Jid,
        body: wa::Message,
    ) -> Result<Accepted, SendError> {
        // The id is chosen first, so the server's ack cannot come before
        // its waiter is in place.
        let message_id = client.generate_message_id();
        let (acked, ack) = oneshot::channel();
        lock(&self.acks).insert(message_id.clone(), acked);
        let options = SendOptions::default().with_message_id(message_id.clone());
        let sent = match client.send_message_with_options(to, body, options).await {
            Ok(sent) => sent,
            Err(error) => {
                lock(&self.acks).remove(&message_id);
                return Err(signals::send_error(&error));
            }
        };
        let at_ms = self.config.clock.now_ms();
        match tokio::time::timeout(ACK_WAIT, ack).await {
            // A nack: the message reached no one.
            Ok(Ok(Some(code))) => Err(signals::nack_error(&code)),
            // A clean ack, or none in time (a late nack is still heard).
            Ok(Ok(None)) | Ok(Err(_)) | Err(_) => {
                lock(&self.acks).remove(&sent.message_id);
                Ok(Accepted {
                    message_id: sent.message_id,
                    at_ms,
                })
            }
        }
    }

    /// The attachment's upload: made once and used for every recipient of
    /// every blast that sends the same file, until [`UPLOAD_REUSE`] has
    /// passed (WhatsApp's media links do not last for ever); then once again.
    async fn upload_once(
        &self,
        client: &Client,
        media: &Media,
    ) -> Result<whatsapp_rust::upload::UploadResponse, SendError> {
        let now = self.config.clock.now_ms();
        if let Some((at, uploaded)) = lock(&self.uploads).get(&media.path)
            && now - at < UPLOAD_REUSE
        {
            return Ok(uploaded.clone());
        }
        let path = media.path.clone();
        let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
        let data = read
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|e| SendError::Transient {
                detail: format!("cannot read the attachment {}: {e}", media.path.display()),
            })?;
        let kind = match media.kind {
            MediaKind::Image => MediaType::Image,
            MediaKind::Video => MediaType::Video,
            MediaKind::Audio => MediaType::Audio,
            MediaKind::Document => MediaType::Document,
        };
        let uploaded = client
            .upload(data, kind, UploadOptions::default())
            .await
            .map_err(|_| SendError::Transient {
                detail: "the attachment could not be uploaded".into(),
            })?;
        lock(&self.uploads).insert(media.path.clone(), (now, uploaded.clone()));
        Ok(uploaded)
    }

    fn connected_client(&self) -> Result<Arc<Client>, SendError> {
        let client = lock(&self.client).clone();
        match (client, self.status()) {
            (Some(client), AccountStatus::Connected) => Ok(client),
            (_, AccountStatus::LoggedOut { .. } | AccountStatus::Unlinked) => {
                Err(SendError::Account {
                    problem: AccountProblem::LoggedOut,
                })
            }
            (
                _,
                AccountStatus::TemporarilyBanned {
                    until_ms,
                    reason_code,
                },
            ) => Err(SendError::Account {
                problem: AccountProblem::TemporarilyBanned {
                    until_ms: Some(until_ms),
                    reason_code: Some(reason_code),
                },
            }),
            _ => Err(SendError::Account {
                problem: AccountProblem::NotConnected,
            }),
        }
    }
}

impl Messenger for Session {
    fn ready(&self) -> Result<(), SendError> {
        self.connected_client().map(|_| ())
    }

    async fn send(&self, message: &Outgoing) -> Result<Accepted, SendError> {
        let client = self.connected_client()?;
        let to = jid::for_phone(&message.to);
        let text = || wa::Message {
            conversation: Some(message.text.clone()),
            ..Default::default()
        };
        // A number with no device on WhatsApp would take the message and
        // deliver it to no one (the library sends it to the account's own
        // devices only): it fails as not on WhatsApp instead. The device
        // list is the one the send itself uses (the library caches it).
        if let Ok(devices) = client
            .signal()
            .get_user_devices(std::slice::from_ref(&to))
            .await
            && devices.is_empty()
        {
            return Err(SendError::Recipient {
                problem: RecipientProblem::NotOnWhatsapp,
            });
        }
        let Some(media) = &message.media else {
            return self.send_acked(&client, to, text()).await;
        };
        let uploaded = self.upload_once(&client, media).await?;
        if media.kind != MediaKind::Audio {
            let body = media_message(&uploaded, media, Some(&message.text));
            return self.send_acked(&client, to, body).await;
        }
        // A voice note carries no caption: the personalised text goes
        // first, as its own message, then the audio.
        if message.text.is_empty() {
            return self
                .send_acked(&client, to, media_message(&uploaded, media, None))
                .await;
        }
        let said = self.send_acked(&client, to.clone(), text()).await?;
        if let Err(error) = self
            .send_acked(&client, to, media_message(&uploaded, media, None))
            .await
        {
            // The text went out: the delivery counts as sent (sending it
            // again would repeat the text); the missing audio is logged.
            tracing::warn!(
                delivery_id = message.delivery_id,
                "the text went out but the audio did not: {error}"
            );
        }
        Ok(said)
    }

    async fn check_numbers(&self, phones: &[Phone]) -> Result<Vec<bool>, SendError> {
        let client = self.connected_client()?;
        let jids: Vec<whatsapp_rust::Jid> = phones.iter().map(jid::for_phone).collect();
        let found = client
            .contacts()
            .is_on_whatsapp(&jids)
            .await
            .map_err(|error| signals::contact_error(&error))?;
        let answers: Vec<signals::CheckAnswer> = found
            .iter()
            .map(|r| signals::CheckAnswer {
                phone: jid::phone_of(r.pn_jid.as_ref().unwrap_or(&r.jid)),
                registered: r.is_registered,
                errored: r.contact_error.is_some(),
            })
            .collect();
        Ok(signals::on_whatsapp(phones, &answers))
    }
}

/// The library's events for one client of a session, handled inline on the
/// library's dispatch path (not on tasks of their own, which could run
/// after the client's run has ended and the session has decided what comes
/// next), and only while that client is the session's current one.
struct Events {
    session: Arc<Session>,
    generation: u64,
}

impl whatsapp_rust::types::events::EventHandler for Events {
    fn handle_event(&self, event: Arc<Event>) {
        if self.session.generation.load(Ordering::SeqCst) == self.generation {
            self.session.on_event(&event);
        }
    }
}

/// What the library needs to ask for a pairing code for `phone` (E.164).
fn pair_code_options(phone: &str) -> whatsapp_rust::pair_code::PairCodeOptions {
    whatsapp_rust::pair_code::PairCodeOptions {
        phone_number: phone.trim_start_matches('+').to_owned(),
        ..Default::default()
    }
}

/// The message of an uploaded attachment, with `caption` (none for audio,
/// which has no caption in WhatsApp).
fn media_message(
    up: &whatsapp_rust::upload::UploadResponse,
    media: &Media,
    caption: Option<&str>,
) -> wa::Message {
    let mimetype = mime_type(&media.path);
    let caption = caption.filter(|c| !c.is_empty()).map(str::to_owned);
    let (url, direct_path) = (Some(up.url.clone()), Some(up.direct_path.clone()));
    let (media_key, file_enc_sha256, file_sha256) = (
        Some(up.media_key.to_vec()),
        Some(up.file_enc_sha256.to_vec()),
        Some(up.file_sha256.to_vec()),
    );
    let (file_length, media_key_timestamp) = (Some(up.file_length), Some(up.media_key_timestamp));
    // Every kind carries the upload's fields; each adds its own.
    macro_rules! uploaded {
        ($kind:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {
            MessageField::some(wa::message::$kind {
                url,
                direct_path,
                media_key,
                file_enc_sha256,
                file_sha256,
                file_length,
                media_key_timestamp,
                mimetype: Some(mimetype),
                $($field $(: $value)?,)*
                ..Default::default()
            })
        };
    }
    let sidecar = up.streaming_sidecar.clone();
    match media.kind {
        MediaKind::Image => wa::Message {
            image_message: uploaded!(ImageMessage { caption }),
            ..Default::default()
        },
        MediaKind::Video => wa::Message {
            video_message: uploaded!(VideoMessage {
                caption,
                streaming_sidecar: sidecar,
            }),
            ..Default::default()
        },
        MediaKind::Audio => wa::Message {
            audio_message: uploaded!(AudioMessage {
                streaming_sidecar: sidecar,
            }),
            ..Default::default()
        },
        MediaKind::Document => wa::Message {
            document_message: uploaded!(DocumentMessage {
                caption,
                file_name: media.file_name.clone(),
            }),
            ..Default::default()
        },
    }
}

/// The MIME type of an attachment, from its extension.
pub fn mime_type(path: &std::path::Path) -> String {
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "mp4" => "video/mp4",
        "3gp" => "video/3gpp",
        "mov" => "video/quicktime",
        "mp3" => "audio/mpeg",
        "ogg" | "opus" => "audio/ogg; codecs=opus",
        "m4a" | "aac" => "audio/mp4",
        "pdf" => "application/pdf",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "txt" => "text/plain",
        _ => "application/octet-stream",
    }
    .to_owned()
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many times each session file was opened by a client in this process.
/// A session whose client has ended may delete its keys late (once the
/// library lets go of them); by then the person may have started a new link
/// of the same account, whose new keys are in the same file and not its own.
static OPENED: std::sync::LazyLock<Mutex<HashMap<PathBuf, u64>>> =
    std::sync::LazyLock::new(|| Mutex::new(HashMap::new()));

/// Notes that a client opens `file`; the number of this opening.
fn note_opened(file: &Path) -> u64 {
    let mut opened = lock(&OPENED);
    let count = opened.entry(file.to_path_buf()).or_insert(0);
    *count += 1;
    *count
}

/// Marks a session file as being opened, for as long as it lives (an
/// opening that fails clears it too).
struct Opening<'a>(&'a AtomicBool);

impl<'a> Opening<'a> {
    fn start(flag: &'a AtomicBool) -> Opening<'a> {
        flag.store(true, Ordering::SeqCst);
        Opening(flag)
    }
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Whether a client opened `file` after the opening numbered `mine`.
fn opened_since(file: &Path, mine: u64) -> bool {
    lock(&OPENED).get(file).is_some_and(|&latest| latest > mine)
}

/// How long the keys wait for the library to let go of the session store
/// after its client has ended (its last background writes). A link given up
/// mid-way can leave a library task holding it for over ten seconds; a
/// deletion before then would fail on Windows.
const STORE_RELEASE_WAIT: Duration = Duration::from_secs(30);

/// Waits (bounded) until nothing holds the session store: then SQLite has
/// closed the file and it can be deleted, on Windows too.
async fn store_released(store: &std::sync::Weak<dyn whatsapp_rust::store::traits::Backend>) {
    // Real time, not tokio's: what holds the store last runs on the
    // library's blocking threads, which a paused test clock does not wait for.
    let deadline = std::time::Instant::now() + STORE_RELEASE_WAIT;
    while store.strong_count() > 0 {
        if std::time::Instant::now() >= deadline {
            tracing::warn!("the session store is still open; deleting its keys anyway");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
