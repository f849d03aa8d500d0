#![cfg_attr(docsrs, feature(doc_cfg))]
// What the two stores share is used in part by each: built with one backend (or none), the
// other's part of it is unused.
#![cfg_attr(
    not(all(feature = "postgres", feature = "sqlite")),
    allow(dead_code, unused_imports, unused_macros)
)]
//! `session-store-sqlx`: HTTP sessions in PostgreSQL (many processes, many machines) or SQLite
//! (one machine, durable, nothing to run), through [`sqlx`] 0.8.
//!
//! - [`PgStore`] (feature `postgres`) takes the application's [`PgPool`](sqlx::PgPool).
//! - [`SqliteStore`] (feature `sqlite`) takes the application's
//!   [`SqlitePool`](sqlx::SqlitePool), or opens a database file with [`SqliteStore::open`].
//!
//! Both features are off by default and each pulls only its sqlx driver. The crate re-exports
//! [`sqlx`], so that the pool types match.
//!
//! # Example
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use session_core::{Engine, ParamState};
//! use session_store_sqlx::SqliteStore;
//!
//! let dir = tempfile::tempdir()?;
//! // Creates the file (mode 0600) in WAL mode and migrates the schema.
//! let store = SqliteStore::open(dir.path().join("sessions.db")).await?;
//! let _cleanup = store.spawn_cleanup(std::time::Duration::from_secs(600));
//! let engine = Engine::new(ParamState::default(), store);
//! # Ok::<_, Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! PostgreSQL, on the pool the application already has:
//!
//! ```no_run
//! # #[cfg(feature = "postgres")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use session_core::{Engine, ParamState};
//! use session_store_sqlx::PgStore;
//! use session_store_sqlx::sqlx::postgres::PgPoolOptions;
//!
//! let pool = PgPoolOptions::new()
//!     .max_connections(16)
//!     .test_before_acquire(false) // one round trip per call, not two
//!     .acquire_timeout(std::time::Duration::from_secs(5))
//!     .connect("postgres://app@db.internal/app")
//!     .await?;
//! let store = PgStore::builder(pool).schema("app").table("sessions").build()?;
//! store.migrate().await?; // creates or upgrades the tables, at every start
//! let _cleanup = store.spawn_cleanup(std::time::Duration::from_secs(600));
//! let engine = Engine::new(ParamState::default(), store);
//! # Ok(()) }
//! ```
//!
//! # Schema
//!
//! Two tables, named after the configured table (default [`DEFAULT_TABLE`], `sessions`), in the
//! configured schema (PostgreSQL; default: the connection's `search_path`):
//!
//! | table | columns | key |
//! |---|---|---|
//! | `sessions` | `id` (bytes), `created`, `last_active`, `expires` (milliseconds since the epoch), `lifetime` (JSON or `NULL`), `size`, `subject` and `binding` (bytes or `NULL`, see [Sessions per subject](#sessions-per-subject)) | `id`; indexes on `expires` and on `subject` (bound sessions only) |
//! | `sessions_values` | `session` (bytes), `name` (bytes), `value` (bytes: JSON text) | (`session`, `name`) |
//!
//! `id` is the SHA-256 digest of the session id that core computes: the raw id never reaches
//! the database, so a dump of it yields no usable cookie. A row per value is what lets `apply`
//! change single keys under concurrency, and names and values are bytes so that they round-trip
//! byte for byte: session keys may hold NUL characters, which PostgreSQL's `text` refuses, and
//! `jsonb` would rewrite `-0.0`, `1e300` or key order. `size` is the values' names and texts
//! in bytes, kept by every write, so that the size limit is checked without reading the
//! session. `<table>_migrations` records the schema versions applied ([`PgStore::migrate`],
//! [`SqliteStore::migrate`]); on PostgreSQL, the functions `<table>_create` and
//! `<table>_change` make each write one round trip, and on SQLite the triggers of the views
//! `<table>_creates` and `<table>_changes` (and `<table>_delete`, which deletes a session's
//! values with it) make each write one statement. Times are signed 64-bit milliseconds:
//! [`Timestamp`](session_core::store::Timestamp)'s whole range.
//!
//! Names are checked as plain identifiers ([`SqlStoreError::InvalidName`]) and quoted into the
//! statements once, when the store is built; no statement is ever built from request data, and
//! no `query!` macro is used (they need a database at build time).
//!
//! # Statements and round trips
//!
//! Every statement is a prepared statement (sqlx caches them per connection), with the store's
//! clock's time passed in: the database's clock is never read.
//!
//! | operation | PostgreSQL | SQLite |
//! |---|---|---|
//! | `load` | one `SELECT` (the session joined to its values) | one `SELECT` of one row (the session, its values packed into one column) |
//! | `create` | `SELECT <table>_create(...)`: insert if no live session holds the id, replace a dead one | one `INSERT INTO <table>_creates`, whose trigger does the same (the values passed as two JSON arrays of strings, names and texts) |
//! | `save`, `apply` | `SELECT ... FROM <table>_change(...)`: update the live row's times (which locks it), size the result from the changed values' old sizes, delete the removed values, upsert the set ones, update the size if it moved | one `INSERT INTO <table>_changes`, whose trigger does the same: check the session is live, update its times and size, check the limit, delete and upsert the values |
//! | `touch` | one `UPDATE ... WHERE expires > now` | the same |
//! | `list_subject` | one `SELECT ... WHERE subject = $1 AND expires > now`, on the `subject` index | the same |
//! | `delete` | one `DELETE ... RETURNING` (values go by `ON DELETE CASCADE`) | the same (values go by the trigger `<table>_delete`) |
//!
//! SQLite's load packs the values' bytes as text (`group_concat`, session-core's
//! [`pack_values`](session_core::store::pack_values) form), which is the bytes themselves only in
//! a UTF-8 database, SQLite's default: `migrate` refuses a database in another encoding, naming
//! it.
//!
//! A `save` or `apply` into the past (an expiry already passed) removes the session instead,
//! as `delete` does.
//!
//! So each call is one statement: on PostgreSQL one round trip once its statement is prepared
//! on the connection (the first use on each connection prepares it: one more); on SQLite one
//! transaction of SQLite's own (and, for a write, one `fsync` of the WAL with `synchronous =
//! FULL`). On SQLite, a change refused past the size limit runs one more `SELECT`, for the size
//! the error reports. sqlx pools check a
//! connection before handing it out by default (`test_before_acquire`), which costs a round
//! trip per call: turn it off for sessions (see "Pool sizing").
//!
//! # Guarantees
//!
//! - `apply` is atomic per session ([`Store::applies_atomically`] is `true`): on PostgreSQL the
//!   `_change` function's first statement updates the session's row, which locks it, and each of
//!   its later statements sees what was committed before the lock was granted; on SQLite, each
//!   write is one statement, which takes the database's write lock when it starts. Concurrent
//!   requests
//!   changing different keys of one session keep every write, also from several processes; of
//!   two writes to one key, the later commit wins.
//! - PostgreSQL's functions are written for `READ COMMITTED`, PostgreSQL's default isolation.
//!   Where the database or role defaults to `REPEATABLE READ` or `SERIALIZABLE`, concurrent
//!   changes of one session fail with a serialization error; the store tries such a call again
//!   (it changed nothing) until it lands or the time-out passes, so no write is lost, at the
//!   cost of retries under contention.
//! - A row lock is not waited for longer than the store's time-out: `_change` sets
//!   `lock_timeout` to three quarters of it (the server gives up before the client does), so a
//!   session locked by a long transaction elsewhere fails that call
//!   with [`StoreErrorKind::Timeout`](session_core::store::StoreErrorKind::Timeout), frees its
//!   connection, and the write does not land later. For the single statements (`load`,
//!   `touch`, `delete`), set `statement_timeout` on the pool's connections
//!   (`PgConnectOptions::options`) to bound the server side too.
//! - `create` is insert-if-absent; `save`, `apply` and `touch` of a deleted or expired session
//!   write nothing and answer `false`: nothing is resurrected.
//! - `load` never returns a session whose `expires` has passed on the store's clock; expired
//!   rows are removed by [`PgStore::delete_expired`] / [`SqliteStore::delete_expired`] in
//!   batches ([`cleanup_batch`](PgStoreBuilder::cleanup_batch)), on a timer with
//!   `spawn_cleanup`.
//! - A write past [`max_record_bytes`](PgStoreBuilder::max_record_bytes) fails with
//!   [`StoreErrorKind::TooLarge`](session_core::store::StoreErrorKind::TooLarge) and changes
//!   nothing.
//! - Rows this store cannot read (a value that is not JSON, a name that is not UTF-8, a negative
//!   time, a column of another type, values over the limit) load as no session, with a `warn`
//!   log naming the key's first hex digits; they are left in place for inspection.
//! - Every call is bounded by [`timeout`](PgStoreBuilder::timeout) (default
//!   [`DEFAULT_TIMEOUT`], 5 s), waiting for a pooled connection included; a failed or timed-out
//!   call is a [`StoreError`](session_core::store::StoreError) whose source is a
//!   [`SqlStoreError`]. While PostgreSQL is down, sqlx's pool keeps retrying a new connection
//!   until its `acquire_timeout` (default 30 s): each call then fails at the sooner of that and
//!   the store's time-out, so set `acquire_timeout` to the time a request may wait. When the
//!   database comes back, the same store works again (measured over HTTP in the tests: within
//!   30 ms of the restart).
//!
//! # Sessions per subject
//!
//! Both stores keep an index of bound sessions per subject
//! ([`Store::lists_subjects`] is `true`), so that the engine can list a user's sessions, revoke
//! one and log out everywhere ([`Subjects`](session_core::subject::Subjects)):
//!
//! - A bound session's row holds `subject`, the
//!   [`subject_key`](session_core::subject::subject_key) digest of its subject (32 bytes: the
//!   user id itself is never indexed), and `binding`, its
//!   [`Binding`](session_core::subject::Binding) as JSON (the subject, the handle, the time of
//!   the login, the user agent and address the application recorded: personal data, removed
//!   with the row). A partial index on `subject` holds the bound sessions only.
//! - `create` writes both with the row, in its one statement (PostgreSQL) or transaction
//!   (SQLite): a session is listed as soon as its `create` returned. `apply`, `touch` and `save`
//!   never change them (`save` replaces the values and times; the engine changes a binding only
//!   by creating a new record under a new key). `delete` and the cleanup remove them with the
//!   row: an entry never outlives its session, and there is nothing else to sweep.
//! - `list_subject` is one query on the index: `WHERE subject = $1 AND expires > now`.
//! - Unbound sessions cost what they cost before: their `subject` and `binding` are `NULL`
//!   (`create` passes two `NULL` parameters, `load` reads two `NULL` columns); they are not in
//!   the index; their row is the same size on PostgreSQL (the null bitmap of eight columns is
//!   one byte, within the header's alignment) and at most two bytes larger on SQLite.
//! - A binding that does not parse, is not one core could have made, or is not filed under its
//!   own subject makes the session damaged: `load` treats it as no session and the listing
//!   leaves it out, each with a `warn` log. The two agree, so a session left out of a listing
//!   can never be used (and "log out everywhere" misses no usable session), and one damaged row
//!   does not make a user's whole listing, and so their logout everywhere, fail.
//!
//! # Upgrading to schema version 2
//!
//! Sessions per subject came with schema version 2 (from version 1). This release's `migrate`
//! upgrades version 1 tables in one transaction: it adds the two nullable columns without a
//! default, which both databases record in their catalog only (no row is rewritten: the tests
//! check that the table keeps its file on PostgreSQL and its pages on SQLite), builds the
//! partial index (one read of the table, with no entry to write yet: 100,000 sessions took
//! about 0.1 s on each database in the tests), and on PostgreSQL replaces `<table>_create` by
//! one with two more parameters. On PostgreSQL the transaction holds the sessions table's
//! exclusive lock until it commits, so requests wait for that long.
//!
//! - Processes of the older release that are already running keep serving during and after
//!   the upgrade: their statements work on version 2 tables (the tests run version 1's own
//!   statements, prepared before the upgrade, on the upgraded tables). They load a bound session
//!   as an unbound one, keep its binding through their writes (they never write those columns),
//!   create unbound sessions (the new `<table>_create`'s two parameters default to `NULL`), and
//!   delete and clean up as before.
//! - A process of the older release that *starts* after the upgrade fails in `migrate`
//!   ([`SqlStoreError::SchemaTooNew`]), and so at startup if it migrates there, as the demo
//!   does. A process of this release cannot serve version 1 tables (its statements read the
//!   new columns): it must migrate first, which `migrate` at startup does.
//!
//! So, to roll out: deploy this release, whose first process upgrades the tables (or run its
//! `migrate` once from a deploy job with the rights to alter them, when the application's role
//! has none); from then on, start no process of the older release that calls `migrate`, and
//! finish the rollout forwards. There is no downgrade: to roll back, run the older release
//! without `migrate` (its statements work on version 2 tables). Sessions that logged in on a
//! process of the older release are not bound, so a user's listing and "log out everywhere"
//! do not reach them; where that matters, have users log in again once the rollout is done.
//!
//! # Upgrading SQLite to schema version 3
//!
//! On SQLite, schema version 3 makes each write one statement: `migrate` adds the views
//! `<table>_creates` and `<table>_changes` and the triggers `<table>_create`, `<table>_change`
//! and `<table>_delete`, in one transaction. No table or row is touched, so the upgrade takes
//! no time whatever the number of sessions. PostgreSQL stays at version 2.
//!
//! - Processes of the older release keep serving during and after the upgrade: their
//!   statements use the tables only. The one difference they meet is `<table>_delete`, which
//!   deletes the values of a session they delete, as they do themselves first.
//! - As for version 2, a process of the older release that *starts* after the upgrade fails in
//!   `migrate` ([`SqlStoreError::SchemaTooNew`]), and a process of this release needs the
//!   upgrade before it writes: roll out forwards, with this release's first process (or a
//!   deploy job) running `migrate`. To roll back, run the older release without `migrate`
//!   (and so without [`SqliteStore::open`], which migrates).
//!
//! # SQLite
//!
//! [`sqlite_pool`] (and [`SqliteStore::open`]) create the database file with mode 0600 if it is
//! missing (SQLite gives its `-wal` and `-shm` files the database file's mode; an existing file
//! keeps its mode) and open it in WAL mode with a busy time-out of [`SQLITE_BUSY_TIMEOUT`]
//! (shorter than the store's time-out) and `synchronous = FULL`. Every write is one statement
//! that writes, which takes the database's write lock when it starts (waiting for another
//! process's writer up to the busy time-out) rather than failing on a read-to-write upgrade, so
//! two processes on one file wait for each other instead of failing with `SQLITE_BUSY`; being
//! one statement, it is one transaction that SQLite ends whatever happens to the call (a
//! cancelled call never leaves a connection in the pool inside a transaction). Within a
//! process, the store's writers take turns before they reach SQLite, whose busy handler sleeps
//! between retries. A pool of the application's own needs the same settings (sqlx's default
//! busy time-out is 5 s). SQLite 3.45 or later (`RETURNING`, and JSON functions that keep a NUL
//! inside a string): `migrate` refuses an older one, naming its version. The one sqlx bundles
//! (3.46) is; one linked from the system (libsqlite3-sys with `LIBSQLITE3_SYS_USE_PKG_CONFIG`)
//! may not be.
//!
//! # Pool sizing, TLS, PgBouncer
//!
//! - **Pool sizing.** A request holds a connection for one statement (a load, then its commit),
//!   not for the whole request: a pool of a few connections per core serves many concurrent
//!   requests. `SqliteStore` writes on a connection of its own, opened with the pool's connect
//!   options (its pragmas; not the pool's `after_connect` hooks), one write at a time (SQLite
//!   writes one at a time anyway): its writers wait for their turn holding none of the pool's
//!   connections, which serve the loads and the application's own queries. Turn `test_before_acquire` off
//!   ([`PgPoolOptions::test_before_acquire`](sqlx::pool::PoolOptions::test_before_acquire))
//!   to save a round trip per call; a broken connection then fails one call and is replaced.
//!   The store's `timeout` covers the wait for a connection, so a starved pool answers a 500
//!   rather than hanging.
//! - **TLS.** This crate turns on no TLS backend. Add sqlx to your own `Cargo.toml` with
//!   `tls-rustls` (or `tls-native-tls`) and set `sslmode` in the URL; Cargo unifies the features.
//! - **PgBouncer.** In transaction mode, named prepared statements need PgBouncer 1.21 or later
//!   with `max_prepared_statements` set; with an older PgBouncer, connect to PostgreSQL directly
//!   for sessions. Every call is one statement or one transaction, so transaction pooling is
//!   otherwise fine.
//!
//! # Rights, versions, clocks
//!
//! - `migrate` needs the rights to create the schema, tables and functions (and the schema
//!   itself) when the tables are missing or behind; once they are current it only reads the
//!   version table, so the application's role can run it at every start with `SELECT`,
//!   `INSERT`, `UPDATE` and `DELETE` on the tables (and `USAGE` on the schema).
//! - PostgreSQL 11 or later (`hashtextextended`); tested on 15.
//! - A newer build's schema is refused (`SchemaTooNew`) by an older build's `migrate`: see
//!   [Upgrading to schema version 2](#upgrading-to-schema-version-2) for the order of a rollout.
//! - Expiry is judged by each application server's clock: keep the servers' clocks
//!   synchronised (NTP), or a server whose clock lags can extend a session that another server
//!   already treats as expired.
//!
//! # Cleanup and vacuum
//!
//! Expired sessions are never loaded but stay until a cleanup removes them: run
//! `spawn_cleanup(every)` in one process (several is harmless: `FOR UPDATE SKIP LOCKED` keeps
//! them apart on PostgreSQL). Each statement removes at most `cleanup_batch` sessions, so no
//! statement holds locks for long. Every write changes the session row's `expires`, which is
//! indexed, so those updates are not PostgreSQL's cheap in-place (HOT) updates: the table and
//! its indexes churn, and autovacuum must keep up (lower `autovacuum_vacuum_scale_factor` on the
//! sessions table for a busy site); value updates that keep their size are HOT. Autovacuum
//! reclaims the dead rows; on SQLite the file keeps its size (freed pages are reused), and
//! `VACUUM` shrinks it when the application is idle.
//!
//! # Which store
//!
//! - **SQLite**: one machine, sessions that survive restarts, nothing to run or back up beyond a
//!   file. Writes are serialized per database.
//! - **Files** (`session-store-file`): one machine, a file per session, no SQL; many writers to
//!   different sessions never wait for each other.
//! - **PostgreSQL**: several processes or machines, when the application already runs it: one
//!   system to back up and monitor, transactions, durability.
//! - **Redis** (`session-store-redis`): several machines, the fastest shared store, when a Redis
//!   is there anyway; durability depends on its persistence settings.
//!
//! # Testing
//!
//! The `testing` feature (for tests only) adds `testing::PostgresServer`, a throwaway PostgreSQL
//! server (Debian's `initdb` and `pg_ctl`) on a free loopback port, removed on drop.
//!
//! [`Store::applies_atomically`]: session_core::store::Store::applies_atomically
//! [`Store::lists_subjects`]: session_core::store::Store::lists_subjects

mod common;
mod error;
mod names;
#[cfg(feature = "postgres")]
mod postgres;
mod schema;
mod shared;
#[cfg(feature = "sqlite")]
mod sqlite;
mod subjects;
#[cfg(feature = "testing")]
pub mod testing;

pub use common::{DEFAULT_CLEANUP_BATCH, DEFAULT_TIMEOUT};
pub use error::SqlStoreError;
pub use names::{DEFAULT_TABLE, MAX_TABLE_NAME};
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PgStoreBuilder};
#[cfg(feature = "sqlite")]
pub use sqlite::{SQLITE_BUSY_TIMEOUT, SqliteStore, SqliteStoreBuilder, sqlite_pool};
pub use sqlx;
