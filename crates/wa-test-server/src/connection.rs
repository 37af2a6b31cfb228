//! One client connection, from its first byte to its close.
//!
//! The connection sees only a [`Link`]: the chunks of bytes the client
//! writes, and a way to write chunks back (closing it ends the stream).
//! The in-memory transport is one such link; a socket listener would be
//! another.
//!
//! After the handshake the client's payload says what it wants:
//! - registering (a new device): the server offers QR references
//!   (`pair-device`) and waits; a [`TestServer::scan`](crate::TestServer::scan)
//!   sends `pair-success`, the client confirms with `pair-device-sign`, and
//!   the server ends the stream with error 515 (restart and log in);
//! - logging in (a linked device): `success` (or the `<failure>` a test
//!   asked for), then an answer to every query (`iq`), an ack for every
//!   message (`messages`), the end of the (empty) offline queue once the
//!   client is active, and what the rest of the server pushes ([`Command`]:
//!   receipts, customers' messages, a stream error that ends it).

use std::sync::Arc;

use whatsapp_rust::async_channel::{self, Receiver, Sender};
use whatsapp_rust::buffa::Message as _;
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore_binary::marshal::{marshal, unmarshal_ref};
use whatsapp_rust::wacore_binary::util::unpack;
use whatsapp_rust::wacore_binary::{Node, SERVER_JID};
use whatsapp_rust::waproto::whatsapp::ClientPayload;

use crate::iq::{self, Login};
use crate::messages;
use crate::noise::{Ciphers, Inbound, ProtocolError, frame};
use crate::stanza::{self, attr};
use crate::{Intent, LinkedDevice, Shared, now_secs};

/// How many QR references a registering connection offers (the client
/// shows them in turn, the first for 60 s and each next for 20 s).
const QR_REFS: usize = 6;

/// A byte stream between a client and the server.
pub(crate) struct Link {
    /// What the client writes, chunk by chunk; closed when it disconnects.
    pub(crate) from_client: Receiver<Bytes>,
    /// What the server writes, one chunk a send; dropping it ends the stream.
    pub(crate) to_client: Sender<Bytes>,
}

/// What the rest of the server asks of a connection.
pub(crate) enum Command {
    /// The phone scanned this connection's QR code: send `pair-success`.
    Pair {
        device: LinkedDevice,
        identity: Vec<u8>,
    },
    /// Send a stanza (a receipt, a customer's message).
    Push(Node),
    /// Send a stanza (a stream error) and close the connection.
    End(Node),
}

/// Whether the connection goes on after a step.
enum Flow {
    Continue,
    Close,
}

/// Serves `link` as connection number `index` until either side closes it.
pub(crate) async fn serve(shared: Arc<Shared>, index: usize, link: Link) {
    let (commands, inbox) = async_channel::unbounded();
    let mut connection = Connection {
        shared: Arc::clone(&shared),
        index,
        link,
        inbound: Inbound::default(),
        commands,
        inbox,
        offered_refs: Vec::new(),
        next_id: 0,
        pairing: None,
        login: None,
    };
    let outcome = connection.run().await;
    shared.withdraw_refs(&connection.offered_refs);
    shared.end_live(index);
    if let Err(error) = outcome {
        tracing::debug!(connection = index, "test server: {error}");
        shared.set_error(index, error.to_string());
    }
}

struct Connection {
    shared: Arc<Shared>,
    index: usize,
    link: Link,
    inbound: Inbound,
    /// The sending end of `inbox`, handed out with the QR references.
    commands: Sender<Command>,
    inbox: Receiver<Command>,
    offered_refs: Vec<String>,
    next_id: u64,
    /// The `pair-success` sent and not yet confirmed: its IQ id and device.
    pairing: Option<(String, LinkedDevice)>,
    /// The linked device this connection logged in as.
    login: Option<Login>,
}

