//! The Signal side of the simulated people: a [`Party`] is one device's
//! keys and sessions, in memory, on the library's libsignal.
//!
//! A customer's phone is a party: the server hands its prekey bundle to a
//! client that asks for it (`encrypt` IQ), decrypts what the client
//! encrypts to it, and encrypts its replies to the client's device with the
//! keys that device uploaded at login ([`UploadedKeys`]).
//!
//! The libsignal calls are `async` only because stores may be; these stores
//! never wait, so each call completes on its first poll (`now_or_never`)
//! and the server keeps its state behind a plain mutex.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;

use whatsapp_rust::async_trait;
use whatsapp_rust::futures::FutureExt as _;
use whatsapp_rust::wacore::libsignal::protocol::{
    CiphertextMessage, Direction, GenericSignedPreKey as _, IdentityChange, IdentityKey,
    IdentityKeyPair, IdentityKeyStore, KeyPair, PreKeyBundle, PreKeyId, PreKeyRecord,
    PreKeySignalMessage, PreKeyStore, ProtocolAddress, PublicKey, SessionRecord, SessionStore,
    SignalMessage, SignalProtocolError, SignedPreKeyId, SignedPreKeyRecord, SignedPreKeyStore,
    Timestamp, UsePQRatchet, message_decrypt, message_encrypt, process_prekey_bundle,
};
use whatsapp_rust::wacore::messages::{MessageUtils, decode_plaintext};
use whatsapp_rust::waproto::whatsapp as wa;

/// How many one-time prekeys a new party has; a fetch hands out one, and
/// once they are gone bundles carry the signed prekey only.
const ONE_TIME_PREKEYS: u32 = 8;
const SIGNED_PREKEY_ID: u32 = 1;

/// Why a Signal step failed.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("signal: {0}")]
    Protocol(#[from] SignalProtocolError),
    #[error("the in-memory signal store did not complete at once")]
    Pending,
    #[error("cannot read the decrypted message: {0}")]
    Plaintext(String),
    #[error("unknown ciphertext type {0:?}")]
    UnknownType(String),
    #[error("the device uploaded no usable keys: {0}")]
    Keys(String),
}

/// A prekey bundle as the server sends it in an `encrypt` answer.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub(crate) registration_id: u32,
    pub(crate) identity: [u8; 32],
    pub(crate) prekey: Option<(u32, [u8; 32])>,
    pub(crate) signed_prekey: (u32, [u8; 32]),
    pub(crate) signature: Vec<u8>,
}

/// The keys a client device uploaded (`<iq xmlns="encrypt" type="set">`).
#[derive(Debug, Clone)]
pub(crate) struct UploadedKeys {
    pub(crate) bundle: Bundle,
    /// One-time prekeys not yet handed out, by id.
    pub(crate) prekeys: BTreeMap<u32, [u8; 32]>,
}

impl UploadedKeys {
    /// The next bundle: the signed prekey and one unused one-time prekey.
    pub(crate) fn take_bundle(&mut self) -> Bundle {
        let mut bundle = self.bundle.clone();
        bundle.prekey = self.prekeys.pop_first();
        bundle
    }
}

/// One device's Signal state.
pub(crate) struct Party {
    identity: Identities,
    prekeys: PreKeys,
    signed: SignedPreKeys,
    sessions: Sessions,
    /// One-time prekeys not yet handed out.
    unused: Vec<u32>,
}

