//! Environment variables that script Blastdesk for automated tests: the
//! file dialogs (`BLASTDESK_PICK_FILES`, `BLASTDESK_SAVE_FILE`) and the
//! network (`BLASTDESK_NETWORK`). They work in debug builds only: a release
//! build, the one people run, ignores them, so nothing in its environment
//! can make it read or write a file the person did not choose, or fake its
//! connection to WhatsApp.

/// Whether the test hooks are honoured in this build.
pub const HONOURED: bool = cfg!(debug_assertions);

/// A test hook's value; always `None` in a release build.
pub fn test_env(name: &str) -> Option<std::ffi::OsString> {
    if HONOURED {
        std::env::var_os(name)
    } else {
        None
    }
}
