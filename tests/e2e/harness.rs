//! Launching the app for a test: Xvfb, a D-Bus session, tauri-driver, and a
//! WebDriver session on the app binary.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub type Error = Box<dyn std::error::Error + Send + Sync>;
pub type Result<T = ()> = std::result::Result<T, Error>;

/// How long one end-to-end test may take in all: a WebDriver call that never
/// answers fails the test instead of stalling the suite.
const TEST_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs a test body under [`TEST_TIMEOUT`].
pub async fn bounded(body: impl std::future::Future<Output = Result>) -> Result {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .map_err(|_| format!("the test did not finish within {TEST_TIMEOUT:?}"))?
}

/// How long a UI expectation may take before the test fails.
const UI_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a helper process may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process killed when the test ends, however it ends.
struct Guarded(Child);

impl Drop for Guarded {
    fn drop(&mut self) {
        // SIGTERM first, so that servers clean up after themselves (Xvfb
        // removes its lock file); SIGKILL if that does not end it.
        let pid = self.0.id().to_string();
        let terminated = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .is_ok_and(|s| s.success());
        if terminated {
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(self.0.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment the app runs in: display, session bus, data directory.
pub struct Desktop {
    /// Extra environment for the app (e.g. scripted file choices).
    pub env: Vec<(String, std::ffi::OsString)>,
    pub display: String,
    pub bus_address: String,
    pub data_dir: PathBuf,
    _bus: Guarded,
    _xvfb: Guarded,
}

impl Desktop {
    pub fn start(data_dir: &Path) -> Result<Desktop> {
        let (display, xvfb) = start_xvfb()?;
        step(&format!("Xvfb up on {display}"));
        let (bus_address, bus) = start_session_bus()?;
        step("D-Bus session bus up");
        Ok(Desktop {
            env: Vec::new(),
            display,
            bus_address,
            data_dir: data_dir.to_path_buf(),
            _bus: bus,
            _xvfb: xvfb,
        })
    }

    /// A command with this desktop's environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("BLASTDESK_DATA_DIR", &self.data_dir)
            .env("BLASTDESK_LOG", "info")
            .env("NO_AT_BRIDGE", "1")
            // No test reaches the internet: the update check asks a port
            // nothing listens on unless the test serves a feed there.
            .env(UPDATE_ENDPOINT_ENV, "http://127.0.0.1:9/latest.json")
            .env_remove("WAYLAND_DISPLAY")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }
}

impl Desktop {
    /// Launches the app once more on this desktop and checks that it hands
    /// over to the running instance and exits successfully at once.
    pub fn launch_second_instance(&self) -> Result {
        let mut second = self.command(app_binary()).spawn()?;
        let mut status = None;
        wait_until(
            Duration::from_secs(20),
            "the second instance to exit",
            || {
                status = second.try_wait().ok().flatten();
                status.is_some()
            },
        )?;
        if !status.is_some_and(|s| s.success()) {
            return Err(format!("the second instance ended with {status:?}").into());
        }
        Ok(())
    }

    /// Asks the visible window titled `title` to close, as a window manager
    /// does when the person clicks its close button (`WM_DELETE_WINDOW`).
    pub fn request_close(&self, title: &str) -> Result {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{
            ClientMessageEvent, ConnectionExt as _, EventMask, MapState,
        };

        let (conn, screen) = x11rb::connect(Some(&self.display))?;
        let root = conn.setup().roots[screen].root;
        let atom =
            |name: &[u8]| -> Result<u32> { Ok(conn.intern_atom(false, name)?.reply()?.atom) };
        let (protocols, delete) = (atom(b"WM_PROTOCOLS")?, atom(b"WM_DELETE_WINDOW")?);
        let (net_wm_name, utf8) = (atom(b"_NET_WM_NAME")?, atom(b"UTF8_STRING")?);
        let mut found = None;
        for window in conn.query_tree(root)?.reply()?.children {
            let viewable =
                conn.get_window_attributes(window)?.reply()?.map_state == MapState::VIEWABLE;
            let name = conn
                .get_property(false, window, net_wm_name, utf8, 0, 256)?
                .reply()?
                .value;
            if viewable && name == title.as_bytes() {
                found = Some(window);
                break;
            }
        }
        let window = found.ok_or_else(|| format!("no visible window titled {title:?}"))?;
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        conn.send_event(false, window, EventMask::NO_EVENT, event)?;
        conn.flush()?;
        Ok(())
    }
}

/// The update feed the app asks (honoured by a test build only).
pub const UPDATE_ENDPOINT_ENV: &str = "BLASTDESK_UPDATE_ENDPOINT";

/// The app under test, driven over WebDriver.
pub struct App {
    pub client: Client,
    pub desktop: Desktop,
    _driver: Guarded,
    /// One app at a time: each is a whole web engine, and two cores shared by
    /// several make their timing unlike a person's computer.
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static ONE_APP_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The Blastdesk binary cargo built for this test run.
/// The app under test: the build `cargo test` made, or the binary named by
/// `BLASTDESK_APP_BINARY` (to measure a release build).
pub fn app_binary() -> PathBuf {
    std::env::var_os("BLASTDESK_APP_BINARY").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_blastdesk")),
        PathBuf::from,
    )
}

impl App {
    /// Starts the app on a fresh desktop with `data_dir` as its data directory.
    pub async fn launch(data_dir: &Path) -> Result<App> {
        App::launch_with(data_dir, Vec::new()).await
    }

    /// Starts the app with extra environment variables.
    pub async fn launch_with(
        data_dir: &Path,
        env: Vec<(String, std::ffi::OsString)>,
    ) -> Result<App> {
        App::launch_program(data_dir, &app_binary(), env).await
    }

    /// Starts `program` (the build, or a package of it such as an
    /// AppImage) with extra environment variables.
    pub async fn launch_program(
        data_dir: &Path,
        program: &Path,
        env: Vec<(String, std::ffi::OsString)>,
    ) -> Result<App> {
        let turn = ONE_APP_AT_A_TIME.lock().await;
        let mut desktop = Desktop::start(data_dir)?;
        desktop.env = env;
        let tauri_driver = find_tool("tauri-driver")?;
        let native_driver = find_tool("WebKitWebDriver")?;
        let port = free_port()?;
        let native_port = free_port()?;
        let driver = desktop
            .command(tauri_driver)
            .arg("--port")
            .arg(port.to_string())
            .arg("--native-port")
            .arg(native_port.to_string())
            .arg("--native-driver")
            .arg(native_driver)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start tauri-driver: {e}"))?;
        let driver = Guarded(driver);
        // tauri-driver proxies to WebKitWebDriver, which it starts: both must listen.
        wait_until(
            START_TIMEOUT,
            "tauri-driver and WebKitWebDriver to listen",
            || {
                [port, native_port]
                    .iter()
                    .all(|p| TcpStream::connect((Ipv4Addr::LOCALHOST, *p)).is_ok())
            },
        )?;

        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": program },
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            return Err("capabilities are not an object".into());
        };
        step("tauri-driver up; opening a session on the app");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("cannot open a WebDriver session on the app: {e}"))?;
        step("WebDriver session open");
        Ok(App {
            client,
            desktop,
            _driver: driver,
            _turn: turn,
        })
    }

    /// Ends the WebDriver session (which closes the app).
    pub async fn close(self) -> Result {
        self.client.close().await?;
        Ok(())
    }

    /// Waits until the element at `css` has a text that `fits` (the screen
    /// may be redrawn meanwhile: a replaced element is looked up again).
    pub async fn wait_for_text_that(
        &self,
        css: &str,
        what: &str,
        fits: impl Fn(&str) -> bool,
    ) -> Result<String> {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::from("(no such element)");
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if fits(text.trim()) {
                    return Ok(text);
                }
                last = text;
            }
            if Instant::now() > deadline {
                return Err(format!("{css}: expected {what}, found {last:?}").into());
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element at `css` has exactly the text `expected`.
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> Result {
        let deadline = Instant::now() + UI_TIMEOUT;
        let mut last = String::from("(no such element)");
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                last = element.text().await.unwrap_or_default();
                if last.trim() == expected {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!("{css}: expected {expected:?}, found {last:?}").into());
            }
            tokio::task::yield_now().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The element at `css`, once it is there.
    pub async fn element(&self, css: &str) -> Result<fantoccini::elements::Element> {
        let mut attempts = 0;
        loop {
            let found = self
                .client
                .wait()
                .at_most(UI_TIMEOUT)
                .for_element(Locator::Css(css))
                .await;
            match found {
                // Redrawn while it was being found: look again.
                Err(fantoccini::error::CmdError::Standard(error))
                    if error.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && attempts < 5 =>
                {
                    attempts += 1;
                }
                other => return Ok(other?),
            }
        }
    }

    /// The text of the element at `css`.
    pub async fn text(&self, css: &str) -> Result<String> {
        Ok(self.element(css).await?.text().await?)
    }

    /// Clicks the element at `css`.
    pub async fn click(&self, css: &str) -> Result {
        self.on_fresh_element(css, |element| async move { element.click().await })
            .await
    }

    /// Types `text` into the element at `css`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result {
        self.on_fresh_element(css, |element| async move { element.send_keys(text).await })
            .await
    }

    /// Runs `action` on the element at `css`; if the screen was redrawn
    /// between finding it and acting on it, finds it again (a few times).
    async fn on_fresh_element<F, Fut>(&self, css: &str, action: F) -> Result
    where
        F: Fn(fantoccini::elements::Element) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<(), fantoccini::error::CmdError>>,
    {
        let mut attempts = 0;
        loop {
            let element = self.element(css).await?;
            match action(element).await {
                Err(fantoccini::error::CmdError::Standard(error))
                    if error.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && attempts < 5 =>
                {
                    attempts += 1;
                }
                other => return Ok(other?),
            }
        }
    }

    /// Saves a screenshot of the window to `target/e2e/NAME.png`.
    /// A screenshot for the documentation: also copied to docs/screenshots/.
    pub async fn screenshot_for_docs(&self, name: &str) -> Result<PathBuf> {
        let taken = self.screenshot(name).await?;
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
        std::fs::create_dir_all(&docs)?;
        let path = docs.join(format!("{name}.png"));
        std::fs::copy(&taken, &path)?;
        Ok(path)
    }

    /// Replaces the text of the field at `css` with `text`.
    pub async fn replace_text(&self, css: &str, text: &str) -> Result {
        self.element(css).await?.clear().await?;
        self.type_into(css, text).await
    }

    /// Scrolls the element at `css` into view, `block` (`start`, `center`…)
    /// placing it in the window.
    pub async fn scroll_into_view(&self, css: &str, block: &str) -> Result {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView({ block: arguments[1] })",
                vec![css.into(), block.into()],
            )
            .await?;
        Ok(())
    }

