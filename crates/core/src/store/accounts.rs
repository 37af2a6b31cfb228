//! Accounts: the numbers Blastdesk sends from (or simulated ones, for rehearsals).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Error, Result, Store};
use crate::account::AccountStatus;
use crate::pacing::Pacing;
use crate::reason::PauseCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Whatsapp,
    Simulated,
}

impl AccountKind {
    fn as_str(self) -> &'static str {
        match self {
            AccountKind::Whatsapp => "whatsapp",
            AccountKind::Simulated => "simulated",
        }
    }
}

impl Store {
    /// The id of the account with this name and kind, added if there is none.
    pub fn ensure_account(
        &self,
        name: &str,
        kind: AccountKind,
        time_zone: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let existing: Option<i64> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT id FROM accounts WHERE name = ?1 AND kind = ?2 ORDER BY id LIMIT 1",
                    params![name.trim(), kind.as_str()],
                    |row| row.get(0),
                )
                .optional()?)
        })?;
        match existing {
            Some(id) => Ok(id),
            None => self.add_account(name, kind, time_zone, now_ms),
        }
    }

    /// Adds an account and returns its id.
    pub fn add_account(
        &self,
        name: &str,
        kind: AccountKind,
        time_zone: &str,
        now_ms: i64,
    ) -> Result<i64> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidName {
                reason: "an account needs a name",
            });
        }
        // A rehearsal sends nothing, so it need not be paced; its settings
        // can still be changed to watch pacing at work.
        let pacing = match kind {
            AccountKind::Whatsapp => Pacing::default(),
            AccountKind::Simulated => Pacing::off(),
        };
        let pacing = super::to_json(&pacing)?;
        self.write(|conn| {
            conn.execute(
                "INSERT INTO accounts (name, kind, time_zone, created_at, pacing)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, kind.as_str(), time_zone, now_ms, pacing],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }
}

/// What pacing needs to know of an account.
#[derive(Debug, Clone)]
pub struct AccountPacing {
    pub time_zone: chrono_tz::Tz,
    pub pacing: Pacing,
    /// When the account started sending (linked, or created for a simulated
    /// one): warm-up counts from here.
    pub since_ms: i64,
}

impl Store {
    pub fn account_pacing(&self, account_id: i64) -> Result<AccountPacing> {
        let row: Option<(String, String, i64)> = self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT time_zone, pacing, coalesce(linked_at, created_at) FROM accounts WHERE id = ?1",
                    [account_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .optional()?)
        })?;
        let (zone, pacing, since_ms) = row.ok_or(Error::AccountNotFound { account_id })?;
        Ok(AccountPacing {
            // A zone this build does not know (the database came from a newer
            // one) falls back to UTC rather than stopping the account.
            time_zone: crate::zone::parse(&zone).unwrap_or(chrono_tz::Tz::UTC),
            // Settings missing from the JSON take their defaults.
            pacing: serde_json::from_str(&pacing).unwrap_or_default(),
            since_ms,
        })
    }

    /// Replaces an account's pacing settings, if they can work.
    pub fn set_account_pacing(&self, account_id: i64, pacing: &Pacing) -> Result<()> {
        pacing.validate()?;
        let json = super::to_json(pacing)?;
        self.update_account(
            account_id,
            "UPDATE accounts SET pacing = ?2 WHERE id = ?1",
            &[&json],
        )
    }

    /// Sets the time zone an account's sending window is in.
    pub fn set_account_time_zone(&self, account_id: i64, zone: &str) -> Result<()> {
        if crate::zone::parse(zone).is_none() {
            return Err(Error::UnknownTimeZone { name: zone.into() });
        }
        self.update_account(
            account_id,
            "UPDATE accounts SET time_zone = ?2 WHERE id = ?1",
            &[&zone],
        )
    }

    /// When the account handed over messages, from `since_ms` on, oldest first.
    pub fn recent_sends(&self, account_id: i64, since_ms: i64) -> Result<Vec<i64>> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT at FROM sends WHERE account_id = ?1 AND at >= ?2 ORDER BY at",
            )?;
            let times = statement.query_map(params![account_id, since_ms], |row| row.get(0))?;
            Ok(times.collect::<rusqlite::Result<_>>()?)
        })
    }
}

/// An account as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    pub id: i64,
    pub name: String,
    pub business_unit: Option<String>,
    pub kind: AccountKind,
    pub phone: Option<String>,
    pub status: AccountStatus,
    pub needs_attention: bool,
    pub time_zone: String,
    pub linked_at: Option<i64>,
}

/// A status from its columns: the JSON detail when it reads, else the code alone.
fn status_from(code: &str, detail: Option<&str>) -> AccountStatus {
    detail
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or(match code {
            "connected" => AccountStatus::Connecting,
            "replaced" => AccountStatus::Replaced,
            "outdated" => AccountStatus::Outdated,
            _ => AccountStatus::Unlinked,
        })
}

