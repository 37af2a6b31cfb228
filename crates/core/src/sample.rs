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

/// Its name in Bahasa Indonesia.
pub const AUDIENCE_ID: &str = "Pelanggan contoh (uji coba)";

/// A message that uses the sample's columns and a variant.
pub const TEMPLATE: &str =
    "{Hi|Hello} {name}, thank you for shopping with us in {city}! Our December promo starts today.";

/// The same message in Bahasa Indonesia.
pub const TEMPLATE_ID: &str = "{Halo|Hai} {nama}, terima kasih sudah berbelanja di toko kami di {kota}! Promo Desember kami mulai hari ini.";

/// The language the sample is written in: its audience's name, its
/// columns and its message, so a rehearsal reads in the window's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    Indonesian,
}

impl Language {
    /// The sample audience's name.
    pub fn audience(self) -> &'static str {
        match self {
            Language::English => AUDIENCE,
            Language::Indonesian => AUDIENCE_ID,
        }
    }

    /// The sample message.
    pub fn template(self) -> &'static str {
        match self {
            Language::English => TEMPLATE,
            Language::Indonesian => TEMPLATE_ID,
        }
    }

    /// The names of the columns holding first names and towns.
    fn columns(self) -> (&'static str, &'static str) {
        match self {
            Language::English => ("name", "city"),
            Language::Indonesian => ("nama", "kota"),
        }
    }
}

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
    recipients_in(Language::English)
}

/// The sample customers, their columns named in `language`.
pub fn recipients_in(language: Language) -> Vec<Recipient> {
    let source = Source::Audience {
        audience: Arc::from(language.audience()),
    };
    let (name, city) = language.columns();
    let (name, city): (Arc<str>, Arc<str>) = (Arc::from(name), Arc::from(city));
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
    save_in(store, Language::English, now_ms)
}

/// Saves (or refreshes) the sample audience written in `language`.
pub fn save_in(store: &Store, language: Language, now_ms: i64) -> store::Result<AudienceInfo> {
    store.save_audience(language.audience(), &recipients_in(language), true, now_ms)
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
        for language in [Language::English, Language::Indonesian] {
            let template = Template::parse(language.template())?;
            let (name, city) = language.columns();
            template.check_columns(&[name.to_owned(), city.to_owned()])?;
            let recipients = recipients_in(language);
            assert_eq!(recipients.len(), CUSTOMERS.len(), "{language:?}");
            let first = recipients.first().ok_or("no sample customer")?;
            assert_eq!(first.fields.get(name), Some("Ayu"), "{language:?}");
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
