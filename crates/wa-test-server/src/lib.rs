//! A fake WhatsApp server for tests, in memory: the real whatsapp-rust
//! client links to it with a QR code, logs in, and messages customers who
//! answer, with no network.
//!
//! It speaks just enough of the protocol for that: the Noise XX handshake,
//! the encrypted binary-node frames, the pairing exchange (`pair-device`,
//! `pair-success`, the 515 restart) with a QR code, with a code typed on the
//! phone ([`TestServer::enter_code`]) or for a hosted business account
//! ([`TestServer::scan_hosted`]), the login (`success`, the end of the
//! offline queue), and then:
//!
//! - people: customers ([`TestServer::add_customer`]) are on WhatsApp with
//!   one phone and Signal keys; `usync` answers say who is on WhatsApp, their
//!   LID and devices, and `encrypt` answers hand out prekey bundles;
//! - messages: what the client sends a customer is decrypted with the
//!   customer's keys and recorded ([`TestServer::received`]), and acked (or
//!   nacked, [`TestServer::nack_next_to`]); customers send receipts and
//!   messages of their own, encrypted to the device with the keys it
//!   uploaded at login ([`TestServer::reply_from`]);
//! - endings: stream errors on the current connection and refusals of the
//!   next login ([`TestServer::stream_error`], [`TestServer::fail_next_login`]);
//! - media: `media_conn`, and an HTTP client that takes the uploads
//!   ([`TestServer::web`]).
//!
//! Any other query gets an empty result; anything else is ignored.
//!
//! - [`TestServer`]: the server's state, shared by its connections: the
//!   accounts linked on it, the customers, and what each connection saw;
//! - [`TestServer::factory`] (`memory`): the client's transport, one new
//!   in-memory connection per `create_transport`;
//! - [`TestServer::listen`] (`websocket`): a loopback WebSocket listener,
//!   for a client in another process;
//! - `connection`: one client connection, from the first byte to the
//!   close, over a `Link` (bytes in, bytes out), so a socket
//!   listener could serve it as well;
//! - `noise`: the server's side of the handshake, its certificate chain and
//!   the transport ciphers;
//! - `phone`: the simulated phone: it reads the QR code and signs the new
//!   device's identity ([`TestServer::scan`]);
//! - `link_code`: the phone's half of linking with a code;
//! - `signal`: the customers' (and the account phone's) Signal keys and
//!   sessions, on the library's libsignal;
//! - `iq`: the answers to `usync`, `encrypt` and `media_conn`;
//! - `messages`: messages from the client, and from customers;
//! - `media`: the media server;
//! - `stanza`: the nodes the server sends.
//!
//! The certificate chain is not signed by WhatsApp's root key, so only a
//! client built with whatsapp-rust's `danger-skip-cert-chain-verify`
//! feature accepts it: a dev-dependency, never a shipped build.

mod connection;
mod iq;
mod link_code;
mod media;
mod memory;
mod messages;
mod noise;
mod phone;
mod signal;
mod stanza;
mod websocket;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use whatsapp_rust::async_channel;
use whatsapp_rust::transport::TransportFactory;
use whatsapp_rust::wacore::crypto::generate_curve_key_pair;
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore_binary::Node;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::connection::Command;
use crate::phone::{AccountKind, NewDevice};
use crate::signal::{Party, UploadedKeys};

pub use crate::media::{Upload, WebClient};

/// A fake WhatsApp server. Cheap to clone: clones share one server.
#[derive(Clone)]
pub struct TestServer {
    shared: Arc<Shared>,
}

/// What a client asked for in its handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// A new device, to be linked with a QR code.
    Register,
    /// A linked device logging in.
    Login { phone: String, device: u16 },
}

/// One connection a client made, in the order they were made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// What the client asked for; `None` until its handshake is complete.
    pub intent: Option<Intent>,
    /// The WhatsApp Web version the client announced in its handshake
    /// (the user agent's app version: primary, secondary, tertiary);
    /// `None` until the handshake is complete or when it announced none.
    pub version: Option<(u32, u32, u32)>,
    /// A registering client's device name: the `os` of the device props it
    /// registers with (what the phone lists under Linked devices). `None`
    /// on a login, which sends no device props.
    pub device_os: Option<String>,
    /// A registering client's device props `platform_type`
    /// (`DeviceProps.PlatformType`: 1 Chrome, 7 Desktop…).
    pub device_platform: Option<i32>,
    /// Why the server gave up on the connection, if it did (a bad
    /// handshake, a frame it could not read); `None` while it is open or
    /// when it ended normally.
    pub error: Option<String>,
}

