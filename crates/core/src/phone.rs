//! Phone numbers: whatever a spreadsheet holds, normalised to E.164.
//!
//! "0812-3456-7890", "+62 812 3456 7890", "62812...", "6.28123456789E+11" and a
//! numeric cell holding 6281234567890 are one number: `+6281234567890`. The
//! rules of which numbers exist, and which are mobile, come from Google's
//! libphonenumber metadata (the `phonenumber` crate), not from rules written here.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber, Type};
use serde::{Deserialize, Serialize};

/// A normalised phone number in E.164 form, e.g. `+6281234567890`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a string already in E.164 form (as stored), without re-validating it.
    pub fn from_e164_unchecked(e164: String) -> Phone {
        Phone(e164)
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The country a number without an international prefix belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country(Id);

impl Country {
    /// Indonesia, Blastdesk's default.
    pub const INDONESIA: Country = Country(Id::ID);

    /// The two-letter ISO code, e.g. `"ID"`.
    pub fn code(self) -> String {
        format!("{:?}", self.0)
    }
}

impl Default for Country {
    fn default() -> Country {
        Country::INDONESIA
    }
}

impl FromStr for Country {
    type Err = UnknownCountry;

    fn from_str(code: &str) -> Result<Country, UnknownCountry> {
        Id::from_str(&code.trim().to_ascii_uppercase())
            .map(Country)
            .map_err(|_| UnknownCountry(code.to_owned()))
    }
}

/// A country code that is not a two-letter ISO 3166 code we know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a two-letter country code (such as ID, MY, SG or US)")]
pub struct UnknownCountry(pub String);

/// Why a value is not a usable WhatsApp number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("no phone number")]
    Empty,
    #[error("not a phone number: it contains letters or symbols")]
    NotANumber,
    #[error("too short to be a phone number")]
    TooShort,
    #[error("too long to be a phone number")]
    TooLong,
    #[error("not a valid phone number")]
    Invalid,
    #[error("a landline number, which cannot receive WhatsApp messages")]
    Landline,
    #[error("a {0} number, not a mobile number")]
    NotMobile(&'static str),
}

impl PhoneError {
    /// A stable code for this reason, for programs.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Empty => "phone_missing",
            PhoneError::NotANumber => "phone_not_a_number",
            PhoneError::TooShort => "phone_too_short",
            PhoneError::TooLong => "phone_too_long",
            PhoneError::Invalid => "phone_invalid",
            PhoneError::Landline => "phone_landline",
            PhoneError::NotMobile(_) => "phone_not_mobile",
        }
    }
}

/// Fewer digits than any phone number has; more than E.164 allows.
const MIN_DIGITS: usize = 7;
const MAX_DIGITS: usize = 15;

/// phonenumber compiles its patterns lazily into one shared LRU cache of 100
/// regexes; validating numbers uses more than that, so the cache thrashes and
/// recompiles. Widened once, every pattern is compiled once.
fn widen_regex_cache() {
    static WIDENED: std::sync::Once = std::sync::Once::new();
    WIDENED.call_once(|| {
        if let Ok(mut cache) = phonenumber::metadata::DATABASE.cache().lock() {
            cache.set_capacity(4096);
        }
    });
}

/// Normalises a phone number as typed in a spreadsheet cell.
pub fn normalize(raw: &str, country: Country) -> Result<Phone, PhoneError> {
    widen_regex_cache();
    let cleaned = clean(raw)?;
    let digits = cleaned.trim_start_matches('+');
    if digits.len() < MIN_DIGITS {
        return Err(PhoneError::TooShort);
    }
    if digits.len() > MAX_DIGITS + 2 {
        return Err(PhoneError::TooLong);
    }
    let number = parse(&cleaned, country)?;
    let e164 = number.format().mode(Mode::E164).to_string();
    if e164_national(&number, &e164).is_some_and(|n| n.starts_with('0'))
        && national_prefix(&number).is_some()
    {
        // Only countries without a trunk prefix (Italy, say) have numbers
        // that start with 0; elsewhere such a reading is no number.
        return Err(PhoneError::Invalid);
    }
    if !faithful(&cleaned, &number, &e164) {
        // Something besides a country code or a trunk prefix was dropped or
        // added: accept the result only if it reads back as itself. (Found by
        // the `phone` fuzz target: "9940100000001" read as an Azerbaijani
        // number whose E.164 form names another, invalid number.)
        let same = parse(&e164, country)
            .is_ok_and(|again| again.format().mode(Mode::E164).to_string() == e164);
        if !same {
            return Err(PhoneError::Invalid);
        }
    }
    Ok(Phone(e164))
}

