//! Opt-out replies: a customer who answers a blast with an opt-out word
//! ("STOP", "BERHENTI", or words the owner adds) goes on the do-not-contact
//! list and never receives another blast.
//!
//! A reply counts only when the whole message is the word (in any case, with
//! punctuation, spaces or emoji around it): "Stop!" opts out, "don't stop
//! the promos" does not.

use crate::phone::Phone;
use crate::store::{self, Store};

/// The setting holding the words, comma-separated.
pub const SETTING: &str = "opt_out_words";

/// The words used until the owner changes them.
pub const DEFAULT_WORDS: &[&str] = &["STOP", "BERHENTI", "UNSUBSCRIBE"];

/// The longest word list accepted, so a pasted document is refused.
const MAX_WORDS: usize = 50;

/// The opt-out words, normalised (upper case, trimmed), without duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Words(Vec<String>);

impl Words {
    /// Parses a comma-, semicolon- or newline-separated list (a word may be
    /// a short phrase). Refuses an empty list (that would silently turn
    /// opt-outs off), words of more than 40 characters and more than 50 words.
    pub fn parse(text: &str) -> Result<Words, String> {
        let mut words: Vec<String> = Vec::new();
        for word in text.split([',', '\n', ';']) {
            let word = normalise(word);
            if word.is_empty() {
                continue;
            }
            if word.chars().count() > 40 {
                return Err(format!("\"{word}\" is too long for an opt-out word"));
            }
            if !words.contains(&word) {
                words.push(word);
            }
        }
        if words.is_empty() {
            return Err("give at least one opt-out word, like STOP".into());
        }
        if words.len() > MAX_WORDS {
            return Err(format!("at most {MAX_WORDS} opt-out words"));
        }
        Ok(Words(words))
    }

    pub fn defaults() -> Words {
        Words(DEFAULT_WORDS.iter().map(|w| (*w).to_owned()).collect())
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// The word a reply consists of, if it is an opt-out.
    pub fn matched(&self, reply: &str) -> Option<&str> {
        let reply = normalise(reply);
        self.0.iter().find(|w| **w == reply).map(String::as_str)
    }
}

impl std::str::FromStr for Words {
    type Err = String;

    fn from_str(text: &str) -> Result<Words, String> {
        Words::parse(text)
    }
}

impl std::fmt::Display for Words {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(", "))
    }
}

/// Upper case, without what surrounds the words (spaces, punctuation,
/// emoji), inner runs of spaces made one.
fn normalise(text: &str) -> String {
    let trimmed = text.trim_matches(|c: char| !c.is_alphanumeric());
    trimmed
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

/// Someone who opted out by replying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOut {
    pub phone: Phone,
    pub word: String,
    /// False if the number was on the list already.
    pub added: bool,
}

impl Store {
    /// The opt-out words (the defaults until changed).
    pub fn opt_out_words(&self) -> store::Result<Words> {
        Ok(self
            .setting_text(SETTING)?
            .and_then(|text| Words::parse(&text).ok())
            .unwrap_or_else(Words::defaults))
    }

    pub fn set_opt_out_words(&self, words: &Words, now_ms: i64) -> store::Result<()> {
        self.set_setting_text(SETTING, Some(&words.to_string()), now_ms)
    }

    /// Looks at a reply from `phone`: if it is an opt-out word, the number
    /// goes on the do-not-contact list (and its waiting messages are skipped).
    pub fn handle_reply(
        &self,
        phone: &Phone,
        text: &str,
        now_ms: i64,
    ) -> store::Result<Option<OptOut>> {
        let words = self.opt_out_words()?;
        let Some(word) = words.matched(text) else {
            return Ok(None);
        };
        let note = format!("Replied \"{word}\"");
        let added = self.add_do_not_contact_noted(phone, "opt_out_reply", Some(&note), now_ms)?;
        Ok(Some(OptOut {
            phone: phone.clone(),
            word: word.to_owned(),
            added,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_opts_out_only_when_it_is_the_word() {
        let words = Words::defaults();
        let cases = [
            ("STOP", Some("STOP")),
            ("stop", Some("STOP")),
            ("  Stop!! ", Some("STOP")),
            ("berhenti.", Some("BERHENTI")),
            ("Berhenti 🙏", Some("BERHENTI")),
            ("unsubscribe", Some("UNSUBSCRIBE")),
            ("don't stop the promos", None),
            ("stop sending me this", None),
            ("STOPPED", None),
            ("", None),
            ("🙏", None),
            ("Terima kasih", None),
        ];
        for (reply, expected) in cases {
            assert_eq!(words.matched(reply), expected, "{reply:?}");
        }
    }

    #[test]
    fn words_are_parsed_normalised_and_deduplicated() {
        let cases: [(&str, Result<&[&str], ()>); 6] = [
            ("stop, berhenti", Ok(&["STOP", "BERHENTI"])),
            ("STOP\nstop;  Jangan  kirim ", Ok(&["STOP", "JANGAN KIRIM"])),
            ("  , ,", Err(())),
            ("", Err(())),
            ("batal", Ok(&["BATAL"])),
            (
                "this is a much too long opt-out word to be a real reply",
                Err(()),
            ),
        ];
        for (text, expected) in cases {
            let parsed = Words::parse(text);
            match expected {
                Ok(words) => assert_eq!(
                    parsed.as_ref().map(Words::as_slice).ok(),
                    Some(&words.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>()[..]),
                    "{text:?}"
                ),
                Err(()) => assert!(parsed.is_err(), "{text:?} should be refused"),
            }
        }
    }

    #[test]
    fn a_phrase_word_matches_the_whole_phrase() {
        let words = Words::parse("jangan kirim lagi").unwrap_or_else(|_| Words::defaults());
        assert_eq!(
            words.matched("Jangan   kirim lagi!"),
            Some("JANGAN KIRIM LAGI")
        );
        assert_eq!(words.matched("jangan"), None);
    }
}
