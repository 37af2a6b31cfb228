//! A blast's report: one row per recipient with the outcome, its times in
//! the account's time zone and the reason for any failure, exportable to
//! xlsx and CSV.

use std::path::{Path, PathBuf};

use rusqlite::params;
use rust_xlsxwriter::{Format, Workbook};
use serde::Serialize;

use crate::audience::Fields;
use crate::clock::Millis;
use crate::reason::DeliveryCode;
use crate::store::{self, Store};
use crate::zone;

/// One recipient's line in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    pub delivery_id: i64,
    pub phone: String,
    /// The customer's name from the list's name column ("Nama", "Name",
    /// "Nama pelanggan", ...), when it has one and it is filled in.
    pub name: Option<String>,
    pub fields: Fields,
    /// pending, sent, delivered, read, failed, skipped or unknown.
    pub outcome: &'static str,
    pub error_code: Option<DeliveryCode>,
    pub error_detail: Option<String>,
    pub attempts: u32,
    pub sent_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
    pub read_at: Option<Millis>,
    pub text: Option<String>,
    /// Where the recipient came from: "file.xlsx, Sheet1 row 7" or "audience Regulars".
    pub source: String,
}

/// A blast's report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub blast_id: i64,
    pub blast_name: String,
    pub time_zone: String,
    pub rows: Vec<ReportRow>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(
        "the report has {rows} rows and {columns} columns, more than an Excel sheet holds; export it as .csv instead"
    )]
    TooLargeForXlsx {
        path: PathBuf,
        rows: usize,
        columns: usize,
    },
    #[error("cannot write the report to {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a file name Blastdesk can write a report to: use .xlsx or .csv", .path.display())]
    UnknownFormat { path: PathBuf },
}

impl ReportError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            ReportError::Store(e) => e.code(),
            ReportError::Write { .. } => crate::ErrorCode::Io,
            ReportError::UnknownFormat { .. } | ReportError::TooLargeForXlsx { .. } => {
                crate::ErrorCode::InvalidInput
            }
        }
    }
}

fn outcome(state: &str, receipt: Option<&str>) -> &'static str {
    match (state, receipt) {
        ("sent", Some("read")) => "read",
        ("sent", Some("delivered")) => "delivered",
        ("sent", _) => "sent",
        ("failed", _) => "failed",
        ("skipped", _) => "skipped",
        ("unknown", _) => "unknown",
        _ => "pending",
    }
}

/// Column names that hold a customer's name, compared lowercased and trimmed,
/// best first.
const NAME_COLUMNS: &[&str] = &[
    "nama",
    "name",
    "nama pelanggan",
    "customer name",
    "nama lengkap",
    "full name",
    "nama customer",
    "nama kontak",
    "contact name",
    "first name",
    "nama depan",
    "pelanggan",
    "customer",
];

/// The customer's name: the value of the list's name column (by the names
/// above, else a column with "nama" or "name" as a word of its name),
/// trimmed; nothing when there is no such column or it is empty.
pub fn customer_name(fields: &Fields) -> Option<String> {
    let normal = |name: &str| name.trim().to_lowercase();
    let named = NAME_COLUMNS.iter().find_map(|wanted| {
        fields
            .iter()
            .find(|(name, _)| normal(name) == *wanted)
            .map(|(_, value)| value)
    });
    let named = named.or_else(|| {
        fields
            .iter()
            .find(|(name, _)| {
                normal(name)
                    .split(|c: char| !c.is_alphanumeric())
                    .any(|word| word == "nama" || word == "name")
            })
            .map(|(_, value)| value)
    })?;
    let value = named.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Messages of a blast that went out (or failed for good) in one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MinuteCount {
    /// The minute's start, Unix milliseconds (UTC).
    pub minute_ms: Millis,
    pub sent: u64,
    pub failed: u64,
}

/// A blast's sends over time, minute by minute (only minutes with any),
/// oldest first: what the window's chart draws.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub blast_id: i64,
    pub minutes: Vec<MinuteCount>,
}

