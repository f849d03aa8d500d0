//! What the in-process examples share: the counter routes, ours and tower-sessions', and one
//! request through a router, as a browser sends it.

use std::convert::Infallible;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response, StatusCode, header};
use session_benches::filler;
use tower::{Service, ServiceExt};

async fn counter(session: session_tower::Session) -> Result<String, session_tower::Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok(n.to_string())
}

async fn read(session: session_tower::Session) -> Result<String, session_tower::Error> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    Ok(n.to_string())
}

/// `GET /fill/N/BYTES`: N more values (`v0`, `v1`, ...) of BYTES characters each, for a large
/// session.
async fn fill(
    session: session_tower::Session,
    axum::extract::Path((count, bytes)): axum::extract::Path<(usize, usize)>,
) -> Result<String, session_tower::Error> {
    for (key, value) in filler(count, bytes) {
        session.insert(&key, value).await?;
    }
    Ok("0".into())
}

/// Our routes (`/untouched`, `/read`, `/rmw`), for a `SessionLayer` to wrap.
pub(crate) fn ours() -> Router {
    Router::new()
        .route("/untouched", get(|| async { "ok" }))
        .route("/read", get(read))
        .route("/rmw", get(counter))
        .route("/fill/{count}/{bytes}", get(fill))
}

/// The same routes on tower-sessions' `Session`, for a `SessionManagerLayer` to wrap.
pub(crate) fn theirs() -> Router {
    use tower_sessions::Session;

    fn failed(_: tower_sessions::session::Error) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }
    async fn counter(session: Session) -> Result<String, StatusCode> {
        let n: u64 = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        session.insert("counter", n + 1).await.map_err(failed)?;
        Ok(n.to_string())
    }
    async fn read(session: Session) -> Result<String, StatusCode> {
        let n: u64 = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        Ok(n.to_string())
    }
    async fn fill(
        session: Session,
        axum::extract::Path((count, bytes)): axum::extract::Path<(usize, usize)>,
    ) -> Result<String, StatusCode> {
        for (key, value) in filler(count, bytes) {
            session.insert(&key, value).await.map_err(failed)?;
        }
        Ok("0".into())
    }
    Router::new()
        .route("/untouched", get(|| async { "ok" }))
        .route("/read", get(read))
        .route("/rmw", get(counter))
        .route("/fill/{count}/{bytes}", get(fill))
}

/// Sends one request to `app`, reading its body; the `Set-Cookie` pair, if any.
pub(crate) async fn send<S>(app: &S, path: &str, cookie: Option<&str>) -> Option<String>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let mut request = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Body::empty()).expect("request");
    let response = match app.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    set_cookie
}
