//! The tower adapter in process (no sockets): three routes, each served three ways.
//!
//! By a bare router, by this project's `SessionLayer`, and by tower-sessions.
//!
//! - `untouched`: the handler never touches the session (a static page behind the layer).
//! - `read`: the handler reads `counter` from an existing session and returns it.
//! - `rmw`: the quick start's counter: read `counter`, write `counter + 1`.
//!
//! The session stores are in memory: each project's `MemoryStore` (`ours`, `tower-sessions`), and
//! each project's moka store (`ours-cache`: `session-store-cache`'s `CacheStore`;
//! `tower-sessions-moka`: tower-sessions-moka-store's `MokaStore`), both bounded to 100 000
//! sessions. `read` is the read-heavy workload and `rmw` the write-heavy one.
//!
//! Besides these contenders, `noop-layer` is the bare router behind a layer that does nothing:
//! the part of any layer's overhead that axum itself adds; and `ours-outer` is this project's layer
//! around the whole router instead of around each route.
//!
//! Every request carries the cookie of a session created once in setup, and every response body is
//! read to the end, so all the work a server would do (minus the sockets) is counted. Criterion
//! reports `GROUP/CONTENDER`, e.g. `rmw/ours`; the overhead of a session layer is its time minus
//! `GROUP/bare` in the same run.
//!
//! Run with `cargo bench -p session-benches --bench tower`.

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::get;
use criterion::Criterion;
use http::header::{COOKIE, SET_COOKIE};
use std::convert::Infallible;

use http::{HeaderValue, Request, Response, Uri};
use tokio::runtime::Runtime;
use tower::Service;
use tower::ServiceExt;

/// The three workloads, as (criterion group, request path).
const WORKLOADS: [(&str, &str); 3] = [
    ("untouched", "/untouched"),
    ("read", "/read"),
    ("rmw", "/rmw"),
];

/// What the untouched route answers, for every contender.
const STATIC_PAGE: &str = "a page that never looks at the session";

/// The bare handlers: no session layer.
///
/// `read` and `rmw` do the same formatting work without a session.
fn bare() -> Router {
    Router::new()
        .route("/untouched", get(|| async { STATIC_PAGE }))
        .route("/read", get(|| async { black_box(1u64).to_string() }))
        .route(
            "/rmw",
            get(|| async {
                let n = black_box(1u64);
                format!("Hello, you've been here for {n}th time!")
            }),
        )
}

/// The bare handlers behind a layer that does nothing.
///
/// The floor any `Router::layer` middleware pays (axum wraps every route in it per request).
fn noop_layer() -> Router {
    bare().layer(tower::util::MapRequestLayer::new(
        |request: Request<Body>| request,
    ))
}

mod ours {
    use session_state_cookie::CookieState;
    use session_tower::{Error, MemoryStore, Session, SessionLayer, SessionService};
    use tower::Layer;

    use super::*;

    async fn read(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        Ok(n.to_string())
    }

    async fn rmw(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        session.insert("counter", n + 1).await?;
        Ok(format!("Hello, you've been here for {n}th time!"))
    }

    fn routes() -> Router {
        Router::new()
            .route("/untouched", get(|| async { STATIC_PAGE }))
            .route("/read", get(read))
            .route("/rmw", get(rmw))
    }

    fn layer() -> SessionLayer {
        SessionLayer::new(CookieState::default(), MemoryStore::default())
    }

    /// This project: `SessionLayer` with the default `CookieState` and `MemoryStore`.
    ///
    /// Added with `Router::layer` (around each route).
    pub(crate) fn router() -> Router {
        routes().layer(layer())
    }

    /// The same with a `CacheStore` (moka, 100 000 sessions) instead of the `MemoryStore`.
    pub(crate) fn cache_router() -> Router {
        let store = session_store_cache::CacheStore::new(100_000);
        routes().layer(SessionLayer::new(CookieState::default(), store))
    }

    /// The same layer around the whole router, as `ServiceBuilder` or `Layer::layer` puts it.
    pub(crate) fn outer() -> SessionService<Router> {
        layer().layer(super::serving(routes()))
    }
}

mod theirs {
    use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

    use super::*;

    fn failed(_: tower_sessions::session::Error) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    async fn read(session: Session) -> Result<String, StatusCode> {
        let n: u64 = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        Ok(n.to_string())
    }

    async fn rmw(session: Session) -> Result<String, StatusCode> {
        let n: u64 = session.get("counter").await.map_err(failed)?.unwrap_or(0);
        session.insert("counter", n + 1).await.map_err(failed)?;
        Ok(format!("Hello, you've been here for {n}th time!"))
    }

