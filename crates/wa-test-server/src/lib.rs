//! A fake WhatsApp server for tests, in memory: the real whatsapp-rust
//! client links to it with a QR code and logs in, with no network.
//!
//! It speaks just enough of the protocol for a client to pair and to reach
//! `Connected`: the Noise XX handshake, the encrypted binary-node frames,
//! the pairing exchange (`pair-device`, `pair-success`, the 515 restart),
//! the login (`success`, the end of the offline queue) and an empty answer
//! to every query. Everything else is ignored.
//!
//! - [`TestServer`]: the server's state, shared by its connections: the
//!   accounts linked on it, and what each connection saw;
//! - [`TestServer::factory`] (`memory`): the client's transport, one new
//!   in-memory connection per `create_transport`;
//! - `connection`: one client connection, from the first byte to the
//!   close, over a `Link` (bytes in, bytes out), so a socket
//!   listener could serve it as well;
//! - `noise`: the server's side of the handshake, its certificate chain and
//!   the transport ciphers;
//! - `phone`: the simulated phone: it reads the QR code and signs the new
//!   device's identity ([`TestServer::scan`]);
//! - `stanza`: the nodes the server sends.
//!
//! The certificate chain is not signed by WhatsApp's root key, so only a
//! client built with whatsapp-rust's `danger-skip-cert-chain-verify`
//! feature accepts it: a dev-dependency, never a shipped build.

mod connection;
mod memory;
mod noise;
mod phone;
mod stanza;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use whatsapp_rust::async_channel::Sender;
use whatsapp_rust::transport::TransportFactory;
use whatsapp_rust::wacore::crypto::generate_curve_key_pair;
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore_binary::Node;

use crate::connection::Command;

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
    refs: HashMap<String, Sender<Command>>,
    /// The accounts, by phone number (digits only).
    accounts: HashMap<String, Account>,
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
        let next_lid = 100_000_000_000_001 + state.accounts.len() as u64;
        let account = state
            .accounts
            .entry(number.clone())
            .or_insert_with(|| Account {
                identity: generate_curve_key_pair(),
                lid: next_lid.to_string(),
                raw_id: (next_lid % 1_000_000) as u32,
                next_device: 1,
                linked: BTreeSet::new(),
            });
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

    fn offer_refs(&self, refs: &[String], commands: &Sender<Command>) {
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
