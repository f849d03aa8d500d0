//! Property tests (proptest): an arbitrary `Cookie` header loads the session issued under the
//! exact id it carries or an empty one (`CookieState`); arbitrary sessions round-trip through a
//! sealed `Set-Cookie` and back in both seal modes (or fail with the documented `TooLarge`), and
//! any single-byte change of a sealed value opens nothing.

use std::collections::BTreeMap;
use std::error::Error as _;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use proptest::collection::btree_map;
use proptest::prelude::*;
use proptest::sample::Index;
use session_conformance::props::{IssuedSessions, json_sized, key, runtime};
use session_core::state::RequestView;
use session_core::store::StoreErrorKind;
use session_core::{Engine, Error, MemoryStore, Value};
use session_state_cookie::{
    CookieState, MAX_COOKIE_BYTES, SealError, SealKey, SealMode, SealedCookie,
};

/// Session data: arbitrary keys and values, sometimes with a long string that may not fit.
fn data() -> impl Strategy<Value = BTreeMap<String, Value>> {
    // Smaller JSON values than `props::value`'s: most sessions must fit in a cookie.
    let values = btree_map(
        key(),
        json_sized(3, 16, 4).prop_map(|j| Value::from_serialize(&j).expect("json")),
        0..6,
    );
    let padding = prop_oneof![
        3 => Just(None),
        1 => (0usize..4000).prop_map(Some),
    ];
    (values, padding).prop_map(|(mut data, padding)| {
        if let Some(len) = padding {
            data.insert(
                "padding".into(),
                Value::from_serialize(&"p".repeat(len)).expect("json"),
            );
        }
        data
    })
}

/// The `Set-Cookie` values in `headers`.
fn set_cookies(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
        .collect()
}

/// Request headers with one `Cookie` header of these bytes; `None` if no such header can exist.
fn cookie_header(bytes: &[u8]) -> Option<HeaderMap> {
    let value = HeaderValue::from_bytes(bytes).ok()?;
    let mut headers = HeaderMap::new();
    headers.insert(COOKIE, value);
    Some(headers)
}

// ---- Ids through CookieState ----

/// An engine on the default `CookieState` (`id`) and a `MemoryStore`, three sessions issued; each
/// response set the cookie `id` to the session's id.
fn issued() -> &'static IssuedSessions {
    static ISSUED: OnceLock<IssuedSessions> = OnceLock::new();
    ISSUED.get_or_init(|| {
        let engine = Engine::new(CookieState::default(), MemoryStore::default());
        let issued = IssuedSessions::issue(engine, 3);
        for (i, id) in issued.ids().iter().enumerate() {
            let cookies = set_cookies(issued.state_headers(i));
            let (pair, _) = cookies[0].split_once(';').expect("attributes");
            assert_eq!(pair, format!("id={id}"), "the id cookie");
        }
        issued
    })
}

/// The text after `id=` in the `Cookie` header: arbitrary text, an issued id, a near-miss of
/// one, a valid id never issued, or that followed by more cookies (a name that is empty stands
/// for `id`).
fn cookie_id() -> impl Strategy<Value = String> {
    let unissued = any::<[u8; 32]>().prop_map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    issued().sent_ids(unissued, "[a-z]{0,3}", |a, name, b| {
        let name = if name.is_empty() { "id" } else { name };
        format!("{a}; {name}={b}")
    })
}

/// The canonical unpadded base64url text of 32 bytes (what `DefaultIds` accepts).
fn valid_id(s: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(s)
        .is_ok_and(|bytes| bytes.len() == 32 && URL_SAFE_NO_PAD.encode(&bytes) == s)
}

/// The `id` cookies of `header` as an RFC 6265 reading extracts them: whitespace trimmed, one
/// pair of quotes removed, empty ones left out.
fn id_cookies(header: &str) -> impl Iterator<Item = &str> {
    header
        .split(';')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| name.trim_matches([' ', '\t']) == "id")
        .map(|(_, value)| {
            let value = value.trim_matches([' ', '\t']);
            value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value)
        })
        .filter(|value| !value.is_empty())
}

// ---- Sealed cookies ----

/// A client-side engine per mode, each with its own random key.
fn sealed_engine(mode: SealMode) -> &'static Engine {
    static PRIVATE: OnceLock<Engine> = OnceLock::new();
    static SIGNED: OnceLock<Engine> = OnceLock::new();
    let cell = match mode {
        SealMode::Private => &PRIVATE,
        _ => &SIGNED,
    };
    cell.get_or_init(|| {
        let key = SealKey::generate().expect("the OS random source");
        Engine::client_side(SealedCookie::builder(key).mode(mode).build())
    })
}

fn mode() -> impl Strategy<Value = SealMode> {
    prop_oneof![Just(SealMode::Private), Just(SealMode::Signed)]
}

