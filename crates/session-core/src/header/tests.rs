use http::header::{ACCESS_CONTROL_EXPOSE_HEADERS, CACHE_CONTROL, SET_COOKIE, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};

use super::*;
use crate::{Engine, MemoryStore, ParamState};

fn request(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in pairs {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_str(value).expect("a header value"),
        );
    }
    headers
}

/// Runs one request through `engine`: `handler` on its session, then the commit; the response's
/// headers, as an adapter would add them to an empty response.
async fn serve<F, Fut>(
    engine: &Engine,
    headers: &HeaderMap,
    query: Option<&str>,
    handler: F,
) -> HeaderMap
where
    F: FnOnce(crate::Session) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let session = engine.start(&RequestView::new(headers, query));
    handler(session.clone()).await;
    let commit = engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("a memory store commits");
    let mut response = HeaderMap::new();
    commit.apply_to(&mut response);
    response
}

fn all(headers: &HeaderMap, name: impl http::header::AsHeaderName) -> Vec<&str> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().expect("visible ASCII"))
        .collect()
}

#[test]
fn names_are_checked() {
    assert_eq!(HeaderState::default().name(), "x-session-id");
    assert_eq!(
        HeaderState::new("X-Api-Session")
            .expect("a valid name")
            .name(),
        "x-api-session"
    );
    for bad in [
        "",
        "a b",
        "x:y",
        "é",
        "Cookie",
        "set-cookie",
        "Authorization",
        "vary",
        "TE",
        "keep-alive",
        "Upgrade",
        "origin",
        "Access-Control-Expose-Headers",
        "access-control-allow-origin",
    ] {
        assert!(HeaderState::new(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn every_non_empty_value_is_a_candidate() {
    let state = HeaderState::new("x-sid").expect("a valid name");
    let headers = request(&[
        ("x-sid", "one"),
        ("x-sid", ""),
        ("x-sid", "two"),
        ("x-other", "no"),
    ]);
    let found = state.extract(&RequestView::new(&headers, Some("x-sid=three")));
    assert_eq!(found.iter().collect::<Vec<_>>(), ["one", "two"]);
    let mut opaque = HeaderMap::new();
    opaque.insert(
        "x-sid",
        HeaderValue::from_bytes(b"caf\xc3\xa9").expect("a header value"),
    );
    assert!(state.extract(&RequestView::new(&opaque, None)).is_empty());
}

#[test]
fn only_the_default_name_is_listed_as_the_header_read() {
    assert_eq!(
        HeaderState::default().request_headers(),
        RequestHeaders::Only(&DEFAULT_HEADER)
    );
    assert_eq!(
        HeaderState::new("x-sid")
            .expect("a valid name")
            .request_headers(),
        RequestHeaders::All
    );
    let combined = HeaderOr::new(HeaderState::default(), ParamState::default());
    assert_eq!(
        combined.request_headers(),
        RequestHeaders::Only(&DEFAULT_HEADER)
    );
}

/// A client with no id gets one in the header; it comes back and is adopted; a logout answers
/// the header empty and the id is dead. No cookie, ever; `Vary` names the header.
#[tokio::test]
async fn an_id_travels_in_the_header_and_a_logout_empties_it() {
    let engine = Engine::new(HeaderState::default(), MemoryStore::default());
    let created = serve(&engine, &HeaderMap::new(), None, |s| async move {
        s.insert("n", 1).await.expect("a memory store works");
    })
    .await;
    let id = created["x-session-id"]
        .to_str()
        .expect("visible ASCII")
        .to_owned();
    assert!(!id.is_empty());
    assert!(created["x-session-id"].is_sensitive());
    assert_eq!(
        all(&created, ACCESS_CONTROL_EXPOSE_HEADERS),
        ["x-session-id"]
    );
    assert_eq!(all(&created, VARY), ["x-session-id"]);
    assert_eq!(all(&created, CACHE_CONTROL), ["no-store"]);
    assert!(!created.contains_key(SET_COOKIE));

    let carrying = request(&[("x-session-id", &id)]);
    let read = serve(&engine, &carrying, None, |s| async move {
        assert_eq!(
            s.get::<u64>("n").await.expect("a memory store works"),
            Some(1)
        );
    })
    .await;
    assert!(
        !read.contains_key("x-session-id"),
        "a read sends nothing: {read:?}"
    );
    assert_eq!(all(&read, VARY), ["x-session-id"]);

    let logout = serve(&engine, &carrying, None, |s| async move { s.expire() }).await;
    assert_eq!(all(&logout, "x-session-id"), [""]);
    assert_eq!(
        all(&logout, ACCESS_CONTROL_EXPOSE_HEADERS),
        ["x-session-id"]
    );
    assert_eq!(all(&logout, CACHE_CONTROL), ["no-store"]);
    let after = serve(&engine, &carrying, None, |s| async move {
        assert_eq!(
            s.get::<u64>("n").await.expect("a memory store works"),
            None,
            "the session outlived its logout"
        );
    })
    .await;
    assert!(
        !after.contains_key("x-session-id"),
        "an empty new session is not stored"
    );
}

/// Malformed and unknown ids in the header give a fresh session with a fresh id.
#[tokio::test]
async fn hostile_header_values_start_afresh() {
    let engine = Engine::new(HeaderState::default(), MemoryStore::default());
    for hostile in [
        "../wrong",
        "x",
        "a;b",
        &"A".repeat(5000),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let headers = request(&[("x-session-id", hostile)]);
        let reply = serve(&engine, &headers, None, |s| async move {
            assert!(s.is_empty().await.expect("a memory store works"));
            s.insert("n", 1).await.expect("a memory store works");
        })
        .await;
        let issued = reply["x-session-id"].to_str().expect("visible ASCII");
        assert_ne!(issued, hostile);
        assert!(!issued.is_empty());
    }
}

/// `HeaderOr`: a request with the header is answered in the header, one without it as the
/// fallback answers (here `ParamState`, which writes nothing); an empty header asks for a new
/// session in the header. `Vary` names the header and the fallback's.
#[tokio::test]
async fn header_or_answers_in_the_form_the_request_used() {
    let state = HeaderOr::new(
        HeaderState::new("x-sid").expect("a valid name"),
        ParamState::default(),
    );
    let engine = Engine::new(state, MemoryStore::default());
    let store =
        |s: crate::Session| async move { s.insert("n", 1).await.expect("a memory store works") };

    let by_header = serve(&engine, &request(&[("x-sid", "")]), None, store).await;
    let id = by_header["x-sid"]
        .to_str()
        .expect("visible ASCII")
        .to_owned();
    assert_eq!(all(&by_header, VARY), ["x-sid"]);

    let by_query = serve(&engine, &HeaderMap::new(), None, store).await;
    assert!(!by_query.contains_key("x-sid"), "{by_query:?}");
    assert!(!by_query.contains_key(ACCESS_CONTROL_EXPOSE_HEADERS));

    // The id issued in the header works in the fallback's form too: it is one session.
    let query = format!("plack_session={id}");
    let read = serve(&engine, &HeaderMap::new(), Some(&query), |s| async move {
        assert_eq!(
            s.get::<u64>("n").await.expect("a memory store works"),
            Some(1)
        );
    })
    .await;
    assert!(!read.contains_key("x-sid"));

    // With the header, the query's id is not read.
    let both = request(&[("x-sid", "")]);
    serve(&engine, &both, Some(&query), |s| async move {
        assert_eq!(s.get::<u64>("n").await.expect("a memory store works"), None);
    })
    .await;

    let logout = serve(&engine, &request(&[("x-sid", &id)]), None, |s| async move {
        s.expire()
    })
    .await;
    assert_eq!(all(&logout, "x-sid"), [""]);
}

#[test]
fn header_or_varies_on_both() {
    struct CookieLike;
    impl std::fmt::Debug for CookieLike {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("CookieLike")
        }
    }
    impl State for CookieLike {
        fn extract<'a>(&self, _: &RequestView<'a>) -> Candidates<'a> {
            Candidates::new()
        }
        fn finalize(&self, _: &Id, _: &Delivery, _: &mut HeaderMap) {}
        fn expire(&self, _: &mut HeaderMap) {}
        fn request_headers(&self) -> RequestHeaders {
            RequestHeaders::COOKIE
        }
    }
    let state = HeaderOr::new(HeaderState::default(), CookieLike);
    assert_eq!(state.vary().expect("a header"), "x-session-id");
    assert_eq!(state.vary_also().expect("a header"), "cookie");
    assert_eq!(
        state.request_headers(),
        RequestHeaders::Only(&DEFAULT_HEADER_AND_COOKIE)
    );
    let custom = HeaderOr::new(HeaderState::new("x-sid").expect("a valid name"), CookieLike);
    assert_eq!(custom.request_headers(), RequestHeaders::All);
}
