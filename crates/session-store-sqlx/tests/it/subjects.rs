//! Sessions per subject: what the columns hold (the subject's digest, never the subject, and
//! nothing for an unbound session), expired sessions neither listed nor left behind by the
//! cleanup, `save` keeping a binding, damaged bindings skipped and loading as no session.

use std::time::Duration;

use session_core::store::{Clock, Key, ManualClock, Store, subject_key};
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, bound_to, key, live, record_at};

/// The keys `store` lists for `subject`, sorted.
async fn listed(store: &dyn Store, subject: &str) -> Vec<Key> {
    let mut keys: Vec<Key> = store
        .list_subject(subject)
        .await
        .expect("list")
        .iter()
        .map(|bound| bound.key)
        .collect();
    keys.sort();
    keys
}

/// A row's `subject` and `binding`.
type Columns = (Option<Vec<u8>>, Option<Vec<u8>>);

/// The `subject` column of each row, by key order.
const SUBJECTS: &str = "SELECT subject FROM sessions ORDER BY id";

#[tokio::test(flavor = "multi_thread")]
async fn the_subject_column_holds_the_digest_and_unbound_rows_hold_nothing() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let pg = common::pg_store(&server).await;
    let lite = file.store().await;
    let subject = "alice@example.com";
    let digest = subject_key(subject).digest().to_vec();
    for store in [&pg as &dyn Store, &lite] {
        assert!(
            store
                .create(&key(1), &bound_to(subject, live(&[])))
                .await
                .expect("create")
        );
        assert!(store.create(&key(2), &live(&[])).await.expect("create"));
    }
    let pg_rows: Vec<Columns> = sqlx::query_as("SELECT subject, binding FROM sessions ORDER BY id")
        .fetch_all(pg.pool())
        .await
        .expect("rows");
    let lite_rows: Vec<Columns> =
        sqlx::query_as("SELECT subject, binding FROM sessions ORDER BY id")
            .fetch_all(lite.pool())
            .await
            .expect("rows");
    for rows in [pg_rows, lite_rows] {
        assert_eq!(rows[0].0.as_deref(), Some(digest.as_slice()));
        let json: serde_json::Value =
            serde_json::from_slice(rows[0].1.as_deref().expect("a binding")).expect("JSON");
        assert_eq!(json["subject"], subject);
        assert_eq!(rows[1], (None, None), "an unbound session holds a binding");
    }
    let index: String =
        sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'sessions_subject'")
            .fetch_one(pg.pool())
            .await
            .expect("index");
    assert!(
        index.ends_with("(subject) WHERE (subject IS NOT NULL)"),
        "{index}"
    );
}

