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

const LIST: &str = "Daftar Pelanggan\n\nNama;No. WA;Kota\nAni;0812-3456-7890;Jakarta\nBudi;6281298765432;Bandung\nEka;call me;Bali\nAni Baru;+62 812 3456 7890;Bogor\n";

#[test]
fn import_json_has_recipients_invalid_overridden_and_excluded() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, LIST)?;
    let output = cli(
        dir.path(),
        &["import", list.to_str().ok_or("path")?, "--json"],
    )?;
    assert!(output.status.success(), "{output:?}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;

    let recipients = value["recipients"].as_array().ok_or("recipients")?;
    assert_eq!(recipients.len(), 2);
    assert_eq!(recipients[0]["phone"], "+6281234567890");
    assert_eq!(recipients[0]["fields"]["Nama"], "Ani Baru");
    assert_eq!(recipients[0]["fields"]["Kota"], "Bogor");
    assert_eq!(
        recipients[0]["source"],
        serde_json::json!({"file": "pelanggan.csv", "sheet": "", "row": 7})
    );

    assert_eq!(
        value["invalid"],
        serde_json::json!([{
            "source": {"file": "pelanggan.csv", "sheet": "", "row": 6},
            "value": "call me",
            "reason": "not a phone number: it contains letters or symbols",
            "code": "phone_not_a_number"
        }])
    );
    let overridden = &value["overridden"][0];
    assert_eq!(overridden["phone"], "+6281234567890");
    assert_eq!(overridden["kept"]["row"], 7);
    assert_eq!(overridden["dropped"]["row"], 4);
    assert_eq!(overridden["changed"], serde_json::json!(["Nama", "Kota"]));
    assert_eq!(value["excluded"], serde_json::json!([]));
    Ok(())
}

#[test]
fn import_saves_an_audience_that_a_later_import_merges_under_the_file() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, LIST)?;
    let list = list.to_str().ok_or("path")?;
    let saved = cli(dir.path(), &["import", list, "--save-as", "Regulars"])?;
    assert!(saved.status.success(), "{saved:?}");
    assert!(
        String::from_utf8(saved.stdout)?.contains("Saved as audience \"Regulars\" (2 contacts)")
    );

    let again = cli(dir.path(), &["import", list, "--save-as", "Regulars"])?;
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8(again.stderr)?.contains("already exists"));

    let update = dir.path().join("update.csv");
    std::fs::write(&update, "phone,Nama\n081298765432,Budi Santoso\n")?;
    let output = cli(
        dir.path(),
        &[
            "import",
            "--audience",
            "Regulars",
            update.to_str().ok_or("path")?,
            "--json",
        ],
    )?;
    assert!(output.status.success(), "{output:?}");
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(value["recipients"][1]["fields"]["Nama"], "Budi Santoso");
    assert_eq!(
        value["overridden"][0]["dropped"],
        serde_json::json!({"audience": "Regulars"})
    );
    assert_eq!(value["overridden"][0]["kept"]["file"], "update.csv");
    Ok(())
}

#[test]
fn import_of_an_unreadable_file_fails_with_one_clear_line() -> TestResult {
    let dir = tempfile::tempdir()?;
    let cases = [
        (
            "broken.xlsx",
            &b"not a zip at all"[..],
            "broken.xlsx cannot be read",
        ),
        ("empty.csv", &b""[..], "empty.csv is empty"),
        (
            "photo.jpg",
            &b"\xFF\xD8\xFF"[..],
            "photo.jpg is not a spreadsheet",
        ),
        (
            "codes.csv",
            &b"Name,Code\nAni,A-1\n"[..],
            "choose one with --phone-column",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes)?;
        let output = cli(dir.path(), &["import", path.to_str().ok_or("path")?])?;
        assert_eq!(output.status.code(), Some(1), "{name}: {output:?}");
        let stderr = String::from_utf8(output.stderr)?;
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(output.stdout.is_empty(), "{name}");
    }
    Ok(())
}

