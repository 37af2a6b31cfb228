//! Audiences: who a blast goes to, merged from saved audiences and files.
//!
//! The merge rule, stated once and applied everywhere:
//! 1. Sources are taken in order of precedence, lowest first: saved
//!    audiences (in the order given), then uploaded files (in the order given),
//!    and within a file its rows from top to bottom.
//! 2. When a phone number appears again, the later entry wins: **an uploaded
//!    file overrides a saved audience, a later file overrides an earlier one,
//!    and within a file the last row wins.** A recipient keeps the place where
//!    its number first appeared.
//! 3. Numbers on the do-not-contact list are then excluded.
//!
//! The [`Preview`] reports every overridden entry (which source lost, which
//! won, and which fields differed), every excluded number and every invalid
//! row, so nothing is dropped silently.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::import::{ImportedFile, InvalidRow};
use crate::phone::Phone;

/// Where an entry came from: a file's row, or a saved audience.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    // Names are shared by every row of one file or audience.
    File {
        file: Arc<str>,
        sheet: Arc<str>,
        row: u32,
    },
    Audience {
        audience: Arc<str>,
    },
}

/// A contact's fields (every column but the phone), in column order.
/// Names are shared between the rows of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(Arc<str>, String)>);

impl Fields {
    pub fn new(pairs: Vec<(Arc<str>, String)>) -> Fields {
        Fields(pairs)
    }

    /// The value of a field, by name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, v.as_str()))
    }

    /// The names of the fields whose values differ between `self` and
    /// `other`; a field one side lacks counts as empty there.
    pub fn changed(&self, other: &Fields) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, _) in self.iter().chain(other.iter()) {
            let differs = self.get(name).unwrap_or("") != other.get(name).unwrap_or("");
            if differs && !names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                names.push(name.to_owned());
            }
        }
        names
    }
}

impl Serialize for Fields {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(&**key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Fields {
    /// Reads a JSON object in its own order (a column order is part of the
    /// data); values that are not text are kept as their JSON.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Fields, D::Error> {
        struct InOrder;

        impl<'de> serde::de::Visitor<'de> for InOrder {
            type Value = Fields;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of column names and values")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                    let text = match value {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    pairs.push((Arc::from(key), text));
                }
                Ok(Fields(pairs))
            }
        }

        deserializer.deserialize_map(InOrder)
    }
}

/// One person who will receive the blast.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub phone: Phone,
    pub fields: Fields,
    pub source: Source,
}

/// An entry that lost to a later one for the same number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overridden {
    pub phone: Phone,
    pub kept: Source,
    pub dropped: Source,
    /// Fields whose values differ between the dropped and the kept entry.
    pub changed: Vec<String>,
    /// Both entries' fields, for showing side by side.
    #[serde(rename = "keptFields")]
    pub kept_fields: Fields,
    #[serde(rename = "droppedFields")]
    pub dropped_fields: Fields,
}

/// A number left out because it is on the do-not-contact list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    pub phone: Phone,
    pub source: Source,
    pub reason: &'static str,
}

/// What a blast would send to, and everything that was left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub recipients: Vec<Recipient>,
    pub invalid: Vec<InvalidRow>,
    pub overridden: Vec<Overridden>,
    pub excluded: Vec<Excluded>,
}

impl Preview {
    /// The field names across all recipients, in first-seen order.
    pub fn field_names(&self) -> Vec<String> {
        field_names(&self.recipients)
    }
}

