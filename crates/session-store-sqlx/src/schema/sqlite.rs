//! SQLite's scripts: a fresh install at the latest version, and each version's upgrade from the
//! one before.

use crate::names::Names;

/// The tables and indexes of the latest version, on a database that has none.
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
"#
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
