//! The schema, by version: what `migrate()` runs on each database, and the version table that
//! records it. A database without the tables gets the latest version at once ([`upgrade`] from
//! 0); one at an older version gets each later version's upgrade in turn. A version once
//! released never changes.
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
//!
//! Version 2, sessions per subject:
//!
//! - `<table>` gains `subject` (the [`subject_key`](session_core::subject::subject_key) digest
//!   of a bound session's subject, 32 bytes; never the subject itself) and `binding` (the
//!   binding as JSON bytes), both `NULL` for an unbound session, and a partial index on
//!   `subject` that holds the bound sessions only.
//! - PostgreSQL: `<table>_create` takes the two as parameters (defaulting to `NULL`, so that a
//!   process of version 1 still running keeps creating unbound sessions); `<table>_change` is
//!   unchanged: no write but `create` sets a binding.
//!
//! Version 3, SQLite only (PostgreSQL's latest is version 2), each write one statement:
//!
//! - the views `<table>_creates` and `<table>_changes`, which hold no row, and the triggers
//!   `<table>_create` and `<table>_change` that an insert into them runs: a session created, or
//!   its times, size and values changed, in one statement, so one round trip and one transaction
//!   of SQLite's own, as PostgreSQL's functions do. They fail with [`TAKEN`], [`ABSENT`] or
//!   [`TOO_LARGE`] having written nothing.
//! - the trigger `<table>_delete`: a deleted session's values go with it, whatever the
//!   connection's `foreign_keys` setting, so that `delete` and the cleanup are one statement.

mod postgres;
mod sqlite;

use crate::names::Names;

/// The newest schema version this build knows for `dialect`.
pub(crate) const fn latest_version(dialect: Dialect) -> i64 {
    match dialect {
        Dialect::Postgres => 2,
        Dialect::Sqlite => 3,
    }
}

// The messages of the triggers' refusals are written into the triggers by `migrate`, and the
// store tells a refusal by its message: they are part of schema version 3, and never change
// (a changed one would make a refusal of an existing database an error).

/// The message SQLite's `<table>_change` trigger fails with when no live session holds the id.
pub(crate) const ABSENT: &str = "session-store-sqlx: no live session";

/// The message SQLite's `<table>_create` trigger fails with when a live session holds the id.
pub(crate) const TAKEN: &str = "session-store-sqlx: a live session holds the id";

/// The message SQLite's `<table>_change` trigger fails with past the size limit.
pub(crate) const TOO_LARGE: &str = "session-store-sqlx: over the size limit";

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

/// Every statement that brings the tables from version `found` to [`latest_version`], recorded
/// as applied at `now`: from 0 (none; a negative version, written by hand, counts as none, and
/// the install then fails on the tables that are there) the latest version's install, recorded
/// once; from an older version each later version's upgrade, each recorded. `Err(found)` for a
/// version newer than this build's.
///
/// The version and the time are integers of the store's own, written into the statements.
pub(crate) fn upgrade(
    dialect: Dialect,
    names: &Names,
    found: i64,
    now: i64,
) -> Result<Vec<String>, i64> {
    let latest = latest_version(dialect);
    if found > latest {
        return Err(found);
    }
    let mut statements = Vec::new();
    let record = |statements: &mut Vec<String>, version: i64| {
        statements.push(format!(
            "INSERT INTO {} (version, applied_at) VALUES ({version}, {now})",
            names.migrations
        ));
    };
    if found <= 0 {
        statements.extend(split(&match dialect {
            Dialect::Postgres => postgres::install(names),
            Dialect::Sqlite => sqlite::install(names),
        }));
        record(&mut statements, latest);
        return Ok(statements);
    }
    for version in found + 1..=latest {
        statements.extend(step(dialect, names, version));
        record(&mut statements, version);
    }
    Ok(statements)
}

/// The statements that bring the tables from `version - 1` to `version`.
fn step(dialect: Dialect, names: &Names, version: i64) -> Vec<String> {
    debug_assert!((2..=latest_version(dialect)).contains(&version));
    split(&match (dialect, version) {
        (Dialect::Postgres, 2) => postgres::v2(names),
        (Dialect::Sqlite, 2) => sqlite::v2(names),
        (Dialect::Sqlite, 3) => sqlite::v3(names),
        _ => unreachable!("no schema version {version}"),
    })
}

