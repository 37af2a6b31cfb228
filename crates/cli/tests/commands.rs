//! The README's commands that the scenario tests in `cli.rs` do not reach,
//! each run as a person would type it, against real data folders and real
//! spreadsheets.

use std::path::Path;
use std::process::{Command, Output};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn cli(data_dir: &Path, args: &[&str]) -> std::io::Result<Output> {
    Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BLASTDESK_DATA_DIR")
        // No test reaches WhatsApp: every connection fails as it does offline.
        .env("BLASTDESK_NETWORK", "offline")
        .output()
}

fn ok(output: Output) -> Result<String, Box<dyn std::error::Error>> {
    if !output.status.success() {
        return Err(format!("{output:?}").into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

fn json(output: Output) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_str(&ok(output)?)?)
}

fn path(p: &Path) -> Result<&str, Box<dyn std::error::Error>> {
    Ok(p.to_str().ok_or("a path that is not UTF-8")?)
}

/// A workbook with a cover sheet and the list on "Mei 2026", whose header
/// is on row 2 under a title, with Malaysian numbers written without +60 in
/// column C (headed "Kontak", which is not recognised as a phone column).
fn workbook(file: &Path) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet()
        .set_name("Sampul")?
        .write(0, 0, "Daftar pelanggan toko")?;
    let sheet = book.add_worksheet().set_name("Mei 2026")?;
    sheet.write(0, 0, "Pelanggan Mei")?;
    for (col, header) in ["Nama", "Kota", "Kontak"].iter().enumerate() {
        sheet.write(1, col as u16, *header)?;
    }
    let rows = [
        ("Siti", "Kuala Lumpur", "012-345 6789"),
        ("Ahmad", "Penang", "013 987 6543"),
    ];
    for (n, (name, city, phone)) in rows.iter().enumerate() {
        let row = 2 + n as u32;
        sheet.write(row, 0, *name)?;
        sheet.write(row, 1, *city)?;
        sheet.write(row, 2, *phone)?;
    }
    book.save(file)
}

#[test]
fn import_reads_the_sheet_country_phone_column_and_header_row_given() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("pelanggan.xlsx");
    workbook(&file)?;
    let file = path(&file)?;
    // The list as the person describes it: the phone column by letter or
    // by header, the header row under a title.
    let import = |column: &str, extra: &[&str]| -> std::io::Result<Output> {
        let mut args = vec![
            "import",
            file,
            "--country",
            "MY",
            "--sheet",
            "Mei 2026",
            "--phone-column",
            column,
            "--header-row",
            "2",
        ];
        args.extend_from_slice(extra);
        cli(dir.path(), &args)
    };
    let value = json(import("C", &["--json"])?)?;
    let phones: Vec<&str> = value["recipients"]
        .as_array()
        .ok_or("no recipients")?
        .iter()
        .filter_map(|r| r["phone"].as_str())
        .collect();
    assert_eq!(phones, ["+60123456789", "+60139876543"]);
    assert_eq!(value["recipients"][0]["fields"]["Nama"], "Siti");
    assert_eq!(value["recipients"][0]["source"]["sheet"], "Mei 2026");
    assert_eq!(value["recipients"][0]["source"]["row"], 3);

    // Saved as an audience; a second save is refused unless it replaces.
    let save = ["--save-as", "Pelanggan MY"];
    ok(import("Kontak", &save)?)?;
    let again = import("Kontak", &save)?;
    assert_eq!(again.status.code(), Some(1), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already exists"),
        "{again:?}"
    );
    ok(import(
        "Kontak",
        &["--save-as", "Pelanggan MY", "--replace"],
    )?)?;
    let merged = json(cli(
        dir.path(),
        &["import", "--audience", "Pelanggan MY", "--json"],
    )?)?;
    assert_eq!(merged["recipients"].as_array().map(Vec::len), Some(2));

    // A sheet that is not there is named in the error.
    let missing = cli(dir.path(), &["import", file, "--sheet", "Juni 2026"])?;
    assert_eq!(missing.status.code(), Some(1), "{missing:?}");
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("Juni 2026"),
        "{missing:?}"
    );
    Ok(())
}

/// A rehearsal blast of `n` customers from a CSV, with its id.
fn rehearsal(dir: &Path, n: usize, extra: &[&str]) -> Result<String, Box<dyn std::error::Error>> {
    let mut csv = String::from("nama,hp\n");
    for i in 0..n {
        csv.push_str(&format!("Customer {i},0812 3400 {i:04}\n"));
    }
    rehearsal_of(dir, &csv, "Halo {nama}", extra)
}

/// A rehearsal blast of the customers in `csv` with `template`, with its id.
fn rehearsal_of(
    dir: &Path,
    csv: &str,
    template: &str,
    extra: &[&str],
) -> Result<String, Box<dyn std::error::Error>> {
    let list = dir.join("pelanggan.csv");
    std::fs::write(&list, csv)?;
    let mut args = vec![
        "blast",
        "create",
        "--simulate",
        "--json",
        "--template",
        template,
    ];
    args.extend_from_slice(extra);
    args.push(path(&list)?);
    let created = json(cli(dir, &args)?)?;
    Ok(created["blast"].as_i64().ok_or("no blast id")?.to_string())
}

