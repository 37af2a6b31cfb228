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
    /// The WhatsApp Web version Blastdesk announces (shows it, names one, or
    /// with `--automatic` goes back to WhatsApp's current one, fetched daily)
    WhatsappVersion {
        #[arg(value_name = "VERSION", conflicts_with = "automatic")]
        version: Option<String>,
        #[arg(long)]
        automatic: bool,
    },
    /// An account's pacing as JSON (shows it, or changes the settings given
    /// in JSON, e.g. '{"minDelayS": 30, "dailyCap": 100}'), with warnings for
    /// risky settings
    Pacing {
        account: i64,
        #[arg(value_name = "JSON")]
        change: Option<String>,
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
        Setting::WhatsappVersion { version, automatic } => {
            use blastdesk_whatsapp::version::{self, WebVersion};
            if automatic {
                store.set_setting_text(version::SETTING, None, super::now_ms())?;
            } else if let Some(text) = version {
                let parsed: WebVersion = text.parse()?;
                store.set_setting_text(
                    version::SETTING,
                    Some(&parsed.to_string()),
                    super::now_ms(),
                )?;
            }
            match version::current(&store) {
                Some(named) => println!("{named}"),
                None => println!("automatic"),
            }
        }
        Setting::Pacing { account, change } => {
            let mut pacing = store.account_pacing(account)?.pacing;
            if let Some(change) = change {
                let mut value = serde_json::to_value(&pacing)?;
                let patch: serde_json::Value = serde_json::from_str(&change)
                    .map_err(|e| anyhow::anyhow!("the pacing change is not valid JSON: {e}"))?;
                let Some(patch) = patch.as_object() else {
                    anyhow::bail!("the pacing change must be a JSON object");
                };
                for (key, new) in patch {
                    if value.get(key).is_none() {
                        anyhow::bail!("{key:?} is not a pacing setting");
                    }
                    value[key] = new.clone();
                }
                pacing = serde_json::from_value(value)
                    .map_err(|e| anyhow::anyhow!("the pacing change cannot be used: {e}"))?;
                store.set_account_pacing(account, &pacing)?;
            }
            println!("{}", serde_json::to_string_pretty(&pacing)?);
            for risk in pacing.risks() {
                eprintln!("warning: {}", risk.message());
            }
        }
    }
    Ok(())
}
