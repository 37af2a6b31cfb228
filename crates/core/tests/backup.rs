//! Backup and restore of the whole store: a round trip, and every kind of
//! file that is not a Blastdesk backup refused, changing nothing.

use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::phone::Phone;
use blastdesk_core::store::SCHEMA_VERSION;
use blastdesk_core::store::backup::restore_file_into;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn save(store: &Store, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let recipients = [Recipient {
        phone: Phone::from_e164_unchecked("+6281200000001".into()),
        fields: Fields::new(vec![(Arc::from("Nama"), "Dewi".into())]),
        source: Source::Audience {
            audience: Arc::from(name),
        },
    }];
    store.save_audience(name, &recipients, false, 0)?;
    Ok(())
}

fn names(store: &Store) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    Ok(store.audiences()?.into_iter().map(|a| a.name).collect())
}

#[test]
fn a_backup_restores_exactly_what_was_saved() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    save(&store, "Pelanggan")?;
    let backup = dir.path().join("Blastdesk backup.sqlite3");
    store.backup_to(&backup)?;

    // Later changes ...
    save(&store, "Baru")?;
    store.delete_audience("Pelanggan")?;
    assert_eq!(names(&store)?, ["Baru"]);
    // ... are undone by restoring, in the running store.
    store.restore_from(&backup, 1)?;
    assert_eq!(names(&store)?, ["Pelanggan"]);
    // And the restored file is the store from then on, after a reopen too.
    drop(store);
    assert_eq!(names(&Store::open_in(dir.path())?)?, ["Pelanggan"]);
    Ok(())
}

#[test]
fn a_file_that_is_not_a_blastdesk_backup_is_refused_and_changes_nothing() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = Store::open_in(dir.path())?;
    save(&store, "Pelanggan")?;

    let random = dir.path().join("random.bin");
    std::fs::write(&random, [0x42u8; 4096])?;
    let empty = dir.path().join("empty.sqlite3");
    std::fs::write(&empty, b"")?;
    let foreign = dir.path().join("other-app.sqlite3");
    {
        let conn = rusqlite::Connection::open(&foreign)?;
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');")?;
    }
    let newer = dir.path().join("newer.sqlite3");
    {
        let other = Store::open_in(&dir.path().join("newer-dir"))?;
        other.backup_to(&newer)?;
        let conn = rusqlite::Connection::open(&newer)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)?;
    }
    let truncated = dir.path().join("truncated.sqlite3");
    {
        store.backup_to(&truncated)?;
        let bytes = std::fs::read(&truncated)?;
        std::fs::write(&truncated, &bytes[..bytes.len() / 3])?;
    }
    let cases = [
        (dir.path().join("missing.sqlite3"), "there is no such file"),
        (random, "it is not a database file"),
        (empty, "the file is empty"),
        (foreign, "it is another program's database"),
        (newer, "made by a newer Blastdesk"),
        (truncated, ""),
    ];
    for (file, says) in cases {
        let error = store.restore_from(&file, 1).err().ok_or("accepted")?;
        assert_eq!(
            error.code().as_str(),
            "not_a_backup",
            "{}: {error}",
            file.display()
        );
        let text = error.to_string();
        assert!(text.contains(says), "{}: {text}", file.display());
        assert!(text.ends_with("Nothing was changed"), "{text}");
        assert_eq!(
            names(&store)?,
            ["Pelanggan"],
            "{} changed the store",
            file.display()
        );
    }
    Ok(())
}

#[test]
fn a_database_that_cannot_be_opened_is_replaced_by_a_backup_and_kept_aside() -> TestResult {
    let dir = tempfile::tempdir()?;
    let backups = tempfile::tempdir()?;
    let backup = backups.path().join("backup.blastdesk");
    {
        let store = Store::open_in(dir.path())?;
        save(&store, "Pelanggan")?;
        store.backup_to(&backup)?;
    }
    // The database is damaged: it no longer opens.
    let live = dir.path().join(blastdesk_core::store::FILE_NAME);
    let damaged = b"name,phone\nthis is not a database any more\n";
    std::fs::write(&live, damaged)?;
    assert!(Store::open_in(dir.path()).is_err());

    // A file that is not a backup is refused, and the damaged one is left be.
    let notes = backups.path().join("notes.txt");
    std::fs::write(&notes, b"hello")?;
    let refused = restore_file_into(dir.path(), &notes, 7);
    assert!(
        matches!(refused, Err(ref e) if e.code().as_str() == "not_a_backup"),
        "{refused:?}"
    );
    assert_eq!(std::fs::read(&live)?, damaged);

    // The backup takes its place; the damaged file is kept beside it.
    let kept = restore_file_into(dir.path(), &backup, 7)?.ok_or("the old file was not kept")?;
    assert_eq!(kept, dir.path().join("blastdesk.sqlite3.replaced-7"));
    assert_eq!(std::fs::read(&kept)?, damaged);
    assert_eq!(names(&Store::open_in(dir.path())?)?, ["Pelanggan"]);
    Ok(())
}
