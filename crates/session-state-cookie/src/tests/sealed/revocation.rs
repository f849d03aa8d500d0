//! "Log out everywhere" for sealed cookies: a revocation store's "not before" time per subject.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use session_core::store::{Key, Record, Store, StoreError};
use session_core::{Engine, MemoryStore};

use super::{builder, commit, key, pair, sealed, start};
use crate::SealMode;
use crate::tests::block_on;

/// A memory store counting its loads.
#[derive(Clone, Default)]
struct Counting {
    inner: MemoryStore,
    loads: Arc<AtomicUsize>,
}

#[async_trait::async_trait]
impl Store for Counting {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        self.inner.load(key).await
    }
    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.inner.create(key, record).await
    }
    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        self.inner.save(key, record).await
    }
    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        self.inner.delete(key).await
    }
}

/// A login as `subject`: the new session's cookie.
async fn login(engine: &Engine, subject: &str) -> String {
    let session = start(engine, None);
    session.bind(subject).await.expect("bind");
    pair(&commit(engine, &session).await)
}

/// The subject of the session `cookie` opens to.
async fn subject_of(engine: &Engine, cookie: &str) -> Option<String> {
    start(engine, Some(cookie))
        .subject()
        .await
        .expect("subject")
}

#[test]
fn a_subjects_sealed_sessions_end_together_and_cost_one_load_each() {
    block_on(async {
        let key = key();
        let (builder, clock) = builder(sealed(SealMode::Private, &key));
        // The store judges the record's expiry by the engine's clock.
        let store = Counting {
            inner: MemoryStore::default().clock(clock.clone()),
            ..Counting::default()
        };
        let engine = builder.revocation_store(store.clone()).build();
        let loads = || store.loads.load(Ordering::SeqCst);

        let phone = login(&engine, "alice").await;
        let laptop = login(&engine, "alice").await;
        let bob = login(&engine, "bob").await;
        let before = loads();
        let anonymous = super::new_session(&engine, &[("n", "1")]).await;
        let session = start(&engine, Some(&anonymous));
        assert_eq!(
            session.get::<String>("n").await.expect("get").as_deref(),
            Some("1")
        );
        assert_eq!(loads(), before, "an unbound sealed session costs no load");
        assert_eq!(subject_of(&engine, &phone).await.as_deref(), Some("alice"));
        assert_eq!(loads(), before + 1, "a bound one costs one load");

        clock.advance(Duration::from_secs(1));
        let session = start(&engine, Some(&phone));
        assert_eq!(session.end_all_sessions().await.expect("end all"), 0);
        let removal = commit(&engine, &session).await;
        assert!(removal[0].contains("Max-Age=0"), "{removal:?}");
        for cookie in [&phone, &laptop] {
            assert_eq!(
                subject_of(&engine, cookie).await,
                None,
                "a sealed session lived"
            );
        }
        // The refused cookie is removed when the request used the session and stored nothing.
        let session = start(&engine, Some(&laptop));
        assert_eq!(session.get::<String>("n").await.expect("get"), None);
        let removal = commit(&engine, &session).await;
        assert!(removal[0].contains("Max-Age=0"), "{removal:?}");
        assert_eq!(subject_of(&engine, &bob).await.as_deref(), Some("bob"));

        // A login afterwards opens; so does one in the same process after an admin's end.
        clock.advance(Duration::from_secs(1));
        let again = login(&engine, "alice").await;
        assert_eq!(subject_of(&engine, &again).await.as_deref(), Some("alice"));
        clock.advance(Duration::from_secs(1));
        engine.end_all_sessions_of("bob").await.expect("end bob's");
        assert_eq!(subject_of(&engine, &bob).await, None);
        assert_eq!(subject_of(&engine, &again).await.as_deref(), Some("alice"));
    });
}

#[test]
fn without_a_revocation_store_sealed_sessions_cannot_be_ended_by_subject() {
    block_on(async {
        let (builder, _) = builder(sealed(SealMode::Private, &key()));
        let engine = builder.build();
        let phone = login(&engine, "alice").await;
        let session = start(&engine, Some(&phone));
        let error = session
            .end_all_sessions()
            .await
            .expect_err("no revocation store");
        assert!(matches!(
            error,
            session_core::Error::Store(ref e)
                if e.kind() == session_core::store::StoreErrorKind::Unsupported
        ));
        assert!(engine.end_all_sessions_of("alice").await.is_err());
        assert_eq!(subject_of(&engine, &phone).await.as_deref(), Some("alice"));
    });
}