/// A script's statements, one each: they end with `;` at the end of a line, except in a body
/// (a PostgreSQL function's, between `$fn$` quotes, ends at `$fn$;`; a SQLite trigger's, from
/// its `CREATE TRIGGER` line, at `END;`).
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
        let end = line.trim_end();
        if line.contains("$fn$") {
            in_body = !end.ends_with("$fn$;");
        } else if line.starts_with("CREATE TRIGGER") {
            in_body = true;
        } else if end == "END;" {
            in_body = false;
        }
        if !in_body && end.ends_with(';') {
            statements.push(std::mem::take(&mut current));
        }
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(version: i64) -> String {
        format!("INSERT INTO \"s_migrations\" (version, applied_at) VALUES ({version}, 7)")
    }

    #[test]
    fn the_refusals_messages_are_those_of_version_3() {
        assert_eq!(ABSENT, "session-store-sqlx: no live session");
        assert_eq!(TAKEN, "session-store-sqlx: a live session holds the id");
        assert_eq!(TOO_LARGE, "session-store-sqlx: over the size limit");
    }

    #[test]
    fn scripts_split_into_statements() {
        let names = Names::new(None, "s").expect("valid");
        let pg = upgrade(Dialect::Postgres, &names, 0, 7).expect("none");
        assert_eq!(pg.len(), 7, "{pg:#?}");
        assert!(pg[2].contains("WHERE subject IS NOT NULL"), "{}", pg[2]);
        assert!(
            pg[4].starts_with("CREATE FUNCTION \"s_create\""),
            "{}",
            pg[4]
        );
        assert!(pg[4].trim_end().ends_with("$fn$;"));
        assert!(pg[5].contains("RETURNING size INTO old_size"));
        assert_eq!(pg[6], insert(2));
        let lite = upgrade(Dialect::Sqlite, &names, -2, 7).expect("none");
        assert_eq!(lite.len(), 10, "{lite:#?}");
        assert_version_3(&lite[4..9]);
        assert_eq!(lite[9], insert(3));
        assert!(
            upgrade(Dialect::Postgres, &names, 2, 7)
                .expect("current")
                .is_empty()
        );
        assert!(
            upgrade(Dialect::Sqlite, &names, 3, 7)
                .expect("current")
                .is_empty()
        );
        assert_eq!(upgrade(Dialect::Postgres, &names, 3, 7), Err(3));
        assert_eq!(upgrade(Dialect::Sqlite, &names, 4, 7), Err(4));
    }

    /// Version 3's views and triggers, each one statement, each trigger's body whole.
    fn assert_version_3(statements: &[String]) {
        let starts = [
            "CREATE VIEW \"s_creates\"",
            "CREATE TRIGGER \"s_create\" INSTEAD OF INSERT ON \"s_creates\"",
            "CREATE TRIGGER \"s_delete\" AFTER DELETE ON \"s\"",
            "CREATE VIEW \"s_changes\"",
            "CREATE TRIGGER \"s_change\" INSTEAD OF INSERT ON \"s_changes\"",
        ];
        assert_eq!(statements.len(), starts.len(), "{statements:#?}");
        for (statement, start) in statements.iter().zip(starts) {
            assert!(statement.starts_with(start), "{statement}");
            if start.starts_with("CREATE TRIGGER") {
                assert!(statement.ends_with("\nEND;\n"), "{statement}");
            }
        }
        assert!(statements[4].contains("ON CONFLICT (session, name)"));
    }

    #[test]
    fn versions_2_and_3_follow_version_1() {
        let names = Names::new(None, "s").expect("valid");
        let pg = upgrade(Dialect::Postgres, &names, 1, 7).expect("older");
        assert_eq!(pg.len(), 5, "{pg:#?}");
        assert!(pg[0].starts_with("ALTER TABLE \"s\" ADD COLUMN subject bytea"));
        assert!(
            pg[2].starts_with("DROP FUNCTION \"s_create\"("),
            "{}",
            pg[2]
        );
        assert!(
            pg[3].starts_with("CREATE FUNCTION \"s_create\""),
            "{}",
            pg[3]
        );
        assert_eq!(pg[4], insert(2));
        let lite = upgrade(Dialect::Sqlite, &names, 1, 7).expect("older");
        assert_eq!(lite.len(), 10, "{lite:#?}");
        assert_eq!(lite[3], insert(2));
        assert_version_3(&lite[4..9]);
        assert_eq!(lite[9], insert(3));
    }

    #[test]
    fn version_3_adds_the_sqlite_views_and_triggers() {
        let names = Names::new(None, "s").expect("valid");
        let lite = upgrade(Dialect::Sqlite, &names, 2, 7).expect("older");
        assert_eq!(lite.len(), 6, "{lite:#?}");
        assert_version_3(&lite[..5]);
        assert_eq!(lite[5], insert(3));
    }
}
