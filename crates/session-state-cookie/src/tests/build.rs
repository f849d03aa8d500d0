//! Building a CookieState: defaults, validation, prefixes, partitioned cookies.

use super::{live, removal, some_id};
use crate::{CookieConfigError, CookieState, DEFAULT_COOKIE_NAME, SameSite};

#[test]
fn defaults_are_secure_and_generic() {
    let state = CookieState::default();
    assert_eq!(
        state,
        CookieState::builder().build().expect("defaults are valid")
    );
    assert_eq!(state.name(), DEFAULT_COOKIE_NAME);
    assert_eq!(state.name(), "id");
    assert_eq!(state.path(), "/");
    assert_eq!(state.domain(), None);
    assert!(state.is_secure() && state.is_http_only() && !state.is_partitioned());
    assert_eq!(state.same_site(), Some(SameSite::Lax));

    let id = some_id();
    let cookie = live(&state, &id, None);
    assert_eq!(
        cookie,
        format!("id={}; HttpOnly; SameSite=Lax; Secure; Path=/", id.as_str())
    );
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires") && !cookie.contains("Domain")
    );
}

#[test]
fn new_takes_a_name_and_validates_it() {
    assert_eq!(CookieState::new("sid").expect("valid").name(), "sid");
    assert!(matches!(
        CookieState::new("s id"),
        Err(CookieConfigError::InvalidName { .. })
    ));
}

#[test]
fn bad_names_are_refused() {
    for name in [
        "", "a;b", "a=b", "a b", "a\tb", "a\r\nb", "a,b", "a\"b", "(a)", "é", "a\u{0}",
    ] {
        let err = CookieState::builder().name(name).build().expect_err(name);
        assert_eq!(
            err,
            CookieConfigError::InvalidName {
                name: name.to_owned()
            }
        );
    }
    let err = CookieState::new("a".repeat(257)).expect_err("too long");
    assert!(matches!(err, CookieConfigError::InvalidName { .. }));
}

#[test]
fn bad_paths_are_refused() {
    for path in [
        "",
        "app",
        "/a;Domain=evil.example",
        "/a b",
        "/a\r\nX: y",
        "/\u{7f}",
        "/é",
    ] {
        let err = CookieState::builder().path(path).build().expect_err(path);
        assert_eq!(
            err,
            CookieConfigError::InvalidPath {
                path: path.to_owned()
            }
        );
    }
}

#[test]
fn bad_domains_are_refused() {
    for domain in [
        "",
        "a;b.example",
        "a b.example",
        "evil.example; Secure",
        "a\u{1}.example",
        "bücher.de",
        "a..example",
        "-a.example",
    ] {
        let err = CookieState::builder()
            .domain(domain)
            .build()
            .expect_err(domain);
        assert_eq!(
            err,
            CookieConfigError::InvalidDomain {
                domain: domain.to_owned()
            }
        );
    }
    let state = CookieState::builder()
        .domain(".example.com")
        .build()
        .expect("leading dot is fine");
    assert!(removal(&state).contains("; Domain=example.com;"));
}

#[test]
fn errors_display_clearly_and_escape_hostile_text() {
    let err = CookieState::new("a\r\nb").expect_err("control characters");
    let text = err.to_string();
    assert!(
        text.contains("invalid cookie name") && text.contains("\\r\\n"),
        "{text}"
    );
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
    assert!(boxed.source().is_none());
}

#[test]
fn same_site_none_requires_secure() {
    let err = CookieState::builder()
        .same_site(SameSite::None)
        .secure(false)
        .build();
    assert_eq!(err, Err(CookieConfigError::SameSiteNoneWithoutSecure));
    let state = CookieState::builder()
        .same_site(SameSite::None)
        .build()
        .expect("secure by default");
    assert!(removal(&state).contains("; SameSite=None; Secure;"));
}

#[test]
fn insecure_cookies_for_development() {
    let state = CookieState::builder()
        .secure(false)
        .http_only(false)
        .no_same_site()
        .build()
        .expect("valid");
    let id = some_id();
    assert_eq!(
        live(&state, &id, None),
        format!("id={}; Path=/", id.as_str())
    );
    let state = CookieState::builder()
        .secure(false)
        .same_site(SameSite::Strict)
        .build()
        .expect("valid");
    assert_eq!(state.same_site(), Some(SameSite::Strict));
    assert!(!removal(&state).contains("Secure"));
}

#[test]
fn host_prefix_requires_secure_root_path_and_no_domain() {
    let state = CookieState::new("__Host-id").expect("defaults satisfy __Host-");
    let id = some_id();
    assert_eq!(
        live(&state, &id, None),
        format!(
            "__Host-id={}; HttpOnly; SameSite=Lax; Secure; Path=/",
            id.as_str()
        )
    );

    let secure = CookieState::builder()
        .name("__Host-id")
        .secure(false)
        .build();
    assert_eq!(
        secure,
        Err(CookieConfigError::PrefixWithoutSecure { prefix: "__Host-" })
    );
    let path = CookieState::builder()
        .name("__Host-id")
        .path("/app")
        .build();
    assert_eq!(path, Err(CookieConfigError::HostPrefixWithPath));
    let domain = CookieState::builder()
        .name("__Host-id")
        .domain("example.com")
        .build();
    assert_eq!(domain, Err(CookieConfigError::HostPrefixWithDomain));
    // Browsers match prefixes case-insensitively, so we do too.
    let lower = CookieState::builder()
        .name("__host-id")
        .domain("example.com")
        .build();
    assert_eq!(lower, Err(CookieConfigError::HostPrefixWithDomain));
}

#[test]
fn secure_prefix_requires_secure_only() {
    let state = CookieState::builder()
        .name("__Secure-id")
        .path("/app")
        .domain("example.com")
        .build();
    assert!(state.is_ok());
    let err = CookieState::builder()
        .name("__SECURE-id")
        .secure(false)
        .build();
    assert_eq!(
        err,
        Err(CookieConfigError::PrefixWithoutSecure {
            prefix: "__Secure-"
        })
    );
}

#[test]
fn partitioned_requires_secure_and_defaults_to_same_site_none() {
    let err = CookieState::builder()
        .partitioned(true)
        .secure(false)
        .build();
    assert_eq!(err, Err(CookieConfigError::PartitionedWithoutSecure));

    let state = CookieState::builder()
        .partitioned(true)
        .build()
        .expect("valid");
    assert!(state.is_partitioned() && state.is_secure());
    assert_eq!(state.same_site(), Some(SameSite::None));
    let id = some_id();
    assert_eq!(
        live(&state, &id, None),
        format!(
            "id={}; HttpOnly; SameSite=None; Partitioned; Secure; Path=/",
            id.as_str()
        )
    );

    // An explicit SameSite wins over the partitioned default.
    let state = CookieState::builder()
        .same_site(SameSite::Lax)
        .partitioned(true)
        .build()
        .expect("valid");
    assert!(removal(&state).contains("; SameSite=Lax; Partitioned; Secure;"));
}
