//! The schema, by version: what `migrate()` runs on each database, and the version table that
//! records it. The next versions add to this file; a version once released never changes.
//!
//! Version 1:
//!
//! - `<table>`: a row per session, keyed by the SHA-256 digest of its id (`id`, 32 bytes); the
//!   times in milliseconds since the Unix epoch (`created`, `last_active`, `expires`); the
//!   session's own lifetime as JSON (`lifetime`, `NULL` for none); the size of its values as
//!   the limit counts them (`size`). Indexed on `expires` for the cleanup.
//! - `<table>_values`: a row per value: the session's `id`, the value's `name` and its JSON text
//!   (`value`), both as bytes, keyed by (session, name). Deleted with their session (a foreign
//!   key `ON DELETE CASCADE` on PostgreSQL; the SQLite store deletes them itself, whatever the
//!   connection's `foreign_keys` setting).
//! - PostgreSQL only: the functions `<table>_create` and `<table>_change`, which make `create`,
//!   `save` and `apply` one round trip each (see the crate docs).

use crate::names::Names;

/// The newest schema version this build knows.
pub(crate) const LATEST_VERSION: i64 = 1;

/// The version table, created if missing (both databases).
pub(crate) fn migrations_table(names: &Names) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        names.migrations
    )
}

/// The version the tables are at (0: none).
pub(crate) fn current_version(names: &Names) -> String {
    format!(
        "SELECT CAST(COALESCE(MAX(version), 0) AS BIGINT) FROM {}",
        names.migrations
    )
}

/// The database a script is for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Dialect {
    Postgres,
    Sqlite,
}

/// Every statement that brings the tables from version `found` (0: none; a negative version,
/// written by hand, counts as none, and version 1's statements then fail on the tables that are
/// there) to [`LATEST_VERSION`], each version recorded as applied at `now`; `Err(found)` for a
/// version newer than this build's.
///
/// The version and the time are integers of the store's own, written into the statements.
pub(crate) fn upgrade(
    dialect: Dialect,
    names: &Names,
    found: i64,
    now: i64,
) -> Result<Vec<String>, i64> {
    if found > LATEST_VERSION {
        return Err(found);
    }
    let mut statements = Vec::new();
    for version in found.max(0) + 1..=LATEST_VERSION {
        statements.extend(match dialect {
            Dialect::Postgres => postgres(names, version),
            Dialect::Sqlite => sqlite(names, version),
        });
        statements.push(format!(
            "INSERT INTO {} (version, applied_at) VALUES ({version}, {now})",
            names.migrations
        ));
    }
    Ok(statements)
}

/// PostgreSQL: the statements that bring the tables from `version - 1` to `version`.
fn postgres(names: &Names, version: i64) -> Vec<String> {
    debug_assert!((1..=LATEST_VERSION).contains(&version));
    match version {
        1 => split(&postgres_v1(names)),
        _ => unreachable!("no schema version {version}"),
    }
}

/// SQLite: the statements that bring the tables from `version - 1` to `version`.
fn sqlite(names: &Names, version: i64) -> Vec<String> {
    match version {
        1 => split(&sqlite_v1(names)),
        _ => unreachable!("no schema version {version}"),
    }
}