/// A subject's sessions expiring: no longer listed once expired, replaced whole by a create,
/// and removed by `delete_expired` with the other expired sessions, so that nothing of them is
/// left.
async fn expired_sessions_go(store: &dyn Store, clock: &ManualClock) {
    let short = Duration::from_secs(10);
    let long = Duration::from_secs(3600);
    for (n, ttl) in [(1, short), (2, short), (3, long)] {
        let record = bound_to("alice", record_at(clock.now(), ttl, &[("a", "1")]));
        assert!(store.create(&key(n), &record).await.expect("create"));
    }
    let unbound = record_at(clock.now(), short, &[]);
    assert!(store.create(&key(4), &unbound).await.expect("create"));
    assert_eq!(listed(store, "alice").await, [key(1), key(2), key(3)]);
    clock.advance(Duration::from_secs(11));
    assert_eq!(
        listed(store, "alice").await,
        [key(3)],
        "expired sessions were listed"
    );
    // A create over a dead bound session replaces it whole, its binding and values included.
    let fresh = record_at(clock.now(), long, &[("b", "2")]);
    assert!(store.create(&key(1), &fresh).await.expect("create"));
    assert_eq!(store.load(&key(1)).await.expect("load"), Some(fresh));
    assert_eq!(listed(store, "alice").await, [key(3)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_subjects_expired_sessions_are_not_listed_and_are_cleaned_up() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let clock = ManualClock::starting_now();
    let pg = common::pg_store_with(&server, |b| b.clock(clock.clone())).await;
    let digest = subject_key("alice").digest().to_vec();
    expired_sessions_go(&pg, &clock).await;
    assert_eq!(pg.delete_expired().await.expect("cleanup"), 2);
    let left: Vec<Option<Vec<u8>>> = sqlx::query_scalar(SUBJECTS)
        .fetch_all(pg.pool())
        .await
        .expect("subjects");
    assert_eq!(left, [None, Some(digest.clone())]);

    let clock = ManualClock::starting_now();
    let lite = file.store_with(|b| b.clock(clock.clone())).await;
    expired_sessions_go(&lite, &clock).await;
    assert_eq!(lite.delete_expired().await.expect("cleanup"), 2);
    let left: Vec<Option<Vec<u8>>> = sqlx::query_scalar(SUBJECTS)
        .fetch_all(lite.pool())
        .await
        .expect("subjects");
    assert_eq!(left, [None, Some(digest)]);
}

/// `save`, like `apply` and `touch`, replaces values and times, never the binding: a binding
/// changes only by a `create` under a new key.
#[tokio::test(flavor = "multi_thread")]
async fn save_keeps_the_binding() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let pg = common::pg_store(&server).await;
    let lite = file.store().await;
    for store in [&pg as &dyn Store, &lite] {
        let login = bound_to("alice", live(&[("a", "1")]));
        assert!(store.create(&key(1), &login).await.expect("create"));
        assert!(
            store
                .save(&key(1), &live(&[("b", "2")]))
                .await
                .expect("save")
        );
        let saved = store.load(&key(1)).await.expect("load").expect("live");
        assert_eq!(saved.binding, login.binding);
        assert_eq!(saved.data.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(listed(store, "alice").await, [key(1)]);
    }
}

/// Rows whose binding cannot be trusted, each beside a sound session of the same subject: the
/// listing skips them (logged) and still lists the sound one; each loads as no session. A row
/// with a subject but no binding loads as an unbound session and is not listed.
async fn damaged_bindings(
    store: &dyn Store,
    pool_run: &dyn Fn(String, Key) -> Run,
    damage: &[&str],
) {
    assert!(
        store
            .create(&key(100), &bound_to("alice", live(&[])))
            .await
            .expect("create")
    );
    for (n, statement) in damage.iter().enumerate() {
        let k = key(u8::try_from(n).expect("small"));
        assert!(
            store
                .create(&k, &bound_to("alice", live(&[])))
                .await
                .expect("create")
        );
        pool_run((*statement).to_owned(), k).await;
        assert_eq!(listed(store, "alice").await, [key(100)], "{statement}");
        let loaded = store.load(&k).await.expect("load");
        if statement.contains("binding = NULL") {
            assert_eq!(loaded.expect("unbound").binding, None, "{statement}");
        } else {
            assert_eq!(loaded, None, "{statement}");
        }
        store.delete(&k).await.expect("delete");
    }
}

type Run = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

#[tokio::test(flavor = "multi_thread")]
async fn damaged_bindings_are_skipped_and_load_as_no_session() {
    let server = PostgresServer::start();
    let pg = common::pg_store(&server).await;
    let pool = pg.pool().clone();
    let run = move |statement: String, k: Key| -> Run {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(&statement)
                .bind(k.digest().as_slice())
                .execute(&pool)
                .await
                .expect("damage");
        })
    };
    let other = hex(subject_key("mallory").digest());
    let moved = format!("UPDATE sessions SET subject = '\\x{other}'::bytea WHERE id = $1");
    damaged_bindings(
        &pg,
        &run,
        &[
            "UPDATE sessions SET binding = 'not json'::bytea WHERE id = $1",
            "UPDATE sessions SET binding = convert_to(replace(convert_from(binding, 'UTF8'), \
             '\"alice\"', '\"mallory\"'), 'UTF8') WHERE id = $1",
            &moved,
            "UPDATE sessions SET binding = '{}'::bytea WHERE id = $1",
            "UPDATE sessions SET binding = NULL WHERE id = $1",
        ],
    )
    .await;

    let file = SqliteFile::new();
    let lite = file.store().await;
    let pool = lite.pool().clone();
    let run = move |statement: String, k: Key| -> Run {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(&statement)
                .bind(k.digest().as_slice())
                .execute(&pool)
                .await
                .expect("damage");
        })
    };
    let moved = format!("UPDATE sessions SET subject = X'{other}' WHERE id = ?1");
    damaged_bindings(
        &lite,
        &run,
        &[
            "UPDATE sessions SET binding = 12 WHERE id = ?1",
            "UPDATE sessions SET binding = X'FF' WHERE id = ?1",
            "UPDATE sessions SET created = 'soon' WHERE id = ?1",
            &moved,
            "UPDATE sessions SET binding = NULL WHERE id = ?1",
        ],
    )
    .await;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
