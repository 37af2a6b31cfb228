//! The CLI as a person runs it: the real binary against real data folders.

use std::path::Path;
use std::process::{Command, Output};

use blastdesk_core::store::{self, SCHEMA_VERSION};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn cli(data_dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BLASTDESK_DATA_DIR")
        .output()
}

#[test]
fn status_json_describes_a_new_store() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = cli(dir.path(), &["status", "--json"])?;
    assert!(output.status.success(), "{output:?}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(value["schemaVersion"], SCHEMA_VERSION);
    assert_eq!(value["accounts"], 0);
    assert_eq!(value["blasts"]["total"], 0);
    assert_eq!(
        value["database"].as_str(),
        Some(dir.path().join(store::FILE_NAME).to_string_lossy().as_ref())
    );
    assert!(dir.path().join("logs").is_dir(), "no log folder");
    Ok(())
}

#[test]
fn status_text_names_the_database() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = cli(dir.path(), &["status"])?;
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout)?;
    assert!(
        text.contains(&format!("(version {SCHEMA_VERSION})")),
        "{text}"
    );
    assert!(text.contains("Accounts:         0"), "{text}");
    Ok(())
}

#[test]
fn the_data_dir_can_come_from_the_environment() -> TestResult {
    let dir = tempfile::tempdir()?;
    let output = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"))
        .args(["status", "--json"])
        .env("BLASTDESK_DATA_DIR", dir.path())
        .output()?;
    assert!(output.status.success(), "{output:?}");
    assert!(dir.path().join(store::FILE_NAME).is_file());
    Ok(())
}

#[test]
fn a_database_that_is_not_ours_fails_with_one_clear_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let database = dir.path().join(store::FILE_NAME);
    std::fs::write(&database, b"PK\x03\x04 this is a zip file, not a database")?;
    let before = std::fs::read(&database)?;

    let output = cli(dir.path(), &["status"])?;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("is not a Blastdesk database"), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read(&database)?, before);
    Ok(())
}
