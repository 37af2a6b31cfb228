//! Importing a customer list from a spreadsheet or CSV file.
//!
//! Reading never fails because of a row: the result holds the usable rows
//! and, for every unusable one, its row number, raw value and the reason.
//! [`ImportError`] is only for a file that cannot be read at all, or whose
//! phone column cannot be found (then the person maps it, see [`Mapping`]).

mod grid;
mod header;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::ErrorCode;
use crate::audience::{Fields, Source};
use crate::phone::{self, Country, Phone};

pub use header::{FoundBy, column_letter};

/// How to read a file.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Country of numbers written without an international prefix.
    pub country: Country,
    /// The sheet to read; by default the first visible sheet with content.
    pub sheet: Option<String>,
    /// Where the phone numbers are, when the automatic detection is unsure.
    pub mapping: Option<Mapping>,
}

/// The person's answer to "which column holds the phone numbers?".
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mapping {
    /// The column: its header text, or its letter ("C").
    pub phone_column: String,
    /// The header row's number (1-based); by default found automatically,
    /// else the first non-empty row.
    pub header_row: Option<u32>,
}

/// A column of the sheet, as shown when asking for a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    /// Its letter, as the spreadsheet shows it ("A", "B", ...).
    pub letter: String,
    /// Its header text ("" when the sheet has none there).
    pub header: String,
    /// Up to three example values.
    pub samples: Vec<String>,
}

/// One file, read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedFile {
    /// The file's name, as shown to people and in sources.
    pub file: String,
    pub path: PathBuf,
    /// The sheet read ("" for CSV) and the other visible sheets.
    pub sheet: String,
    pub sheets: Vec<String>,
    /// The header row's number, if the sheet has one.
    pub header_row: Option<u32>,
    pub phone_column: Column,
    pub found_by: FoundBy,
    /// The names of the fields each row carries (every column but the phone's).
    pub fields: Vec<Arc<str>>,
    pub rows: Vec<ImportedRow>,
    pub invalid: Vec<InvalidRow>,
}

impl ImportedFile {
    /// The file's description without its rows.
    pub fn clone_description(&self) -> ImportedFile {
        ImportedFile {
            file: self.file.clone(),
            path: self.path.clone(),
            sheet: self.sheet.clone(),
            sheets: self.sheets.clone(),
            header_row: self.header_row,
            phone_column: self.phone_column.clone(),
            found_by: self.found_by,
            fields: self.fields.clone(),
            rows: Vec::new(),
            invalid: Vec::new(),
        }
    }
}

/// A usable row.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedRow {
    pub row: u32,
    pub phone: Phone,
    pub fields: Fields,
}

/// An unusable row, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidRow {
    pub source: Source,
    pub value: String,
    pub reason: String,
    pub code: &'static str,
}

/// Why a file could not be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "reason",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ImportError {
    #[error("{file} cannot be read: {cause}")]
    Unreadable { file: String, cause: String },
    #[error("{file} is empty: it has no rows")]
    Empty { file: String },
    #[error("{file} is too large to be a customer list: {reason}")]
    TooLarge {
        file: String,
        #[serde(rename = "limit")]
        reason: String,
    },
    #[error(
        "{file} is protected with a password; open it in Excel, remove the password (File > Info > Protect Workbook), save, and import it again"
    )]
    Encrypted { file: String },
    #[error(
        "{file} is not a spreadsheet Blastdesk reads (.{extension}); use .xlsx, .xlsm, .xlsb, .xls, .ods or .csv"
    )]
    UnsupportedFormat { file: String, extension: String },
    #[error("{file} has no sheet named {sheet:?}; its sheets are: {}", .available.join(", "))]
    SheetNotFound {
        file: String,
        sheet: String,
        available: Vec<String>,
    },
    #[error("{file}: no column looks like phone numbers; choose the phone column")]
    PhoneColumnUnknown {
        file: String,
        sheet: String,
        columns: Vec<Column>,
    },
    #[error("{file}: there is no column {column:?}; the columns are: {}", .columns.iter().map(|c| format!("{} ({})", c.letter, c.header)).collect::<Vec<_>>().join(", "))]
    NoSuchColumn {
        file: String,
        column: String,
        columns: Vec<Column>,
    },
}

