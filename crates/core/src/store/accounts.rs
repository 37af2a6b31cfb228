//! Accounts: the numbers Blastdesk sends from (or simulated ones, for rehearsals).

use rusqlite::params;
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
