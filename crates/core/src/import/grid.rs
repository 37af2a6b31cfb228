//! Reading a file into a grid of text cells: calamine for Excel and
//! OpenDocument workbooks, the csv crate for delimited text.

use std::io::Read;
use std::path::Path;

use calamine::{Data, DataRef, Reader, SheetVisible, Sheets, Xlsx};

use super::ImportError;

/// One sheet of a file, every cell as the text a person sees.
#[derive(Debug, Default)]
pub struct Grid {
    /// The sheet that was read ("" for CSV).
    pub sheet: String,
    /// Every visible sheet of the file, in order.
    pub sheets: Vec<String>,
    /// The spreadsheet row number (1-based) of `rows[0]`.
    pub first_row: u32,
    /// The spreadsheet column index (0-based) of each row's first cell.
    pub first_column: u32,
    pub rows: Vec<Vec<String>>,
}

/// The file formats Blastdesk reads, by extension.
const WORKBOOKS: &[&str] = &["xlsx", "xlsm", "xlsb", "xls", "ods"];
const DELIMITED: &[&str] = &["csv", "tsv", "txt"];

/// Told about rows as they are read, while the rest of the sheet is still
/// being parsed on another thread (for .xlsx and .xlsm); rows come in order,
/// the first being the sheet's row 1.
pub type RowObserver<'a> = dyn FnMut(&[Vec<String>]) + 'a;

pub fn read(
    path: &Path,
    sheet: Option<&str>,
    observer: &mut RowObserver<'_>,
) -> Result<Grid, ImportError> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let metadata = std::fs::metadata(path).map_err(|e| ImportError::io(path, e))?;
    if metadata.is_dir() {
        return Err(ImportError::unreadable(path, "it is a folder, not a file"));
    }
    if metadata.len() == 0 {
        return Err(ImportError::Empty {
            file: super::display_name(path),
        });
    }
    if DELIMITED.contains(&extension.as_str()) {
        return read_delimited(path, &extension, metadata.len());
    }
    if WORKBOOKS.contains(&extension.as_str()) {
        return read_workbook(path, &extension, sheet, observer);
    }
    Err(ImportError::UnsupportedFormat {
        file: super::display_name(path),
        extension,
    })
}

fn read_workbook(
    path: &Path,
    extension: &str,
    wanted: Option<&str>,
    observer: &mut RowObserver<'_>,
) -> Result<Grid, ImportError> {
    check_container(path, extension)?;
    let mut workbook = calamine::open_workbook_auto(path).map_err(|e| workbook_error(path, e))?;
    let visible: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    let candidates: Vec<String> = match wanted {
        Some(name) => {
            let all = workbook.sheet_names();
            let found = all
                .iter()
                .find(|s| s.as_str() == name)
                .or_else(|| all.iter().find(|s| s.eq_ignore_ascii_case(name.trim())));
            match found {
                Some(found) => vec![found.clone()],
                None => {
                    return Err(ImportError::SheetNotFound {
                        file: super::display_name(path),
                        sheet: name.to_owned(),
                        available: visible,
                    });
                }
            }
        }
        None => visible.clone(),
    };
    for name in candidates {
        let (rows, first_row, first_column) = match &mut workbook {
            Sheets::Xlsx(xlsx) => {
                let rows = stream_rows(xlsx, &name, observer).map_err(|e| e.into_import(path))?;
                (rows, 1, 0)
            }
            Sheets::Xlsb(xlsb) => {
                let rows = xlsb_rows(xlsb, &name, observer).map_err(|e| e.into_import(path))?;
                (rows, 1, 0)
            }
            other => {
                let range = other
                    .worksheet_range(&name)
                    .map_err(|e| workbook_error(path, e))?;
                let rows: Vec<Vec<String>> = range
                    .rows()
                    .map(|row| row.iter().map(cell_text).collect())
                    .collect();
                let (first_row, first_column) = range.start().unwrap_or((0, 0));
                (rows, first_row + 1, first_column)
            }
        };
        let has_content = rows.iter().any(|row| row.iter().any(|c| !c.is_empty()));
        if has_content || wanted.is_some() {
            return Ok(Grid {
                sheet: name,
                sheets: visible,
                first_row,
                first_column,
                rows,
            });
        }
    }
    Err(ImportError::Empty {
        file: super::display_name(path),
    })
}