    /// Answers "yes" to the app's own question of `kind` (ui/components/dialog.js)
    /// once it is shown.
    pub async fn confirm_dialog(&self, kind: &str) -> Result {
        self.click(&format!(
            "[data-testid=dialog][data-kind={kind}] [data-testid=dialog-confirm]"
        ))
        .await
    }

    /// Answers "yes" to the window's confirmation questions from now on.
    pub async fn accept_confirmations(&self) -> Result {
        self.client
            .execute("window.confirm = () => true;", vec![])
            .await?;
        Ok(())
    }

    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        // Let WebKit paint what the DOM now holds before capturing it.
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await?;
        let dir = artifacts_dir();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

/// Notes progress on stderr, which the test harness shows when a test fails.
pub fn step(what: &str) {
    eprintln!("[e2e] {what}");
}

/// Where tests leave screenshots: `target/e2e/`.
pub fn artifacts_dir() -> PathBuf {
    app_binary()
        .parent()
        .and_then(Path::parent)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("e2e")
}

/// Polls `ready` until it holds or `timeout` passes: for waiting on processes
/// to come up, never for timing the code under test.
pub fn wait_until(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) -> Result {
    let deadline = Instant::now() + timeout;
    while !ready() {
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn find_tool(name: &str) -> Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .collect()
        })
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
    {
        candidates.push(home.join("bin").join(name));
    }
    candidates
        .into_iter()
        .find(|path| path.is_file())
        .ok_or_else(|| {
            format!(
                "{name} is not installed; the end-to-end tests need it. \
             Run `scripts/test.sh` once, which installs it (see README)"
            )
            .into()
        })
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// Whether an X server holds display `:number`. A lock file whose process is
/// gone (a server that was killed) does not count: Xvfb replaces it.
fn display_in_use(number: u32) -> bool {
    let Ok(lock) = std::fs::read_to_string(format!("/tmp/.X{number}-lock")) else {
        return false;
    };
    match lock.trim().parse::<u32>() {
        Ok(pid) => Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => true,
    }
}

/// Starts Xvfb on the first free display number from :90.
fn start_xvfb() -> Result<(String, Guarded)> {
    let xvfb = find_tool("Xvfb")?;
    for number in 90..190 {
        if display_in_use(number) {
            continue;
        }
        let display = format!(":{number}");
        let child = Command::new(&xvfb)
            .arg(&display)
            .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb: {e}"))?;
        let mut child = Guarded(child);
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let mut exited = false;
        wait_until(START_TIMEOUT, "Xvfb to start", || {
            exited = matches!(child.0.try_wait(), Ok(Some(_)));
            exited || socket.exists()
        })?;
        if exited {
            continue; // lost a race for this display number; try the next
        }
        return Ok((display, child));
    }
    Err("no free X display number between :90 and :189".into())
}

/// Starts a private D-Bus session bus and returns its address.
fn start_session_bus() -> Result<(String, Guarded)> {
    let daemon = find_tool("dbus-daemon")?;
    let mut child = Command::new(daemon)
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start dbus-daemon: {e}"))?;
    let stdout = child.stdout.take().ok_or("dbus-daemon has no stdout")?;
    let child = Guarded(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
    let address = line.trim().to_owned();
    if address.is_empty() {
        return Err("dbus-daemon printed no address".into());
    }
    Ok((address, child))
}

/// Pacing slow enough to watch and to pause a blast in the window, fast
/// enough for a test: one message a second, no rests, caps or window.
pub fn one_message_a_second() -> blastdesk_core::pacing::Pacing {
    crate::fixtures::one_message_every(1)
}
