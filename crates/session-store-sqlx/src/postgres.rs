//! [`PgStore`]: sessions in PostgreSQL.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use session_core::store::{Key, Record};
use session_core::subject::{BoundSession, subject_key};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgPool, PgRow};

use crate::common::{self, Damage, Loaded, Options, Writes, lifetime_json, option_methods};
use crate::error::SqlStoreError;
use crate::names::{DEFAULT_TABLE, Names};
use crate::schema::{self, Dialect};
use crate::shared::{Backend, Change, Core, Outcome, sql_store};
use crate::subjects::{self, Bound};

/// Sessions in PostgreSQL: a row per session and a row per value, key-level changes applied
/// atomically by a PL/pgSQL function.
///
/// Takes the application's [`PgPool`]; cheap to clone (clones share it). Run
/// [`migrate`](PgStore::migrate) once (at every start is fine) before the first request. See the
/// [crate docs](crate) for the schema, the statements and their round trips.
#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Core<Pg>>,
}

/// The pool and every statement, built once from the validated names.
struct Pg {
    pool: PgPool,
    load: String,
    create: String,
    change: String,
    touch: String,
    delete: String,
    list_subject: String,
    cleanup: String,
    /// The `lock_timeout` `_change` sets: three quarters of the store's time-out, so that the
    /// server gives up waiting before the client does, and a write the client was told timed
    /// out never lands later.
    lock_timeout: String,
}

impl Pg {
    fn new(pool: PgPool, names: &Names, timeout: std::time::Duration) -> Self {
        let (sessions, values) = (&names.sessions, &names.values);
        Pg {
            pool,
            lock_timeout: format!("{}ms", (timeout.as_millis() * 3 / 4).max(1)),
            load: format!(
                "SELECT s.created, s.last_active, s.expires, s.lifetime, s.subject, s.binding, \
                 v.name, v.value \
                 FROM {sessions} s LEFT JOIN {values} v ON v.session = s.id \
                 WHERE s.id = $1 AND s.expires > $2"
            ),
            create: format!(
                "SELECT {}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                names.derived("_create")
            ),
            change: format!(
                "SELECT status, new_size \
                 FROM {}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
                names.derived("_change")
            ),
            touch: format!(
                "UPDATE {sessions} SET last_active = $2, expires = $3 \
                 WHERE id = $1 AND expires > $4"
            ),
            delete: format!("DELETE FROM {sessions} WHERE id = $1 RETURNING expires > $2"),
            list_subject: format!(
                "SELECT id, binding, created, last_active, expires FROM {sessions} \
                 WHERE subject = $1 AND expires > $2"
            ),
            cleanup: format!(
                "DELETE FROM {sessions} WHERE id IN (SELECT id FROM {sessions} \
                 WHERE expires <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
            ),
        }
    }
}

/// The SQLSTATE `_change` raises past the size limit (its DETAIL is the size).
const TOO_LARGE: &str = "SS413";
/// The SQLSTATEs of a call that changed nothing and may be tried again.
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";

/// The SQLSTATE of a database error.
pub(crate) fn sqlstate(error: &sqlx::Error) -> Option<std::borrow::Cow<'_, str>> {
    match error {
        sqlx::Error::Database(database) => database.code(),
        _ => None,
    }
}

/// The size `_change` reported with [`TOO_LARGE`].
fn too_large_size(error: &sqlx::Error) -> Option<usize> {
    let sqlx::Error::Database(database) = error else {
        return None;
    };
    let postgres = database.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()?;
    postgres.detail()?.parse().ok()
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
            inner: Arc::new(Core {
                backend: Pg::new(self.pool, &names, self.options.timeout),
                names,
                options: self.options,
            }),
        })
    }
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
        &self.inner.backend.pool
    }
}

sql_store!(PgStore, PgStoreBuilder);

