//! What the stores write: a row per session keyed by the id's digest (never the id), a row per
//! value, names and JSON texts byte for byte, the times in milliseconds.

use std::collections::BTreeMap;

use session_core::store::Store;
use session_core::{Engine, ParamState};
use session_store_sqlx::sqlx::{self, Row};
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, key, live, value};

/// Keys and values that PostgreSQL's `text` or `jsonb` would refuse or rewrite.
fn tricky() -> BTreeMap<String, session_core::Value> {
    let mut data = BTreeMap::new();
    for (name, json) in [
        ("nul\0inside", "1e300"),
        ("", "-0.0"),
        ("\u{1}\u{7f}", "5e-324"),
        ("ключ", "{\"b\":1,\"a\":[1.0,2.50,\"\\u0000\"]}"),
        ("big", "18446744073709551615"),
    ] {
        data.insert(name.to_owned(), value(json));
    }
    data
}

#[tokio::test(flavor = "multi_thread")]
async fn values_round_trip_byte_for_byte() {
    let server = PostgresServer::start();
    let file = SqliteFile::new();
    let pg = common::pg_store(&server).await;
    let sqlite = file.store().await;
    let mut record = live(&[]);
    record.data = tricky();
    let stores: [&dyn Store; 2] = [&pg, &sqlite];
    for store in stores {
        // Written by each kind of write: a create, a save over a session without values, and
        // an apply of each value (SQLite's save and apply pass them through JSON to a trigger).
        assert!(store.create(&key(1), &record).await.expect("create"));
        assert!(store.create(&key(2), &live(&[])).await.expect("create"));
        assert!(store.save(&key(2), &record).await.expect("save"));
        assert!(store.create(&key(3), &live(&[])).await.expect("create"));
        let mut changes = session_core::store::Changes::touch(record.last_active, record.expires);
        changes.updates = record
            .data
            .iter()
            .map(|(name, json)| (name.clone(), Some(json.clone())))
            .collect();
        assert!(store.apply(&key(3), &changes).await.expect("apply"));
        for k in [1, 2, 3] {
            let loaded = store.load(&key(k)).await.expect("load").expect("live");
            assert_eq!(loaded.data, record.data, "session {k}");
            for (name, json) in &record.data {
                assert_eq!(loaded.data[name].as_json(), json.as_json(), "{name:?}");
            }
        }
        assert_eq!(
            store.load(&key(1)).await.expect("load").expect("live"),
            record
        );
        // A longer and a shorter value in place of two.
        let mut changes = session_core::store::Changes::touch(record.last_active, record.expires);
        changes.updates = vec![
            ("".to_owned(), Some(value("\"longer than -0.0\""))),
            ("big".to_owned(), Some(value("1"))),
            ("nul\0inside".to_owned(), None),
        ];
        assert!(store.apply(&key(3), &changes).await.expect("apply"));
    }
    // The size each row keeps is what its values take, byte for byte, after every kind of
    // write.
    let sizes = "SELECT s.size, (SELECT COALESCE(SUM(length(v.name) + length(v.value)), 0) \
                 FROM sessions_values v WHERE v.session = s.id) FROM sessions s ORDER BY s.id";
    let lite_sizes: Vec<(i64, i64)> = sqlx::query_as(sizes)
        .fetch_all(sqlite.pool())
        .await
        .expect("sizes");
    let pg_sizes: Vec<(i64, i64)> = sqlx::query_as(&sizes.replace("length(", "octet_length("))
        .fetch_all(pg.pool())
        .await
        .expect("sizes");
    for found in [lite_sizes, pg_sizes] {
        assert_eq!(found.len(), 3);
        for (kept, counted) in found {
            assert_eq!(kept, counted, "the size kept is not the values'");
        }
    }
}

/// Through an engine: the table holds the SHA-256 of the id, and no column anywhere holds the id.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_rows_are_keyed_by_the_ids_digest() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    let engine = Engine::new(ParamState::default(), store.clone());
    let (id, digest) = common::new_session(&engine).await;
    let ids: Vec<Vec<u8>> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(store.pool())
        .await
        .expect("select");
    assert_eq!(ids, [digest.to_vec()]);
    // Every column of both tables, as text: the id appears nowhere.
    let dump: String = sqlx::query_scalar(
        "SELECT string_agg(t::text, ' ') FROM (SELECT s::text AS t FROM sessions s \
         UNION ALL SELECT v::text FROM sessions_values v) x",
    )
    .fetch_one(store.pool())
    .await
    .expect("dump");
    assert!(!dump.contains(&id), "the raw id is stored: {dump}");
    let hex_id: String = id.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!dump.contains(&hex_id), "the raw id is stored as bytes");
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_rows_are_keyed_by_the_ids_digest() {
    let file = SqliteFile::new();
    let store = file.store().await;
    let engine = Engine::new(ParamState::default(), store.clone());
    let (id, digest) = common::new_session(&engine).await;
    let rows =
        sqlx::query("SELECT id, name, value FROM sessions JOIN sessions_values ON session = id")
            .fetch_all(store.pool())
            .await
            .expect("select");
    assert_eq!(rows.len(), 1);
    let stored: Vec<u8> = rows[0].get(0);
    assert_eq!(stored, digest.to_vec());
    store.pool().close().await;
    let bytes = std::fs::read(file.path()).expect("read the file");
    let wal = std::fs::read(file.path().with_extension("db-wal")).unwrap_or_default();
    for haystack in [&bytes, &wal] {
        assert!(
            !haystack.windows(id.len()).any(|w| w == id.as_bytes()),
            "the raw id is in the database file"
        );
    }
}

/// The times are milliseconds; the lifetime is its JSON; the size column counts the values.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_columns_hold_what_the_docs_say() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    let mut record = live(&[("a", "1"), ("bb", "\"x\"")]);
    record.lifetime = Some(session_core::Lifetime::persistent(
        std::time::Duration::from_secs(60),
    ));
    assert!(store.create(&key(2), &record).await.expect("create"));
    let row = sqlx::query("SELECT created, last_active, expires, lifetime, size FROM sessions")
        .fetch_one(store.pool())
        .await
        .expect("select");
    let times: (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
    assert_eq!(
        times,
        (
            record.created.as_millis() as i64,
            record.last_active.as_millis() as i64,
            record.expires.as_millis() as i64
        )
    );
    let lifetime: String = row.get(3);
    assert_eq!(lifetime, "{\"idle_secs\":60,\"persistent\":true}");
    let size: i64 = row.get(4);
    assert_eq!(size, 1 + 1 + 2 + 3);
}
