//! Version 1 of the schema and of the stores' statements, as released before sessions per subject
//! (commit 05d7129, `src/schema.rs`, `src/postgres.rs`, `src/sqlite.rs`, for the default table
//! `sessions`), frozen here: databases at version 1 to upgrade, and the statements a process of
//! that release still running after the upgrade keeps sending.

use std::time::Duration;

use session_core::store::{Key, Record};
use session_store_sqlx::sqlx::{self, PgConnection, SqliteConnection};

/// PostgreSQL's version 1 tables and functions, as one script.
pub(crate) const POSTGRES_SCHEMA: &str = r#"
CREATE TABLE sessions (
    id bytea PRIMARY KEY,
    created bigint NOT NULL,
    last_active bigint NOT NULL,
    expires bigint NOT NULL,
    lifetime text,
    size bigint NOT NULL DEFAULT 0
);
CREATE INDEX sessions_expires ON sessions (expires);
CREATE TABLE sessions_values (
    session bytea NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (session, name)
);

-- create: insert if no live session holds the id (a dead one is replaced whole); true if
-- written.
CREATE FUNCTION sessions_create(
    p_id bytea, p_now bigint, p_created bigint, p_last_active bigint, p_expires bigint,
    p_lifetime text, p_size bigint, p_names bytea[], p_values bytea[]
) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO sessions AS s (id, created, last_active, expires, lifetime, size)
    VALUES (p_id, p_created, p_last_active, p_expires, p_lifetime, p_size)
    ON CONFLICT (id) DO UPDATE SET
        created = EXCLUDED.created, last_active = EXCLUDED.last_active,
        expires = EXCLUDED.expires, lifetime = EXCLUDED.lifetime, size = EXCLUDED.size
    WHERE s.expires <= p_now;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM sessions_values WHERE session = p_id;
    INSERT INTO sessions_values (session, name, value)
        SELECT p_id, u.n, u.v FROM unnest(p_names, p_values) AS u(n, v);
    RETURN true;
END
$fn$;

-- save and apply: change the live session's times and values (p_clear: remove every value
-- first; then remove p_removed, upsert the p_set_ pairs, whose sizes sum to p_set_size). status
-- 0: no live session, nothing written; 1: written (a session changed into the past is removed).
-- Past p_limit, SQLSTATE SS413 (DETAIL: the size) and nothing written. A row lock waited for
-- longer than p_lock_timeout fails with SQLSTATE 55P03. The first statement, the
-- session's UPDATE, locks its row, so concurrent changes of one session are ordered, and each
-- later statement of the function takes a new snapshot: it sees what was committed before the
-- lock was granted.
CREATE FUNCTION sessions_change(
    p_id bytea, p_now bigint, p_created bigint, p_last_active bigint, p_expires bigint,
    p_set_lifetime boolean, p_lifetime text, p_clear boolean, p_set_names bytea[],
    p_set_values bytea[], p_set_size bigint, p_removed bytea[], p_limit bigint,
    p_lock_timeout text, OUT status integer, OUT new_size bigint
) LANGUAGE plpgsql AS $fn$
DECLARE
    old_size bigint;
BEGIN
    -- A row lock is not waited for longer than the store waits for the call.
    PERFORM set_config('lock_timeout', p_lock_timeout, true);
    IF p_expires <= p_now THEN
        DELETE FROM sessions WHERE id = p_id AND expires > p_now;
        status := CASE WHEN FOUND THEN 1 ELSE 0 END;
        RETURN;
    END IF;
    UPDATE sessions SET
        created = COALESCE(p_created, created), last_active = p_last_active,
        expires = p_expires,
        lifetime = CASE WHEN p_set_lifetime THEN p_lifetime ELSE lifetime END
    WHERE id = p_id AND expires > p_now
    RETURNING size INTO old_size;
    IF NOT FOUND THEN
        status := 0;
        RETURN;
    END IF;
    IF p_clear THEN
        DELETE FROM sessions_values WHERE session = p_id;
        new_size := p_set_size;
    ELSE
        new_size := old_size + p_set_size - (
            SELECT COALESCE(SUM(octet_length(name) + octet_length(value)), 0) FROM sessions_values
            WHERE session = p_id AND name = ANY (p_set_names || p_removed));
        IF cardinality(p_removed) > 0 THEN
            DELETE FROM sessions_values WHERE session = p_id AND name = ANY (p_removed);
        END IF;
    END IF;
    IF new_size > p_limit THEN
        RAISE EXCEPTION USING ERRCODE = 'SS413', MESSAGE = 'session over the size limit',
            DETAIL = new_size::text;
    END IF;
    IF cardinality(p_set_names) > 0 THEN
        INSERT INTO sessions_values (session, name, value)
            SELECT p_id, u.n, u.v FROM unnest(p_set_names, p_set_values) AS u(n, v)
            ON CONFLICT (session, name) DO UPDATE SET value = EXCLUDED.value;
    END IF;
    IF new_size <> old_size THEN
        UPDATE sessions SET size = new_size WHERE id = p_id;
    END IF;
    status := 1;
