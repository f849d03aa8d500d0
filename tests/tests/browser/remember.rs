//! Remember-me: a persistent cookie survives closing and reopening the browser on the same
//! profile; a browser-session cookie does not.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::{Framework, counter_body};

use crate::demo;
use crate::harness::scenario;

/// How long `/remember` makes the cookie last.
const REMEMBERED_FOR: Duration = Duration::from_secs(30 * 86_400);

/// A browser-session cookie is gone after a restart of the browser, a fresh session in its place;
/// after `/remember` the cookie is persistent (30 days), kept across later writes and across a
/// restart, and the session goes on.
async fn remember_me(framework: Framework, store: &'static str) {
    let (_server, base) = demo(framework, &["--store", store]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");

        // Without remember-me: the cookie ends with the browser.
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        assert_eq!(browser.open(&page("/")).await, counter_body(1));
        let cookie = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert!(cookie.session, "a browser-session cookie: {cookie:?}");
        browser.restart().await;
        let left = browser.cookies_named(DEFAULT_COOKIE_NAME).await;
        assert!(left.is_empty(), "closing the browser dropped it: {left:?}");
        assert_eq!(
            browser.open(&page("/")).await,
            counter_body(0),
            "a fresh session"
        );

        // With it: the cookie outlives the browser, for 30 days.
        assert_eq!(browser.open(&page("/remember")).await, "remembered");
        assert_eq!(browser.open(&page("/")).await, counter_body(1));
        let cookie = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert!(!cookie.session, "a persistent cookie: {cookie:?}");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64();
        let expected = now + REMEMBERED_FOR.as_secs_f64();
        assert!(
            (cookie.expires - expected).abs() < 120.0,
            "expires in 30 days ({expected}): {cookie:?}"
        );
        browser.restart().await;
        let kept = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(
            kept.value, cookie.value,
            "the same cookie after the restart"
        );
        assert_eq!(browser.open(&page("/")).await, counter_body(2));
        assert_eq!(browser.open(&page("/get/remembered")).await, "1");
    })
    .await;
}

async fn remember_me_memory(framework: Framework) {
    remember_me(framework, "memory").await;
}

async fn remember_me_sealed(framework: Framework) {
    remember_me(framework, "cookie").await;
}

session_tests::per_framework!(remember_me_memory, remember_me_sealed);
