//! session-store-sqlx's integration tests against real databases: PostgreSQL servers of their own
//! (`testing::PostgresServer`, one per test, on a free loopback port) and SQLite files in
//! temporary directories. One test binary with a module per concern.
//!
//! - [`conformance`]: the conformance kit (its property and concurrency checks included) and
//!   Plack's scenarios, on both databases.
//! - [`layout`]: what the stores write: rows keyed by the id's digest, values byte for byte.
//! - [`expiry`]: expiry judged by the store's clock; the cleanup in batches.
//! - [`migrate`]: the schema, its version table, names, several migrations at once.
//! - [`damaged`]: rows the stores cannot read, written by hand.
//! - [`size`]: the record size limit.
//! - [`sqlite_file`]: the database file's mode, WAL, two pools writing at once.
//! - [`faults`]: PostgreSQL stopped and started again.
//! - [`hardening`]: cancelled writes, migrations without DDL rights, row locks held elsewhere,
//!   REPEATABLE READ, a damaged version table.
//! - [`pg_server`]: the throwaway PostgreSQL server itself.
//! - [`subjects`]: sessions per subject: the columns, expiry and cleanup, damaged bindings.
//! - [`upgrade`]: databases at schema version 1, with sessions, upgraded to 2; version 1's
//!   statements (a process of the old release) against the upgraded tables.
//! - [`v1`]: version 1's schema and statements, frozen.
//! - [`common`]: stores on fresh databases, raw queries, keys and records.

mod common;
mod conformance;
mod damaged;
mod expiry;
mod faults;
mod hardening;
mod layout;
mod migrate;
mod pg_server;
mod size;
mod sqlite_file;
mod subjects;
mod upgrade;
mod v1;
