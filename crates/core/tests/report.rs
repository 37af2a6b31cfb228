//! The per-recipient report of a real blast, exported to xlsx and CSV and
//! read back.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::clock::{Millis, TokioClock};
use blastdesk_core::engine::{Engine, RetryPolicy, RunEnd};
use blastdesk_core::messenger::{Faults, SimulatedMessenger, read_ledger};
use blastdesk_core::phone::Phone;
use blastdesk_core::report::{MinuteCount, Report, Timeline};
use blastdesk_core::store::AccountKind;
use blastdesk_core::store::blasts::Receipt;
use blastdesk_core::template::MissingValue;
use calamine::{Reader, Xlsx, open_workbook};

mod support;

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// 2025-11-30 10:00:00 in Jakarta.
const START: Millis = 1_764_471_600_000;

fn recipient(phone: &str, name: &str, row: u32) -> Recipient {
    Recipient {
        phone: Phone::from_e164_unchecked(phone.to_owned()),
        fields: Fields::new(vec![
            (Arc::from("Nama"), name.to_owned()),
            (Arc::from("Kota"), "Bandung".to_owned()),
        ]),
        source: Source::File {
            file: Arc::from("/home/dewi/pelanggan.xlsx"),
            sheet: Arc::from("Sheet1"),
            row,
        },
    }
}

/// A data folder's store with the simulated account "Toko" in Jakarta.
fn store_with_toko(dir: &Path) -> TestResult<(Store, i64)> {
    let store = Store::open_in(dir)?;
    let account = store.add_account("Toko", AccountKind::Simulated, "Asia/Jakarta", START)?;
    Ok((store, account))
}

/// The blast "Promo", "Halo {Nama}" to `recipients` from `account`.
fn promo(store: &Store, account: i64, recipients: &[Recipient]) -> TestResult<i64> {
    Ok(blast::create(
        store,
        &NewBlast {
            name: "Promo",
            template: "Halo {Nama}",
            sender: Sender::Account(account),
            recipients,
            options: BlastOptions::default(),
            attach: None,
        },
        START,
    )?
    .blast_id)
}

/// Sends `blast` through the simulated messenger (writing `ledger`) with
/// `faults`, to the end.
async fn send_to_the_end(store: &Store, blast: i64, ledger: &Path, faults: Faults) -> TestResult {
    let clock = TokioClock::starting_at(START);
    let messenger = SimulatedMessenger::open(ledger, faults, clock)?;
    let engine = Engine::new(store.clone(), messenger, clock, RetryPolicy::default());
    assert_eq!(
        engine.run_blast(blast, &mut |_| {}).await?,
        RunEnd::Completed
    );
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn the_report_tells_each_recipient_outcome_and_exports_to_xlsx_and_csv() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, account) = store_with_toko(dir.path())?;
    let recipients = [
        recipient("+6281200000001", "Dewi", 2),
        recipient("+6281200000002", "Budi", 3),
        recipient("+6281200000003", " ", 4),
    ];
    let blast = blast::create(
        &store,
        &NewBlast {
            name: "Promo",
            template: "Halo {Nama} di {Kota}",
            sender: Sender::Account(account),
            recipients: &recipients,
            options: BlastOptions {
                missing_value: MissingValue::Skip,
                ..BlastOptions::default()
            },
            attach: None,
        },
        START,
    )?
    .blast_id;
    let ledger = dir.path().join("ledger.jsonl");
    let faults = Faults {
        not_on_whatsapp: HashSet::from([Phone::from_e164_unchecked("+6281200000002".into())]),
        ..Faults::default()
    };
    send_to_the_end(&store, blast, &ledger, faults).await?;
    let sent = &read_ledger(&ledger)?[0];
    assert!(store.record_receipt(&sent.message_id, Receipt::Delivered, START + 5_000)?);
    assert!(store.record_receipt(&sent.message_id, Receipt::Read, START + 65_000)?);
    // Receipts only move forward.
    assert!(!store.record_receipt(&sent.message_id, Receipt::Delivered, START + 70_000)?);
    // The blast's summary counts them: read is also delivered.
    let summary = store.blast_summary(blast)?;
    assert_eq!((summary.receipts.delivered, summary.receipts.read), (1, 1));
    assert_eq!(store.list_blasts()?[0].receipts, summary.receipts);

    let report = Report::load(&store, blast)?;
    let outcomes: Vec<&str> = report.rows.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, ["read", "failed", "skipped"]);
    // Each row names its customer from the list's name column (an empty
    // name is none).
    let names: Vec<Option<&str>> = report.rows.iter().map(|r| r.name.as_deref()).collect();
    assert_eq!(names, [Some("Dewi"), Some("Budi"), None]);

    let (header, rows) = report.table();
    assert_eq!(
        header,
        [
            "Phone",
            "Nama",
            "Kota",
            "Outcome",
            "Reason",
            "Reason code",
            "Attempts",
            "Sent (Asia/Jakarta)",
            "Delivered",
            "Read",
            "Message",
            "Source"
        ]
    );
    assert_eq!(
        rows[0],
        [
            "+6281200000001",
            "Dewi",
            "Bandung",
            "read",
            "",
            "",
            "1",
            "2025-11-30 10:00:00",
            "2025-11-30 10:00:05",
            "2025-11-30 10:01:05",
            "Halo Dewi di Bandung",
            "pelanggan.xlsx, Sheet1 row 2"
        ]
    );
    assert_eq!(
        rows[1][3..7],
        [
            "failed",
            "this number is not on WhatsApp",
            "not_on_whatsapp",
            "1"
        ]
    );
    assert_eq!(rows[2][3], "skipped");
    assert!(
        rows[2][4].contains("Nama"),
        "the reason names the column: {}",
        rows[2][4]
    );

    // xlsx, read back with a spreadsheet reader.
    let xlsx = dir.path().join("report.xlsx");
    report.export(&xlsx)?;
    let mut workbook: Xlsx<_> = open_workbook(&xlsx)?;
    let range = workbook.worksheet_range("Report")?;
    let cells: Vec<Vec<String>> = range
        .rows()
        .map(|row| row.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cells[0], header);
    assert_eq!(cells[1..], rows[..]);

    // CSV, read back with a CSV reader.
    let csv_path = dir.path().join("report.csv");
    report.export(&csv_path)?;
    let mut reader = csv::Reader::from_path(&csv_path)?;
    assert_eq!(reader.headers()?.iter().collect::<Vec<_>>(), header);
    let back: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(String::from).collect()))
        .collect::<Result<_, _>>()?;
    assert_eq!(back, rows);

    // Bad targets are refused with a clear error and leave nothing behind.
    let error = report.export(&dir.path().join("report.pdf")).err();
    assert_eq!(error.map(|e| e.code().as_str()), Some("invalid_input"));
    let missing_dir = dir.path().join("no-such-folder").join("report.csv");
    let error = report
        .export(&missing_dir)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("no-such-folder"), "{error}");
    let left: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(left.is_empty());
    Ok(())
}

