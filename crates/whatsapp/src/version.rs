//! The WhatsApp Web version Blastdesk announces when it connects.
//!
//! whatsapp-rust would otherwise fetch the current version from WhatsApp's
//! site at every connect (a network dependency and a moving target). It is
//! pinned here, in one place; when WhatsApp stops accepting it (the account
//! turns "outdated"), the person can set a newer one in Settings (the
//! `whatsapp_web_version` setting) without waiting for a new Blastdesk.

use std::fmt;
use std::str::FromStr;

/// A WhatsApp Web version, e.g. 2.3000.1029498916.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebVersion(pub u32, pub u32, pub u32);

/// The version this build announces unless a setting says otherwise.
pub const PINNED: WebVersion = WebVersion(2, 3000, 1_029_498_916);

/// The settings key of the override.
pub const SETTING: &str = "whatsapp_web_version";

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

/// The version to announce: the setting when it is set and valid, else
/// [`PINNED`].
pub fn current(store: &blastdesk_core::Store) -> WebVersion {
    store
        .setting_text(SETTING)
        .ok()
        .flatten()
        .and_then(|text| text.parse().ok())
        .unwrap_or(PINNED)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_setting_overrides_the_pinned_version() -> Result<(), Box<dyn std::error::Error>> {
        let store = blastdesk_core::Store::open_in_memory()?;
        assert_eq!(current(&store), PINNED);
        store.set_setting_text(SETTING, Some("2.3001.7"), 0)?;
        assert_eq!(current(&store), WebVersion(2, 3001, 7));
        store.set_setting_text(SETTING, None, 0)?;
        assert_eq!(current(&store), PINNED);
        Ok(())
    }
}
