//! The nodes the server sends, and small readers for the ones it gets.

use std::borrow::Cow;

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::{Jid, Node, NodeContent, SERVER_JID};

use crate::{Failure, LinkedDevice, ReceiptKind};

/// The platform the simulated phone reports in `pair-success`.
pub(crate) const PHONE_PLATFORM: &str = "android";
/// The platform a hosted account's phone reports: the WhatsApp Business app.
pub(crate) const HOSTED_PHONE_PLATFORM: &str = "smba";

/// A node's attribute as text.
pub(crate) fn attr<'a>(node: &'a Node, key: &str) -> Option<Cow<'a, str>> {
    node.attrs.get(key).map(|value| value.as_str())
}

/// A node's content as bytes.
pub(crate) fn bytes_of(node: &Node) -> Option<&[u8]> {
    match &node.content {
        Some(NodeContent::Bytes(bytes)) => Some(bytes),
        _ => None,
    }
}

/// `<iq type="set" xmlns="md"><pair-device><ref>…</ref>…</pair-device></iq>`:
/// the QR references a new device may show, one after another.
pub(crate) fn pair_device(id: &str, refs: &[String]) -> Node {
    let refs = refs
        .iter()
        .map(|reference| NodeBuilder::new("ref").bytes(reference.as_bytes()).build());
    md_iq(id, NodeBuilder::new("pair-device").children(refs).build())
}

/// `<iq type="set" xmlns="md"><pair-success>…</pair-success></iq>`: the
/// phone scanned the code; the device's identity, numbers and the phone's
/// platform, and for a business, `<biz name=…>` (which the client takes as
/// its push name).
pub(crate) fn pair_success(
    id: &str,
    device: &LinkedDevice,
    identity: Vec<u8>,
    business: Option<&str>,
) -> Node {
    let jid = format!("{}:{}@s.whatsapp.net", device.phone, device.device);
    let lid = format!("{}:{}@lid", device.lid, device.device);
    let platform = if business.is_some() {
        HOSTED_PHONE_PLATFORM
    } else {
        PHONE_PLATFORM
    };
    let mut children = vec![
        NodeBuilder::new("device-identity").bytes(identity).build(),
        NodeBuilder::new("device")
            .attr("jid", jid)
            .attr("lid", lid)
            .build(),
        NodeBuilder::new("platform").attr("name", platform).build(),
    ];
    if let Some(name) = business {
        children.push(NodeBuilder::new("biz").attr("name", name).build());
    }
    md_iq(
        id,
        NodeBuilder::new("pair-success").children(children).build(),
    )
}

/// The answer to `companion_hello`:
/// `<link_code_companion_reg><link_code_pairing_ref>…`.
pub(crate) fn companion_hello_answer(id: &str, reference: &[u8]) -> Node {
    result_builder(id, SERVER_JID)
        .children([NodeBuilder::new("link_code_companion_reg")
            .children([NodeBuilder::new("link_code_pairing_ref")
                .bytes(reference.to_vec())
                .build()])
            .build()])
        .build()
}

/// `<notification type="link_code_companion_reg"><link_code_companion_reg
/// stage="primary_hello">`: someone typed the code on the phone; its
/// ephemeral key wrapped with the code, its identity key, the ref.
pub(crate) fn primary_hello(
    id: &str,
    reference: &[u8],
    wrapped_ephemeral: &[u8],
    identity: &[u8],
    now_secs: u64,
) -> Node {
    link_code_notification(
        id,
        NodeBuilder::new("link_code_companion_reg")
            .attr("stage", "primary_hello")
            .children([
                NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub")
                    .bytes(wrapped_ephemeral.to_vec())
                    .build(),
                NodeBuilder::new("primary_identity_pub")
                    .bytes(identity.to_vec())
                    .build(),
                NodeBuilder::new("link_code_pairing_ref")
                    .bytes(reference.to_vec())
                    .build(),
            ])
            .build(),
        now_secs,
    )
}

/// `<notification type="link_code_companion_reg"><link_code_companion_reg
/// stage="refresh_code" force_manual_refresh=…>`: the server asks for a new
/// code.
pub(crate) fn refresh_code(id: &str, reference: &[u8], force_manual: bool, now_secs: u64) -> Node {
    link_code_notification(
        id,
        NodeBuilder::new("link_code_companion_reg")
            .attr("stage", "refresh_code")
            .attr("force_manual_refresh", force_manual.to_string())
            .children([NodeBuilder::new("link_code_pairing_ref")
                .bytes(reference.to_vec())
                .build()])
            .build(),
        now_secs,
    )
}

fn link_code_notification(id: &str, registration: Node, now_secs: u64) -> Node {
    NodeBuilder::new("notification")
        .attr("type", "link_code_companion_reg")
        .attr("from", SERVER_JID)
        .attr("id", id)
        .attr("t", now_secs.to_string())
        .children([registration])
        .build()
}

