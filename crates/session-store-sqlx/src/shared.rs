//! What both stores do the same way, over a [`Backend`] that runs the statements: the size
//! limit, records already dead when written, time-outs and errors, the migration's transaction
//! result, the cleanup loop. `PgStore` and `SqliteStore` are each an `Arc<Core<...>>` with the
//! [`Store`](session_core::store::Store) implementation [`sql_store!`] writes for them.

use std::time::Duration;

use async_trait::async_trait;
use session_core::store::{Changes, Key, Record, StoreError, Timestamp};
use session_core::subject::BoundSession;

use crate::common::{self, Options, Writes, lifetime_json, millis};
use crate::error::SqlStoreError;
use crate::names::Names;
use crate::subjects::Bound;

/// What a `save` or `apply` writes, as both backends take it.
#[derive(Debug)]
pub(crate) struct Change<'a> {
    /// `save` replaces `created`; `apply` keeps it.
    pub(crate) created: Option<Timestamp>,
    pub(crate) last_active: Timestamp,
    pub(crate) expires: Timestamp,
    /// `Some(None)`: no lifetime; `None`: keep the stored one.
    pub(crate) lifetime: Option<Option<String>>,
    /// Remove every value not written.
    pub(crate) clear: bool,
    pub(crate) writes: Writes<'a>,
}

impl<'a> Change<'a> {
    /// A `save`: every value, the whole record.
    fn save(record: &'a Record) -> Self {
        Change {
            created: Some(record.created),
            last_active: record.last_active,
            expires: record.expires,
            lifetime: Some(record.lifetime.as_ref().map(lifetime_json)),
            clear: true,
            writes: Writes::from_record(record),
        }
    }

    /// An `apply`: the changed values only.
    fn apply(changes: &'a Changes) -> Self {
        Change {
            created: None,
            last_active: changes.last_active,
            expires: changes.expires,
            lifetime: changes
                .lifetime
                .map(|lifetime| lifetime.as_ref().map(lifetime_json)),
            clear: changes.clear,
            writes: Writes::from_changes(changes),
        }
    }
}

/// What a change did.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// No live session: nothing written.
    Absent,
    /// Written (or, for a session changed into the past, removed).
    Written,
    /// The values would take this many bytes, over the limit: nothing written.
    TooLarge(usize),
}

