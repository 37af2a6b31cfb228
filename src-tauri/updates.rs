//! Updating Blastdesk itself, through Tauri's updater plugin: a check at
//! start and then daily (unless the person chose "only when I ask"), the
//! offer shown in the window and the tray, and an install that waits for the
//! message each blast is sending, then restarts into the new version, where
//! the blasts go on by themselves as after any restart.
//!
//! What is decided and said lives in `blastdesk_core::updates`; this module
//! only drives the plugin. The plugin checks the download's signature
//! (minisign) against the public key in tauri.conf.json before anything is
//! replaced. A check sends nothing of the person's: it is a request for the
//! feed's fixed address (and then for the file the feed names), with the
//! updater's own headers, nothing else (tests/e2e/updates.rs records them).

use std::sync::{Arc, Mutex, PoisonError};

use blastdesk_core::Store;
use blastdesk_core::hooks;
use blastdesk_core::updates::{self, CheckPolicy, Offer, Refusal, Stage, UpdateStatus};
use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Emitter, Manager, Wry};
use tauri_plugin_updater::{Update, UpdaterExt};

use crate::commands::now_ms;
use crate::runner::Runner;

/// Test builds only: the update feed's address (e.g. a server on the
/// loopback address that a test started) instead of the configured one.
pub const ENDPOINT_ENV: &str = "BLASTDESK_UPDATE_ENDPOINT";
/// Test builds only: the public key the test's artefacts are signed with,
/// instead of Blastdesk's own (the test cannot hold Blastdesk's private key).
pub const PUBKEY_ENV: &str = "BLASTDESK_UPDATE_PUBKEY";

/// How long a check or a download may take before it counts as failed.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// How long the window is given to show why an install failed before
/// Blastdesk restarts on its own version (its blasts were stopped for it).
const SAY_WHY: std::time::Duration = std::time::Duration::from_secs(4);

/// The updater plugin, with the test build's key when a test gives one.
pub fn plugin() -> TauriPlugin<Wry, tauri_plugin_updater::Config> {
    let mut builder = tauri_plugin_updater::Builder::new();
    if let Some(key) = hooks::test_env(PUBKEY_ENV).and_then(|k| k.into_string().ok()) {
        builder = builder.pubkey(key);
    }
    builder.build()
}

/// Managed state: where updating stands, and the update found.
#[derive(Clone)]
pub struct Updates {
    inner: Arc<Inner>,
}

struct Inner {
    app: AppHandle,
    store: Option<Store>,
    status: Mutex<UpdateStatus>,
    /// What the last check found, to install when the person says so.
    found: Mutex<Option<Update>>,
    /// Wakes the daily loop when the policy changes.
    wake: tokio::sync::Notify,
}

impl Updates {
    /// Starts the checks: at once and then daily when they are automatic.
    pub fn start(app: &AppHandle, store: Option<Store>) -> Updates {
        let updates = Updates {
            inner: Arc::new(Inner {
                app: app.clone(),
                store,
                status: Mutex::new(UpdateStatus::NotChecked),
                found: Mutex::new(None),
                wake: tokio::sync::Notify::new(),
            }),
        };
        let daily = updates.clone();
        tauri::async_runtime::spawn(async move { daily.run().await });
        updates
    }

    pub fn status(&self) -> UpdateStatus {
        self.lock_status().clone()
    }

    pub fn policy(&self) -> CheckPolicy {
        self.inner
            .store
            .as_ref()
            .and_then(|store| CheckPolicy::of(store).ok())
            .unwrap_or_default()
    }

    pub fn set_policy(&self, policy: CheckPolicy) -> Result<(), blastdesk_core::store::Error> {
        if let Some(store) = &self.inner.store {
            policy.save(store, now_ms())?;
        }
        tracing::info!(?policy, "update checks");
        self.inner.wake.notify_one();
        Ok(())
    }