END
$fn$;
"#;

/// SQLite's version 1 tables, as one script.
pub(crate) const SQLITE_SCHEMA: &str = r#"
CREATE TABLE sessions (
    id BLOB PRIMARY KEY NOT NULL,
    created INTEGER NOT NULL,
    last_active INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    lifetime TEXT,
    size INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_expires ON sessions (expires);
CREATE TABLE sessions_values (
    session BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    name BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (session, name)
) WITHOUT ROWID;
"#;

/// The version table with version 1 recorded (both databases).
pub(crate) const VERSION_1: &str = "
CREATE TABLE sessions_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL);
INSERT INTO sessions_migrations (version, applied_at) VALUES (1, 0);
";

/// Creates version 1's tables (and functions) and records the version, on PostgreSQL.
pub(crate) async fn install_postgres(connection: &mut PgConnection) {
    sqlx::raw_sql(POSTGRES_SCHEMA)
        .execute(&mut *connection)
        .await
        .expect("version 1's schema");
    sqlx::raw_sql(VERSION_1)
        .execute(&mut *connection)
        .await
        .expect("version 1 recorded");
}

/// The same on SQLite.
pub(crate) async fn install_sqlite(connection: &mut SqliteConnection) {
    sqlx::raw_sql(SQLITE_SCHEMA)
        .execute(&mut *connection)
        .await
        .expect("version 1's schema");
    sqlx::raw_sql(VERSION_1)
        .execute(&mut *connection)
        .await
        .expect("version 1 recorded");
}

/// A row of version 1's load: the session's columns, a value's name and text.
type LoadRow = (
    i64,
    i64,
    i64,
    Option<String>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

fn millis(time: session_core::store::Timestamp) -> i64 {
    i64::try_from(time.as_millis()).expect("a time in range")
}

/// A record's values as version 1 binds them: names, texts, their size.
fn values(record: &Record) -> (Vec<&[u8]>, Vec<&[u8]>, i64) {
    let names: Vec<&[u8]> = record.data.keys().map(|n| n.as_bytes()).collect();
    let texts: Vec<&[u8]> = record
        .data
        .values()
        .map(|v| v.as_json().as_bytes())
        .collect();
    let size = names
        .iter()
        .zip(&texts)
        .map(|(n, t)| n.len() + t.len())
        .sum::<usize>();
    (names, texts, i64::try_from(size).expect("small"))
}

/// A PostgreSQL process of version 1: its statements, prepared and cached on its connection as
/// sqlx does.
pub(crate) struct OldPg<'c>(pub(crate) &'c mut PgConnection);

