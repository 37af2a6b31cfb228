//! The simulated phone: what it reads from a QR code, and the signed
//! device identity it has the server hand to the new device.
//!
//! The identity is three nested messages:
//!
//! ```text
//! ADVSignedDeviceIdentityHMAC { details: S, hmac: HMAC-SHA256(adv_secret, S) }
//! S = ADVSignedDeviceIdentity {
//!       details: D, account_signature_key: the phone's public key,
//!       account_signature: XEdDSA(phone, [6, 0] ‖ D ‖ device identity key) }
//! D = ADVDeviceIdentity { raw_id, timestamp, key_index }
//! ```
//!
//! The HMAC proves the phone read the QR code (the ADV secret is only
//! there; linked by code, it is the one both sides derive from the key
//! exchange, `link_code`); the signature binds the device's identity key to
//! the account.
//!
//! A hosted account (a WhatsApp Business app whose number is also on the
//! Cloud API, "coexistence") signs as WhatsApp Web checks it:
//! `ADVSignedDeviceIdentityHMAC.account_type` is `HOSTED` and the HMAC is
//! over `[6, 5] ‖ S`; `D` says `account_type: HOSTED` and
//! `device_type: E2EE` (the new device is an ordinary, end-to-end encrypted
//! one), and the account signature's prefix follows `D`'s `device_type`:
//! `[6, 5]` only for a hosted device, so `[6, 0]` here.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use whatsapp_rust::buffa::Message as _;
use whatsapp_rust::wacore::crypto::calculate_curve_signature;
use whatsapp_rust::wacore::libsignal::crypto::hmac_sha256;
use whatsapp_rust::wacore::libsignal::protocol::KeyPair;
use whatsapp_rust::waproto::whatsapp::{
    ADVDeviceIdentity, ADVEncryptionType, ADVSignedDeviceIdentity, ADVSignedDeviceIdentityHMAC,
};

use crate::ScanError;

/// The prefix of the message an account signs to vouch for a device.
const ACCOUNT_SIGNATURE_PREFIX: [u8; 2] = [6, 0];
/// The prefix of a hosted account's HMAC input, and of the account
/// signature for a hosted device.
const HOSTED_ACCOUNT_SIGNATURE_PREFIX: [u8; 2] = [6, 5];

/// What kind of account the phone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccountKind {
    /// A personal or WhatsApp Business app account.
    Ordinary,
    /// A hosted (coexistence) account.
    Hosted,
}

/// The device the phone vouches for: its identity key, and the ADV secret
/// it shares with the phone.
pub(crate) struct NewDevice<'a> {
    pub(crate) identity_key: &'a [u8; 32],
    pub(crate) adv_secret: &'a [u8; 32],
}

/// What a client's QR code says:
/// `ref,base64(noise key),base64(identity key),base64(ADV secret),client type`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QrCode {
    pub(crate) reference: String,
    pub(crate) identity_key: [u8; 32],
    pub(crate) adv_secret: [u8; 32],
}

impl QrCode {
    pub(crate) fn parse(text: &str) -> Result<QrCode, ScanError> {
        let invalid = |why: &str| ScanError::InvalidQr(why.to_owned());
        let fields: Vec<&str> = text.trim().split(',').collect();
        let [reference, noise_key, identity_key, adv_secret, ..] = fields[..] else {
            return Err(invalid("fewer than four fields"));
        };
        if reference.is_empty() {
            return Err(invalid("no reference"));
        }
        // Read, though unused: a code without a valid noise key is not one.
        key32(noise_key, "noise key")?;
        Ok(QrCode {
            reference: reference.to_owned(),
            identity_key: key32(identity_key, "identity key")?,
            adv_secret: key32(adv_secret, "ADV secret")?,
        })
    }
}

fn key32(field: &str, what: &str) -> Result<[u8; 32], ScanError> {
    STANDARD
        .decode(field)
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| ScanError::InvalidQr(format!("the {what} is not 32 bytes of base64")))
}

