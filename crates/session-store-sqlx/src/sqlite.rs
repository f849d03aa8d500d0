//! [`SqliteStore`]: sessions in a SQLite database file.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Key, Record, SharedText};
use session_core::subject::{BoundSession, subject_key};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Row};

use crate::common::{self, Damage, Loaded, Options, Writes, lifetime_json, millis, option_methods};
use crate::error::SqlStoreError;
use crate::names::{DEFAULT_TABLE, Names};
use crate::schema::{self, Dialect};
use crate::shared::{Backend, Change, Core, Outcome, sql_store};
use crate::subjects::{self, Bound};

/// How long a connection of [`sqlite_pool`] waits for another process's writer (SQLite's busy
/// time-out): 3 s, shorter than the store's default time-out, so that a database held too long
/// answers SQLite's own error rather than a cancelled call.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// Sessions in a SQLite database: a row per session and a row per value, each write one
/// statement (`create`, `save` and `apply` through the triggers of the views `<table>_creates`
/// and `<table>_changes`), which takes the write lock when it starts.
///
/// Takes the application's [`SqlitePool`] (or opens one with [`SqliteStore::open`]); cheap to
/// clone. Run [`migrate`](SqliteStore::migrate) once before the first request. See the
/// [crate docs](crate) for the pool settings it needs (WAL, a busy time-out).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Core<Lite>>,
}

/// The pool and every statement, built once from the validated names.
struct Lite {
    pool: SqlitePool,
    /// The connection every write of this store runs on, opened with the pool's options when
    /// first needed (and again after an error), taken in turn: writers of one process wait
    /// here rather than in SQLite's busy handler, which sleeps (1, 2, 5, 10 ms ...) between
    /// retries, and a writer waiting for its turn holds none of the pool's connections, which
    /// stay free for loads and the application's own queries.
    writer: tokio::sync::Mutex<Option<SqliteConnection>>,
    load: String,
    create: String,
    change: String,
    changed_size: String,
    touch: String,
    delete: String,
    list_subject: String,
    cleanup: String,
}

impl Lite {
    fn new(pool: SqlitePool, names: &Names) -> Self {
        let (sessions, values) = (&names.sessions, &names.values);
        Lite {
            pool,
            writer: tokio::sync::Mutex::new(None),
            // The values in one column, packed as `session_core::store::pack_values` packs
            // them (lengths in bytes): SQLite hands sqlx a row at a time, and one row of 50 KB
            // costs far less than a hundred of 500 bytes. A name or value that is not a blob
            // (SQLite's columns take anything) packs as `!`, which no pack holds: damage.
            load: format!(
                "SELECT s.created, s.last_active, s.expires, s.lifetime, s.subject, s.binding, \
                 (SELECT group_concat(CASE WHEN typeof(v.name) = 'blob' \
                 AND typeof(v.value) = 'blob' THEN length(v.name) || ':' || \
                 length(v.value) || ':' || CAST(v.name AS TEXT) || CAST(v.value AS TEXT) \
                 ELSE '!' END, '') FROM {values} v WHERE v.session = s.id) \
                 FROM {sessions} s WHERE s.id = ?1 AND s.expires > ?2"
            ),
            // The triggers of `<table>_creates` and `<table>_changes` (the schema's version 3)
            // do the work.
            create: format!(
                "INSERT INTO {} (id, now, created, last_active, expires, lifetime, size, \
                 subject, binding, set_values) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                names.derived("_creates")
            ),
            change: format!(
                "INSERT INTO {} (id, now, created, last_active, expires, set_lifetime, \
                 lifetime, clear, set_values, set_size, removed, max_size) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                names.derived("_changes")
            ),
            // The size the trigger found over the limit, as it counts it.
            changed_size: format!(
                "SELECT CASE WHEN ?2 THEN ?3 ELSE size + ?3 - (\
                 SELECT COALESCE(SUM(length(name) + length(value)), 0) FROM {values} \
                 WHERE session = ?1 AND name IN (\
                 SELECT CAST(value ->> 0 AS BLOB) FROM json_each(?4) \
                 UNION ALL SELECT CAST(value AS BLOB) FROM json_each(?5))) END \
                 FROM {sessions} WHERE id = ?1"
            ),
            touch: format!(
                "UPDATE {sessions} SET last_active = ?2, expires = ?3 \
                 WHERE id = ?1 AND expires > ?4"
            ),
            // The values go by the trigger `<table>_delete`.
            delete: format!("DELETE FROM {sessions} WHERE id = ?1 RETURNING expires > ?2"),
            list_subject: format!(
                "SELECT id, binding, created, last_active, expires FROM {sessions} \
                 WHERE subject = ?1 AND expires > ?2"
            ),
            // The values go by the trigger `<table>_delete`.
            cleanup: format!(
                "DELETE FROM {sessions} WHERE id IN \
                 (SELECT id FROM {sessions} WHERE expires <= ?1 LIMIT ?2)"
            ),
        }
    }