/// A stanza a client sent, as decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct Stanza {
    /// The connection it came on: an index into [`TestServer::connections`].
    pub connection: usize,
    pub node: Node,
}

/// The device a scan links, as the server sends it in `pair-success`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedDevice {
    /// The account's number, digits only.
    pub phone: String,
    /// The device's number on the account (the primary phone is 0).
    pub device: u16,
    /// The account's LID user part.
    pub lid: String,
}

/// Why a scan linked nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("not a WhatsApp QR code: {0}")]
    InvalidQr(String),
    #[error("not a phone number: {0:?}")]
    InvalidPhone(String),
    #[error("no open connection showed this QR code")]
    UnknownRef,
    #[error("not a pairing code: {0:?}")]
    InvalidCode(String),
    #[error("no open connection asked for a pairing code for this number")]
    NoCodeRequest,
    #[error("the connection that showed this QR code has closed")]
    ConnectionClosed,
    #[error("cannot sign the device identity: {0}")]
    Signature(String),
}

/// What a customer's phone received and decrypted, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The `<message id>`: what acks and receipts name.
    pub message_id: String,
    pub message: wa::Message,
}

/// Why the server could not do what a test asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServerError {
    #[error("not a phone number: {0:?}")]
    InvalidPhone(String),
    #[error("{0} is not a customer on this server")]
    UnknownCustomer(String),
    #[error("{0} is already a customer on this server")]
    DuplicateCustomer(String),
    #[error("customer {0} has no LID")]
    NoLid(String),
    #[error("no customer received a message with id {0:?}")]
    UnknownMessage(String),
    #[error("no logged-in connection is open")]
    NotConnected,
    #[error("signal: {0}")]
    Signal(String),
}

/// A receipt a customer's phone sends for a message it received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// Delivered to the phone: `<receipt>` with no type.
    Delivered,
    /// Read by the customer: `<receipt type="read">`.
    Read,
}

/// How a customer's message names its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `from="PHONE@s.whatsapp.net"`.
    Phone,
    /// `from="LID@lid"`, and `sender_pn="PHONE@s.whatsapp.net"` when
    /// `with_phone` (as WhatsApp does for a LID-addressed chat).
    Lid { with_phone: bool },
}

/// How the server ends a logged-in connection (`<stream:error>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamError {
    /// `<stream:error code=…/>`: 515 restart, 401 logged out, 429 rate
    /// limited, 516 device removed, or any other code.
    Code(u16),
    /// `<stream:error><conflict type="replaced"/></stream:error>`: another
    /// connection of the same device took over.
    Replaced,
}

/// How the server refuses the next login (`<failure>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `reason="403"` with the logout message WhatsApp shows.
    Locked { header: String, subtext: String },
    /// `reason="402"`, a temporary ban: its `code` and seconds left.
    TempBan { code: u32, expire_secs: u64 },
    /// `reason="405"`: the client version is too old.
    Outdated,
    /// Any other reason (401: logged out, 500…).
    Reason(u16),
}

struct Shared {
    identity: noise::ServerIdentity,
    state: Mutex<State>,
    listeners: Listeners,
}

/// The accept loops of [`TestServer::listen`]: aborted when the server is
/// dropped.
#[derive(Default)]
struct Listeners(Mutex<Vec<tokio::task::AbortHandle>>);

