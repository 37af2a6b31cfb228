//! Finding the header row and the phone column.
//!
//! The header is the first row (of the first 30) with a cell named like a
//! phone column, in English or Indonesian ("Phone", "No. WA", "Nomor HP",
//! "Telp", ...): title rows above it are skipped. Without such a name, the
//! phone column is the one whose values are mostly valid numbers. Without
//! that either, the person chooses ([`super::Mapping`]).

use std::sync::Arc;

use serde::Serialize;

use super::grid::Grid;
use super::{Column, ImportError, ImportOptions};
use crate::phone;

/// How the phone column was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FoundBy {
    /// Its header is a phone column's name.
    Header,
    /// Its values are phone numbers (the header did not say).
    Content,
    /// The person chose it.
    Mapping,
}

/// Where things are in a grid (indices into `Grid::rows` and its rows).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub header_index: Option<usize>,
    pub phone_index: usize,
    pub found_by: FoundBy,
}

/// How many rows may stand above the header.
const HEADER_SEARCH_ROWS: usize = 30;
/// How many data rows the content-based detection looks at.
const CONTENT_SAMPLE_ROWS: usize = 50;

/// Names of phone columns, compared after [`simplify`].
const PHONE_NAMES: &[&str] = &[
    "phone",
    "phone number",
    "phone no",
    "phone num",
    "mobile",
    "mobile number",
    "mobile phone",
    "mobile no",
    "cell",
    "cell phone",
    "cellphone",
    "handphone",
    "hp",
    "no hp",
    "nomor hp",
    "no handphone",
    "nomor handphone",
    "whatsapp",
    "whatsapp number",
    "whatsapp no",
    "wa",
    "no wa",
    "nomor wa",
    "no whatsapp",
    "nomor whatsapp",
    "wa number",
    "nomor",
    "no telp",
    "telp",
    "tlp",
    "no tlp",
    "telepon",
    "telpon",
    "no telepon",
    "nomor telepon",
    "tel",
    "telephone",
    "msisdn",
    "kontak",
    "contact number",
    "nomor kontak",
    "number",
    "phone 1",
];

/// Words that make a header a phone column wherever they appear in it.
const PHONE_WORDS: &[&str] = &[
    "phone",
    "mobile",
    "whatsapp",
    "wa",
    "hp",
    "handphone",
    "telp",
    "telepon",
    "telpon",
    "tlp",
    "msisdn",
    "cellphone",
];

/// Lower case, punctuation to spaces, spaces collapsed: "No. WA" -> "no wa".
fn simplify(text: &str) -> String {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// How strongly a header names a phone column: 2 exactly, 1 by a word, 0 not.
fn phone_name_score(header: &str) -> u8 {
    let simple = simplify(header);
    if simple.is_empty() {
        return 0;
    }
    if PHONE_NAMES.contains(&simple.as_str()) {
        return 2;
    }
    u8::from(simple.split(' ').any(|w| PHONE_WORDS.contains(&w)))
}

pub fn locate(grid: &Grid, file: &str, options: &ImportOptions) -> Result<Layout, ImportError> {
    if grid.rows.iter().all(|r| r.iter().all(String::is_empty)) {
        return Err(ImportError::Empty {
            file: file.to_owned(),
        });
    }
    if let Some(mapping) = &options.mapping {
        return by_mapping(grid, file, mapping);
    }
    if let Some(layout) = by_header(grid) {
        return Ok(layout);
    }
    if let Some(layout) = by_content(grid, options.country) {
        return Ok(layout);
    }
    let header_index = first_non_empty(grid);
    Err(ImportError::PhoneColumnUnknown {
        file: file.to_owned(),
        sheet: grid.sheet.clone(),
        columns: columns(grid, Some(header_index)),
    })
}

fn by_header(grid: &Grid) -> Option<Layout> {
    for (index, row) in grid.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let best = row
            .iter()
            .enumerate()
            .map(|(c, text)| (phone_name_score(text), c))
            .filter(|(score, _)| *score > 0)
            // Highest score; among equals, the leftmost.
            .max_by_key(|(score, c)| (*score, std::cmp::Reverse(*c)));
        if let Some((_, phone_index)) = best {
            return Some(Layout {
                header_index: Some(index),
                phone_index,
                found_by: FoundBy::Header,
            });
        }
    }
    None
}

fn by_content(grid: &Grid, country: phone::Country) -> Option<Layout> {
    let first = first_non_empty(grid);
    let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
    let sample: Vec<&Vec<String>> = grid
        .rows
        .iter()
        .skip(first)
        .filter(|r| r.iter().any(|c| !c.is_empty()))
        .take(CONTENT_SAMPLE_ROWS)
        .collect();
    let mut best: Option<(usize, usize)> = None; // (valid count, column)
    for column in 0..width {
        let valid = sample
            .iter()
            .filter(|r| {
                r.get(column)
                    .is_some_and(|v| phone::normalize(v, country).is_ok())
            })
            .count();
        if valid > best.map_or(0, |b| b.0) {
            best = Some((valid, column));
        }
    }
    let (valid, phone_index) = best?;
    // Most rows (a header row aside) must hold a number.
    if valid * 10 < sample.len().saturating_sub(1) * 6 || valid == 0 {
        return None;
    }
    // The header is the nearest non-empty row above the first number (title
    // rows may stand above it); none if the numbers start at once.
    let is_number = |row: &Vec<String>| {
        row.get(phone_index)
            .is_some_and(|v| phone::normalize(v, country).is_ok())
    };
    let data_start = grid.rows.iter().position(is_number).unwrap_or(first);
    let header_index = grid.rows[..data_start]
        .iter()
        .rposition(|r| r.iter().any(|c| !c.is_empty()));
    Some(Layout {
        header_index,
        phone_index,
        found_by: FoundBy::Content,
    })
}

