//! The answers to the queries a logged-in client makes about people and
//! keys:
//!
//! - `usync`: who a number is (`contact`: on WhatsApp or not), its LID
//!   (`lid`) and its devices (`devices`): customers have their phone
//!   (device 0); the account has its phone; anyone else is not on WhatsApp
//!   and has no devices;
//! - `encrypt`: prekey bundles (`<key>`: a customer's phone, the account's
//!   phone or one of its linked devices), and the linked device's own keys
//!   (`set`: the upload at login; `<count>`: how many are left; `<digest>`);
//! - `w:m` `media_conn`: the host media is uploaded to.

use whatsapp_rust::wacore::prekeys::compute_key_bundle_digest;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node, SERVER_JID};

use crate::signal::{Bundle, UploadedKeys};
use crate::stanza::{attr, bytes_of};
use crate::{Account, State, media};

/// The linked device a connection logged in as.
#[derive(Debug, Clone)]
pub(crate) struct Login {
    pub(crate) phone: String,
    pub(crate) device: u16,
}

/// Who a JID in a query is.
enum Who<'a> {
    Account(&'a str),
    Customer(&'a str),
    Nobody,
}

fn who<'a>(state: &'a State, jid: &Jid) -> Who<'a> {
    let user = jid.user.as_str();
    if jid.is_pn() {
        if let Some((phone, _)) = state.accounts.get_key_value(user) {
            return Who::Account(phone);
        }
        if let Some((phone, _)) = state.customers.get_key_value(user) {
            return Who::Customer(phone);
        }
    } else if jid.is_lid() {
        if let Some((phone, _)) = state.accounts.iter().find(|(_, a)| a.lid == user) {
            return Who::Account(phone);
        }
        if let Some((phone, _)) = state
            .customers
            .iter()
            .find(|(_, c)| c.lid.as_deref() == Some(user))
        {
            return Who::Customer(phone);
        }
    }
    Who::Nobody
}

/// The answer to a `usync` query.
pub(crate) fn usync(state: &State, id: &str, node: &Node) -> Node {
    let Some(usync) = node.get_optional_child("usync") else {
        return result(id).build();
    };
    let protocols: Vec<String> = usync
        .get_optional_child("query")
        .and_then(Node::children)
        .unwrap_or_default()
        .iter()
        .map(|protocol| protocol.tag.to_string())
        .collect();
    let users = usync
        .get_optional_child("list")
        .map(|list| list.get_children_by_tag("user").collect::<Vec<_>>())
        .unwrap_or_default();
    let answers = users
        .into_iter()
        .map(|user| usync_user(state, &protocols, user));
    let mut echo = NodeBuilder::new("usync");
    for key in ["sid", "mode", "context"] {
        if let Some(value) = attr(usync, key) {
            echo = echo.attr(key, value.into_owned());
        }
    }
    result(id)
        .children([echo
            .attr("index", "0")
            .attr("last", "true")
            .children([NodeBuilder::new("list").children(answers).build()])
            .build()])
        .build()
}

fn usync_user(state: &State, protocols: &[String], user: &Node) -> Node {
    // Asked by JID, or by phone number (`<contact>+62…</contact>`).
    let contact = user
        .get_optional_child("contact")
        .and_then(Node::content_as_string);
    let jid = attr(user, "jid")
        .and_then(|jid| jid.parse::<Jid>().ok())
        .or_else(|| {
            let digits: String = contact
                .as_deref()?
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            (!digits.is_empty()).then(|| Jid::pn(digits))
        });
    let Some(jid) = jid else {
        return NodeBuilder::new("user").build();
    };
    let who = who(state, &jid);
    let lid = match who {
        Who::Account(phone) => state.accounts.get(phone).map(|a| a.lid.clone()),
        Who::Customer(phone) => state.customers.get(phone).and_then(|c| c.lid.clone()),
        Who::Nobody => None,
    };
    let children = protocols
        .iter()
        .filter_map(|protocol| match protocol.as_str() {
            "contact" => {
                let kind = if matches!(who, Who::Nobody) {
                    "out"
                } else {
                    "in"
                };
                let mut builder = NodeBuilder::new("contact").attr("type", kind);
                if let Some(contact) = &contact {
                    builder = builder.string_content(contact.as_str());
                }
                Some(builder.build())
            }
            "devices" => {
                // Customers and the account show their phone; anyone else has
                // no devices.
                let devices = match who {
                    Who::Nobody => Vec::new(),
                    _ => vec![NodeBuilder::new("device").attr("id", "0").build()],
                };
                Some(
                    NodeBuilder::new("devices")
                        .children([NodeBuilder::new("device-list").children(devices).build()])
                        .build(),
                )
            }
            "lid" => {
                let mut builder = NodeBuilder::new("lid");
                if let Some(lid) = &lid {
                    builder = builder.attr("val", Jid::lid(lid.as_str()));
                }
                Some(builder.build())
            }
            _ => None,
        });
    NodeBuilder::new("user")
        .attr("jid", jid.to_non_ad())
        .children(children.collect::<Vec<_>>())
        .build()
}

