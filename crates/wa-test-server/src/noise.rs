//! The server's side of the wire: the connection header, the 3-byte length
//! framing, the Noise XX handshake as responder (with the certificate chain
//! the client checks) and the transport ciphers after it.
//!
//! Built on the library's public primitives (`NoiseHandshake`,
//! `NoiseCipher`, `FrameDecoder`); the message order is Noise XX's:
//!
//! ```text
//! -> e                      ClientHello
//! <- e, ee, s, es, payload  ServerHello (payload: the certificate chain)
//! -> s, se, payload         ClientFinish (payload: the ClientPayload)
//! ```

use whatsapp_rust::buffa::{Message as _, MessageField};
use whatsapp_rust::bytes::BytesMut;
use whatsapp_rust::wacore::crypto::{calculate_curve_signature, generate_curve_key_pair};
use whatsapp_rust::wacore::framing::{FrameDecoder, encode_frame};
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::wacore::noise::{NoiseCipher, NoiseHandshake};
use whatsapp_rust::wacore_binary::consts::NOISE_PATTERN_XX;
use whatsapp_rust::waproto::codec;
use whatsapp_rust::waproto::whatsapp::cert_chain::NoiseCertificate;
use whatsapp_rust::waproto::whatsapp::cert_chain::noise_certificate::Details;
use whatsapp_rust::waproto::whatsapp::handshake_message::ServerHello;
use whatsapp_rust::waproto::whatsapp::{CertChain, HandshakeMessage};

/// Why a connection cannot go on.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProtocolError {
    #[error("the client did not open with the WhatsApp header (got {0:02x?})")]
    Header(Vec<u8>),
    #[error("the client closed the connection during the handshake")]
    ClosedEarly,
    #[error("handshake: {0}")]
    Handshake(String),
    #[error("cannot decode {what}: {detail}")]
    Decode { what: &'static str, detail: String },
    #[error("transport cipher: {0}")]
    Cipher(String),
    #[error("cannot frame a message: {0}")]
    Frame(String),
}

impl ProtocolError {
    fn handshake(error: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::Handshake(error.to_string())
    }

    pub(crate) fn decode(what: &'static str, error: impl std::fmt::Display) -> ProtocolError {
        ProtocolError::Decode {
            what,
            detail: error.to_string(),
        }
    }
}

/// The server's Noise static key and the certificate chain that vouches
/// for it.
pub(crate) struct ServerIdentity {
    static_key: KeyPair,
    cert_chain: Vec<u8>,
}

impl ServerIdentity {
    /// A new static key, with a chain of two certificates: an intermediate
    /// (issuer serial 0, the root's) and a leaf (issued by the
    /// intermediate) holding the static key. The leaf is signed by the
    /// intermediate's key; the intermediate by a made-up root, which the
    /// client accepts only with signature checks skipped.
    ///
    /// The certificates carry no validity period, on purpose: a client
    /// caches a chain that is valid now and then reconnects with Noise IK,
    /// which this server does not speak; with no period the cached chain is
    /// never valid, and the client keeps using XX.
    pub(crate) fn generate() -> ServerIdentity {
        let root = generate_curve_key_pair();
        let intermediate = generate_curve_key_pair();
        let static_key = generate_curve_key_pair();
        let intermediate_details = Details {
            serial: Some(1),
            key: Some(intermediate.public_key.public_key_bytes().to_vec()),
            ..Default::default()
        }
        .encode_to_vec();
        let leaf_details = Details {
            serial: Some(2),
            issuer_serial: Some(1),
            key: Some(static_key.public_key.public_key_bytes().to_vec()),
            ..Default::default()
        }
        .encode_to_vec();
        let certificate = |issuer: &KeyPair, details: Vec<u8>| {
            // Signing with a fresh key does not fail; were it to, a zero
            // signature does as well, since nothing checks this one.
            let signature = calculate_curve_signature(&issuer.private_key, &details)
                .unwrap_or([0; 64])
                .to_vec();
            MessageField::some(NoiseCertificate {
                details: Some(details),
                signature: Some(signature),
            })
        };
        let cert_chain = CertChain {
            intermediate: certificate(&root, intermediate_details),
            leaf: certificate(&intermediate, leaf_details),
        }
        .encode_to_vec();
        ServerIdentity {
            static_key,
            cert_chain,
        }
    }

    /// Answers a ClientHello: returns the ServerHello to send and the
    /// handshake waiting for the ClientFinish.
    pub(crate) fn answer_hello(
        &self,
        prologue: &[u8],
        client_hello: &[u8],
    ) -> Result<(Vec<u8>, AwaitingFinish), ProtocolError> {
        let message = codec::handshake_message_decode(client_hello)
            .map_err(|e| ProtocolError::decode("the ClientHello", e))?;
        let hello = message
            .client_hello
            .into_option()
            .ok_or_else(|| ProtocolError::handshake("the first message is not a ClientHello"))?;
        if hello.r#static.is_some() {
            return Err(ProtocolError::handshake(
                "the client tried Noise IK, which this server does not speak",
            ));
        }
        let client_ephemeral = key32(hello.ephemeral, "client ephemeral key")?;

        let mut noise =
            NoiseHandshake::new(NOISE_PATTERN_XX, prologue).map_err(ProtocolError::handshake)?;
        noise.authenticate(&client_ephemeral);
        let ephemeral = generate_curve_key_pair();
        noise.authenticate(ephemeral.public_key.public_key_bytes());
        // ee
        noise
            .mix_shared_secret(ephemeral.private_key.serialize(), &client_ephemeral)
            .map_err(ProtocolError::handshake)?;
        let encrypted_static = noise
            .encrypt(self.static_key.public_key.public_key_bytes())
            .map_err(ProtocolError::handshake)?;
        // es
        noise
            .mix_shared_secret(self.static_key.private_key.serialize(), &client_ephemeral)
            .map_err(ProtocolError::handshake)?;
        let encrypted_chain = noise
            .encrypt(&self.cert_chain)
            .map_err(ProtocolError::handshake)?;

