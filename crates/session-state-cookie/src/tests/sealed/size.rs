//! Size: the largest session that fits a cookie, `TooLarge` one byte past it (from the commit
//! and from `Session::save`), and decoding that stays bounded for deeply nested values.

use std::error::Error as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, StatusCode};
use session_core::state::Delivery;
use session_core::store::{ClientStore, StoreErrorKind};
use session_core::{Engine, Error, Value};

use super::{MODES, assert_opens, commit, engine, key, open, pair, sealed, start};
use crate::tests::{block_on, set_cookies};
use crate::{MAX_COOKIE_BYTES, SealError, SealMode, payload};

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
    /// The encoded session (bincode) at that size, in bytes.
    bincode: usize,
    /// Its base64url text (the plaintext that is sealed), in bytes.
    text: usize,
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
    let text = payload::encode(&id, &record).expect("encode");
    let bincode = URL_SAFE_NO_PAD.decode(&text).expect("base64url").len();
    Limits {
        value: fits,
        bincode,
        text: text.len(),
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
            assert_eq!(limits.text, (limits.bincode * 4).div_ceil(3), "base64url");
            assert!(limits.set_cookie > MAX_COOKIE_BYTES - 8, "{limits:?}");
            // The figures the docs of `SealedCookie` give: about 2,250 and 3,000 bytes.
            let documented = match mode {
                SealMode::Private => 2250,
                _ => 3000,
            };
            assert!(
                limits.bincode.abs_diff(documented) <= 25,
                "{mode:?}: {limits:?}"
            );

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
