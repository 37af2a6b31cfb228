//! Blastdesk's WhatsApp adapter.
//!
//! This crate will implement the core's `Messenger` on whatsapp-rust 0.7:
//! account linking (QR and pairing code), the session lifecycle, sending,
//! receipts, and the mapping of WhatsApp events and errors to Blastdesk's
//! statuses and error classes. It is the only crate that knows WhatsApp.
//!
//! Until then it is an empty member of the workspace, so that its place in the
//! dependency graph (core <- whatsapp <- shell, cli) is fixed from the start.
