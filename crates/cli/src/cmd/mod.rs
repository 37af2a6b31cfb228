//! One module per command.

pub mod account;
pub mod backup;
pub mod blast;
pub mod contacts;
pub mod import;
pub mod schedule;
pub mod settings;
pub mod status;

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
