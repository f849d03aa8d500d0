//! The workspace-level HTTP tests (see the `session_tests` library), one test binary with a module
//! per concern; most scenarios run on both adapters (`on_axum::…`, `on_actix::…`).
//!
//! - The demo's contract per store: [`demo`] (memory), [`cache_store`], [`file_store`],
//!   [`redis_store`], [`redis_cluster`] (a Redis Cluster), [`sql_store`] (PostgreSQL and
//!   SQLite), [`sealed`]; expiry on a manual clock: [`expiry`], [`sealed_expiry`].
//! - The demo as its binary serves it: [`bind`]; other configurations: [`variants`]; the id in a
//!   request header: [`header_state`]; flash messages and CSRF tokens: [`extras`].
//! - Plack's nine steps (over every store): [`plack`], [`sealed_plack`]; login and logout:
//!   [`login`]; sessions per user (list, revoke, log out everywhere) on every store: [`per_user`].
//! - Hostile ids and cookies: [`hostile`], [`sealed_hostile`]; cookie tossing: [`tossing`].
//! - Both adapters side by side: [`parity`]; streaming bodies and cookie options: [`streaming`];
//!   late store through each adapter in process, the scenarios they share written once: [`late`].
//! - Fault injection: [`faults`]; Redis going down under load: [`redis_fault`];
//!   a Redis Cluster master failing over under load: [`redis_cluster_failover`]; PostgreSQL
//!   going down under load: [`postgres_fault`]; the Redis store's record size limit:
//!   [`redis_record_size`]; a logout in a handler that panics or whose request is dropped:
//!   [`abandoned`].
//! - Demo server processes of their own: [`file_store_processes`], [`redis_store_processes`], [`redis_client_cache_processes`],
//!   [`sql_store_processes`], the load soak, [`soak`], and the memory store's size bound under a
//!   flood of new sessions, [`memory_bound`].
//!
//! The process tests run this binary again as the demo server, through an ignored entry point of
//! their module selected by its full name (`soak::demo_server_process`, ...; see
//! `session_tests::process`).

mod abandoned;
mod bind;
mod cache_store;
mod demo;
mod expiry;
mod extras;
mod faults;
mod file_store;
mod file_store_processes;
mod header_state;
mod hostile;
mod late;
mod login;
mod memory_bound;
mod parity;
mod per_user;
mod plack;
mod postgres_fault;
mod redis_cluster;
mod redis_cluster_failover;
mod redis_fault;
mod redis_record_size;
mod redis_store;
mod redis_client_cache_processes;
mod redis_store_processes;
mod sealed;
mod sealed_expiry;
mod sealed_hostile;
mod sealed_plack;
mod soak;
mod sql_store;
mod sql_store_processes;
mod streaming;
mod tossing;
mod variants;
