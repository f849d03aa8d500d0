//! Helpers shared by the integration tests: stores on fresh databases, raw access to what they
//! wrote, keys and records.

use std::time::Duration;

use session_core::Value;
use session_core::store::{Binding, Clock, Key, Record, SystemClock, Timestamp};
use session_core::subject::ClientInfo;
use session_store_sqlx::sqlx::postgres::{PgPool, PgPoolOptions};
use session_store_sqlx::sqlx::sqlite::SqlitePool;
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, PgStoreBuilder, SqliteStore, SqliteStoreBuilder, sqlite_pool};

/// A pool on `server`'s default database.
pub(crate) async fn pg_pool(server: &PostgresServer) -> PgPool {
    PgPoolOptions::new()
        .max_connections(16)
        .connect(&server.url())
        .await
        .expect("connect to PostgreSQL")
}

/// A migrated store built by `build` from a builder on `server`.
pub(crate) async fn pg_store_with(
    server: &PostgresServer,
    build: impl FnOnce(PgStoreBuilder) -> PgStoreBuilder,
) -> PgStore {
    let store = build(PgStore::builder(pg_pool(server).await))
        .build()
        .expect("valid names");
    store.migrate().await.expect("migrate");
    store
}

/// A migrated store with the defaults on `server`.
pub(crate) async fn pg_store(server: &PostgresServer) -> PgStore {
    pg_store_with(server, |builder| builder).await
}

/// A SQLite database file in its own temporary directory (kept as long as the directory).
pub(crate) struct SqliteFile {
    pub(crate) dir: tempfile::TempDir,
}

impl SqliteFile {
    pub(crate) fn new() -> Self {
        SqliteFile {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub(crate) fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("sessions.db")
    }

    /// A new pool on the file (WAL, busy time-out).
    pub(crate) async fn pool(&self) -> SqlitePool {
        sqlite_pool(self.path()).await.expect("open SQLite")
    }

    /// A migrated store built by `build` on a new pool.
    pub(crate) async fn store_with(
        &self,
        build: impl FnOnce(SqliteStoreBuilder) -> SqliteStoreBuilder,
    ) -> SqliteStore {
        let store = build(SqliteStore::builder(self.pool().await))
            .build()
            .expect("valid names");
        store.migrate().await.expect("migrate");
        store
    }

    /// A migrated store with the defaults on a new pool.
    pub(crate) async fn store(&self) -> SqliteStore {
        self.store_with(|builder| builder).await
    }
}

/// The key numbered `n`.
pub(crate) fn key(n: u8) -> Key {
    Key::from_digest([n; 32])
}

/// A JSON value.
pub(crate) fn value(json: &str) -> Value {
    Value::from_json(json.to_owned()).expect("json")
}

/// A record created at `now`, expiring `ttl` later, holding `data` (JSON texts).
pub(crate) fn record_at(now: Timestamp, ttl: Duration, data: &[(&str, &str)]) -> Record {
    let mut record = Record::new(now, now.saturating_add(ttl));
    for (name, json) in data {
        record.data.insert((*name).to_owned(), value(json));
    }
    record
}

/// `record` bound to `subject` (at its creation, with a user agent and an address).
pub(crate) fn bound_to(subject: &str, mut record: Record) -> Record {
    let info = ClientInfo::new()
        .user_agent("Mozilla/5.0 (X11; \u{e9})")
        .address("192.0.2.0/24");
    let binding = Binding::new(subject, info, record.created).expect("a valid subject");
    record.binding = Some(Box::new(binding));
    record
}

/// A record on the system clock, live for an hour.
pub(crate) fn live(data: &[(&str, &str)]) -> Record {
    record_at(SystemClock.now(), Duration::from_secs(3600), data)
}

/// A new session holding `user = "alice"`, saved and committed through `engine`: its id, and
/// the digest stores key it by.
pub(crate) async fn new_session(engine: &session_core::Engine) -> (String, [u8; 32]) {
    use session_core::state::RequestView;
    let session = engine.start(&RequestView::new(&http::HeaderMap::new(), None));
    session.insert("user", "alice").await.expect("insert");
    let id = session.save().await.expect("save");
    engine
        .commit(&session, http::StatusCode::OK)
        .await
        .expect("commit");
    (id.as_str().to_owned(), *id.key().digest())
}