impl ImportError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ImportError::Unreadable { .. } => ErrorCode::FileUnreadable,
            ImportError::Empty { .. } => ErrorCode::FileEmpty,
            ImportError::TooLarge { .. } => ErrorCode::FileTooLarge,
            ImportError::Encrypted { .. } => ErrorCode::FileEncrypted,
            ImportError::UnsupportedFormat { .. } => ErrorCode::FileUnsupported,
            ImportError::SheetNotFound { .. } => ErrorCode::SheetNotFound,
            ImportError::PhoneColumnUnknown { .. } | ImportError::NoSuchColumn { .. } => {
                ErrorCode::PhoneColumnUnknown
            }
        }
    }

    fn unreadable(path: &Path, cause: impl Into<String>) -> ImportError {
        ImportError::Unreadable {
            file: display_name(path),
            cause: cause.into(),
        }
    }

    fn io(path: &Path, error: std::io::Error) -> ImportError {
        let cause = match error.kind() {
            std::io::ErrorKind::NotFound => "the file does not exist".to_owned(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => error.to_string(),
        };
        ImportError::unreadable(path, cause)
    }
}

/// The name a file is shown by.
pub fn display_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Reads one file.
pub fn read(path: &Path, options: &ImportOptions) -> Result<ImportedFile, ImportError> {
    // The workbook readers index into what the file says; a damaged file can
    // make one panic. That is a file Blastdesk cannot read, not a crash.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_unguarded(path, options)
    }))
    .unwrap_or_else(|_| {
        tracing::warn!(file = %display_name(path), "a spreadsheet reader panicked on this file");
        Err(ImportError::unreadable(
            path,
            "the file is damaged (its contents contradict themselves)",
        ))
    })
}

fn read_unguarded(path: &Path, options: &ImportOptions) -> Result<ImportedFile, ImportError> {
    let mut early = EarlyNumbers::new(options);
    let grid = grid::read(path, options.sheet.as_deref(), &mut |rows| {
        early.observe(rows)
    })?;
    let file = display_name(path);
    let layout = header::locate(&grid, &file, options)?;
    let checked = early.for_column(layout.phone_index);
    Ok(extract(path, file, grid, layout, options.country, checked))
}

/// Checks phone numbers while the rest of the sheet is still being read.
///
/// From the first rows it guesses the phone column the way [`header::locate`]
/// will, and checks each row's number as the row arrives. The guess is only
/// used if the detection on the whole sheet agrees; otherwise the numbers
/// are checked again, so the result never depends on this shortcut.
struct EarlyNumbers<'a> {
    options: &'a ImportOptions,
    /// Rows kept until there are enough to find the phone column.
    first_rows: Vec<Vec<String>>,
    column: Option<usize>,
    gave_up: bool,
    /// One result per row read, in order.
    checked: Vec<Result<Phone, phone::PhoneError>>,
}

impl<'a> EarlyNumbers<'a> {
    /// Enough rows to see the header (30) and a content sample (50).
    const LOOKAHEAD: usize = 96;