impl Listeners {
    fn stop(&self) {
        let handles = std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner));
        for handle in handles {
            handle.abort();
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Default)]
struct State {
    connections: Vec<ConnectionRecord>,
    stanzas: Vec<Stanza>,
    /// The QR references each open registering connection sent, to that
    /// connection's commands.
    refs: HashMap<String, async_channel::Sender<Command>>,
    /// The accounts, by phone number (digits only).
    accounts: HashMap<String, Account>,
    /// The customers, by phone number (digits only).
    customers: HashMap<String, Customer>,
    /// The open logged-in connections, oldest first.
    live: Vec<Live>,
    /// How the next login is refused, if it is.
    next_login_failure: Option<Failure>,
    /// What the server could not make sense of (a message it could not
    /// decrypt…), for tests to show.
    problems: Vec<String>,
    /// The media uploads, by path.
    media: media::Uploads,
    next_message: u64,
    /// The open registering connections that asked for a pairing code, by
    /// the number they asked for (digits only).
    code_requests: HashMap<String, link_code::CodeRequest>,
    next_notification: u64,
}

/// An account on the server: its primary phone's identity and the devices
/// linked to it.
struct Account {
    identity: KeyPair,
    lid: String,
    raw_id: u32,
    next_device: u16,
    /// Devices whose pairing the client confirmed (`pair-device-sign`).
    linked: BTreeSet<u16>,
    /// The primary phone's Signal keys: the client encrypts a copy of what
    /// it sends to it.
    phone: Party,
    /// The keys each linked device uploaded.
    uploads: HashMap<u16, UploadedKeys>,
    /// The WhatsApp profile name (push name) set on the phone, if any: a
    /// device that goes active is told it (`account_sync`).
    profile_name: Option<String>,
}

/// A customer: a WhatsApp user with one phone (device 0).
struct Customer {
    lid: Option<String>,
    party: Party,
    received: Vec<Received>,
    /// The error the next message to them is nacked with.
    nack_next: Option<u16>,
}

/// A logged-in connection.
struct Live {
    connection: usize,
    phone: String,
    device: u16,
    commands: async_channel::Sender<Command>,
}

impl TestServer {
    pub fn new() -> TestServer {
        TestServer {
            shared: Arc::new(Shared {
                identity: noise::ServerIdentity::generate(),
                state: Mutex::new(State::default()),
                listeners: Listeners::default(),
            }),
        }
    }

    /// The client's transport: each `create_transport` opens a new
    /// connection to this server, in memory. Needs a Tokio runtime.
    pub fn factory(&self) -> impl TransportFactory + use<> {
        memory::MemoryFactory::new(Arc::clone(&self.shared))
    }

    /// Listens for clients in other processes: binds a free port on
    /// 127.0.0.1 (loopback only) and returns its address. Each TCP
    /// connection is upgraded to a WebSocket (`ws://`, no TLS, any path)
    /// and served as a new connection to this server, as the in-memory ones
    /// are: whatsapp-rust's `TokioWebSocketTransportFactory` connects with
    /// `.with_url(format!("ws://{addr}/ws/chat"))`. Needs a Tokio runtime.
    ///
    /// The listener stops when the server (its last clone) is dropped, or
    /// on [`stop_listening`](Self::stop_listening); connections already
    /// accepted go on until either side closes them.
    pub async fn listen(&self) -> std::io::Result<std::net::SocketAddr> {
        websocket::listen(&self.shared).await
    }

    /// Stops every listener [`listen`](Self::listen) started (the
    /// connections already accepted stay open).
    pub fn stop_listening(&self) {
        self.shared.listeners.stop();
    }

    /// The phone scans the QR code a client showed
    /// (`Event::PairingQrCode`'s code): the server links a new device of
    /// `phone`'s account (created on first use) and sends `pair-success` on
    /// the connection that showed the code. The client then confirms, the
    /// server asks it to restart (stream error 515), and it logs in on a new
    /// connection.
    pub fn scan(&self, qr_code: &str, phone: &str) -> Result<LinkedDevice, ScanError> {
        self.scan_as(qr_code, phone, AccountKind::Ordinary, None)
    }

    /// [`scan`](Self::scan) by the phone of a hosted WhatsApp Business
    /// account (one also on the Cloud API): `pair-success` carries
    /// `<biz name=business_name>` and the phone's platform `smba`, and the
    /// identity is signed as WhatsApp signs a hosted account's devices (see
    /// `phone`). whatsapp-rust 0.7.0 checks the account signature with the
    /// hosted prefix whenever the account is hosted, so it refuses this
    /// pairing (`Event::PairError`, 401 signature-mismatch; upstream
    /// oxidezap/whatsapp-rust#1439), and the server records the refusal in
    /// [`problems`](Self::problems).
    pub fn scan_hosted(
        &self,
        qr_code: &str,
        phone: &str,
        business_name: &str,
    ) -> Result<LinkedDevice, ScanError> {
        self.scan_as(qr_code, phone, AccountKind::Hosted, Some(business_name))
    }

