//! The demo server: one HTTP contract over every combination of framework, store and state.
//!
//! Routes: `GET /` (counter: `Hello, you've been here for Nth time!`), `/set/KEY/VALUE` (200 `ok`),
//! `/get/KEY` (200 value or 404), `/login` (new id, data kept, `user` set), `/logout` (expire),
//! `/nostore` (sets `nostore=1` with skip_store), `/static` (never touches the session), `/fail`
//! (writes `failed`, answers 500), `/id` (the session id, saving a new session first).

mod actix_app;
mod args;
mod axum_app;
mod engine;
mod routes;

pub use actix_app::routes as actix_routes;
pub use args::{Args, Framework, StateKind, StoreKind, USAGE};
pub use axum_app::router as axum_router;
pub use engine::{engine_builder, engine_builder_with};

use std::net::SocketAddr;
use std::pin::Pin;

use tokio::net::TcpListener;

/// A running server: a future that serves until it fails (or is dropped, for axum).
pub type Serving = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

/// Binds `args.addr` and returns the bound address with a future that serves.
pub async fn bind(args: &Args) -> std::io::Result<(SocketAddr, Serving)> {
    let listener = TcpListener::bind(args.addr).await?;
    let addr = listener.local_addr()?;
    let serve = match args.framework {
        Framework::Axum => axum_app::serve(listener, args)?,
        Framework::Actix => actix_app::serve(listener, args)?,
    };
    Ok((addr, serve))
}