impl Party {
    pub(crate) fn generate() -> Result<Party, SignalError> {
        let mut rng = rng();
        let identity = IdentityKeyPair::generate(&mut rng);
        let registration_id = rand_registration_id(&mut rng);
        let signed_pair = KeyPair::generate(&mut rng);
        let signature = identity
            .private_key()
            .calculate_signature(&signed_pair.public_key.serialize(), &mut rng)
            .map_err(SignalProtocolError::from)?;
        let signed = SignedPreKeyRecord::new(
            SignedPreKeyId::from(SIGNED_PREKEY_ID),
            Timestamp::from_epoch_millis(0),
            &signed_pair,
            &signature,
        );
        let mut prekeys = HashMap::new();
        for id in 1..=ONE_TIME_PREKEYS {
            let pair = KeyPair::generate(&mut rng);
            prekeys.insert(PreKeyId::from(id), PreKeyRecord::new(id.into(), &pair));
        }
        Ok(Party {
            identity: Identities {
                own: identity,
                registration_id,
                known: HashMap::new(),
            },
            prekeys: PreKeys(prekeys),
            signed: SignedPreKeys(signed),
            sessions: Sessions(HashMap::new()),
            unused: (1..=ONE_TIME_PREKEYS).rev().collect(),
        })
    }

    pub(crate) fn identity_key(&self) -> [u8; 32] {
        key32(self.identity.own.public_key())
    }

    /// The next bundle to hand out, with a one-time prekey while some last.
    pub(crate) fn take_bundle(&mut self) -> Result<Bundle, SignalError> {
        let signed = &self.signed.0;
        let prekey = match self.unused.pop() {
            Some(id) => {
                let record = self.prekeys.0.get(&PreKeyId::from(id));
                record
                    .map(|r| r.public_key())
                    .transpose()?
                    .map(|key| (id, key32(&key)))
            }
            None => None,
        };
        Ok(Bundle {
            registration_id: self.identity.registration_id,
            identity: self.identity_key(),
            prekey,
            signed_prekey: (SIGNED_PREKEY_ID, key32(&signed.public_key()?)),
            signature: signed.signature()?.to_vec(),
        })
    }

    /// Decrypts what `from` encrypted to this party (`enc_type` is the
    /// `<enc type>`: `pkmsg` or `msg`) and reads the padded message.
    pub(crate) fn decrypt(
        &mut self,
        from: &ProtocolAddress,
        enc_type: &str,
        ciphertext: &[u8],
    ) -> Result<wa::Message, SignalError> {
        let message = match enc_type {
            "pkmsg" => {
                CiphertextMessage::PreKeySignalMessage(PreKeySignalMessage::try_from(ciphertext)?)
            }
            "msg" => CiphertextMessage::SignalMessage(SignalMessage::try_from(ciphertext)?),
            other => return Err(SignalError::UnknownType(other.to_owned())),
        };
        let mut rng = rng();
        let decrypted = once(message_decrypt(
            &message,
            from,
            &mut self.sessions,
            &mut self.identity,
            &mut self.prekeys,
            &self.signed,
            &mut rng,
            UsePQRatchet::No,
        ))??;
        if let Some(id) = decrypted.consumed_prekey_id {
            self.prekeys.0.remove(&id);
        }
        decode_plaintext(&decrypted.plaintext, 2).map_err(|e| SignalError::Plaintext(e.to_string()))
    }

    /// Encrypts `message` to the device `to`, starting a session from
    /// `keys` (its uploaded bundle) when there is none: returns the `<enc
    /// type>` and the ciphertext.
    pub(crate) fn encrypt(
        &mut self,
        to: &ProtocolAddress,
        keys: Option<&mut UploadedKeys>,
        message: &wa::Message,
    ) -> Result<(&'static str, Vec<u8>), SignalError> {
        let has_session = self
            .sessions
            .0
            .get(to.as_str())
            .is_some_and(|record| record.session_state().is_some());
        if !has_session {
            let keys = keys.ok_or_else(|| SignalError::Keys("none uploaded".into()))?;
            let bundle = keys.take_bundle().to_prekey_bundle(to.device_id().into())?;
            let mut rng = rng();
            once(process_prekey_bundle(
                to,
                &mut self.sessions,
                &mut self.identity,
                &bundle,
                &mut rng,
                UsePQRatchet::No,
            ))??;
        }
        let plaintext = MessageUtils::encode_and_pad(message);
        let encrypted = once(message_encrypt(
            &plaintext,
            to,
            &mut self.sessions,
            &mut self.identity,
        ))??;
        let kind = match encrypted {
            CiphertextMessage::PreKeySignalMessage(_) => "pkmsg",
            _ => "msg",
        };
        Ok((kind, encrypted.serialize().to_vec()))
    }
}