#[test]
fn the_default_country_setting_applies_to_imports() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("malaysia.csv");
    std::fs::write(&list, "name,phone\nAisyah,012-345 6789\n")?;
    let list = list.to_str().ok_or("path")?;
    let shown = cli(dir.path(), &["settings", "country"])?;
    assert_eq!(String::from_utf8(shown.stdout)?.trim(), "ID");

    // Read as Indonesian, 012... is no mobile number.
    let before: serde_json::Value =
        serde_json::from_slice(&cli(dir.path(), &["import", list, "--json"])?.stdout)?;
    assert_eq!(before["recipients"], serde_json::json!([]));

    let set = cli(dir.path(), &["settings", "country", "my"])?;
    assert!(set.status.success(), "{set:?}");
    let after: serde_json::Value =
        serde_json::from_slice(&cli(dir.path(), &["import", list, "--json"])?.stdout)?;
    assert_eq!(after["recipients"][0]["phone"], "+60123456789");

    let wrong = cli(dir.path(), &["settings", "country", "Malaysia"])?;
    assert_eq!(wrong.status.code(), Some(1));
    assert!(String::from_utf8(wrong.stderr)?.contains("not a two-letter country code"));
    Ok(())
}

#[test]
fn a_workbook_that_makes_the_reader_panic_is_one_line_too() -> TestResult {
    let dir = tempfile::tempdir()?;
    // An .xlsb whose workbook names a relationship that does not exist.
    let path = dir.path().join("broken.xlsb");
    {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path)?);
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file("xl/_rels/workbook.bin.rels", options)?;
        zip.write_all(br#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"></Relationships>"#)?;
        zip.start_file("xl/workbook.bin", options)?;
        // BrtBundleSh: visible, sheet 1, relId "rId9", name "S"; then BrtEndBundleShs, BrtEndBook.
        let mut bundle = vec![0, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0];
        bundle.extend("rId9".encode_utf16().flat_map(u16::to_le_bytes));
        bundle.extend([1, 0, 0, 0]);
        bundle.extend("S".encode_utf16().flat_map(u16::to_le_bytes));
        let mut workbook = vec![0x9C, 0x01, bundle.len() as u8];
        workbook.extend(bundle);
        workbook.extend([0x90, 0x01, 0x00, 0x84, 0x01, 0x00]);
        zip.write_all(&workbook)?;
        zip.finish()?;
    }
    let output = cli(dir.path(), &["import", path.to_str().ok_or("path")?])?;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("broken.xlsb cannot be read: the file is damaged"),
        "{stderr}"
    );
    Ok(())
}

