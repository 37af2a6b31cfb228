//! The WhatsApp Web version Blastdesk announces when it connects.
//!
//! By default whatsapp-rust's own: it fetches WhatsApp Web's current version
//! (at most once a day) and announces that, so a version WhatsApp retires
//! does not strand every account. When WhatsApp still says "outdated", the
//! session fetches the current version at once and tries again, once (see
//! `session`). An advanced setting (`whatsapp_web_version`) can name a
//! version instead, for when WhatsApp's site cannot be reached.

use std::fmt;
use std::str::FromStr;

/// A WhatsApp Web version, e.g. 2.3000.1029498916.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebVersion(pub u32, pub u32, pub u32);

/// A version WhatsApp accepted when this Blastdesk was made: what tests
/// announce (they reach no website), and the example in the setting's help.
pub const PINNED: WebVersion = WebVersion(2, 3000, 1_029_498_916);

/// The settings key of the override.
pub const SETTING: &str = "whatsapp_web_version";

/// The version of whatsapp-rust, the protocol library, this Blastdesk is
/// built with (from Cargo.lock), for the About box and the logs.
pub const LIBRARY: &str = env!("BLASTDESK_WHATSAPP_RUST_VERSION");

impl WebVersion {
    pub fn tuple(self) -> (u32, u32, u32) {
        (self.0, self.1, self.2)
    }
}

impl fmt::Display for WebVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a WhatsApp Web version: write three numbers like 2.3000.1029498916")]
pub struct VersionError(String);

impl FromStr for WebVersion {
    type Err = VersionError;

    fn from_str(text: &str) -> Result<WebVersion, VersionError> {
        let error = || VersionError(text.to_owned());
        let parts: Vec<u32> = text
            .trim()
            .split('.')
            .map(|p| p.parse::<u32>().map_err(|_| error()))
            .collect::<Result<_, _>>()?;
        match parts[..] {
            [a, b, c] if a >= 2 => Ok(WebVersion(a, b, c)),
            _ => Err(error()),
        }
    }
}

/// The version the setting names, when it is set and valid; `None`: the
/// library's current one.
pub fn current(store: &blastdesk_core::Store) -> Option<WebVersion> {
    store
        .setting_text(SETTING)
        .ok()
        .flatten()
        .and_then(|text| text.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_version_is_the_locked_one() {
        let lock = include_str!("../../../Cargo.lock");
        let entry = format!("name = \"whatsapp-rust\"\nversion = \"{LIBRARY}\"");
        assert!(
            lock.contains(&entry),
            "{LIBRARY} is not whatsapp-rust's version in Cargo.lock"
        );
        assert!(LIBRARY.split('.').count() == 3, "{LIBRARY}");
    }

    #[test]
    fn versions_parse_and_print() {
        assert_eq!("2.3000.1029498916".parse(), Ok(PINNED));
        assert_eq!(PINNED.to_string(), "2.3000.1029498916");
        assert_eq!(" 2.3001.5 ".parse(), Ok(WebVersion(2, 3001, 5)));
        for bad in ["", "2.3000", "2.3000.x", "1.0.0", "2.3000.1.4", "-2.3.4"] {
            assert!(bad.parse::<WebVersion>().is_err(), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod setting {
    use super::*;

    #[test]
    fn the_setting_overrides_the_current_version() -> Result<(), Box<dyn std::error::Error>> {
        let store = blastdesk_core::Store::open_in_memory()?;
        assert_eq!(current(&store), None);
        store.set_setting_text(SETTING, Some("2.3001.7"), 0)?;
        assert_eq!(current(&store), Some(WebVersion(2, 3001, 7)));
        store.set_setting_text(SETTING, None, 0)?;
        assert_eq!(current(&store), None);
        Ok(())
    }
}