/// A customer list is untrusted: a name that is a formula stays text in the
/// CSV (never evaluated when the owner opens it), a phone number keeps its
/// "+", and a message longer than an Excel cell still exports to .xlsx.
#[tokio::test(start_paused = true)]
async fn exports_keep_formulas_as_text_and_fit_long_messages_in_excel() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, account) = store_with_toko(dir.path())?;
    let formula = "=HYPERLINK(\"http://example.invalid\",\"Klik\")";
    let long = "panjang".repeat(5_000);
    let recipients = [
        recipient("+6281200000001", formula, 2),
        recipient("+6281200000002", &long, 3),
    ];
    let blast = promo(&store, account, &recipients)?;
    let ledger = dir.path().join("ledger.jsonl");
    send_to_the_end(&store, blast, &ledger, Faults::default()).await?;
    let report = Report::load(&store, blast)?;

    let csv_file = dir.path().join("report.csv");
    report.export(&csv_file)?;
    let mut reader = csv::Reader::from_path(&csv_file)?;
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
    assert_eq!(&rows[0][0], "+6281200000001");
    assert_eq!(rows[0][1], format!("'{formula}"));
    assert_eq!(rows[0][10], format!("Halo {formula}"));
    assert_eq!(rows[1][10].chars().count(), long.chars().count() + 5);

    let xlsx_file = dir.path().join("report.xlsx");
    report.export(&xlsx_file)?;
    let mut book: Xlsx<_> = open_workbook(&xlsx_file)?;
    let sheet = book.worksheet_range("Report")?;
    let message = sheet
        .get_value((2, 10))
        .map(ToString::to_string)
        .unwrap_or_default();
    assert_eq!(message.chars().count(), 32_767);
    assert!(message.ends_with('…'));
    // In the workbook a formula is a text cell, never a formula.
    assert_eq!(
        sheet.get_value((1, 1)).map(ToString::to_string).as_deref(),
        Some(formula)
    );
    Ok(())
}

/// The chart of sends over time: sent messages by the minute they went out,
/// failed ones by the minute they failed, minutes without any left out.
#[tokio::test(start_paused = true)]
async fn the_timeline_counts_sends_and_failures_minute_by_minute() -> TestResult {
    let dir = tempfile::tempdir()?;
    let (store, account) = store_with_toko(dir.path())?;
    // One message every 50 s: minutes 0, 0, 1, 2 (0 s, 50 s, 100 s, 150 s).
    store.set_account_pacing(account, &support::one_message_every(50))?;
    let recipients = [
        recipient("+6281200000001", "Dewi", 2),
        recipient("+6281200000002", "Budi", 3),
        recipient("+6281200000003", "Sari", 4),
        recipient("+6281200000004", "Eko", 5),
    ];
    let blast = promo(&store, account, &recipients)?;
    assert_eq!(
        Timeline::load(&store, blast)?.minutes,
        [],
        "nothing sent yet"
    );
    let faults = Faults {
        not_on_whatsapp: HashSet::from([Phone::from_e164_unchecked("+6281200000003".into())]),
        ..Faults::default()
    };
    send_to_the_end(&store, blast, &dir.path().join("ledger.jsonl"), faults).await?;
    let minute = |n: i64, sent: u64, failed: u64| MinuteCount {
        minute_ms: (START / 60_000 + n) * 60_000,
        sent,
        failed,
    };
    let timeline = Timeline::load(&store, blast)?;
    assert_eq!(timeline.blast_id, blast);
    assert_eq!(
        timeline.minutes,
        [minute(0, 2, 0), minute(1, 0, 1), minute(2, 1, 0)]
    );
    Ok(())
}