/// The answer to an `encrypt` query, or to the upload of the device's keys.
pub(crate) fn encrypt(
    state: &mut State,
    login: &Login,
    id: &str,
    node: &Node,
) -> Result<Node, String> {
    if let Some(key) = node.get_optional_child("key") {
        let users: Vec<Node> = key
            .get_children_by_tag("user")
            .map(|user| bundle_for(state, user))
            .collect();
        return Ok(result(id)
            .children([NodeBuilder::new("list").children(users).build()])
            .build());
    }
    let account = state
        .accounts
        .get_mut(&login.phone)
        .ok_or_else(|| format!("no account {}", login.phone))?;
    if node.get_optional_child("registration").is_some() {
        let keys = parse_upload(node)?;
        account.uploads.insert(login.device, keys);
        return Ok(result(id).build());
    }
    if node.get_optional_child("count").is_some() {
        let count = account
            .uploads
            .get(&login.device)
            .map_or(0, |keys| keys.prekeys.len());
        return Ok(result(id)
            .children([NodeBuilder::new("count")
                .attr("value", count.to_string())
                .build()])
            .build());
    }
    if node.get_optional_child("digest").is_some() {
        return Ok(match account.uploads.get(&login.device) {
            Some(keys) => result(id).children([digest(keys)]).build(),
            None => error(id, 404, "item-not-found"),
        });
    }
    Ok(result(id).build())
}

/// One `<user>` of a key fetch: its bundle, or a 404.
fn bundle_for(state: &mut State, user: &Node) -> Node {
    let named = attr(user, "jid").unwrap_or_default().into_owned();
    let Ok(jid) = named.parse::<Jid>() else {
        return user_error(&named, 400, "bad-request");
    };
    let bundle = match who(state, &jid) {
        Who::Customer(phone) if jid.device == 0 => {
            let phone = phone.to_owned();
            state
                .customers
                .get_mut(&phone)
                .and_then(|customer| customer.party.take_bundle().ok())
        }
        Who::Account(phone) => {
            let phone = phone.to_owned();
            state
                .accounts
                .get_mut(&phone)
                .and_then(|account| account_bundle(account, jid.device))
        }
        _ => None,
    };
    match bundle {
        Some(bundle) => NodeBuilder::new("user")
            .attr("jid", named)
            .children(bundle_nodes(&bundle))
            .build(),
        None => user_error(&named, 404, "item-not-found"),
    }
}

fn account_bundle(account: &mut Account, device: u16) -> Option<Bundle> {
    if device == 0 {
        return account.phone.take_bundle().ok();
    }
    account
        .uploads
        .get_mut(&device)
        .map(UploadedKeys::take_bundle)
}

fn bundle_nodes(bundle: &Bundle) -> Vec<Node> {
    let mut nodes = vec![
        NodeBuilder::new("registration")
            .bytes(bundle.registration_id.to_be_bytes().to_vec())
            .build(),
        NodeBuilder::new("type").bytes(vec![5]).build(),
        NodeBuilder::new("identity")
            .bytes(bundle.identity.to_vec())
            .build(),
    ];
    if let Some((id, key)) = bundle.prekey {
        nodes.push(key_node("key", id, &key, None));
    }
    let (id, key) = bundle.signed_prekey;
    nodes.push(key_node("skey", id, &key, Some(&bundle.signature)));
    nodes
}

fn key_node(tag: &'static str, id: u32, key: &[u8; 32], signature: Option<&[u8]>) -> Node {
    let mut children = vec![
        NodeBuilder::new("id")
            .bytes(id.to_be_bytes()[1..].to_vec())
            .build(),
        NodeBuilder::new("value").bytes(key.to_vec()).build(),
    ];
    if let Some(signature) = signature {
        children.push(
            NodeBuilder::new("signature")
                .bytes(signature.to_vec())
                .build(),
        );
    }
    NodeBuilder::new(tag).children(children).build()
}