fn json(output: &Output) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    Ok(serde_json::from_slice(&output.stdout)?)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_blast_is_created_run_paused_by_a_logout_resumed_and_reported() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(
        &list,
        "Nama,HP\nDewi,0812 1111 0001\nBudi,0812 1111 0002\nSari,0812 1111 0003\n",
    )?;
    let picture = dir.path().join("promo.png");
    std::fs::write(&picture, b"\x89PNG not really")?;
    let list_arg = list.to_str().ok_or("path")?;
    let created = cli(
        &data,
        &[
            "blast",
            "create",
            list_arg,
            "--simulate",
            "--json",
            "--template",
            "Halo {Nama}!",
            "--attach",
            picture.to_str().ok_or("path")?,
        ],
    )?;
    assert!(created.status.success(), "{created:?}");
    let created = json(&created)?;
    assert_eq!(created["recipients"], 3);
    // A rehearsal account is not paced, and says so.
    assert_eq!(created["risks"], serde_json::json!(["pacing_off"]));
    assert!(created["finishEstimateMs"].is_i64());
    let blast = created["blast"].to_string();
    let ledger = dir.path().join("ledger.jsonl");
    let ledger_arg = ledger.to_str().ok_or("path")?;

    // The account is logged out after the first message: the blast pauses.
    let run = cli(
        &data,
        &[
            "blast",
            "run",
            &blast,
            "--ledger",
            ledger_arg,
            "--no-pacing",
            "--logout-after",
            "1",
        ],
    )?;
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    assert!(
        stderr(&run).contains("paused (logged_out): the account was logged out."),
        "{}",
        stderr(&run)
    );
    let status = json(&cli(&data, &["blast", "status", &blast, "--json"])?)?;
    assert_eq!(
        (
            status["state"].as_str(),
            status["sent"].as_u64(),
            status["queued"].as_u64()
        ),
        (Some("paused"), Some(1), Some(2))
    );
    assert_eq!(status["pauseCode"], "logged_out");

    // Running it again does not send while it is paused; resuming does.
    let run = cli(
        &data,
        &[
            "blast",
            "run",
            &blast,
            "--ledger",
            ledger_arg,
            "--no-pacing",
        ],
    )?;
    assert_eq!(run.status.code(), Some(3));
    assert!(cli(&data, &["blast", "resume", &blast])?.status.success());
    let run = cli(
        &data,
        &[
            "blast",
            "run",
            &blast,
            "--ledger",
            ledger_arg,
            "--no-pacing",
        ],
    )?;
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let ledger_lines = std::fs::read_to_string(&ledger)?;
    assert_eq!(ledger_lines.lines().count(), 3);
    assert!(
        ledger_lines.contains("promo.png"),
        "the attachment went along"
    );

    // The report, as CSV.
    let report = dir.path().join("report.csv");
    let export = cli(
        &data,
        &[
            "blast",
            "export",
            &blast,
            "--out",
            report.to_str().ok_or("path")?,
        ],
    )?;
    assert!(export.status.success(), "{export:?}");
    let mut reader = csv::Reader::from_path(&report)?;
    let column = reader
        .headers()?
        .iter()
        .position(|h| h == "Outcome")
        .ok_or("no Outcome column")?;
    let outcomes: Vec<String> = reader
        .records()
        .map(|r| r.map(|r| r[column].to_owned()))
        .collect::<Result<_, _>>()?;
    assert_eq!(outcomes, ["sent", "sent", "sent"]);
    let bad = cli(&data, &["blast", "export", &blast, "--out", "report.txt"])?;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("use .xlsx or .csv"),
        "{}",
        stderr(&bad)
    );

    // A completed blast cannot be cancelled; the error says why.
    let cancel = cli(&data, &["blast", "cancel", &blast])?;
    assert_eq!(cancel.status.code(), Some(1));
    assert!(
        stderr(&cancel).contains("is completed; it cannot be cancelled"),
        "{}",
        stderr(&cancel)
    );

    let listed = json(&cli(&data, &["blast", "list", "--json"])?)?;
    assert_eq!(listed[0]["state"], "completed");
    assert_eq!(listed[0]["counts"]["sent"], 3);
    Ok(())
}

#[test]
fn a_blast_can_be_paused_and_cancelled_before_it_runs() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\nBudi,0812 1111 0002\n")?;
    let created = json(&cli(
        dir.path(),
        &[
            "blast",
            "create",
            list.to_str().ok_or("path")?,
            "--simulate",
            "--json",
            "--template",
            "Hi",
        ],
    )?)?;
    let blast = created["blast"].to_string();
    assert!(
        cli(dir.path(), &["blast", "pause", &blast])?
            .status
            .success()
    );
    let status = json(&cli(dir.path(), &["blast", "status", &blast, "--json"])?)?;
    assert_eq!(
        (status["state"].as_str(), status["pauseCode"].as_str()),
        (Some("paused"), Some("paused_by_you"))
    );
    let cancel = cli(dir.path(), &["blast", "cancel", &blast])?;
    assert!(String::from_utf8_lossy(&cancel.stdout).contains("2 messages will not be sent"));
    let ledger = dir.path().join("ledger.jsonl");
    let run = cli(
        dir.path(),
        &[
            "blast",
            "run",
            &blast,
            "--ledger",
            ledger.to_str().ok_or("path")?,
        ],
    )?;
    assert_eq!(run.status.code(), Some(5));
    assert!(!ledger.exists() || std::fs::read_to_string(&ledger)?.is_empty());
    let status = json(&cli(dir.path(), &["blast", "status", &blast, "--json"])?)?;
    assert_eq!(
        (status["state"].as_str(), status["skipped"].as_u64()),
        (Some("cancelled"), Some(2))
    );
    Ok(())
}

