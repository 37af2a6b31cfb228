//! Blastdesk's core: everything that is neither window nor WhatsApp.
//!
//! The desktop shell (`src-tauri/`) and the command line (`crates/cli`) are thin
//! layers over this crate; it never depends on Tauri or on a WhatsApp library,
//! so every behaviour here is testable headless.
//!
//! Components:
//! - [`data_dir`]: where Blastdesk keeps its one database file and its logs.
//! - [`owner`]: the one process that owns a data folder while it sends.
//! - [`blast`]: the one path by which a list of recipients becomes a blast.
//! - [`store`]: the SQLite store: opening, identification, forward-only migrations.
//! - [`logging`]: tracing to a daily-rotated file, and the privacy rules for logs.
//! - [`error`]: the stable error codes every layer above reports with.
//! - [`updates`]: what an update of Blastdesk itself offers, and when to look for one.

pub mod account;
pub mod audience;
pub mod blast;
pub mod clock;
pub mod data_dir;
pub mod engine;
pub mod error;
pub mod hooks;
pub mod import;
pub mod logging;
pub mod messenger;
pub mod optout;
pub mod owner;
pub mod pacing;
pub mod phone;
pub mod random;
pub mod reason;
pub mod report;
pub mod sample;
pub mod schedule;
pub mod scheduler;
pub mod shutdown;
pub mod store;
pub mod template;
pub mod updates;
pub mod zone;

pub use error::ErrorCode;
pub use store::Store;
