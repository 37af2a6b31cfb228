//! WhatsApp addresses (JIDs) of recipients.

use blastdesk_core::phone::Phone;
use whatsapp_rust::{Jid, Server};

/// The JID of a phone number: its E.164 digits at the user server
/// ("+62 812-3456-7890" is `6281234567890@s.whatsapp.net`).
pub fn for_phone(phone: &Phone) -> Jid {
    Jid::pn(phone.as_str().trim_start_matches('+'))
}

/// The E.164 number of a phone-number JID (`6281234567890@s.whatsapp.net`,
/// with or without a device); `None` for groups, LIDs and the rest.
pub fn phone_of(jid: &Jid) -> Option<String> {
    let user = jid.user.as_str();
    let digits = !user.is_empty() && user.chars().all(|c| c.is_ascii_digit());
    (jid.server == Server::Pn && digits).then(|| format!("+{user}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jids_come_from_e164_and_go_back() {
        let cases = [
            ("+6281234567890", "6281234567890@s.whatsapp.net"),
            ("+14155552671", "14155552671@s.whatsapp.net"),
            ("+447911123456", "447911123456@s.whatsapp.net"),
        ];
        for (e164, expected) in cases {
            let jid = for_phone(&Phone::from_e164_unchecked(e164.to_owned()));
            assert_eq!(jid.to_string(), expected);
            assert_eq!(phone_of(&jid).as_deref(), Some(e164));
        }
        let device: Jid = "6281234567890:12@s.whatsapp.net"
            .parse()
            .unwrap_or_else(|_| Jid::pn("x"));
        assert_eq!(phone_of(&device).as_deref(), Some("+6281234567890"));
        let group: Jid = "120363025246125486@g.us"
            .parse()
            .unwrap_or_else(|_| Jid::pn("x"));
        assert_eq!(phone_of(&group), None, "a group is not a phone");
    }
}