impl Timeline {
    /// Sent messages by the minute they were sent, failed ones by the
    /// minute they failed.
    pub fn load(store: &Store, blast_id: i64) -> Result<Timeline, ReportError> {
        let minutes = store.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT at / 60000 * 60000 AS minute, sum(state = 'sent'), sum(state = 'failed')
                 FROM (SELECT state, CASE state WHEN 'sent' THEN sent_at ELSE updated_at END AS at
                       FROM deliveries
                       WHERE blast_id = ?1
                         AND ((state = 'sent' AND sent_at IS NOT NULL) OR state = 'failed'))
                 GROUP BY minute ORDER BY minute",
            )?;
            let count = |n: i64| u64::try_from(n).unwrap_or(0);
            let rows = statement.query_map(params![blast_id], |row| {
                Ok(MinuteCount {
                    minute_ms: row.get(0)?,
                    sent: count(row.get(1)?),
                    failed: count(row.get(2)?),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        Ok(Timeline { blast_id, minutes })
    }
}

fn source_text(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    if let Some(file) = value["file"].as_str() {
        let name = Path::new(file)
            .file_name()
            .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned());
        format!(
            "{name}, {} row {}",
            value["sheet"].as_str().unwrap_or(""),
            value["row"]
        )
    } else if let Some(audience) = value["audience"].as_str() {
        format!("audience {audience}")
    } else {
        String::new()
    }
}

impl Report {
    pub fn load(store: &Store, blast_id: i64) -> Result<Report, ReportError> {
        let blast = store.blast_summary(blast_id)?;
        let rows = store.read(|conn| {
            let mut statement = conn.prepare(
                "SELECT id, phone, fields, state, receipt, error_code, error_detail, attempts,
                        sent_at, delivered_at, read_at, rendered_text, source
                 FROM deliveries WHERE blast_id = ?1 ORDER BY id",
            )?;
            let rows = statement.query_map(params![blast_id], |row| {
                let fields: String = row.get(2)?;
                let state: String = row.get(3)?;
                let receipt: Option<String> = row.get(4)?;
                let source: String = row.get(12)?;
                let fields: Fields = serde_json::from_str(&fields).unwrap_or_default();
                Ok(ReportRow {
                    delivery_id: row.get(0)?,
                    phone: row.get(1)?,
                    name: customer_name(&fields),
                    fields,
                    outcome: outcome(&state, receipt.as_deref()),
                    error_code: row.get(5)?,
                    error_detail: row.get(6)?,
                    attempts: row.get(7)?,
                    sent_at: row.get(8)?,
                    delivered_at: row.get(9)?,
                    read_at: row.get(10)?,
                    text: row.get(11)?,
                    source: source_text(&source),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })?;
        Ok(Report {
            blast_id,
            blast_name: blast.name,
            time_zone: blast.time_zone,
            rows,
        })
    }

    /// The field columns, in order of first appearance.
    fn field_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for row in &self.rows {
            for (name, _) in row.fields.iter() {
                if !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    names.push(name.to_owned());
                }
            }
        }
        names
    }

    /// The header and the cells of every row, as text.
    pub fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let tz = zone::parse(&self.time_zone).unwrap_or(chrono_tz::Tz::UTC);
        let time = |ms: Option<Millis>| {
            ms.map(|ms| zone::local(tz, ms).format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        let fields = self.field_names();
        let mut header = vec!["Phone".to_owned()];
        header.extend(fields.iter().cloned());
        header.extend(
            [
                "Outcome",
                "Reason",
                "Reason code",
                "Attempts",
                &format!("Sent ({})", self.time_zone),
                "Delivered",
                "Read",
                "Message",
                "Source",
            ]
            .map(String::from),
        );
        let rows = self
            .rows
            .iter()
            .map(|row| {
                let mut cells = vec![row.phone.clone()];
                cells.extend(
                    fields
                        .iter()
                        .map(|name| row.fields.get(name).unwrap_or("").to_owned()),
                );
                cells.extend([
                    row.outcome.to_owned(),
                    row.error_detail.clone().unwrap_or_default(),
                    row.error_code
                        .map(|code| code.as_str().to_owned())
                        .unwrap_or_default(),
                    row.attempts.to_string(),
                    time(row.sent_at),
                    time(row.delivered_at),
                    time(row.read_at),
                    row.text.clone().unwrap_or_default(),
                    row.source.clone(),
                ]);
                cells
            })
            .collect();
        (header, rows)
    }

    /// Writes the report as .xlsx or .csv, by the file name's extension.
    pub fn export(&self, path: &Path) -> Result<(), ReportError> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match extension.as_deref() {
            Some("xlsx") => self.write_xlsx(path),
            Some("csv") => self.write_csv(path),
            _ => Err(ReportError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }

    fn write_csv(&self, path: &Path) -> Result<(), ReportError> {
        let failed = |source: std::io::Error| ReportError::Write {
            path: path.to_path_buf(),
            source,
        };
        let (header, rows) = self.table();
        // Written next to the target and renamed, so a failure leaves no half file.
        let partial = partial_path(path);
        let mut writer = csv::Writer::from_path(&partial).map_err(|e| failed(e.into()))?;
        let written = std::iter::once(&header)
            .chain(&rows)
            .try_for_each(|record| {
                let cells: Vec<_> = record.iter().map(|c| csv_safe(c)).collect();
                writer.write_record(cells.iter().map(|c| c.as_bytes()))
            })
            .and_then(|()| writer.flush().map_err(csv::Error::from));
        if let Err(error) = written {
            drop(writer);
            let _ = std::fs::remove_file(&partial);
            return Err(failed(error.into()));
        }
        drop(writer);
        std::fs::rename(&partial, path).map_err(failed)
    }

    fn write_xlsx(&self, path: &Path) -> Result<(), ReportError> {
        let failed = |error: rust_xlsxwriter::XlsxError| ReportError::Write {
            path: path.to_path_buf(),
            source: std::io::Error::other(error),
        };
        let (header, rows) = self.table();
        if rows.len() >= XLSX_MAX_ROWS as usize || header.len() > XLSX_MAX_COLUMNS {
            return Err(ReportError::TooLargeForXlsx {
                path: path.to_path_buf(),
                rows: rows.len(),
                columns: header.len(),
            });
        }
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("Report").map_err(failed)?;
        let bold = Format::new().set_bold();
        for (column, title) in header.iter().enumerate() {
            sheet
                .write_string_with_format(0, column as u16, title, &bold)
                .map_err(failed)?;
        }
        for (r, row) in rows.iter().enumerate() {
            for (column, value) in row.iter().enumerate() {
                // Everything as text: phone numbers keep their "+", times
                // their format; a formula stays text (never evaluated).
                sheet
                    .write_string((r + 1) as u32, column as u16, xlsx_cell(value))
                    .map_err(failed)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(failed)?;
        sheet
            .autofilter(
                0,
                0,
                rows.len() as u32,
                header.len().saturating_sub(1) as u16,
            )
            .map_err(failed)?;
        sheet.autofit();
        let partial = partial_path(path);
        workbook.save(&partial).map_err(failed)?;
        std::fs::rename(&partial, path).map_err(|source| ReportError::Write {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// Excel's limits: rows (the header included), columns, characters in a cell.
const XLSX_MAX_ROWS: u32 = 1_048_576;
const XLSX_MAX_COLUMNS: usize = 16_384;
const XLSX_MAX_CHARS: usize = 32_767;

/// A cell as an .xlsx holds it: text longer than Excel's 32,767 characters
/// is cut there, ending in "…" (the CSV export keeps it whole).
fn xlsx_cell(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(XLSX_MAX_CHARS) {
        None => value.into(),
        Some(_) => {
            let kept: String = value.chars().take(XLSX_MAX_CHARS - 1).collect();
            format!("{kept}…").into()
        }
    }
}

/// A cell as a CSV holds it, safe to open in a spreadsheet: text that
/// starts like a formula (`=`, `+`, `-`, `@`, a tab or a carriage return)
/// gets a leading `'` so it is never evaluated (a customer's name can be
/// `=HYPERLINK(...)`). A plain number, such as `+6281234567890`, is left
/// as it is: it is no formula.
pub fn csv_safe(value: &str) -> std::borrow::Cow<'_, str> {
    let risky = value.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if !risky || plain_number(value) {
        return value.into();
    }
    format!("'{value}").into()
}

/// A sign, then digits with spaces or dots between them: nothing a
/// spreadsheet could compute (`+62-812` would be a subtraction).
fn plain_number(value: &str) -> bool {
    let rest = value.strip_prefix(['+', '-']).unwrap_or(value);
    rest.chars().any(|c| c.is_ascii_digit())
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.'))
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_that_look_like_formulas_are_kept_as_text() {
        let cases = [
            ("Ani", "Ani"),
            (
                "=HYPERLINK(\"http://x\",\"klik\")",
                "'=HYPERLINK(\"http://x\",\"klik\")",
            ),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("-2+3", "'-2+3"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("\t=1", "'\t=1"),
            ("+6281234567890", "+6281234567890"),
            ("+62 812 3456 7890", "+62 812 3456 7890"),
            ("+62-812-3456", "'+62-812-3456"),
            ("-5", "-5"),
            ("-", "'-"),
            ("", ""),
        ];
        for (cell, expected) in cases {
            assert_eq!(csv_safe(cell), expected, "{cell:?}");
        }
    }

    #[test]
    fn the_customer_name_comes_from_the_lists_name_column() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (&[("Nama", "Dewi")], Some("Dewi")),
            (&[("Kota", "Bandung"), ("name", " Budi ")], Some("Budi")),
            (&[("NAMA PELANGGAN", "Sari")], Some("Sari")),
            (&[("Customer name", "Ani")], Some("Ani")),
            // The best-known name wins over one found by a word of it.
            (&[("Nama toko", "Toko Ani"), ("Nama", "Ani")], Some("Ani")),
            (&[("Nama toko", "Toko Ani")], Some("Toko Ani")),
            (&[("first_name", "Eko")], Some("Eko")),
            // "Username" and "Namanya" are no name columns.
            (&[("Username", "eko99"), ("Namanya", "x")], None),
            (&[("Nama", "   ")], None),
            (&[("Kota", "Medan")], None),
            (&[], None),
        ];
        for (columns, expected) in cases {
            let fields = Fields::new(
                columns
                    .iter()
                    .map(|(name, value)| (std::sync::Arc::from(*name), (*value).to_owned()))
                    .collect(),
            );
            assert_eq!(customer_name(&fields).as_deref(), *expected, "{columns:?}");
        }
    }

    #[test]
    fn xlsx_cells_are_cut_at_excels_limit() {
        let long = "é".repeat(40_000);
        let cut = xlsx_cell(&long);
        assert_eq!(cut.chars().count(), XLSX_MAX_CHARS);
        assert!(cut.ends_with('…'));
        let fits = "a".repeat(XLSX_MAX_CHARS);
        assert_eq!(xlsx_cell(&fits), fits);
    }
}
