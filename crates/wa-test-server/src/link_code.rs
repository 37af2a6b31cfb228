//! Linking with a code instead of a QR code: the phone's half of the
//! exchange, and what the server keeps between its steps.
//!
//! ```text
//! client -> companion_hello: its ephemeral key, wrapped with the code
//! server <- the pairing ref
//! phone  -> primary_hello (a notification): the phone's ephemeral key,
//!           wrapped with the code, its identity key, the ref
//! client -> companion_finish: the key bundle, encrypted to the ephemerals
//! server <- result; then the phone opens the bundle and sends pair-success
//! ```
//!
//! A wrapped key is `salt (32) ‖ iv (16) ‖ AES-256-CTR(PBKDF2(code, salt), key)`
//! both ways; the bundle is `salt (32) ‖ iv (12) ‖ AES-256-GCM(HKDF(ee, salt),
//! companion identity ‖ phone identity ‖ 32 random bytes)`, `ee` being the
//! ephemerals' shared secret. Both sides then derive the new ADV secret,
//! `HKDF(ee ‖ identities' shared secret ‖ the random bytes, "adv_secret")`,
//! which the `pair-success` HMAC is keyed with.
//!
//! The server never sees the code: it routes the phone's hello to the
//! connection that asked for a code for that number. A phone that typed the
//! wrong code cannot open the bundle, and says nothing (as WhatsApp's does):
//! the client gives the code up after a minute.

use whatsapp_rust::async_channel::Sender;
use whatsapp_rust::wacore::crypto::{generate_curve_key_pair, hkdf_sha256_into};
use whatsapp_rust::wacore::libsignal::crypto::aes_256_gcm_decrypt;
use whatsapp_rust::wacore::libsignal::protocol::{KeyPair, PublicKey};
use whatsapp_rust::wacore::pair_code::PairCodeUtils;

use crate::connection::Command;
use crate::{LinkedDevice, ScanError};

/// The HKDF info of the key that encrypts the bundle.
const BUNDLE_KEY_INFO: &[u8] = b"link_code_pairing_key_bundle_encryption_key";
/// The HKDF info of the new ADV secret.
const ADV_SECRET_INFO: &[u8] = b"adv_secret";
const BUNDLE_SALT: usize = 32;
const BUNDLE_IV: usize = 12;
const GCM_TAG: usize = 16;

/// A registering connection's request for a code (`companion_hello`).
pub(crate) struct CodeRequest {
    pub(crate) connection: usize,
    /// The pairing ref the server answered with.
    pub(crate) reference: Vec<u8>,
    /// The client's ephemeral key, wrapped with the code (80 bytes).
    pub(crate) wrapped_ephemeral: Vec<u8>,
    pub(crate) commands: Sender<Command>,
    /// The phone's answer, once someone typed a code.
    pub(crate) hello: Option<PrimaryHello>,
}

/// What the phone keeps from its `primary_hello` until the bundle comes.
pub(crate) struct PrimaryHello {
    ephemeral: KeyPair,
    /// The client's ephemeral key, as unwrapped with the code typed.
    companion_ephemeral: [u8; 32],
    pub(crate) device: LinkedDevice,
}

/// What the phone read in the bundle it opened.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) companion_identity: [u8; 32],
    pub(crate) adv_secret: [u8; 32],
}

/// The code as typed: `abcd-1234` is `ABCD1234`.
pub(crate) fn normalize(code: &str) -> Result<String, ScanError> {
    let code: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .collect::<String>()
        .to_ascii_uppercase();
    if PairCodeUtils::validate_code(&code) {
        Ok(code)
    } else {
        Err(ScanError::InvalidCode(code))
    }
}

/// The phone, given the code typed and the client's wrapped ephemeral key:
/// its own ephemeral key for the exchange, and that key wrapped with the
/// code for the notification. Slow: two key derivations of 2^17 rounds.
pub(crate) fn primary_hello(
    code: &str,
    wrapped_companion: &[u8],
    device: LinkedDevice,
) -> Result<(PrimaryHello, [u8; 80]), ScanError> {
    // The wrapping is the same both ways; the library's helper names the
    // direction the client reads.
    let companion_ephemeral = PairCodeUtils::decrypt_primary_ephemeral_pub(wrapped_companion, code)
        .map_err(|e| ScanError::Signature(e.to_string()))?;
    let ephemeral = generate_curve_key_pair();
    let public: [u8; 32] = ephemeral
        .public_key
        .public_key_bytes()
        .try_into()
        .map_err(|_| ScanError::Signature("the ephemeral key is not 32 bytes".into()))?;
    let wrapped = PairCodeUtils::encrypt_ephemeral_pub(&public, code);
    Ok((
        PrimaryHello {
            ephemeral,
            companion_ephemeral,
            device,
        },
        wrapped,
    ))
}

