//! Expiry from inside the sealed payload, on a manual clock: idle timeout, sliding expiry, the
//! absolute cap, and a persistent lifetime mirrored by `Max-Age` and `Expires`.

use std::time::Duration;

use session_core::Lifetime;
use session_core::store::Timestamp;

use super::{
    MODES, START, assert_fresh, assert_opens, builder, commit, key, new_session, open, pair,
    sealed, start,
};
use crate::tests::block_on;

const IDLE: Duration = Duration::from_secs(600);

/// `START` plus `secs` seconds.
fn at(secs: u64) -> Timestamp {
    START.saturating_add(Duration::from_secs(secs))
}

#[test]
fn an_idle_session_expires() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (builder, clock) = builder(sealed.clone());
            let engine = builder.lifetime(Lifetime::browser_session(IDLE)).build();
            let cookie = new_session(&engine, &[("user", "alice")]).await;
            assert_eq!(
                open(&sealed, &cookie).expect("opens").record.expires,
                at(600)
            );

            clock.set(at(599));
            assert_opens(&engine, &cookie, "alice").await;
            clock.set(at(600));
            assert_fresh(&engine, &cookie, &format!("{mode:?}: idle for 600 s")).await;
            clock.set(at(100_000));
            assert_fresh(&engine, &cookie, &format!("{mode:?}: idle for a day")).await;
        }
    });
}

#[test]
fn reads_slide_the_expiry_once_per_touch_interval() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (builder, clock) = builder(sealed.clone());
            let engine = builder.lifetime(Lifetime::browser_session(IDLE)).build();
            let first = new_session(&engine, &[("user", "alice")]).await;

            // Within the touch interval (a tenth of the idle timeout, 60 s): nothing is sent.
            clock.set(at(30));
            let session = assert_opens(&engine, &first, "alice").await;
            assert!(commit(&engine, &session).await.is_empty(), "{mode:?}: 30 s");
            clock.set(at(59));
            let session = assert_opens(&engine, &first, "alice").await;
            assert!(commit(&engine, &session).await.is_empty(), "{mode:?}: 59 s");

            // After it: a read seals the session again with a later expiry.
            clock.set(at(61));
            let session = assert_opens(&engine, &first, "alice").await;
            let id = session.id().await.expect("id");
            let second = pair(&commit(&engine, &session).await);
            let old = open(&sealed, &first).expect("opens").record;
            let new = open(&sealed, &second).expect("opens").record;
            assert_eq!(old.expires, at(600));
            assert_eq!(new.expires, at(661));
            assert_eq!(new.last_active, at(61));
            assert_eq!(new.created, START, "the session is the same");
            assert_eq!(new.data, old.data);

            // Past the first expiry: the old cookie is stale, the new one lives on.
            clock.set(at(630));
            assert_fresh(&engine, &first, &format!("{mode:?}: the old cookie")).await;
            let session = assert_opens(&engine, &second, "alice").await;
            assert_eq!(session.id().await.expect("id"), id);
        }
    });
}

#[test]
fn an_active_session_still_ends_at_the_absolute_cap() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (builder, clock) = builder(sealed.clone());
            let engine = builder
                .lifetime(Lifetime::browser_session(IDLE))
                .absolute_timeout(Duration::from_secs(1000))
                .build();
            let mut cookie = new_session(&engine, &[("user", "alice")]).await;
            for secs in (100..=900).step_by(100) {
                clock.set(at(secs));
                let session = assert_opens(&engine, &cookie, "alice").await;
                session.insert("n", secs).await.expect("insert");
                cookie = pair(&commit(&engine, &session).await);
                let record = open(&sealed, &cookie).expect("opens").record;
                assert_eq!(record.expires, at((secs + 600).min(1000)), "at {secs} s");
            }
            clock.set(at(999));
            assert_opens(&engine, &cookie, "alice").await;
            clock.set(at(1000));
            assert_fresh(&engine, &cookie, &format!("{mode:?}: at the cap")).await;
        }
    });
}

#[test]
fn a_persistent_lifetime_is_mirrored_by_max_age_and_expires() {
    block_on(async {
        for mode in MODES {
            let sealed = sealed(mode, &key());
            let (builder, clock) = builder(sealed.clone());
            let engine = builder.build();
            let session = start(&engine, None);
            session.insert("user", "alice").await.expect("insert");
            session.set_lifetime(Lifetime::persistent(Duration::from_secs(3600)));
            let cookies = commit(&engine, &session).await;
            assert!(
                cookies[0].contains("; Max-Age=3600; Expires=Tue, 14 Nov 2023 23:13:20 GMT"),
                "{cookies:?}"
            );
            let cookie = pair(&cookies);
            let record = open(&sealed, &cookie).expect("opens").record;
            assert_eq!(record.expires, at(3600));
            assert_eq!(
                record.lifetime,
                Some(Lifetime::persistent(Duration::from_secs(3600)))
            );

            // A read after the touch interval: sealed again, both mirrors moved with the expiry.
            clock.set(at(100));
            let session = assert_opens(&engine, &cookie, "alice").await;
            let cookies = commit(&engine, &session).await;
            assert!(
                cookies[0].contains("; Max-Age=3600; Expires=Tue, 14 Nov 2023 23:15:00 GMT"),
                "{cookies:?}"
            );
            let record = open(&sealed, &pair(&cookies)).expect("opens").record;
            assert_eq!(record.expires, at(3700));

            // Under an absolute cap, Max-Age mirrors the cap.
            let (builder, _) = super::builder(sealed.clone());
            let capped = builder.absolute_timeout(Duration::from_secs(1800)).build();
            let session = start(&capped, None);
            session.insert("user", "alice").await.expect("insert");
            session.set_lifetime(Lifetime::persistent(Duration::from_secs(3600)));
            let cookies = commit(&capped, &session).await;
            assert!(
                cookies[0].contains("; Max-Age=1800; Expires=Tue, 14 Nov 2023 22:43:20 GMT"),
                "{cookies:?}"
            );
            let record = open(&sealed, &pair(&cookies)).expect("opens").record;
            assert_eq!(record.expires, at(1800));

            // The default lifetime is a browser-session cookie: no Max-Age, no Expires.
            let cookie = new_session(&engine, &[("user", "bob")]).await;
            let session = start(&engine, Some(&cookie));
            session.insert("n", 1).await.expect("insert");
            let cookies = commit(&engine, &session).await;
            assert!(!cookies[0].contains("Max-Age"), "{cookies:?}");
            assert!(!cookies[0].contains("Expires"), "{cookies:?}");
        }
    });
}

/// The server-side engine adopts the first candidate that names a *live* session; a client-side
/// engine gets one opened session from `ClientStore::open` and checks its expiry afterwards, so
/// an expired cookie sent first (an old cookie for a narrower path, say) shadows a live one.
#[test]
fn an_expired_cookie_sent_first_does_not_shadow_a_live_one() {
    block_on(async {
        for mode in MODES {
            let (builder, clock) = builder(sealed(mode, &key()));
            let engine = builder.lifetime(Lifetime::browser_session(IDLE)).build();
            let stale = new_session(&engine, &[("user", "stale")]).await;
            clock.set(at(500));
            let live = new_session(&engine, &[("user", "alice")]).await;
            clock.set(at(700));
            assert_opens(&engine, &live, "alice").await;
            assert_opens(&engine, &format!("{stale}; {live}"), "alice").await;
        }
    });
}