/// Runs `blast` without pacing into a ledger; what was sent.
fn run_to_ledger(
    dir: &Path,
    blast: &str,
) -> Result<Vec<blastdesk_core::messenger::LedgerEntry>, Box<dyn std::error::Error>> {
    let ledger = dir.join("ledger.jsonl");
    ok(cli(
        dir,
        &[
            "blast",
            "run",
            blast,
            "--ledger",
            path(&ledger)?,
            "--no-pacing",
        ],
    )?)?;
    Ok(blastdesk_core::messenger::read_ledger(&ledger)?)
}

/// Marks every delivery of a blast as of unknown fate, as a crash while
/// sending leaves them (the crash itself is `crash.rs`'s business).
fn unknown_fate(dir: &Path, blast: &str) -> TestResult {
    let db = rusqlite::Connection::open(dir.join(blastdesk_core::store::FILE_NAME))?;
    db.execute(
        "UPDATE deliveries SET state = 'unknown' WHERE blast_id = ?1",
        [blast.parse::<i64>()?],
    )?;
    db.execute(
        "UPDATE blasts SET state = 'paused', pause_code = 'needs_decision' WHERE id = ?1",
        [blast.parse::<i64>()?],
    )?;
    Ok(())
}

#[test]
fn decide_resends_or_leaves_unsent_the_messages_of_unknown_fate() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ledger = dir.path().join("ledger.jsonl");
    let ledger = path(&ledger)?;

    let left = rehearsal(dir.path(), 3, &[])?;
    unknown_fate(dir.path(), &left)?;
    let said = ok(cli(
        dir.path(),
        &["blast", "decide", &left, "--leave-unsent"],
    )?)?;
    assert!(said.contains("3 messages will not be sent again"), "{said}");
    let status = json(cli(dir.path(), &["blast", "status", &left, "--json"])?)?;
    assert_eq!(
        (status["skipped"].as_u64(), status["unknown"].as_u64()),
        (Some(3), Some(0))
    );

    let resent = rehearsal(dir.path(), 2, &[])?;
    unknown_fate(dir.path(), &resent)?;
    let said = ok(cli(dir.path(), &["blast", "decide", &resent, "--resend"])?)?;
    assert!(said.contains("2 messages will be sent again"), "{said}");
    ok(cli(
        dir.path(),
        &["blast", "run", &resent, "--ledger", ledger, "--no-pacing"],
    )?)?;
    let status = json(cli(dir.path(), &["blast", "status", &resent, "--json"])?)?;
    assert_eq!(status["sent"].as_u64(), Some(2));

    // One choice, exactly.
    for wrong in [
        vec!["blast", "decide", &resent],
        vec!["blast", "decide", &resent, "--resend", "--leave-unsent"],
    ] {
        let refused = cli(dir.path(), &wrong)?;
        assert_eq!(refused.status.code(), Some(2), "{wrong:?}: {refused:?}");
    }
    Ok(())
}

#[test]
fn a_missing_value_is_dropped_by_default_or_skipped_or_replaced_as_asked() -> TestResult {
    // One customer has a name, one has none.
    let cases: [(&[&str], &[&str]); 4] = [
        (&[], &["Halo Ani!", "Halo!"]),
        (&["--missing", "drop"], &["Halo Ani!", "Halo!"]),
        (&["--missing", "skip"], &["Halo Ani!"]),
        (&["--missing", "Kak"], &["Halo Ani!", "Halo Kak!"]),
    ];
    for (extra, expected) in cases {
        let dir = tempfile::tempdir()?;
        let csv = "nama,hp\nAni,0812 3400 0001\n,0812 3400 0002\n";
        let blast = rehearsal_of(dir.path(), csv, "Halo {nama}!", extra)?;
        let sent: Vec<String> = run_to_ledger(dir.path(), &blast)?
            .into_iter()
            .map(|entry| entry.text)
            .collect();
        assert_eq!(sent, expected, "{extra:?}");
    }
    Ok(())
}

#[test]
fn a_blast_with_an_attachment_and_a_number_check_sends_the_kept_copy() -> TestResult {
    let dir = tempfile::tempdir()?;
    let elsewhere = tempfile::tempdir()?;
    let prices = elsewhere.path().join("prices.pdf");
    std::fs::write(&prices, b"%PDF-1.4 price list")?;
    let blast = rehearsal(
        dir.path(),
        2,
        &["--attach", path(&prices)?, "--check-numbers"],
    )?;
    // The README's promise: the file is copied into the data folder, so
    // moving or deleting the original changes nothing.
    std::fs::remove_file(&prices)?;
    let kept: Vec<_> =
        std::fs::read_dir(dir.path().join("attachments"))?.collect::<Result<_, _>>()?;
    assert_eq!(kept.len(), 1);
    let entries = run_to_ledger(dir.path(), &blast)?;
    assert_eq!(entries.len(), 2);
    let media = entries[0].media.as_ref().ok_or("no attachment was sent")?;
    assert_eq!(media.path, kept[0].path());
    assert_eq!(media.file_name.as_deref(), Some("prices.pdf"));
    Ok(())
}