impl Bundle {
    fn to_prekey_bundle(&self, device: u32) -> Result<PreKeyBundle, SignalError> {
        let prekey = self
            .prekey
            .map(|(id, key)| Ok::<_, SignalError>((PreKeyId::from(id), public(&key)?)))
            .transpose()?;
        Ok(PreKeyBundle::new(
            self.registration_id,
            device.into(),
            prekey,
            SignedPreKeyId::from(self.signed_prekey.0),
            public(&self.signed_prekey.1)?,
            self.signature.clone(),
            IdentityKey::new(public(&self.identity)?),
        )?)
    }
}

fn public(bytes: &[u8; 32]) -> Result<PublicKey, SignalError> {
    PublicKey::from_djb_public_key_bytes(bytes).map_err(|e| SignalError::Keys(e.to_string()))
}

fn key32(key: &PublicKey) -> [u8; 32] {
    let mut out = [0; 32];
    let bytes = key.public_key_bytes();
    if bytes.len() == 32 {
        out.copy_from_slice(bytes);
    }
    out
}

fn rng() -> rand::rngs::StdRng {
    rand::make_rng::<rand::rngs::StdRng>()
}

fn rand_registration_id(rng: &mut rand::rngs::StdRng) -> u32 {
    use rand::RngExt as _;
    rng.random_range(1..16_380)
}

/// Runs a store call that cannot wait.
fn once<T>(future: impl Future<Output = T>) -> Result<T, SignalError> {
    future.now_or_never().ok_or(SignalError::Pending)
}

struct Identities {
    own: IdentityKeyPair,
    registration_id: u32,
    known: HashMap<String, IdentityKey>,
}

#[async_trait]
impl IdentityKeyStore for Identities {
    async fn get_identity_key_pair(&self) -> Result<IdentityKeyPair, SignalProtocolError> {
        Ok(self.own.clone())
    }

    async fn get_local_registration_id(&self) -> Result<u32, SignalProtocolError> {
        Ok(self.registration_id)
    }

    async fn save_identity(
        &mut self,
        address: &ProtocolAddress,
        identity: &IdentityKey,
    ) -> Result<IdentityChange, SignalProtocolError> {
        let previous = self.known.insert(address.as_str().to_owned(), *identity);
        Ok(IdentityChange::from_changed(
            previous.is_some_and(|key| key != *identity),
        ))
    }

    async fn is_trusted_identity(
        &self,
        _address: &ProtocolAddress,
        _identity: &IdentityKey,
        _direction: Direction,
    ) -> Result<bool, SignalProtocolError> {
        Ok(true)
    }

    async fn get_identity(
        &self,
        address: &ProtocolAddress,
    ) -> Result<Option<IdentityKey>, SignalProtocolError> {
        Ok(self.known.get(address.as_str()).copied())
    }
}

struct PreKeys(HashMap<PreKeyId, PreKeyRecord>);

#[async_trait]
impl PreKeyStore for PreKeys {
    async fn get_pre_key(&self, id: PreKeyId) -> Result<PreKeyRecord, SignalProtocolError> {
        self.0
            .get(&id)
            .cloned()
            .ok_or(SignalProtocolError::InvalidPreKeyId)
    }

    async fn save_pre_key(
        &mut self,
        id: PreKeyId,
        record: &PreKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0.insert(id, record.clone());
        Ok(())
    }

    async fn remove_pre_key(&mut self, id: PreKeyId) -> Result<(), SignalProtocolError> {
        self.0.remove(&id);
        Ok(())
    }
}

struct SignedPreKeys(SignedPreKeyRecord);

#[async_trait]
impl SignedPreKeyStore for SignedPreKeys {
    async fn get_signed_pre_key(
        &self,
        id: SignedPreKeyId,
    ) -> Result<SignedPreKeyRecord, SignalProtocolError> {
        if u32::from(id) == SIGNED_PREKEY_ID {
            Ok(self.0.clone())
        } else {
            Err(SignalProtocolError::InvalidSignedPreKeyId)
        }
    }

