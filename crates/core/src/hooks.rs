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
    read(HONOURED, name)
}

fn read(honoured: bool, name: &str) -> Option<std::ffi::OsString> {
    honoured.then(|| std::env::var_os(name)).flatten()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_build_that_does_not_honour_the_hooks_reads_nothing_even_when_set() {
        // PATH is set wherever tests run; a hook is read the same way.
        assert!(std::env::var_os("PATH").is_some());
        assert_eq!(super::read(false, "PATH"), None);
        assert_eq!(super::read(true, "PATH"), std::env::var_os("PATH"));
    }
}
