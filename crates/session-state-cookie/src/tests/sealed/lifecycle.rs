//! The request lifecycle of a client-side session: what is sent, and when nothing is.

use http::HeaderMap;
use http::StatusCode;
use http::header::{CACHE_CONTROL, VARY};

use super::{
    MODES, assert_fresh, assert_opens, commit, commit_with, engine, key, new_session, open, pair,
    sealed, start, value_of,
};
use crate::tests::{block_on, removal};
use crate::{CookieState, SameSite, SealedCookie};

#[test]
fn a_round_trip_hides_values_in_private_mode_and_encodes_them_in_signed_mode() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let session = start(&engine, None);
            session
                .insert("user", "alice-in-wonderland")
                .await
                .expect("insert");
            let commit = engine
                .commit(&session, StatusCode::OK)
                .await
                .expect("commit");
            let mut response = HeaderMap::new();
            commit.apply_to(&mut response);
            assert_eq!(response[CACHE_CONTROL], "no-store");
            assert_eq!(response[VARY], "cookie");
            let cookies = crate::tests::set_cookies(&response);
            assert!(cookies[0].starts_with("id="), "{cookies:?}");
            assert!(
                cookies[0].ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"),
                "{cookies:?}"
            );
            assert!(!cookies[0].contains("alice"), "{mode:?}: {cookies:?}");
            let cookie = pair(&cookies);
            let value = value_of(&cookie);
            let needle = b"alice-in-wonderland";
            let contains = |bytes: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
            use base64::Engine as _;
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let sealed = URL_SAFE_NO_PAD.decode(value).expect("base64url");
            match mode {
                crate::SealMode::Signed => {
                    // Signed: a marker byte and the 32-byte tag (44 characters), then the payload,
                    // only base64url-encoded.
                    let payload = URL_SAFE_NO_PAD.decode(&value[44..]).expect("base64url");
                    assert!(contains(&payload), "signed mode: readable once decoded");
                    assert!(contains(&sealed[33..]));
                }
                _ => assert!(!contains(&sealed), "private mode: encrypted"),
            }

            let session = assert_opens(&engine, &cookie, "alice-in-wonderland").await;
            assert!(
                commit_with(&engine, &session, StatusCode::OK)
                    .await
                    .is_empty()
            );
        }
    });
}

#[test]
fn nothing_is_sent_for_an_empty_session_skip_store_or_a_server_error() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            // A new session read but never written.
            let session = start(&engine, None);
            assert_eq!(session.get::<String>("user").await.expect("get"), None);
            assert!(commit(&engine, &session).await.is_empty(), "read only");
            // Written, then emptied again.
            let session = start(&engine, None);
            session.insert("user", "alice").await.expect("insert");
            session.remove::<String>("user").await.expect("remove");
            assert!(commit(&engine, &session).await.is_empty(), "emptied");
            // Untouched.
            let session = start(&engine, None);
            assert!(commit(&engine, &session).await.is_empty(), "untouched");

            // skip_store and 5xx, for a new session and for an existing one.
            let cookie = new_session(&engine, &[("user", "alice")]).await;
            for existing in [None, Some(cookie.as_str())] {
                let session = start(&engine, existing);
                session.insert("user", "mallory").await.expect("insert");
                session.skip_store();
                assert!(commit(&engine, &session).await.is_empty(), "skip_store");
                for status in [StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY] {
                    let session = start(&engine, existing);
                    session.insert("user", "mallory").await.expect("insert");
                    session.cycle_id();
                    assert!(
                        commit_with(&engine, &session, status).await.is_empty(),
                        "5xx"
                    );
                }
            }
            assert_opens(&engine, &cookie, "alice").await;
        }
    });
}

#[test]
fn expire_sends_a_removal_mirroring_the_cookie_only_if_one_was_sent() {
    block_on(async {
        for mode in MODES {
            let state = CookieState::builder()
                .name("s")
                .path("/app")
                .domain("example.com")
                .same_site(SameSite::Strict)
                .partitioned(true)
                .build()
                .expect("valid");
            let sealed = SealedCookie::builder(key())
                .mode(mode)
                .cookie(state.clone())
                .build();
            let (engine, _) = engine(sealed);
            let expected = removal(&state);
            assert!(expected.contains("Domain=example.com"), "{expected}");

            let session = start(&engine, None);
            session.insert("user", "alice").await.expect("insert");
            session.expire();
            assert!(
                commit(&engine, &session).await.is_empty(),
                "{mode:?}: no cookie sent"
            );

            let cookie = new_session(&engine, &[("user", "alice")]).await;
            assert!(cookie.starts_with("s="));
            for sent in [cookie.as_str(), "s=garbage"] {
                let session = start(&engine, Some(sent));
                session.insert("user", "bob").await.expect("insert");
                session.expire();
                let cookies =
                    commit_with(&engine, &session, StatusCode::INTERNAL_SERVER_ERROR).await;
                assert_eq!(
                    cookies,
                    std::slice::from_ref(&expected),
                    "{mode:?}: {sent:.20}"
                );
            }
            // A documented limitation: the expired cookie itself still opens until its expiry.
            assert_opens(&engine, &cookie, "alice").await;
        }
    });
}

