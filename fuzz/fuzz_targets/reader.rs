//! Any bytes as a spreadsheet of any supported kind: reading never panics;
//! it gives rows and row errors, or an error for the whole file.
#![no_main]

use blastdesk_core::import::{ImportOptions, read};
use libfuzzer_sys::fuzz_target;

const EXTENSIONS: &[&str] = &["csv", "tsv", "xlsx", "xlsm", "xlsb", "xls", "ods"];

fuzz_target!(|data: &[u8]| {
    let Some((&kind, bytes)) = data.split_first() else { return };
    let extension = EXTENSIONS[usize::from(kind) % EXTENSIONS.len()];
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join(format!("fuzz.{extension}"));
    if std::fs::write(&path, bytes).is_ok() {
        if let Ok(file) = read(&path, &ImportOptions::default()) {
            for row in &file.rows {
                assert!(row.phone.as_str().starts_with('+'));
            }
        }
    }
});
