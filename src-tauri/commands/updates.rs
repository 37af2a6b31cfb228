//! Commands about updating Blastdesk: where it stands, check, install, and
//! whether to check by itself. The work is `crate::updates`'.

use blastdesk_core::updates::{CheckPolicy, UpdateStatus};
use tauri::State;

use crate::error::Error;
use crate::updates::Updates;

#[tauri::command]
pub fn update_status(updates: State<'_, Updates>) -> UpdateStatus {
    updates.status()
}

/// Looks for an update now (the person asked), whatever the policy.
#[tauri::command]
pub async fn check_for_update(updates: State<'_, Updates>) -> Result<UpdateStatus, Error> {
    Ok(updates.inner().clone().check().await)
}

/// Installs the update the last check found, once each blast has finished
/// the message it is sending; Blastdesk then restarts.
#[tauri::command]
pub async fn install_update(updates: State<'_, Updates>) -> Result<UpdateStatus, Error> {
    Ok(updates.inner().clone().install().await)
}

#[tauri::command]
pub fn update_policy(updates: State<'_, Updates>) -> CheckPolicy {
    updates.policy()
}

#[tauri::command]
pub fn set_update_policy(
    updates: State<'_, Updates>,
    policy: CheckPolicy,
) -> Result<CheckPolicy, Error> {
    updates.set_policy(policy)?;
    Ok(updates.policy())
}