/// The field names across `recipients`, in first-seen order (once each,
/// ignoring case).
pub fn field_names(recipients: &[Recipient]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for recipient in recipients {
        for (name, _) in recipient.fields.iter() {
            if seen.insert(name.to_lowercase()) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// A saved audience's contacts, as loaded from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedAudience {
    pub name: String,
    pub contacts: Vec<(Phone, Fields)>,
}

/// Merges saved audiences and files by the rule in this module's docs.
pub fn merge(
    audiences: Vec<SavedAudience>,
    files: Vec<ImportedFile>,
    do_not_contact: &HashSet<Phone>,
) -> Preview {
    let capacity = audiences.iter().map(|a| a.contacts.len()).sum::<usize>()
        + files.iter().map(|f| f.rows.len()).sum::<usize>();
    let mut recipients: Vec<Recipient> = Vec::with_capacity(capacity);
    let mut index: HashMap<Phone, usize> = HashMap::with_capacity(capacity);
    // Each loser, with the index of the recipient that now holds its number.
    let mut losers: Vec<(usize, Recipient)> = Vec::new();
    let mut invalid = Vec::new();

    let mut take = |entry: Recipient| match index.get(&entry.phone) {
        Some(&at) => {
            let loser = std::mem::replace(&mut recipients[at], entry);
            losers.push((at, loser));
        }
        None => {
            index.insert(entry.phone.clone(), recipients.len());
            recipients.push(entry);
        }
    };
    for audience in audiences {
        let source = Source::Audience {
            audience: Arc::from(audience.name),
        };
        for (phone, fields) in audience.contacts {
            take(Recipient {
                phone,
                fields,
                source: source.clone(),
            });
        }
    }
    for file in files {
        let (name, sheet): (Arc<str>, Arc<str>) = (Arc::from(file.file), Arc::from(file.sheet));
        for row in file.rows {
            take(Recipient {
                phone: row.phone,
                fields: row.fields,
                source: Source::File {
                    file: name.clone(),
                    sheet: sheet.clone(),
                    row: row.row,
                },
            });
        }
        invalid.extend(file.invalid);
    }

    // Report each loser against the entry that finally won its number.
    let overridden = losers
        .into_iter()
        .map(|(at, loser)| {
            let winner = &recipients[at];
            Overridden {
                phone: loser.phone,
                kept: winner.source.clone(),
                dropped: loser.source,
                changed: loser.fields.changed(&winner.fields),
                kept_fields: winner.fields.clone(),
                dropped_fields: loser.fields,
            }
        })
        .collect();

    let mut excluded = Vec::new();
    if !do_not_contact.is_empty() {
        recipients.retain(|r| {
            let blocked = do_not_contact.contains(&r.phone);
            if blocked {
                excluded.push(Excluded {
                    phone: r.phone.clone(),
                    source: r.source.clone(),
                    reason: "on the do-not-contact list",
                });
            }
            !blocked
        });
    }
    Preview {
        recipients,
        invalid,
        overridden,
        excluded,
    }
}

/// What to build a preview from.
#[derive(Debug, Clone, Default)]
pub struct PreviewRequest {
    /// Saved audiences, by name, lowest precedence first.
    pub audiences: Vec<String>,
    /// Files to import, each with how to read it; later files win.
    pub files: Vec<(std::path::PathBuf, crate::import::ImportOptions)>,
}

impl PreviewRequest {
    /// Saved audiences and files, every file read with the same options.
    pub fn same_options(
        audiences: &[String],
        files: &[std::path::PathBuf],
        options: &crate::import::ImportOptions,
    ) -> PreviewRequest {
        PreviewRequest {
            audiences: audiences.to_vec(),
            files: files.iter().map(|f| (f.clone(), options.clone())).collect(),
        }
    }
}

/// Why a preview could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl PreviewError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            PreviewError::Import(e) => e.code(),
            PreviewError::Store(e) => e.code(),
        }
    }

    /// What the error says, as data (see [`crate::error::Details`]).
    pub fn details(&self) -> Option<crate::error::Details> {
        match self {
            PreviewError::Import(e) => Some(crate::error::Details::Import(e.clone())),
            PreviewError::Store(e) => e.details(),
        }
    }
}

/// A step of building a preview, for showing progress on large files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "stage", rename_all = "camelCase")]
pub enum Progress {
    #[serde(rename_all = "camelCase")]
    LoadingAudience {
        audience: String,
    },
    #[serde(rename_all = "camelCase")]
    ReadingFile {
        file: String,
        index: usize,
        total: usize,
    },
    Merging,
}

/// Reads the files, loads the audiences and the do-not-contact list, and
/// merges them. Fails only if a file cannot be read at all or an audience
/// does not exist; bad rows are in the preview.
pub fn preview(
    store: &crate::Store,
    request: &PreviewRequest,
) -> Result<(Preview, Vec<ImportedFile>), PreviewError> {
    preview_with_progress(store, request, |_| {})
}

/// [`preview`], telling `progress` as each step starts.
pub fn preview_with_progress(
    store: &crate::Store,
    request: &PreviewRequest,
    mut progress: impl FnMut(Progress),
) -> Result<(Preview, Vec<ImportedFile>), PreviewError> {
    for name in &request.audiences {
        progress(Progress::LoadingAudience {
            audience: name.clone(),
        });
    }
    // Saved audiences and the do-not-contact list load on a second thread
    // while the files are read: the store and the phone parser share nothing.
    let (saved, files) = std::thread::scope(|scope| {
        let saved = scope.spawn(|| -> Result<_, crate::store::Error> {
            let audiences = request
                .audiences
                .iter()
                .map(|name| store.load_audience(name))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((audiences, store.do_not_contact()?))
        });
        let total = request.files.len();
        let files = request
            .files
            .iter()
            .enumerate()
            .map(|(index, (path, options))| {
                progress(Progress::ReadingFile {
                    file: crate::import::display_name(path),
                    index,
                    total,
                });
                crate::import::read(path, options)
            })
            .collect::<Result<Vec<_>, _>>();
        (saved.join(), files)
    });
    // A panic there is a bug: let it surface as one.
    let (audiences, do_not_contact) =
        saved.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    let files = files?;
    progress(Progress::Merging);
    // Keep each file's description (without its rows) for the report.
    let described: Vec<ImportedFile> = files.iter().map(ImportedFile::clone_description).collect();
    Ok((merge(audiences, files, &do_not_contact), described))
}
