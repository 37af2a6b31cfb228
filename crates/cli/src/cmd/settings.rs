//! `settings`: show or change settings.

use std::path::Path;
use std::str::FromStr;

use blastdesk_core::Store;
use blastdesk_core::phone::Country;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    setting: Setting,
}

#[derive(Debug, clap::Subcommand)]
enum Setting {
    /// The country of numbers written without a country code (shows it, or sets it to CC)
    Country {
        #[arg(value_name = "CC")]
        code: Option<String>,
    },
}

pub fn run(data_dir: &Path, args: Args) -> anyhow::Result<()> {
    let store = Store::open_in(data_dir)?;
    match args.setting {
        Setting::Country { code: None } => println!("{}", store.default_country()?.code()),
        Setting::Country { code: Some(code) } => {
            let country = Country::from_str(&code)?;
            store.set_default_country(country, super::now_ms())?;
            println!("{}", country.code());
        }
    }
    Ok(())
}