    /// This process's turn to write, on the store's writer connection (opened with the pool's
    /// options if there is none; none once the pool is closed).
    ///
    /// Every write is one statement that writes, and so takes the database's write lock when it
    /// starts (waiting for other processes in SQLite's busy handler): none reads first and then
    /// fails upgrading to a write. One statement is its own transaction, which SQLite ends
    /// whatever happens to the call: a call cancelled (a time-out) never leaves the connection
    /// inside a transaction.
    async fn turn(&self) -> Result<Writer<'_>, sqlx::Error> {
        let mut slot = self.writer.lock().await;
        if self.pool.is_closed() {
            *slot = None;
            return Err(sqlx::Error::PoolClosed);
        }
        if slot.is_none() {
            *slot = Some(self.pool.connect_options().connect().await?);
        }
        Ok(Writer(slot))
    }

    /// Deletes the session (its values go with it, by the trigger `<table>_delete`); whether
    /// it was live at `now`.
    async fn remove(&self, id: &[u8], now: i64) -> Result<bool, sqlx::Error> {
        let mut writer = self.turn().await?;
        let live: Result<Option<bool>, _> = sqlx::query_scalar(&self.delete)
            .bind(id)
            .bind(now)
            .fetch_optional(writer.connection())
            .await;
        writer.settle(&live);
        Ok(live?.unwrap_or(false))
    }
}

/// The store's writer connection, for one write: [`Lite::turn`].
struct Writer<'a>(tokio::sync::MutexGuard<'a, Option<SqliteConnection>>);

impl Writer<'_> {
    fn connection(&mut self) -> &mut SqliteConnection {
        match self.0.as_mut() {
            Some(connection) => connection,
            None => unreachable!("a turn always holds the connection"),
        }
    }

    /// After a call: an error closes (drops) the connection, and the next turn opens another,
    /// so that whatever broke it does not outlive the call. A trigger's refusal is not an error
    /// of the connection.
    fn settle<T>(&mut self, outcome: &Result<T, sqlx::Error>) {
        if let Err(error) = outcome
            && refusal(error).is_none()
        {
            *self.0 = None;
        }
    }
}

/// Builds a [`SqliteStore`]: table name, time-out, record size limit, clock.
pub struct SqliteStoreBuilder {
    pool: SqlitePool,
    table: String,
    options: Options,
}

impl fmt::Debug for SqliteStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStoreBuilder")
            .field("table", &self.table)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStoreBuilder {
    /// The sessions table's name (default [`DEFAULT_TABLE`], `"sessions"`); the store's other
    /// tables, views and triggers are named after it (`<table>_values`, `<table>_migrations`,
    /// `<table>_creates`, `<table>_changes`, `<table>_create`, `<table>_change`,
    /// `<table>_delete`).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    option_methods!();

    /// Checks the table name and builds the store (nothing goes to the database).
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::InvalidName`] for a table name that is not a plain identifier.
    pub fn build(self) -> Result<SqliteStore, SqlStoreError> {
        let names = Names::new(None, &self.table)?;
        Ok(SqliteStore {
            inner: Arc::new(Core {
                backend: Lite::new(self.pool, &names),
                names,
                options: self.options,
            }),
        })
    }
}

/// Opens (creating it if missing, readable and writable by its owner only) the SQLite database
/// at `path`, in WAL mode, with a busy time-out of [`SQLITE_BUSY_TIMEOUT`] and `synchronous =
/// FULL`: the pool settings the store is meant for.
///
/// # Errors
///
/// [`SqlStoreError::File`] if the file cannot be created; [`SqlStoreError::Database`] if SQLite
/// cannot open it.
pub async fn sqlite_pool(path: impl AsRef<Path>) -> Result<SqlitePool, SqlStoreError> {
    let path = path.as_ref();
    create_private(path).map_err(|source| SqlStoreError::File {
        path: path.to_owned(),
        source,
    })?;
    let options = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true);
    SqlitePoolOptions::new()
        .connect_with(options)
        .await
        .map_err(SqlStoreError::database("open"))
}

/// Creates `path` with mode 0600 if it does not exist (SQLite would create it with 0644 less the
/// umask, and gives its `-wal` and `-shm` files the database file's mode).
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

