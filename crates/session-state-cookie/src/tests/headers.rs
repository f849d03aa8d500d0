//! Reading Cookie headers and writing Set-Cookie headers.

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use session_core::state::{RequestView, State};

use super::{extract_from, live, removal, some_id};
use crate::{CookieState, SameSite};

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).expect("valid header value")
}

#[test]
fn no_cookie_header_no_candidates() {
    let state = CookieState::default();
    assert!(
        state
            .extract(&RequestView::new(&HeaderMap::new(), None))
            .is_empty()
    );
    assert!(extract_from(&state, vec![value("theme=dark; lang=fr")]).is_empty());
    // Names are case-sensitive, and a longer name is another cookie.
    assert!(extract_from(&state, vec![value("ID=a; idx=b; xid=c")]).is_empty());
}

#[test]
fn duplicate_cookies_give_every_candidate_in_order() {
    let state = CookieState::default();
    let found = extract_from(
        &state,
        vec![value("id=one; other=x; id=two"), value("id=three")],
    );
    assert_eq!(found, ["one", "two", "three"]);
}

#[test]
fn candidates_borrow_from_the_request() {
    let state = CookieState::default();
    let mut headers = HeaderMap::new();
    headers.insert("cookie", value("a=1; id=abc"));
    let found = state.extract(&RequestView::new(&headers, None));
    let text = headers["cookie"].to_str().expect("ASCII");
    let candidate = found.iter().next().expect("one candidate");
    assert!(
        text.as_bytes().as_ptr_range().contains(&candidate.as_ptr()),
        "candidate was copied"
    );
}

#[test]
fn quoted_values_are_unquoted() {
    let state = CookieState::default();
    let found = extract_from(&state, vec![value("id=\"quoted\"; id=\"half; id=plain")]);
    assert_eq!(found, ["quoted", "\"half", "plain"]);
}

#[test]
fn hostile_headers_never_panic() {
    let state = CookieState::default();
    let huge = format!("id={}", "x".repeat(10 * 1024));
    assert_eq!(
        extract_from(&state, vec![value(&huge)]),
        ["x".repeat(10 * 1024)]
    );

    let mut non_ascii = b"id=\xff\xfe; other=1".to_vec();
    let not_utf8 = HeaderValue::from_bytes(&non_ascii).expect("obs-text is a valid header value");
    non_ascii = "id=caf\u{e9}".as_bytes().to_vec();
    let utf8 = HeaderValue::from_bytes(&non_ascii).expect("obs-text is a valid header value");
    let hostile = vec![
        not_utf8,
        utf8,
        value(""),
        value("a=b;;;"),
        value("id"),
        value("no-equals-sign"),
        value(";;;;"),
        value("=value"),
        value("id="),
        value("id=\"\""),
        value("   ;  id  =  spaced  ;"),
        value("id=a=b"),
    ];
    let found = extract_from(&state, hostile);
    // The non-UTF-8 header is skipped whole; UTF-8 values are candidates the id scheme rejects.
    assert_eq!(found, ["caf\u{e9}", "spaced", "a=b"]);
}

#[test]
fn removal_mirrors_the_live_cookie() {
    let state = CookieState::builder()
        .name("__Secure-sid")
        .path("/app")
        .domain("example.com")
        .same_site(SameSite::None)
        .partitioned(true)
        .build()
        .expect("valid");
    let id = some_id();
    let attributes =
        "; HttpOnly; SameSite=None; Partitioned; Secure; Path=/app; Domain=example.com";
    assert_eq!(
        live(&state, &id, None),
        format!("__Secure-sid={}{attributes}", id.as_str())
    );
    assert_eq!(
        removal(&state),
        format!("__Secure-sid={attributes}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    );
}

#[test]
fn max_age_comes_from_the_delivery() {
    let state = CookieState::default();
    let id = some_id();
    let cookie = live(&state, &id, Some(Duration::from_secs(3600)));
    let prefix = format!(
        "id={}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=3600; Expires=",
        id.as_str()
    );
    assert!(cookie.starts_with(&prefix), "{cookie}");
    assert!(cookie.ends_with(" GMT"), "{cookie}");

    // Sub-second parts are dropped; a lifetime too long for a date keeps Max-Age only.
    assert!(live(&state, &id, Some(Duration::from_millis(1500))).contains("; Max-Age=1;"));
    let forever = live(&state, &id, Some(Duration::MAX));
    assert!(
        forever.ends_with(&format!("; Max-Age={}", i64::MAX)),
        "{forever}"
    );
}

#[test]
fn finalize_and_expire_append_without_replacing() {
    let state = CookieState::default();
    let mut headers = HeaderMap::new();
    headers.insert("set-cookie", value("theme=dark"));
    state.expire(&mut headers);
    assert_eq!(headers.get_all("set-cookie").iter().count(), 2);
    assert_eq!(state.vary(), Some(http::header::COOKIE));
}