        let server_hello = HandshakeMessage {
            server_hello: MessageField::some(ServerHello {
                ephemeral: Some(ephemeral.public_key.public_key_bytes().to_vec()),
                r#static: Some(encrypted_static),
                payload: Some(encrypted_chain),
                ..Default::default()
            }),
            ..Default::default()
        };
        Ok((
            codec::handshake_message_to_vec(&server_hello),
            AwaitingFinish { noise, ephemeral },
        ))
    }
}

/// A handshake that sent its ServerHello.
pub(crate) struct AwaitingFinish {
    noise: NoiseHandshake,
    ephemeral: KeyPair,
}

impl AwaitingFinish {
    /// Reads the ClientFinish: returns the transport ciphers and the
    /// client's payload (an encoded `ClientPayload`).
    pub(crate) fn finish(
        mut self,
        client_finish: &[u8],
    ) -> Result<(Ciphers, Vec<u8>), ProtocolError> {
        let message = codec::handshake_message_decode(client_finish)
            .map_err(|e| ProtocolError::decode("the ClientFinish", e))?;
        let finish = message
            .client_finish
            .into_option()
            .ok_or_else(|| ProtocolError::handshake("the second message is not a ClientFinish"))?;
        let encrypted_static = finish
            .r#static
            .ok_or_else(|| ProtocolError::handshake("the ClientFinish has no static key"))?;
        let encrypted_payload = finish
            .payload
            .ok_or_else(|| ProtocolError::handshake("the ClientFinish has no payload"))?;
        let client_static = self
            .noise
            .decrypt(&encrypted_static)
            .map_err(ProtocolError::handshake)?;
        // se
        self.noise
            .mix_shared_secret(self.ephemeral.private_key.serialize(), &client_static)
            .map_err(ProtocolError::handshake)?;
        let payload = self
            .noise
            .decrypt(&encrypted_payload)
            .map_err(ProtocolError::handshake)?;
        // The split gives the initiator's (write, read) pair: the
        // responder reads with the first and writes with the second.
        let (client_write, client_read) = self.noise.finish().map_err(ProtocolError::handshake)?;
        Ok((
            Ciphers {
                read: client_write,
                write: client_read,
                read_count: 0,
                write_count: 0,
            },
            payload,
        ))
    }
}

fn key32(key: Option<Vec<u8>>, what: &str) -> Result<[u8; 32], ProtocolError> {
    key.ok_or_else(|| ProtocolError::Handshake(format!("no {what}")))?
        .try_into()
        .map_err(|_| ProtocolError::Handshake(format!("the {what} is not 32 bytes")))
}

/// The transport ciphers of one connection: AES-GCM, the nonce a counter
/// per direction, from 0.
pub(crate) struct Ciphers {
    read: NoiseCipher,
    write: NoiseCipher,
    read_count: u32,
    write_count: u32,
}

impl Ciphers {
    /// Decrypts a frame from the client.
    pub(crate) fn open(&mut self, mut frame: BytesMut) -> Result<BytesMut, ProtocolError> {
        let counter = self.read_count;
        self.read_count = next(counter)?;
        self.read
            .decrypt_in_place_with_counter(counter, &mut frame)
            .map_err(|e| ProtocolError::Cipher(e.to_string()))?;
        Ok(frame)
    }

    /// Encrypts a frame for the client.
    pub(crate) fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, ProtocolError> {
        let counter = self.write_count;
        self.write_count = next(counter)?;
        self.write
            .encrypt_with_counter(counter, plaintext)
            .map_err(|e| ProtocolError::Cipher(e.to_string()))
    }
}

fn next(counter: u32) -> Result<u32, ProtocolError> {
    counter
        .checked_add(1)
        .ok_or_else(|| ProtocolError::Cipher("the frame counter ran out".into()))
}

/// The bytes a client sent, cut into frames. The first write starts with
/// the 4-byte header (`WA`, protocol version), which is also the Noise
/// prologue; then come frames, each a 3-byte big-endian length and a
/// payload, any number to a write.
#[derive(Default)]
pub(crate) struct Inbound {
    header: Option<Vec<u8>>,
    early: Vec<u8>,
    frames: FrameDecoder,
}

impl Inbound {
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), ProtocolError> {
        if self.header.is_some() {
            self.frames.feed(data);
            return Ok(());
        }
        self.early.extend_from_slice(data);
        if self.early.len() < 4 {
            return Ok(());
        }
        let rest = self.early.split_off(4);
        let header = std::mem::take(&mut self.early);
        if !header.starts_with(b"WA") {
            return Err(ProtocolError::Header(header));
        }
        self.header = Some(header);
        self.frames.feed(&rest);
        Ok(())
    }

    /// The connection header, once it has arrived.
    pub(crate) fn header(&self) -> Option<&[u8]> {
        self.header.as_deref()
    }

    pub(crate) fn next_frame(&mut self) -> Option<BytesMut> {
        self.header.as_ref()?;
        self.frames.decode_frame()
    }
}

/// A payload with its 3-byte length, ready to send.
pub(crate) fn frame(payload: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    encode_frame(payload, None).map_err(|e| ProtocolError::Frame(e.to_string()))
}
