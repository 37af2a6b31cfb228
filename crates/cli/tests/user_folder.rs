//! An owner's day from a user folder whose name has a space and letters
//! beyond ASCII (`C:\Users\Dewi Ayu Ñoño\AppData\Roaming` on Windows): import,
//! a simulated blast killed mid-send (SIGKILL on Unix, TerminateProcess on
//! Windows) and resumed with no one sent twice, a backup, and a restore that
//! is refused while another Blastdesk program holds the data folder and works
//! while another program merely reads the database. The same day runs again
//! from a data folder deeper than Windows' `MAX_PATH` (260 characters; under
//! Windows beyond SQLite's own 1,040-byte cap too). The suite runs it on Linux
//! and, cross-built, under Wine (scripts/windows-leg.sh), with the same
//! outcomes.

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

const RECIPIENTS: usize = 200;

fn cli(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("BLASTDESK_DATA_DIR");
    command
}

fn run(data_dir: &Path, args: &[&std::ffi::OsStr]) -> std::io::Result<Output> {
    cli(data_dir).args(args).output()
}

fn json(output: &Output) -> TestResult<serde_json::Value> {
    if !output.status.success() {
        return Err(format!("{output:?}").into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// Lines in the simulated messenger's ledger so far.
fn sent_so_far(ledger: &Path) -> usize {
    std::fs::read(ledger)
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

/// Waits (polling the ledger, not timing anything) until it has `lines`
/// lines or the child ended.
fn wait_for_ledger(ledger: &Path, lines: usize, child: &mut std::process::Child) -> TestResult {
    let deadline = Instant::now() + Duration::from_secs(120);
    while sent_so_far(ledger) < lines && child.try_wait()?.is_none() {
        if Instant::now() > deadline {
            return Err(format!("the ledger never reached {lines} lines").into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

fn audiences(data: &Path) -> TestResult<serde_json::Value> {
    Ok(json(&run(data, &["status".as_ref(), "--json".as_ref()])?)?["audiences"].clone())
}

#[test]
fn a_user_folder_with_a_space_and_accents_holds_a_whole_day_and_a_crash() -> TestResult {
    let root = tempfile::tempdir()?;
    a_whole_day(&root.path().join("Dewi Ayu Ñoño"))
}

#[test]
fn a_data_folder_deeper_than_max_path_holds_a_whole_day_and_a_crash() -> TestResult {
    let root = tempfile::tempdir()?;
    let home = deep_folder(root.path());
    assert!(home.to_string_lossy().chars().count() > 260);
    a_whole_day(&home)
}

/// A folder under `root` with a path longer than `MAX_PATH`, of names with a
/// space and letters beyond ASCII. On Windows 1,100 characters (more than
/// 1,040 bytes of UTF-8, SQLite's own cap for its default Windows VFS);
/// elsewhere 300, inside the 512 bytes SQLite's Unix VFS takes
/// (blastdesk_core::store::file).
fn deep_folder(root: &Path) -> std::path::PathBuf {
    let chars = if cfg!(windows) { 1100 } else { 300 };
    let mut folder = root.to_path_buf();
    let mut n = 0;
    while folder.to_string_lossy().chars().count() < chars {
        folder.push(format!("Toko Ñoño {n:02} {}", "x".repeat(40)));
        n += 1;
    }
    folder
}

/// Import, a blast killed and resumed, a backup, a refused restore and a
/// restore beside a reader, for a user whose home folder is `home`.
fn a_whole_day(home: &Path) -> TestResult {
    let data = home.join("AppData").join("Roaming").join("Blastdesk");
    let documents = home.join("Dokumen Toko");
    std::fs::create_dir_all(&documents)?;

    // A customer list whose name has a space and an accent too.
    let list = documents.join("pelanggan ü.csv");
    let mut csv = String::from("Nama,HP\n");
    for i in 0..RECIPIENTS {
        csv.push_str(&format!("Pelanggan {i},0812 3400 {i:04}\n"));
    }
    std::fs::write(&list, csv)?;

    // Import.
    let imported = run(
        &data,
        &[
            "import".as_ref(),
            list.as_os_str(),
            "--save-as".as_ref(),
            "Pelanggan".as_ref(),
        ],
    )?;
    assert!(imported.status.success(), "{imported:?}");
    assert_eq!(audiences(&data)?, 1);

    // A simulated blast, killed once a quarter has gone, then resumed.
    let created = json(&run(
        &data,
        &[
            "blast".as_ref(),
            "create".as_ref(),
            "--simulate".as_ref(),
            "--json".as_ref(),
            "--template".as_ref(),
            "Halo {Nama}".as_ref(),
            "--audience".as_ref(),
            "Pelanggan".as_ref(),
        ],
    )?)?;
    let blast = created["blast"].as_i64().ok_or("no blast id")?.to_string();
    let ledger = home.join("kirim ü.jsonl");
    let sender = || {
        let mut command = cli(&data);
        command
            .args(["blast", "run", &blast, "--no-pacing", "--ledger"])
            .arg(&ledger);
        command
    };
    let mut child = sender()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    wait_for_ledger(&ledger, RECIPIENTS / 4, &mut child)?;
    child.kill().ok(); // SIGKILL on Unix, TerminateProcess on Windows
    child.wait()?;
    let resumed = sender().output()?;
    let code = resumed.status.code();
    assert!(code == Some(0) || code == Some(4), "{resumed:?}");
    let mut seen = HashSet::new();
    for entry in blastdesk_core::messenger::read_ledger(&ledger)? {
        assert!(
            seen.insert(entry.phone.to_string()),
            "{} got two messages",
            entry.phone
        );
    }
    assert!(
        seen.len() >= RECIPIENTS - 1,
        "all but the one in flight at the kill went: {}",
        seen.len()
    );

    // A backup in a folder with a space and an accent.
    let backups = home.join("Cadangan Ü");
    std::fs::create_dir_all(&backups)?;
    let backup = backups.join("cadangan 1.sqlite3");
    let backed_up = run(&data, &["backup".as_ref(), backup.as_os_str()])?;
    assert!(backed_up.status.success(), "{backed_up:?}");
    let again = run(
        &data,
        &[
            "import".as_ref(),
            list.as_os_str(),
            "--save-as".as_ref(),
            "Kedua".as_ref(),
        ],
    )?;
    assert!(again.status.success(), "{again:?}");
    assert_eq!(audiences(&data)?, 2);

    // While another Blastdesk program holds this data (here this test, as
    // the app does while it runs), a restore is refused and changes nothing.
    let app = blastdesk_core::owner::Owner::claim(&data, blastdesk_core::owner::Holder::App)?;
    let refused = run(&data, &["restore".as_ref(), backup.as_os_str()])?;
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("Nothing was changed"),
        "{refused:?}"
    );
    drop(app);
    assert_eq!(audiences(&data)?, 2, "unchanged by the refused restore");

    // Another program reading the database does not stop a restore.
    let reader = blastdesk_core::store::file::open(
        &data.join(blastdesk_core::store::FILE_NAME),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let before: i64 = reader.query_row("SELECT count(*) FROM audiences", [], |r| r.get(0))?;
    assert_eq!(before, 2);
    let restored = run(&data, &["restore".as_ref(), backup.as_os_str()])?;
    assert!(restored.status.success(), "{restored:?}");
    assert_eq!(audiences(&data)?, 1, "as backed up");
    let after: i64 = reader.query_row("SELECT count(*) FROM audiences", [], |r| r.get(0))?;
    assert_eq!(after, 1, "the reader sees the restored data");
    Ok(())
}
