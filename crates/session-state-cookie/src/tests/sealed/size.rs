//! Size: the largest session that fits a cookie, `TooLarge` one byte past it (from the commit
//! and from `Session::save`), and decoding that stays bounded for deeply nested values.

use std::error::Error as _;

use http::{HeaderMap, StatusCode};
use session_core::state::Delivery;
use session_core::store::{ClientStore, StoreErrorKind};
use session_core::{Engine, Error, Value};

use super::{MODES, assert_opens, commit, engine, key, open, pair, sealed, start, value_of};
use crate::tests::{block_on, set_cookies};
use crate::{MAX_COOKIE_BYTES, SealError, SealMode, payload};

/// The three-key session of `benches/benches/sealed.rs`: `counter` = 1, `user` = "alice", and a
/// 32-character CSRF token.
const CSRF: &str = "q7ZK2mVx9LbR4tWc8NfH3sJd6PgY0uEa";

/// The most bytes the three-key session's whole `Set-Cookie` may take, in either mode (default
/// cookie and engine).
const THREE_KEYS_MAX: usize = 240;

/// Commits a new session holding a string of `len` bytes under `v`.
async fn seal_len(engine: &Engine, len: usize) -> Result<Vec<String>, Error> {
    let session = start(engine, None);
    session.insert("v", "x".repeat(len)).await.expect("insert");
    let commit = engine.commit(&session, StatusCode::OK).await?;
    Ok(set_cookies(commit.state_headers()))
}

/// Asserts that `result` is a `TooLarge` store error from a `SealError::TooLarge`.
fn assert_too_large<T: std::fmt::Debug>(result: Result<T, Error>, what: &str) {
    match result {
        Err(Error::Store(e)) => {
            assert_eq!(e.kind(), StoreErrorKind::TooLarge, "{what}");
            let source = e.source().and_then(|s| s.downcast_ref::<SealError>());
            match source {
                Some(SealError::TooLarge { size, limit }) => {
                    assert!(*size > MAX_COOKIE_BYTES, "{what}: {size}");
                    assert_eq!(*limit, MAX_COOKIE_BYTES, "{what}");
                }
                other => panic!("{what}: source {other:?}"),
            }
        }
        other => panic!("{what}: expected TooLarge, got {other:?}"),
    }
}

/// The measured limits of one mode, with the default cookie.
#[derive(Debug)]
struct Limits {
    /// The longest string value that fits (under a one-byte key).
    value: usize,
    /// The encoded session (the plaintext that is sealed) at that size, in bytes.
    payload: usize,
    /// The sealed value (base64url), in bytes.
    value_len: usize,
    /// The whole `Set-Cookie`, in bytes.
    set_cookie: usize,
}

async fn measure(mode: SealMode) -> Limits {
    let sealed = sealed(mode, &key());
    let (engine, _) = engine(sealed.clone());
    let (mut fits, mut fails) = (0, 5000);
    while fails - fits > 1 {
        let mid = (fits + fails) / 2;
        match seal_len(&engine, mid).await {
            Ok(_) => fits = mid,
            Err(_) => fails = mid,
        }
    }
    let cookies = seal_len(&engine, fits).await.expect("fits");
    let cookie = pair(&cookies);
    let session = start(&engine, Some(&cookie));
    let id = session.id().await.expect("id").expect("opens");
    let record = open(&sealed, &cookie).expect("opens").record;
    let mut plain = Vec::new();
    payload::encode(id.as_str(), &record, &mut plain);
    Limits {
        value: fits,
        payload: plain.len(),
        value_len: value_of(&cookie).len(),
        set_cookie: cookies[0].len(),
    }
}