    fn scan_as(
        &self,
        qr_code: &str,
        phone: &str,
        kind: AccountKind,
        business: Option<&str>,
    ) -> Result<LinkedDevice, ScanError> {
        let qr = phone::QrCode::parse(qr_code)?;
        let number = phone::digits(phone)?;
        let mut state = self.shared.lock();
        let commands = state
            .refs
            .get(&qr.reference)
            .cloned()
            .ok_or(ScanError::UnknownRef)?;
        let account = state.account(&number)?;
        let device = account.next_device;
        let new_device = NewDevice {
            identity_key: &qr.identity_key,
            adv_secret: &qr.adv_secret,
        };
        let identity = phone::signed_device_identity(
            &account.identity,
            &new_device,
            kind,
            account.raw_id,
            u32::from(device),
        )?;
        let linked = LinkedDevice {
            phone: number,
            device,
            lid: account.lid.clone(),
        };
        commands
            .try_send(Command::Pair {
                device: linked.clone(),
                identity,
                business: business.map(str::to_owned),
            })
            .map_err(|_| ScanError::ConnectionClosed)?;
        account.next_device += 1;
        Ok(linked)
    }

    /// Sets the profile name (push name) of `phone`'s WhatsApp, as its
    /// owner typed it on the phone (the account is created on first use).
    /// Each of its devices is told it when it goes active, in an
    /// `<notification type="account_sync" pushname=…>`; whatsapp-rust keeps
    /// it and reports `Event::SelfPushNameUpdated` when it is new to it.
    pub fn set_profile_name(&self, phone: &str, name: &str) -> Result<(), ScanError> {
        let number = phone::digits(phone)?;
        self.shared.lock().account(&number)?.profile_name = Some(name.to_owned());
        Ok(())
    }

    /// Someone types `code` (`Event::PairingCode`'s code) into `phone`'s
    /// WhatsApp, under Linked devices, "link with phone number instead":
    /// the server sends the phone's `primary_hello` to the connection that
    /// asked for a code for this number, and returns the device it will
    /// link there. The client answers with its key bundle
    /// (`companion_finish`); the phone opens it, derives the new ADV secret
    /// as the client does, and the server sends `pair-success` keyed with
    /// it; then as after a [`scan`](Self::scan), the confirmation and the
    /// 515.
    ///
    /// A wrong code is not refused here (the phone cannot know it): the
    /// phone cannot open the bundle, the server records that in
    /// [`problems`](Self::problems), and the client gives the code up after
    /// a minute (`Event::PairingCodeRefresh`).
    ///
    /// Slow: the code's key derivation (2^17 PBKDF2 rounds) runs twice.
    pub fn enter_code(&self, code: &str, phone: &str) -> Result<LinkedDevice, ScanError> {
        let code = link_code::normalize(code)?;
        let number = phone::digits(phone)?;
        let (reference, wrapped) = {
            let state = self.shared.lock();
            let request = state
                .code_requests
                .get(&number)
                .ok_or(ScanError::NoCodeRequest)?;
            (request.reference.clone(), request.wrapped_ephemeral.clone())
        };
        let device = {
            let mut state = self.shared.lock();
            let account = state.account(&number)?;
            let device = LinkedDevice {
                phone: number.clone(),
                device: account.next_device,
                lid: account.lid.clone(),
            };
            account.next_device += 1;
            device
        };
        // The derivations run without the lock: the connections go on.
        let (hello, wrapped_primary) = link_code::primary_hello(&code, &wrapped, device.clone())?;
        let mut state = self.shared.lock();
        let identity = state
            .accounts
            .get(&number)
            .map(|account| account.identity.public_key.public_key_bytes().to_vec())
            .ok_or(ScanError::NoCodeRequest)?;
        state.next_notification += 1;
        let id = format!("wa-test-server.code.{}", state.next_notification);
        let request = state
            .code_requests
            .get_mut(&number)
            .filter(|request| request.reference == reference)
            .ok_or(ScanError::ConnectionClosed)?;
        let node = stanza::primary_hello(&id, &reference, &wrapped_primary, &identity, now_secs());
        request
            .commands
            .try_send(Command::Push(node))
            .map_err(|_| ScanError::ConnectionClosed)?;
        request.hello = Some(hello);
        Ok(device)
    }

