//! Saved audiences and the do-not-contact list.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::blasts::{OPTED_OUT, Scope, Step, step_all_in};
use super::{Error, Result, Store};
use crate::audience::{Fields, Recipient, SavedAudience};
use crate::phone::Phone;

/// A number on the do-not-contact list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoNotContact {
    /// E.164.
    pub phone: String,
    /// manual, import or opt_out_reply.
    pub reason: String,
    pub note: Option<String>,
    pub added_at: i64,
}

/// A saved audience as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudienceInfo {
    pub id: i64,
    pub name: String,
    pub contacts: u64,
    pub updated_at: i64,
}

/// The longest audience name accepted.
const MAX_NAME: usize = 100;

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::InvalidName {
            reason: "an audience needs a name",
        });
    }
    if name.chars().count() > MAX_NAME {
        return Err(Error::InvalidName {
            reason: "an audience name can be at most 100 characters",
        });
    }
    Ok(name)
}

impl Store {
    /// Saves recipients as a named audience, in their order. An audience of
    /// that name is replaced only when `replace` is set.
    pub fn save_audience(
        &self,
        name: &str,
        recipients: &[Recipient],
        replace: bool,
        now_ms: i64,
    ) -> Result<AudienceInfo> {
        let name = check_name(name)?;
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let existing: Option<i64> = tx
                .query_row("SELECT id FROM audiences WHERE name = ?1", [name], |row| {
                    row.get(0)
                })
                .optional()?;
            let id = match existing {
                Some(_) if !replace => {
                    return Err(Error::AudienceExists {
                        name: name.to_owned(),
                    });
                }
                Some(id) => {
                    tx.execute("DELETE FROM audience_contacts WHERE audience_id = ?1", [id])?;
                    tx.execute(
                        "UPDATE audiences SET updated_at = ?2 WHERE id = ?1",
                        params![id, now_ms],
                    )?;
                    id
                }
                None => {
                    tx.execute(
                        "INSERT INTO audiences (name, created_at, updated_at) VALUES (?1, ?2, ?2)",
                        params![name, now_ms],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            {
                let mut insert = tx.prepare(
                    "INSERT INTO audience_contacts (audience_id, phone, fields, position)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (position, recipient) in recipients.iter().enumerate() {
                    let fields = serde_json::to_string(&recipient.fields).map_err(|e| {
                        Error::Sqlite(rusqlite::Error::ToSqlConversionFailure(e.into()))
                    })?;
                    insert.execute(params![
                        id,
                        recipient.phone.as_str(),
                        fields,
                        position as i64
                    ])?;
                }
            }
            tx.commit()?;
            Ok(AudienceInfo {
                id,
                name: name.to_owned(),
                contacts: recipients.len() as u64,
                updated_at: now_ms,
            })
        })
    }

    /// Every saved audience, by name.
    pub fn audiences(&self) -> Result<Vec<AudienceInfo>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT a.id, a.name, a.updated_at,
                        (SELECT count(*) FROM audience_contacts c WHERE c.audience_id = a.id)
                 FROM audiences a ORDER BY a.name COLLATE NOCASE",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(AudienceInfo {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    updated_at: row.get(2)?,
                    contacts: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// A saved audience's contacts, in their saved order.
    pub fn load_audience(&self, name: &str) -> Result<SavedAudience> {
        self.read(|conn| {
            let found: Option<(i64, String)> = conn
                .query_row(
                    "SELECT id, name FROM audiences WHERE name = ?1",
                    [name.trim()],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((id, name)) = found else {
                return Err(Error::AudienceNotFound {
                    name: name.trim().to_owned(),
                });
            };
            let mut statement = conn.prepare(
                "SELECT phone, fields FROM audience_contacts WHERE audience_id = ?1 ORDER BY position",
            )?;
            let mut rows = statement.query([id])?;
            let mut names: HashMap<String, Arc<str>> = HashMap::new();
            let mut contacts = Vec::new();
            while let Some(row) = rows.next()? {
                let phone: String = row.get(0)?;
                let json: String = row.get(1)?;
                let map: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&json).unwrap_or_default();
                let pairs = map
                    .into_iter()
                    .map(|(key, value)| {
                        let key = names.entry(key).or_insert_with_key(|k| Arc::from(k.as_str())).clone();
                        let value = match value {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        (key, value)
                    })
                    .collect();
                contacts.push((Phone::from_e164_unchecked(phone), Fields::new(pairs)));
            }
            Ok(SavedAudience { name, contacts })
        })
    }

    /// Whether the saved audience (if there is one by that name) holds any
    /// of these numbers.
    pub(crate) fn audience_holds_any(&self, name: &str, phones: &HashSet<Phone>) -> Result<bool> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT c.phone FROM audience_contacts AS c JOIN audiences AS a ON a.id = c.audience_id
                 WHERE a.name = ?1",
            )?;
            let mut rows = statement.query([name.trim()])?;
            while let Some(row) = rows.next()? {
                let phone = Phone::from_e164_unchecked(row.get::<_, String>(0)?);
                if phones.contains(&phone) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    /// Deletes a saved audience.
    pub fn delete_audience(&self, name: &str) -> Result<()> {
        self.write(|conn| {
            let deleted = conn.execute("DELETE FROM audiences WHERE name = ?1", [name.trim()])?;
            if deleted == 0 {
                return Err(Error::AudienceNotFound {
                    name: name.trim().to_owned(),
                });
            }
            Ok(())
        })
    }

    /// Puts a number on the do-not-contact list; false if it was there already.
    pub fn add_do_not_contact(&self, phone: &Phone, reason: &str, now_ms: i64) -> Result<bool> {
        self.add_do_not_contact_noted(phone, reason, None, now_ms)
    }

    /// Puts a number on the do-not-contact list with a note, and skips the
    /// messages still waiting for it in unfinished blasts (someone who opts
    /// out mid-blast gets nothing more). False if it was on the list already.
    pub fn add_do_not_contact_noted(
        &self,
        phone: &Phone,
        reason: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<bool> {
        Ok(self.add_do_not_contact_all(std::slice::from_ref(phone), reason, note, now_ms)? > 0)
    }

    /// Puts numbers on the do-not-contact list in one transaction (a whole
    /// file of them), as [`Store::add_do_not_contact_noted`] does one.
    /// Returns how many were not on it yet.
    pub fn add_do_not_contact_all(
        &self,
        phones: &[Phone],
        reason: &str,
        note: Option<&str>,
        now_ms: i64,
    ) -> Result<u64> {
        self.write(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut added = 0;
            {
                let mut insert = tx.prepare(
                    "INSERT OR IGNORE INTO do_not_contact (phone, reason, note, added_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for phone in phones {
                    added += insert.execute(params![phone.as_str(), reason, note, now_ms])? as u64;
                    // Its waiting messages in unfinished blasts are skipped.
                    step_all_in(
                        &tx,
                        Scope::Number(phone.as_str()),
                        Step::Skip,
                        Some(OPTED_OUT),
                        now_ms,
                    )?;
                }
            }
            tx.commit()?;
            Ok(added)
        })
    }

    /// Takes a number off the do-not-contact list; false if it was not on it.
    pub fn remove_do_not_contact(&self, phone: &Phone) -> Result<bool> {
        self.write(|conn| {
            Ok(conn.execute(
                "DELETE FROM do_not_contact WHERE phone = ?1",
                [phone.as_str()],
            )? > 0)
        })
    }

    /// The do-not-contact list with why and when each number was added,
    /// newest first.
    pub fn do_not_contact_entries(&self) -> Result<Vec<DoNotContact>> {
        self.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT phone, reason, note, added_at FROM do_not_contact
                 ORDER BY added_at DESC, phone",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(DoNotContact {
                    phone: row.get(0)?,
                    reason: row.get(1)?,
                    note: row.get(2)?,
                    added_at: row.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every number on the do-not-contact list.
    pub fn do_not_contact(&self) -> Result<HashSet<Phone>> {
        self.read(|conn| {
            let mut statement = conn.prepare("SELECT phone FROM do_not_contact")?;
            let phones = statement.query_map([], |row| row.get::<_, String>(0))?;
            phones.map(|p| Ok(Phone::from_e164_unchecked(p?))).collect()
        })
    }
}