/// `<notification type="account_sync" pushname=…>`: the account's profile
/// name, as the phone has it.
pub(crate) fn account_sync(id: &str, push_name: &str, now_secs: u64) -> Node {
    NodeBuilder::new("notification")
        .attr("type", "account_sync")
        .attr("from", SERVER_JID)
        .attr("id", id)
        .attr("t", now_secs.to_string())
        .attr("pushname", push_name)
        .build()
}

fn md_iq(id: &str, child: Node) -> Node {
    NodeBuilder::new("iq")
        .attr("from", SERVER_JID)
        .attr("type", "set")
        .attr("id", id)
        .attr("xmlns", "md")
        .children([child])
        .build()
}

/// `<success t=… lid=…/>`: the login is accepted.
pub(crate) fn success(lid: &str, now_secs: u64) -> Node {
    NodeBuilder::new("success")
        .attr("t", now_secs.to_string())
        .attr("lid", format!("{lid}@lid"))
        .build()
}

/// `<failure reason=…/>`: the login is refused (401: not linked).
pub(crate) fn failure(reason: u16) -> Node {
    NodeBuilder::new("failure")
        .attr("reason", reason.to_string())
        .build()
}

/// The `<failure>` a test asked the next login to get.
pub(crate) fn login_failure(refusal: &Failure) -> Node {
    match refusal {
        Failure::Locked { header, subtext } => NodeBuilder::new("failure")
            .attr("reason", "403")
            .attr("logout_message_header", header.as_str())
            .attr("logout_message_subtext", subtext.as_str())
            .attr("logout_message_locale", "en")
            .build(),
        Failure::TempBan { code, expire_secs } => NodeBuilder::new("failure")
            .attr("reason", "402")
            .attr("code", code.to_string())
            .attr("expire", expire_secs.to_string())
            .build(),
        Failure::Outdated => failure(405),
        Failure::Reason(reason) => failure(*reason),
    }
}

/// `<stream:error><conflict type="replaced"/></stream:error>`: another
/// connection of the device took over.
pub(crate) fn stream_replaced() -> Node {
    NodeBuilder::new("stream:error")
        .children([NodeBuilder::new("conflict")
            .attr("type", "replaced")
            .build()])
        .build()
}

/// `<ack class="message" id=… from=… t=…/>`, with `error=…` when refused.
pub(crate) fn message_ack(id: &str, from: &str, error: Option<u16>, now_secs: u64) -> Node {
    let mut ack = NodeBuilder::new("ack")
        .attr("class", "message")
        .attr("id", id)
        .attr("from", from)
        .attr("t", now_secs.to_string());
    if let Some(code) = error {
        ack = ack.attr("error", code.to_string());
    }
    ack.build()
}

/// `<receipt id=… from=customer t=… [type="read"]/>`.
pub(crate) fn receipt(id: &str, phone: &str, kind: ReceiptKind, now_secs: u64) -> Node {
    let mut receipt = NodeBuilder::new("receipt")
        .attr("id", id)
        .attr("from", Jid::pn(phone))
        .attr("t", now_secs.to_string());
    if kind == ReceiptKind::Read {
        receipt = receipt.attr("type", "read");
    }
    receipt.build()
}

/// `<stream:error code=…/>` (515: restart, as after pairing).
pub(crate) fn stream_error(code: u16) -> Node {
    NodeBuilder::new("stream:error")
        .attr("code", code.to_string())
        .build()
}

/// `<ib><offline count="0"/></ib>`: nothing was waiting for the device.
pub(crate) fn offline_done() -> Node {
    NodeBuilder::new("ib")
        .children([NodeBuilder::new("offline").attr("count", "0").build()])
        .build()
}

/// An empty `<iq type="result">` answering the query `id`, from whom it
/// was sent to.
pub(crate) fn iq_result(id: &str, from: &str) -> Node {
    result_builder(id, from).build()
}

/// The answer to an app-state sync: each requested collection as a 409
/// conflict with nothing more to fetch, which the client takes as "in
/// sync" (it has no changes of its own to push).
pub(crate) fn app_state_in_sync<'a>(
    id: &str,
    from: &str,
    collections: impl IntoIterator<Item = Cow<'a, str>>,
) -> Node {
    let collections = collections.into_iter().map(|name| {
        NodeBuilder::new("collection")
            .attr("name", name.into_owned())
            .attr("type", "error")
            .children([NodeBuilder::new("error").attr("code", "409").build()])
            .build()
    });
    result_builder(id, from)
        .children([NodeBuilder::new("sync").children(collections).build()])
        .build()
}

fn result_builder(id: &str, from: &str) -> NodeBuilder {
    NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("id", id)
        .attr("from", from)
}
