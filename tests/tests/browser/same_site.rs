//! `SameSite` across sites. The demo is on `http://127.0.0.1:PORT`; the test serves a small page
//! with a link to the counter, a form posting to it, and a `fetch` of it, on another port, which
//! the browser opens as `http://127.0.0.1:OTHER` (the same site: ports do not count) or as
//! `http://localhost:OTHER` (another site).

use std::net::SocketAddr;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::{Framework, TestServer, counter_body};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::demo;
use crate::harness::{Chromium, scenario};

/// The page with the link (`#link`), the form (`#post`) and the script [`fetch`] calls, served
/// at `/` on a port of its own until dropped.
struct OtherPage {
    port: u16,
    task: JoinHandle<()>,
}

impl OtherPage {
    /// Serves the page, its link and form pointing at `counter`.
    async fn serve(counter: &str) -> Self {
        let html = format!(
            "<!doctype html><title>elsewhere</title>\
             <a id=\"link\" href=\"{counter}\">the counter</a>\
             <form method=\"post\" action=\"{counter}\"><button id=\"post\">post</button></form>"
        );
        let app = Router::new().route("/", get(move || async move { Html(html) }));
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let port = listener.local_addr().expect("the bound address").port();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the page");
        });
        OtherPage { port, task }
    }

    /// The page on the demo's site (`127.0.0.1`, another port).
    fn same_site(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The page on another site (`localhost`).
    fn cross_site(&self) -> String {
        format!("http://localhost:{}/", self.port)
    }
}

impl Drop for OtherPage {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Fetches `url` from the page that is open (`no-cors`, credentials included: the browser
/// decides whether the cookie goes) and waits for the answer.
async fn fetch(browser: &Chromium, url: &str) {
    let script = format!(
        "const done = arguments[arguments.length - 1];\
         fetch({url:?}, {{ mode: 'no-cors', credentials: 'include' }})\
           .then(() => done('fetched'), (e) => done('failed: ' + e));"
    );
    assert_eq!(browser.run_async(&script).await, "fetched");
}

/// The demo with the options `words`, its counter's URL, and the other page, pointing at it.
async fn demo_and_other_page(
    framework: Framework,
    words: &[&str],
) -> (TestServer, String, OtherPage) {
    let (server, base) = demo(framework, words).await;
    let counter = format!("{base}/");
    let other = OtherPage::serve(&counter).await;
    (server, counter, other)
}

/// Two visits to the counter (the page shows 0, then 1); the `SameSite` of the cookie the
/// browser then holds.
async fn two_visits(browser: &Chromium, counter: &str) -> Option<String> {
    assert_eq!(browser.open(counter).await, counter_body(0));
    assert_eq!(browser.open(counter).await, counter_body(1));
    browser.cookie(DEFAULT_COOKIE_NAME).await.same_site
}

/// `SameSite=Lax` (the default): the cookie goes with everything from the same site, and from
/// another site only with a top-level link; not with a form's POST nor a `fetch`.
async fn lax(framework: Framework, store: &'static str) {
    let (_server, counter, other) = demo_and_other_page(framework, &["--store", store]).await;
    let (same_site, cross_site) = (other.same_site(), other.cross_site());
    scenario(move |browser| async move {
        assert_eq!(two_visits(&browser, &counter).await.as_deref(), Some("Lax"));

        // From the same site, all three carry it: each counts.
        browser.open(&same_site).await;
        fetch(&browser, &counter).await;
        browser.click("#link").await;
        browser.wait_for_text(&counter_body(3)).await;
        browser.open(&same_site).await;
        browser.click("#post").await;
        browser.wait_for_text(&counter_body(4)).await;

        // From another site: not with a fetch (which sets no cookie either)...
        browser.open(&cross_site).await;
        let before = browser.cookie(DEFAULT_COOKIE_NAME).await;
        fetch(&browser, &counter).await;
        let after = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(
            after.value, before.value,
            "the cross-site fetch set no cookie"
        );
        // ...but with a link...
        browser.click("#link").await;
        browser.wait_for_text(&counter_body(5)).await;
        // ...and not with a form's POST: a session of its own.
        browser.open(&cross_site).await;
        browser.click("#post").await;
        browser.wait_for_text(&counter_body(0)).await;
    })
    .await;
    drop(other);
}

async fn lax_memory(framework: Framework) {
    lax(framework, "memory").await;
}

async fn lax_sealed(framework: Framework) {
    lax(framework, "cookie").await;
}

/// `SameSite=Strict` (`--same-site strict`): the cookie goes with a link from the same site,
/// and is withheld even from a top-level link from another site.
async fn strict(framework: Framework) {
    let (_server, counter, other) =
        demo_and_other_page(framework, &["--same-site", "strict"]).await;
    let (same_site, cross_site) = (other.same_site(), other.cross_site());
    scenario(move |browser| async move {
        assert_eq!(
            two_visits(&browser, &counter).await.as_deref(),
            Some("Strict")
        );

        browser.open(&same_site).await;
        browser.click("#link").await;
        browser.wait_for_text(&counter_body(2)).await;

        browser.open(&cross_site).await;
        browser.click("#link").await;
        browser.wait_for_text(&counter_body(0)).await;
    })
    .await;
    drop(other);
}

session_tests::per_framework!(lax_memory, lax_sealed, strict);
