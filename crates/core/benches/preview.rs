//! Benchmark: the full import preview of a 100,000-row xlsx (5% duplicates in
//! mixed formats) merged with a 100,000-contact saved audience.
//!
//! `cargo bench -p blastdesk-core --bench preview` generates the fixtures,
//! then measures the preview in a fresh process of its own, so that its peak
//! memory (VmHWM) is the preview's alone. Targets: under 1 s, under 150 MB.
//! `-- --generate DIR` writes the fixtures into DIR and stops, for
//! measuring `blastdesk-cli import` on them (docs/benchmarks.md).

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use blastdesk_core::Store;
use blastdesk_core::audience::{self, Fields, PreviewRequest, Recipient, Source};
use blastdesk_core::import::ImportOptions;
use blastdesk_core::phone::Phone;

const ROWS: u32 = 100_000;
const DUPLICATE_SHARE: u32 = 20; // one row in 20 repeats an earlier number
const RUNS: usize = 5;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

fn main() -> Result {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--measure") {
        let dir = args.get(at + 1).ok_or("--measure DIR")?;
        return measure(Path::new(dir));
    }
    // The fixtures alone, into DIR (a data folder with the audience
    // "Members", and pelanggan.xlsx), to measure `blastdesk-cli import` on.
    if let Some(at) = args.iter().position(|a| a == "--generate") {
        let dir = args.get(at + 1).ok_or("--generate DIR")?;
        std::fs::create_dir_all(dir)?;
        return generate(Path::new(dir));
    }
    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    generate(dir.path())?;
    println!(
        "fixtures generated in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let status = Command::new(std::env::current_exe()?)
        .arg("--measure")
        .arg(dir.path())
        .status()?;
    if !status.success() {
        return Err("the measuring process failed".into());
    }
    Ok(())
}

/// The n-th customer's national number: 0812 followed by 8 digits.
fn national(n: u32) -> String {
    format!("0812{:08}", 10_000_000 + n)
}

fn generate(dir: &Path) -> Result {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Pelanggan")?;
    sheet.write_string(0, 0, "Daftar pelanggan")?;
    for (c, header) in ["Nama", "No. WA", "Kota", "Catatan"].iter().enumerate() {
        sheet.write_string(2, c as u16, *header)?;
    }
    for i in 0..ROWS {
        let row = i + 3;
        // Every 20th row repeats an earlier customer's number, written differently.
        let customer = if i % DUPLICATE_SHARE == DUPLICATE_SHARE - 1 {
            i / 2
        } else {
            i
        };
        let digits = national(customer);
        sheet.write_string(row, 0, format!("Customer {i}"))?;
        match i % 4 {
            0 => sheet.write_string(row, 1, &digits)?,
            1 => sheet.write_string(
                row,
                1,
                format!("+62 {}-{}-{}", &digits[1..4], &digits[4..8], &digits[8..]),
            )?,
            2 => sheet.write_number(row, 1, format!("62{}", &digits[1..]).parse::<f64>()?)?,
            _ => sheet.write_string(
                row,
                1,
                format!("{} {} {}", &digits[..4], &digits[4..8], &digits[8..]),
            )?,
        };
        sheet.write_string(
            row,
            2,
            ["Jakarta", "Bandung", "Surabaya", "Medan"][(i % 4) as usize],
        )?;
        sheet.write_string(row, 3, "pelanggan tetap")?;
    }
    workbook.save(dir.join("pelanggan.xlsx"))?;

    // The saved audience: 100,000 contacts, a tenth of them also in the file.
    let store = Store::open_in(dir)?;
    let names: [std::sync::Arc<str>; 2] = ["Nama".into(), "Kota".into()];
    let recipients: Vec<Recipient> = (0..ROWS)
        .map(|i| {
            let n = if i % 10 == 0 { i } else { ROWS * 3 + i };
            Recipient {
                phone: Phone::from_e164_unchecked(format!("+62{}", &national(n)[1..])),
                fields: Fields::new(vec![
                    (names[0].clone(), format!("Member {i}")),
                    (names[1].clone(), "Bogor".to_owned()),
                ]),
                source: Source::Audience {
                    audience: "Members".into(),
                },
            }
        })
        .collect();
    store.save_audience("Members", &recipients, false, 0)?;
    Ok(())
}

fn measure(dir: &Path) -> Result {
    let store = Store::open_in(dir)?;
    let request = PreviewRequest {
        audiences: vec!["Members".into()],
        files: vec![(dir.join("pelanggan.xlsx"), ImportOptions::default())],
    };
    let mut times = Vec::new();
    let mut last: Option<audience::Preview> = None;
    for _ in 0..RUNS {
        // One preview alive at a time, as in the app.
        drop(last.take());
        let started = Instant::now();
        let (preview, _) = audience::preview(&store, &request)?;
        times.push(started.elapsed().as_secs_f64());
        last = Some(preview);
    }
    let preview = last.ok_or("no run")?;
    let unique: HashSet<&str> = preview
        .recipients
        .iter()
        .map(|r| r.phone.as_str())
        .collect();
    assert_eq!(unique.len(), preview.recipients.len());
    times.sort_by(f64::total_cmp);
    println!(
        "preview of {ROWS} xlsx rows + {ROWS} audience contacts: {} recipients, {} overridden, {} invalid",
        preview.recipients.len(),
        preview.overridden.len(),
        preview.invalid.len()
    );
    println!(
        "time: median {:.3} s, best {:.3} s, worst {:.3} s over {RUNS} runs",
        times[RUNS / 2],
        times[0],
        times[RUNS - 1]
    );
    println!("peak memory (VmHWM): {}", peak_memory());
    Ok(())
}

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown (no /proc)".to_owned())
}