    /// The server asks the client that is showing a code for `phone` to
    /// replace it (`refresh_code`, with `force_manual_refresh` when
    /// `force_manual`): the client reports `Event::PairingCodeRefresh` and
    /// may ask again. The code it showed is withdrawn.
    pub fn refresh_pair_code(&self, phone: &str, force_manual: bool) -> Result<(), ScanError> {
        let number = phone::digits(phone)?;
        let mut state = self.shared.lock();
        state.next_notification += 1;
        let id = format!("wa-test-server.code.{}", state.next_notification);
        let request = state
            .code_requests
            .remove(&number)
            .ok_or(ScanError::NoCodeRequest)?;
        let node = stanza::refresh_code(&id, &request.reference, force_manual, now_secs());
        request
            .commands
            .try_send(Command::Push(node))
            .map_err(|_| ScanError::ConnectionClosed)
    }

    /// Every connection clients made, in order.
    pub fn connections(&self) -> Vec<ConnectionRecord> {
        self.shared.lock().connections.clone()
    }

    /// Every stanza clients sent, in order.
    pub fn stanzas(&self) -> Vec<Stanza> {
        self.shared.lock().stanzas.clone()
    }

    /// Whether a device of `phone`'s account completed its pairing.
    pub fn is_registered(&self, phone: &str) -> bool {
        let Ok(number) = phone::digits(phone) else {
            return false;
        };
        self.shared
            .lock()
            .accounts
            .get(&number)
            .is_some_and(|account| !account.linked.is_empty())
    }
}

/// Customers, and what they do.
impl TestServer {
    /// Registers a customer: a WhatsApp user with one phone and its Signal
    /// keys, no LID. The server then answers the client's device and key
    /// queries for them, decrypts what it sends them
    /// ([`received`](Self::received)) and acks it.
    pub fn add_customer(&self, phone: &str) -> Result<(), ServerError> {
        self.insert_customer(phone, None)
    }

    /// A customer with a LID (`lid`: the user part, digits), which the
    /// server reports in usync answers.
    pub fn add_customer_with_lid(&self, phone: &str, lid: &str) -> Result<(), ServerError> {
        self.insert_customer(phone, Some(lid.to_owned()))
    }

    fn insert_customer(&self, phone: &str, lid: Option<String>) -> Result<(), ServerError> {
        let number = customer_number(phone)?;
        let party = Party::generate().map_err(|e| ServerError::Signal(e.to_string()))?;
        let mut state = self.shared.lock();
        if state.customers.contains_key(&number) {
            return Err(ServerError::DuplicateCustomer(number));
        }
        state.customers.insert(
            number,
            Customer {
                lid,
                party,
                received: Vec::new(),
                nack_next: None,
            },
        );
        Ok(())
    }

    /// What the customer's phone received and decrypted, in order.
    pub fn received(&self, phone: &str) -> Result<Vec<Received>, ServerError> {
        let number = customer_number(phone)?;
        let state = self.shared.lock();
        let customer = state
            .customers
            .get(&number)
            .ok_or(ServerError::UnknownCustomer(number))?;
        Ok(customer.received.clone())
    }

    /// The next message to the customer is refused: its ack carries
    /// `error=code` (463: the recipient needs a trusted-contact token, 479,
    /// 400…) and the customer does not get it.
    pub fn nack_next_to(&self, phone: &str, code: u16) -> Result<(), ServerError> {
        let number = customer_number(phone)?;
        let mut state = self.shared.lock();
        let customer = state
            .customers
            .get_mut(&number)
            .ok_or(ServerError::UnknownCustomer(number))?;
        customer.nack_next = Some(code);
        Ok(())
    }

