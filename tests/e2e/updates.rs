//! Updating Blastdesk from its window, against an update feed served on the
//! loopback address: the AppImage of this version (made by
//! scripts/package-linux.sh) finds a newer one, shows it, and installs it
//! while a blast is sending, which goes on after the restart with no one
//! messaged twice; a download signed with another key, one signed for
//! another version, an older version and a copy not installed from a
//! package are each refused, changing nothing.
//!
//! The packages are made before the tests (scripts/test.sh does it):
//! `BLASTDESK_TEST_PACKAGES` names the folder with the AppImage of this
//! version and of one newer version.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::Engine as _;
use blastdesk_core::Store;
use blastdesk_core::audience::{Fields, Recipient, Source};
use blastdesk_core::blast::{self, BlastOptions, NewBlast, Sender};
use blastdesk_core::messenger::read_ledger;
use blastdesk_core::owner::Owner;
use blastdesk_core::phone::Phone;
use blastdesk_core::store::runs::BlastState;

use crate::harness::{
    App, Result, UPDATE_ENDPOINT_ENV, bounded, one_message_a_second, step, wait_until,
};
use crate::shell::{read_logs, wait_for_log};

/// This version, the one the tests' build reports.
const CURRENT: &str = env!("CARGO_PKG_VERSION");
/// The key the app trusts for updates, in a test build.
const PUBKEY_ENV: &str = "BLASTDESK_UPDATE_PUBKEY";
/// The customers of the blast that sends through an update.
const CUSTOMERS: usize = 12;

/// The AppImages the packaging made: this version's and the newer one's.
struct Packages {
    current: PathBuf,
    newer: PathBuf,
    newer_version: String,
}

fn packages() -> Result<Packages> {
    let dir = std::env::var_os("BLASTDESK_TEST_PACKAGES").ok_or(
        "BLASTDESK_TEST_PACKAGES is not set: scripts/test.sh makes the packages the update \
         tests install (scripts/package-linux.sh, once with --version of a newer version)",
    )?;
    let mut current = None;
    let mut newer = None;
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(version) = name
            .as_deref()
            .and_then(|n| n.strip_prefix("Blastdesk_"))
            .and_then(|n| n.strip_suffix("_amd64.AppImage"))
        else {
            continue;
        };
        if version == CURRENT {
            current = Some(path);
        } else {
            newer = Some((path, version.to_owned()));
        }
    }
    let current = current.ok_or(format!("no AppImage of {CURRENT} in {dir:?}"))?;
    let (newer, newer_version) =
        newer.ok_or(format!("no AppImage of a newer version in {dir:?}"))?;
    Ok(Packages {
        current,
        newer,
        newer_version,
    })
}

/// A signing key, as the release workflow holds Blastdesk's.
struct Key(minisign::KeyPair);

impl Key {
    fn new() -> Result<Key> {
        Ok(Key(minisign::KeyPair::generate_unencrypted_keypair()?))
    }

    /// The public key as the updater's configuration takes it.
    fn public(&self) -> Result<String> {
        let text = self.0.pk.to_box()?.to_string();
        Ok(base64::engine::general_purpose::STANDARD.encode(text))
    }

    /// The signature of `bytes` for `version`, as Tauri's signer writes it
    /// into the feed (its trusted comment names the version).
    fn sign(&self, bytes: &[u8], version: &str) -> Result<String> {
        let comment = format!("timestamp:1796000000\tfile:Blastdesk.AppImage\tversion:{version}");
        let signature = minisign::sign(
            Some(&self.0.pk),
            &self.0.sk,
            bytes,
            Some(&comment),
            Some("signature from the tests"),
        )?;
        Ok(base64::engine::general_purpose::STANDARD.encode(signature.to_string()))
    }
}

/// What the feed serves now.
#[derive(Default)]
struct Offer {
    manifest: String,
    artefact: Vec<u8>,
}

/// The update feed: `latest.json` and the artefact it points to, on the
/// loopback address; it keeps each request, to show what the app sends.
struct Feed {
    address: String,
    offer: Arc<Mutex<Offer>>,
    requests: Arc<Mutex<Vec<String>>>,
    server: Arc<tiny_http::Server>,
}