    fn routes() -> Router {
        Router::new()
            .route("/untouched", get(|| async { STATIC_PAGE }))
            .route("/read", get(read))
            .route("/rmw", get(rmw))
    }

    /// tower-sessions: `SessionManagerLayer` over its `MemoryStore`, default configuration.
    pub(crate) fn router() -> Router {
        routes().layer(SessionManagerLayer::new(MemoryStore::default()))
    }

    /// tower-sessions over tower-sessions-moka-store's `MokaStore` (100 000 sessions).
    pub(crate) fn moka_router() -> Router {
        let store = tower_sessions_moka_store::MokaStore::new(Some(100_000));
        routes().layer(SessionManagerLayer::new(store))
    }
}

/// One request through `router`, in process.
///
/// Returns the status, the `Set-Cookie` (if any) and the whole body.
async fn send<S, B>(
    router: &S,
    path: &'static str,
    cookie: Option<&HeaderValue>,
) -> (StatusCode, Option<HeaderValue>, Bytes)
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible> + Clone,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let mut request = Request::new(Body::empty());
    *request.uri_mut() = Uri::from_static(path);
    if let Some(cookie) = cookie {
        request.headers_mut().insert(COOKIE, cookie.clone());
    }
    let response = match router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    let status = response.status();
    let set_cookie = response.headers().get(SET_COOKIE).cloned();
    let body = axum::body::to_bytes(Body::new(response.into_body()), usize::MAX)
        .await
        .expect("an in-memory body");
    (status, set_cookie, body)
}

/// Creates a session through the `rmw` route and returns the `Cookie` header that names it.
///
/// Checks first that the contender behaves (cookie only when the session is used, counter kept).
async fn session_cookie<S, B>(router: &S) -> HeaderValue
where
    S: Service<Request<Body>, Response = Response<B>, Error = Infallible> + Clone,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let (status, set_cookie, _) = send(router, "/rmw", None).await;
    assert_eq!(status, StatusCode::OK);
    let set_cookie = set_cookie.expect("the rmw route sets a session cookie");
    let cookie = session_benches::cookie_pair(&set_cookie);

    let (status, set_cookie, body) = send(router, "/read", Some(&cookie)).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"1"[..]),
        "the session is found again"
    );
    assert!(set_cookie.is_none(), "a read sends no cookie");
    let (status, set_cookie, body) = send(router, "/untouched", Some(&cookie)).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, STATIC_PAGE.as_bytes())
    );
    assert!(set_cookie.is_none(), "an untouched route sends no cookie");
    cookie
}

fn tower(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let contenders = contenders(&runtime);
    let outer = ours::outer();
    let outer_cookie = runtime.block_on(session_cookie(&outer));
    for (group_name, path) in WORKLOADS {
        let mut group = c.benchmark_group(group_name);
        for (name, router, cookie) in &contenders {
            group.bench_function(*name, |b| {
                b.to_async(&runtime).iter(|| async {
                    let (status, _, body) = send(router, path, Some(cookie)).await;
                    assert_eq!(status, StatusCode::OK);
                    black_box(body)
                });
            });
        }
        group.bench_function("ours-outer", |b| {
            b.to_async(&runtime).iter(|| async {
                let (status, _, body) = send(&outer, path, Some(&outer_cookie)).await;
                assert_eq!(status, StatusCode::OK);
                black_box(body)
            });
        });
        group.finish();
    }
}

/// A router as `axum::serve` runs it.
///
/// `with_state(())` turns every handler (and the layers around it) into a ready-made route once,
/// instead of once per request.
fn serving(router: Router) -> Router {
    router.with_state(())
}

/// The contenders with the cookie each one's requests carry.
fn contenders(runtime: &Runtime) -> Vec<(&'static str, Router, HeaderValue)> {
    let with_cookie = |name, router: Router| {
        let router = serving(router);
        let cookie = runtime.block_on(session_cookie(&router));
        (name, router, cookie)
    };
    let ours = with_cookie("ours", ours::router());
    // The bare router gets a cookie of the same shape, which it ignores.
    let bare_cookie = ours.2.clone();
    vec![
        ("bare", serving(bare()), bare_cookie.clone()),
        ("noop-layer", serving(noop_layer()), bare_cookie),
        ours,
        with_cookie("tower-sessions", theirs::router()),
        with_cookie("ours-cache", ours::cache_router()),
        with_cookie("tower-sessions-moka", theirs::moka_router()),
    ]
}

fn main() {
    // What `criterion_group!` and `criterion_main!` expand to, without an undocumented `pub fn`.
    let mut criterion = session_benches::criterion(Duration::from_secs(3)).configure_from_args();
    tower(&mut criterion);
    criterion.final_summary();
}
