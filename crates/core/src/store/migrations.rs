//! Forward-only schema migrations.
//!
//! Each migration is an SQL file in `migrations/`, one per table group, numbered
//! in the order they apply. `PRAGMA user_version` records how far a database
//! is; at open, every migration above it runs, all in one transaction together
//! with the version bump, so a database is always at a version, never between.
//!
//! A migration, once released, is never edited: change the schema by adding
//! the next file.

use rusqlite::{Connection, TransactionBehavior};

use super::{APPLICATION_ID, Error, Result};

/// One step of the schema.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($version:literal, $name:literal) => {
        Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("migrations/", $name, ".sql")),
        }
    };
}

/// Every migration, in order.
pub const ALL: &[Migration] = &[
    migration!(1, "0001_settings"),
    migration!(2, "0002_accounts"),
    migration!(3, "0003_audiences"),
    migration!(4, "0004_blasts"),
    migration!(5, "0005_schedules"),
    migration!(6, "0006_do_not_contact"),
    migration!(7, "0007_pacing"),
    migration!(8, "0008_account_removal"),
    migration!(9, "0009_number_check"),
    migration!(10, "0010_sent_again"),
];

/// The schema version this build of Blastdesk writes.
pub const SCHEMA_VERSION: u32 = ALL.len() as u32;

/// The database's `user_version`.
pub(crate) fn user_version(conn: &Connection) -> Result<u32> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    // A negative or huge version is no version of ours: report it as too new.
    Ok(u32::try_from(version).unwrap_or(u32::MAX))
}

/// Applies the migrations above the database's version in one transaction.
/// Returns how many were applied.
pub(crate) fn migrate(conn: &mut Connection, migrations: &[Migration]) -> Result<usize> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = user_version(&tx)?;
    let mut applied = 0;
    for migration in migrations.iter().filter(|m| m.version > current) {
        tx.execute_batch(migration.sql)
            .map_err(|source| Error::Migration {
                version: migration.version,
                name: migration.name,
                source,
            })?;
        tx.pragma_update(None, "user_version", migration.version)?;
        applied += 1;
    }
    if applied > 0 {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    }
    tx.commit()?;
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (index, migration) in ALL.iter().enumerate() {
            assert_eq!(migration.version as usize, index + 1, "{}", migration.name);
            let prefix = format!("{:04}_", migration.version);
            assert!(migration.name.starts_with(&prefix), "{}", migration.name);
        }
    }

    #[test]
    fn a_failing_migration_leaves_the_database_as_it_was() -> Result<()> {
        let mut conn = Connection::open_in_memory()?;
        let broken = [
            Migration {
                version: 1,
                name: "0001_good",
                sql: "CREATE TABLE good (id INTEGER PRIMARY KEY);",
            },
            Migration {
                version: 2,
                name: "0002_broken",
                sql: "CREATE TABLE broken (id INTEGER PRIMARY KEY); THIS IS NOT SQL;",
            },
        ];
        let error = migrate(&mut conn, &broken).err();
        assert!(
            matches!(error, Some(Error::Migration { version: 2, .. })),
            "{error:?}"
        );
        assert_eq!(user_version(&conn)?, 0);
        let tables: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |row| row.get(0),
        )?;
        assert_eq!(tables, 0, "the good migration was rolled back too");
        Ok(())
    }
}
