//! One client connection, from its first byte to its close.
//!
//! The connection sees only a [`Link`]: the chunks of bytes the client
//! writes, and a way to write chunks back (closing it ends the stream).
//! The in-memory transport is one such link; a socket listener would be
//! another.
//!
//! After the handshake the client's payload says what it wants (and which
//! version it is, and, registering, its device props: [`Hello`]):
//! - registering (a new device): the server offers QR references
//!   (`pair-device`) and waits; a [`TestServer::scan`](crate::TestServer::scan)
//!   sends `pair-success`, the client confirms with `pair-device-sign`, and
//!   the server ends the stream with error 515 (restart and log in). A
//!   client that asks for a pairing code (`companion_hello`) gets a ref; a
//!   [`TestServer::enter_code`](crate::TestServer::enter_code) sends the
//!   phone's `primary_hello`, the client answers `companion_finish`, and the
//!   phone's `pair-success` follows (`link_code`);
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
use whatsapp_rust::wacore_binary::{Jid, Node, SERVER_JID};
use whatsapp_rust::waproto::whatsapp::{ClientPayload, DeviceProps};

use crate::iq::{self, Login};
use crate::link_code::CodeRequest;
use crate::noise::{Ciphers, Inbound, ProtocolError, frame};
use crate::phone::{self, AccountKind, NewDevice};
use crate::stanza::{self, attr, bytes_of};
use crate::{Intent, LinkedDevice, Shared, messages, now_secs};

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
    /// The phone scanned this connection's QR code: send `pair-success`
    /// (with `<biz name>` for a business).
    Pair {
        device: LinkedDevice,
        identity: Vec<u8>,
        business: Option<String>,
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
    shared.withdraw_codes(index);
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
        let hello = read_hello(&payload)?;
        self.shared.record_hello(self.index, &hello);
        if let Flow::Close = self.greet(&mut ciphers, &hello.intent).await? {
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
            "set" if attr(node, "xmlns").as_deref() == Some("md") => {
                match node.get_optional_child("link_code_companion_reg") {
                    Some(registration) => self.on_link_code(ciphers, &id, registration).await?,
                    None => {
                        self.send(ciphers, &stanza::iq_result(&id, SERVER_JID))
                            .await?
                    }
                }
                Ok(Flow::Continue)
            }
            "get" | "set" => {
                let from = attr(node, "to").unwrap_or(SERVER_JID.into()).into_owned();
                let namespace = attr(node, "xmlns").unwrap_or_default().into_owned();
                let answer = self.answer(&id, &from, &namespace, node);
                self.send(ciphers, &answer).await?;
                // Going active is when WhatsApp delivers what waited for
                // the device: here, nothing.
                if namespace == "passive" && node.get_optional_child("active").is_some() {
                    self.send(ciphers, &stanza::offline_done()).await?;
                    // And the profile name the phone has, as WhatsApp syncs it.
                    let profile = self
                        .login
                        .as_ref()
                        .and_then(|login| self.shared.profile_notification(&login.phone));
                    if let Some(node) = profile {
                        self.send(ciphers, &node).await?;
                    }
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
            // The client refused the identity in `pair-success`.
            "error"
                if self
                    .pairing
                    .as_ref()
                    .is_some_and(|(pair_id, _)| *pair_id == id) =>
            {
                self.pairing = None;
                let error = node.get_optional_child("error");
                let code = error.and_then(|e| attr(e, "code")).unwrap_or_default();
                let text = error.and_then(|e| attr(e, "text")).unwrap_or_default();
                self.shared.problem(format!(
                    "the client refused the pairing (pair-success {id}): {code} {text}"
                ));
                Ok(Flow::Continue)
            }
            _ => Ok(Flow::Continue),
        }
    }

    /// `<iq xmlns="md" type="set"><link_code_companion_reg stage=…>`: the
    /// steps of linking with a code.
    async fn on_link_code(
        &mut self,
        ciphers: &mut Ciphers,
        id: &str,
        registration: &Node,
    ) -> Result<(), ProtocolError> {
        match attr(registration, "stage").as_deref() {
            Some("companion_hello") => {
                let answer = self.companion_hello(id, registration);
                self.send(ciphers, &answer).await
            }
            Some("companion_finish") => {
                let (answer, paired) = self.companion_finish(id, registration);
                self.send(ciphers, &answer).await?;
                match paired {
                    Some((device, identity)) => {
                        self.send_pair_success(ciphers, device, identity, None)
                            .await
                    }
                    None => Ok(()),
                }
            }
            other => {
                self.shared
                    .problem(format!("link_code_companion_reg stage {other:?} in {id}"));
                self.send(ciphers, &iq::error(id, 400, "bad-request")).await
            }
        }
    }

    /// The client asks for a code for a number: the answer is the pairing
    /// ref the phone's hello will name.
    fn companion_hello(&mut self, id: &str, registration: &Node) -> Node {
        let number = attr(registration, "jid")
            .and_then(|jid| jid.parse::<Jid>().ok())
            .map(|jid| jid.user.to_string())
            .filter(|user| !user.is_empty());
        let wrapped = registration
            .get_optional_child("link_code_pairing_wrapped_companion_ephemeral_pub")
            .and_then(bytes_of)
            .filter(|wrapped| wrapped.len() == 80);
        let (Some(number), Some(wrapped), None) = (number, wrapped, &self.login) else {
            self.shared.problem(format!(
                "companion_hello {id}: not from a registering client, or without a \
                 number and an 80-byte wrapped key"
            ));
            return iq::error(id, 400, "bad-request");
        };
        self.next_id += 1;
        let reference = format!("wa-test-server-code.{}.{}", self.index, self.next_id);
        self.shared.offer_code(
            number,
            CodeRequest {
                connection: self.index,
                reference: reference.clone().into_bytes(),
                wrapped_ephemeral: wrapped.to_vec(),
                commands: self.commands.clone(),
                hello: None,
            },
        );
        stanza::companion_hello_answer(id, reference.as_bytes())
    }

    /// The client's key bundle: the answer, and, when the phone could open
    /// it, the device to link and its signed identity.
    fn companion_finish(
        &mut self,
        id: &str,
        registration: &Node,
    ) -> (Node, Option<(LinkedDevice, Vec<u8>)>) {
        let child = |tag: &str| registration.get_optional_child(tag).and_then(bytes_of);
        let (Some(reference), Some(bundle)) = (
            child("link_code_pairing_ref"),
            child("link_code_pairing_wrapped_key_bundle"),
        ) else {
            self.shared.problem(format!(
                "companion_finish {id} without a ref or a key bundle"
            ));
            return (iq::error(id, 400, "bad-request"), None);
        };
        let found = {
            let mut state = self.shared.lock();
            let hello = state
                .code_requests
                .iter_mut()
                .find(|(_, request)| {
                    request.connection == self.index && request.reference == reference
                })
                .and_then(|(number, request)| Some((number.clone(), request.hello.take()?)));
            hello.and_then(|(number, hello)| {
                let account = state.accounts.get(&number)?;
                Some((number, hello, account.identity.clone(), account.raw_id))
            })
        };
        let Some((number, hello, primary, raw_id)) = found else {
            self.shared.problem(format!(
                "companion_finish {id}: no code typed for this connection's ref"
            ));
            return (iq::error(id, 400, "bad-request"), None);
        };
        // The server takes the bundle; whether the phone opens it is the
        // phone's business.
        let answer = stanza::iq_result(id, SERVER_JID);
        let signed = hello.open(&primary, bundle).and_then(|opened| {
            if child("companion_identity_public") != Some(&opened.companion_identity[..]) {
                return Err("the bundle's identity key is not the one the client sent".into());
            }
            let device = NewDevice {
                identity_key: &opened.companion_identity,
                adv_secret: &opened.adv_secret,
            };
            phone::signed_device_identity(
                &primary,
                &device,
                AccountKind::Ordinary,
                raw_id,
                u32::from(hello.device.device),
            )
            .map_err(|e| e.to_string())
        });
        match signed {
            Ok(identity) => {
                // The code is spent.
                self.shared.lock().code_requests.remove(&number);
                (answer, Some((hello.device, identity)))
            }
            Err(problem) => {
                self.shared
                    .problem(format!("companion_finish {id}: {problem}"));
                (answer, None)
            }
        }
    }

    async fn send_pair_success(
        &mut self,
        ciphers: &mut Ciphers,
        device: LinkedDevice,
        identity: Vec<u8>,
        business: Option<&str>,
    ) -> Result<(), ProtocolError> {
        let id = self.new_id();
        self.send(
            ciphers,
            &stanza::pair_success(&id, &device, identity, business),
        )
        .await?;
        self.pairing = Some((id, device));
        Ok(())
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
            Command::Pair {
                device,
                identity,
                business,
            } => {
                self.send_pair_success(ciphers, device, identity, business.as_deref())
                    .await?;
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

/// What a client's handshake payload says.
pub(crate) struct Hello {
    pub(crate) intent: Intent,
    /// The user agent's app version.
    pub(crate) version: Option<(u32, u32, u32)>,
    /// Registering: the device props' `os` and `platform_type`.
    pub(crate) device_os: Option<String>,
    pub(crate) device_platform: Option<i32>,
}

/// Reads the client's handshake payload.
fn read_hello(payload: &[u8]) -> Result<Hello, ProtocolError> {
    let payload = ClientPayload::decode_from_slice(payload)
        .map_err(|e| ProtocolError::decode("the ClientPayload", e))?;
    let version = payload
        .user_agent
        .as_option()
        .and_then(|agent| agent.app_version.as_option())
        .and_then(|version| Some((version.primary?, version.secondary?, version.tertiary?)));
    let props = payload
        .device_pairing_data
        .as_option()
        .and_then(|data| data.device_props.as_deref())
        .and_then(|props| DeviceProps::decode_from_slice(props).ok());
    Ok(Hello {
        intent: intent(&payload)?,
        version,
        device_os: props.as_ref().and_then(|props| props.os.clone()),
        device_platform: props
            .as_ref()
            .and_then(|props| props.platform_type)
            .map(|platform| platform as i32),
    })
}

/// What the client's handshake payload asks for.
fn intent(payload: &ClientPayload) -> Result<Intent, ProtocolError> {
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
