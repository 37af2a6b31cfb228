//! Commands of the Schedules screen. Every change wakes the scheduler.

use std::sync::Arc;

use blastdesk_core::blast;
use blastdesk_core::store::schedules::{Refresh, Schedule, ScheduleRun, ScheduleSpec};
use tauri::State;
use tokio::sync::Notify;

use super::{blocking, now_ms};
use crate::error::Error;
use crate::import_session::ImportSession;
use crate::state::AppState;

/// The running scheduler's wake-up.
pub struct SchedulerWaker(pub Arc<Notify>);

#[tauri::command]
pub async fn list_schedules(state: State<'_, AppState>) -> Result<Vec<Schedule>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.list_schedules()?)).await
}

#[tauri::command]
pub async fn schedule_runs(
    state: State<'_, AppState>,
    schedule_id: i64,
) -> Result<Vec<ScheduleRun>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.schedule_runs(schedule_id)?)).await
}

/// The linked spreadsheet, by the id it was granted when the person chose
/// it: the window never names a file path.
fn linked_list(session: &ImportSession, file_id: Option<u64>) -> Result<Option<Refresh>, Error> {
    let Some(id) = file_id else {
        return Ok(None);
    };
    let file = session.path(id)?;
    Ok(Some(Refresh {
        file,
        sheet: None,
        mapping: None,
    }))
}

#[tauri::command]
pub async fn add_schedule(
    state: State<'_, AppState>,
    waker: State<'_, SchedulerWaker>,
    session: State<'_, ImportSession>,
    mut spec: ScheduleSpec,
    refresh_file_id: Option<u64>,
    attachment_id: Option<u64>,
) -> Result<Schedule, Error> {
    let store = state.store()?;
    let attachment = attachment_id.map(|id| session.path(id)).transpose()?;
    // The window may say which column holds the numbers (a list whose phone
    // column had to be chosen); the file itself is only ever the one granted.
    let mapping = spec.refresh.take().and_then(|r| r.mapping);
    spec.refresh =
        linked_list(&session, refresh_file_id)?.map(|refresh| Refresh { mapping, ..refresh });
    let data_dir = state.data_dir().to_path_buf();
    let schedule = blocking(move || {
        // The attachment is only ever the file granted, kept in the data folder.
        spec.blast.options.media = attachment
            .map(|path| blast::keep_attachment(&data_dir, &path, now_ms()))
            .transpose()?;
        let id = match store.add_schedule(&spec, now_ms()) {
            Ok(id) => id,
            Err(error) => {
                // The copy belongs to no schedule: do not leave it behind.
                if let Some(kept) = &spec.blast.options.media {
                    kept.discard(&data_dir);
                }
                return Err(error.into());
            }
        };
        Ok(store.schedule(id)?)
    })
    .await?;
    waker.0.notify_waiters();
    Ok(schedule)
}

#[tauri::command]
pub async fn update_schedule(
    state: State<'_, AppState>,
    waker: State<'_, SchedulerWaker>,
    session: State<'_, ImportSession>,
    schedule_id: i64,
    mut spec: ScheduleSpec,
    refresh_file_id: Option<u64>,
    keep_refresh: bool,
) -> Result<Schedule, Error> {
    let store = state.store()?;
    let chosen = linked_list(&session, refresh_file_id)?;
    let schedule = blocking(move || {
        let stored = store.schedule(schedule_id)?.spec;
        spec.refresh = match chosen {
            Some(refresh) => Some(refresh),
            None if keep_refresh => stored.refresh,
            None => None,
        };
        // The window cannot name an attachment: the schedule keeps its own.
        spec.blast.options.media = stored.blast.options.media;
        store.update_schedule(schedule_id, &spec, now_ms())?;
        Ok(store.schedule(schedule_id)?)
    })
    .await?;
    waker.0.notify_waiters();
    Ok(schedule)
}

#[tauri::command]
pub async fn set_schedule_enabled(
    state: State<'_, AppState>,
    waker: State<'_, SchedulerWaker>,
    schedule_id: i64,
    enabled: bool,
) -> Result<Schedule, Error> {
    let store = state.store()?;
    let schedule = blocking(move || {
        store.set_schedule_enabled(schedule_id, enabled, now_ms())?;
        Ok(store.schedule(schedule_id)?)
    })
    .await?;
    waker.0.notify_waiters();
    Ok(schedule)
}

#[tauri::command]
pub async fn remove_schedule(
    state: State<'_, AppState>,
    waker: State<'_, SchedulerWaker>,
    schedule_id: i64,
) -> Result<(), Error> {
    let store = state.store()?;
    blocking(move || Ok(store.remove_schedule(schedule_id)?)).await?;
    waker.0.notify_waiters();
    Ok(())
}

/// This computer's IANA time zone, the default for new schedules.
#[tauri::command]
pub fn computer_time_zone() -> String {
    blastdesk_core::zone::computer().name().to_owned()
}
