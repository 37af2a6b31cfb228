//! What ships never skips WhatsApp's certificate check. The test server's
//! certificates are not signed by WhatsApp, so the adapter's tests turn on
//! whatsapp-rust's `danger-skip-cert-chain-verify`, as a dev-dependency
//! only. Cargo adds a dev-dependency's features to every build of a test
//! run (the app binary the window tests start included), so this reads the
//! dependency graph of the shipped binaries as a release build resolves it
//! (normal dependencies only) and fails if the feature is there.

use std::process::Command;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const DANGER: &str = "danger-skip-cert-chain-verify";

/// The whatsapp-rust features a package's build enables, as cargo resolves
/// them for `edges` ("normal": what a release build of it gets).
fn features(package: &str, edges: &str) -> Result<String, Box<dyn std::error::Error>> {
    let output = Command::new(env!("CARGO"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "--locked", "-p", package])
        .args(["-e", &format!("{edges},features"), "-i", "whatsapp-rust"])
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    Ok(String::from_utf8(output.stdout)?)
}

#[test]
#[cfg_attr(
    windows,
    ignore = "reads the dependency graph with cargo, the same on every platform: the Linux run checks it (under Wine, cargo cannot be started)"
)]
fn no_shipped_build_skips_whatsapps_certificate_check() -> TestResult {
    for package in ["blastdesk", "blastdesk-cli"] {
        let shipped = features(package, "normal")?;
        assert!(
            shipped.contains("whatsapp-rust feature \"signal\""),
            "{package}: the graph was read: {shipped}"
        );
        assert!(!shipped.contains(DANGER), "{package} ships {DANGER}");
    }
    // The check can see the feature where it is: the adapter's tests.
    let tests = features("blastdesk-whatsapp", "normal,dev")?;
    assert!(tests.contains(DANGER), "{tests}");
    Ok(())
}
