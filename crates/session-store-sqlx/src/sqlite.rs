//! [`SqliteStore`]: sessions in a SQLite database file.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Changes, Key, Record, Store, StoreError, Timestamp};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::common::{
    self, Options, Writes, bounded, check_size, lifetime_json, millis, option_methods,
};
use crate::error::SqlStoreError;
use crate::names::{DEFAULT_TABLE, Names};
use crate::schema::{self, LATEST_VERSION};

/// How long a connection of [`sqlite_pool`] waits for another writer (SQLite's busy time-out).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Sessions in a SQLite database: a row per session and a row per value, each write one
/// `BEGIN IMMEDIATE` transaction.
///
/// Takes the application's [`SqlitePool`] (or opens one with [`SqliteStore::open`]); cheap to
/// clone. Run [`migrate`](SqliteStore::migrate) once before the first request. See the
/// [crate docs](crate) for the pool settings it needs (WAL, a busy time-out).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: SqlitePool,
    names: Names,
    sql: Statements,
    options: Options,
}

/// Every statement, built once from the validated names.
struct Statements {
    load: String,
    insert: String,
    live_size: String,
    old_size: String,
    clear: String,
    put: String,
    remove: String,
    update: String,
    touch: String,
    delete: String,
    delete_values: String,
    cleanup_values: String,
    cleanup: String,
}