impl SqliteStore {
    /// A builder over the application's pool.
    ///
    /// The pool should be in WAL mode with a busy time-out (sqlx's default is 5 s), as
    /// [`sqlite_pool`] opens it: without a busy time-out, two processes writing at once fail
    /// with `SQLITE_BUSY`.
    pub fn builder(pool: SqlitePool) -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            pool,
            table: DEFAULT_TABLE.to_owned(),
            options: Options::default(),
        }
    }

    /// A store with every default (table `sessions`) over the application's pool.
    pub fn new(pool: SqlitePool) -> SqliteStore {
        SqliteStore::builder(pool)
            .build()
            .unwrap_or_else(|_| unreachable!("the default names are valid"))
    }

    /// Opens the database at `path` with [`sqlite_pool`], builds a store with every default
    /// and [`migrate`](Self::migrate)s it: one call for an application with nothing else in
    /// SQLite.
    ///
    /// # Errors
    ///
    /// As [`sqlite_pool`] and [`migrate`](Self::migrate).
    pub async fn open(path: impl AsRef<Path>) -> Result<SqliteStore, SqlStoreError> {
        let store = SqliteStore::new(sqlite_pool(path).await?);
        store.migrate().await?;
        Ok(store)
    }

    /// The pool the store runs on.
    pub fn pool(&self) -> &SqlitePool {
        &self.inner.backend.pool
    }
}

sql_store!(SqliteStore, SqliteStoreBuilder);

/// The migration's statements, in the caller's transaction: `Err(found)` for a newer schema.
async fn migrate_in(
    tx: &mut SqliteConnection,
    names: &Names,
    now: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    // The load packs the values' bytes as text, which is the bytes themselves in UTF-8 only.
    let encoding: String = sqlx::query_scalar("PRAGMA encoding")
        .fetch_one(&mut *tx)
        .await?;
    if encoding != "UTF-8" {
        return Err(sqlx::Error::Configuration(
            format!("the SQLite database's encoding is {encoding}: SqliteStore needs UTF-8").into(),
        ));
    }
    // The triggers read the values back out of JSON, which keeps a NUL inside a string from
    // SQLite 3.45 on: an older library (a system SQLite, where libsqlite3-sys links one) would
    // cut a name at a NUL.
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut *tx)
        .await?;
    let exact: Result<bool, _> =
        sqlx::query_scalar(r#"SELECT length(CAST('["a\u0000b"]' ->> 0 AS BLOB)) = 3"#)
            .fetch_one(&mut *tx)
            .await;
    if !matches!(exact, Ok(true)) {
        return Err(sqlx::Error::Configuration(
            format!("SQLite {version}: SqliteStore needs SQLite 3.45 or later").into(),
        ));
    }
    let table = schema::migrations_table(names);
    sqlx::query(&table).execute(&mut *tx).await?;
    let current = schema::current_version(names);
    let found: i64 = sqlx::query_scalar(&current).fetch_one(&mut *tx).await?;
    let statements = match schema::upgrade(Dialect::Sqlite, names, found, now) {
        Ok(statements) => statements,
        Err(found) => return Ok(Err(found)),
    };
    for statement in statements {
        sqlx::query(&statement)
            .persistent(false)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Ok(()))
}

/// A refusal of a trigger of the schema's version 3: nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refusal {
    /// `<table>_create`: a live session holds the id.
    Taken,
    /// `<table>_change`: no live session holds the id.
    Absent,
    /// `<table>_change`: past the size limit.
    TooLarge,
}

/// The refusal `error` is, if it is one: a `RAISE(ABORT, ...)` of a trigger
/// (`SQLITE_CONSTRAINT_TRIGGER`) with one of the schema's messages.
fn refusal(error: &sqlx::Error) -> Option<Refusal> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    if database.code().as_deref() != Some(SQLITE_CONSTRAINT_TRIGGER) {
        return None;
    }
    match database.message() {
        schema::TAKEN => Some(Refusal::Taken),
        schema::ABSENT => Some(Refusal::Absent),
        schema::TOO_LARGE => Some(Refusal::TooLarge),
        _ => None,
    }
}

/// SQLite's extended result code of a trigger's `RAISE(ABORT, ...)`.
const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";

/// Turns an encoding failure (impossible: names and texts come from `&str`) into sqlx's.
fn encode(error: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Encode(Box::new(error))
}

/// Appends `item` (UTF-8, as every name and JSON text is) to `out` as a JSON string, escaped by
/// serde_json.
fn push_json_string(out: &mut Vec<u8>, item: &[u8]) -> Result<(), sqlx::Error> {
    serde_json::to_writer(out, std::str::from_utf8(item).map_err(encode)?).map_err(encode)
}

