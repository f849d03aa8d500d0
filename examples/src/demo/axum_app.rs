//! The demo on axum.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery};
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, USER_AGENT};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use session_tower::extras::{Csrf, Flash};
use session_tower::{Session, SessionLayer};

use super::Serving;
use super::routes::{self, Answer};
use super::stream::{Chunks, StreamOptions};

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

/// `GET /` and `POST /` (a form posted from another site, in the browser tests): the counter.
async fn counter(s: Session) -> Response {
    reply(routes::counter(&s).await)
}

/// The demo's routes on axum, without the session layer.
pub fn router() -> Router<()> {
    Router::new()
        .route("/", get(counter).post(counter))
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
            "/login/{name}",
            get(
                |s: Session, Path(name): Path<String>, headers: HeaderMap| async move {
                    let agent = headers.get(USER_AGENT).and_then(|v| v.to_str().ok());
                    reply(routes::login_as(&s, &name, agent).await)
                },
            ),
        )
        .route(
            "/sessions",
            get(|s: Session| async move { reply(routes::sessions(&s).await) }),
        )
        .route(
            "/revoke/{handle}",
            get(|s: Session, Path(handle): Path<String>| async move {
                reply(routes::revoke(&s, &handle).await)
            }),
        )
        .route(
            "/logout-everywhere",
            get(|s: Session| async move { reply(routes::logout_everywhere(&s).await) }),
        )
        .route(
            "/logout-others",
            get(|s: Session| async move { reply(routes::logout_others(&s).await) }),
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
            "/flash/{text}",
            get(|f: Flash, Path(text): Path<String>| async move {
                match routes::flash(&f, &text).await {
                    Ok(()) => Redirect::to(routes::FLASHES).into_response(),
                    Err(error) => session_tower::Error::from(error).into_response(),
                }
            }),
        )
        .route(
            "/flashes",
            get(|f: Flash| async move { reply(routes::flashes(&f).await) }),
        )
        .route(
            "/csrf",
            get(|c: Csrf| async move { reply(routes::csrf(&c).await) }),
        )
        .route(
            "/csrf-check",
            get(|c: Csrf, headers: HeaderMap| async move {
                let submitted = headers.get(routes::CSRF_HEADER).map(|v| v.as_bytes());
                reply(routes::csrf_check(&c, submitted).await)
            }),
        )
        .route(
            "/fail",
            get(|s: Session| async move { reply(routes::fail(&s).await) }),
        )
        .route(
            "/id",
            get(|s: Session| async move { reply(routes::id(&s).await) }),
        )
        .route(
            "/stream",
            get(|s: Session, RawQuery(q): RawQuery| async move {
                let options = StreamOptions::from_query(q.as_deref().unwrap_or(""));
                let chunks = Chunks::new((*s).clone(), options);
                (
                    [(CONTENT_TYPE, "text/plain; charset=utf-8")],
                    Body::from_stream(chunks),
                )
            }),
        )
        .route(
            "/remember",
            get(|s: Session| async move { reply(routes::remember(&s).await) }),
        )
        .route(
            "/cookie",
            get(|s: Session, RawQuery(q): RawQuery| async move {
                reply(routes::cookie_options(&s, q.as_deref().unwrap_or("")).await)
            }),
        )
}

/// Serves the demo on `listener` with `engine`.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    engine: session_core::Engine,
) -> std::io::Result<Serving> {
    let app = router().layer(SessionLayer::from(engine));
    Ok(Box::pin(async move { axum::serve(listener, app).await }))
}