/// The statements of one database. Every call gets the store's time (`now`, milliseconds) and
/// answers sqlx's error; [`Core`] bounds it and names the operation.
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    /// The database the statements are for.
    const DIALECT: crate::schema::Dialect;
    /// The session's record if it is live at `now` (rows that cannot be read: `None`, logged).
    async fn load(&self, key: &Key, now: i64, limit: usize) -> Result<Option<Record>, sqlx::Error>;
    /// Inserts `record` (its values as `values`, its binding as `bound`) unless a session live
    /// at `now` holds the key.
    async fn create(
        &self,
        key: &Key,
        record: &Record,
        values: &Writes<'_>,
        bound: Option<&Bound>,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// Changes the session live at `now`, within `limit` bytes; a session changed into the past
    /// is removed.
    async fn change(
        &self,
        key: &Key,
        change: &Change<'_>,
        now: i64,
        limit: usize,
    ) -> Result<Outcome, sqlx::Error>;
    /// Sets the times of the session live at `now`.
    async fn touch(
        &self,
        key: &Key,
        last_active: i64,
        expires: i64,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
    /// Removes the session; whether it was live at `now`.
    async fn delete(&self, key: &Key, now: i64) -> Result<bool, sqlx::Error>;
    /// The sessions bound to `subject` live at `now` (one indexed query; rows that cannot be
    /// read are left out, logged).
    async fn list_subject(&self, subject: &str, now: i64)
    -> Result<Vec<BoundSession>, sqlx::Error>;
    /// Removes at most `batch` sessions expired at `now`; how many.
    async fn cleanup(&self, now: i64, batch: u32) -> Result<u64, sqlx::Error>;
    /// Creates or upgrades the schema in one transaction; `Err(found)` (nothing changed) for a
    /// schema newer than this build's.
    async fn migrate(&self, names: &Names, now: i64) -> Result<Result<(), i64>, sqlx::Error>;
}

/// A backend with its names and options: everything a store holds.
pub(crate) struct Core<B> {
    pub(crate) backend: B,
    pub(crate) names: Names,
    pub(crate) options: Options,
}

impl<B: Backend> Core<B> {
    /// The store's time, as the statements take it.
    fn now(&self) -> i64 {
        millis(self.options.clock.now())
    }

    /// Runs `op` within the time-out, naming it in the error.
    async fn bounded<T>(
        &self,
        op: &'static str,
        future: impl Future<Output = Result<T, sqlx::Error>>,
    ) -> Result<T, SqlStoreError> {
        common::bounded(self.options.timeout, op, async {
            future.await.map_err(SqlStoreError::database(op))
        })
        .await
    }

    fn written(&self, outcome: Outcome) -> Result<bool, StoreError> {
        match outcome {
            Outcome::Absent => Ok(false),
            Outcome::Written => Ok(true),
            Outcome::TooLarge(size) => Err(SqlStoreError::TooLarge {
                size,
                limit: self.options.max_record_bytes,
            }
            .into()),
        }
    }

    /// Not bounded by the time-out: a migration may take long, and waits for another process's.
    pub(crate) async fn migrate(&self) -> Result<i64, SqlStoreError> {
        let outcome = self
            .backend
            .migrate(&self.names, self.now())
            .await
            .map_err(SqlStoreError::database("migrate"))?;
        match outcome {
            Ok(()) => Ok(crate::schema::latest_version(B::DIALECT)),
            Err(found) => Err(SqlStoreError::SchemaTooNew {
                found,
                supported: crate::schema::latest_version(B::DIALECT),
            }),
        }
    }

    /// Cleanup statements until one removes fewer than a batch; how many in all. Each statement
    /// is bounded by the time-out, not the whole.
    pub(crate) async fn delete_expired(&self) -> Result<u64, SqlStoreError> {
        let now = self.now();
        let batch = self.options.cleanup_batch;
        let mut removed = 0;
        loop {
            let done = self
                .bounded("cleanup", self.backend.cleanup(now, batch))
                .await?;
            removed += done;
            if done < u64::from(batch) {
                return Ok(removed);
            }
            // Let the requests waiting on the database go first.
            tokio::task::yield_now().await;
        }
    }

    pub(crate) async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let load = self
            .backend
            .load(key, self.now(), self.options.max_record_bytes);
        Ok(self.bounded("load", load).await?)
    }

    pub(crate) async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let values = Writes::from_record(record);
        common::check_size(values.set_size(), self.options.max_record_bytes)?;
        let now = self.options.clock.now();
        if record.is_expired(now) {
            // Dead on arrival: nothing to keep.
            return Ok(true);
        }
        let bound = Bound::of(record)?;
        let create = self
            .backend
            .create(key, record, &values, bound.as_ref(), millis(now));
        Ok(self.bounded("create", create).await?)
    }

    pub(crate) async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let limit = self.options.max_record_bytes;
        let change = Change::save(record);
        common::check_size(change.writes.set_size(), limit)?;
        let outcome = self
            .bounded("save", self.backend.change(key, &change, self.now(), limit))
            .await?;
        self.written(outcome)
    }

    pub(crate) async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        if changes.is_touch() {
            return self.touch(key, changes.last_active, changes.expires).await;
        }
        let limit = self.options.max_record_bytes;
        let change = Change::apply(changes);
        // The values set are all in the session afterwards: when they alone pass the limit, the
        // database need not see them.
        common::check_size(change.writes.set_size(), limit)?;
        let outcome = self
            .bounded(
                "apply",
                self.backend.change(key, &change, self.now(), limit),
            )
            .await?;
        self.written(outcome)
    }

    pub(crate) async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        let now = self.options.clock.now();
        if expires <= now {
            // Extended into the past: the session is over.
            return self.delete(key).await;
        }
        let touch = self
            .backend
            .touch(key, millis(last_active), millis(expires), millis(now));
        Ok(self.bounded("touch", touch).await?)
    }

    pub(crate) async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let delete = self.backend.delete(key, self.now());
        Ok(self.bounded("delete", delete).await?)
    }

    pub(crate) async fn list_subject(
        &self,
        subject: &str,
    ) -> Result<Vec<BoundSession>, StoreError> {
        let list = self.backend.list_subject(subject, self.now());
        Ok(self.bounded("list_subject", list).await?)
    }
}

/// Spawns a task running `core`'s cleanup every `every` (first after one period), logging
/// failures.
pub(crate) fn spawn_cleanup<B: Backend>(
    core: std::sync::Arc<Core<B>>,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    let every = every.max(Duration::from_millis(1));
    tokio::spawn(async move {
        let start = tokio::time::Instant::now() + every;
        let mut ticks = tokio::time::interval_at(start, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match core.delete_expired().await {
                Ok(removed) => tracing::debug!(removed, "expired sessions removed"),
                Err(error) => tracing::warn!(%error, "removing expired sessions failed"),
            }
        }
    })
}

