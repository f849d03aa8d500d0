//! The counter, login and logout as a browser sees them; a tampered sealed cookie.

use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tests::{Framework, counter_body};

use crate::demo;
use crate::harness::scenario;

/// The counter counts across page loads on the cookie the browser keeps; login gives a new id
/// and keeps the data; logout removes the cookie from the jar, and the next page is a fresh
/// session.
async fn counter_login_logout(framework: Framework, store: &'static str) {
    let (_server, base) = demo(framework, &["--store", store]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");
        assert!(browser.jar().await.is_empty(), "a fresh profile");

        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        let cookie = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(cookie.domain, "127.0.0.1", "{cookie:?}");
        assert_eq!(cookie.path, "/", "{cookie:?}");
        assert!(cookie.secure && cookie.http_only, "{cookie:?}");
        assert_eq!(cookie.same_site.as_deref(), Some("Lax"), "{cookie:?}");
        assert!(cookie.session, "a browser-session cookie: {cookie:?}");
        for n in 1..=3 {
            assert_eq!(browser.open(&page("/")).await, counter_body(n));
        }

        let id = browser.open(&page("/id")).await;
        assert_eq!(browser.open(&page("/login")).await, "logged in");
        let new_id = browser.open(&page("/id")).await;
        assert_ne!(new_id, id, "login gives the session a new id");
        assert_eq!(browser.open(&page("/get/user")).await, "demo-user");
        assert_eq!(
            browser.open(&page("/")).await,
            counter_body(4),
            "the data moved to the new id"
        );
        assert_eq!(browser.cookies_named(DEFAULT_COOKIE_NAME).await.len(), 1);

        assert_eq!(browser.open(&page("/logout")).await, "logged out");
        let left = browser.cookies_named(DEFAULT_COOKIE_NAME).await;
        assert!(left.is_empty(), "logout removes the cookie: {left:?}");
        assert_eq!(browser.open(&page("/get/user")).await, "not found");
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        assert_ne!(browser.open(&page("/id")).await, new_id, "a fresh session");
    })
    .await;
}

async fn counter_login_logout_memory(framework: Framework) {
    counter_login_logout(framework, "memory").await;
}

async fn counter_login_logout_sealed(framework: Framework) {
    counter_login_logout(framework, "cookie").await;
}

/// A sealed cookie changed in the jar (one character of its value, through WebDriver's cookie
/// commands) opens no session: the next page is a fresh session, and its cookie replaces the
/// tampered one.
async fn tampered_sealed_cookie(framework: Framework, mode: &'static str) {
    let (_server, base) = demo(framework, &["--store", "cookie", "--seal-mode", mode]).await;
    scenario(move |browser| async move {
        let page = |path: &str| format!("{base}{path}");
        assert_eq!(browser.open(&page("/set/color/blue")).await, "ok");
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        assert_eq!(browser.open(&page("/")).await, counter_body(1));

        let sealed = browser.cookie(DEFAULT_COOKIE_NAME).await;
        let tampered = flip_one_character(&sealed.value);
        browser
            .set_cookie_value(DEFAULT_COOKIE_NAME, &tampered)
            .await;
        let changed = browser.cookie(DEFAULT_COOKIE_NAME).await;
        assert_eq!(changed.value, tampered);
        // Only the value changed: the browser sends it as it sent the original.
        assert_eq!(
            (
                &changed.domain,
                &changed.path,
                changed.secure,
                &changed.same_site
            ),
            (
                &sealed.domain,
                &sealed.path,
                sealed.secure,
                &sealed.same_site
            ),
        );

        assert_eq!(browser.open(&page("/get/color")).await, "not found");
        assert_eq!(browser.open(&page("/")).await, counter_body(0));
        let fresh = browser.cookie(DEFAULT_COOKIE_NAME).await.value;
        assert_ne!(
            fresh, tampered,
            "the fresh session's cookie replaces the tampered one"
        );
        assert_eq!(browser.open(&page("/")).await, counter_body(1));
    })
    .await;
}

/// `text` with the character in its middle replaced by another of the base64url alphabet.
fn flip_one_character(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).expect("still ASCII")
}

async fn tampered_sealed_cookie_private(framework: Framework) {
    tampered_sealed_cookie(framework, "private").await;
}

async fn tampered_sealed_cookie_signed(framework: Framework) {
    tampered_sealed_cookie(framework, "signed").await;
}

session_tests::per_framework!(
    counter_login_logout_memory,
    counter_login_logout_sealed,
    tampered_sealed_cookie_private,
    tampered_sealed_cookie_signed,
);