impl Feed {
    fn start() -> Result<Feed> {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").map_err(|e| e.to_string())?);
        let address = server
            .server_addr()
            .to_ip()
            .ok_or("the feed has no IP address")?
            .to_string();
        let offer = Arc::new(Mutex::new(Offer::default()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (serving, served, log) = (server.clone(), offer.clone(), requests.clone());
        std::thread::spawn(move || {
            for mut request in serving.incoming_requests() {
                let mut body = Vec::new();
                let _ = request.as_reader().read_to_end(&mut body);
                let mut seen = format!("{} {}", request.method(), request.url());
                for header in request.headers() {
                    seen.push_str(&format!("\n{}: {}", header.field, header.value));
                }
                seen.push_str(&format!("\n\n{}", String::from_utf8_lossy(&body)));
                log.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(seen);
                let offer = served.lock().unwrap_or_else(PoisonError::into_inner);
                let response = match request.url() {
                    "/latest.json" => {
                        tiny_http::Response::from_data(offer.manifest.clone().into_bytes())
                    }
                    "/Blastdesk.AppImage" => tiny_http::Response::from_data(offer.artefact.clone()),
                    _ => tiny_http::Response::from_data(Vec::new()).with_status_code(404),
                };
                drop(offer);
                let _ = request.respond(response);
            }
        });
        Ok(Feed {
            address,
            offer,
            requests,
            server,
        })
    }

    /// Offers `version` with `artefact` and its `signature`.
    fn offer(
        &self,
        version: &str,
        artefact: Vec<u8>,
        signature: &str,
        important: Option<&str>,
    ) -> Result {
        let mut manifest = serde_json::json!({
            "version": version,
            "notes": format!("Blastdesk {version}: faster previews."),
            "pub_date": "2026-12-01T09:00:00Z",
            "platforms": {
                "linux-x86_64": {
                    "signature": signature,
                    "url": format!("http://{}/Blastdesk.AppImage", self.address),
                }
            }
        });
        if let Some(important) = important {
            manifest["important"] = important.into();
        }
        *self.offer.lock().unwrap_or_else(PoisonError::into_inner) = Offer {
            manifest: manifest.to_string(),
            artefact,
        };
        Ok(())
    }

    /// The app's environment: this feed, and `key` as the one it trusts.
    fn env(&self, key: &Key) -> Result<Vec<(String, OsString)>> {
        Ok(vec![
            (
                UPDATE_ENDPOINT_ENV.into(),
                format!("http://{}/latest.json", self.address).into(),
            ),
            (PUBKEY_ENV.into(), key.public()?.into()),
            // No FUSE on a test machine: the AppImage unpacks itself instead.
            ("APPIMAGE_EXTRACT_AND_RUN".into(), "1".into()),
        ])
    }

    fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// The customers of the blast: their numbers and names must never reach
/// the update server.
fn customers() -> Vec<Recipient> {
    (0..CUSTOMERS)
        .map(|i| Recipient {
            phone: Phone::from_e164_unchecked(format!("+6281400000{i:03}")),
            fields: Fields::new(vec![(Arc::from("Nama"), format!("Ibu Sari {i}"))]),
            source: Source::Audience {
                audience: Arc::from("Pelanggan"),
            },
        })
        .collect()
}

/// The store of the data folder `dir`, its welcome done.
fn past_the_welcome(dir: &Path) -> Result<Store> {
    let store = Store::open_in(dir)?;
    store.set_setting_text("welcome_done", Some("yes"), 0)?;
    Ok(store)
}

/// A data folder past the welcome with a rehearsal blast the app starts
/// sending at launch, one message a second.
fn sending_rehearsal(dir: &Path) -> Result<i64> {
    let store = past_the_welcome(dir)?;
    let account = blast::rehearsal_account(&store, 0)?;
    store.set_account_pacing(account, &one_message_a_second())?;
    let created = blast::create(
        &store,
        &NewBlast {
            name: "Sending through an update",
            template: "Halo {Nama}, stok baru sudah datang",
            sender: Sender::Rehearsal,
            recipients: &customers(),
            options: BlastOptions::default(),
            attach: None,
        },
        0,
    )?;
    Ok(created.blast_id)
}

fn ledger_len(dir: &Path) -> usize {
    read_ledger(&dir.join("rehearsal-ledger.jsonl")).map_or(0, |l| l.len())
}

/// The AppImage of this version, copied where the updater may replace it.
fn installed_copy(packages: &Packages, dir: &Path) -> Result<PathBuf> {
    let path = dir.join("Blastdesk.AppImage");
    std::fs::copy(&packages.current, &path)?;
    Ok(path)
}

/// The process that holds the data folder now, to end it after the test
/// (a restarted app is no child of the test).
fn holder(dir: &Path) -> Option<u32> {
    Owner::holder(dir).map(|claim| claim.pid)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_version_is_shown_and_installed_while_a_blast_goes_on() -> Result {
    bounded(install_while_sending()).await
}

async fn install_while_sending() -> Result {
    let packages = packages()?;
    let home = tempfile::tempdir()?;
    let dir = tempfile::tempdir()?;
    let appimage = installed_copy(&packages, home.path())?;
    let blast_id = sending_rehearsal(dir.path())?;
    let key = Key::new()?;
    let feed = Feed::start()?;
    let newer = std::fs::read(&packages.newer)?;
    assert_ne!(std::fs::read(&appimage)?, newer, "the two packages differ");
    let notice = "WhatsApp changed how numbers are linked: without this update, linking fails.";
    feed.offer(
        &packages.newer_version,
        newer.clone(),
        &key.sign(&newer, &packages.newer_version)?,
        Some(notice),
    )?;

    step("the AppImage of this version starts, sending; its own check finds the newer one");
    let app = App::launch_program(dir.path(), &appimage, feed.env(&key)?).await?;
    app.wait_for_text(
        "[data-testid=update-banner-text]",
        &format!("Blastdesk {} is available.", packages.newer_version),
    )
    .await?;
    app.wait_for_text(
        "[data-testid=update-important]",
        &format!("Important update: {notice}"),
    )
    .await?;
    app.screenshot_for_docs("update-important").await?;
    // An important update is not put off.
    assert!(
        app.client
            .find(fantoccini::Locator::Css("[data-testid=postpone-update]"))
            .await
            .is_err()
    );
    app.click("#nav a[data-screen=settings]").await?;
    app.wait_for_text(
        "[data-testid=update-current]",
        &format!("This is Blastdesk {CURRENT}."),
    )
    .await?;
    // The versions that matter when WhatsApp changes, behind Advanced.
    app.click("[data-testid=advanced] summary").await?;
    app.wait_for_text(
        "[data-testid=about-whatsapp-rust]",
        blastdesk_whatsapp::version::LIBRARY,
    )
    .await?;
    app.wait_for_text_that(
        "[data-testid=about-whatsapp-web]",
        "the WhatsApp Web version",
        |t| t.contains(&blastdesk_whatsapp::version::PINNED.to_string()),
    )
    .await?;
    // The date as the system's locale writes it (1 Dec 2026, Dec 1, 2026).
    let notes = format!("Blastdesk {}: faster previews.", packages.newer_version);
    app.wait_for_text_that(
        "[data-testid=update-notes]",
        "the release's date and notes",
        |t| t.starts_with("Released ") && t.contains("2026") && t.ends_with(&notes),
    )
    .await?;
    wait_until(Duration::from_secs(20), "a few messages out", || {
        ledger_len(dir.path()) >= 2
    })?;
    let first = holder(dir.path()).ok_or("no process holds the data folder")?;

    step("install: the blast stops after the message in hand, the new version takes over");
    app.click("[data-testid=install-update-banner]").await?;
    wait_for_log(
        dir.path(),
        &format!("Blastdesk starting version={}", packages.newer_version),
        Duration::from_secs(60),
    )?;
    assert_eq!(
        std::fs::read(&appimage)?,
        newer,
        "the AppImage was replaced by the newer one"
    );
    let second = holder(dir.path()).ok_or("no process holds the data folder after the restart")?;
    assert_ne!(first, second, "another process runs the new version");

    step("the blast goes on in the new version and finishes, no one messaged twice");
    let finished = wait_until(Duration::from_secs(90), "the blast to finish", || {
        Store::open_in(dir.path())
            .and_then(|store| store.blast_summary(blast_id))
            .is_ok_and(|summary| summary.state == BlastState::Completed)
    });
    let _ = std::process::Command::new("kill")
        .arg(second.to_string())
        .status();
    finished?;
    let ledger = read_ledger(&dir.path().join("rehearsal-ledger.jsonl"))?;
    let phones: std::collections::HashSet<&str> = ledger.iter().map(|e| e.phone.as_str()).collect();
    assert_eq!((ledger.len(), phones.len()), (CUSTOMERS, CUSTOMERS));

    step("what the app asked the update server: the feed and the file, nothing of the customers");
    let requests = feed.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /latest.json")),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /Blastdesk.AppImage")),
        "{requests:?}"
    );
    for request in &requests {
        for secret in ["+62814", "62814", "Sari", "Pelanggan", "stok baru"] {
            assert!(
                !request.contains(secret),
                "{secret:?} reached the update server: {request}"
            );
        }
    }
    drop(app);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_signature_another_version_and_an_older_version_are_refused() -> Result {
    bounded(refusals()).await
}

async fn refusals() -> Result {
    let packages = packages()?;
    let home = tempfile::tempdir()?;
    let dir = tempfile::tempdir()?;
    let appimage = installed_copy(&packages, home.path())?;
    let before = std::fs::read(&appimage)?;
    past_the_welcome(dir.path())?;
    let key = Key::new()?;
    let feed = Feed::start()?;
    let newer = std::fs::read(&packages.newer)?;

    step("an older version offered: refused, said in Settings, no banner");
    feed.offer("0.0.1", newer.clone(), &key.sign(&newer, "0.0.1")?, None)?;
    let app = App::launch_program(dir.path(), &appimage, feed.env(&key)?).await?;
    app.click("#nav a[data-screen=settings]").await?;
    app.wait_for_text(
        "[data-testid=update-status]",
        &format!(
            "The update server offers Blastdesk 0.0.1, older than this {CURRENT}: it was not installed. Nothing changed."
        ),
    )
    .await?;
    assert!(!app.element("#update-banner").await?.is_displayed().await?);
    app.scroll_into_view("[data-testid=updates-card]", "center")
        .await?;
    let card = app.text("[data-testid=updates-card]").await?;
    assert!(
        !card.contains("null") && !card.contains("undefined"),
        "{card}"
    );
    app.screenshot_for_docs("settings-updates").await?;

    let version = &packages.newer_version;
    for (what, signature, expected) in [
        (
            "signed with another key",
            Key::new()?.sign(&newer, version)?,
            format!(
                "The download of Blastdesk {version} is not signed with Blastdesk's key: it was not installed. Nothing changed."
            ),
        ),
        (
            "signed for another version",
            key.sign(&newer, "0.0.1")?,
            format!(
                "The download announced as Blastdesk {version} was signed for another version: it was not installed. Nothing changed."
            ),
        ),
    ] {
        step(&format!(
            "a download {what}: refused, the AppImage unchanged"
        ));
        feed.offer(version, newer.clone(), &signature, None)?;
        app.click("[data-testid=check-update]").await?;
        app.click("[data-testid=install-update]").await?;
        app.wait_for_text("[data-testid=update-banner-text]", &expected)
            .await?;
        app.wait_for_text("[data-testid=update-status]", &expected)
            .await?;
        let banner = app.text("#update-banner").await?;
        assert!(
            !banner.contains("null") && !banner.contains("undefined"),
            "{banner}"
        );
        assert_eq!(
            std::fs::read(&appimage)?,
            before,
            "the AppImage is as it was"
        );
    }
    step("the refusal, read, is closed; Settings still says it");
    app.click("[data-testid=dismiss-update]").await?;
    assert!(!app.element("#update-banner").await?.is_displayed().await?);
    assert!(
        app.text("[data-testid=update-status]")
            .await?
            .starts_with("The download announced as")
    );
    assert!(
        !read_logs(dir.path()).contains(&format!("Blastdesk starting version={version}")),
        "the newer version never started"
    );
    app.close().await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_copy_not_installed_from_a_package_does_not_replace_itself() -> Result {
    bounded(not_a_package()).await
}

async fn not_a_package() -> Result {
    let packages = packages()?;
    let dir = tempfile::tempdir()?;
    past_the_welcome(dir.path())?;
    let key = Key::new()?;
    let feed = Feed::start()?;
    let newer = std::fs::read(&packages.newer)?;
    feed.offer(
        &packages.newer_version,
        newer.clone(),
        &key.sign(&newer, &packages.newer_version)?,
        None,
    )?;
    step("the build itself (cargo's binary) finds the update but cannot install it");
    let app = App::launch_with(dir.path(), feed.env(&key)?).await?;
    app.click("[data-testid=install-update-banner]").await?;
    app.wait_for_text(
        "[data-testid=update-banner-text]",
        &format!(
            "This copy of Blastdesk was not installed from a Blastdesk package, so it cannot update itself to {}: install the new version from the download page.",
            packages.newer_version
        ),
    )
    .await?;
    let downloads = feed
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /Blastdesk.AppImage"))
        .count();
    assert_eq!(downloads, 0, "nothing was downloaded");
    app.close().await
}