impl Store {
    /// Every account, oldest first.
    pub fn list_accounts(&self) -> Result<Vec<AccountInfo>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT id, name, business_unit, kind, phone, status, status_detail, time_zone, linked_at
                 FROM accounts WHERE removed_at IS NULL ORDER BY id",
            )?;
            let rows = statement.query_map([], |row| {
                let kind: String = row.get(3)?;
                let code: String = row.get(5)?;
                let detail: Option<String> = row.get(6)?;
                let status = status_from(&code, detail.as_deref());
                Ok(AccountInfo {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    business_unit: row.get(2)?,
                    kind: if kind == "simulated" {
                        AccountKind::Simulated
                    } else {
                        AccountKind::Whatsapp
                    },
                    phone: row.get(4)?,
                    needs_attention: status.needs_attention(),
                    status,
                    time_zone: row.get(7)?,
                    linked_at: row.get(8)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Accounts that have a blast waiting or running.
    pub fn accounts_with_waiting_blasts(&self) -> Result<Vec<i64>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT DISTINCT account_id FROM blasts WHERE state IN ('queued', 'running')
                 ORDER BY account_id",
            )?;
            let rows = statement.query_map([], |row| row.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

impl Store {
    /// One account, if it exists and was not removed.
    pub fn account(&self, account_id: i64) -> Result<AccountInfo> {
        self.list_accounts()?
            .into_iter()
            .find(|a| a.id == account_id)
            .ok_or(Error::AccountNotFound { account_id })
    }

    /// Records an account's status.
    pub fn set_account_status(&self, account_id: i64, status: &AccountStatus) -> Result<()> {
        let detail = super::to_json(status)?;
        self.update_account(
            account_id,
            "UPDATE accounts SET status = ?2, status_detail = ?3 WHERE id = ?1",
            &[&status.code(), &detail],
        )
    }

    /// Records that an account was linked, with its number when known.
    pub fn set_account_linked(
        &self,
        account_id: i64,
        phone: Option<&str>,
        now_ms: i64,
    ) -> Result<()> {
        self.update_account(
            account_id,
            "UPDATE accounts SET phone = coalesce(?2, phone), linked_at = ?3 WHERE id = ?1",
            &[&phone, &now_ms],
        )
    }

    /// Renames an account and sets its business unit (empty: none).
    pub fn set_account_details(
        &self,
        account_id: i64,
        name: &str,
        business_unit: &str,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::InvalidName {
                reason: "an account needs a name",
            });
        }
        let unit = Some(business_unit.trim()).filter(|u| !u.is_empty());
        self.update_account(
            account_id,
            "UPDATE accounts SET name = ?2, business_unit = ?3 WHERE id = ?1",
            &[&name, &unit],
        )
    }

    /// Removes an account from lists; its waiting blasts are paused, its
    /// blasts and reports stay. (Its session keys are the caller's to delete.)
    pub fn remove_account(&self, account_id: i64, now_ms: i64) -> Result<()> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                "UPDATE accounts SET removed_at = ?2, status = 'unlinked', status_detail = NULL
                 WHERE id = ?1 AND removed_at IS NULL",
                params![account_id, now_ms],
            )?;
            if changed == 0 {
                return Err(Error::AccountNotFound { account_id });
            }
            tx.execute(
                "UPDATE blasts SET state = 'paused', pause_code = ?2,
                     pause_reason = 'The account this blast sends from was removed.'
                 WHERE account_id = ?1 AND state IN ('queued', 'running')",
                params![account_id, PauseCode::AccountRemoved],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Lets go on the account's blasts paused with `code`. Returns their ids.
    pub fn resume_account_blasts(&self, account_id: i64, code: PauseCode) -> Result<Vec<i64>> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let ids: Vec<i64> = tx
                .prepare(
                    "SELECT id FROM blasts WHERE account_id = ?1 AND state = 'paused' AND pause_code = ?2
                     ORDER BY id",
                )?
                .query_map(params![account_id, code], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            tx.execute(
                "UPDATE blasts SET state = 'queued', pause_code = NULL, pause_reason = NULL
                 WHERE account_id = ?1 AND state = 'paused' AND pause_code = ?2",
                params![account_id, code],
            )?;
            tx.commit()?;
            Ok(ids)
        })
    }

    fn update_account(
        &self,
        account_id: i64,
        sql: &str,
        values: &[&dyn rusqlite::ToSql],
    ) -> Result<()> {
        self.write(|conn| {
            let mut all: Vec<&dyn rusqlite::ToSql> = vec![&account_id];
            all.extend_from_slice(values);
            let changed = conn.execute(sql, rusqlite::params_from_iter(all))?;
            if changed == 0 {
                return Err(Error::AccountNotFound { account_id });
            }
            Ok(())
        })
    }
}
