//! [`Chromium`], a headless browser on a profile of the test's own, and [`JarCookie`], a cookie
//! of its jar.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use super::driver::chromium_binary;

/// How long a page may take to show what a step waits for.
const PATIENCE: Duration = Duration::from_secs(10);

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
    /// A cookie as DevTools' `Storage.getCookies` lists it.
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
    /// A browser for the chromedriver at `driver` (`http://127.0.0.1:PORT`), on `profile`.
    pub(super) async fn start(driver: &str, profile: &Path) -> Self {
        let client = Chromium::launch(driver, profile).await;
        Chromium {
            client: Arc::new(Mutex::new(Some(client))),
            driver: driver.to_owned(),
            profile: profile.to_owned(),
        }
    }

    /// Starts Chromium through the driver (a WebDriver session) on `profile`.
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

    /// The WebDriver session of the browser, if it is open.
    fn open_client(&self) -> Option<Client> {
        self.client.lock().expect("the client lock").clone()
    }

    /// The WebDriver session of the browser that is open.
    fn client(&self) -> Client {
        self.open_client().expect("the browser is open")
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
        self.body_text()
            .await
            .unwrap_or_else(|e| panic!("the page's body text: {e}"))
    }

    /// The text of the page's body, or why it could not be read (no body yet, say).
    async fn body_text(&self) -> Result<String, fantoccini::error::CmdError> {
        self.client().find(Locator::Css("body")).await?.text().await
    }

    /// Waits until the page's text is `expected` (after a click that navigates, say), and
    /// fails with what the page shows if it never is.
    pub(crate) async fn wait_for_text(&self, expected: &str) {
        let deadline = Instant::now() + PATIENCE;
        let mut shown = String::new();
        while Instant::now() < deadline {
            if let Ok(text) = self.body_text().await {
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
        self.try_jar()
            .await
            .unwrap_or_else(|e| panic!("read the cookie jar: {e}"))
    }

    /// The jar, or why it could not be read.
    async fn try_jar(&self) -> Result<Vec<JarCookie>, String> {
        let reply = self.devtools("Storage.getCookies", json!({})).await?;
        let cookies = reply["cookies"]
            .as_array()
            .ok_or_else(|| format!("DevTools listed no cookies: {reply}"))?;
        Ok(cookies.iter().map(JarCookie::from_devtools).collect())
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

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`): its result,
    /// or why it failed.
    async fn devtools(&self, command: &str, params: Value) -> Result<Value, String> {
        let failed = |e: &dyn std::fmt::Display| format!("DevTools {command}: {e}");
        let client = self
            .open_client()
            .ok_or_else(|| failed(&"the browser is closed"))?;
        let session = client
            .session_id()
            .await
            .map_err(|e| failed(&e))?
            .ok_or_else(|| failed(&"no WebDriver session"))?;
        let url = format!("{}/session/{session}/goog/cdp/execute", self.driver);
        let body = json!({ "cmd": command, "params": params }).to_string();
        let reply = session_tests::process::client()
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .timeout(PATIENCE)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(&e))?
            .bytes()
            .await
            .map_err(|e| failed(&e))?;
        let mut reply: Value = serde_json::from_slice(&reply).map_err(|e| failed(&e))?;
        Ok(reply["value"].take())
    }

    /// Saves what the browser shows into `dir`: `screenshot.png`, `page.html`, `url.txt` and
    /// `cookies.txt` (the whole jar). Best effort: what cannot be read is skipped.
    pub(super) async fn save_artefacts(&self, dir: &Path) {
        let _ = std::fs::create_dir_all(dir);
        let Some(client) = self.open_client() else {
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
        let jar = match self.try_jar().await {
            Ok(jar) => jar.iter().map(|cookie| format!("{cookie:?}\n")).collect(),
            Err(error) => error,
        };
        let _ = std::fs::write(dir.join("cookies.txt"), jar);
    }

    /// Closes the browser (WebDriver's Delete Session), if it is open.
    pub(super) async fn close(&self) {
        let client = self.client.lock().expect("the client lock").take();
        if let Some(client) = client {
            let _ = client.close().await;
        }
    }
}
