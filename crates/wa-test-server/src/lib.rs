//! A fake WhatsApp server for tests, in memory: the real whatsapp-rust
//! client links to it with a QR code, logs in, and messages customers who
//! answer, with no network.
//!
//! It speaks just enough of the protocol for that: the Noise XX handshake,
//! the encrypted binary-node frames, the pairing exchange (`pair-device`,
//! `pair-success`, the 515 restart), the login (`success`, the end of the
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
//! - `connection`: one client connection, from the first byte to the
//!   close, over a `Link` (bytes in, bytes out), so a socket
//!   listener could serve it as well;
//! - `noise`: the server's side of the handshake, its certificate chain and
//!   the transport ciphers;
//! - `phone`: the simulated phone: it reads the QR code and signs the new
//!   device's identity ([`TestServer::scan`]);
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
mod media;
mod memory;
mod messages;
mod noise;
mod phone;
mod signal;
mod stanza;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use whatsapp_rust::async_channel;
use whatsapp_rust::transport::TransportFactory;
use whatsapp_rust::wacore::crypto::generate_curve_key_pair;
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore_binary::Node;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::connection::Command;
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
            }),
        }
    }

    /// The client's transport: each `create_transport` opens a new
    /// connection to this server, in memory. Needs a Tokio runtime.
    pub fn factory(&self) -> impl TransportFactory + use<> {
        memory::MemoryFactory::new(Arc::clone(&self.shared))
    }

    /// The phone scans the QR code a client showed
    /// (`Event::PairingQrCode`'s code): the server links a new device of
    /// `phone`'s account (created on first use) and sends `pair-success` on
    /// the connection that showed the code. The client then confirms, the
    /// server asks it to restart (stream error 515), and it logs in on a new
    /// connection.
    pub fn scan(&self, qr_code: &str, phone: &str) -> Result<LinkedDevice, ScanError> {
        let qr = phone::QrCode::parse(qr_code)?;
        let number = phone::digits(phone)?;
        let mut state = self.shared.lock();
        let commands = state
            .refs
            .get(&qr.reference)
            .cloned()
            .ok_or(ScanError::UnknownRef)?;
        if !state.accounts.contains_key(&number) {
            let next_lid = 100_000_000_000_001 + state.accounts.len() as u64;
            let account = Account {
                identity: generate_curve_key_pair(),
                lid: next_lid.to_string(),
                raw_id: (next_lid % 1_000_000) as u32,
                next_device: 1,
                linked: BTreeSet::new(),
                phone: Party::generate().map_err(|e| ScanError::Signature(e.to_string()))?,
                uploads: HashMap::new(),
            };
            state.accounts.insert(number.clone(), account);
        }
        let account = state
            .accounts
            .get_mut(&number)
            .ok_or(ScanError::UnknownRef)?;
        let device = account.next_device;
        let identity = phone::signed_device_identity(
            &account.identity,
            &qr,
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
            })
            .map_err(|_| ScanError::ConnectionClosed)?;
        account.next_device += 1;
        Ok(linked)
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
    /// not decrypt, a query it could not answer), for a test to show.
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

impl Default for TestServer {
    fn default() -> TestServer {
        TestServer::new()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new connection's index.
    fn open_connection(&self) -> usize {
        let mut state = self.lock();
        state.connections.push(ConnectionRecord::default());
        state.connections.len() - 1
    }

    fn set_intent(&self, connection: usize, intent: Intent) {
        if let Some(record) = self.lock().connections.get_mut(connection) {
            record.intent = Some(intent);
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