    /// The customer who received `message_id` sends a receipt for it to
    /// the account, on the current connection.
    pub fn receipt(&self, message_id: &str, kind: ReceiptKind) -> Result<(), ServerError> {
        let state = self.shared.lock();
        let phone = state
            .customers
            .iter()
            .find(|(_, c)| c.received.iter().any(|r| r.message_id == message_id))
            .map(|(phone, _)| phone.clone())
            .ok_or_else(|| ServerError::UnknownMessage(message_id.to_owned()))?;
        let live = state.live.last().ok_or(ServerError::NotConnected)?;
        let node = stanza::receipt(message_id, &phone, kind, now_secs());
        live.commands
            .try_send(Command::Push(node))
            .map_err(|_| ServerError::NotConnected)
    }

    /// The customer sends the account a text message, encrypted to the
    /// logged-in device with the keys it uploaded; returns its id.
    pub fn reply_from(&self, phone: &str, text: &str) -> Result<String, ServerError> {
        self.message_from(phone, Addressing::Phone, &text_message(text))
    }

    /// [`reply_from`](Self::reply_from), addressed as `addressing` says.
    pub fn reply_from_as(
        &self,
        phone: &str,
        addressing: Addressing,
        text: &str,
    ) -> Result<String, ServerError> {
        self.message_from(phone, addressing, &text_message(text))
    }

    /// The customer sends the account `message`; returns its id.
    pub fn message_from(
        &self,
        phone: &str,
        addressing: Addressing,
        message: &wa::Message,
    ) -> Result<String, ServerError> {
        let number = customer_number(phone)?;
        let mut state = self.shared.lock();
        let node = messages::from_customer(&mut state, &number, addressing, message)?;
        let live = state.live.last().ok_or(ServerError::NotConnected)?;
        let id = stanza::attr(&node, "id").unwrap_or_default().into_owned();
        live.commands
            .try_send(Command::Push(node))
            .map_err(|_| ServerError::NotConnected)?;
        Ok(id)
    }

    /// Is `phone` a customer?
    pub fn is_customer(&self, phone: &str) -> bool {
        customer_number(phone)
            .is_ok_and(|number| self.shared.lock().customers.contains_key(&number))
    }

    /// What the server could not make sense of so far (a message it could
    /// not decrypt, a query it could not answer, a key bundle the phone
    /// could not open), and pairings the client refused, for a test to show.
    pub fn problems(&self) -> Vec<String> {
        self.shared.lock().problems.clone()
    }
}

/// Ending connections the ways WhatsApp does.
impl TestServer {
    /// Sends `error` on the current (last logged-in) connection and closes it.
    pub fn stream_error(&self, error: StreamError) -> Result<(), ServerError> {
        let state = self.shared.lock();
        let live = state.live.last().ok_or(ServerError::NotConnected)?;
        let node = match error {
            StreamError::Code(code) => stanza::stream_error(code),
            StreamError::Replaced => stanza::stream_replaced(),
        };
        live.commands
            .try_send(Command::End(node))
            .map_err(|_| ServerError::NotConnected)
    }

    /// The next login of a linked device is refused with `failure`.
    pub fn fail_next_login(&self, failure: Failure) {
        self.shared.lock().next_login_failure = Some(failure);
    }

    /// Whether a logged-in connection is open.
    pub fn is_connected(&self) -> bool {
        !self.shared.lock().live.is_empty()
    }
}

/// Media.
impl TestServer {
    /// The HTTP client the library uploads media with: it answers the
    /// uploads to the host this server names in `media_conn`, and records
    /// them ([`uploads`](Self::uploads)).
    pub fn web(&self) -> WebClient {
        WebClient::new(Arc::clone(&self.shared))
    }

    /// The media uploaded so far, in order.
    pub fn uploads(&self) -> Vec<Upload> {
        self.shared.lock().media.list()
    }
}

fn customer_number(phone: &str) -> Result<String, ServerError> {
    phone::digits(phone).map_err(|_| ServerError::InvalidPhone(phone.to_owned()))
}

fn text_message(text: &str) -> wa::Message {
    wa::Message {
        conversation: Some(text.to_owned()),
        ..Default::default()
    }
}

pub(crate) fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