    /// The checks for as long as the app runs: one at start, then one a day
    /// after the last, while they are automatic; none otherwise.
    async fn run(self) {
        // The next wait when it is not a day after the last answered check:
        // at once at start, an hour after a check that failed.
        let mut soon = Some(std::time::Duration::ZERO);
        loop {
            let wait = match self.policy() {
                CheckPolicy::OnRequest => None,
                CheckPolicy::Automatic => Some(soon.take().unwrap_or_else(|| {
                    let last = self
                        .inner
                        .store
                        .as_ref()
                        .and_then(|store| updates::last_check(store).ok().flatten());
                    updates::next_check_in(last, now_ms())
                })),
            };
            match wait {
                Some(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {
                            if let UpdateStatus::Failed { .. } = self.check().await {
                                soon = Some(updates::RETRY_AFTER_FAILURE);
                            }
                        }
                        () = self.inner.wake.notified() => {}
                    }
                }
                None => self.inner.wake.notified().await,
            }
        }
    }

    /// Asks the feed whether there is a newer version; says what it found.
    pub async fn check(&self) -> UpdateStatus {
        if self.lock_status().is_installing() {
            return self.status();
        }
        self.set(UpdateStatus::Checking);
        let offered = Arc::new(Mutex::new(None));
        let status = match self.ask(offered.clone()).await {
            Ok(Some(update)) => {
                let offer = offer_of(&update);
                tracing::info!(version = %offer.version, important = offer.important.is_some(), "an update is available");
                *self
                    .inner
                    .found
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(update);
                UpdateStatus::Available { offer }
            }
            Ok(None) => {
                let current = self.inner.app.package_info().version.clone();
                let offered = offered
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                match offered {
                    Some(offered) if offered < current => UpdateStatus::Refused {
                        refusal: Refusal::Older {
                            offered: offered.to_string(),
                            current: current.to_string(),
                        },
                    },
                    _ => UpdateStatus::UpToDate {
                        checked_at_ms: now_ms(),
                    },
                }
            }
            Err(error) => UpdateStatus::Failed {
                stage: Stage::Check,
                detail: error.to_string(),
            },
        };
        if let Some(store) = &self.inner.store
            && !matches!(status, UpdateStatus::Failed { .. })
            && let Err(error) = updates::note_check(store, now_ms())
        {
            tracing::warn!("cannot note the update check: {error}");
        }
        if !matches!(status, UpdateStatus::Available { .. }) {
            self.inner
                .found
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
        }
        self.set(status.clone());
        status
    }

    /// One request to the feed. `offered` learns the version the feed names,
    /// newer or not, so that an older one can be refused aloud.
    async fn ask(
        &self,
        offered: Arc<Mutex<Option<semver::Version>>>,
    ) -> tauri_plugin_updater::Result<Option<Update>> {
        let mut builder = self
            .inner
            .app
            .updater_builder()
            .timeout(TIMEOUT)
            .version_comparator(move |current, release| {
                *offered.lock().unwrap_or_else(PoisonError::into_inner) =
                    Some(release.version.clone());
                release.version > current
            });
        if let Some(endpoint) = hooks::test_env(ENDPOINT_ENV).and_then(|e| e.into_string().ok()) {
            builder = builder.endpoints(vec![endpoint.parse()?])?;
        }
        builder.build()?.check().await
    }

    /// Downloads the update found, checks its signature, lets each blast
    /// finish the message it is sending, installs it and restarts. What is
    /// refused or fails changes nothing, and the status says why.
    pub async fn install(&self) -> UpdateStatus {
        let update = self
            .inner
            .found
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let Some(update) = update else {
            return self.status();
        };
        if self.lock_status().is_installing() {
            return self.status();
        }
        let offer = offer_of(&update);
        if !installed_from_a_package(&self.inner.app) {
            return self.refuse(Refusal::NotInstalled {
                version: offer.version,
            });
        }
        self.set(UpdateStatus::Downloading {
            offer: offer.clone(),
            received: 0,
            total: None,
        });
        let mut received = 0u64;
        let mut shown = 0u64;
        let progress = self.clone();
        let progress_offer = offer.clone();
        let downloaded = update
            .download(
                |chunk, total| {
                    received += chunk as u64;
                    // About a hundred steps, not one per network packet.
                    let step = total.unwrap_or(1 << 20).max(100) / 100;
                    if received - shown >= step || Some(received) == total {
                        shown = received;
                        progress.set(UpdateStatus::Downloading {
                            offer: progress_offer.clone(),
                            received,
                            total,
                        });
                    }
                },
                || {},
            )
            .await;
        let bytes = match downloaded {
            Ok(bytes) => bytes,
            Err(error) => return self.refuse_or_fail(&offer, Stage::Download, error),
        };
        tracing::info!(version = %offer.version, bytes = bytes.len(), "update downloaded and its signature verified");
        self.set(UpdateStatus::Finishing {
            offer: offer.clone(),
        });
        // Each worker stops after recording the message in hand; the
        // blasts keep their state and go on after the restart.
        if let Some(runner) = self.inner.app.try_state::<Runner>() {
            tracing::info!("stopping the workers to install an update");
            runner.control().stop_workers().await;
        }
        let installing = update.clone();
        let installed =
            tauri::async_runtime::spawn_blocking(move || installing.install(bytes)).await;
        match installed {
            Ok(Ok(())) => {
                tracing::info!(version = %offer.version, "update installed; restarting");
                self.set(UpdateStatus::Restarting { offer });
                self.inner.app.request_restart();
                self.status()
            }
            Ok(Err(error)) => {
                let status = self.refuse_or_fail(&offer, Stage::Install, error);
                self.restart_on_this_version();
                status
            }
            Err(error) => {
                let status = self.fail(Stage::Install, error.to_string());
                self.restart_on_this_version();
                status
            }
        }
    }

    /// After a failed install the workers are stopped: Blastdesk restarts
    /// on the version it has, a moment later, and the blasts go on.
    fn restart_on_this_version(&self) {
        tracing::warn!("the update was not installed; restarting on this version");
        let app = self.inner.app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(SAY_WHY).await;
            app.request_restart();
        });
    }

    fn refuse_or_fail(
        &self,
        offer: &Offer,
        stage: Stage,
        error: tauri_plugin_updater::Error,
    ) -> UpdateStatus {
        use tauri_plugin_updater::Error as E;
        let version = offer.version.clone();
        match error {
            E::Minisign(_) | E::Base64(_) | E::SignatureUtf8(_) => {
                self.refuse(Refusal::BadSignature { version })
            }
            E::SignedVersionMismatch { .. } | E::MissingSignedVersion => {
                self.refuse(Refusal::WrongVersion { version })
            }
            E::InvalidUpdaterFormat | E::BinaryNotFoundInArchive => {
                self.refuse(Refusal::NotAnInstaller { version })
            }
            other => self.fail(stage, other.to_string()),
        }
    }

    fn refuse(&self, refusal: Refusal) -> UpdateStatus {
        tracing::warn!("update refused: {}", refusal.message());
        let status = UpdateStatus::Refused { refusal };
        self.set(status.clone());
        status
    }

    fn fail(&self, stage: Stage, detail: String) -> UpdateStatus {
        let status = UpdateStatus::Failed { stage, detail };
        tracing::warn!("{}", status.message());
        self.set(status.clone());
        status
    }

    fn lock_status(&self) -> std::sync::MutexGuard<'_, UpdateStatus> {
        self.inner
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the status and tells the window and the tray.
    fn set(&self, status: UpdateStatus) {
        *self.lock_status() = status.clone();
        if let Err(error) = self.inner.app.emit("update", &status) {
            tracing::warn!("cannot tell the window: {error}");
        }
        if let Some(store) = &self.inner.store {
            crate::tray::refresh_update(&self.inner.app, store, &status);
        }
    }
}

fn offer_of(update: &Update) -> Offer {
    let date = update
        .raw_json
        .get("pub_date")
        .and_then(|d| d.as_str())
        .map(str::to_owned);
    Offer::new(
        update.version.clone(),
        date,
        update.body.clone(),
        &update.raw_json,
    )
}

/// Whether this copy came from a Blastdesk package that can be replaced:
/// an AppImage, a .deb or .rpm on Linux (the bundler marks the binary), an
/// NSIS or MSI install on Windows, an app bundle on macOS. A binary built
/// from source (`cargo run`) is none of them: replacing it would replace
/// the build.
fn installed_from_a_package(app: &AppHandle) -> bool {
    use tauri::utils::platform::bundle_type;
    #[cfg(target_os = "linux")]
    {
        app.env().appimage.is_some() || bundle_type().is_some()
    }
    #[cfg(target_os = "macos")]
    {
        let _ = app;
        let _ = bundle_type;
        tauri::utils::platform::current_exe()
            .map(|exe| exe.to_string_lossy().contains(".app/Contents/MacOS/"))
            .unwrap_or(false)
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos")))]
    {
        let _ = app;
        bundle_type().is_some()
    }
}
