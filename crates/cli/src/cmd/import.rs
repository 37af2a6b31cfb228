//! `import`: preview who a blast would reach, from files and saved audiences;
//! optionally save the result as an audience.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::audience::{self, PreviewRequest, Source};
use blastdesk_core::import::{ImportOptions, Mapping};
use blastdesk_core::phone::Country;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Spreadsheets or CSV files (.xlsx .xlsm .xlsb .xls .ods .csv); later files win
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,

    /// A saved audience to include (repeatable); files override audiences
    #[arg(long = "audience", value_name = "NAME")]
    audiences: Vec<String>,

    /// Country of numbers written without a country code [default: the setting, at first ID]
    #[arg(long, value_name = "CC")]
    country: Option<String>,

    /// The sheet to read [default: the first visible sheet with content]
    #[arg(long, value_name = "NAME")]
    sheet: Option<String>,

    /// The phone column, by header or letter, when it is not found automatically
    #[arg(long, value_name = "COLUMN")]
    phone_column: Option<String>,

    /// The header row's number, with --phone-column
    #[arg(long, value_name = "ROW", requires = "phone_column")]
    header_row: Option<u32>,

    /// Save the recipients as a saved audience with this name
    #[arg(long, value_name = "NAME")]
    save_as: Option<String>,

    /// With --save-as: replace an audience of that name
    #[arg(long, requires = "save_as")]
    replace: bool,

    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    if args.files.is_empty() && args.audiences.is_empty() {
        anyhow::bail!("nothing to import: name at least one file or --audience");
    }
    // A preview only reads; saving it as an audience writes.
    let store = if args.save_as.is_some() {
        Store::open_in(data_dir)?
    } else {
        Store::open_in_for_reading(data_dir)?
    };
    let country = match &args.country {
        Some(code) => Country::from_str(code)?,
        None => store.default_country()?,
    };
    let options = ImportOptions {
        country,
        sheet: args.sheet.clone(),
        mapping: args.phone_column.clone().map(|phone_column| Mapping {
            phone_column,
            header_row: args.header_row,
        }),
    };
    let request = PreviewRequest::same_options(&args.audiences, &args.files, &options);
    let (preview, files) = audience::preview(&store, &request).map_err(|e| match e {
        audience::PreviewError::Import(blastdesk_core::import::ImportError::PhoneColumnUnknown { file, columns, .. }) => {
            let listed: Vec<String> = columns
                .iter()
                .map(|c| if c.header.is_empty() { c.letter.clone() } else { format!("{} ({})", c.letter, c.header) })
                .collect();
            anyhow::anyhow!(
                "{file}: no column looks like phone numbers; choose one with --phone-column (columns: {})",
                listed.join(", ")
            )
        }
        other => anyhow::Error::new(other),
    })?;

    let saved = match &args.save_as {
        Some(name) => Some(
            store
                .save_audience(name, &preview.recipients, args.replace, super::now_ms())
                .context("cannot save the audience")?,
        ),
        None => None,
    };

    if args.json {
        // Written as it is serialised: the document is never whole in
        // memory (a 100,000-row preview is hundreds of MB as a value tree).
        let out = std::io::stdout().lock();
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer(
            &mut out,
            &JsonPreview {
                preview: &preview,
                files: &files,
                saved: saved.as_ref(),
            },
        )?;
        std::io::Write::write_all(&mut out, b"\n")?;
        std::io::Write::flush(&mut out)?;
        return Ok(());
    }
    print_text(&preview, &files, saved.as_ref());
    Ok(())
}

/// `import --json`: the preview's lists, the files as read, and the
/// audience saved (if one was).
#[derive(serde::Serialize)]
struct JsonPreview<'a> {
    #[serde(flatten)]
    preview: &'a audience::Preview,
    files: &'a [blastdesk_core::import::ImportedFile],
    #[serde(skip_serializing_if = "Option::is_none")]
    saved: Option<&'a blastdesk_core::store::AudienceInfo>,
}

fn source_text(source: &Source) -> String {
    match source {
        Source::File { file, sheet, row } if sheet.is_empty() => format!("{file} row {row}"),
        Source::File { file, sheet, row } => format!("{file} / {sheet} row {row}"),
        Source::Audience { audience } => format!("audience {audience:?}"),
    }
}

fn print_text(
    preview: &audience::Preview,
    files: &[blastdesk_core::import::ImportedFile],
    saved: Option<&blastdesk_core::store::AudienceInfo>,
) {
    for file in files {
        let sheet = if file.sheet.is_empty() {
            String::new()
        } else {
            format!(", sheet {:?}", file.sheet)
        };
        let header = file.header_row.map_or_else(
            || "no header row".to_owned(),
            |r| format!("header on row {r}"),
        );
        println!(
            "{}{sheet}: {header}, phones in column {} {:?}",
            file.file, file.phone_column.letter, file.phone_column.header
        );
    }
    println!(
        "{} recipients, {} invalid rows, {} duplicates overridden, {} excluded",
        preview.recipients.len(),
        preview.invalid.len(),
        preview.overridden.len(),
        preview.excluded.len()
    );
    if !preview.invalid.is_empty() {
        println!("\nInvalid rows:");
        for row in &preview.invalid {
            println!(
                "  {}: {:?}: {}",
                source_text(&row.source),
                row.value,
                row.reason
            );
        }
    }
    if !preview.overridden.is_empty() {
        println!("\nDuplicates (the kept entry wins):");
        for o in &preview.overridden {
            let changed = if o.changed.is_empty() {
                "same values".to_owned()
            } else {
                format!("differs in {}", o.changed.join(", "))
            };
            println!(
                "  {}: kept {}, dropped {} ({changed})",
                o.phone,
                source_text(&o.kept),
                source_text(&o.dropped)
            );
        }
    }
    if !preview.excluded.is_empty() {
        println!("\nExcluded:");
        for e in &preview.excluded {
            println!("  {} ({}): {}", e.phone, source_text(&e.source), e.reason);
        }
    }
    if let Some(saved) = saved {
        println!(
            "\nSaved as audience {:?} ({} contacts).",
            saved.name, saved.contacts
        );
    }
}