/// Tells an encrypted (password-protected) or non-zip file apart before
/// calamine reports it as a generic archive error.
fn check_container(path: &Path, extension: &str) -> Result<(), ImportError> {
    const ZIP: &[u8] = b"PK\x03\x04";
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    let mut magic = [0u8; 8];
    let mut file = std::fs::File::open(path).map_err(|e| ImportError::io(path, e))?;
    let n = file
        .read(&mut magic)
        .map_err(|e| ImportError::io(path, e))?;
    let magic = &magic[..n];
    let zipped = matches!(extension, "xlsx" | "xlsm" | "xlsb" | "ods");
    if zipped && magic.starts_with(CFB) {
        // An Office file in a compound container where a zip belongs is an
        // encrypted workbook (or an old .xls renamed): calamine tells which.
        return Ok(());
    }
    if zipped && !magic.starts_with(ZIP) {
        return Err(ImportError::unreadable(
            path,
            format!("it is not a real .{extension} file (its contents are of another kind)"),
        ));
    }
    if extension == "xls" && !magic.starts_with(CFB) {
        return Err(ImportError::unreadable(
            path,
            "it is not a real .xls file (its contents are of another kind)",
        ));
    }
    Ok(())
}

fn workbook_error(path: &Path, error: calamine::Error) -> ImportError {
    use calamine::{Error, XlsError, XlsxError};
    match error {
        Error::Xlsx(XlsxError::Password) | Error::Xls(XlsError::Password) => {
            ImportError::Encrypted {
                file: super::display_name(path),
            }
        }
        Error::Io(e) => ImportError::io(path, e),
        Error::Xlsx(XlsxError::Zip(_))
        | Error::Xlsb(calamine::XlsbError::Zip(_))
        | Error::Ods(calamine::OdsError::Zip(_)) => ImportError::unreadable(
            path,
            "the file is damaged or incomplete (its archive cannot be opened)",
        ),
        other => ImportError::unreadable(
            path,
            format!("the file is damaged or not a spreadsheet ({other})"),
        ),
    }
}

/// Excel's own limits: no sheet has a cell beyond them, so a file that
/// claims one is refused instead of rows being allocated up to it.
pub const MAX_ROWS: u32 = 1_048_576;
pub const MAX_COLUMNS: u32 = 16_384;
/// The most non-empty cells, and bytes of cell text, read from one sheet:
/// a full-size customer list is far below both; a file built to exhaust
/// memory is refused on reaching them.
pub const MAX_CELLS: u64 = 40_000_000;
/// The most cells, empty ones included, that the rows of one sheet span (a
/// filled cell at column XFD makes its row 16,384 wide).
pub const MAX_SLOTS: u64 = 40_000_000;
pub const MAX_TEXT_BYTES: u64 = 1024 * 1024 * 1024;

/// Why a sheet's cells were not all read.
#[derive(Debug)]
enum CellsError<E> {
    Reader(E),
    TooLarge(String),
}

impl<E> From<E> for CellsError<E> {
    fn from(error: E) -> CellsError<E> {
        CellsError::Reader(error)
    }
}

impl<E: Into<calamine::Error>> CellsError<E> {
    fn into_import(self, path: &Path) -> ImportError {
        match self {
            CellsError::Reader(error) => workbook_error(path, error.into()),
            CellsError::TooLarge(reason) => ImportError::TooLarge {
                file: super::display_name(path),
                reason,
            },
        }
    }
}

/// Cells, in the order a cells reader gives them (row by row), put into
/// rows: empty rows in between included, Excel's bounds and the caps held
/// before anything is allocated for a cell.
struct RowBuilder {
    batch: Vec<Vec<String>>,
    current: Vec<String>,
    current_row: u32,
    cells: u64,
    bytes: u64,
    slots: u64,
}

impl RowBuilder {
    const BATCH: usize = 1024;

    fn new() -> RowBuilder {
        RowBuilder {
            batch: Vec::with_capacity(Self::BATCH),
            current: Vec::new(),
            current_row: 0,
            cells: 0,
            bytes: 0,
            slots: 0,
        }
    }

