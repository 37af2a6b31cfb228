//! Accounts: the numbers Blastdesk sends from (or simulated ones, for rehearsals).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Error, Result, Store};

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
        self.write(|conn| {
            conn.execute(
                "INSERT INTO accounts (name, kind, time_zone, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![name, kind.as_str(), time_zone, now_ms],
            )?;
            Ok(conn.last_insert_rowid())
        })
    }
}