impl Statements {
    fn new(names: &Names) -> Self {
        let (sessions, values) = (&names.sessions, &names.values);
        Statements {
            load: format!(
                "SELECT s.created, s.last_active, s.expires, s.lifetime, v.name, v.value \
                 FROM {sessions} s LEFT JOIN {values} v ON v.session = s.id \
                 WHERE s.id = ?1 AND s.expires > ?2"
            ),
            insert: format!(
                "INSERT INTO {sessions} AS s (id, created, last_active, expires, lifetime, size) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET created = excluded.created, \
                 last_active = excluded.last_active, expires = excluded.expires, \
                 lifetime = excluded.lifetime, size = excluded.size \
                 WHERE s.expires <= ?7"
            ),
            live_size: format!("SELECT size FROM {sessions} WHERE id = ?1 AND expires > ?2"),
            old_size: format!(
                "SELECT length(name) + length(value) FROM {values} WHERE session = ?1 AND name = ?2"
            ),
            clear: format!("DELETE FROM {values} WHERE session = ?1"),
            put: format!(
                "INSERT INTO {values} (session, name, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (session, name) DO UPDATE SET value = excluded.value"
            ),
            remove: format!("DELETE FROM {values} WHERE session = ?1 AND name = ?2"),
            update: format!(
                "UPDATE {sessions} SET created = COALESCE(?2, created), last_active = ?3, \
                 expires = ?4, size = ?5, lifetime = CASE WHEN ?6 THEN ?7 ELSE lifetime END \
                 WHERE id = ?1"
            ),
            touch: format!(
                "UPDATE {sessions} SET last_active = ?2, expires = ?3 \
                 WHERE id = ?1 AND expires > ?4"
            ),
            delete: format!("DELETE FROM {sessions} WHERE id = ?1 RETURNING expires > ?2"),
            delete_values: format!("DELETE FROM {values} WHERE session = ?1"),
            cleanup_values: format!(
                "DELETE FROM {values} WHERE session IN \
                 (SELECT id FROM {sessions} WHERE expires <= ?1 LIMIT ?2)"
            ),
            cleanup: format!(
                "DELETE FROM {sessions} WHERE id IN \
                 (SELECT id FROM {sessions} WHERE expires <= ?1 LIMIT ?2)"
            ),
        }
    }
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("table", &self.inner.names.plain)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
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
    /// tables are named after it (`<table>_values`, `<table>_migrations`).
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
            inner: Arc::new(Inner {
                pool: self.pool,
                sql: Statements::new(&names),
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

/// What a change did.
enum Outcome {
    Absent,
    Written,
    TooLarge(usize),
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
        &self.inner.pool
    }

    /// The sessions table's name.
    pub fn table(&self) -> &str {
        &self.inner.names.plain
    }

    /// Creates or upgrades the store's tables, in one `BEGIN IMMEDIATE` transaction, recorded in
    /// `<table>_migrations`; returns the version the tables are at.
    ///
    /// Safe to run at every start and from several processes at once.
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::SchemaTooNew`] if a newer version of this crate migrated the tables;
    /// [`SqlStoreError::Database`] if a statement fails (nothing is then changed).
    pub async fn migrate(&self) -> Result<i64, SqlStoreError> {
        let mut tx = self
            .begin()
            .await
            .map_err(SqlStoreError::database("migrate"))?;
        let now = millis(self.inner.options.clock.now());
        match migrate_in(&mut tx, &self.inner.names, now).await {
            Ok(Ok(())) => {
                tx.commit()
                    .await
                    .map_err(SqlStoreError::database("migrate"))?;
                Ok(LATEST_VERSION)
            }
            Ok(Err(found)) => Err(SqlStoreError::SchemaTooNew {
                found,
                supported: LATEST_VERSION,
            }),
            Err(source) => Err(SqlStoreError::Database {
                op: "migrate",
                source,
            }),
        }
    }

    /// Removes every expired session, in transactions of at most
    /// [`cleanup_batch`](SqliteStoreBuilder::cleanup_batch) sessions each; returns how many
    /// were removed.
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::Database`] if a statement fails (the sessions removed before stay
    /// removed).
    pub async fn delete_expired(&self) -> Result<u64, SqlStoreError> {
        let now = millis(self.inner.options.clock.now());
        let batch = self.inner.options.cleanup_batch;
        common::cleanup_batches(batch, || async move {
            let run = async {
                let mut tx = self.begin().await?;
                sqlx::query(&self.inner.sql.cleanup_values)
                    .bind(now)
                    .bind(i64::from(batch))
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query(&self.inner.sql.cleanup)
                    .bind(now)
                    .bind(i64::from(batch))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(done.rows_affected())
            };
            run.await.map_err(SqlStoreError::database("cleanup"))
        })
        .await
    }

    /// Spawns a Tokio task that runs [`delete_expired`](Self::delete_expired) every `every`
    /// (the first run after one period), logging failures; abort the handle to stop it.
    ///
    /// # Panics
    ///
    /// Outside a Tokio runtime.
    pub fn spawn_cleanup(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let store = self.clone();
        common::spawn_cleanup(every, move || {
            let store = store.clone();
            async move { store.delete_expired().await }
        })
    }

    /// A write transaction: `BEGIN IMMEDIATE` takes the database's write lock at once (waiting
    /// up to the busy time-out), so that no transaction fails upgrading a read lock.
    async fn begin(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.inner.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Runs `op` within the time-out.
    async fn bounded<T>(
        &self,
        op: &'static str,
        future: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SqlStoreError> {
        bounded(self.inner.options.timeout, op, async {
            future.await.map_err(SqlStoreError::database(op))
        })
        .await
    }

    /// `save` and `apply`, in one transaction: check the session is live, size the result,
    /// write the values, then the session's row.
    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        key: &Key,
        created: Option<Timestamp>,
        last_active: Timestamp,
        expires: Timestamp,
        lifetime: Option<Option<String>>,
        clear: bool,
        writes: &Writes<'_>,
    ) -> Result<Outcome, sqlx::Error> {
        let sql = &self.inner.sql;
        let id = key.digest().as_slice();
        let now = self.inner.options.clock.now();
        let mut tx = self.begin().await?;
        let Some(mut size) = sqlx::query_scalar::<_, i64>(&sql.live_size)
            .bind(id)
            .bind(millis(now))
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Ok(Outcome::Absent);
        };
        if expires <= now {
            remove(&mut tx, sql, id).await?;
            tx.commit().await?;
            return Ok(Outcome::Written);
        }
        if clear {
            size = 0;
        } else {
            for name in &writes.names {
                let old: Option<i64> = sqlx::query_scalar(&sql.old_size)
                    .bind(id)
                    .bind(*name)
                    .fetch_optional(&mut *tx)
                    .await?;
                size -= old.unwrap_or(0);
            }
        }
        let size = usize::try_from(size).unwrap_or(0) + writes.set_size();
        if size > self.inner.options.max_record_bytes {
            return Ok(Outcome::TooLarge(size));
        }
        if clear {
            sqlx::query(&sql.clear).bind(id).execute(&mut *tx).await?;
        }
        for (name, value) in writes.names.iter().zip(&writes.values) {
            match value {
                Some(text) => sqlx::query(&sql.put)
                    .bind(id)
                    .bind(*name)
                    .bind(text.as_bytes()),
                None if clear => continue,
                None => sqlx::query(&sql.remove).bind(id).bind(*name),
            }
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(&sql.update)
            .bind(id)
            .bind(created.map(millis))
            .bind(millis(last_active))
            .bind(millis(expires))
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .bind(lifetime.is_some())
            .bind(lifetime.flatten())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Outcome::Written)
    }

    fn outcome(&self, outcome: Outcome) -> Result<bool, StoreError> {
        match outcome {
            Outcome::Absent => Ok(false),
            Outcome::Written => Ok(true),
            Outcome::TooLarge(size) => Err(SqlStoreError::TooLarge {
                size,
                limit: self.inner.options.max_record_bytes,
            }
            .into()),
        }
    }
}

/// Deletes a session's values and row; whether a live row was there.
async fn remove(
    tx: &mut Transaction<'static, Sqlite>,
    sql: &Statements,
    id: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(&sql.delete_values)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&sql.delete)
        .bind(id)
        .bind(i64::MAX)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The migration's statements, in the caller's transaction: `Err(found)` for a newer schema.
async fn migrate_in(
    tx: &mut SqliteConnection,
    names: &Names,
    now: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    let table = schema::migrations_table(names);
    sqlx::query(&table).execute(&mut *tx).await?;
    let current = schema::current_version(names);
    let found: i64 = sqlx::query_scalar(&current).fetch_one(&mut *tx).await?;
    if found > LATEST_VERSION {
        return Ok(Err(found));
    }
    for version in found + 1..=LATEST_VERSION {
        for statement in schema::sqlite(names, version) {
            sqlx::query(&statement)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
        }
        let record = schema::record_version(names, "?1", "?2");
        sqlx::query(&record)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Ok(()))
}

#[async_trait]
impl Store for SqliteStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let now = self.inner.options.clock.now();
        let query = sqlx::query(&self.inner.sql.load)
            .bind(key.digest().as_slice())
            .bind(millis(now));
        let rows = self
            .bounded("load", query.fetch_all(&self.inner.pool))
            .await?;
        Ok(common::decode_load(
            &rows,
            key,
            self.inner.options.max_record_bytes,
        ))
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let size = common::record_size(record);
        check_size(size, self.inner.options.max_record_bytes)?;
        let now = self.inner.options.clock.now();
        if record.is_expired(now) {
            return Ok(true);
        }
        let sql = &self.inner.sql;
        let id = key.digest().as_slice();
        let run = async {
            let mut tx = self.begin().await?;
            let inserted = sqlx::query(&sql.insert)
                .bind(id)
                .bind(millis(record.created))
                .bind(millis(record.last_active))
                .bind(millis(record.expires))
                .bind(record.lifetime.as_ref().map(lifetime_json))
                .bind(i64::try_from(size).unwrap_or(i64::MAX))
                .bind(millis(now))
                .execute(&mut *tx)
                .await?;
            if inserted.rows_affected() == 0 {
                return Ok(false);
            }
            sqlx::query(&sql.clear).bind(id).execute(&mut *tx).await?;
            for (name, value) in &record.data {
                sqlx::query(&sql.put)
                    .bind(id)
                    .bind(name.as_bytes())
                    .bind(value.as_json().as_bytes())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(true)
        };
        Ok(self.bounded("create", run).await?)
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        check_size(
            common::record_size(record),
            self.inner.options.max_record_bytes,
        )?;
        let writes = Writes::from_record(record);
        let change = self.change(
            key,
            Some(record.created),
            record.last_active,
            record.expires,
            Some(record.lifetime.as_ref().map(lifetime_json)),
            true,
            &writes,
        );
        let outcome = self.bounded("save", change).await?;
        self.outcome(outcome)
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let sql = &self.inner.sql;
        let id = key.digest().as_slice();
        let now = millis(self.inner.options.clock.now());
        let run = async {
            let mut tx = self.begin().await?;
            sqlx::query(&sql.delete_values)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let live: Option<bool> = sqlx::query_scalar(&sql.delete)
                .bind(id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(live.unwrap_or(false))
        };
        Ok(self.bounded("delete", run).await?)
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        if changes.is_touch() {
            return self.touch(key, changes.last_active, changes.expires).await;
        }
        let writes = Writes::from_changes(changes);
        check_size(writes.set_size(), self.inner.options.max_record_bytes)?;
        let change = self.change(
            key,
            None,
            changes.last_active,
            changes.expires,
            changes
                .lifetime
                .map(|lifetime| lifetime.as_ref().map(lifetime_json)),
            changes.clear,
            &writes,
        );
        let outcome = self.bounded("apply", change).await?;
        self.outcome(outcome)
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = self.inner.options.clock.now();
        if expires <= now {
            return self.delete(key).await;
        }
        let query = sqlx::query(&self.inner.sql.touch)
            .bind(key.digest().as_slice())
            .bind(millis(last_active))
            .bind(millis(expires))
            .bind(millis(now));
        let done = self
            .bounded("touch", query.execute(&self.inner.pool))
            .await?;
        Ok(done.rows_affected() == 1)
    }

    fn applies_atomically(&self) -> bool {
        true
    }
}