impl Connection {
    async fn run(&mut self) -> Result<(), ProtocolError> {
        let Some((mut ciphers, payload)) = self.handshake().await? else {
            return Ok(());
        };
        let intent = intent(&payload)?;
        self.shared.set_intent(self.index, intent.clone());
        if let Flow::Close = self.greet(&mut ciphers, &intent).await? {
            return Ok(());
        }
        loop {
            while let Some(encrypted) = self.inbound.next_frame() {
                let plaintext = ciphers.open(encrypted)?;
                let node = decode_node(&plaintext)?;
                self.shared.record_stanza(self.index, &node);
                if let Flow::Close = self.on_stanza(&mut ciphers, &node).await? {
                    return Ok(());
                }
            }
            tokio::select! {
                data = self.link.from_client.recv() => match data {
                    Ok(data) => self.inbound.push(&data)?,
                    Err(_) => return Ok(()),
                },
                Ok(command) = self.inbox.recv() => {
                    if let Flow::Close = self.on_command(&mut ciphers, command).await? {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// The Noise handshake; `None` when the client closed before starting it.
    async fn handshake(&mut self) -> Result<Option<(Ciphers, Vec<u8>)>, ProtocolError> {
        let Some(hello) = self.read_frame().await? else {
            return Ok(None);
        };
        let prologue = self.inbound.header().unwrap_or_default().to_vec();
        let (server_hello, awaiting) = self.shared.identity.answer_hello(&prologue, &hello)?;
        // The ServerHello goes alone in its chunk, as WhatsApp sends it.
        self.write(frame(&server_hello)?).await;
        let finish = self.read_frame().await?.ok_or(ProtocolError::ClosedEarly)?;
        awaiting.finish(&finish).map(Some)
    }

    /// The next whole frame, before the ciphers are up; `None` when the
    /// client closes before one.
    async fn read_frame(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        loop {
            if let Some(frame) = self.inbound.next_frame() {
                return Ok(Some(frame.to_vec()));
            }
            match self.link.from_client.recv().await {
                Ok(data) => self.inbound.push(&data)?,
                Err(_) if self.inbound.header().is_none() => return Ok(None),
                Err(_) => return Err(ProtocolError::ClosedEarly),
            }
        }
    }

    /// The server's first stanza after the handshake.
    async fn greet(
        &mut self,
        ciphers: &mut Ciphers,
        intent: &Intent,
    ) -> Result<Flow, ProtocolError> {
        match intent {
            Intent::Register => {
                let refs: Vec<String> = (0..QR_REFS)
                    .map(|n| format!("2@wa-test-server-{}-{n}", self.index))
                    .collect();
                self.shared.offer_refs(&refs, &self.commands);
                self.offered_refs = refs;
                let id = self.new_id();
                self.send(ciphers, &stanza::pair_device(&id, &self.offered_refs))
                    .await?;
                Ok(Flow::Continue)
            }
            Intent::Login { phone, device } => {
                let Some(lid) = self.shared.linked_lid(phone, *device) else {
                    self.send(ciphers, &stanza::failure(401)).await?;
                    return Ok(Flow::Close);
                };
                if let Some(failure) =
                    self.shared
                        .go_live(self.index, phone, *device, &self.commands)
                {
                    self.send(ciphers, &stanza::login_failure(&failure)).await?;
                    return Ok(Flow::Close);
                }
                self.login = Some(Login {
                    phone: phone.clone(),
                    device: *device,
                });
                self.send(ciphers, &stanza::success(&lid, now_secs()))
                    .await?;
                Ok(Flow::Continue)
            }
        }
    }

    async fn on_stanza(
        &mut self,
        ciphers: &mut Ciphers,
        node: &Node,
    ) -> Result<Flow, ProtocolError> {
        match node.tag.as_ref() {
            "iq" => self.on_iq(ciphers, node).await,
            "message" => {
                if let Some(login) = &self.login {
                    let ack = messages::from_client(&mut self.shared.lock(), login, node);
                    self.send(ciphers, &ack).await?;
                }
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::Continue),
        }
    }

    async fn on_iq(&mut self, ciphers: &mut Ciphers, node: &Node) -> Result<Flow, ProtocolError> {
        let id = attr(node, "id").unwrap_or_default().into_owned();
        let kind = attr(node, "type").unwrap_or_default();
        match kind.as_ref() {
            "get" | "set" => {
                let from = attr(node, "to").unwrap_or(SERVER_JID.into()).into_owned();
                let namespace = attr(node, "xmlns").unwrap_or_default().into_owned();
                let answer = self.answer(&id, &from, &namespace, node);
                self.send(ciphers, &answer).await?;
                // Going active is when WhatsApp delivers what waited for
                // the device: here, nothing.
                if namespace == "passive" && node.get_optional_child("active").is_some() {
                    self.send(ciphers, &stanza::offline_done()).await?;
                }
                Ok(Flow::Continue)
            }
            "result" if node.get_optional_child("pair-device-sign").is_some() => {
                match self.pairing.take() {
                    Some((pair_id, device)) if pair_id == id => {
                        self.shared.confirm_link(&device);
                        self.send(ciphers, &stanza::stream_error(515)).await?;
                        Ok(Flow::Close)
                    }
                    other => {
                        self.pairing = other;
                        Ok(Flow::Continue)
                    }
                }
            }
            _ => Ok(Flow::Continue),
        }
    }

    /// The answer to a query; an empty result when the server knows no
    /// better.
    fn answer(&self, id: &str, from: &str, namespace: &str, node: &Node) -> Node {
        match (namespace, &self.login) {
            ("w:sync:app:state", _) => {
                let names = node
                    .get_optional_child("sync")
                    .map(|sync| {
                        sync.get_children_by_tag("collection")
                            .filter_map(|c| attr(c, "name"))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                stanza::app_state_in_sync(id, from, names)
            }
            ("usync", Some(_)) => iq::usync(&self.shared.lock(), id, node),
            ("encrypt", Some(login)) => {
                let answer = iq::encrypt(&mut self.shared.lock(), login, id, node);
                answer.unwrap_or_else(|problem| {
                    self.shared
                        .problem(format!("encrypt query {id}: {problem}"));
                    iq::error(id, 400, "bad-request")
                })
            }
            ("w:m", Some(_)) if node.get_optional_child("media_conn").is_some() => {
                iq::media_conn(id)
            }
            _ => stanza::iq_result(id, from),
        }
    }

    async fn on_command(
        &mut self,
        ciphers: &mut Ciphers,
        command: Command,
    ) -> Result<Flow, ProtocolError> {
        match command {
            Command::Pair { device, identity } => {
                let id = self.new_id();
                self.send(ciphers, &stanza::pair_success(&id, &device, identity))
                    .await?;
                self.pairing = Some((id, device));
                Ok(Flow::Continue)
            }
            Command::Push(node) => {
                self.send(ciphers, &node).await?;
                Ok(Flow::Continue)
            }
            Command::End(node) => {
                self.send(ciphers, &node).await?;
                Ok(Flow::Close)
            }
        }
    }

    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("wa-test-server.{}.{}", self.index, self.next_id)
    }

    /// Encrypts and sends one stanza.
    async fn send(&self, ciphers: &mut Ciphers, node: &Node) -> Result<(), ProtocolError> {
        let plaintext = marshal(node).map_err(|e| ProtocolError::decode("a stanza to send", e))?;
        let sealed = ciphers.seal(&plaintext)?;
        self.write(frame(&sealed)?).await;
        Ok(())
    }

    /// Writes one chunk; a client that went away is noticed on the read side.
    async fn write(&self, chunk: Vec<u8>) {
        let _ = self.link.to_client.send(Bytes::from(chunk)).await;
    }
}

/// What the client's handshake payload asks for.
fn intent(payload: &[u8]) -> Result<Intent, ProtocolError> {
    let payload = ClientPayload::decode_from_slice(payload)
        .map_err(|e| ProtocolError::decode("the ClientPayload", e))?;
    if payload.device_pairing_data.is_set() {
        return Ok(Intent::Register);
    }
    match payload.username {
        Some(user) => Ok(Intent::Login {
            phone: user.to_string(),
            device: payload
                .device
                .and_then(|d| u16::try_from(d).ok())
                .unwrap_or_default(),
        }),
        None => Err(ProtocolError::Handshake(
            "the ClientPayload neither registers nor logs in".into(),
        )),
    }
}

/// A decrypted frame as a node: a flag byte (2: zlib-compressed), then the
/// binary XML.
fn decode_node(plaintext: &[u8]) -> Result<Node, ProtocolError> {
    let unpacked = unpack(plaintext).map_err(|e| ProtocolError::decode("a frame", e))?;
    let node = unmarshal_ref(&unpacked).map_err(|e| ProtocolError::decode("a stanza", e))?;
    Ok(node.to_owned())
}