/// A JSON array of `items`, each written by `push`, in a buffer of `capacity` bytes.
fn json_array<T>(
    capacity: usize,
    items: impl IntoIterator<Item = T>,
    mut push: impl FnMut(&mut Vec<u8>, T) -> Result<(), sqlx::Error>,
) -> Result<String, sqlx::Error> {
    let mut out = Vec::with_capacity(capacity);
    out.push(b'[');
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push(&mut out, item)?;
    }
    out.push(b']');
    String::from_utf8(out).map_err(encode)
}

/// `items` (UTF-8, as every name and JSON text is) as a JSON array of strings, which a
/// trigger's `json_each` reads back byte for byte.
fn json_strings(items: &[&[u8]]) -> Result<String, sqlx::Error> {
    let capacity = 2 + items.iter().map(|item| item.len() + 3).sum::<usize>();
    json_array(capacity, items, |out, item| push_json_string(out, item))
}

/// The values `writes` sets as a JSON array of `[name, text]` pairs of strings: one pass of a
/// trigger's `json_each` reads each pair (`value ->> 0`, `value ->> 1`), where indexing a second
/// array by position would walk it from the start for each value.
fn json_pairs(writes: &Writes<'_>) -> Result<String, sqlx::Error> {
    let capacity = 2 + writes.set_size() + 8 * writes.set_names.len();
    let pairs = writes.set_names.iter().zip(&writes.set_values);
    json_array(capacity, pairs, |out, (name, text)| {
        out.push(b'[');
        push_json_string(out, name)?;
        out.push(b',');
        push_json_string(out, text)?;
        out.push(b']');
        Ok(())
    })
}

/// The row of a load (a session's columns, its `subject` and `binding`, then its values packed
/// into one text by the statement, in the form of
/// [`pack_values`](session_core::store::pack_values), `NULL` for none) as a record; `None` for no
/// row, or for a row that cannot be read (logged).
fn decode_row(row: Option<&SqliteRow>, key: &Key, max_record_bytes: usize) -> Option<Record> {
    let row = row?;
    let loaded =
        common::meta_of(row).and_then(|meta| Ok((meta, row.try_get::<Option<Vec<u8>>, _>(6)?)));
    let record = match loaded {
        // A column of another type (SQLite's columns take anything) is damage too.
        Err(_) => Err(Damage::Column),
        Ok((meta, packed)) => match SharedText::from_utf8(packed.unwrap_or_default()) {
            Err(_) => Err(Damage::Packed),
            Ok(pack) => common::assemble(meta, Loaded::Pack(pack), max_record_bytes),
        },
    };
    common::logged(key, record)
}

#[async_trait]
impl Backend for Lite {
    const DIALECT: Dialect = Dialect::Sqlite;

    async fn load(&self, key: &Key, now: i64, limit: usize) -> Result<Option<Record>, sqlx::Error> {
        let row = sqlx::query(&self.load)
            .bind(key.digest().as_slice())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(decode_row(row.as_ref(), key, limit))
    }

