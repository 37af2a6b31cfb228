//! The sample list a new owner rehearses with: made-up customers, saved as an
//! audience, so the whole flow (import preview, message, pacing, progress,
//! report) can be tried without sending anything to anyone.
//!
//! The numbers are made up and could belong to real people, so they may only
//! ever go to the rehearsal account: [`contains_sample`] lets the layers
//! that create blasts refuse them for a real one.

use std::collections::HashSet;
use std::sync::Arc;

use crate::audience::{Fields, Recipient, Source};
use crate::phone::{self, Country, Phone};
use crate::store::{self, AudienceInfo, Store};

/// The name of the sample audience.
pub const AUDIENCE: &str = "Sample customers (rehearsal)";

/// A message that uses the sample's columns and a variant.
pub const TEMPLATE: &str =
    "{Hi|Hello} {name}, thank you for shopping with us in {city}! Our December promo starts today.";

/// The same message in Bahasa Indonesia.
pub const TEMPLATE_ID: &str = "{Halo|Hai} {name}, terima kasih sudah berbelanja di toko kami di {city}! Promo Desember kami mulai hari ini.";

const CUSTOMERS: &[(&str, &str, &str)] = &[
    ("0812 0000 0101", "Ayu", "Bandung"),
    ("0812 0000 0102", "Budi", "Surabaya"),
    ("0812 0000 0103", "Citra", "Medan"),
    ("0812 0000 0104", "Dewi", "Yogyakarta"),
    ("0812 0000 0105", "Eko", "Semarang"),
    ("0812 0000 0106", "Fajar", "Makassar"),
];

/// The sample customers (Indonesian numbers, whatever the default country).
pub fn recipients() -> Vec<Recipient> {
    let source = Source::Audience {
        audience: Arc::from(AUDIENCE),
    };
    let (name, city): (Arc<str>, Arc<str>) = (Arc::from("name"), Arc::from("city"));
    CUSTOMERS
        .iter()
        .filter_map(|(number, first, town)| {
            let phone = phone::normalize(number, Country::default()).ok()?;
            Some(Recipient {
                phone,
                fields: Fields::new(vec![
                    (Arc::clone(&name), (*first).to_owned()),
                    (Arc::clone(&city), (*town).to_owned()),
                ]),
                source: source.clone(),
            })
        })
        .collect()
}

/// Saves (or refreshes) the sample audience.
pub fn save(store: &Store, now_ms: i64) -> store::Result<AudienceInfo> {
    store.save_audience(AUDIENCE, &recipients(), true, now_ms)
}

/// Whether a list of recipients holds any sample customer, by number:
/// wherever the numbers came from (the sample audience, a copy of it saved
/// under another name, a file), they are made up.
pub fn contains_sample(recipients: &[Recipient]) -> bool {
    let sample = phones();
    recipients.iter().any(|r| sample.contains(&r.phone))
}

/// The sample customers' numbers.
pub fn phones() -> HashSet<Phone> {
    self::recipients().into_iter().map(|r| r.phone).collect()
}

/// Why sample customers cannot go to a real account.
pub const REAL_ACCOUNT_REFUSAL: &str = "The sample customers are made up (their numbers may belong to real people): rehearse with them, but send from WhatsApp only to your own customers.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::Template;

    #[test]
    fn every_sample_number_is_valid_and_distinct() {
        let recipients = recipients();
        assert_eq!(
            recipients.len(),
            CUSTOMERS.len(),
            "a sample number is invalid"
        );
        let mut phones: Vec<&str> = recipients.iter().map(|r| r.phone.as_str()).collect();
        phones.sort_unstable();
        phones.dedup();
        assert_eq!(phones.len(), CUSTOMERS.len());
        assert!(contains_sample(&recipients));
    }

    #[test]
    fn the_sample_templates_use_only_the_sample_columns() -> Result<(), Box<dyn std::error::Error>>
    {
        for text in [TEMPLATE, TEMPLATE_ID] {
            let template = Template::parse(text)?;
            template.check_columns(&["name".to_owned(), "city".to_owned()])?;
        }
        Ok(())
    }

    #[test]
    fn saving_twice_refreshes_the_one_sample_audience() -> store::Result<()> {
        let dir = tempfile::tempdir().map_err(|e| store::Error::Io {
            path: std::path::PathBuf::new(),
            source: e,
        })?;
        let store = Store::open_in(dir.path())?;
        save(&store, 1)?;
        let info = save(&store, 2)?;
        assert_eq!(info.contacts, CUSTOMERS.len() as u64);
        assert_eq!(store.audiences()?.len(), 1);
        Ok(())
    }
}