    async fn save_signed_pre_key(
        &mut self,
        _id: SignedPreKeyId,
        record: &SignedPreKeyRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0 = record.clone();
        Ok(())
    }
}

struct Sessions(HashMap<String, SessionRecord>);

#[async_trait]
impl SessionStore for Sessions {
    async fn load_session(
        &self,
        address: &ProtocolAddress,
    ) -> Result<Option<SessionRecord>, SignalProtocolError> {
        Ok(self.0.get(address.as_str()).cloned())
    }

    async fn has_session(&self, address: &ProtocolAddress) -> Result<bool, SignalProtocolError> {
        Ok(self.0.contains_key(address.as_str()))
    }

    async fn store_session(
        &mut self,
        address: &ProtocolAddress,
        record: SessionRecord,
    ) -> Result<(), SignalProtocolError> {
        self.0.insert(address.as_str().to_owned(), record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(name: &str) -> ProtocolAddress {
        ProtocolAddress::new(name, 0.into())
    }

    fn text(text: &str) -> wa::Message {
        wa::Message {
            conversation: Some(text.to_owned()),
            ..Default::default()
        }
    }

    /// One party's bundle, as a device would upload it.
    fn uploaded(party: &mut Party) -> Result<UploadedKeys, SignalError> {
        let mut prekeys = BTreeMap::new();
        let bundle = party.take_bundle()?;
        if let Some((id, key)) = bundle.prekey {
            prekeys.insert(id, key);
        }
        Ok(UploadedKeys { bundle, prekeys })
    }

    #[test]
    fn two_parties_talk_in_one_session() -> Result<(), SignalError> {
        let mut alice = Party::generate()?;
        let mut bob = Party::generate()?;
        let mut bob_keys = uploaded(&mut bob)?;

        let (kind, first) = alice.encrypt(&address("bob"), Some(&mut bob_keys), &text("hi"))?;
        assert_eq!(kind, "pkmsg");
        assert!(
            bob_keys.prekeys.is_empty(),
            "the one-time prekey is used up"
        );
        let got = bob.decrypt(&address("alice"), kind, &first)?;
        assert_eq!(got.conversation.as_deref(), Some("hi"));

        // Bob answers in the session Alice started: no keys needed.
        let (kind, answer) = bob.encrypt(&address("alice"), None, &text("hello"))?;
        assert_eq!(kind, "msg");
        let got = alice.decrypt(&address("bob"), kind, &answer)?;
        assert_eq!(got.conversation.as_deref(), Some("hello"));

        // Once answered, Alice's messages are plain ones.
        let (kind, again) = alice.encrypt(&address("bob"), None, &text("bye"))?;
        assert_eq!(kind, "msg");
        let got = bob.decrypt(&address("alice"), kind, &again)?;
        assert_eq!(got.conversation.as_deref(), Some("bye"));
        Ok(())
    }

    #[test]
    fn bundles_run_out_of_one_time_prekeys() -> Result<(), SignalError> {
        let mut party = Party::generate()?;
        let ids: Vec<Option<u32>> = (0..=ONE_TIME_PREKEYS)
            .map(|_| party.take_bundle().map(|b| b.prekey.map(|(id, _)| id)))
            .collect::<Result<_, _>>()?;
        assert_eq!(ids[0], Some(1));
        assert_eq!(ids[ONE_TIME_PREKEYS as usize - 1], Some(ONE_TIME_PREKEYS));
        assert_eq!(ids[ONE_TIME_PREKEYS as usize], None);
        Ok(())
    }

    #[test]
    fn without_keys_or_a_session_nothing_is_encrypted() -> Result<(), SignalError> {
        let mut party = Party::generate()?;
        let outcome = party.encrypt(&address("nobody"), None, &text("hi"));
        assert!(matches!(outcome, Err(SignalError::Keys(_))));
        Ok(())
    }
}