    /// Adds a cell (0-based position); returns the batches of rows it
    /// completed (none, mostly).
    fn push(
        &mut self,
        row: u32,
        column: u32,
        text: String,
    ) -> Result<Vec<Vec<Vec<String>>>, String> {
        if row >= MAX_ROWS {
            return Err(format!(
                "it has a cell in row {} (a sheet has at most {MAX_ROWS} rows)",
                u64::from(row) + 1
            ));
        }
        if column >= MAX_COLUMNS {
            return Err(format!(
                "it has a cell in column {} (a sheet has at most {MAX_COLUMNS} columns, up to XFD)",
                u64::from(column) + 1
            ));
        }
        let mut full = Vec::new();
        // Finish the rows before this cell's, empty ones included.
        while self.current_row < row {
            // Rows are mostly as wide as the one before: no regrowth.
            let width = self.current.len();
            self.batch.push(std::mem::replace(
                &mut self.current,
                Vec::with_capacity(width),
            ));
            self.current_row += 1;
            if self.batch.len() >= Self::BATCH {
                full.push(std::mem::replace(
                    &mut self.batch,
                    Vec::with_capacity(Self::BATCH),
                ));
            }
        }
        if !text.is_empty() {
            self.cells += 1;
            self.bytes += text.len() as u64;
            if self.cells > MAX_CELLS {
                return Err(format!(
                    "it has more than {MAX_CELLS} filled cells in one sheet"
                ));
            }
            if self.bytes > MAX_TEXT_BYTES {
                return Err(format!(
                    "its cells hold more than {} MB of text in one sheet",
                    MAX_TEXT_BYTES / (1024 * 1024)
                ));
            }
            let column = column as usize;
            if self.current.len() <= column {
                self.slots += (column + 1 - self.current.len()) as u64;
                if self.slots > MAX_SLOTS {
                    return Err(format!(
                        "its rows span more than {MAX_SLOTS} cells in one sheet (filled cells far to the right in many rows)"
                    ));
                }
                self.current.resize(column + 1, String::new());
            }
            self.current[column] = text;
        }
        Ok(full)
    }

    fn finish(mut self) -> Vec<Vec<String>> {
        self.batch.push(self.current);
        self.batch
    }
}

/// Reads an .xlsx sheet's cells on a second thread and hands the rows, in
/// batches, to `observer` on this one as they arrive: parsing the sheet's XML
/// and what the caller does with the rows (checking phone numbers) overlap.
fn stream_rows<RS: std::io::Read + std::io::Seek + Send>(
    xlsx: &mut Xlsx<RS>,
    name: &str,
    observer: &mut RowObserver<'_>,
) -> Result<Vec<Vec<String>>, CellsError<calamine::XlsxError>> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Vec<String>>>(2);
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || -> Result<(), CellsError<calamine::XlsxError>> {
            let mut cells = xlsx.worksheet_cells_reader(name)?;
            let mut rows = RowBuilder::new();
            while let Some(cell) = cells.next_cell()? {
                let (row, column) = cell.get_position();
                let text = data_ref_text(cell.get_value());
                for full in rows.push(row, column, text).map_err(CellsError::TooLarge)? {
                    if sender.send(full).is_err() {
                        return Ok(()); // the reader stopped listening
                    }
                }
            }
            let _ = sender.send(rows.finish());
            Ok(())
        });
        let mut rows = Vec::new();
        for batch in receiver {
            observer(&batch);
            rows.extend(batch);
        }
        // A panic there is a bug: let it surface as one.
        producer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        Ok(rows)
    })
}

/// Reads an .xlsb sheet's cells, with the same bounds as .xlsx.
fn xlsb_rows<RS: std::io::Read + std::io::Seek>(
    xlsb: &mut calamine::Xlsb<RS>,
    name: &str,
    observer: &mut RowObserver<'_>,
) -> Result<Vec<Vec<String>>, CellsError<calamine::XlsbError>> {
    let mut cells = xlsb.worksheet_cells_reader(name)?;
    let mut rows = Vec::new();
    let mut builder = RowBuilder::new();
    while let Some(cell) = cells.next_cell()? {
        let (row, column) = cell.get_position();
        let text = data_ref_text(cell.get_value());
        for full in builder
            .push(row, column, text)
            .map_err(CellsError::TooLarge)?
        {
            observer(&full);
            rows.extend(full);
        }
    }
    let last = builder.finish();
    observer(&last);
    rows.extend(last);
    Ok(rows)
}

/// A streamed cell as text, as [`cell_text`] gives it.
fn data_ref_text(cell: &DataRef<'_>) -> String {
    match cell {
        DataRef::SharedString(s) => s.trim().to_owned(),
        DataRef::String(s) => s.trim().to_owned(),
        DataRef::Empty => String::new(),
        other => cell_text(&Data::from(other.clone())),
    }
}

