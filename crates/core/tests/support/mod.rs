//! Fixtures, generated: real files of every format, built by code.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A cell of a fixture sheet.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Text(&'a str),
    Number(f64),
    Empty,
}

use Cell::{Empty, Number, Text};

/// The messy customer list of the issue: a title row above the header, the
/// phone column called "No. WA", numbers in every format, bad rows, a
/// duplicate, an empty row, and HTML in a name.
pub fn messy_rows() -> Vec<Vec<Cell<'static>>> {
    vec![
        vec![Text("Daftar Pelanggan Toko Maju")],
        vec![],
        vec![Text("Nama"), Text("No. WA"), Text("Kota")],
        vec![Text("Ani"), Text("0812-3456-7890"), Text("Jakarta")],
        vec![Text("Budi"), Number(6281298765432.0), Text("Bandung")],
        vec![Text("Citra"), Text("+62 813 1111 2222"), Text("Surabaya")],
        vec![Text("<b>Dewi</b>"), Text("0813-2222-3333"), Text("Medan")],
        vec![Text("Eka"), Text("call me"), Text("Bali")],
        vec![Text("Gita"), Empty, Text("Solo")],
        vec![],
        vec![Text("Ani Updated"), Text("62812 3456 7890"), Text("Bogor")],
        vec![Text("Fajar"), Text("021 5550 1234"), Text("Depok")],
    ]
}

pub fn write_xlsx(path: &Path, sheets: &[(&str, bool, Vec<Vec<Cell<'_>>>)]) -> TestResult<PathBuf> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let first_visible = sheets.iter().position(|(_, hidden, _)| !hidden);
    for (index, (name, hidden, rows)) in sheets.iter().enumerate() {
        let sheet = workbook.add_worksheet();
        sheet.set_name(*name)?;
        if *hidden {
            sheet.set_hidden(true);
        }
        // Excel cannot hide the active sheet: make the first visible one active.
        if Some(index) == first_visible {
            sheet.set_active(true);
        }
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Text(t) => {
                        sheet.write_string(r as u32, c as u16, *t)?;
                    }
                    Number(n) => {
                        sheet.write_number(r as u32, c as u16, *n)?;
                    }
                    Empty => {}
                }
            }
        }
    }
    workbook.save(path)?;
    Ok(path.to_path_buf())
}

pub fn write_csv(
    path: &Path,
    rows: &[Vec<Cell<'_>>],
    delimiter: char,
    line_end: &str,
    bom: bool,
) -> TestResult<PathBuf> {
    let mut text = String::new();
    if bom {
        text.push('\u{feff}');
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|cell| match cell {
                Text(t) if t.contains(delimiter) || t.contains('"') => {
                    format!("\"{}\"", t.replace('"', "\"\""))
                }
                Text(t) => (*t).to_owned(),
                Number(n) => format!("{n}"),
                Empty => String::new(),
            })
            .collect();
        text.push_str(&cells.join(&delimiter.to_string()));
        text.push_str(line_end);
    }
    std::fs::write(path, text)?;
    Ok(path.to_path_buf())
}

/// A minimal OpenDocument spreadsheet.
pub fn write_ods(path: &Path, sheet: &str, rows: &[Vec<Cell<'_>>]) -> TestResult<PathBuf> {
    let mut body = String::new();
    for row in rows {
        body.push_str("<table:table-row>");
        for cell in row {
            match cell {
                Text(t) => body.push_str(&format!(
                    "<table:table-cell office:value-type=\"string\"><text:p>{}</text:p></table:table-cell>",
                    t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
                )),
                Number(n) => body.push_str(&format!(
                    "<table:table-cell office:value-type=\"float\" office:value=\"{n}\"><text:p>{n}</text:p></table:table-cell>"
                )),
                Empty => body.push_str("<table:table-cell/>"),
            }
        }
        body.push_str("</table:table-row>");
    }
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" \
xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" office:version=\"1.2\">\
<office:body><office:spreadsheet><table:table table:name=\"{sheet}\">{body}</table:table>\
</office:spreadsheet></office:body></office:document-content>"
    );
    let manifest = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0\" manifest:version=\"1.2\">\
<manifest:file-entry manifest:full-path=\"/\" manifest:media-type=\"application/vnd.oasis.opendocument.spreadsheet\"/>\
<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>\
</manifest:manifest>";
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("mimetype", stored)?;
    zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet")?;
    zip.start_file("META-INF/manifest.xml", stored)?;
    zip.write_all(manifest.as_bytes())?;
    zip.start_file("content.xml", stored)?;
    zip.write_all(content.as_bytes())?;
    zip.finish()?;
    Ok(path.to_path_buf())
}