/// The national part of an E.164 string: the digits after the country code.
fn e164_national<'a>(number: &PhoneNumber, e164: &'a str) -> Option<&'a str> {
    e164.get(1 + number.code().value().to_string().len()..)
}

/// The trunk prefix of the number's country ("0" in Indonesia), if it has one.
fn national_prefix(number: &PhoneNumber) -> Option<String> {
    number
        .metadata(&phonenumber::metadata::DATABASE)
        .and_then(|m| m.national_prefix().map(str::to_owned))
}

/// Whether the E.164 form is what was typed, rewritten only in the usual
/// ways: the full international number, or the national number with or
/// without the country's trunk prefix ("0812..." in Indonesia).
fn faithful(cleaned: &str, number: &PhoneNumber, e164: &str) -> bool {
    let typed = cleaned.trim_start_matches('+');
    let Some(national) = e164_national(number, e164) else {
        return false;
    };
    if national.starts_with('0') {
        return false; // a kept leading zero (Italy): check that it reads back
    }
    if typed == &e164[1..] || typed == national {
        return true;
    }
    national_prefix(number)
        .is_some_and(|prefix| typed.strip_prefix(prefix.as_str()) == Some(national))
}

/// Keeps the digits (and a leading `+`), dropping the punctuation people type
/// in numbers; rejects anything else. Also undoes Excel's scientific notation.
fn clean(raw: &str) -> Result<String, PhoneError> {
    let trimmed = raw
        .trim()
        .trim_start_matches('\'')
        .trim_matches(|c: char| c.is_whitespace());
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if let Some(expanded) = from_scientific(trimmed) {
        return Ok(expanded);
    }
    let mut out = String::with_capacity(trimmed.len());
    for (index, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => out.push(c),
            '+' if index == 0 => out.push(c),
            ' '
            | '\u{a0}'
            | '\u{202f}'
            | '\t'
            | '-'
            | '\u{2010}'..='\u{2015}'
            | '.'
            | '('
            | ')'
            | '/' => {}
            // Full-width digits, as typed with some input methods.
            '\u{ff10}'..='\u{ff19}' => {
                out.push(char::from(b'0' + (u32::from(c) - 0xff10) as u8));
            }
            _ => return Err(PhoneError::NotANumber),
        }
    }
    if out.trim_start_matches('+').is_empty() {
        return Err(PhoneError::NotANumber);
    }
    // "00" is the international prefix in most of the world.
    if let Some(rest) = out.strip_prefix("00") {
        out = format!("+{rest}");
    }
    Ok(out)
}

/// "6.28123456789E+11" (a number Excel wrote in scientific notation) as digits,
/// when it denotes a whole number.
fn from_scientific(text: &str) -> Option<String> {
    if !text.contains(['e', 'E']) {
        return None;
    }
    let value: f64 = text.parse().ok()?;
    integral_digits(value)
}

/// The digits of a whole, positive number of at most 15 digits.
pub fn integral_digits(value: f64) -> Option<String> {
    let in_range = value.is_finite() && (1.0..1e15).contains(&value);
    if !in_range || value.fract() != 0.0 {
        return None;
    }
    Some(format!("{value:.0}"))
}

/// Reads the number as a national number of `country` and, when it has no
/// `+`, also as an international one ("62812...", "6591234567"). The first
/// reading that is a valid mobile number wins; failing that, the reason comes
/// from the first valid reading (a landline, say), or from the national parse.
fn parse(cleaned: &str, country: Country) -> Result<PhoneNumber, PhoneError> {
    // A number's type is Unknown exactly when it is not valid, so one type
    // look-up both validates and classifies (the costly part of parsing).
    // A number with "+" is international: the default country must not
    // change how it reads (phonenumber lets a region hint do so).
    let region = (!cleaned.starts_with('+')).then_some(country.0);
    let national = phonenumber::parse(region, cleaned);
    let national_verdict = national.as_ref().ok().map(classify);
    if let (Ok(number), Some(Ok(()))) = (&national, &national_verdict) {
        return Ok(number.clone());
    }
    let national_valid = matches!(&national_verdict, Some(v) if v != &Err(PhoneError::Invalid));
    if !cleaned.starts_with('+')
        && let Ok(number) = phonenumber::parse(None, format!("+{cleaned}"))
    {
        match classify(&number) {
            Ok(()) => return Ok(number),
            Err(PhoneError::Invalid) => {}
            Err(reason) if !national_valid => return Err(reason),
            Err(_) => {}
        }
    }
    if national_valid && let Some(Err(reason)) = national_verdict {
        return Err(reason);
    }
    let digits = cleaned.trim_start_matches('+').len();
    Err(match national {
        Err(phonenumber::ParseError::TooLong) => PhoneError::TooLong,
        Err(phonenumber::ParseError::TooShortNsn | phonenumber::ParseError::TooShortAfterIdd) => {
            PhoneError::TooShort
        }
        _ if digits > MAX_DIGITS => PhoneError::TooLong,
        _ => PhoneError::Invalid,
    })
}

