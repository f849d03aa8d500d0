//! Rows the stores cannot read, written by hand: each loads as no session (logged, left in
//! place), nothing panics, and the engine would start a fresh session.

use session_core::store::{Clock, Store, SystemClock};
use session_store_sqlx::sqlx;
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, SqliteFile, key, live};

/// PostgreSQL: a value that is not JSON, a name that is not UTF-8, a value that is not UTF-8,
/// a negative time, a lifetime that does not parse.
#[tokio::test(flavor = "multi_thread")]
async fn postgres_damaged_rows_load_as_no_session() {
    let server = PostgresServer::start();
    let store = common::pg_store(&server).await;
    let damage = [
        "UPDATE sessions_values SET value = 'not json'::bytea",
        "UPDATE sessions_values SET name = '\\xff'::bytea",
        "UPDATE sessions_values SET value = '\\xff'::bytea",
        "UPDATE sessions SET created = -5",
        "UPDATE sessions SET lifetime = '{nope'",
    ];
    for (n, statement) in damage.into_iter().enumerate() {
        let k = key(u8::try_from(n).expect("small"));
        assert!(
            store
                .create(&k, &live(&[("a", "1")]))
                .await
                .expect("create")
        );
        sqlx::query(&format!("{statement} WHERE {}", where_key(statement)))
            .bind(k.digest().as_slice())
            .execute(store.pool())
            .await
            .expect(statement);
        assert_eq!(store.load(&k).await.expect("load"), None, "{statement}");
    }
}

fn where_key(statement: &str) -> &'static str {
    if statement.contains("sessions_values") {
        "session = $1"
    } else {
        "id = $1"
    }
}

/// SQLite takes any value in any column: text where a number belongs, a number where bytes
/// belong.
#[tokio::test(flavor = "multi_thread")]
async fn sqlite_damaged_rows_load_as_no_session() {
    let file = SqliteFile::new();
    let store = file.store().await;
    let damage = [
        "UPDATE sessions SET expires = 'soon' WHERE id = ?1",
        "UPDATE sessions SET created = 1.5 WHERE id = ?1",
        "UPDATE sessions_values SET value = 12 WHERE session = ?1",
        "UPDATE sessions_values SET value = X'FF' WHERE session = ?1",
        "UPDATE sessions_values SET name = NULL WHERE session = ?1",
        "UPDATE sessions SET lifetime = 7 WHERE id = ?1",
    ];
    for (n, statement) in damage.into_iter().enumerate() {
        let k = key(u8::try_from(n).expect("small"));
        assert!(
            store
                .create(&k, &live(&[("a", "1")]))
                .await
                .expect("create")
        );
        // NOT NULL refuses the NULL name; the others go in.
        let _ = sqlx::query(statement)
            .bind(k.digest().as_slice())
            .execute(store.pool())
            .await;
        let loaded = store.load(&k).await.expect("load");
        if statement.contains("name = NULL") {
            assert!(loaded.is_some(), "NOT NULL kept the row whole");
        } else if statement.contains("expires = 'soon'") {
            // SQLite compares text above every number: 'soon' > now, the row reads as live,
            // and the text then fails to decode as a time.
            assert_eq!(loaded, None, "{statement}");
        } else {
            assert_eq!(loaded, None, "{statement}");
        }
    }
    let _ = SystemClock.now();
}