impl OldPg<'_> {
    /// `load`: the names of the values of the session live at `now`; `None` if there is none.
    pub(crate) async fn load(&mut self, key: &Key, now: i64) -> Option<Vec<String>> {
        let rows: Vec<LoadRow> = sqlx::query_as(
            "SELECT s.created, s.last_active, s.expires, s.lifetime, v.name, v.value \
                 FROM \"sessions\" s LEFT JOIN \"sessions_values\" v ON v.session = s.id \
                 WHERE s.id = $1 AND s.expires > $2",
        )
        .bind(key.digest().as_slice())
        .bind(now)
        .fetch_all(&mut *self.0)
        .await
        .expect("version 1's load");
        (!rows.is_empty()).then(|| {
            rows.into_iter()
                .filter_map(|row| row.4)
                .map(|name| String::from_utf8(name).expect("UTF-8"))
                .collect()
        })
    }

    /// `create`: the nine-argument `sessions_create`.
    pub(crate) async fn create(&mut self, key: &Key, record: &Record, now: i64) -> bool {
        let (names, texts, size) = values(record);
        sqlx::query_scalar("SELECT \"sessions_create\"($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(key.digest().as_slice())
            .bind(now)
            .bind(millis(record.created))
            .bind(millis(record.last_active))
            .bind(millis(record.expires))
            .bind(None::<String>)
            .bind(size)
            .bind(&names)
            .bind(&texts)
            .fetch_one(&mut *self.0)
            .await
            .expect("version 1's create")
    }

    /// `apply` of one value: `sessions_change`; whether it wrote.
    pub(crate) async fn set(&mut self, key: &Key, name: &str, json: &str, now: i64) -> bool {
        let expires = now + 3_600_000;
        let no_names: Vec<&[u8]> = Vec::new();
        let size = i64::try_from(name.len() + json.len()).expect("small");
        let (status, _): (i32, Option<i64>) = sqlx::query_as(
            "SELECT status, new_size \
             FROM \"sessions_change\"($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(key.digest().as_slice())
        .bind(now)
        .bind(None::<i64>)
        .bind(now)
        .bind(expires)
        .bind(false)
        .bind(None::<&str>)
        .bind(false)
        .bind(vec![name.as_bytes()])
        .bind(vec![json.as_bytes()])
        .bind(size)
        .bind(&no_names)
        .bind(1_048_576_i64)
        .bind(format!("{}ms", Duration::from_secs(5).as_millis()))
        .fetch_one(&mut *self.0)
        .await
        .expect("version 1's apply");
        status == 1
    }

    /// `touch`.
    pub(crate) async fn touch(&mut self, key: &Key, now: i64) -> bool {
        sqlx::query(
            "UPDATE \"sessions\" SET last_active = $2, expires = $3 \
             WHERE id = $1 AND expires > $4",
        )
        .bind(key.digest().as_slice())
        .bind(now)
        .bind(now + 7_200_000)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .expect("version 1's touch")
        .rows_affected()
            == 1
    }

    /// `delete`.
    pub(crate) async fn delete(&mut self, key: &Key, now: i64) -> bool {
        let live: Option<bool> =
            sqlx::query_scalar("DELETE FROM \"sessions\" WHERE id = $1 RETURNING expires > $2")
                .bind(key.digest().as_slice())
                .bind(now)
                .fetch_optional(&mut *self.0)
                .await
                .expect("version 1's delete");
        live.unwrap_or(false)
    }
}

/// A SQLite process of version 1: its statements on its connection.
pub(crate) struct OldLite<'c>(pub(crate) &'c mut SqliteConnection);

