//! CookieState driven by the engine, as an adapter drives it.

use std::time::Duration;

use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::{Engine, Lifetime, MemoryStore};

use super::{block_on, set_cookies};
use crate::CookieState;

#[test]
fn a_persistent_session_gets_max_age_and_comes_back() {
    block_on(async {
        let engine = Engine::builder(
            CookieState::new("sid").expect("valid"),
            MemoryStore::default(),
        )
        .lifetime(Lifetime::persistent(Duration::from_secs(600)))
        .build();
        let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
        session.insert("n", &1u32).await.expect("insert");
        let commit = engine
            .commit(&session, StatusCode::OK)
            .await
            .expect("commit");
        let cookies = set_cookies(commit.state_headers());
        assert_eq!(cookies.len(), 1);
        assert!(
            cookies[0].contains("; Max-Age=600; Expires="),
            "{}",
            cookies[0]
        );

        // A stale duplicate before the live cookie: the engine tries both and adopts the live one.
        let pair = cookies[0].split(';').next().expect("name=value");
        let mut request = HeaderMap::new();
        request.insert(
            "cookie",
            format!("sid=stale; {pair}").parse().expect("header"),
        );
        let session = engine.start(&RequestView::new(&request, None));
        assert_eq!(session.get::<u32>("n").await.expect("get"), Some(1));
    });
}

#[test]
fn a_lifetime_beyond_any_date_is_a_max_age_without_expires_not_a_panic() {
    block_on(async {
        for sealed in [false, true] {
            let builder = if sealed {
                let key = crate::SealKey::generate().expect("key");
                Engine::client_side_builder(crate::SealedCookie::new(key))
            } else {
                Engine::builder(CookieState::default(), MemoryStore::default())
            };
            let engine = builder
                .lifetime(Lifetime::persistent(Duration::MAX))
                .build();
            let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
            session.insert("n", &1u32).await.expect("insert");
            let commit = engine
                .commit(&session, StatusCode::OK)
                .await
                .expect("commit");
            let cookies = set_cookies(commit.state_headers());
            assert_eq!(cookies.len(), 1, "sealed: {sealed}");
            assert!(cookies[0].contains("; Max-Age="), "{}", cookies[0]);
            assert!(!cookies[0].contains("Expires="), "{}", cookies[0]);
        }
    });
}
