//! Where Blastdesk keeps its data: one SQLite file, the WhatsApp session files
//! and the logs, all in one directory per computer user.
//!
//! The desktop shell asks Tauri's path API for the app-data directory; the CLI
//! uses [`platform_default`], which resolves to the same place. Both honour
//! [`ENV_VAR`] first, so tests and power users can point Blastdesk elsewhere.

use std::path::{Path, PathBuf};

/// The app's bundle identifier; it also names the data directory.
/// `tauri.conf.json` must carry the same value (a shell test checks it).
pub const APP_IDENTIFIER: &str = "com.blastdesk.desktop";

/// Environment variable that overrides the data directory.
pub const ENV_VAR: &str = "BLASTDESK_DATA_DIR";

/// The directory named by [`ENV_VAR`], if it is set and not empty.
pub fn from_env() -> Option<PathBuf> {
    std::env::var_os(ENV_VAR)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// The operating system's per-user app-data directory for Blastdesk:
/// `~/.local/share/com.blastdesk.desktop` on Linux,
/// `~/Library/Application Support/com.blastdesk.desktop` on macOS,
/// `%APPDATA%\com.blastdesk.desktop` on Windows (what Tauri's `app_data_dir` gives).
pub fn platform_default() -> Option<PathBuf> {
    dirs::data_dir().map(|base| base.join(APP_IDENTIFIER))
}

/// The log directory inside a data directory.
pub fn logs_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("logs")
}

/// The folder of WhatsApp session stores (the keys of linked accounts).
pub fn sessions_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("sessions")
}

/// The session store of one account. Its keys let anyone holding the file
/// send as the account: it lives in a folder only its owner can open.
pub fn session_file(data_dir: &Path, account_id: i64) -> PathBuf {
    sessions_dir(data_dir).join(format!("account-{account_id}.sqlite3"))
}

/// Creates the sessions folder, readable by its owner only (Unix), and
/// tightens it if it exists with wider permissions.
pub fn ensure_sessions_dir(data_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = sessions_dir(data_dir);
    std::fs::create_dir_all(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}

/// How long a deletion waits for a file Windows says is in use: SQLite's
/// connection pool may open and close the file a moment after its store is
/// gone (a connection it was still establishing).
const IN_USE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// Deletes an account's session store (and SQLite's side files). Returns
/// whether there was anything to delete. A file another handle holds open
/// (Windows refuses to delete it) is tried again for a few seconds; this
/// blocks, so call it where blocking is allowed.
pub fn forget_session(data_dir: &Path, account_id: i64) -> std::io::Result<bool> {
    let file = session_file(data_dir, account_id);
    let mut removed = false;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.clone().into_os_string();
        name.push(suffix);
        if remove_patiently(&PathBuf::from(name))? {
            removed = true;
        }
    }
    Ok(removed)
}

/// Removes `path`; whether it was there. Retries while it is in use.
fn remove_patiently(path: &Path) -> std::io::Result<bool> {
    let deadline = std::time::Instant::now() + IN_USE_PATIENCE;
    loop {
        match std::fs::remove_file(path) {
            Ok(()) => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) if in_use(&e) && std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether an error says another handle has the file open: Windows'
/// sharing and lock violations (32, 33). Never true elsewhere, where an open
/// file can be deleted.
fn in_use(error: &std::io::Error) -> bool {
    cfg!(windows) && matches!(error.raw_os_error(), Some(32 | 33))
}

/// Creates the data directory (and its parents) if needed. A directory it
/// creates is readable by its owner only (Unix); an existing one, which the
/// person chose (`--data-dir`), keeps its permissions.
pub fn ensure(data_dir: &Path) -> std::io::Result<()> {
    if data_dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(data_dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::{ensure, ensure_sessions_dir, forget_session, session_file};

    #[test]
    fn session_stores_are_private_and_forgotten_whole() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let sessions = ensure_sessions_dir(dir.path())?;
        assert_eq!(mode(&sessions)?, 0o700);
        let file = session_file(dir.path(), 7);
        for suffix in ["", "-wal", "-shm"] {
            std::fs::write(format!("{}{suffix}", file.display()), b"keys")?;
        }
        let other = session_file(dir.path(), 8);
        std::fs::write(&other, b"other keys")?;
        assert!(forget_session(dir.path(), 7)?);
        assert!(!file.exists());
        assert!(!std::path::Path::new(&format!("{}-wal", file.display())).exists());
        assert!(other.exists(), "another account's session stays");
        assert!(!forget_session(dir.path(), 7)?, "nothing left to forget");
        Ok(())
    }

    fn mode(path: &std::path::Path) -> std::io::Result<u32> {
        Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
    }

    #[test]
    fn a_new_directory_is_private_and_an_existing_one_keeps_its_permissions() -> std::io::Result<()>
    {
        let dir = tempfile::tempdir()?;
        let new = dir.path().join("a").join("data");
        ensure(&new)?;
        assert_eq!(mode(&new)?, 0o700);

        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared)?;
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755))?;
        ensure(&shared)?;
        assert_eq!(
            mode(&shared)?,
            0o755,
            "a folder the person chose is left as it was"
        );
        Ok(())
    }
}
