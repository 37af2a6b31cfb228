//! The test-only environment hooks (`BLASTDESK_PICK_FILES`,
//! `BLASTDESK_SAVE_FILE`, `BLASTDESK_NETWORK`, `BLASTDESK_UPDATE_ENDPOINT`,
//! `BLASTDESK_UPDATE_PUBKEY`) are read only through
//! `hooks::test_env`, which a release build makes inert. This reads the
//! sources of every crate and fails on any other read of the environment.

use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with("tests") {
                rust_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    Ok(())
}

#[test]
fn test_hooks_are_read_only_through_the_guard_a_release_build_disables() -> TestResult {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [
        "src-tauri",
        "crates/core/src",
        "crates/whatsapp/src",
        "crates/cli/src",
    ] {
        rust_files(&root.join(dir), &mut files)?;
    }
    assert!(files.len() > 20, "too few sources found: {}", files.len());
    // The environment variables a person may set, read directly.
    let allowed = ["hooks.rs", "data_dir.rs", "words.rs", "app.rs"];
    let mut direct = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file)?;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if (text.contains("env::var(") || text.contains("env::var_os(")) && !allowed.contains(&name)
        {
            direct.push(file.display().to_string());
        }
    }
    assert!(
        direct.is_empty(),
        "reads the environment directly: {direct:?}"
    );
    Ok(())
}