#[test]
fn pacing_settings_are_shown_changed_checked_and_warned_about() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\n")?;
    let created = json(&cli(
        dir.path(),
        &[
            "blast",
            "create",
            list.to_str().ok_or("path")?,
            "--simulate",
            "--json",
            "--template",
            "Hi",
        ],
    )?)?;
    assert!(created["blast"].is_i64());
    let account = "1";

    let changed = cli(
        dir.path(),
        &[
            "settings",
            "pacing",
            account,
            r#"{"enabled": true, "minDelayS": 5, "maxDelayS": 40}"#,
        ],
    )?;
    assert!(changed.status.success(), "{changed:?}");
    let pacing = json(&changed)?;
    assert_eq!(
        (
            pacing["minDelayS"].as_u64(),
            pacing["window"]["start"].as_str()
        ),
        (Some(5), Some("09:00"))
    );
    assert!(
        stderr(&changed).contains("warning: Less than 15 seconds between messages"),
        "{}",
        stderr(&changed)
    );

    for (change, says) in [
        (
            r#"{"minDelayS": 50, "maxDelayS": 20}"#,
            "the smallest delay is larger than the largest",
        ),
        (
            r#"{"window": {"start": "9am", "end": "20:00"}}"#,
            "\"9am\" is not a time of day like 09:00",
        ),
        (r#"{"speed": 3}"#, "\"speed\" is not a pacing setting"),
        ("fast", "not valid JSON"),
    ] {
        let refused = cli(dir.path(), &["settings", "pacing", account, change])?;
        assert_eq!(refused.status.code(), Some(1), "{change}");
        assert!(
            stderr(&refused).contains(says),
            "{change}: {}",
            stderr(&refused)
        );
    }
    // What was refused changed nothing.
    let shown = json(&cli(dir.path(), &["settings", "pacing", account])?)?;
    assert_eq!(shown["minDelayS"], 5);
    Ok(())
}

#[test]
fn accounts_are_added_listed_renamed_and_removed() -> TestResult {
    let dir = tempfile::tempdir()?;
    let added = cli(
        dir.path(),
        &[
            "account",
            "add",
            "Toko Pusat",
            "--time-zone",
            "Asia/Jakarta",
            "--business-unit",
            "Pusat",
            "--json",
        ],
    )?;
    assert!(added.status.success(), "{added:?}");
    let id = json(&added)?["account"].to_string();
    let listed = json(&cli(dir.path(), &["account", "list", "--json"])?)?;
    assert_eq!(listed[0]["name"], "Toko Pusat");
    assert_eq!(listed[0]["businessUnit"], "Pusat");
    assert_eq!(
        listed[0]["status"],
        serde_json::json!({"status": "unlinked"})
    );
    assert_eq!(listed[0]["timeZone"], "Asia/Jakarta");

    assert!(
        cli(dir.path(), &["account", "rename", &id, "Toko Bandung"])?
            .status
            .success()
    );
    let text = String::from_utf8_lossy(&cli(dir.path(), &["account", "list"])?.stdout).into_owned();
    assert_eq!(
        text.trim(),
        format!("{id} Toko Bandung, not linked: not linked")
    );

    let bad_zone = cli(
        dir.path(),
        &["account", "add", "X", "--time-zone", "Mars/Base"],
    )?;
    assert_eq!(bad_zone.status.code(), Some(1));
    assert!(
        stderr(&bad_zone).contains("not a time zone"),
        "{}",
        stderr(&bad_zone)
    );

    assert!(
        cli(dir.path(), &["account", "remove", &id])?
            .status
            .success()
    );
    let listed = json(&cli(dir.path(), &["account", "list", "--json"])?)?;
    assert_eq!(listed, serde_json::json!([]));
    let again = cli(dir.path(), &["account", "remove", &id])?;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains(&format!("there is no account {id}")),
        "{}",
        stderr(&again)
    );
    Ok(())
}

#[test]
fn linking_offline_reports_that_whatsapp_cannot_be_reached_and_gives_up_in_time() -> TestResult {
    let dir = tempfile::tempdir()?;
    let id = json(&cli(dir.path(), &["account", "add", "Toko", "--json"])?)?["account"].to_string();
    let output = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["account", "link", &id, "--json", "--give-up-after", "2"])
        .env_remove("BLASTDESK_DATA_DIR")
        // No network: every connection fails as it does offline.
        .env("BLASTDESK_NETWORK", "offline")
        .output()?;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(lines[0]["status"], "connecting");
    let offline = lines
        .iter()
        .find(|l| l["status"] == "disconnected")
        .ok_or("no disconnected status")?;
    assert_eq!(offline["offline"], true);
    assert_eq!(offline["reason"], "cannot reach WhatsApp");
    assert!(offline["nextAttemptAtMs"].as_i64().is_some_and(|t| t > 0));
    assert!(
        stderr(&output).contains("was not linked within 2 s"),
        "{}",
        stderr(&output)
    );
    // The list says the same, for whoever looks later.
    let listed = json(&cli(dir.path(), &["account", "list", "--json"])?)?;
    assert_eq!(listed[0]["status"]["status"], "disconnected");
    Ok(())
}

