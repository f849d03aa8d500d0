//! Headless Chromium driven through chromedriver: one driver and one fresh browser profile per
//! test, the page's text and the whole cookie jar read back, and what a failed test leaves behind.
//!
//! [`scenario`] runs a test's steps against a [`Chromium`]. If a step panics, the page's
//! screenshot, its HTML, its address and the cookie jar are saved under
//! `target/tmp/browser/TEST_NAME/` (the path is printed) before the panic goes on.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

/// How many browsers run at once in this test binary (each is several processes; the machine
/// this project is developed on has two cores).
static SLOTS: Semaphore = Semaphore::const_new(2);

/// How long a page may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long a whole scenario may take (they take seconds): past it, the browser is taken to hang.
const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// The chromedriver binary: `SESSION_CHROMEDRIVER`, else `chromedriver` on `PATH`.
fn chromedriver_binary() -> PathBuf {
    binary("SESSION_CHROMEDRIVER", &["chromedriver"])
}

/// The Chromium binary: `SESSION_CHROMIUM`, else `chromium` (Debian) or `chromium-browser` on
/// `PATH`.
fn chromium_binary() -> PathBuf {
    binary("SESSION_CHROMIUM", &["chromium", "chromium-browser"])
}

fn binary(variable: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return path.into();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the browser tests need {} (not found on PATH). Install Debian's `chromium` and \
         `chromium-driver` packages (tests/run does, as root), or name the binary in {variable}",
        names[0]
    );
}

