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
    store.restore_from(&args.file)?;
    println!("Restored from {}.", args.file.display());
    Ok(())
}