/// A phone number's digits: `+62 812-3456-7890` is `6281234567890`.
pub(crate) fn digits(phone: &str) -> Result<String, ScanError> {
    let digits: String = phone
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(ScanError::InvalidPhone(phone.to_owned()));
    }
    Ok(digits)
}

/// The encoded `ADVSignedDeviceIdentityHMAC` for `device`, signed by the
/// account's `phone` key.
pub(crate) fn signed_device_identity(
    phone: &KeyPair,
    device: &NewDevice<'_>,
    kind: AccountKind,
    raw_id: u32,
    key_index: u32,
) -> Result<Vec<u8>, ScanError> {
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    let hosted = kind == AccountKind::Hosted;
    let device_type = hosted.then_some(ADVEncryptionType::E2EE);
    let details = ADVDeviceIdentity {
        raw_id: Some(raw_id),
        timestamp: Some(timestamp),
        key_index: Some(key_index),
        account_type: hosted.then_some(ADVEncryptionType::HOSTED),
        device_type,
    }
    .encode_to_vec();
    let prefix = if device_type == Some(ADVEncryptionType::HOSTED) {
        HOSTED_ACCOUNT_SIGNATURE_PREFIX
    } else {
        ACCOUNT_SIGNATURE_PREFIX
    };
    let mut signed = Vec::with_capacity(2 + details.len() + 32);
    signed.extend_from_slice(&prefix);
    signed.extend_from_slice(&details);
    signed.extend_from_slice(device.identity_key);
    let account_signature = calculate_curve_signature(&phone.private_key, &signed)
        .map_err(|e| ScanError::Signature(e.to_string()))?;
    let identity = ADVSignedDeviceIdentity {
        details: Some(details),
        account_signature_key: Some(phone.public_key.public_key_bytes().to_vec()),
        account_signature: Some(account_signature.to_vec()),
        ..Default::default()
    }
    .encode_to_vec();
    let hmac = if hosted {
        let mut input = HOSTED_ACCOUNT_SIGNATURE_PREFIX.to_vec();
        input.extend_from_slice(&identity);
        hmac_sha256(device.adv_secret, &input)
    } else {
        hmac_sha256(device.adv_secret, &identity)
    };
    Ok(ADVSignedDeviceIdentityHMAC {
        details: Some(identity),
        hmac: Some(hmac.to_vec()),
        account_type: hosted.then_some(ADVEncryptionType::HOSTED),
    }
    .encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use whatsapp_rust::wacore::crypto::generate_curve_key_pair;
    use whatsapp_rust::wacore::libsignal::protocol::PublicKey;
    use whatsapp_rust::waproto::codec;

    fn qr_text(reference: &str, identity: &KeyPair, adv_secret: &[u8; 32]) -> String {
        let noise = generate_curve_key_pair();
        format!(
            "{reference},{},{},{},1",
            STANDARD.encode(noise.public_key.public_key_bytes()),
            STANDARD.encode(identity.public_key.public_key_bytes()),
            STANDARD.encode(adv_secret),
        )
    }

    #[test]
    fn qr_codes_are_read_and_bad_ones_refused() -> Result<(), ScanError> {
        let identity = generate_curve_key_pair();
        let qr = QrCode::parse(&qr_text("2@abc", &identity, &[7; 32]))?;
        assert_eq!(qr.reference, "2@abc");
        assert_eq!(&qr.identity_key[..], identity.public_key.public_key_bytes());
        assert_eq!(qr.adv_secret, [7; 32]);
        for bad in ["", "a,b,c", ",AAAA,AAAA,AAAA,1", "2@abc,!!,AAAA,AAAA,1"] {
            assert!(
                matches!(QrCode::parse(bad), Err(ScanError::InvalidQr(_))),
                "{bad:?}"
            );
        }
        Ok(())
    }

    #[test]
    fn phone_numbers_keep_their_digits() {
        assert_eq!(digits("+62 812-3456-7890"), Ok("6281234567890".to_owned()));
        for bad in ["", "+", "0812abc"] {
            assert!(digits(bad).is_err(), "{bad:?}");
        }
    }

    fn sign(phone: &KeyPair, qr: &QrCode, kind: AccountKind) -> Result<Vec<u8>, ScanError> {
        let device = NewDevice {
            identity_key: &qr.identity_key,
            adv_secret: &qr.adv_secret,
        };
        signed_device_identity(phone, &device, kind, 42, 3)
    }

    /// Checks `blob` as WhatsApp Web does: the HMAC with the ADV secret
    /// (over `[6, 5] ‖ S` for a hosted account), then the account's
    /// signature over the device's identity key, its prefix chosen by the
    /// signed `device_type`. Returns the signed details.
    fn verify(
        blob: &[u8],
        device: &KeyPair,
        adv_secret: &[u8; 32],
    ) -> Result<ADVDeviceIdentity, Box<dyn std::error::Error>> {
        let container = codec::adv_signed_device_identity_hmac_decode(blob)?;
        let signed_bytes = container.details.unwrap_or_default();
        let mut hmac_input = Vec::new();
        if container.account_type == Some(ADVEncryptionType::HOSTED) {
            hmac_input.extend_from_slice(&HOSTED_ACCOUNT_SIGNATURE_PREFIX);
        }
        hmac_input.extend_from_slice(&signed_bytes);
        assert_eq!(
            container.hmac.unwrap_or_default(),
            hmac_sha256(adv_secret, &hmac_input).to_vec()
        );
        let signed = codec::adv_signed_device_identity_decode(&signed_bytes)?;
        let details = signed.details.unwrap_or_default();
        let identity = codec::adv_device_identity_decode(&details)?;
        let mut message = if identity.device_type == Some(ADVEncryptionType::HOSTED) {
            HOSTED_ACCOUNT_SIGNATURE_PREFIX.to_vec()
        } else {
            ACCOUNT_SIGNATURE_PREFIX.to_vec()
        };
        message.extend_from_slice(&details);
        message.extend_from_slice(device.public_key.public_key_bytes());
        let key = PublicKey::from_djb_public_key_bytes(
            &signed.account_signature_key.unwrap_or_default(),
        )?;
        assert!(key.verify_signature(&message, &signed.account_signature.unwrap_or_default()));
        Ok(identity)
    }

    #[test]
    fn the_identity_verifies_as_the_client_checks_it() -> Result<(), Box<dyn std::error::Error>> {
        let phone = generate_curve_key_pair();
        let device = generate_curve_key_pair();
        let qr = QrCode::parse(&qr_text("2@abc", &device, &[9; 32]))?;
        let blob = sign(&phone, &qr, AccountKind::Ordinary)?;
        let identity = verify(&blob, &device, &[9; 32])?;
        assert_eq!((identity.raw_id, identity.key_index), (Some(42), Some(3)));
        assert_eq!((identity.account_type, identity.device_type), (None, None));
        Ok(())
    }

    #[test]
    fn a_hosted_identity_verifies_as_whatsapp_web_checks_it()
    -> Result<(), Box<dyn std::error::Error>> {
        let phone = generate_curve_key_pair();
        let device = generate_curve_key_pair();
        let qr = QrCode::parse(&qr_text("2@abc", &device, &[9; 32]))?;
        let blob = sign(&phone, &qr, AccountKind::Hosted)?;
        let container = codec::adv_signed_device_identity_hmac_decode(&blob)?;
        assert_eq!(container.account_type, Some(ADVEncryptionType::HOSTED));
        let identity = verify(&blob, &device, &[9; 32])?;
        assert_eq!(
            (identity.account_type, identity.device_type),
            (
                Some(ADVEncryptionType::HOSTED),
                Some(ADVEncryptionType::E2EE)
            )
        );
        Ok(())
    }
}
