//! Per-request cookie options merged over the state's defaults, with the rules that must hold on
//! the result (Plack's `path`, `domain` and `partitioned` options).

use http::HeaderMap;
use session_core::CookieOptions;
use session_core::state::{Delivery, State};

use super::{set_cookies, some_id};
use crate::{CookieState, SameSite};

fn with(options: CookieOptions) -> Delivery {
    let mut delivery = Delivery::default();
    delivery.options = Some(options);
    delivery
}

fn live(state: &CookieState, options: CookieOptions) -> String {
    let mut headers = HeaderMap::new();
    state.finalize(&some_id(), &with(options), &mut headers);
    set_cookies(&headers).remove(0)
}

fn removal(state: &CookieState, options: CookieOptions) -> String {
    let mut headers = HeaderMap::new();
    state.expire_with(&with(options), &mut headers);
    set_cookies(&headers).remove(0)
}

#[test]
fn path_and_domain_win_over_the_defaults() {
    let state = CookieState::builder()
        .domain("example.com")
        .build()
        .expect("valid");
    let cookie = live(
        &state,
        CookieOptions::new().path("/app").domain("app.example.com"),
    );
    assert!(cookie.contains("; Path=/app"), "{cookie}");
    assert!(cookie.contains("; Domain=app.example.com"), "{cookie}");
    assert!(!cookie.contains("Path=/;"), "{cookie}");
    // The removal in such a request removes that cookie.
    let gone = removal(&state, CookieOptions::new().path("/app"));
    assert!(
        gone.contains("; Path=/app") && gone.contains("Max-Age=0"),
        "{gone}"
    );
    // Without options, the defaults.
    assert!(live(&state, CookieOptions::new()).contains("; Path=/"));
}

#[test]
fn partitioned_forces_secure_and_same_site_none() {
    let state = CookieState::builder().secure(false).build().expect("valid");
    let cookie = live(&state, CookieOptions::new().partitioned(true));
    assert!(cookie.contains("; Partitioned"), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("; SameSite=None"), "{cookie}");
    assert!(!cookie.contains("SameSite=Lax"), "{cookie}");
    let gone = removal(&state, CookieOptions::new().partitioned(true));
    assert!(
        gone.contains("; Partitioned") && gone.contains("; Secure"),
        "{gone}"
    );

    // A partitioned state's cookie can be unpartitioned for one response.
    let partitioned = CookieState::builder()
        .partitioned(true)
        .build()
        .expect("valid");
    let cookie = live(&partitioned, CookieOptions::new().partitioned(false));
    assert!(!cookie.contains("Partitioned"), "{cookie}");
    // Its SameSite was not configured: it was None for the partition, and is Lax without it.
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
}

#[test]
fn partitioned_never_weakens_a_configured_same_site() {
    for (configure, attribute) in [
        (SameSite::Strict, Some("; SameSite=Strict")),
        (SameSite::Lax, Some("; SameSite=Lax")),
    ] {
        let state = CookieState::builder()
            .same_site(configure)
            .build()
            .expect("valid");
        let cookie = live(&state, CookieOptions::new().partitioned(true));
        let gone = removal(&state, CookieOptions::new().partitioned(true));
        for written in [&cookie, &gone] {
            assert!(!written.contains("Partitioned"), "{written}");
            assert!(!written.contains("SameSite=None"), "{written}");
            assert!(written.contains(attribute.expect("set")), "{written}");
        }
    }
    // No SameSite, configured: still no SameSite=None, and no Partitioned.
    let state = CookieState::builder()
        .no_same_site()
        .build()
        .expect("valid");
    let cookie = live(&state, CookieOptions::new().partitioned(true));
    assert!(
        !cookie.contains("Partitioned") && !cookie.contains("SameSite"),
        "{cookie}"
    );

    // A configured SameSite=None takes the partition as asked.
    let state = CookieState::builder()
        .same_site(SameSite::None)
        .build()
        .expect("valid");
    let cookie = live(&state, CookieOptions::new().partitioned(true));
    assert!(cookie.contains("; SameSite=None; Partitioned"), "{cookie}");

    // Configured together, both go out as configured, and a response may drop the partition.
    let state = CookieState::builder()
        .same_site(SameSite::Strict)
        .partitioned(true)
        .build()
        .expect("valid");
    let cookie = live(&state, CookieOptions::new().partitioned(true));
    assert!(
        cookie.contains("; SameSite=Strict; Partitioned"),
        "{cookie}"
    );
    let cookie = live(&state, CookieOptions::new().partitioned(false));
    assert!(
        cookie.contains("; SameSite=Strict") && !cookie.contains("Partitioned"),
        "{cookie}"
    );
}

#[test]
fn host_prefix_rules_win() {
    let state = CookieState::new("__Host-id").expect("valid");
    let cookie = live(
        &state,
        CookieOptions::new().path("/app").domain("example.com"),
    );
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(!cookie.contains("/app"), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[test]
fn invalid_options_are_ignored_never_written() {
    let state = CookieState::default();
    for (path, domain) in [
        ("/a; Domain=evil.com", "ok.example.com"),
        ("no-slash", "bad domain"),
        ("/ok", "evil.com; Secure"),
    ] {
        let cookie = live(&state, CookieOptions::new().path(path).domain(domain));
        assert!(!cookie.contains("evil"), "{cookie}");
        assert_eq!(
            cookie.matches(';').count(),
            cookie.split("; ").count() - 1,
            "{cookie}"
        );
        assert!(!cookie.contains("bad domain"), "{cookie}");
    }
}
