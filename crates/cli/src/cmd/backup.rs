//! `backup` and `restore`: the whole database to and from a file.

use std::path::{Path, PathBuf};

use blastdesk_core::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup file
    file: PathBuf,
}

pub fn backup(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let store = Store::open_in(data_dir)?;
    store.backup_to(&args.file)?;
    println!("Backed up to {}.", args.file.display());
    Ok(())
}

pub fn restore(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let _owner = super::claim(data_dir, "restore")?;
    let store = Store::open_in(data_dir)?;
    let restored = store.restore_from(&args.file, super::now_ms())?;
    println!("Restored from {}.", args.file.display());
    let carried = restored.carried;
    if carried.deliveries + carried.blasts + carried.do_not_contact > 0 {
        println!(
            "Kept from the data it replaced: the fate of {} messages, {} blasts and {} do-not-contact numbers recorded after the backup was taken.",
            carried.deliveries, carried.blasts, carried.do_not_contact
        );
    }
    let settled = restored.settled;
    if settled.paused > 0 {
        println!(
            "{} blasts are paused: check them, then resume with `blastdesk-cli blast resume ID`.",
            settled.paused
        );
    }
    if settled.unknown > 0 {
        println!(
            "{} messages may or may not have gone out; decide with `blastdesk-cli blast decide ID`.",
            settled.unknown
        );
    }
    if settled.missed_runs > 0 {
        println!(
            "{} scheduled runs that fell due are recorded as missed.",
            settled.missed_runs
        );
    }
    Ok(())
}