/// Accepts numbers that can be mobile; names what the others are.
fn classify(number: &PhoneNumber) -> Result<(), PhoneError> {
    match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::Mobile | Type::FixedLineOrMobile => Ok(()),
        Type::FixedLine => Err(PhoneError::Landline),
        Type::TollFree => Err(PhoneError::NotMobile("toll-free")),
        Type::PremiumRate => Err(PhoneError::NotMobile("premium-rate")),
        Type::SharedCost => Err(PhoneError::NotMobile("shared-cost")),
        Type::Voip => Err(PhoneError::NotMobile("internet (VoIP)")),
        Type::Pager => Err(PhoneError::NotMobile("pager")),
        Type::PersonalNumber
        | Type::Uan
        | Type::Voicemail
        | Type::Emergency
        | Type::ShortCode
        | Type::StandardRate
        | Type::Carrier
        | Type::NoInternational => Err(PhoneError::NotMobile("service")),
        Type::Unknown => Err(PhoneError::Invalid),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: Country = Country::INDONESIA;

    #[test]
    fn one_number_in_every_format() {
        let same = [
            "0812-3456-7890",
            "0812 3456 7890",
            "+62 812 3456 7890",
            "+62 (812) 3456-7890",
            "62812-3456-7890",
            "6281234567890",
            "6.28123456789E+12",
            "'081234567890",
            "  081234567890\u{a0}",
            "0062 812 3456 7890",
            "０８１２３４５６７８９０",
        ];
        for raw in same {
            assert_eq!(
                normalize(raw, ID).map(|p| p.to_string()),
                Ok("+6281234567890".to_owned()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn reasons_for_unusable_values() {
        let cases: &[(&str, PhoneError)] = &[
            ("", PhoneError::Empty),
            ("   ", PhoneError::Empty),
            ("call me", PhoneError::NotANumber),
            ("0812-3456-789O", PhoneError::NotANumber),
            ("<b>0812</b>", PhoneError::NotANumber),
            ("12345", PhoneError::TooShort),
            ("0812345678901234567890", PhoneError::TooLong),
            ("021 5550 1234", PhoneError::Landline),
            ("0800 1234 567", PhoneError::NotMobile("toll-free")),
            ("+62 999 1234 5678", PhoneError::Invalid),
            // Read in the US as "1" + "0309...", which is no number (fuzz find).
            ("10  )  3094 277.9 77", PhoneError::Invalid),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalize(raw, ID).as_ref(), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn accepted_numbers_normalise_to_themselves() {
        let us = Country::from_str("US").unwrap_or_default();
        for (raw, country) in [
            ("10  )  3094 277.9 77", us),
            ("+39 06 1234 5678", ID),
            ("0812-3456-7890", ID),
        ] {
            if let Ok(phone) = normalize(raw, country) {
                assert_eq!(
                    normalize(phone.as_str(), country).as_ref(),
                    Ok(&phone),
                    "{raw:?}"
                );
            }
        }
    }

    #[test]
    fn other_countries_and_default_countries() {
        let cases = [
            ("+60 12-345 6789", ID, "+60123456789"),
            ("6591234567", ID, "+6591234567"),
            ("812-3456-7890", ID, "+6281234567890"),
            (
                "012-345 6789",
                Country::from_str("my").unwrap_or_default(),
                "+60123456789",
            ),
            (
                "07400 123456",
                Country::from_str("GB").unwrap_or_default(),
                "+447400123456",
            ),
        ];
        for (raw, country, expected) in cases {
            assert_eq!(
                normalize(raw, country).map(|p| p.to_string()),
                Ok(expected.to_owned()),
                "{raw:?} in {country:?}"
            );
        }
    }

    #[test]
    fn country_codes_parse() {
        assert_eq!(Country::from_str("id"), Ok(Country::INDONESIA));
        assert_eq!(Country::INDONESIA.code(), "ID");
        assert!(Country::from_str("XX").is_err());
        assert!(Country::from_str("Indonesia").is_err());
    }

    #[test]
    fn integral_digits_only_for_whole_numbers() {
        assert_eq!(
            integral_digits(6281234567890.0).as_deref(),
            Some("6281234567890")
        );
        assert_eq!(integral_digits(81234567890.5), None);
        assert_eq!(integral_digits(-5.0), None);
        assert_eq!(integral_digits(f64::NAN), None);
        assert_eq!(integral_digits(1e20), None);
    }
}