/// A replacement byte for a sealed value: mostly one of the base64 alphabets (it gets past the
/// decoding to the authentication), sometimes anything.
fn tamper_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_".to_vec()
        ),
        1 => any::<u8>(),
    ]
}

/// Seals `data` in a new session: `Ok(Some(cookie pair))`, `Ok(None)` when nothing was sent, or
/// the commit's error.
async fn seal(engine: &Engine, data: &BTreeMap<String, Value>) -> Result<Option<String>, Error> {
    let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
    for (key, value) in data {
        session.insert_value(key, value.clone()).await?;
    }
    let commit = engine.commit(&session, StatusCode::OK).await?;
    let cookies = set_cookies(commit.state_headers());
    assert!(cookies.len() <= 1, "{cookies:?}");
    Ok(cookies.first().map(|cookie| {
        assert!(cookie.len() <= MAX_COOKIE_BYTES, "{} bytes", cookie.len());
        let (pair, _) = cookie.split_once(';').expect("attributes");
        pair.to_owned()
    }))
}

/// What a request carrying `headers` opens: its id (if any) and its data.
async fn open(engine: &Engine, headers: &HeaderMap) -> (Option<String>, BTreeMap<String, Value>) {
    let session = engine.start(&RequestView::new(headers, None));
    let id = session
        .id()
        .await
        .expect("id")
        .map(|id| id.as_str().to_owned());
    let mut data = BTreeMap::new();
    for key in session.keys().await.expect("keys") {
        let value = session.get_value(&key).await.expect("get").expect("listed");
        data.insert(key, value);
    }
    (id, data)
}

proptest! {
    /// A `Cookie: id=<arbitrary>` request loads the issued session named by the exact id it
    /// carries, or an empty one; never a session whose id it does not contain.
    #[test]
    fn a_cookie_id_loads_its_own_session_or_none(value in cookie_id()) {
        let issued = issued();
        let header = format!("id={value}");
        let Some(headers) = cookie_header(header.as_bytes()) else {
            // Not a header a client can send (a control character).
            return Ok(());
        };
        let who = issued.open(&RequestView::new(&headers, None), &header)?;
        let expected = issued.must_load(id_cookies(&header), valid_id);
        prop_assert_eq!(who, expected, "{:?}", header);
    }

    /// Arbitrary data round-trips through a real `Set-Cookie` and `Cookie` in both seal modes, or
    /// fails with the documented `TooLarge` when the cookie would exceed 4096 bytes; any
    /// single-byte change of the sealed value opens an empty session.
    #[test]
    fn sealed_sessions_round_trip_and_any_changed_byte_opens_nothing(
        mode in mode(),
        data in data(),
        at in any::<Index>(),
        byte in tamper_byte(),
    ) {
        let engine = sealed_engine(mode);
        runtime().block_on(async {
            let pair = match seal(engine, &data).await {
                Ok(Some(pair)) => pair,
                Ok(None) => {
                    prop_assert!(data.is_empty(), "{:?}: a session with data sent no cookie", mode);
                    return Ok(());
                }
                Err(Error::Store(e)) => {
                    prop_assert_eq!(e.kind(), StoreErrorKind::TooLarge, "{:?}: {}", mode, e);
                    match e.source().and_then(|s| s.downcast_ref::<SealError>()) {
                        Some(SealError::TooLarge { size, limit }) => {
                            prop_assert!(*size > MAX_COOKIE_BYTES, "{:?}: {}", mode, size);
                            prop_assert_eq!(*limit, MAX_COOKIE_BYTES);
                        }
                        other => {
                            return Err(TestCaseError::fail(format!("{mode:?}: source {other:?}")));
                        }
                    }
                    return Ok(());
                }
                Err(e) => {
                    return Err(TestCaseError::fail(format!("{mode:?}: {}", e.report())));
                }
            };
            prop_assert!(!data.is_empty(), "{:?}: an empty new session was sealed", mode);

            // The browser sends the pair back.
            let headers = cookie_header(pair.as_bytes()).expect("a Set-Cookie pair is a Cookie");
            let (id, opened) = open(engine, &headers).await;
            prop_assert!(id.is_some(), "{:?}: the sealed session did not open", mode);
            prop_assert_eq!(&opened, &data, "{:?}", mode);

            // One byte of the value changed.
            let value = pair.strip_prefix("id=").expect("the id cookie");
            let mut tampered = value.as_bytes().to_vec();
            let at = at.index(tampered.len());
            tampered[at] = if tampered[at] == byte { byte ^ 0x01 } else { byte };
            let mut header = b"id=".to_vec();
            header.extend_from_slice(&tampered);
            if let Some(headers) = cookie_header(&header) {
                let (id, opened) = open(engine, &headers).await;
                prop_assert!(
                    id.is_none() && opened.is_empty(),
                    "{:?}: byte {} of {} changed to {:?} still opens",
                    mode, at, value.len(), char::from(tampered[at])
                );
            }
            Ok(())
        })?;
    }
}