/// The methods a store type `$store` (a struct with `inner: Arc<Core<_>>`) shares with the other:
/// `table`, `migrate`, `delete_expired`, `spawn_cleanup`, and its `Store` implementation.
macro_rules! sql_store {
    ($store:ident, $builder:ident) => {
        impl $store {
            /// The sessions table, as given (`schema.table` with a schema).
            pub fn table(&self) -> &str {
                &self.inner.names.plain
            }

            /// Creates or upgrades the store's tables, in one transaction, recorded in
            /// `<table>_migrations`; returns the version the tables are at.
            ///
            /// Safe to run at every start and from several processes at once (they take turns).
            /// It never touches sqlx's own `_sqlx_migrations` table.
            ///
            /// # Errors
            ///
            /// [`SqlStoreError::SchemaTooNew`](crate::SqlStoreError::SchemaTooNew) if a newer
            /// version of this crate migrated the tables;
            /// [`SqlStoreError::Database`](crate::SqlStoreError::Database) if a statement fails
            /// (nothing is then changed).
            pub async fn migrate(&self) -> Result<i64, crate::SqlStoreError> {
                self.inner.migrate().await
            }

            /// Removes every expired session, in statements of at most
            #[doc = concat!("[`cleanup_batch`](", stringify!($builder), "::cleanup_batch)")]
            /// sessions each; returns how many were removed.
            ///
            /// Expired sessions are never loaded, so this only reclaims space; run it now and
            /// then ([`spawn_cleanup`](Self::spawn_cleanup) does).
            ///
            /// # Errors
            ///
            /// [`SqlStoreError::Database`](crate::SqlStoreError::Database) or
            /// [`Timeout`](crate::SqlStoreError::Timeout) if a statement fails (the sessions
            /// removed before stay removed).
            pub async fn delete_expired(&self) -> Result<u64, crate::SqlStoreError> {
                self.inner.delete_expired().await
            }

            /// Spawns a Tokio task that runs [`delete_expired`](Self::delete_expired) every
            /// `every` (the first run after one period), logging failures; abort the handle to
            /// stop it.
            ///
            /// # Panics
            ///
            /// Outside a Tokio runtime.
            pub fn spawn_cleanup(&self, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
                crate::shared::spawn_cleanup(std::sync::Arc::clone(&self.inner), every)
            }
        }

        impl std::fmt::Debug for $store {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($store))
                    .field("table", &self.inner.names.plain)
                    .field("options", &self.inner.options)
                    .finish_non_exhaustive()
            }
        }

        #[async_trait::async_trait]
        impl session_core::store::Store for $store {
            async fn load(
                &self,
                key: &session_core::store::Key,
            ) -> Result<Option<session_core::store::Record>, session_core::store::StoreError> {
                self.inner.load(key).await
            }

            async fn create(
                &self,
                key: &session_core::store::Key,
                record: &session_core::store::Record,
            ) -> Result<bool, session_core::store::StoreError> {
                self.inner.create(key, record).await
            }

            async fn save(
                &self,
                key: &session_core::store::Key,
                record: &session_core::store::Record,
            ) -> Result<bool, session_core::store::StoreError> {
                self.inner.save(key, record).await
            }

            async fn delete(
                &self,
                key: &session_core::store::Key,
            ) -> Result<bool, session_core::store::StoreError> {
                self.inner.delete(key).await
            }

            async fn apply(
                &self,
                key: &session_core::store::Key,
                changes: &session_core::store::Changes,
            ) -> Result<bool, session_core::store::StoreError> {
                self.inner.apply(key, changes).await
            }

            async fn touch(
                &self,
                key: &session_core::store::Key,
                last_active: session_core::store::Timestamp,
                expires: session_core::store::Timestamp,
            ) -> Result<bool, session_core::store::StoreError> {
                self.inner.touch(key, last_active, expires).await
            }

            fn applies_atomically(&self) -> bool {
                true
            }

            fn lists_subjects(&self) -> bool {
                true
            }

            async fn list_subject(
                &self,
                subject: &str,
            ) -> Result<Vec<session_core::subject::BoundSession>, session_core::store::StoreError>
            {
                self.inner.list_subject(subject).await
            }
        }
    };
}
pub(crate) use sql_store;
