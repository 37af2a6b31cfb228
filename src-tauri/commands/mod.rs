//! Tauri commands, one module per feature. Each is a thin wrapper: take the
//! state, run one core call off the UI thread, map the error.

pub mod accounts;
pub mod app;
pub mod audiences;
pub mod blasts;
pub mod contacts;
pub mod data;
pub mod import;
pub mod schedules;
pub mod settings;
pub mod updates;

use crate::error::Error;

/// Runs blocking store work on Tauri's blocking pool.
pub async fn blocking<T, F>(work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, Error> + Send + 'static,
{
    tauri::async_runtime::spawn_blocking(work)
        .await
        .map_err(Error::internal)?
}

/// The current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
