//! Records the version of whatsapp-rust this crate is built with (from the
//! workspace's Cargo.lock), for the About box and the logs: when WhatsApp
//! changes something, the first question is which library version a copy runs.

fn main() {
    let lock = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let version = locked_version(&text, "whatsapp-rust").unwrap_or("unknown");
    println!("cargo:rustc-env=BLASTDESK_WHATSAPP_RUST_VERSION={version}");
}

/// The version of `name` in a Cargo.lock's text: the `version` line after
/// its `name` line, in the same `[[package]]` entry.
fn locked_version<'a>(lock: &'a str, name: &str) -> Option<&'a str> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines().skip_while(|line| line.trim() != wanted);
    lines.next()?;
    lines
        .take_while(|line| !line.starts_with("[["))
        .find_map(|line| line.trim().strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
}
