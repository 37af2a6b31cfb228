//! `status`: open the store and print what it holds.

use std::path::Path;

use blastdesk_core::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object instead of text
    #[arg(long)]
    json: bool,
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let store = Store::open_in_for_reading(data_dir)?;
    let summary = store.summary()?;
    if args.json {
        let mut value = serde_json::to_value(&summary)?;
        value["dataDir"] = serde_json::Value::from(data_dir.display().to_string());
        println!("{value}");
        return Ok(());
    }
    let database = summary
        .database
        .as_deref()
        .map_or_else(|| "(in memory)".to_owned(), |p| p.display().to_string());
    println!("Data folder:      {}", data_dir.display());
    println!(
        "Database:         {database} (version {})",
        summary.schema_version
    );
    println!("Accounts:         {}", summary.accounts);
    println!(
        "Audiences:        {} ({} contacts)",
        summary.audiences, summary.contacts
    );
    let b = &summary.blasts;
    println!(
        "Blasts:           {} ({} running, {} paused, {} queued, {} completed, {} cancelled, {} drafts)",
        b.total, b.running, b.paused, b.queued, b.completed, b.cancelled, b.draft
    );
    println!("Deliveries:       {}", summary.deliveries);
    println!("Schedules:        {}", summary.schedules);
    println!("Do not contact:   {}", summary.do_not_contact);
    Ok(())
}
