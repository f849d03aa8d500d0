//! One in-process workload, run N times: for counting the instructions a request costs with
//! callgrind, which is repeatable where wall-clock benches on a shared machine are not.
//!
//! ```sh
//! cargo build --release -p session-benches --example requests
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/requests tower rmw 2000
//! ```
//!
//! Frameworks: `tower` (an axum router, `MemoryStore`, added with `Router::layer`), `tower-outer`
//! (the same layer around the whole router), `actix` (an actix-web app, `MemoryStore`), `sealed`
//! (an axum router, a private sealed cookie), `sealed-signed` (the same, signed), and the two
//! references the overhead is measured against: `bare` (the same axum router without any session
//! layer; its handlers do the same formatting) and `tower-sessions` (tower-sessions'
//! `SessionManagerLayer` over its `MemoryStore`, added with `Router::layer`, as in
//! `benches/tower.rs`). Workloads: `untouched`
//! (the route never asks for its session), `read` (reads the counter), `rmw` (the counter route).
//! Every request carries the cookie of an existing session (the bare router gets one of the same
//! shape). Subtract a run with a small N from one with a large N and divide by the difference:
//! the instructions of one request, without the set-up. A layer's overhead is its count minus
//! `bare`'s.

#[path = "common/apps.rs"]
mod apps;

use apps::send;
use std::convert::Infallible;
use std::hint::black_box;
use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, Response};
use session_state_cookie::{CookieState, SealKey, SealMode, SealedCookie};
use session_tower::SessionLayer;
use tower::{Layer, Service};

fn routes() -> Router {
    apps::ours()
}

/// The bare handlers: the same work without a session.
fn bare() -> Router {
    Router::new()
        .route("/untouched", get(|| async { "ok" }))
        .route("/read", get(|| async { black_box(0u64).to_string() }))
        .route("/rmw", get(|| async { black_box(0u64).to_string() }))
}

/// A router as `axum::serve` runs it: handlers turned into routes once, not per request.
fn serving(router: Router) -> Router {
    router.with_state(())
}

mod theirs {
    use axum::Router;
    use tower_sessions::{MemoryStore, SessionManagerLayer};

    /// tower-sessions: `SessionManagerLayer` over its `MemoryStore`, default configuration.
    pub(crate) fn router() -> Router {
        super::apps::theirs().layer(SessionManagerLayer::new(MemoryStore::default()))
    }
}

/// Creates a session through the counter route, then sends `n` requests to `path` with its cookie.
async fn tower_workload<S>(app: S, path: &str, n: usize)
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let cookie = send(&app, "/rmw", None).await.expect("a session cookie");
    for _ in 0..n {
        send(&app, path, Some(&cookie)).await;
    }
}

/// `n` requests to the bare router, each with a cookie of the session cookie's shape.
async fn bare_workload(path: &str, n: usize) {
    let app = serving(bare());
    let cookie = "id=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for _ in 0..n {
        send(&app, path, Some(cookie)).await;
    }
}

async fn actix_workload(path: &str, n: usize) {
    use actix_web::{App, test, web};
    use session_actix::{Error, MemoryStore, Session, SessionMiddleware};

    async fn counter(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        session.insert("counter", n + 1).await?;
        Ok(n.to_string())
    }
    async fn read(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        Ok(n.to_string())
    }
    let app = test::init_service(
        App::new()
            .wrap(SessionMiddleware::new(
                CookieState::default(),
                MemoryStore::default(),
            ))
            .route("/untouched", web::get().to(|| async { "ok" }))
            .route("/read", web::get().to(read))
            .route("/rmw", web::get().to(counter)),
    )
    .await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/rmw").to_request()).await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    for _ in 0..n {
        let request = test::TestRequest::get()
            .uri(path)
            .insert_header(("cookie", cookie.as_str()))
            .to_request();
        test::call_and_read_body(&app, request).await;
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(framework), Some(workload), Some(n)) = (args.first(), args.get(1), args.get(2))
    else {
        eprintln!(
            "usage: requests tower|tower-outer|actix|sealed|sealed-signed|bare|tower-sessions \
             untouched|read|rmw N"
        );
        return ExitCode::from(2);
    };
    let Ok(n) = n.parse::<usize>() else {
        eprintln!("N must be a number");
        return ExitCode::from(2);
    };
    let path = format!("/{workload}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let layer = || {
        SessionLayer::new(
            CookieState::default(),
            session_tower::MemoryStore::default(),
        )
    };
    match framework.as_str() {
        "tower" => runtime.block_on(tower_workload(serving(routes().layer(layer())), &path, n)),
        "tower-outer" => {
            runtime.block_on(tower_workload(layer().layer(serving(routes())), &path, n));
        }
        "sealed" => {
            let key = SealKey::generate().expect("a key");
            let layer = SessionLayer::client_side(SealedCookie::new(key));
            runtime.block_on(tower_workload(serving(routes().layer(layer)), &path, n));
        }
        "sealed-signed" => {
            let key = SealKey::generate().expect("a key");
            let sealed = SealedCookie::builder(key).mode(SealMode::Signed).build();
            let layer = SessionLayer::client_side(sealed);
            runtime.block_on(tower_workload(serving(routes().layer(layer)), &path, n));
        }
        "bare" => runtime.block_on(bare_workload(&path, n)),
        "tower-sessions" => runtime.block_on(tower_workload(serving(theirs::router()), &path, n)),
        "actix" => actix_rt::System::new().block_on(actix_workload(&path, n)),
        other => {
            eprintln!("unknown framework {other}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