impl State {
    /// `number`'s account, created on first use.
    fn account(&mut self, number: &str) -> Result<&mut Account, ScanError> {
        if !self.accounts.contains_key(number) {
            let next_lid = 100_000_000_000_001 + self.accounts.len() as u64;
            let account = Account {
                identity: generate_curve_key_pair(),
                lid: next_lid.to_string(),
                raw_id: (next_lid % 1_000_000) as u32,
                next_device: 1,
                linked: BTreeSet::new(),
                phone: Party::generate().map_err(|e| ScanError::Signature(e.to_string()))?,
                uploads: HashMap::new(),
                profile_name: None,
            };
            self.accounts.insert(number.to_owned(), account);
        }
        self.accounts.get_mut(number).ok_or(ScanError::UnknownRef)
    }
}

impl Default for TestServer {
    fn default() -> TestServer {
        TestServer::new()
    }
}

impl Shared {
    fn add_listener(&self, handle: tokio::task::AbortHandle) {
        self.listeners
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection's index.
    fn open_connection(&self) -> usize {
        let mut state = self.lock();
        state.connections.push(ConnectionRecord::default());
        state.connections.len() - 1
    }

    /// What the client's handshake said.
    fn record_hello(&self, connection: usize, hello: &connection::Hello) {
        if let Some(record) = self.lock().connections.get_mut(connection) {
            record.intent = Some(hello.intent.clone());
            record.version = hello.version;
            record.device_os.clone_from(&hello.device_os);
            record.device_platform = hello.device_platform;
        }
    }

    fn set_error(&self, connection: usize, error: String) {
        if let Some(record) = self.lock().connections.get_mut(connection) {
            record.error = Some(error);
        }
    }

    fn record_stanza(&self, connection: usize, node: &Node) {
        self.lock().stanzas.push(Stanza {
            connection,
            node: node.clone(),
        });
    }

    fn offer_refs(&self, refs: &[String], commands: &async_channel::Sender<Command>) {
        let mut state = self.lock();
        for reference in refs {
            state.refs.insert(reference.clone(), commands.clone());
        }
    }

    fn withdraw_refs(&self, refs: &[String]) {
        let mut state = self.lock();
        for reference in refs {
            state.refs.remove(reference);
        }
    }

    /// A registering connection asked for a code for `number`: it replaces
    /// any earlier request for the number.
    fn offer_code(&self, number: String, request: link_code::CodeRequest) {
        self.lock().code_requests.insert(number, request);
    }

    /// The code requests of a connection that closed.
    fn withdraw_codes(&self, connection: usize) {
        self.lock()
            .code_requests
            .retain(|_, request| request.connection != connection);
    }

    /// The client confirmed the pairing of `device`.
    fn confirm_link(&self, device: &LinkedDevice) {
        if let Some(account) = self.lock().accounts.get_mut(&device.phone) {
            account.linked.insert(device.device);
        }
    }

    /// A connection logged in as `phone`'s `device`: it takes the pushes
    /// (receipts, replies, stream errors) until it closes. Returns how the
    /// login is refused instead, if a test asked for that.
    fn go_live(
        &self,
        connection: usize,
        phone: &str,
        device: u16,
        commands: &async_channel::Sender<Command>,
    ) -> Option<Failure> {
        let mut state = self.lock();
        if let Some(failure) = state.next_login_failure.take() {
            return Some(failure);
        }
        state.live.push(Live {
            connection,
            phone: phone.to_owned(),
            device,
            commands: commands.clone(),
        });
        None
    }

    fn end_live(&self, connection: usize) {
        self.lock()
            .live
            .retain(|live| live.connection != connection);
    }

    fn problem(&self, problem: String) {
        tracing::debug!("test server: {problem}");
        self.lock().problems.push(problem);
    }

    /// What a device of `phone` that goes active is told of its account's
    /// profile name, if it has one.
    fn profile_notification(&self, phone: &str) -> Option<Node> {
        let mut state = self.lock();
        let name = state.accounts.get(phone)?.profile_name.clone()?;
        state.next_notification += 1;
        let id = format!("wa-test-server.account.{}", state.next_notification);
        Some(stanza::account_sync(&id, &name, now_secs()))
    }

    /// The LID of a linked device, or `None` when the server does not know it.
    fn linked_lid(&self, phone: &str, device: u16) -> Option<String> {
        let state = self.lock();
        let account = state.accounts.get(phone)?;
        account
            .linked
            .contains(&device)
            .then(|| account.lid.clone())
    }
}
