//! Cookie attributes a browser enforces: the `__Host-` prefix, `Secure` over
//! `http://127.0.0.1` (a potentially trustworthy origin for Chromium), and `Path`.

use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::{Framework, counter_body};

use crate::demo;
use crate::harness::scenario;

/// The cookie name of the `__Host-` scenarios.
const HOST_COOKIE: &str = "__Host-session";

/// A `__Host-` cookie is `Secure`, host-only and on `/`, which Chromium checks before it keeps
/// the cookie: the counter counts, login and logout work, over plain `http://127.0.0.1`.
async fn host_prefix(framework: Framework, store: &'static str) {
    let (_server, base) = demo(framework, &["--store", store, "--session-key", HOST_COOKIE]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        let cookie = browser.cookie(HOST_COOKIE).await;
        assert!(cookie.secure, "{cookie:?}");
        assert_eq!(cookie.path, "/", "{cookie:?}");
        assert_eq!(cookie.domain, "127.0.0.1", "host-only: {cookie:?}");
        assert_eq!(browser.open(&page("/")).await, counter_body(1));
        assert_eq!(browser.open(&page("/login")).await, "logged in");
        assert_eq!(browser.open(&page("/")).await, counter_body(2));
        assert_eq!(browser.open(&page("/logout")).await, "logged out");
        assert!(browser.cookies_named(HOST_COOKIE).await.is_empty());
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        assert!(browser.cookies_named(DEFAULT_COOKIE_NAME).await.is_empty());
    })
    .await;
}

async fn host_prefix_memory(framework: Framework) {
    host_prefix(framework, "memory").await;
}

async fn host_prefix_sealed(framework: Framework) {
    host_prefix(framework, "cookie").await;
}

/// A cookie given `Path=/get` (the demo's `/cookie?path=/get`) goes only with requests under
/// `/get`: there it finds the session; elsewhere the browser sends nothing, and the page is a
/// session of its own.
async fn path_restricted(framework: Framework) {
    let (_server, base) = demo(framework, &[]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");
        assert_eq!(browser.open(&page("/cookie?path=/get")).await, "ok");
        let scoped = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(scoped.path, "/get", "{scoped:?}");

        assert_eq!(
            browser.open(&page("/get/scoped")).await,
            "1",
            "sent under /get"
        );
        assert_eq!(
            browser.open(&page("/")).await,
            counter_body(0),
            "not sent outside /get"
        );
        let mut paths: Vec<String> = browser
            .cookies_named(DEFAULT_COOKIE_NAME)
            .await
            .into_iter()
            .map(|cookie| cookie.path)
            .collect();
        paths.sort();
        assert_eq!(
            paths,
            ["/", "/get"],
            "the counter's session has a cookie of its own"
        );
        assert_eq!(browser.open(&page("/")).await, counter_body(1));
        // Under /get the browser now sends both cookies: two live sessions under one name,
        // which the rule against cookie tossing adopts neither of.
        assert_eq!(browser.open(&page("/get/scoped")).await, "not found");
        assert_eq!(browser.open(&page("/get/counter")).await, "not found");
        assert_eq!(
            browser.open(&page("/")).await,
            counter_body(2),
            "alone on /"
        );
    })
    .await;
}

session_tests::per_framework!(host_prefix_memory, host_prefix_sealed, path_restricted);
