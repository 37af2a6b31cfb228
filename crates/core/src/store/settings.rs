//! Settings: typed accessors over the key/value `settings` table.

use std::str::FromStr;

use rusqlite::{OptionalExtension, params};

use super::{Result, Store};
use crate::phone::Country;

const DEFAULT_COUNTRY: &str = "default_country";

impl Store {
    /// The country of numbers written without a country code; Indonesia
    /// until the person chooses another.
    pub fn default_country(&self) -> Result<Country> {
        Ok(self
            .setting_text(DEFAULT_COUNTRY)?
            .and_then(|code| Country::from_str(&code).ok())
            .unwrap_or_default())
    }

    pub fn set_default_country(&self, country: Country, now_ms: i64) -> Result<()> {
        self.set_setting_text(DEFAULT_COUNTRY, Some(&country.code()), now_ms)
    }

    /// A text setting by key, if set.
    pub fn setting_text(&self, key: &str) -> Result<Option<String>> {
        self.read(|conn| {
            Ok(conn
                .query_row(
                    "SELECT value ->> '$' FROM settings WHERE key = ?1",
                    [key],
                    |row| row.get(0),
                )
                .optional()?)
        })
    }

    /// Sets a text setting, or removes it (`None`).
    pub fn set_setting_text(&self, key: &str, value: Option<&str>, now_ms: i64) -> Result<()> {
        self.write(|conn| {
            match value {
                Some(value) => conn.execute(
                    "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    params![key, serde_json::Value::from(value).to_string(), now_ms],
                )?,
                None => conn.execute("DELETE FROM settings WHERE key = ?1", [key])?,
            };
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_country_is_indonesia_until_changed() -> Result<()> {
        let store = Store::open_in_memory()?;
        assert_eq!(store.default_country()?, Country::INDONESIA);
        let malaysia = Country::from_str("MY").unwrap_or_default();
        store.set_default_country(malaysia, 1)?;
        assert_eq!(store.default_country()?, malaysia);
        store.set_default_country(Country::INDONESIA, 2)?;
        assert_eq!(store.default_country()?, Country::INDONESIA);
        Ok(())
    }
}
