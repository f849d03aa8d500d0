//! SQLite's scripts: a fresh install at the latest version, and each version's upgrade from the
//! one before.

use super::{ABSENT, TAKEN, TOO_LARGE};
use crate::names::Names;

/// The tables, indexes, view and trigger of the latest version, on a database that has none.
pub(super) fn install(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let expires_index = names.local("_expires");
    let subject_index = names.local("_subject");
    format!(
        r#"
CREATE TABLE {sessions} (
    id BLOB PRIMARY KEY NOT NULL,
    created INTEGER NOT NULL,
    last_active INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    lifetime TEXT,
    size INTEGER NOT NULL DEFAULT 0,
    subject BLOB,
    binding BLOB
) WITHOUT ROWID;
CREATE INDEX {expires_index} ON {sessions} (expires);
CREATE INDEX {subject_index} ON {sessions} (subject) WHERE subject IS NOT NULL;
CREATE TABLE {values} (
    session BLOB NOT NULL REFERENCES {sessions} (id) ON DELETE CASCADE,
    name BLOB NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (session, name)
) WITHOUT ROWID;
{writes}"#,
        writes = v3(names),
    )
}

/// Version 1 to 2: sessions per subject. `ADD COLUMN` changes the table's definition only
/// (rows written before read the new columns as `NULL`: none is rewritten); the index holds the
/// bound sessions only.
pub(super) fn v2(names: &Names) -> String {
    let sessions = &names.sessions;
    let subject_index = names.local("_subject");
    format!(
        r#"
ALTER TABLE {sessions} ADD COLUMN subject BLOB;
ALTER TABLE {sessions} ADD COLUMN binding BLOB;
CREATE INDEX {subject_index} ON {sessions} (subject) WHERE subject IS NOT NULL;
"#
    )
}

/// Version 2 to 3: each write one statement. The views `<table>_creates` and
/// `<table>_changes`, which hold no row, and the triggers that an insert into them runs; the
/// trigger `<table>_delete`, which deletes a deleted session's values. The tables are left
/// alone, so the statements of older versions keep working on them.
pub(super) fn v3(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let creates = names.derived("_creates");
    let create = names.derived("_create");
    let changes = names.derived("_changes");
    let change = names.derived("_change");
    let delete = names.derived("_delete");
    format!(
        r#"
-- A session created in one statement, so in one transaction of SQLite's own: an insert into
-- this view (which holds no row) runs the trigger below. The columns: the session (id), the
-- store's time (now), the record's times, lifetime and size, its binding (subject and binding,
-- NULL for none), and its values (set_values, a JSON array of [name, text] pairs of strings).
CREATE VIEW {creates} AS SELECT
    NULL AS id, NULL AS now, NULL AS created, NULL AS last_active, NULL AS expires,
    NULL AS lifetime, NULL AS size, NULL AS subject, NULL AS binding, NULL AS set_values
WHERE 0;
-- A live session holding the id: fails with '{TAKEN}', nothing written. A dead one is
-- replaced whole, its binding and values included.
CREATE TRIGGER {create} INSTEAD OF INSERT ON {creates}
BEGIN
    SELECT RAISE(ABORT, '{TAKEN}') WHERE EXISTS
        (SELECT 1 FROM {sessions} WHERE id = NEW.id AND expires > NEW.now);
    DELETE FROM {values} WHERE session = NEW.id;
    INSERT INTO {sessions}
        (id, created, last_active, expires, lifetime, size, subject, binding)
        VALUES (NEW.id, NEW.created, NEW.last_active, NEW.expires, NEW.lifetime, NEW.size,
            NEW.subject, NEW.binding)
        ON CONFLICT (id) DO UPDATE SET created = excluded.created,
            last_active = excluded.last_active, expires = excluded.expires,
            lifetime = excluded.lifetime, size = excluded.size, subject = excluded.subject,
            binding = excluded.binding;
    INSERT INTO {values} (session, name, value)
        SELECT NEW.id, CAST(value ->> 0 AS BLOB), CAST(value ->> 1 AS BLOB)
        FROM json_each(NEW.set_values);
END;
-- A session's values go with it, whatever the connection's foreign_keys setting.
CREATE TRIGGER {delete} AFTER DELETE ON {sessions}
BEGIN
    DELETE FROM {values} WHERE session = OLD.id;
END;
-- A change of a session's times and values in one statement, so in one transaction of
-- SQLite's own: an insert into this view (which holds no row) runs the trigger below. The
-- columns: the session (id), the store's time (now), its new times (created NULL: kept), its
-- lifetime (set_lifetime: replace it by lifetime), clear (remove every value first), the
-- values to set (set_values, a JSON array of [name, text] pairs of strings, whose lengths sum
-- to set_size), the names to remove (removed, a JSON array of strings) and the size limit
-- (max_size).
CREATE VIEW {changes} AS SELECT
    NULL AS id, NULL AS now, NULL AS created, NULL AS last_active, NULL AS expires,
    NULL AS set_lifetime, NULL AS lifetime, NULL AS clear, NULL AS set_values,
    NULL AS set_size, NULL AS removed, NULL AS max_size
WHERE 0;
-- No live session: fails with '{ABSENT}', nothing written. Past the limit: fails with
-- '{TOO_LARGE}', nothing written (the session's UPDATE is undone with the statement).
CREATE TRIGGER {change} INSTEAD OF INSERT ON {changes}
BEGIN
    SELECT RAISE(ABORT, '{ABSENT}') WHERE NOT EXISTS
        (SELECT 1 FROM {sessions} WHERE id = NEW.id AND expires > NEW.now);
    UPDATE {sessions} SET
        created = COALESCE(NEW.created, created), last_active = NEW.last_active,
        expires = NEW.expires,
        lifetime = CASE WHEN NEW.set_lifetime THEN NEW.lifetime ELSE lifetime END,
        size = CASE WHEN NEW.clear THEN NEW.set_size ELSE size + NEW.set_size - (
            SELECT COALESCE(SUM(length(name) + length(value)), 0) FROM {values}
            WHERE session = NEW.id AND name IN (
                SELECT CAST(value ->> 0 AS BLOB) FROM json_each(NEW.set_values)
                UNION ALL SELECT CAST(value AS BLOB) FROM json_each(NEW.removed))) END
    WHERE id = NEW.id;
    SELECT RAISE(ABORT, '{TOO_LARGE}')
        WHERE (SELECT size FROM {sessions} WHERE id = NEW.id) > NEW.max_size;
    DELETE FROM {values} WHERE NEW.clear AND session = NEW.id;
    DELETE FROM {values} WHERE session = NEW.id
        AND name IN (SELECT CAST(value AS BLOB) FROM json_each(NEW.removed));
    INSERT INTO {values} (session, name, value)
        SELECT NEW.id, CAST(value ->> 0 AS BLOB), CAST(value ->> 1 AS BLOB)
        FROM json_each(NEW.set_values) WHERE true
        ON CONFLICT (session, name) DO UPDATE SET value = excluded.value;
END;
"#
    )
}