/// A free loopback port (the OS's pick, released at once for the driver to bind).
fn free_port() -> u16 {
    TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A chromedriver process on a free loopback port, in a process group of its own with the
/// browsers it starts, all killed when dropped.
#[derive(Debug)]
struct Chromedriver {
    child: Child,
    url: String,
}

impl Chromedriver {
    async fn start() -> Self {
        let binary = chromedriver_binary();
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new(&binary)
                .arg(format!("--port={port}"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
            let mut driver = Chromedriver {
                child,
                url: format!("http://127.0.0.1:{port}"),
            };
            if driver.ready().await {
                return driver;
            }
            // Another process took the port first: try another.
        }
        panic!("chromedriver did not start listening on a loopback port (5 tries)");
    }

    /// Waits until the driver answers `/status` as ready; false if it exited first.
    async fn ready(&mut self) -> bool {
        let client = session_tests::process::client();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(response) = client.get(format!("{}/status", self.url)).send().await
                && let Ok(body) = response.bytes().await
                && let Ok(status) = serde_json::from_slice::<Value>(&body)
                && status["value"]["ready"] == json!(true)
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The whole group: the driver, and any browser a failed test left running.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One cookie of the browser's jar, as Chromium's DevTools protocol reports it (every cookie of
/// the profile, whatever page is open).
#[derive(Clone, Debug)]
pub(crate) struct JarCookie {
    /// The cookie's name.
    pub(crate) name: String,
    /// Its value.
    pub(crate) value: String,
    /// The host it belongs to (`127.0.0.1`; a leading dot for a `Domain` cookie).
    pub(crate) domain: String,
    /// Its path.
    pub(crate) path: String,
    /// `Secure`.
    pub(crate) secure: bool,
    /// `HttpOnly`.
    pub(crate) http_only: bool,
    /// `SameSite` (`Lax`, `Strict`, `None`), if set.
    pub(crate) same_site: Option<String>,
    /// A browser-session cookie (no `Expires` or `Max-Age`): dropped when the browser closes.
    pub(crate) session: bool,
    /// When a persistent cookie expires, in seconds since the epoch.
    pub(crate) expires: f64,
}

impl JarCookie {
    fn from_devtools(cookie: &Value) -> Self {
        let text = |key: &str| cookie[key].as_str().unwrap_or_default().to_owned();
        JarCookie {
            name: text("name"),
            value: text("value"),
            domain: text("domain"),
            path: text("path"),
            secure: cookie["secure"].as_bool().unwrap_or(false),
            http_only: cookie["httpOnly"].as_bool().unwrap_or(false),
            same_site: cookie["sameSite"].as_str().map(str::to_owned),
            session: cookie["session"].as_bool().unwrap_or(false),
            expires: cookie["expires"].as_f64().unwrap_or(-1.0),
        }
    }
}

/// A headless Chromium on a profile of the test's own, driven through WebDriver.
///
/// Cheap to clone: clones drive the same browser.
#[derive(Clone, Debug)]
pub(crate) struct Chromium {
    client: Arc<Mutex<Option<Client>>>,
    driver: String,
    profile: PathBuf,
}

impl Chromium {
    async fn launch(driver: &str, profile: &Path) -> Client {
        let options = json!({
            "binary": chromium_binary(),
            "args": [
                "--headless=new",
                // Tests may run as root, where Chromium's sandbox cannot start.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                // No connections of the browser's own (the test machine has no network).
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--password-store=basic",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(driver)
            .await
            .unwrap_or_else(|e| panic!("start Chromium through chromedriver: {e}"))
    }

    fn client(&self) -> Client {
        self.client
            .lock()
            .expect("the client lock")
            .clone()
            .expect("the browser is open")
    }

    /// Closes the browser the way a user quits it (WebDriver's Delete Session: Chromium shuts
    /// down and writes its profile), then starts it again on the same profile.
    pub(crate) async fn restart(&self) {
        let old = self.client.lock().expect("the client lock").take();
        if let Some(client) = old {
            client.close().await.expect("close the browser");
        }
        let client = Chromium::launch(&self.driver, &self.profile).await;
        *self.client.lock().expect("the client lock") = Some(client);
    }

    /// Loads `url` and returns the page's text once it has loaded.
    pub(crate) async fn open(&self, url: &str) -> String {
        let client = self.client();
        client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("load {url}: {e}"));
        self.text().await
    }

    /// The text of the page's body.
    pub(crate) async fn text(&self) -> String {
        let client = self.client();
        let body = client
            .find(Locator::Css("body"))
            .await
            .expect("the page has a body");
        body.text().await.expect("the body's text")
    }

    /// Waits until the page's text is `expected` (after a click that navigates, say), and
    /// fails with what the page shows if it never is.
    pub(crate) async fn wait_for_text(&self, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut shown = String::new();
        while Instant::now() < deadline {
            if let Ok(body) = self.client().find(Locator::Css("body")).await
                && let Ok(text) = body.text().await
            {
                if text == expected {
                    return;
                }
                shown = text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page shows {shown:?}, not {expected:?}");
    }

    /// Clicks the element `css` selects (a link, a form's button).
    pub(crate) async fn click(&self, css: &str) {
        let element = self
            .client()
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Runs `script` as an async function body in the page (its last argument is the callback
    /// to call with the result) and returns what it passed to the callback.
    pub(crate) async fn run_async(&self, script: &str) -> Value {
        self.client()
            .execute_async(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("run a script in the page: {e}"))
    }

    /// Every cookie in the browser's jar, for every site.
    pub(crate) async fn jar(&self) -> Vec<JarCookie> {
        let reply = self.devtools("Storage.getCookies", json!({})).await;
        reply["cookies"]
            .as_array()
            .expect("DevTools lists the cookies")
            .iter()
            .map(JarCookie::from_devtools)
            .collect()
    }

    /// The jar's cookies named `name`.
    pub(crate) async fn cookies_named(&self, name: &str) -> Vec<JarCookie> {
        let mut cookies = self.jar().await;
        cookies.retain(|cookie| cookie.name == name);
        cookies
    }

    /// The one cookie named `name` in the jar; fails if there is none or more than one.
    pub(crate) async fn cookie(&self, name: &str) -> JarCookie {
        let mut cookies = self.cookies_named(name).await;
        assert_eq!(
            cookies.len(),
            1,
            "one cookie named {name} in the jar, not {cookies:?}"
        );
        cookies.remove(0)
    }

    /// Replaces the value of the cookie `name` of the page that is open, through WebDriver's
    /// cookie commands (get it, delete it, add it back with `value` and its other attributes).
    pub(crate) async fn set_cookie_value(&self, name: &str, value: &str) {
        let client = self.client();
        let mut cookie = client
            .get_named_cookie(name)
            .await
            .unwrap_or_else(|e| panic!("get the cookie {name} through WebDriver: {e}"));
        cookie.set_value(value.to_owned());
        client
            .delete_cookie(name)
            .await
            .expect("delete the cookie through WebDriver");
        client
            .add_cookie(cookie)
            .await
            .expect("add the cookie through WebDriver");
    }

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    async fn devtools(&self, command: &str, params: Value) -> Value {
        let client = self.client();
        let session = client
            .session_id()
            .await
            .expect("the session id")
            .expect("a session is open");
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver);
        let body = json!({ "cmd": command, "params": params }).to_string();
        let reply = session_tests::process::client()
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .unwrap_or_else(|e| panic!("DevTools {command}: {e}"))
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("DevTools {command}: {e}"));
        let reply: Value = serde_json::from_slice(&reply).expect("DevTools answers JSON");
        reply["value"].clone()
    }

    /// Saves what the browser shows into `dir`: `screenshot.png`, `page.html`, `url.txt` and
    /// `cookies.txt` (the whole jar). Best effort: what cannot be read is skipped.
    async fn save_artefacts(&self, dir: &Path) {
        let _ = std::fs::create_dir_all(dir);
        let Some(client) = self.client.lock().expect("the client lock").clone() else {
            return;
        };
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(dir.join("screenshot.png"), png);
        }
        if let Ok(html) = client.source().await {
            let _ = std::fs::write(dir.join("page.html"), html);
        }
        if let Ok(url) = client.current_url().await {
            let _ = std::fs::write(dir.join("url.txt"), url.as_str());
        }
        let jar = self.jar().await;
        let lines: Vec<String> = jar.iter().map(|cookie| format!("{cookie:?}")).collect();
        let _ = std::fs::write(dir.join("cookies.txt"), lines.join("\n"));
    }

    async fn close(&self) {
        let client = self.client.lock().expect("the client lock").take();
        if let Some(client) = client {
            let _ = client.close().await;
        }
    }
}

/// Why a scenario failed.
enum Failure {
    /// A step panicked, with this payload.
    Panicked(Box<dyn std::any::Any + Send>),
    /// The steps did not finish within [`SCENARIO_LIMIT`].
    TimedOut,
}

/// Runs `steps` against a fresh headless Chromium (its own chromedriver and an empty profile).
///
/// When a step panics, or the steps take longer than two minutes, the browser's screenshot, page,
/// address and cookie jar are saved under `target/tmp/browser/TEST/` (printed on standard error)
/// and the test fails with the step's panic; either way the browser and its driver are stopped.
pub(crate) async fn scenario<F, Fut>(steps: F)
where
    F: FnOnce(Chromium) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // libtest names the thread after the test; the scenario runs on it until it is spawned.
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", "-");
    let _slot = SLOTS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let driver = Chromedriver::start().await;
    let profile = tempfile::tempdir().expect("a profile directory");
    let client = Chromium::launch(&driver.url, profile.path()).await;
    let browser = Chromium {
        client: Arc::new(Mutex::new(Some(client))),
        driver: driver.url.clone(),
        profile: profile.path().to_owned(),
    };
    let mut steps = tokio::spawn(steps(browser.clone()));
    let failure = match tokio::time::timeout(SCENARIO_LIMIT, &mut steps).await {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(Failure::Panicked(failure.into_panic())),
        Err(_) => {
            // Stop the steps before their browser goes away under them.
            steps.abort();
            let _ = steps.await;
            Some(Failure::TimedOut)
        }
    };
    if let Some(failure) = failure {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("browser")
            .join(&test);
        browser.save_artefacts(&dir).await;
        eprintln!(
            "browser test {test} failed: screenshot, page and cookie jar in {}",
            dir.display()
        );
        browser.close().await;
        drop(driver);
        match failure {
            // The panic hook has printed the step's message already.
            Failure::Panicked(payload) => std::panic::resume_unwind(payload),
            Failure::TimedOut => panic!("the scenario did not finish in {SCENARIO_LIMIT:?}"),
        }
    }
    browser.close().await;
}