#[test]
fn cycle_id_gives_a_new_id_and_keeps_the_data() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (engine, _) = engine(sealed.clone());
            let cookie = new_session(&engine, &[("user", "alice")]).await;
            let session = assert_opens(&engine, &cookie, "alice").await;
            let old = session.id().await.expect("id").expect("an id");
            session.insert("role", "admin").await.expect("insert");
            session.cycle_id();
            let cycled = pair(&commit(&engine, &session).await);

            let session = assert_opens(&engine, &cycled, "alice").await;
            let new = session.id().await.expect("id").expect("an id");
            assert_ne!(new, old, "{mode:?}: cycle_id kept the id");
            assert_eq!(open(&sealed, &cycled).expect("opens").id, new.as_str());
            assert_eq!(
                session.get::<String>("role").await.expect("get").as_deref(),
                Some("admin")
            );
            assert_eq!(session.keys().await.expect("keys"), ["role", "user"]);

            // A read-only request with cycle_id: a new id too, data kept.
            session.cycle_id();
            let again = pair(&commit(&engine, &session).await);
            let session = assert_opens(&engine, &again, "alice").await;
            let third = session.id().await.expect("id").expect("an id");
            assert!(third != new && third != old);
        }
    });
}

#[test]
fn of_several_cookies_with_the_name_only_the_sole_live_one_is_adopted() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let a = new_session(&engine, &[("user", "alice")]).await;
            let b = new_session(&engine, &[("user", "bob")]).await;
            assert_opens(&engine, &format!("id=garbage; {a}"), "alice").await;
            assert_opens(&engine, &format!("id=x; id=y; id=z; {b}"), "bob").await;
            // The same session twice (one cookie per matching path) is one session.
            assert_opens(&engine, &format!("{a}; {a}"), "alice").await;
            // Two live sessions (one tossed in from a sibling domain): neither is adopted,
            // whichever comes first.
            assert_fresh(&engine, &format!("{a}; {b}"), &format!("{mode:?}: a, b")).await;
            let tossed = format!("{b}; other=1; id=garbage; {a}");
            assert_fresh(&engine, &tossed, &format!("{mode:?}: b, a")).await;
            // More than four: none opens, since the victim's could be the one left untried.
            let crowd = format!("{b}; id=x; id=y; id=z; {a}");
            assert_fresh(&engine, &crowd, &format!("{mode:?}: crowd")).await;
            // At most four are tried.
            let fifth = format!("id=v; id=w; id=x; id=y; {a}");
            assert_fresh(&engine, &fifth, &format!("{mode:?}: fifth")).await;
        }
    });
}

#[test]
fn a_session_started_but_never_used_sends_nothing_even_when_a_reseal_is_due() {
    block_on(async {
        for mode in MODES {
            let (engine, clock) = engine(sealed(mode, &key()));
            let cookie = new_session(&engine, &[("user", "alice")]).await;
            // Past the touch interval: a read would reseal; a handler that only extracts the
            // session (or a guard that checks for one) must not.
            clock.advance(std::time::Duration::from_secs(61));
            let session = start(&engine, Some(&cookie));
            let done = engine
                .commit(&session, StatusCode::OK)
                .await
                .expect("commit");
            let mut response = HeaderMap::new();
            done.apply_to(&mut response);
            assert!(response.is_empty(), "{mode:?}: {:?}", response.keys());
            // Read, it is resealed.
            let session = start(&engine, Some(&cookie));
            assert_eq!(
                session.get::<String>("user").await.expect("get").as_deref(),
                Some("alice")
            );
            assert!(
                !commit(&engine, &session).await.is_empty(),
                "{mode:?}: read"
            );
        }
    });
}

/// A sealed session whose id changes loses its keys bound to the id (a CSRF token, say) and
/// keeps the rest; a 5xx changes nothing, so the old cookie still holds them.
#[test]
fn keys_bound_to_the_id_do_not_follow_a_new_id() {
    block_on(async {
        let token = format!("{}token", session_core::Session::ID_BOUND_PREFIX);
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let cookie = new_session(&engine, &[(&token, "t"), ("user", "alice")]).await;

            let failing = start(&engine, Some(&cookie));
            failing.cycle_id();
            let sent = commit_with(&engine, &failing, StatusCode::INTERNAL_SERVER_ERROR).await;
            assert!(sent.is_empty(), "{sent:?}");
            let kept = assert_opens(&engine, &cookie, "alice").await;
            assert_eq!(
                kept.get::<String>(&token).await.expect("get").as_deref(),
                Some("t")
            );

            let login = start(&engine, Some(&cookie));
            login.cycle_id();
            let renewed = pair(&commit(&engine, &login).await);
            let after = assert_opens(&engine, &renewed, "alice").await;
            assert_eq!(
                after.get::<String>(&token).await.expect("get"),
                None,
                "{mode:?}"
            );
        }
    });
}