/// A cell as text: whole numbers without ".0" (a phone number typed as a
/// number stays its digits), dates as YYYY-MM-DD.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => crate::phone::integral_digits(*f).unwrap_or_else(|| f.to_string()),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Data::DateTime(dt) => {
            let (y, m, d, hh, mm, ss, _) = dt.to_ymd_hms_milli();
            if dt.is_datetime() && (hh, mm, ss) != (0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}")
            } else if dt.is_datetime() {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                dt.as_f64().to_string()
            }
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(_) => String::new(),
    }
}

fn read_delimited(path: &Path, extension: &str, size: u64) -> Result<Grid, ImportError> {
    let too_large = |reason: String| ImportError::TooLarge {
        file: super::display_name(path),
        reason,
    };
    if size > MAX_TEXT_BYTES {
        return Err(too_large(format!(
            "it is {} MB; Blastdesk reads lists of up to {} MB",
            size / (1024 * 1024),
            MAX_TEXT_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    let text = decode_text(&bytes);
    if text.trim().is_empty() {
        return Err(ImportError::Empty {
            file: super::display_name(path),
        });
    }
    let delimiter = if extension == "tsv" {
        b'\t'
    } else {
        sniff_delimiter(&text)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text.as_bytes());
    let mut cells = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {
                cells += record.len() as u64;
                if cells > MAX_CELLS {
                    return Err(too_large(format!("it has more than {MAX_CELLS} cells")));
                }
                // Keep row numbers equal to line numbers: the reader skips blank lines.
                let line =
                    lines.line_of_record_at(record.position().map_or(0, |p| p.byte()) as usize);
                while rows.len() + 1 < line {
                    rows.push(Vec::new());
                }
                rows.push(record.iter().map(|f| f.trim().to_owned()).collect());
            }
            Ok(false) => break,
            Err(e) => {
                return Err(ImportError::unreadable(
                    path,
                    format!("the text is not valid CSV ({e})"),
                ));
            }
        }
    }
    Ok(Grid {
        sheet: String::new(),
        sheets: Vec::new(),
        first_row: 1,
        first_column: 0,
        rows,
    })
}

/// Line numbers of records, by byte offset. The csv reader reports a record
/// that follows blank lines at the first blank line, so the line breaks at
/// the offset are skipped first. Offsets must not decrease between calls.
struct LineCounter<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a [u8]) -> LineCounter<'a> {
        LineCounter {
            text,
            at: 0,
            line: 1,
        }
    }

    fn line_of_record_at(&mut self, offset: usize) -> usize {
        let mut start = offset.min(self.text.len());
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        while self.at < start {
            match self.text[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.text.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

/// Text from bytes: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
/// "Unicode text"), else Windows-1252 as Excel writes "CSV" on Windows.
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let utf16 = |rest: &[u8], little: bool| {
        let units = rest.chunks_exact(2).map(|pair| {
            let pair = [pair[0], pair[1]];
            if little {
                u16::from_le_bytes(pair)
            } else {
                u16::from_be_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .map(|c| c.unwrap_or('\u{fffd}'))
            .collect()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The delimiter that splits the first lines most consistently: `,`, `;`
/// (Excel in Indonesian and European locales), tab or `|`.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize);
    for candidate in [b',', b';', b'\t', b'|'] {
        let counts: Vec<usize> = lines
            .iter()
            .map(|line| count_outside_quotes(line, candidate))
            .collect();
        let lines_with = counts.iter().filter(|&&c| c > 0).count();
        // Prefer the delimiter present on the most lines, then the most often.
        let score = lines_with * 1000 + counts.iter().sum::<usize>().min(999);
        if score > best.1 {
            best = (candidate, score);
        }
    }
    best.0
}

fn count_outside_quotes(line: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for byte in line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if byte == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_delimiter() {
        let cases = [
            ("name,phone\nAni,0812\n", b','),
            ("nama;no hp\nAni;0812\nBudi;0813\n", b';'),
            ("name\tphone\nAni\t0812\n", b'\t'),
            ("name|phone\nAni|0812\n", b'|'),
            ("\"Lastname, First\";phone\n\"Doe, Ani\";0812\n", b';'),
            ("phone\n0812\n", b','),
        ];
        for (text, expected) in cases {
            assert_eq!(sniff_delimiter(text) as char, expected as char, "{text:?}");
        }
    }

    #[test]
    fn decodes_bom_utf16_and_windows_1252() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFname"), "name");
        assert_eq!(decode_text(b"\xFF\xFEn\x00a\x00"), "na");
        assert_eq!(decode_text(b"\xFE\xFF\x00n\x00a"), "na");
        assert_eq!(decode_text(b"Jos\xe9 \x80"), "José €");
    }
}