#[test]
fn the_largest_session_that_fits_and_one_byte_more() {
    block_on(async {
        for mode in MODES {
            let limits = measure(mode).await;
            println!("{mode:?}: {limits:?}");
            assert!(limits.set_cookie <= MAX_COOKIE_BYTES, "{limits:?}");
            // One marker byte, then a nonce and a tag (private) or a tag (signed), base64url.
            let overhead = match mode {
                SealMode::Private => 1 + 12 + 16,
                _ => 1 + 32,
            };
            let sealed_len = (limits.payload + overhead) * 4;
            assert_eq!(
                limits.value_len,
                sealed_len.div_ceil(3),
                "{mode:?}: base64url"
            );
            assert!(limits.set_cookie > MAX_COOKIE_BYTES - 8, "{limits:?}");
            // The figure the docs of `SealedCookie` give: about 3,000 bytes in either mode.
            assert!(limits.payload.abs_diff(3000) <= 25, "{mode:?}: {limits:?}");

            let (engine, _) = engine(sealed(mode, &key()));
            assert!(seal_len(&engine, limits.value).await.is_ok());
            assert_too_large(seal_len(&engine, limits.value + 1).await, "commit");

            // `Session::save` reports it to the handler first; the commit fails the same way.
            let session = start(&engine, None);
            session
                .insert("v", "x".repeat(limits.value + 1))
                .await
                .expect("insert");
            assert_too_large(session.save().await, "save");
            assert_too_large(
                engine.commit(&session, StatusCode::OK).await,
                "commit after save",
            );

            // A session that fits, but not with this request's longer cookie path: `save` counts
            // the options too, as the commit does.
            let session = start(&engine, None);
            session
                .insert("v", "x".repeat(limits.value))
                .await
                .expect("insert");
            session.set_cookie_options(session_core::CookieOptions::new().path("/a-longer-path"));
            assert_too_large(session.save().await, "save with cookie options");

            // An existing session that grows past the limit.
            let cookie = pair(&seal_len(&engine, limits.value - 10).await.expect("fits"));
            let session = start(&engine, Some(&cookie));
            session
                .insert("v", "x".repeat(limits.value + 1))
                .await
                .expect("insert");
            assert_too_large(session.save().await, "save of a grown session");
            assert_too_large(engine.commit(&session, StatusCode::OK).await, "grown");

            // A save that fits gives the id the cookie then carries.
            let session = start(&engine, None);
            session
                .insert("v", "x".repeat(limits.value))
                .await
                .expect("insert");
            let id = session.save().await.expect("save");
            let cookie = pair(&commit(&engine, &session).await);
            let session = start(&engine, Some(&cookie));
            assert_eq!(session.id().await.expect("id"), Some(id));
        }
    });
}

#[test]
fn a_seal_that_does_not_fit_writes_no_header() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (engine, _) = engine(sealed.clone());
            let cookie = pair(&seal_len(&engine, 10).await.expect("fits"));
            let session = start(&engine, Some(&cookie));
            let id = session.id().await.expect("id").expect("opens");
            let mut record = open(&sealed, &cookie).expect("opens").record;
            record.data.insert(
                "v".into(),
                Value::from_serialize(&"x".repeat(5000)).expect("json"),
            );
            let mut headers = HeaderMap::new();
            let result = sealed.seal(&id, &record, &Delivery::default(), &mut headers);
            assert_too_large(result.map_err(Error::Store), "seal");
            assert!(headers.is_empty(), "{mode:?}: a header was written");
        }
    });
}

#[test]
fn deeply_nested_values_round_trip_and_read_with_a_depth_limit() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let deep = format!("{}{}", "[".repeat(800), "]".repeat(800));
            let shallow = format!("{}{}", "[".repeat(100), "]".repeat(100));
            let session = start(&engine, None);
            session.insert("user", "alice").await.expect("insert");
            for (key, json) in [("deep", &deep), ("shallow", &shallow)] {
                let value = Value::from_json(json.clone()).expect("valid JSON");
                session.insert_value(key, value).await.expect("insert");
            }
            let cookie = pair(&commit(&engine, &session).await);

            let session = assert_opens(&engine, &cookie, "alice").await;
            let value = session.get_value("deep").await.expect("get").expect("kept");
            assert_eq!(value.as_json(), deep, "{mode:?}: the JSON text round-trips");
            let read = session.get::<serde_json::Value>("deep").await;
            match read {
                Err(Error::Decode(e)) => assert!(e.to_string().contains("recursion limit"), "{e}"),
                other => panic!("{mode:?}: expected a decode error, got {:?}", other.is_ok()),
            }
            let shallow = session.get::<serde_json::Value>("shallow").await;
            assert!(shallow.expect("depth 100 reads").is_some());
        }
    });
}

/// The three-key session's whole `Set-Cookie`, sealed through the engine with its defaults as the
/// `sealed` bench does, stays within [`THREE_KEYS_MAX`] bytes in both modes.
#[test]
fn the_three_key_session_fits_its_pinned_size() {
    block_on(async {
        for mode in MODES {
            let engine = Engine::client_side(sealed(mode, &key()));
            let session = start(&engine, None);
            session.insert("counter", 1u64).await.expect("insert");
            session.insert("user", "alice").await.expect("insert");
            session.insert("csrf", CSRF).await.expect("insert");
            let cookies = commit(&engine, &session).await;
            assert_eq!(cookies.len(), 1, "{mode:?}");
            let size = cookies[0].len();
            println!("{mode:?}: the three-key session's Set-Cookie is {size} bytes");
            assert!(
                size <= THREE_KEYS_MAX,
                "{mode:?}: {size} bytes: {}",
                cookies[0]
            );
            assert_opens(&engine, &pair(&cookies), "alice").await;
        }
    });
}