#[test]
fn a_blast_on_an_account_that_cannot_reach_whatsapp_pauses_instead_of_hanging() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\n")?;
    let account = json(&cli(dir.path(), &["account", "add", "Toko", "--json"])?)?["account"]
        .as_i64()
        .ok_or("id")?;
    let created = json(&cli(
        dir.path(),
        &[
            "blast",
            "create",
            list.to_str().ok_or("path")?,
            "--json",
            "--template",
            "Hi {Nama}",
        ],
    )?)?;
    let blast = created["blast"].to_string();

    // Not linked yet: the run says so and sends nothing.
    let run = cli(dir.path(), &["blast", "run", &blast])?;
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("is not linked"), "{}", stderr(&run));

    // Linked earlier (as the store remembers), but this computer is offline now.
    {
        let store = blastdesk_core::Store::open_in(dir.path())?;
        store.set_account_status(account, &blastdesk_core::account::AccountStatus::Connected)?;
    }
    let run = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["blast", "run", &blast])
        .env_remove("BLASTDESK_DATA_DIR")
        .env("BLASTDESK_NETWORK", "offline")
        .output()?;
    assert_eq!(run.status.code(), Some(3), "{run:?}");
    let err = stderr(&run);
    assert!(err.contains("cannot reach WhatsApp"), "{err}");
    assert!(err.contains("paused (not_connected)"), "{err}");
    let status = json(&cli(dir.path(), &["blast", "status", &blast, "--json"])?)?;
    assert_eq!(
        (status["queued"].as_u64(), status["pauseCode"].as_str()),
        (Some(1), Some("not_connected"))
    );
    Ok(())
}

#[test]
fn the_whatsapp_web_version_is_automatic_and_can_be_named() -> TestResult {
    let dir = tempfile::tempdir()?;
    let shown = |output: Output| String::from_utf8_lossy(&output.stdout).trim().to_owned();
    let automatic = shown(cli(dir.path(), &["settings", "whatsapp-version"])?);
    assert_eq!(automatic, "automatic");
    assert_eq!(
        shown(cli(
            dir.path(),
            &["settings", "whatsapp-version", "2.3001.42"]
        )?),
        "2.3001.42"
    );
    assert_eq!(
        shown(cli(dir.path(), &["settings", "whatsapp-version"])?),
        "2.3001.42"
    );
    let bad = cli(dir.path(), &["settings", "whatsapp-version", "latest"])?;
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("is not a WhatsApp Web version"),
        "{}",
        stderr(&bad)
    );
    assert_eq!(
        shown(cli(
            dir.path(),
            &["settings", "whatsapp-version", "--automatic"]
        )?),
        automatic
    );
    Ok(())
}

