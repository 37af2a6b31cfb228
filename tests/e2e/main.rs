//! End-to-end tests: the real Blastdesk binary, in a real window under Xvfb,
//! driven over WebDriver (tauri-driver + WebKitWebDriver).
//!
//! Each test gets a fresh data directory, a private X display and a private
//! D-Bus session bus, so it never touches the developer's own Blastdesk.

mod accounts;
mod blasts;
mod editor;
mod first_run;
mod harness;
mod idle;
mod import;
mod language;
mod linking;
mod owner;
mod progress;
mod schedules;
mod shell;
mod support;
mod tidy;
mod updates;
mod whatsapp;

#[path = "../../crates/core/tests/support/mod.rs"]
mod fixtures;