/// The keys in `<iq xmlns="encrypt" type="set">`: registration id,
/// identity, one-time prekeys (`<list><key>`), signed prekey (`<skey>`).
fn parse_upload(node: &Node) -> Result<UploadedKeys, String> {
    let field = |tag: &str| {
        node.get_optional_child(tag)
            .and_then(bytes_of)
            .ok_or_else(|| format!("the key upload has no <{tag}>"))
    };
    let registration: [u8; 4] = field("registration")?
        .try_into()
        .map_err(|_| "the registration id is not 4 bytes".to_owned())?;
    let identity = key32(field("identity")?)?;
    let skey = node
        .get_optional_child("skey")
        .ok_or("the key upload has no <skey>")?;
    let (skey_id, skey_value) = parse_key(skey)?;
    let signature = skey
        .get_optional_child("signature")
        .and_then(bytes_of)
        .ok_or("the signed prekey has no signature")?
        .to_vec();
    let prekeys = node
        .get_optional_child("list")
        .map(|list| {
            list.get_children_by_tag("key")
                .map(parse_key)
                .collect::<Result<_, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    Ok(UploadedKeys {
        bundle: Bundle {
            registration_id: u32::from_be_bytes(registration),
            identity,
            prekey: None,
            signed_prekey: (skey_id, skey_value),
            signature,
        },
        prekeys,
    })
}

fn parse_key(key: &Node) -> Result<(u32, [u8; 32]), String> {
    let id = key
        .get_optional_child("id")
        .and_then(bytes_of)
        .filter(|id| id.len() == 3)
        .ok_or("a key has no 3-byte <id>")?;
    let value = key
        .get_optional_child("value")
        .and_then(bytes_of)
        .ok_or("a key has no <value>")?;
    Ok((u32::from_be_bytes([0, id[0], id[1], id[2]]), key32(value)?))
}

fn key32(bytes: &[u8]) -> Result<[u8; 32], String> {
    <[u8; 32]>::try_from(bytes).map_err(|_| format!("a key of {} bytes, not 32", bytes.len()))
}

/// `<digest>`: what the server holds of the device's keys, for the client
/// to check against its own.
fn digest(keys: &UploadedKeys) -> Node {
    let ids: Vec<u32> = keys.prekeys.keys().copied().collect();
    let publics: Vec<&[u8]> = keys.prekeys.values().map(|key| &key[..]).collect();
    let (skey_id, skey) = keys.bundle.signed_prekey;
    let hash = compute_key_bundle_digest(
        &keys.bundle.identity,
        &skey,
        &keys.bundle.signature,
        &publics,
    );
    NodeBuilder::new("digest")
        .children([
            NodeBuilder::new("registration")
                .bytes(keys.bundle.registration_id.to_be_bytes().to_vec())
                .build(),
            NodeBuilder::new("type").bytes(vec![5]).build(),
            NodeBuilder::new("identity")
                .bytes(keys.bundle.identity.to_vec())
                .build(),
            key_node("skey", skey_id, &skey, Some(&keys.bundle.signature)),
            NodeBuilder::new("list")
                .children(ids.iter().map(|id| {
                    NodeBuilder::new("id")
                        .bytes(id.to_be_bytes()[1..].to_vec())
                        .build()
                }))
                .build(),
            NodeBuilder::new("hash").bytes(hash).build(),
        ])
        .build()
}

/// The answer to `<iq xmlns="w:m"><media_conn/></iq>`: one host, the
/// in-memory web server's.
pub(crate) fn media_conn(id: &str) -> Node {
    result(id)
        .children([NodeBuilder::new("media_conn")
            .attr("auth", media::AUTH)
            .attr("ttl", "3600")
            .attr("auth_ttl", "3600")
            .attr("max_buckets", "12")
            .children([NodeBuilder::new("host")
                .attr("hostname", media::HOST)
                .build()])
            .build()])
        .build()
}

fn result(id: &str) -> NodeBuilder {
    NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("id", id)
        .attr("from", SERVER_JID)
}

/// `<iq type="error"><error code=… text=…/></iq>`.
pub(crate) fn error(id: &str, code: u16, text: &str) -> Node {
    NodeBuilder::new("iq")
        .attr("type", "error")
        .attr("id", id)
        .attr("from", SERVER_JID)
        .children([NodeBuilder::new("error")
            .attr("code", code.to_string())
            .attr("text", text)
            .build()])
        .build()
}

fn user_error(jid: &str, code: u16, text: &str) -> Node {
    NodeBuilder::new("user")
        .attr("jid", jid)
        .children([NodeBuilder::new("error")
            .attr("code", code.to_string())
            .attr("text", text)
            .build()])
        .build()
}