#[test]
fn schedules_are_added_listed_paused_and_run_by_the_daemon() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\nBudi,0812 1111 0002\n")?;
    let list_arg = list.to_str().ok_or("path")?;
    assert!(
        cli(dir.path(), &["import", list_arg, "--save-as", "Pelanggan"])?
            .status
            .success()
    );
    // A rehearsal account to send from (made by a rehearsal blast).
    let created = json(&cli(
        dir.path(),
        &[
            "blast",
            "create",
            "--simulate",
            "--audience",
            "Pelanggan",
            "--json",
            "--template",
            "Hi",
        ],
    )?)?;
    assert!(created["blast"].is_i64());
    let ledger = dir.path().join("first.jsonl");
    assert!(
        cli(
            dir.path(),
            &[
                "blast",
                "run",
                "1",
                "--ledger",
                ledger.to_str().ok_or("path")?
            ]
        )?
        .status
        .success()
    );

    let added = cli(
        dir.path(),
        &[
            "schedule",
            "add",
            "--name",
            "Promo pagi",
            "--account",
            "1",
            "--audience",
            "Pelanggan",
            "--template",
            "Selamat pagi {Nama}",
            "--repeat",
            "weekly",
            "--days",
            "1,4",
            "--time",
            "09:00",
            "--zone",
            "Asia/Jakarta",
            "--json",
        ],
    )?;
    assert!(added.status.success(), "{added:?}");
    let schedule = json(&added)?;
    assert_eq!(
        schedule["rule"],
        serde_json::json!({"repeat": "weekly", "days": [1, 4], "time": "09:00"})
    );
    assert!(schedule["nextRunAt"].as_i64().is_some_and(|t| t > 0));
    let text =
        String::from_utf8_lossy(&cli(dir.path(), &["schedule", "list"])?.stdout).into_owned();
    assert!(text.starts_with("1 Promo pagi: next run "), "{text}");
    assert!(text.contains(" 09:00 Asia/Jakarta"), "{text}");

    let refused = cli(
        dir.path(),
        &[
            "schedule",
            "add",
            "--name",
            "x",
            "--account",
            "1",
            "--template",
            "Hi",
            "--repeat",
            "weekly",
            "--time",
            "09:00",
        ],
    )?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("choose at least one day of the week"),
        "{}",
        stderr(&refused)
    );

    assert!(
        cli(dir.path(), &["schedule", "pause", "1"])?
            .status
            .success()
    );
    let listed = json(&cli(dir.path(), &["schedule", "list", "--json"])?)?;
    assert_eq!(listed[0]["enabled"], false);
    assert!(
        cli(dir.path(), &["schedule", "resume", "1"])?
            .status
            .success()
    );

    // The run fell due a minute ago (as if the computer just woke up).
    {
        let conn = rusqlite::Connection::open(dir.path().join(store::FILE_NAME))?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis() as i64;
        conn.execute("UPDATE schedules SET next_run_at = ?1", [now - 60_000])?;
    }
    let daemon = cli(dir.path(), &["daemon", "--once", "--json"])?;
    assert!(daemon.status.success(), "{daemon:?}");
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&daemon.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(events[0]["event"], "runStarted");
    assert!(events.iter().any(|e| e["event"] == "blastCompleted"));
    let ledger = std::fs::read_to_string(dir.path().join("rehearsal-ledger.jsonl"))?;
    assert_eq!(ledger.lines().count(), 2);
    assert!(ledger.contains("Selamat pagi Dewi"));
    // Once: running it again sends nothing more.
    assert!(cli(dir.path(), &["daemon", "--once"])?.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("rehearsal-ledger.jsonl"))?
            .lines()
            .count(),
        2
    );
    assert!(
        cli(dir.path(), &["schedule", "remove", "1"])?
            .status
            .success()
    );
    assert_eq!(
        json(&cli(dir.path(), &["schedule", "list", "--json"])?)?,
        serde_json::json!([])
    );
    Ok(())
}

#[test]
fn backup_and_restore_round_trip_and_refuse_other_files() -> TestResult {
    let dir = tempfile::tempdir()?;
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(&list, "Nama,HP\nDewi,0812 1111 0001\n")?;
    let data = dir.path().join("data");
    let list_arg = list.to_str().ok_or("path")?;
    assert!(
        cli(&data, &["import", list_arg, "--save-as", "Pelanggan"])?
            .status
            .success()
    );
    let backup = dir.path().join("backup.sqlite3");
    let backup_arg = backup.to_str().ok_or("path")?;
    assert!(cli(&data, &["backup", backup_arg])?.status.success());
    assert!(
        cli(&data, &["import", list_arg, "--save-as", "Kedua"])?
            .status
            .success()
    );

    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "not a database")?;
    let refused = cli(&data, &["restore", notes.to_str().ok_or("path")?])?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused)
            .contains("is not a Blastdesk backup: it is not a database file. Nothing was changed"),
        "{}",
        stderr(&refused)
    );
    let status = json(&cli(&data, &["status", "--json"])?)?;
    assert_eq!(status["audiences"], 2, "unchanged: {status}");

    assert!(cli(&data, &["restore", backup_arg])?.status.success());
    let status = json(&cli(&data, &["status", "--json"])?)?;
    assert_eq!(status["audiences"], 1, "as backed up: {status}");
    Ok(())
}

