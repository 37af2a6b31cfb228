//! `contacts`: the do-not-contact list and the opt-out reply words.

use std::path::{Path, PathBuf};

use anyhow::Context;
use blastdesk_core::Store;
use blastdesk_core::import::{self, ImportOptions};
use blastdesk_core::optout::Words;
use blastdesk_core::phone;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The numbers that never receive a blast, newest first
    List {
        #[arg(long)]
        json: bool,
    },
    /// Put numbers on the list (all must be usable, or none is added)
    Add {
        #[arg(required = true)]
        numbers: Vec<String>,
    },
    /// Put every number of a spreadsheet on the list
    AddFile { file: PathBuf },
    /// Take a number off the list
    Remove { number: String },
    /// Show the opt-out words, or set them (comma-separated)
    Words { words: Option<String> },
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let store = if matches!(
        args.command,
        Command::List { .. } | Command::Words { words: None }
    ) {
        Store::open_in_for_reading(data_dir)?
    } else {
        Store::open_in(data_dir)?
    };
    let now = super::now_ms();
    match args.command {
        Command::List { json } => {
            let entries = store.do_not_contact_entries()?;
            if json {
                println!("{}", serde_json::to_string(&entries)?);
            } else if entries.is_empty() {
                println!("No one is on the do-not-contact list.");
            } else {
                for entry in entries {
                    let note = entry.note.map(|n| format!(" ({n})")).unwrap_or_default();
                    println!("{}  {}{note}", entry.phone, entry.reason);
                }
            }
        }
        Command::Add { numbers } => {
            let country = store.default_country()?;
            let phones = numbers
                .iter()
                .map(|raw| {
                    phone::normalize(raw, country).with_context(|| {
                        format!("{raw:?} is not a usable number; nothing was added")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let added = store.add_do_not_contact_all(&phones, "manual", None, now)?;
            println!(
                "{added} added, {} already on the list.",
                phones.len() as u64 - added
            );
        }
        Command::AddFile { file } => {
            let options = ImportOptions {
                country: store.default_country()?,
                ..ImportOptions::default()
            };
            let read = import::read(&file, &options)?;
            let note = format!("From {}", read.file);
            let phones: Vec<_> = read.rows.iter().map(|row| row.phone.clone()).collect();
            let added = store.add_do_not_contact_all(&phones, "import", Some(&note), now)?;
            println!(
                "{added} added, {} already on the list, {} rows unusable.",
                phones.len() as u64 - added,
                read.invalid.len()
            );
        }
        Command::Remove { number } => {
            let phone = phone::normalize(&number, store.default_country()?)
                .with_context(|| format!("{number:?} is not a usable number"))?;
            if store.remove_do_not_contact(&phone)? {
                println!("{} is off the list.", phone.as_str());
            } else {
                anyhow::bail!("{} is not on the do-not-contact list", phone.as_str());
            }
        }
        Command::Words { words: None } => println!("{}", store.opt_out_words()?),
        Command::Words { words: Some(text) } => {
            let words = Words::parse(&text)
                .map_err(|reason| anyhow::anyhow!("the opt-out words: {reason}"))?;
            store.set_opt_out_words(&words, now)?;
            println!("Opt-out words: {words}.");
        }
    }
    Ok(())
}