impl PrimaryHello {
    /// Opens the client's `companion_finish` bundle with the phone's
    /// identity key `primary`, and derives the new ADV secret.
    pub(crate) fn open(&self, primary: &KeyPair, wrapped_bundle: &[u8]) -> Result<Opened, String> {
        let companion_ephemeral = PublicKey::from_djb_public_key_bytes(&self.companion_ephemeral)
            .map_err(|e| format!("the client's ephemeral key: {e}"))?;
        let ephemeral_shared = self
            .ephemeral
            .private_key
            .calculate_agreement(&companion_ephemeral)
            .map_err(|e| format!("the ephemeral key agreement: {e}"))?;
        if wrapped_bundle.len() < BUNDLE_SALT + BUNDLE_IV + GCM_TAG {
            return Err(format!(
                "a key bundle of {} bytes is too short",
                wrapped_bundle.len()
            ));
        }
        let (salt, rest) = wrapped_bundle.split_at(BUNDLE_SALT);
        let (iv, sealed) = rest.split_at(BUNDLE_IV);
        let iv: [u8; BUNDLE_IV] = iv
            .try_into()
            .map_err(|_| "the bundle's IV is not 12 bytes".to_owned())?;
        let mut key = [0; 32];
        hkdf_sha256_into(&ephemeral_shared, Some(salt), BUNDLE_KEY_INFO, &mut key)
            .map_err(|e| format!("the bundle key: {e}"))?;
        let mut bundle = Vec::with_capacity(96);
        aes_256_gcm_decrypt(&key, &iv, b"", sealed, &mut bundle).map_err(|_| {
            "the phone cannot open the key bundle: the code typed is not the one shown".to_owned()
        })?;
        let [companion_identity, primary_identity, random] = split3(&bundle)
            .ok_or_else(|| format!("a key bundle of {} bytes, not 96", bundle.len()))?;
        if primary_identity != primary.public_key.public_key_bytes() {
            return Err("the key bundle names another phone's identity key".into());
        }
        let companion = PublicKey::from_djb_public_key_bytes(&companion_identity)
            .map_err(|e| format!("the client's identity key: {e}"))?;
        let identity_shared = primary
            .private_key
            .calculate_agreement(&companion)
            .map_err(|e| format!("the identity key agreement: {e}"))?;
        let mut secret = Vec::with_capacity(96);
        secret.extend_from_slice(&ephemeral_shared);
        secret.extend_from_slice(&identity_shared);
        secret.extend_from_slice(&random);
        let mut adv_secret = [0; 32];
        hkdf_sha256_into(&secret, None, ADV_SECRET_INFO, &mut adv_secret)
            .map_err(|e| format!("the ADV secret: {e}"))?;
        Ok(Opened {
            companion_identity,
            adv_secret,
        })
    }
}

/// 96 bytes as three keys of 32.
fn split3(bytes: &[u8]) -> Option<[[u8; 32]; 3]> {
    if bytes.len() != 96 {
        return None;
    }
    let key = |n: usize| <[u8; 32]>::try_from(&bytes[n * 32..(n + 1) * 32]).ok();
    Some([key(0)?, key(1)?, key(2)?])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device() -> LinkedDevice {
        LinkedDevice {
            phone: "6281234567890".into(),
            device: 1,
            lid: "100000000000001".into(),
        }
    }

    #[test]
    fn codes_are_read_as_the_client_shows_them() {
        assert_eq!(normalize("abcd-1234"), Ok("ABCD1234".to_owned()));
        for bad in ["", "ABCD123", "ABCD12340", "ABCD-0000", "ABCDIOU1"] {
            assert!(
                matches!(normalize(bad), Err(ScanError::InvalidCode(_))),
                "{bad:?}"
            );
        }
    }

    /// The client's side, through the library's own functions: the phone
    /// derives the ADV secret the client derived, and only with the right
    /// code.
    #[test]
    fn the_phone_derives_the_client_s_adv_secret() -> Result<(), Box<dyn std::error::Error>> {
        let code = "ABCD1234";
        let client_ephemeral = generate_curve_key_pair();
        let client_identity = generate_curve_key_pair();
        let primary = generate_curve_key_pair();
        let public = |key: &KeyPair| <[u8; 32]>::try_from(key.public_key.public_key_bytes());

        let wrapped = PairCodeUtils::encrypt_ephemeral_pub(&public(&client_ephemeral)?, code);
        let (hello, wrapped_primary) = primary_hello(code, &wrapped, device())?;
        let primary_ephemeral =
            PairCodeUtils::decrypt_primary_ephemeral_pub(&wrapped_primary, code)?;
        let (bundle, adv_secret) = PairCodeUtils::prepare_key_bundle(
            &client_ephemeral,
            &primary_ephemeral,
            &public(&primary)?,
            &client_identity,
        )?;
        let opened = hello.open(&primary, &bundle)?;
        assert_eq!(opened.adv_secret, adv_secret);
        assert_eq!(opened.companion_identity, public(&client_identity)?);

        // Typed wrong, the phone and the client each unwrap the other's key
        // into noise: the bundle does not open.
        let (wrong, wrapped_wrong) = primary_hello("WXYZ5678", &wrapped, device())?;
        let noise = PairCodeUtils::decrypt_primary_ephemeral_pub(&wrapped_wrong, code)?;
        let (bundle, _) = PairCodeUtils::prepare_key_bundle(
            &client_ephemeral,
            &noise,
            &public(&primary)?,
            &client_identity,
        )?;
        assert!(wrong.open(&primary, &bundle).is_err());
        Ok(())
    }
}