    async fn create(
        &self,
        key: &Key,
        record: &Record,
        values: &Writes<'_>,
        bound: Option<&Bound>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let set = json_pairs(values)?;
        let mut writer = self.turn().await?;
        let done = sqlx::query(&self.create)
            .bind(key.digest().as_slice())
            .bind(now)
            .bind(millis(record.created))
            .bind(millis(record.last_active))
            .bind(millis(record.expires))
            .bind(record.lifetime.as_ref().map(lifetime_json))
            .bind(i64::try_from(values.set_size()).unwrap_or(i64::MAX))
            .bind(bound.map(|bound| bound.subject.as_slice()))
            .bind(bound.map(|bound| bound.json.as_slice()))
            .bind(set)
            .execute(writer.connection())
            .await;
        writer.settle(&done);
        match done {
            Ok(_) => Ok(true),
            Err(error) if refusal(&error) == Some(Refusal::Taken) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// One statement (the `<table>_changes` trigger), so one transaction; a change into the
    /// past removes the session instead.
    async fn change(
        &self,
        key: &Key,
        change: &Change<'_>,
        now: i64,
        limit: usize,
    ) -> Result<Outcome, sqlx::Error> {
        let id = key.digest().as_slice();
        if millis(change.expires) <= now {
            return Ok(if self.remove(id, now).await? {
                Outcome::Written
            } else {
                Outcome::Absent
            });
        }
        let writes = &change.writes;
        let set = json_pairs(writes)?;
        let removed = json_strings(&writes.removed)?;
        let set_size = i64::try_from(writes.set_size()).unwrap_or(i64::MAX);
        let mut writer = self.turn().await?;
        let done = sqlx::query(&self.change)
            .bind(id)
            .bind(now)
            .bind(change.created.map(millis))
            .bind(millis(change.last_active))
            .bind(millis(change.expires))
            .bind(change.lifetime.is_some())
            .bind(change.lifetime.as_ref().and_then(Option::as_deref))
            .bind(change.clear)
            .bind(&set)
            .bind(set_size)
            .bind(&removed)
            .bind(common::limit(limit))
            .execute(writer.connection())
            .await;
        writer.settle(&done);
        let Err(error) = done else {
            return Ok(Outcome::Written);
        };
        match refusal(&error) {
            Some(Refusal::Absent) => Ok(Outcome::Absent),
            Some(Refusal::TooLarge) => {
                // What the trigger found, counted again (in this process's turn, so no other
                // writer of this store came between; another process's may have).
                let size: Result<Option<i64>, _> = sqlx::query_scalar(&self.changed_size)
                    .bind(id)
                    .bind(change.clear)
                    .bind(set_size)
                    .bind(&set)
                    .bind(&removed)
                    .fetch_optional(writer.connection())
                    .await;
                writer.settle(&size);
                let size = usize::try_from(size?.unwrap_or(0)).unwrap_or(0);
                Ok(Outcome::TooLarge(size.max(limit.saturating_add(1))))
            }
            _ => Err(error),
        }
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: i64,
        expires: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let mut writer = self.turn().await?;
        let done = sqlx::query(&self.touch)
            .bind(key.digest().as_slice())
            .bind(last_active)
            .bind(expires)
            .bind(now)
            .execute(writer.connection())
            .await;
        writer.settle(&done);
        Ok(done?.rows_affected() == 1)
    }

    async fn delete(&self, key: &Key, now: i64) -> Result<bool, sqlx::Error> {
        self.remove(key.digest().as_slice(), now).await
    }

    async fn list_subject(
        &self,
        subject: &str,
        now: i64,
    ) -> Result<Vec<BoundSession>, sqlx::Error> {
        let digest = subject_key(subject);
        let rows = sqlx::query(&self.list_subject)
            .bind(digest.digest().as_slice())
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(subjects::decode_listing(&rows, &digest))
    }

    async fn cleanup(&self, now: i64, batch: u32) -> Result<u64, sqlx::Error> {
        let mut writer = self.turn().await?;
        let done = sqlx::query(&self.cleanup)
            .bind(now)
            .bind(i64::from(batch))
            .execute(writer.connection())
            .await;
        writer.settle(&done);
        Ok(done?.rows_affected())
    }

    async fn migrate(&self, names: &Names, now: i64) -> Result<Result<(), i64>, sqlx::Error> {
        // Reads first (the version), so BEGIN IMMEDIATE: not bounded by a time-out, so not
        // cancelled halfway in the usual run of things. On a connection of the pool, in this
        // process's turn to write (no writer waits holding one of the pool's connections).
        let _turn = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let outcome = migrate_in(&mut tx, names, now).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_go_to_the_triggers_as_json_strings() {
        let names: [&[u8]; 4] = [b"a\"b\\c", "nul\0 \u{1} ключ 🦀".as_bytes(), b"", b"x"];
        let texts: [&[u8]; 4] = [b"1", b"\"s\"", b"[1,2.50]", b"{\"k\":null}"];
        let writes = Writes {
            set_names: names.to_vec(),
            set_values: texts.to_vec(),
            removed: vec![b"gone".as_slice()],
        };
        let pairs = json_pairs(&writes).expect("UTF-8");
        let parsed: Vec<(String, String)> = serde_json::from_str(&pairs).expect("JSON");
        for ((name, text), (parsed_name, parsed_text)) in names.iter().zip(texts).zip(&parsed) {
            assert_eq!(parsed_name.as_bytes(), *name);
            assert_eq!(parsed_text.as_bytes(), text);
        }
        assert_eq!(parsed.len(), 4);
        assert_eq!(json_strings(&writes.removed).expect("UTF-8"), r#"["gone"]"#);
        assert_eq!(json_strings(&[]).expect("UTF-8"), "[]");
        assert_eq!(json_pairs(&Writes::default()).expect("UTF-8"), "[]");
        assert!(json_strings(&[b"\xff".as_slice()]).is_err(), "not UTF-8");
    }
}