fn by_mapping(grid: &Grid, file: &str, mapping: &super::Mapping) -> Result<Layout, ImportError> {
    let header_index = match mapping.header_row {
        Some(row) => row
            .checked_sub(grid.first_row)
            .map(|i| i as usize)
            .filter(|&i| i < grid.rows.len()),
        None => by_header(grid)
            .and_then(|l| l.header_index)
            .or(Some(first_non_empty(grid))),
    };
    let wanted = mapping.phone_column.trim();
    let by_name = header_index.and_then(|h| {
        grid.rows[h]
            .iter()
            .position(|text| text.trim().eq_ignore_ascii_case(wanted))
    });
    let by_letter = || {
        column_index(wanted)
            .and_then(|absolute| absolute.checked_sub(grid.first_column as usize))
            .filter(|&c| grid.rows.iter().any(|r| c < r.len()))
    };
    match by_name.or_else(by_letter) {
        Some(phone_index) => Ok(Layout {
            header_index,
            phone_index,
            found_by: FoundBy::Mapping,
        }),
        None => Err(ImportError::NoSuchColumn {
            file: file.to_owned(),
            column: wanted.to_owned(),
            columns: columns(grid, header_index),
        }),
    }
}

fn first_non_empty(grid: &Grid) -> usize {
    grid.rows
        .iter()
        .position(|r| r.iter().any(|c| !c.is_empty()))
        .unwrap_or(0)
}

/// Every column, with its header and samples, for the mapping question.
pub fn columns(grid: &Grid, header_index: Option<usize>) -> Vec<Column> {
    let width = grid.rows.iter().map(Vec::len).max().unwrap_or(0);
    (0..width).map(|c| column(grid, header_index, c)).collect()
}

pub fn column(grid: &Grid, header_index: Option<usize>, index: usize) -> Column {
    let start = header_index.map_or(0, |h| h + 1);
    Column {
        letter: column_letter(grid.first_column as usize + index),
        header: header_index
            .and_then(|h| grid.rows[h].get(index))
            .cloned()
            .unwrap_or_default(),
        samples: grid
            .rows
            .iter()
            .skip(start)
            .filter_map(|r| r.get(index).filter(|v| !v.is_empty()).cloned())
            .take(3)
            .collect(),
    }
}

/// Field names for the chosen columns: the header text, "Column C" where
/// there is none, and "name (2)" for a repeated one (names compared ignoring
/// ASCII case). Linear in the number of columns, however many repeat.
pub fn field_names(headers: &[String], columns: &[usize], first_column: u32) -> Vec<Arc<str>> {
    let mut names: Vec<Arc<str>> = Vec::with_capacity(columns.len());
    let mut taken: std::collections::HashSet<String> =
        std::collections::HashSet::with_capacity(columns.len());
    // For each base name, the next number to try.
    let mut next: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for &c in columns {
        let base = match headers[c].trim() {
            "" => format!("Column {}", column_letter(first_column as usize + c)),
            text => text.to_owned(),
        };
        let mut name = base.clone();
        if taken.contains(&name.to_ascii_lowercase()) {
            let n = next.entry(base.to_ascii_lowercase()).or_insert(2);
            loop {
                name = format!("{base} ({n})");
                *n += 1;
                if !taken.contains(&name.to_ascii_lowercase()) {
                    break;
                }
            }
        }
        taken.insert(name.to_ascii_lowercase());
        names.push(Arc::from(name));
    }
    names
}

/// "A" for 0, "Z" for 25, "AA" for 26.
pub fn column_letter(mut index: usize) -> String {
    let mut letters = Vec::new();
    loop {
        letters.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

/// 0 for "A", 26 for "AA"; `None` for anything that is not letters.
fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    letters
        .to_ascii_uppercase()
        .bytes()
        .try_fold(0usize, |acc, b| Some(acc * 26 + usize::from(b - b'A') + 1))
        .map(|n| n - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_phone_headers() {
        let cases = [
            ("Phone", 2),
            ("No. WA", 2),
            ("NO HP", 2),
            ("Nomor WhatsApp", 2),
            ("Telp.", 2),
            ("Mobile Number", 2),
            ("Customer WhatsApp", 1),
            ("HP Pelanggan", 1),
            ("Name", 0),
            ("Nama", 0),
            ("Kota", 0),
            ("", 0),
        ];
        for (header, expected) in cases {
            assert_eq!(phone_name_score(header), expected, "{header:?}");
        }
    }

    #[test]
    fn column_letters_round_trip() {
        for (index, letters) in [
            (0, "A"),
            (2, "C"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letter(index), letters);
            assert_eq!(column_index(letters), Some(index));
            assert_eq!(column_index(&letters.to_lowercase()), Some(index));
        }
        assert_eq!(column_index("Phone"), None);
        assert_eq!(column_index("A1"), None);
    }
}
