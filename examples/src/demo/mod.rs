//! The demo server: one HTTP contract over every combination of framework, store and state.
//!
//! Routes: `GET /` (counter: `Hello, you've been here for Nth time!`; `POST /` too, for a form posted
//! from another site), `/set/KEY/VALUE` (200 `ok`),
//! `/get/KEY` (200 value or 404), `/login` (new id, data kept, `user` set), `/logout` (expire),
//! `/nostore` (sets `nostore=1` with skip_store), `/static` (never touches the session), `/fail`
//! (writes `failed`, answers 500), `/id` (the session id, saving a new session first),
//! `/stream` (three chunks `one`, `two`, `three`, setting `streamed=1` after the first, with late
//! store; `?late=off` without it, `?pause_ms=N` to pause before the last chunk), `/remember` (the
//! cookie becomes persistent for 30 days; sets `remembered=1`), `/cookie?path=P&domain=D&
//! partitioned=true` (this response's cookie gets those attributes; sets `scoped=1`),
//! `/flash/TEXT` (pushes a flash message, answers a 303 to `/flashes`), `/flashes` (the pending
//! flash messages, one per line, then gone), `/csrf` (the session's CSRF token), `/csrf-check`
//! (200 when the `x-csrf-token` header is the token, 403 otherwise). Sessions per user: see
//! `--sessions-per-user`.
//!
//! States: `--state cookie|param|header|header-or-cookie` (`--session-header NAME` for the
//! header, default `x-session-id`). The cookie: `--session-key NAME`, `--secure true|false`,
//! `--same-site lax|strict|none` (default `Lax`).
//!
//! Stores: `--store memory|null|file|cache|cookie|redis|redis-cluster|postgres|sqlite`. `--store
//! redis --redis-url URL` keeps sessions in Redis under `--redis-prefix` (default `demo:`), and
//! `--store redis-cluster --redis-nodes URL,URL...` in a Redis Cluster; it connects when the server
//! starts, so a Redis that cannot be reached then is a start-up error (the binary prints it and
//! exits with a failure status) rather than a server that fails every request. After that the
//! store reconnects by itself: while Redis is down, routes that use the session answer a bare
//! 500 and `/static` keeps answering. `--store postgres --database-url URL` and `--store sqlite
//! --database PATH` keep sessions in SQL tables named after `--db-table` (default `sessions`),
//! connected and migrated at start in the same way.

mod actix_app;
mod args;
mod axum_app;
mod engine;
mod routes;
mod stream;

pub use actix_app::routes as actix_routes;
pub use args::{
    Args, DEFAULT_REDIS_PREFIX, DEFAULT_STORE_TIMEOUT, Framework, Revocations, StateKind,
    StoreKind, USAGE,
};
pub use axum_app::router as axum_router;
pub use engine::{engine_builder, engine_builder_async, engine_builder_with};

use std::net::SocketAddr;
use std::pin::Pin;

use tokio::net::TcpListener;

/// A running server: a future that serves until it fails (or is dropped, for axum).
pub type Serving = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// Builds the engine `args` describe, binds `args.addr`, and returns the address and the server.
///
/// Connects to Redis or the database first for `--store redis`, `postgres` and `sqlite`. The server is a future that serves.
///
/// Fails with an error of kind `Other` whose message says what is wrong when the options do not
/// make an engine (a bad cookie name, `--store redis` and Redis cannot be reached, ...).
pub async fn bind(args: &Args) -> std::io::Result<(SocketAddr, Serving)> {
    let engine = engine_builder_async(args, None, None)
        .await
        .map_err(std::io::Error::other)?
        .build();
    let listener = TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let serve = match args.framework {
        Framework::Axum => axum_app::serve(listener, engine)?,
        Framework::Actix => actix_app::serve(listener, engine)?,
    };
    Ok((addr, serve))
}
