//! Blastdesk's WhatsApp adapter: the core's `Messenger` on whatsapp-rust 0.7,
//! and the only crate that knows WhatsApp.
//!
//! - [`jid`]: recipients' addresses from E.164 numbers;
//! - [`qr`]: QR codes as SVG for the link screen;
//! - [`signals`]: what the library reports (events, send errors) mapped to
//!   the core's account signals, receipts and error classes, by kind, never
//!   by text;
//! - [`version`]: the WhatsApp Web version Blastdesk announces, pinned here;
//! - [`session`]: a linked account's live client, its supervision (when to
//!   reconnect is the core's `AccountMachine`'s decision) and sending.

pub mod jid;
pub mod qr;
pub mod session;
pub mod signals;
pub mod version;
