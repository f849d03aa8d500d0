//! [`PgStore`]: sessions in PostgreSQL.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Changes, Key, Record, Store, StoreError, Timestamp};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgRow};

use crate::common::{
    self, Options, Writes, bounded, check_size, lifetime_json, millis, option_methods,
};
use crate::error::SqlStoreError;
use crate::names::{DEFAULT_TABLE, Names};
use crate::schema::{self, LATEST_VERSION};

/// Sessions in PostgreSQL: a row per session and a row per value, key-level changes applied
/// atomically by a PL/pgSQL function.
///
/// Takes the application's [`PgPool`]; cheap to clone (clones share it). Run
/// [`migrate`](PgStore::migrate) once (at every start is fine) before the first request. See the
/// [crate docs](crate) for the schema, the statements and their round trips.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    names: Names,
    sql: Statements,
    options: Options,
}

/// Every statement, built once from the validated names.
struct Statements {
    load: String,
    create: String,
    change: String,
    touch: String,
    delete: String,
    cleanup: String,
}

impl Statements {
    fn new(names: &Names) -> Self {
        let (sessions, values) = (&names.sessions, &names.values);
        Statements {
            load: format!(
                "SELECT s.created, s.last_active, s.expires, s.lifetime, v.name, v.value \
                 FROM {sessions} s LEFT JOIN {values} v ON v.session = s.id \
                 WHERE s.id = $1 AND s.expires > $2"
            ),
            create: format!(
                "SELECT {}($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                names.derived("_create")
            ),
            change: format!(
                "SELECT status, new_size FROM {}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                names.derived("_change")
            ),
            touch: format!(
                "UPDATE {sessions} SET last_active = $2, expires = $3 \
                 WHERE id = $1 AND expires > $4"
            ),
            delete: format!("DELETE FROM {sessions} WHERE id = $1 RETURNING expires > $2"),
            cleanup: format!(
                "DELETE FROM {sessions} WHERE id IN (SELECT id FROM {sessions} \
                 WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
        }
    }
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("table", &self.inner.names.plain)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

/// Builds a [`PgStore`]: schema and table names, time-out, record size limit, clock.
pub struct PgStoreBuilder {
    pool: PgPool,
    schema: Option<String>,
    table: String,
    options: Options,
}

impl fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("schema", &self.schema)
            .field("table", &self.table)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PgStoreBuilder {
    /// The schema holding the store's tables and functions (default: none, so the connection's
    /// `search_path` decides, normally `public`). [`PgStore::migrate`] creates it if missing.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The sessions table's name (default [`DEFAULT_TABLE`], `"sessions"`); the store's other
    /// tables and functions are named after it (`<table>_values`, `<table>_migrations`,
    /// `<table>_create`, `<table>_change`).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    option_methods!();

    /// Checks the names and builds the store (nothing goes to the database).
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::InvalidName`] for a table or schema name that is not a plain identifier.
    pub fn build(self) -> Result<PgStore, SqlStoreError> {
        let names = Names::new(self.schema.as_deref(), &self.table)?;
        Ok(PgStore {
            inner: Arc::new(Inner {
                pool: self.pool,
                sql: Statements::new(&names),
                names,
                options: self.options,
            }),
        })
    }
}

/// What the `_change` function answered.
enum Outcome {
    /// No live session: nothing written.
    Absent,
    /// Written.
    Written,
    /// Over the limit: nothing written.
    TooLarge(usize),
}

impl PgStore {
    /// A builder over the application's pool.
    pub fn builder(pool: PgPool) -> PgStoreBuilder {
        PgStoreBuilder {
            pool,
            schema: None,
            table: DEFAULT_TABLE.to_owned(),
            options: Options::default(),
        }
    }

    /// A store with every default (table `sessions`, no schema) over the application's pool.
    pub fn new(pool: PgPool) -> PgStore {
        PgStore::builder(pool)
            .build()
            .unwrap_or_else(|_| unreachable!("the default names are valid"))
    }

    /// The pool the store runs on.
    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// The sessions table, as given (`schema.table` with a schema).
    pub fn table(&self) -> &str {
        &self.inner.names.plain
    }

    /// Creates or upgrades the store's schema, in one transaction, recorded in
    /// `<table>_migrations`; returns the version the tables are at.
    ///
    /// Safe to run at every start and from several processes at once (they take turns on an
    /// advisory lock). It never touches sqlx's own `_sqlx_migrations` table.
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::SchemaTooNew`] if a newer version of this crate migrated the tables;
    /// [`SqlStoreError::Database`] if a statement fails (nothing is then changed).
    pub async fn migrate(&self) -> Result<i64, SqlStoreError> {
        let failed = SqlStoreError::database("migrate");
        let mut tx = self.inner.pool.begin().await.map_err(failed)?;
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

    /// Removes every expired session, in statements of at most
    /// [`cleanup_batch`](PgStoreBuilder::cleanup_batch) sessions each (skipping rows a request
    /// holds); returns how many were removed.
    ///
    /// Expired sessions are never loaded, so this only reclaims space; run it now and then
    /// ([`spawn_cleanup`](Self::spawn_cleanup) does).
    ///
    /// # Errors
    ///
    /// [`SqlStoreError::Database`] if a statement fails (the sessions removed before stay
    /// removed).
    pub async fn delete_expired(&self) -> Result<u64, SqlStoreError> {
        let now = millis(self.inner.options.clock.now());
        let batch = self.inner.options.cleanup_batch;
        common::cleanup_batches(batch, || async move {
            sqlx::query(&self.inner.sql.cleanup)
                .bind(now)
                .bind(i64::from(batch))
                .execute(&self.inner.pool)
                .await
                .map(|done| done.rows_affected())
                .map_err(SqlStoreError::database("cleanup"))
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

    /// `save` and `apply`: the `_change` function.
    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        op: &'static str,
        key: &Key,
        created: Option<Timestamp>,
        last_active: Timestamp,
        expires: Timestamp,
        lifetime: Option<Option<String>>,
        clear: bool,
        writes: &Writes<'_>,
    ) -> Result<Outcome, SqlStoreError> {
        let limit = self.inner.options.max_record_bytes;
        let now = self.inner.options.clock.now();
        let query = sqlx::query(&self.inner.sql.change)
            .bind(key.digest().as_slice())
            .bind(millis(now))
            .bind(created.map(millis))
            .bind(millis(last_active))
            .bind(millis(expires))
            .bind(lifetime.is_some())
            .bind(lifetime.flatten())
            .bind(clear)
            .bind(&writes.names)
            .bind(
                writes
                    .values
                    .iter()
                    .map(|value| value.map(str::as_bytes))
                    .collect::<Vec<_>>(),
            )
            .bind(common::limit(limit));
        let row: PgRow = self.bounded(op, query.fetch_one(&self.inner.pool)).await?;
        let status: i32 = row.try_get(0).map_err(SqlStoreError::database(op))?;
        let size: Option<i64> = row.try_get(1).map_err(SqlStoreError::database(op))?;
        Ok(match status {
            1 => Outcome::Written,
            2 => Outcome::TooLarge(size.and_then(|s| usize::try_from(s).ok()).unwrap_or(limit)),
            _ => Outcome::Absent,
        })
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

/// The migration's statements, in the caller's transaction: `Err(found)` for a newer schema.
async fn migrate_in(
    tx: &mut PgConnection,
    names: &Names,
    now: i64,
) -> Result<Result<(), i64>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("session-store-sqlx {}", names.plain))
        .execute(&mut *tx)
        .await?;
    if let Some(schema) = names.schema() {
        let create = format!("CREATE SCHEMA IF NOT EXISTS {schema}");
        sqlx::query(&create).execute(&mut *tx).await?;
    }
    let table = schema::migrations_table(names);
    sqlx::query(&table).execute(&mut *tx).await?;
    let current = schema::current_version(names);
    let found: i64 = sqlx::query_scalar(&current).fetch_one(&mut *tx).await?;
    if found > LATEST_VERSION {
        return Ok(Err(found));
    }
    for version in found + 1..=LATEST_VERSION {
        for statement in schema::postgres(names, version) {
            sqlx::query(&statement)
                .persistent(false)
                .execute(&mut *tx)
                .await?;
        }
        let record = schema::record_version(names, "$1", "$2");
        sqlx::query(&record)
            .bind(version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    Ok(Ok(()))
}

#[async_trait]
impl Store for PgStore {
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
        let limit = self.inner.options.max_record_bytes;
        let size = common::record_size(record);
        check_size(size, limit)?;
        let now = self.inner.options.clock.now();
        if record.is_expired(now) {
            // Dead on arrival: nothing to keep.
            return Ok(true);
        }
        let writes = Writes::from_record(record);
        let query = sqlx::query_scalar(&self.inner.sql.create)
            .bind(key.digest().as_slice())
            .bind(millis(now))
            .bind(millis(record.created))
            .bind(millis(record.last_active))
            .bind(millis(record.expires))
            .bind(record.lifetime.as_ref().map(lifetime_json))
            .bind(i64::try_from(size).unwrap_or(i64::MAX))
            .bind(&writes.names)
            .bind(
                writes
                    .values
                    .iter()
                    .map(|value| value.unwrap_or_default().as_bytes())
                    .collect::<Vec<_>>(),
            );
        let created: bool = self
            .bounded("create", query.fetch_one(&self.inner.pool))
            .await?;
        Ok(created)
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        check_size(
            common::record_size(record),
            self.inner.options.max_record_bytes,
        )?;
        let writes = Writes::from_record(record);
        let outcome = self
            .change(
                "save",
                key,
                Some(record.created),
                record.last_active,
                record.expires,
                Some(record.lifetime.as_ref().map(lifetime_json)),
                true,
                &writes,
            )
            .await?;
        self.outcome(outcome)
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let now = self.inner.options.clock.now();
        let query = sqlx::query_scalar(&self.inner.sql.delete)
            .bind(key.digest().as_slice())
            .bind(millis(now));
        let live: Option<bool> = self
            .bounded("delete", query.fetch_optional(&self.inner.pool))
            .await?;
        Ok(live.unwrap_or(false))
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        if changes.is_touch() {
            return self.touch(key, changes.last_active, changes.expires).await;
        }
        let writes = Writes::from_changes(changes);
        check_size(writes.set_size(), self.inner.options.max_record_bytes)?;
        let outcome = self
            .change(
                "apply",
                key,
                None,
                changes.last_active,
                changes.expires,
                changes
                    .lifetime
                    .map(|lifetime| lifetime.as_ref().map(lifetime_json)),
                changes.clear,
                &writes,
            )
            .await?;
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
            // Extended into the past: the session is over.
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
