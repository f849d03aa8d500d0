//! PostgreSQL's scripts: a fresh install at the latest version, and each version's upgrade from
//! the one before.

use crate::names::Names;

/// The tables, indexes and functions of the latest version, on a database that has none.
pub(super) fn install(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let expires_index = names.local("_expires");
    let subject_index = names.local("_subject");
    format!(
        r#"
CREATE TABLE {sessions} (
    id bytea PRIMARY KEY,
    created bigint NOT NULL,
    last_active bigint NOT NULL,
    expires bigint NOT NULL,
    lifetime text,
    size bigint NOT NULL DEFAULT 0,
    subject bytea,
    binding bytea
);
CREATE INDEX {expires_index} ON {sessions} (expires);
CREATE INDEX {subject_index} ON {sessions} (subject) WHERE subject IS NOT NULL;
CREATE TABLE {values} (
    session bytea NOT NULL REFERENCES {sessions} (id) ON DELETE CASCADE,
    name bytea NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (session, name)
);
{create}{change}"#,
        create = create_function(names),
        change = change_function(names),
    )
}

/// Version 1 to 2: sessions per subject. Two nullable columns without a default, which
/// PostgreSQL adds to the catalog only (no row is rewritten); an index of the bound sessions
/// only; `<table>_create` with two more parameters (`CREATE OR REPLACE` cannot change a
/// function's parameters: dropped and created again, in the migration's transaction).
pub(super) fn v2(names: &Names) -> String {
    let sessions = &names.sessions;
    let subject_index = names.local("_subject");
    let create = names.derived("_create");
    format!(
        r#"
ALTER TABLE {sessions} ADD COLUMN subject bytea, ADD COLUMN binding bytea;
CREATE INDEX {subject_index} ON {sessions} (subject) WHERE subject IS NOT NULL;
DROP FUNCTION {create}(bytea, bigint, bigint, bigint, bigint, text, bigint, bytea[], bytea[]);
{function}"#,
        function = create_function(names),
    )
}

/// `<table>_create`, as of version 2.
fn create_function(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let create = names.derived("_create");
    format!(
        r#"
-- create: insert if no live session holds the id (a dead one is replaced whole, its binding
-- included); true if written. p_subject (the subject's digest) and p_binding (the binding's
-- JSON) are NULL for an unbound session; their defaults let the nine-argument call of a
-- process of version 1, still running after the upgrade, create unbound sessions.
CREATE FUNCTION {create}(
    p_id bytea, p_now bigint, p_created bigint, p_last_active bigint, p_expires bigint,
    p_lifetime text, p_size bigint, p_names bytea[], p_values bytea[],
    p_subject bytea DEFAULT NULL, p_binding bytea DEFAULT NULL
) RETURNS boolean LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO {sessions} AS s
        (id, created, last_active, expires, lifetime, size, subject, binding)
    VALUES
        (p_id, p_created, p_last_active, p_expires, p_lifetime, p_size, p_subject, p_binding)
    ON CONFLICT (id) DO UPDATE SET
        created = EXCLUDED.created, last_active = EXCLUDED.last_active,
        expires = EXCLUDED.expires, lifetime = EXCLUDED.lifetime, size = EXCLUDED.size,
        subject = EXCLUDED.subject, binding = EXCLUDED.binding
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
"#
    )
}

/// `<table>_change`, as of version 1 (version 2 left it alone: it never touches a binding).
fn change_function(names: &Names) -> String {
    let (sessions, values) = (&names.sessions, &names.values);
    let change = names.derived("_change");
    format!(
        r#"
-- save and apply: change the live session's times and values (p_clear: remove every value
-- first; then remove p_removed, upsert the p_set_ pairs, whose sizes sum to p_set_size). status
-- 0: no live session, nothing written; 1: written (a session changed into the past is removed).
-- Past p_limit, SQLSTATE SS413 (DETAIL: the size) and nothing written. A row lock waited for
-- longer than p_lock_timeout fails with SQLSTATE 55P03. The first statement, the
-- session's UPDATE, locks its row, so concurrent changes of one session are ordered, and each
-- later statement of the function takes a new snapshot: it sees what was committed before the
-- lock was granted. The binding (subject, binding) is never changed.
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