#[test]
fn the_do_not_contact_list_is_kept_and_a_blast_leaves_it_out_and_is_sent_again() -> TestResult {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let list = dir.path().join("pelanggan.csv");
    std::fs::write(
        &list,
        "Nama,HP\nDewi,0812 1111 0001\nBudi,0812 1111 0002\nSari,0812 1111 0003\n",
    )?;
    let complaints = dir.path().join("keluhan.csv");
    std::fs::write(&complaints, "HP\n0812 1111 0003\nbukan nomor\n")?;
    let (list_arg, complaints_arg) = (
        list.to_str().ok_or("path")?,
        complaints.to_str().ok_or("path")?,
    );

    // A typo refuses the whole command; nothing is added.
    let refused = cli(&data, &["contacts", "add", "0812 1111 0002", "12"])?;
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("\"12\" is not a usable number; nothing was added"));
    assert_eq!(
        json(&cli(&data, &["contacts", "list", "--json"])?)?,
        serde_json::json!([])
    );

    let added = cli(&data, &["contacts", "add", "0812 1111 0002"])?;
    assert_eq!(stdout(&added).trim(), "1 added, 0 already on the list.");
    let from_file = cli(&data, &["contacts", "add-file", complaints_arg])?;
    assert_eq!(
        stdout(&from_file).trim(),
        "1 added, 0 already on the list, 1 rows unusable."
    );
    let listed = json(&cli(&data, &["contacts", "list", "--json"])?)?;
    let phones: Vec<&str> = listed
        .as_array()
        .ok_or("a list")?
        .iter()
        .filter_map(|e| e["phone"].as_str())
        .collect();
    assert_eq!(phones.len(), 2);
    assert!(phones.contains(&"+6281211110002") && phones.contains(&"+6281211110003"));

    // The opt-out words: shown, changed, an empty list refused.
    assert_eq!(
        stdout(&cli(&data, &["contacts", "words"])?).trim(),
        "STOP, BERHENTI, UNSUBSCRIBE"
    );
    assert_eq!(
        cli(&data, &["contacts", "words", " , "])?.status.code(),
        Some(1)
    );
    let words = cli(&data, &["contacts", "words", "stop, batal"])?;
    assert_eq!(stdout(&words).trim(), "Opt-out words: STOP, BATAL.");

    // A blast leaves them out; removing one puts it back in the next.
    let created = json(&cli(
        &data,
        &[
            "blast",
            "create",
            list_arg,
            "--simulate",
            "--json",
            "--template",
            "Halo {Nama}",
        ],
    )?)?;
    assert_eq!(created["recipients"], 1);
    let removed = cli(&data, &["contacts", "remove", "0812 1111 0002"])?;
    assert_eq!(stdout(&removed).trim(), "+6281211110002 is off the list.");
    assert_eq!(
        cli(&data, &["contacts", "remove", "0812 1111 0002"])?
            .status
            .code(),
        Some(1)
    );

    // Its one message is refused for good: sent again, as a new blast, to that one.
    let blast = created["blast"].to_string();
    let ledger = dir.path().join("ledger.jsonl");
    let ledger_arg = ledger.to_str().ok_or("path")?;
    let run = cli(
        &data,
        &[
            "blast",
            "run",
            &blast,
            "--ledger",
            ledger_arg,
            "--permanent",
            "1",
        ],
    )?;
    assert!(run.status.success(), "{run:?}");
    let again = cli(&data, &["blast", "again", &blast])?;
    assert!(again.status.success(), "{again:?}");
    assert!(
        stdout(&again).contains("again to 1 recipients"),
        "{}",
        stdout(&again)
    );
    let list = json(&cli(&data, &["blast", "list", "--json"])?)?;
    assert_eq!(list[0]["name"], "Blast (again)", "{list}");
    // The new one cannot be sent again before it has finished.
    let newest = list[0]["id"].to_string();
    let early = cli(&data, &["blast", "again", &newest])?;
    assert_eq!(early.status.code(), Some(1));
    assert!(
        stderr(&early).contains("is still queued"),
        "{}",
        stderr(&early)
    );
    Ok(())
}