/// A script's statements, one each: they end with `;` at the end of a line (function bodies,
/// between `$fn$` quotes, end theirs at `$fn$;`).
fn split(script: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut in_body = false;
    for line in script.lines() {
        if line.trim_start().starts_with("--") || (current.is_empty() && line.trim().is_empty()) {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.contains("$fn$") {
            in_body = !in_body || line.trim_end().ends_with("$fn$;");
            if line.trim_end().ends_with("$fn$;") {
                in_body = false;
            }
        }
        if !in_body && line.trim_end().ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    statements
}

fn postgres_v1(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let expires_index = names.local("_expires");
    let create = names.derived("_create");
    let change = names.derived("_change");
    format!(
        r#"
CREATE TABLE {sessions} (
    id bytea PRIMARY KEY,
    created bigint NOT NULL,
    last_active bigint NOT NULL,
    expires bigint NOT NULL,
    lifetime text,
    size bigint NOT NULL DEFAULT 0
);
CREATE INDEX {expires_index} ON {sessions} (expires);
CREATE TABLE {values} (
    session bytea NOT NULL REFERENCES {sessions} (id) ON DELETE CASCADE,
    name bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (session, name)
);

-- create: insert if no live session holds the id (a dead one is replaced whole); true if
-- written.
CREATE FUNCTION {create}(
    p_id bytea, p_now bigint, p_created bigint, p_last_active bigint, p_expires bigint,
    p_lifetime text, p_size bigint, p_names bytea[], p_values bytea[]
) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO {sessions} AS s (id, created, last_active, expires, lifetime, size)
    VALUES (p_id, p_created, p_last_active, p_expires, p_lifetime, p_size)
    ON CONFLICT (id) DO UPDATE SET
        created = EXCLUDED.created, last_active = EXCLUDED.last_active,
        expires = EXCLUDED.expires, lifetime = EXCLUDED.lifetime, size = EXCLUDED.size
    WHERE s.expires <= p_now;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    DELETE FROM {values} WHERE session = p_id;
    INSERT INTO {values} (session, name, value)
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
CREATE FUNCTION {change}(
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
        DELETE FROM {sessions} WHERE id = p_id AND expires > p_now;
        status := CASE WHEN FOUND THEN 1 ELSE 0 END;
        RETURN;
    END IF;
    UPDATE {sessions} SET
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
        DELETE FROM {values} WHERE session = p_id;
        new_size := p_set_size;
    ELSE
        new_size := old_size + p_set_size - (
            SELECT COALESCE(SUM(octet_length(name) + octet_length(value)), 0) FROM {values}
            WHERE session = p_id AND name = ANY (p_set_names || p_removed));
        IF cardinality(p_removed) > 0 THEN
            DELETE FROM {values} WHERE session = p_id AND name = ANY (p_removed);
        END IF;
    END IF;
    IF new_size > p_limit THEN
        RAISE EXCEPTION USING ERRCODE = 'SS413', MESSAGE = 'session over the size limit',
            DETAIL = new_size::text;
    END IF;
    IF cardinality(p_set_names) > 0 THEN
        INSERT INTO {values} (session, name, value)
            SELECT p_id, u.n, u.v FROM unnest(p_set_names, p_set_values) AS u(n, v)
            ON CONFLICT (session, name) DO UPDATE SET value = EXCLUDED.value;
    END IF;
    IF new_size <> old_size THEN
        UPDATE {sessions} SET size = new_size WHERE id = p_id;
    END IF;
    status := 1;
END
$fn$;
"#
    )
}

fn sqlite_v1(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let expires_index = names.local("_expires");
    format!(
        r#"
CREATE TABLE {sessions} (
    id BLOB PRIMARY KEY NOT NULL,
    created INTEGER NOT NULL,
    last_active INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    lifetime TEXT,
    size INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX {expires_index} ON {sessions} (expires);
CREATE TABLE {values} (
    session BLOB NOT NULL REFERENCES {sessions} (id) ON DELETE CASCADE,
    name BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (session, name)
) WITHOUT ROWID;
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_split_into_statements() {
        let names = Names::new(None, "s").expect("valid");
        let pg = postgres(&names, 1);
        assert_eq!(pg.len(), 5, "{pg:#?}");
        assert!(
            pg[3].starts_with("CREATE FUNCTION \"s_create\""),
            "{}",
            pg[3]
        );
        assert!(pg[3].trim_end().ends_with("$fn$;"));
        assert!(pg[4].contains("RETURNING size INTO old_size"));
        assert_eq!(sqlite(&names, 1).len(), 3);
        let all = upgrade(Dialect::Sqlite, &names, -2, 7).expect("older");
        assert_eq!(all.len(), 4);
        assert_eq!(
            all[3],
            "INSERT INTO \"s_migrations\" (version, applied_at) VALUES (1, 7)"
        );
        assert!(
            upgrade(Dialect::Postgres, &names, 1, 7)
                .expect("current")
                .is_empty()
        );
        assert_eq!(upgrade(Dialect::Postgres, &names, 2, 7), Err(2));
    }
}
