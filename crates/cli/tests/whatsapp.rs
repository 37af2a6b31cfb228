//! The CLI's account commands against the fake WhatsApp server
//! (`wa-test-server`) on a loopback WebSocket: `account link` shows the QR
//! code the simulated phone scans and ends connected; `account remove`
//! logs the device out on WhatsApp first, then deletes its keys.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use wa_test_server::TestServer;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PHONE: &str = "+6281234567890";

fn cli(data_dir: &Path, network: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_blastdesk-cli"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BLASTDESK_DATA_DIR")
        .env("BLASTDESK_NETWORK", network);
    command
}

#[test]
fn an_account_linked_through_whatsapp_is_logged_out_there_when_removed() -> TestResult {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = TestServer::new();
    let address = runtime.block_on(server.listen())?;
    let network = format!("ws://{address}/ws/chat");
    let dir = tempfile::tempdir()?;
    let ok = |command: &mut Command| -> Result<String, Box<dyn std::error::Error>> {
        let output = command.output()?;
        if !output.status.success() {
            return Err(format!("{output:?}").into());
        }
        Ok(String::from_utf8(output.stdout)?)
    };
    ok(&mut cli(dir.path(), &network, &["account", "add", "Toko"]))?;
    // A named version: nothing is fetched from WhatsApp's site.
    let version = blastdesk_whatsapp::version::PINNED.to_string();
    ok(&mut cli(
        dir.path(),
        &network,
        &["settings", "whatsapp-version", &version],
    ))?;

    let mut link = cli(
        dir.path(),
        &network,
        &["account", "link", "1", "--json", "--give-up-after", "120"],
    )
    .stdout(Stdio::piped())
    .spawn()?;
    let lines = BufReader::new(link.stdout.take().ok_or("no stdout")?).lines();
    let mut scanned = false;
    let mut said = Vec::new();
    for line in lines {
        let line = line?;
        if !scanned
            && let Ok(value) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(qr) = value["qr"].as_str()
        {
            server.scan(qr, PHONE)?;
            scanned = true;
        }
        said.push(line);
    }
    let linked = link.wait()?;
    assert!(linked.success(), "{said:#?}");
    assert!(
        said.iter().any(|l| l.contains("\"connected\"")),
        "{said:#?}"
    );
    let keys = blastdesk_core::data_dir::session_file(dir.path(), 1);
    assert!(keys.exists());

    let started = Instant::now();
    let removed = ok(&mut cli(dir.path(), &network, &["account", "remove", "1"]))?;
    assert!(removed.contains("is removed"), "{removed}");
    assert!(!removed.contains("could not be reached"), "{removed}");
    assert!(started.elapsed() < Duration::from_secs(60));
    let asked = server
        .stanzas()
        .into_iter()
        .filter(|s| {
            s.node
                .children()
                .is_some_and(|c| c.iter().any(|n| n.tag == "remove-companion-device"))
        })
        .count();
    assert_eq!(asked, 1, "WhatsApp was asked to remove the device");
    assert!(!keys.exists(), "the keys are deleted");
    Ok(())
}
