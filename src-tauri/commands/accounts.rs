//! Commands of the Accounts screen: add, link (QR or pairing code), rename,
//! log out and remove WhatsApp accounts. Statuses and QR codes then arrive
//! as "account" events.

use blastdesk_core::ErrorCode;
use blastdesk_core::account::AccountStatus;
use blastdesk_core::phone;
use blastdesk_core::store::{AccountInfo, AccountKind};
use tauri::State;

use super::{blocking, now_ms};
use crate::error::Error;
use crate::runner::Runner;
use crate::sessions::Sessions;
use crate::state::AppState;

#[tauri::command]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<AccountInfo>, Error> {
    let store = state.store()?;
    blocking(move || Ok(store.list_accounts()?)).await
}

/// Adds a WhatsApp account in the computer's time zone; returns it.
/// Without a name it is "WhatsApp 1", "WhatsApp 2", ... (the window
/// suggests the WhatsApp profile name once it is linked).
#[tauri::command]
pub async fn add_account(
    state: State<'_, AppState>,
    name: Option<String>,
    business_unit: Option<String>,
) -> Result<AccountInfo, Error> {
    let store = state.store()?;
    blocking(move || {
        let name = match name.filter(|n| !n.trim().is_empty()) {
            Some(name) => name,
            None => {
                let taken = store.list_accounts()?;
                blastdesk_core::account::default_name(taken.iter().map(|a| a.name.as_str()))
            }
        };
        let zone = blastdesk_core::zone::computer();
        let id = store.add_account(&name, AccountKind::Whatsapp, zone.name(), now_ms())?;
        store.set_account_details(id, &name, business_unit.as_deref().unwrap_or_default())?;
        Ok(store.account(id)?)
    })
    .await
}

/// Gives up a link attempt the phone has not accepted yet (the person
/// closed the code): the account is unlinked again, ready to link.
#[tauri::command]
pub async fn cancel_link(
    state: State<'_, AppState>,
    sessions: State<'_, Sessions>,
    account_id: i64,
) -> Result<bool, Error> {
    let store = state.store()?;
    let account = blocking(move || Ok(store.account(account_id)?)).await?;
    if account.kind != AccountKind::Whatsapp {
        return Err(Error::new(
            ErrorCode::InvalidInput,
            "only a WhatsApp account is linked",
        ));
    }
    // A code left on record by an app that closed mid-link has no session:
    // one is made to give it up. Any other account without a session has
    // nothing being linked.
    let leftover = matches!(
        account.status,
        AccountStatus::AwaitingQr { .. } | AccountStatus::AwaitingPairCode { .. }
    );
    Ok(sessions.cancel_link(account_id, leftover))
}

/// Starts linking: QR codes, or with `phone`, a pairing code.
#[tauri::command]
pub async fn link_account(
    state: State<'_, AppState>,
    sessions: State<'_, Sessions>,
    account_id: i64,
    phone: Option<String>,
) -> Result<(), Error> {
    let store = state.store()?;
    let phone = match phone.filter(|p| !p.trim().is_empty()) {
        None => None,
        Some(raw) => {
            let country = blocking({
                let store = store.clone();
                move || Ok(store.default_country()?)
            })
            .await?;
            let number = phone::normalize(&raw, country).map_err(|e| Error {
                code: ErrorCode::InvalidInput,
                details: Some(blastdesk_core::error::Details::Phone(
                    blastdesk_core::error::PhoneProblem::NotForPairing {
                        value: raw.clone(),
                        problem: e.code(),
                    },
                )),
                message: format!("{raw:?} cannot be used for a pairing code: {e}."),
            })?;
            Some(number.as_str().to_owned())
        }
    };
    let account = blocking(move || Ok(store.account(account_id)?)).await?;
    if account.kind != AccountKind::Whatsapp {
        return Err(Error {
            code: ErrorCode::InvalidInput,
            details: None,
            message: "A rehearsal account has nothing to link.".into(),
        });
    }
    sessions.link(account_id, phone);
    Ok(())
}

/// Connects a linked account again now, with its keys.
#[tauri::command]
pub async fn reconnect_account(
    state: State<'_, AppState>,
    sessions: State<'_, Sessions>,
    account_id: i64,
) -> Result<(), Error> {
    let store = state.store()?;
    let account = blocking(move || Ok(store.account(account_id)?)).await?;
    use blastdesk_core::account::AccountStatus;
    match account.status {
        AccountStatus::Disconnected { .. } | AccountStatus::Replaced | AccountStatus::Outdated
            if account.kind == AccountKind::Whatsapp =>
        {
            sessions.reconnect(account_id);
            Ok(())
        }
        _ => Err(Error {
            code: ErrorCode::InvalidInput,
            details: None,
            message: format!(
                "\"{}\" cannot be reconnected now ({}): link it instead.",
                account.name,
                account.status.code()
            ),
        }),
    }
}

/// Logs an account out; whether WhatsApp was told (when not, the phone
/// still lists the device until it is removed there).
#[tauri::command]
pub async fn logout_account(sessions: State<'_, Sessions>, account_id: i64) -> Result<bool, Error> {
    Ok(sessions.logout(account_id).await)
}

#[tauri::command]
pub async fn rename_account(
    state: State<'_, AppState>,
    account_id: i64,
    name: String,
    business_unit: String,
) -> Result<AccountInfo, Error> {
    let store = state.store()?;
    blocking(move || {
        store.set_account_details(account_id, &name, &business_unit)?;
        Ok(store.account(account_id)?)
    })
    .await
}

/// Removes an account: a linked one is logged out first (so the phone's
/// list of linked devices loses it), its keys are deleted, its blasts and
/// reports stay. Returns whether WhatsApp was told, when it was linked.
#[tauri::command]
pub async fn remove_account(
    state: State<'_, AppState>,
    sessions: State<'_, Sessions>,
    runner: State<'_, Runner>,
    account_id: i64,
) -> Result<bool, Error> {
    let store = state.store()?;
    let data_dir = state.data_dir().to_path_buf();
    let linked = {
        let store = store.clone();
        blocking(move || Ok(store.account(account_id)?.status.is_linked())).await?
    };
    let told = if linked {
        sessions.logout(account_id).await
    } else {
        sessions.stop_and_release(account_id).await;
        true
    };
    blocking(move || {
        store.remove_account(account_id, now_ms())?;
        blastdesk_core::data_dir::forget_session(&data_dir, account_id).map_err(|e| Error {
            code: ErrorCode::Io,
            details: None,
            message: format!("The account is removed, but its keys could not be deleted: {e}."),
        })?;
        Ok(())
    })
    .await?;
    runner.control().wake();
    Ok(told)
}