/// An Office file in a compound container with an EncryptedPackage stream:
/// what Excel writes for a workbook with a password to open.
pub fn write_encrypted_xlsx(path: &Path) -> TestResult<PathBuf> {
    let mut compound = cfb::create(path)?;
    compound
        .create_stream("/EncryptionInfo")?
        .write_all(&[4, 0, 4, 0, 0x40, 0, 0, 0])?;
    compound
        .create_stream("/EncryptedPackage")?
        .write_all(&[0u8; 64])?;
    compound.flush()?;
    Ok(path.to_path_buf())
}

/// A minimal Excel 97-2003 workbook (BIFF8 in a compound file): one sheet,
/// text cells as LABEL records (Latin-1) and numbers as NUMBER records.
pub fn write_xls(path: &Path, sheet: &str, rows: &[Vec<Cell<'_>>]) -> TestResult<PathBuf> {
    fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&(data.len() as u16).to_le_bytes());
        out.extend_from_slice(data);
    }
    fn bof(kind: u16) -> Vec<u8> {
        let mut data = Vec::new();
        data.extend_from_slice(&0x0600u16.to_le_bytes()); // BIFF8
        data.extend_from_slice(&kind.to_le_bytes());
        data.extend_from_slice(&[0u8; 12]);
        data
    }
    fn latin1(text: &str) -> Vec<u8> {
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect()
    }
    const BOUNDSHEET: u16 = 0x0085;
    let name = latin1(sheet);
    let boundsheet_len = 6 + 2 + name.len();

    // Globals: BOF, BoundSheet8 (pointing at the sheet's BOF), EOF.
    let globals_len = (4 + 16) + (4 + boundsheet_len) + 4;
    let mut stream = Vec::new();
    record(&mut stream, 0x0809, &bof(0x0005));
    let mut boundsheet = (globals_len as u32).to_le_bytes().to_vec();
    boundsheet.extend_from_slice(&[0, 0, name.len() as u8, 0]);
    boundsheet.extend_from_slice(&name);
    record(&mut stream, BOUNDSHEET, &boundsheet);
    record(&mut stream, 0x000A, &[]);
    assert_eq!(stream.len(), globals_len);

    // The sheet: BOF, a record per cell, EOF.
    record(&mut stream, 0x0809, &bof(0x0010));
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let mut data = (r as u16).to_le_bytes().to_vec();
            data.extend_from_slice(&(c as u16).to_le_bytes());
            data.extend_from_slice(&0u16.to_le_bytes()); // XF index
            match cell {
                Text(t) => {
                    let bytes = latin1(t);
                    data.extend_from_slice(&(bytes.len() as u16).to_le_bytes());
                    data.push(0); // 8-bit characters
                    data.extend_from_slice(&bytes);
                    record(&mut stream, 0x0204, &data);
                }
                Number(n) => {
                    data.extend_from_slice(&n.to_le_bytes());
                    record(&mut stream, 0x0203, &data);
                }
                Empty => {}
            }
        }
    }
    record(&mut stream, 0x000A, &[]);

    let mut compound = cfb::create(path)?;
    compound.create_stream("/Workbook")?.write_all(&stream)?;
    compound.flush()?;
    Ok(path.to_path_buf())
}