    fn new(options: &'a ImportOptions) -> EarlyNumbers<'a> {
        EarlyNumbers {
            options,
            first_rows: Vec::new(),
            column: None,
            gave_up: false,
            checked: Vec::new(),
        }
    }

    fn observe(&mut self, rows: &[Vec<String>]) {
        if self.gave_up {
            return;
        }
        let Some(column) = self.column else {
            self.first_rows.extend(rows.iter().cloned());
            if self.first_rows.len() < Self::LOOKAHEAD {
                return;
            }
            let sample = grid::Grid {
                first_row: 1,
                rows: std::mem::take(&mut self.first_rows),
                ..grid::Grid::default()
            };
            match header::locate(&sample, "", self.options) {
                Ok(layout) => {
                    self.column = Some(layout.phone_index);
                    self.check(&sample.rows, layout.phone_index);
                }
                Err(_) => self.gave_up = true,
            }
            return;
        };
        self.check(rows, column);
    }

    fn check(&mut self, rows: &[Vec<String>], column: usize) {
        self.checked.extend(rows.iter().map(|cells| {
            phone::normalize(
                cells.get(column).map(String::as_str).unwrap_or(""),
                self.options.country,
            )
        }));
    }

    /// The results, if they were checked in `column`.
    fn for_column(self, column: usize) -> Option<Vec<Result<Phone, phone::PhoneError>>> {
        (self.column == Some(column) && !self.gave_up).then_some(self.checked)
    }
}

fn extract(
    path: &Path,
    file: String,
    grid: grid::Grid,
    layout: header::Layout,
    country: Country,
    mut checked: Option<Vec<Result<Phone, phone::PhoneError>>>,
) -> ImportedFile {
    let header::Layout {
        header_index,
        phone_index,
        found_by,
    } = layout;
    let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
    let headers: Vec<String> = (0..width)
        .map(|c| {
            header_index
                .and_then(|h| grid.rows[h].get(c))
                .cloned()
                .unwrap_or_default()
        })
        .collect();
    // Which columns hold anything: one pass over the cells there are
    // (never columns times rows: a sheet may be 16,384 wide).
    let mut used = vec![false; width];
    for row in &grid.rows {
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                used[c] = true;
            }
        }
    }
    let field_columns: Vec<usize> = (0..width)
        .filter(|&c| c != phone_index)
        .filter(|&c| !headers[c].is_empty() || used[c])
        .collect();
    let names = header::field_names(&headers, &field_columns, grid.first_column);
    let phone_column = header::column(&grid, header_index, phone_index);

    let start = header_index.map_or(0, |h| h + 1);
    let mut rows = Vec::with_capacity(grid.rows.len().saturating_sub(start));
    let mut invalid = Vec::new();
    let sheet = grid.sheet.clone();
    let (source_file, source_sheet): (Arc<str>, Arc<str>) =
        (Arc::from(file.as_str()), Arc::from(sheet.as_str()));
    // Numbers are checked on one thread (or already were, while the sheet was
    // read): phonenumber takes one global lock for every regex it uses, so
    // splitting this work over threads made it slower.
    for (index, mut cells) in grid.rows.into_iter().enumerate().skip(start) {
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let row = grid.first_row + index as u32;
        let raw = cells.get(phone_index).map(String::as_str).unwrap_or("");
        let number = match checked.as_mut().and_then(|c| c.get_mut(index)) {
            Some(early) => std::mem::replace(early, Err(phone::PhoneError::Empty)),
            None => phone::normalize(raw, country),
        };
        match number {
            Ok(phone) => {
                // The row is ours: move its values instead of copying them.
                let values = field_columns
                    .iter()
                    .map(|&c| cells.get_mut(c).map(std::mem::take).unwrap_or_default())
                    .collect::<Vec<_>>();
                rows.push(ImportedRow {
                    row,
                    phone,
                    fields: Fields::new(names.iter().cloned().zip(values).collect()),
                });
            }
            Err(reason) => invalid.push(InvalidRow {
                source: Source::File {
                    file: source_file.clone(),
                    sheet: source_sheet.clone(),
                    row,
                },
                value: raw.to_owned(),
                reason: reason.to_string(),
                code: reason.code(),
            }),
        }
    }
    ImportedFile {
        file,
        path: path.to_path_buf(),
        sheet,
        sheets: grid.sheets,
        header_row: header_index.map(|h| grid.first_row + h as u32),
        phone_column,
        found_by,
        fields: names,
        rows,
        invalid,
    }
}
