//! The demo on axum.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use session_core::{Engine, EngineBuilder, Lifetime, MemoryStore, ParamState, State, Store};
use session_state_cookie::CookieState;
use session_store_null::NullStore;
use session_tower::{Session, SessionLayer};

use super::args::{Args, StateKind, StoreKind};
use super::routes::{self, Answer};

fn reply(answer: Result<Answer, session_core::Error>) -> Response {
    match answer {
        Ok((status, body)) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        )
            .into_response(),
        Err(error) => session_tower::Error::from(error).into_response(),
    }
}

/// The demo's routes on axum, without the session layer.
pub fn router() -> Router<()> {
    Router::new()
        .route(
            "/",
            get(|s: Session| async move { reply(routes::counter(&s).await) }),
        )
        .route(
            "/set/{key}/{value}",
            get(
                |s: Session, Path((k, v)): Path<(String, String)>| async move {
                    reply(routes::set(&s, &k, &v).await)
                },
            ),
        )
        .route(
            "/get/{key}",
            get(
                |s: Session, Path(k): Path<String>| async move { reply(routes::get(&s, &k).await) },
            ),
        )
        .route(
            "/login",
            get(|s: Session| async move { reply(routes::login(&s).await) }),
        )
        .route(
            "/logout",
            get(|s: Session| async move { reply(Ok(routes::logout(&s))) }),
        )
        .route(
            "/nostore",
            get(|s: Session| async move { reply(routes::nostore(&s).await) }),
        )
        .route(
            "/static",
            get(|| async { reply(Ok(routes::static_page())) }),
        )
        .route(
            "/fail",
            get(|s: Session| async move { reply(routes::fail(&s).await) }),
        )
        .route(
            "/id",
            get(|s: Session| async move { reply(routes::id(&s).await) }),
        )
}

/// The engine builder for the chosen state and store, with the chosen timeouts applied.
pub fn engine_builder(args: &Args) -> Result<EngineBuilder, String> {
    let state: Arc<dyn State> = match args.state {
        StateKind::Cookie => {
            let mut builder = CookieState::builder().secure(args.secure);
            if let Some(name) = &args.session_key {
                builder = builder.name(name);
            }
            Arc::new(
                builder
                    .build()
                    .map_err(|e| format!("cookie settings: {e}"))?,
            )
        }
        StateKind::Param => Arc::new(match &args.session_key {
            Some(name) => ParamState::new(name).map_err(|e| e.to_string())?,
            None => ParamState::default(),
        }),
    };
    let store: Arc<dyn Store> = match args.store {
        StoreKind::Memory => Arc::new(MemoryStore::default()),
        StoreKind::Null => Arc::new(NullStore),
    };
    Ok(configure(state, store, args))
}

fn configure<St: State, S: Store>(state: St, store: S, args: &Args) -> EngineBuilder {
    let mut builder = Engine::builder(state, store);
    if let Some(idle) = args.idle_timeout {
        builder = builder.lifetime(Lifetime::browser_session(idle));
    }
    if let Some(cap) = args.absolute_timeout {
        builder = builder.absolute_timeout(cap);
    }
    builder
}

/// Serves the demo on `listener` with the engine `args` describe.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    args: &Args,
) -> std::io::Result<impl Future<Output = std::io::Result<()>> + Send + use<>> {
    let engine = engine_builder(args).map_err(std::io::Error::other)?.build();
    let app = router().layer(SessionLayer::from(engine));
    Ok(async move { axum::serve(listener, app).await })
}
