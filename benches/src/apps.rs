//! The end-to-end benches' apps: the same routes behind each project's sessions, in axum and in
//! actix-web.
//!
//! Every app serves:
//!
//! - `GET /`, the counter route: read `counter`, write `counter + 1`, answer
//!   [`hello(n)`](crate::load::hello);
//! - `GET /read`: read `counter`, write nothing, answer `hello(n)`;
//! - `GET /fill/{n}/{bytes}`: insert `n` more values from [`filler`], for a large session.
//!
//! The axum apps are routers for [`AxumServer`](crate::servers::AxumServer); the actix-web ones
//! are started servers, each on a system thread of its own.

use std::future::Future;

use actix_web::{App, web};
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use session_core::store::Store;
use session_state_cookie::CookieState;

use crate::actix_serve;
use crate::filler;
use crate::load::hello;
use crate::servers::ActixServer;

/// This project's `SessionLayer` (default `CookieState`) over `store`, in axum.
pub fn ours_axum(store: impl Store) -> Router {
    use session_tower::{Error, Session, SessionLayer};

    async fn counter(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        session.insert("counter", n + 1).await?;
        Ok(hello(n))
    }

    async fn read(session: Session) -> Result<String, Error> {
        Ok(hello(session.get("counter").await?.unwrap_or(0)))
    }

    async fn fill(session: Session, Path((n, bytes)): Path<(usize, usize)>) -> Result<(), Error> {
        for (key, value) in filler(n, bytes) {
            session.insert(&key, value).await?;
        }
        Ok(())
    }

    Router::new()
        .route("/", get(counter))
        .route("/read", get(read))
        .route("/fill/{n}/{bytes}", get(fill))
        .layer(SessionLayer::new(CookieState::default(), store))
}

/// tower-sessions' `SessionManagerLayer` (defaults) over `store`, in axum.
pub fn tower_sessions_axum(store: impl tower_sessions::SessionStore + Clone) -> Router {
    use tower_sessions::{Session, SessionManagerLayer};

    fn failed(_: tower_sessions::session::Error) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    async fn counter(session: Session) -> Result<String, StatusCode> {
        let n: u64 = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        session.insert("counter", n + 1).await.map_err(failed)?;
        Ok(hello(n))
    }

    async fn read(session: Session) -> Result<String, StatusCode> {
        let n = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        Ok(hello(n))
    }

    async fn fill(
        session: Session,
        Path((n, bytes)): Path<(usize, usize)>,
    ) -> Result<(), StatusCode> {
        for (key, value) in filler(n, bytes) {
            session.insert(&key, value).await.map_err(failed)?;
        }
        Ok(())
    }

    Router::new()
        .route("/", get(counter))
        .route("/read", get(read))
        .route("/fill/{n}/{bytes}", get(fill))
        .layer(SessionManagerLayer::new(store))
}

/// This project's `SessionMiddleware` (default `CookieState`) in actix-web, over the store
/// `connect` makes on the server's system thread (as in an `#[actix_web::main]` application).
pub fn ours_actix<S, C, Fut>(connect: C) -> ActixServer
where
    S: Store,
    C: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = S> + 'static,
{
    use session_actix::{Error, Session, SessionMiddleware};

    async fn counter(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        session.insert("counter", n + 1).await?;
        Ok(hello(n))
    }

    async fn read(session: Session) -> Result<String, Error> {
        Ok(hello(session.get("counter").await?.unwrap_or(0)))
    }

    async fn fill(session: Session, path: web::Path<(usize, usize)>) -> Result<String, Error> {
        let (n, bytes) = path.into_inner();
        for (key, value) in filler(n, bytes) {
            session.insert(&key, value).await?;
        }
        Ok(String::new())
    }

    ActixServer::start(connect, |store, listener| {
        let middleware = SessionMiddleware::new(CookieState::default(), store);
        actix_serve!(listener, move || {
            App::new()
                .wrap(middleware.clone())
                .route("/", web::get().to(counter))
                .route("/read", web::get().to(read))
                .route("/fill/{n}/{bytes}", web::get().to(fill))
        })
    })
}

/// actix-session's `SessionMiddleware` (defaults, a fresh key) over its `RedisSessionStore` at
/// `url` (the redis crate 0.32, one `ConnectionManager`), in actix-web.
pub fn actix_session_redis(url: String) -> ActixServer {
    use actix_session::storage::RedisSessionStore;
    use actix_session::{Session, SessionMiddleware};

    async fn counter(session: Session) -> Result<String, actix_web::Error> {
        let n: u64 = session.get("counter")?.unwrap_or(0);
        session.insert("counter", n + 1)?;
        Ok(hello(n))
    }

    async fn read(session: Session) -> Result<String, actix_web::Error> {
        Ok(hello(session.get("counter")?.unwrap_or(0)))
    }

    async fn fill(
        session: Session,
        path: web::Path<(usize, usize)>,
    ) -> Result<String, actix_web::Error> {
        let (n, bytes) = path.into_inner();
        for (key, value) in filler(n, bytes) {
            session.insert(key, value)?;
        }
        Ok(String::new())
    }

    ActixServer::start(
        || async move {
            RedisSessionStore::new(url)
                .await
                .expect("RedisSessionStore connects")
        },
        |store, listener| {
            let key = actix_web::cookie::Key::generate();
            actix_serve!(listener, move || {
                App::new()
                    .wrap(SessionMiddleware::new(store.clone(), key.clone()))
                    .route("/", web::get().to(counter))
                    .route("/read", web::get().to(read))
                    .route("/fill/{n}/{bytes}", web::get().to(fill))
            })
        },
    )
}