impl OldLite<'_> {
    /// `load`: the names of the values of the session live at `now`; `None` if there is none.
    pub(crate) async fn load(&mut self, key: &Key, now: i64) -> Option<Vec<String>> {
        let rows: Vec<LoadRow> = sqlx::query_as(
            "SELECT s.created, s.last_active, s.expires, s.lifetime, v.name, v.value \
                 FROM \"sessions\" s LEFT JOIN \"sessions_values\" v ON v.session = s.id \
                 WHERE s.id = ?1 AND s.expires > ?2",
        )
        .bind(key.digest().as_slice())
        .bind(now)
        .fetch_all(&mut *self.0)
        .await
        .expect("version 1's load");
        (!rows.is_empty()).then(|| {
            rows.into_iter()
                .filter_map(|row| row.4)
                .map(|name| String::from_utf8(name).expect("UTF-8"))
                .collect()
        })
    }

    /// `create`: version 1's insert, clear and puts, in one transaction.
    pub(crate) async fn create(&mut self, key: &Key, record: &Record, now: i64) -> bool {
        let (names, texts, size) = values(record);
        let id = key.digest().as_slice();
        sqlx::query("BEGIN")
            .execute(&mut *self.0)
            .await
            .expect("begin");
        let inserted = sqlx::query(
            "INSERT INTO \"sessions\" AS s (id, created, last_active, expires, lifetime, size) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (id) DO UPDATE SET created = excluded.created, \
             last_active = excluded.last_active, expires = excluded.expires, \
             lifetime = excluded.lifetime, size = excluded.size \
             WHERE s.expires <= ?7",
        )
        .bind(id)
        .bind(millis(record.created))
        .bind(millis(record.last_active))
        .bind(millis(record.expires))
        .bind(None::<String>)
        .bind(size)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .expect("version 1's insert")
        .rows_affected();
        if inserted == 1 {
            sqlx::query("DELETE FROM \"sessions_values\" WHERE session = ?1")
                .bind(id)
                .execute(&mut *self.0)
                .await
                .expect("version 1's clear");
            for (name, text) in names.iter().zip(&texts) {
                self.put(id, name, text).await;
            }
        }
        sqlx::query("COMMIT")
            .execute(&mut *self.0)
            .await
            .expect("commit");
        inserted == 1
    }

    async fn put(&mut self, id: &[u8], name: &[u8], text: &[u8]) {
        sqlx::query(
            "INSERT INTO \"sessions_values\" (session, name, value) VALUES (?1, ?2, ?3) \
             ON CONFLICT (session, name) DO UPDATE SET value = excluded.value",
        )
        .bind(id)
        .bind(name)
        .bind(text)
        .execute(&mut *self.0)
        .await
        .expect("version 1's put");
    }

    /// `apply` of one new value: version 1's update (of the times), put and resize.
    pub(crate) async fn set(&mut self, key: &Key, name: &str, json: &str, now: i64) -> bool {
        let id = key.digest().as_slice();
        sqlx::query("BEGIN")
            .execute(&mut *self.0)
            .await
            .expect("begin");
        let old: Option<i64> = sqlx::query_scalar(
            "UPDATE \"sessions\" SET created = COALESCE(?3, created), last_active = ?4, \
             expires = ?5, lifetime = CASE WHEN ?6 THEN ?7 ELSE lifetime END \
             WHERE id = ?1 AND expires > ?2 RETURNING size",
        )
        .bind(id)
        .bind(now)
        .bind(None::<i64>)
        .bind(now)
        .bind(now + 3_600_000)
        .bind(false)
        .bind(None::<&str>)
        .fetch_optional(&mut *self.0)
        .await
        .expect("version 1's update");
        if let Some(old) = old {
            self.put(id, name.as_bytes(), json.as_bytes()).await;
            let size = old + i64::try_from(name.len() + json.len()).expect("small");
            sqlx::query("UPDATE \"sessions\" SET size = ?2 WHERE id = ?1")
                .bind(id)
                .bind(size)
                .execute(&mut *self.0)
                .await
                .expect("version 1's resize");
        }
        sqlx::query("COMMIT")
            .execute(&mut *self.0)
            .await
            .expect("commit");
        old.is_some()
    }

    /// `touch`.
    pub(crate) async fn touch(&mut self, key: &Key, now: i64) -> bool {
        sqlx::query(
            "UPDATE \"sessions\" SET last_active = ?2, expires = ?3 \
             WHERE id = ?1 AND expires > ?4",
        )
        .bind(key.digest().as_slice())
        .bind(now)
        .bind(now + 7_200_000)
        .bind(now)
        .execute(&mut *self.0)
        .await
        .expect("version 1's touch")
        .rows_affected()
            == 1
    }

    /// `delete`: the values, then the session, in one transaction.
    pub(crate) async fn delete(&mut self, key: &Key, now: i64) -> bool {
        let id = key.digest().as_slice();
        sqlx::query("BEGIN")
            .execute(&mut *self.0)
            .await
            .expect("begin");
        sqlx::query("DELETE FROM \"sessions_values\" WHERE session = ?1")
            .bind(id)
            .execute(&mut *self.0)
            .await
            .expect("version 1's clear");
        let live: Option<bool> =
            sqlx::query_scalar("DELETE FROM \"sessions\" WHERE id = ?1 RETURNING expires > ?2")
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *self.0)
                .await
                .expect("version 1's delete");
        sqlx::query("COMMIT")
            .execute(&mut *self.0)
            .await
            .expect("commit");
        live.unwrap_or(false)
    }
}
