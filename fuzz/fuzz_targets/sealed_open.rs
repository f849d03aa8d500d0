//! A client-side engine opening arbitrary `Cookie` headers.
//!
//! `Engine::client_side` with a `SealedCookie`, in private mode (first input byte even) or signed
//! mode (odd).
//!
//! The rest of the input is split at `\n` into `Cookie` header values; then start, read, write,
//! commit, and the cookie the commit sealed is sent back in a second request. Checked: nothing
//! panics or fails; a session that opens holds exactly what the seeds sealed with the fixed key
//! (`user` = `SEALED_USER`, a counter `n`): nothing unauthenticated is ever read, so any other
//! request gets an empty session with no id; the commit seals exactly one session cookie; and
//! that cookie opens again, holding the write and the same id.
//!
//! Random bytes do not authenticate; `sealed_payload` fuzzes the decoder behind authentication.

#![no_main]

use std::sync::OnceLock;

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use libfuzzer_sys::fuzz_target;
use session_core::state::RequestView;
use session_core::{Engine, Value};
use session_fuzz::{SEAL_KEY, SEALED_USER, block_on, clock, cookie_headers};
use session_state_cookie::{SealKey, SealMode, SealedCookie};

/// One engine per mode, on the fixed clock, sealing with the fixed key.
fn engine(signed: bool) -> &'static Engine {
    static ENGINES: OnceLock<[Engine; 2]> = OnceLock::new();
    let engines = ENGINES.get_or_init(|| {
        [SealMode::Private, SealMode::Signed].map(|mode| {
            let key = SealKey::from_bytes(&SEAL_KEY).expect("the fixed key is accepted");
            let sealed = SealedCookie::builder(key).mode(mode).build();
            Engine::client_side_builder(sealed).clock(clock()).build()
        })
    });
    &engines[usize::from(signed)]
}

fuzz_target!(|data: &[u8]| {
    let (signed, rest) = match data.split_first() {
        Some((first, rest)) => (first & 1 == 1, rest),
        None => (false, data),
    };
    let engine = engine(signed);
    let headers = cookie_headers(rest);
    block_on(async {
        let session = engine.start(&RequestView::new(&headers, None));
        let user = session.get_value("user").await.expect("get");
        let id = session.id().await.expect("id");
        let n = match &user {
            Some(user) => {
                let expected = Value::from_serialize(SEALED_USER).expect("json");
                assert_eq!(user, &expected, "a session opened that was never sealed");
                assert!(id.is_some(), "an opened session has no id");
                let keys = session.keys().await.expect("keys");
                assert_eq!(
                    keys,
                    ["n", "user"],
                    "a session opened that was never sealed"
                );
                session
                    .get::<u64>("n")
                    .await
                    .expect("n is a u64")
                    .expect("n is sealed")
            }
            None => {
                assert!(id.is_none(), "an empty session has an id");
                assert!(
                    session.is_empty().await.expect("is_empty"),
                    "unauthenticated data read"
                );
                0
            }
        };
        session.insert("n", n + 1).await.expect("insert");
        let commit = engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit");
        let mut response = HeaderMap::new();
        commit.apply_to(&mut response);
        let mut cookies = response.get_all(SET_COOKIE).iter();
        let set_cookie = cookies.next().expect("a changed session is sealed");
        assert!(cookies.next().is_none(), "one sealed cookie");
        let pair = set_cookie
            .to_str()
            .expect("ASCII")
            .split(';')
            .next()
            .unwrap_or_default();
        assert!(
            pair.starts_with("id=") && pair.len() > 3,
            "the session cookie, not a removal"
        );

        // The browser sends the cookie back: it opens, with the write and the same id.
        let mut request = HeaderMap::new();
        request.insert(COOKIE, HeaderValue::from_str(pair).expect("a header value"));
        let again = engine.start(&RequestView::new(&request, None));
        assert_eq!(
            again.get::<u64>("n").await.expect("n"),
            Some(n + 1),
            "the sealed write"
        );
        assert_eq!(again.get_value("user").await.expect("user"), user);
        let again_id = again
            .id()
            .await
            .expect("id")
            .expect("the sealed session has an id");
        if let Some(id) = id {
            assert_eq!(again_id, id, "the sealed session kept its id");
        }
    });
});