/// A minimal Excel binary workbook (.xlsb, BIFF12 records in a zip): one
/// sheet, text cells as inline strings (BrtCellSt), numbers as BrtCellReal.
pub fn write_xlsb(path: &Path, sheet: &str, rows: &[Vec<Cell<'_>>]) -> TestResult<PathBuf> {
    write_xlsb_linking(path, sheet, rows, "rId1")
}

/// [`write_xlsb`] with the sheet's relationship id in the workbook chosen, so
/// that a test can make it point nowhere.
pub fn write_xlsb_linking(
    path: &Path,
    sheet: &str,
    rows: &[Vec<Cell<'_>>],
    rel_id: &str,
) -> TestResult<PathBuf> {
    fn record(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
        // Record type and size are 7-bit varints.
        if typ < 0x80 {
            out.push(typ as u8);
        } else {
            out.push((typ & 0x7F) as u8 | 0x80);
            out.push((typ >> 7) as u8);
        }
        let mut size = data.len();
        loop {
            let byte = (size & 0x7F) as u8;
            size >>= 7;
            if size == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
        out.extend_from_slice(data);
    }
    fn wide(text: &str) -> Vec<u8> {
        let units: Vec<u16> = text.encode_utf16().collect();
        let mut out = (units.len() as u32).to_le_bytes().to_vec();
        out.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        out
    }

    let mut workbook = Vec::new();
    let mut bundle = Vec::new();
    bundle.extend_from_slice(&0u32.to_le_bytes()); // visible
    bundle.extend_from_slice(&1u32.to_le_bytes()); // sheet id
    bundle.extend(wide(rel_id));
    bundle.extend(wide(sheet));
    record(&mut workbook, 0x009C, &bundle); // BrtBundleSh
    record(&mut workbook, 0x0090, &[]); // BrtEndBundleShs
    record(&mut workbook, 0x0084, &[]); // BrtEndBook

    let mut data = Vec::new();
    let last_row = rows.len().saturating_sub(1) as u32;
    let last_col = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(1)
        .saturating_sub(1) as u32;
    let dimensions: Vec<u8> = [0u32, last_row, 0, last_col]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    record(&mut data, 0x0094, &dimensions); // BrtWsDim
    record(&mut data, 0x0091, &[]); // BrtBeginSheetData
    for (r, row) in rows.iter().enumerate() {
        record(&mut data, 0x0000, &(r as u32).to_le_bytes()); // BrtRowHdr
        for (c, cell) in row.iter().enumerate() {
            let mut body = (c as u32).to_le_bytes().to_vec();
            body.extend_from_slice(&0u32.to_le_bytes()); // style
            match cell {
                Text(t) => {
                    body.extend(wide(t));
                    record(&mut data, 0x0006, &body); // BrtCellSt
                }
                Number(n) => {
                    body.extend_from_slice(&n.to_le_bytes());
                    record(&mut data, 0x0005, &body); // BrtCellReal
                }
                Empty => {}
            }
        }
    }
    record(&mut data, 0x0092, &[]); // BrtEndSheetData

    let rels = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.bin\"/>\
</Relationships>";
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("xl/_rels/workbook.bin.rels", options)?;
    zip.write_all(rels.as_bytes())?;
    zip.start_file("xl/workbook.bin", options)?;
    zip.write_all(&workbook)?;
    zip.start_file("xl/worksheets/sheet1.bin", options)?;
    zip.write_all(&data)?;
    zip.finish()?;
    Ok(path.to_path_buf())
}

/// An .xlsx whose one sheet holds exactly `cells` (reference, inline text),
/// written by hand: what a hostile or broken program may write, including
/// references no spreadsheet program would (beyond Excel's last row or
/// column).
pub fn write_raw_xlsx(path: &Path, cells: &[(&str, &str)]) -> TestResult<PathBuf> {
    let mut rows: Vec<(String, String)> = Vec::new();
    for (reference, text) in cells {
        let row: String = reference.chars().filter(char::is_ascii_digit).collect();
        let cell = format!("<c r=\"{reference}\" t=\"inlineStr\"><is><t>{text}</t></is></c>");
        match rows.last_mut() {
            Some((last, body)) if *last == row => body.push_str(&cell),
            _ => rows.push((row, cell)),
        }
    }
    let body: String = rows
        .iter()
        .map(|(row, cells)| format!("<row r=\"{row}\">{cells}</row>"))
        .collect();
    let parts = [
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
<Default Extension=\"xml\" ContentType=\"application/xml\"/>\
<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/></Types>".to_owned(),
        ),
        (
            "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>".to_owned(),
        ),
        (
            "xl/workbook.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>\
<sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>".to_owned(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/></Relationships>".to_owned(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{body}</sheetData></worksheet>"),
        ),
    ];
    let file = std::fs::File::create(path)?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in parts {
        zip.start_file(name, options)?;
        zip.write_all(text.as_bytes())?;
    }
    zip.finish()?;
    Ok(path.to_path_buf())
}

/// One message every `seconds`: no rests, caps or sending window.
pub fn one_message_every(seconds: u32) -> blastdesk_core::pacing::Pacing {
    blastdesk_core::pacing::Pacing {
        enabled: true,
        min_delay_s: seconds,
        max_delay_s: seconds,
        batch_min: 100,
        batch_max: 100,
        per_minute: 60,
        hourly_cap: 0,
        daily_cap: 0,
        warm_up_days: 0,
        window: None,
        ..blastdesk_core::pacing::Pacing::default()
    }
}