#[test]
fn the_made_up_sample_customers_never_reach_a_real_account() -> TestResult {
    let dir = tempfile::tempdir()?;
    let store = blastdesk_core::Store::open_in(dir.path())?;
    blastdesk_core::sample::save(&store, 0)?;
    drop(store);
    ok(cli(dir.path(), &["account", "add", "Toko"])?)?;
    let refused = cli(
        dir.path(),
        &[
            "blast",
            "create",
            "--account",
            "1",
            "--template",
            "Halo {name}",
            "--audience",
            blastdesk_core::sample::AUDIENCE,
        ],
    )?;
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("made up"),
        "{refused:?}"
    );
    let listed = json(cli(dir.path(), &["blast", "list", "--json"])?)?;
    assert_eq!(listed, serde_json::json!([]));
    Ok(())
}

#[test]
fn logout_deletes_the_keys_and_pair_code_linking_says_whatsapp_is_unreachable() -> TestResult {
    let dir = tempfile::tempdir()?;
    ok(cli(dir.path(), &["account", "add", "Toko"])?)?;

    let linking = cli(
        dir.path(),
        &[
            "account",
            "link",
            "1",
            "--pair-code",
            "0812 3456 7890",
            "--give-up-after",
            "2",
        ],
    )?;
    assert_eq!(linking.status.code(), Some(1), "{linking:?}");
    assert!(
        String::from_utf8_lossy(&linking.stderr).contains("was not linked within 2 s"),
        "{linking:?}"
    );

    let keys = dir.path().join("sessions").join("account-1.sqlite3");
    std::fs::create_dir_all(keys.parent().ok_or("no parent")?)?;
    std::fs::write(&keys, b"session keys")?;
    let said = ok(cli(dir.path(), &["account", "logout", "1"])?)?;
    assert!(said.contains("logged out"), "{said}");
    assert!(!keys.exists(), "the keys are still on disk");
    let listed = json(cli(dir.path(), &["account", "list", "--json"])?)?;
    assert_eq!(listed[0]["status"]["status"], "logged_out");
    Ok(())
}

#[test]
fn a_schedule_reads_its_linked_sheet_again_before_each_run() -> TestResult {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("today.xlsx");
    workbook(&file)?;
    ok(cli(dir.path(), &["account", "add", "Toko"])?)?;
    let added = json(cli(
        dir.path(),
        &[
            "schedule",
            "add",
            "--name",
            "Harian",
            "--account",
            "1",
            "--template",
            "Halo {Nama}",
            "--file",
            path(&file)?,
            "--sheet",
            "Mei 2026",
            "--repeat",
            "daily",
            "--time",
            "08:30",
            "--json",
        ],
    )?)?;
    assert_eq!(added["refresh"]["sheet"], "Mei 2026");
    assert_eq!(
        added["refresh"]["file"].as_str().map(Path::new),
        Some(std::path::absolute(&file)?.as_path())
    );
    Ok(())
}

/// The commands that only look open the database for reading: while another
/// program holds the write lock (the app recording a message), they answer
/// at once and change nothing; a command that writes waits for the lock.
#[test]
fn reading_commands_work_while_another_program_writes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "nama,hp\nAni,0812 3400 0001\n")?;
    rehearsal(dir.path(), 2, &[])?;
    let database = dir.path().join(blastdesk_core::store::FILE_NAME);
    let writer = rusqlite::Connection::open(&database)?;
    writer.execute_batch("BEGIN IMMEDIATE; UPDATE settings SET value = value;")?;
    let before = std::fs::read(&database)?;

    let status = json(cli(dir.path(), &["status", "--json"])?)?;
    assert_eq!(status["blasts"]["total"], 1);
    let listed = json(cli(dir.path(), &["blast", "list", "--json"])?)?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let blast = listed[0]["id"].to_string();
    json(cli(dir.path(), &["blast", "status", &blast, "--json"])?)?;
    json(cli(dir.path(), &["account", "list", "--json"])?)?;
    json(cli(dir.path(), &["schedule", "list", "--json"])?)?;
    json(cli(dir.path(), &["contacts", "list", "--json"])?)?;
    json(cli(dir.path(), &["import", path(&list)?, "--json"])?)?;
    let out = dir.path().join("report.csv");
    ok(cli(
        dir.path(),
        &["blast", "export", &blast, "--out", path(&out)?],
    )?)?;
    assert!(out.is_file());
    assert_eq!(std::fs::read(&database)?, before, "a reading command wrote");

    writer.execute_batch("COMMIT")?;
    Ok(())
}
