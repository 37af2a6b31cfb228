//! Any text as a phone number: normalising never panics, and what it accepts
//! is E.164 and normalises to itself.
#![no_main]

use blastdesk_core::phone::{Country, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for country in [Country::INDONESIA, "US".parse().unwrap_or_default()] {
        if let Ok(phone) = normalize(text, country) {
            let e164 = phone.as_str();
            assert!(e164.starts_with('+'));
            assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
            assert_eq!(normalize(e164, country).as_ref(), Ok(&phone));
        }
    }
});