/// The migration's statements, in one transaction that an advisory lock keeps to one process at
/// a time: `Err(found)` for a newer schema.
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
    let statements = match schema::upgrade(Dialect::Postgres, names, found, now) {
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

/// The rows of a load (a session's columns, its `subject` and `binding`, then a value's name and
/// text, `NULL`s for a session without values) as a record; `None` for no rows, or for rows that
/// cannot be read (logged).
fn decode_rows(rows: &[PgRow], key: &Key, max_record_bytes: usize) -> Option<Record> {
    let first = rows.first()?;
    let loaded = (|| {
        let meta = common::meta_of(first)?;
        let mut values = Vec::with_capacity(rows.len());
        for row in rows {
            let name: Option<Vec<u8>> = row.try_get(6)?;
            let text: Option<Vec<u8>> = row.try_get(7)?;
            values.extend(name.zip(text));
        }
        Ok::<_, sqlx::Error>((meta, values))
    })();
    let record = match loaded {
        Err(_) => Err(Damage::Column),
        Ok((meta, values)) => values
            .into_iter()
            .map(|(name, text)| {
                let name = String::from_utf8(name).map_err(|_| Damage::Name)?;
                let text = String::from_utf8(text).map_err(|_| Damage::Value)?;
                Ok((name, text))
            })
            .collect::<Result<Vec<_>, Damage>>()
            .and_then(|texts| common::assemble(meta, Loaded::Texts(texts), max_record_bytes)),
    };
    common::logged(key, record)
}

#[async_trait]
impl Backend for Pg {
    const DIALECT: Dialect = Dialect::Postgres;

    async fn load(&self, key: &Key, now: i64, limit: usize) -> Result<Option<Record>, sqlx::Error> {
        let rows = sqlx::query(&self.load)
            .bind(key.digest().as_slice())
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        Ok(decode_rows(&rows, key, limit))
    }

    async fn create(
        &self,
        key: &Key,
        record: &Record,
        values: &Writes<'_>,
        bound: Option<&Bound>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        sqlx::query_scalar(&self.create)
            .bind(key.digest().as_slice())
            .bind(now)
            .bind(common::millis(record.created))
            .bind(common::millis(record.last_active))
            .bind(common::millis(record.expires))
            .bind(record.lifetime.as_ref().map(lifetime_json))
            .bind(i64::try_from(values.set_size()).unwrap_or(i64::MAX))
            .bind(&values.set_names)
            .bind(&values.set_values)
            .bind(bound.map(|bound| bound.subject.as_slice()))
            .bind(bound.map(|bound| bound.json.as_slice()))
            .fetch_one(&self.pool)
            .await
    }

    async fn change(
        &self,
        key: &Key,
        change: &Change<'_>,
        now: i64,
        limit: usize,
    ) -> Result<Outcome, sqlx::Error> {
        let writes = &change.writes;
        let mut attempts = 0u32;
        loop {
            let call = sqlx::query(&self.change)
                .bind(key.digest().as_slice())
                .bind(now)
                .bind(change.created.map(common::millis))
                .bind(common::millis(change.last_active))
                .bind(common::millis(change.expires))
                .bind(change.lifetime.is_some())
                .bind(change.lifetime.as_ref().and_then(Option::as_deref))
                .bind(change.clear)
                .bind(&writes.set_names)
                .bind(&writes.set_values)
                .bind(i64::try_from(writes.set_size()).unwrap_or(i64::MAX))
                .bind(&writes.removed)
                .bind(common::limit(limit))
                .bind(&self.lock_timeout)
                .fetch_one(&self.pool)
                .await;
            let row: PgRow = match call {
                Ok(row) => row,
                Err(error) => match sqlstate(&error).as_deref() {
                    Some(TOO_LARGE) => {
                        let size = too_large_size(&error).unwrap_or(limit.saturating_add(1));
                        return Ok(Outcome::TooLarge(size));
                    }
                    // A REPEATABLE READ or SERIALIZABLE default isolation (the function wants
                    // READ COMMITTED, see the crate docs) or a deadlock: the call changed
                    // nothing, and is tried again, until it lands or the store's time-out
                    // (around this call) passes. Each round, one of the contending calls lands.
                    Some(SERIALIZATION_FAILURE | DEADLOCK_DETECTED) => {
                        attempts += 1;
                        if attempts.is_multiple_of(8) {
                            tokio::task::yield_now().await;
                        }
                        continue;
                    }
                    _ => return Err(error),
                },
            };
            let status: i32 = row.try_get(0)?;
            return Ok(if status == 1 {
                Outcome::Written
            } else {
                Outcome::Absent
            });
        }
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: i64,
        expires: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(&self.touch)
            .bind(key.digest().as_slice())
            .bind(last_active)
            .bind(expires)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete(&self, key: &Key, now: i64) -> Result<bool, sqlx::Error> {
        let live: Option<bool> = sqlx::query_scalar(&self.delete)
            .bind(key.digest().as_slice())
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        Ok(live.unwrap_or(false))
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
        let done = sqlx::query(&self.cleanup)
            .bind(now)
            .bind(i64::from(batch))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn migrate(&self, names: &Names, now: i64) -> Result<Result<(), i64>, sqlx::Error> {
        // Read first, without the lock and the DDL: tables already at this build's version (or
        // newer) need no rights beyond reading them, so an application's role without DDL
        // rights can run `migrate` at every start.
        let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(&names.migrations)
            .fetch_one(&self.pool)
            .await?;
        if exists.is_some() {
            let current = schema::current_version(names);
            let found: i64 = sqlx::query_scalar(&current).fetch_one(&self.pool).await?;
            let latest = schema::latest_version(Dialect::Postgres);
            if found >= latest {
                return Ok(if found == latest { Ok(()) } else { Err(found) });
            }
        }
        let mut tx = self.pool.begin().await?;
        let outcome = migrate_in(&mut tx, names, now).await?;
        if outcome.is_ok() {
            tx.commit().await?;
        }
        Ok(outcome)
    }
}
