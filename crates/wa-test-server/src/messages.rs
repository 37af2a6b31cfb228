//! The messages between the account and its customers.
//!
//! A client's `<message to=…>` carries one `<enc>` per recipient device,
//! directly (`<enc>`) or as `<participants><to jid=…><enc>…`: the server
//! decrypts the customer's copy with the customer's keys and records it,
//! decrypts the account phone's copy (so that session stays in step) and
//! acks the stanza, or nacks it when a test asked so.
//!
//! A customer's message to the account is encrypted to the logged-in
//! device, with the keys it uploaded at login.

use whatsapp_rust::wacore::libsignal::protocol::ProtocolAddress;
use whatsapp_rust::wacore::types::jid::JidExt as _;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node};
use whatsapp_rust::waproto::whatsapp as wa;

use crate::iq::Login;
use crate::stanza::{attr, bytes_of};
use crate::{Addressing, Received, ServerError, State, now_secs, stanza};

/// A client's `<message>`: what the recipients' phones make of it, and the
/// server's ack.
pub(crate) fn from_client(state: &mut State, login: &Login, node: &Node) -> Node {
    let id = attr(node, "id").unwrap_or_default().into_owned();
    let to = attr(node, "to").unwrap_or_default().into_owned();
    let recipient = to
        .parse::<Jid>()
        .ok()
        .and_then(|jid| customer_of(state, &jid));
    if let Some(number) = &recipient
        && let Some(code) = state
            .customers
            .get_mut(number)
            .and_then(|customer| customer.nack_next.take())
    {
        return stanza::message_ack(&id, &to, Some(code), now_secs());
    }
    let sender = device_address(&login.phone, login.device);
    for (device, enc) in encrypted_copies(node, &to) {
        let enc_type = attr(enc, "type").unwrap_or_default().into_owned();
        let Some(ciphertext) = bytes_of(enc) else {
            state
                .problems
                .push(format!("message {id}: an <enc> with no bytes"));
            continue;
        };
        let Ok(device) = device.parse::<Jid>() else {
            state
                .problems
                .push(format!("message {id}: no device {device:?}"));
            continue;
        };
        if device.device != 0 {
            // A linked device (the account's others): not simulated.
            continue;
        }
        if let Some(number) = customer_of(state, &device) {
            let Some(customer) = state.customers.get_mut(&number) else {
                continue;
            };
            match customer.party.decrypt(&sender, &enc_type, ciphertext) {
                Ok(message) => customer.received.push(Received {
                    message_id: id.clone(),
                    message,
                }),
                Err(e) => state
                    .problems
                    .push(format!("message {id} to {number}: cannot decrypt: {e}")),
            }
        } else if device.user == login.phone.as_str() || is_account_lid(state, login, &device) {
            if let Some(account) = state.accounts.get_mut(&login.phone)
                && let Err(e) = account.phone.decrypt(&sender, &enc_type, ciphertext)
            {
                state.problems.push(format!(
                    "message {id}: the account's phone cannot decrypt: {e}"
                ));
            }
        } else {
            state
                .problems
                .push(format!("message {id}: a copy for {device}, who is no one"));
        }
    }
    stanza::message_ack(&id, &to, None, now_secs())
}

/// The stanza that brings `message` from the customer `number` to the
/// logged-in device.
pub(crate) fn from_customer(
    state: &mut State,
    number: &str,
    addressing: Addressing,
    message: &wa::Message,
) -> Result<Node, ServerError> {
    let (phone, device) = state
        .live
        .last()
        .map(|live| (live.phone.clone(), live.device))
        .ok_or(ServerError::NotConnected)?;
    state.next_message += 1;
    let id = format!("3EB0{:016X}", state.next_message);
    let State {
        accounts,
        customers,
        ..
    } = state;
    let customer = customers
        .get_mut(number)
        .ok_or_else(|| ServerError::UnknownCustomer(number.to_owned()))?;
    let keys = accounts
        .get_mut(&phone)
        .and_then(|account| account.uploads.get_mut(&device));
    let to = device_address(&phone, device);
    let (enc_type, ciphertext) = customer
        .party
        .encrypt(&to, keys, message)
        .map_err(|e| ServerError::Signal(e.to_string()))?;
    let mut builder = NodeBuilder::new("message");
    builder = match addressing {
        Addressing::Phone => builder.attr("from", Jid::pn(number)),
        Addressing::Lid { with_phone } => {
            let lid = customer
                .lid
                .as_deref()
                .ok_or_else(|| ServerError::NoLid(number.to_owned()))?;
            let builder = builder
                .attr("from", Jid::lid(lid))
                .attr("addressing_mode", "lid");
            if with_phone {
                builder.attr("sender_pn", Jid::pn(number))
            } else {
                builder
            }
        }
    };
    Ok(builder
        .attr("id", id)
        .attr("type", message_type(message))
        .attr("t", now_secs().to_string())
        .attr("notify", format!("Customer {number}"))
        .children([NodeBuilder::new("enc")
            .attr("v", "2")
            .attr("type", enc_type)
            .bytes(ciphertext)
            .build()])
        .build())
}

fn message_type(message: &wa::Message) -> &'static str {
    if message.conversation.is_some() || message.extended_text_message.is_set() {
        "text"
    } else {
        "media"
    }
}

/// Each recipient device's copy: `(device JID, <enc>)`.
fn encrypted_copies<'a>(node: &'a Node, to: &str) -> Vec<(String, &'a Node)> {
    let mut copies: Vec<(String, &Node)> = node
        .get_children_by_tag("enc")
        .map(|enc| (to.to_owned(), enc))
        .collect();
    if let Some(participants) = node.get_optional_child("participants") {
        for participant in participants.get_children_by_tag("to") {
            let device = attr(participant, "jid").unwrap_or_default().into_owned();
            for enc in participant.get_children_by_tag("enc") {
                copies.push((device.clone(), enc));
            }
        }
    }
    copies
}

/// The customer a JID names, by phone number or LID.
fn customer_of(state: &State, jid: &Jid) -> Option<String> {
    let user = jid.user.as_str();
    if jid.is_pn() {
        state.customers.contains_key(user).then(|| user.to_owned())
    } else if jid.is_lid() {
        state
            .customers
            .iter()
            .find(|(_, customer)| customer.lid.as_deref() == Some(user))
            .map(|(number, _)| number.clone())
    } else {
        None
    }
}

fn is_account_lid(state: &State, login: &Login, jid: &Jid) -> bool {
    jid.is_lid()
        && state
            .accounts
            .get(&login.phone)
            .is_some_and(|account| account.lid == jid.user.as_str())
}

/// The Signal address of an account's device, as its customers know it.
fn device_address(phone: &str, device: u16) -> ProtocolAddress {
    Jid::pn_device(phone, device).to_protocol_address()
}
