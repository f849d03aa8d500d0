//! One in-process workload, run N times: for counting the instructions a request costs with
//! callgrind, which is repeatable where wall-clock benches on a shared machine are not.
//!
//! ```sh
//! cargo build --release -p session-benches --example requests
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/requests tower rmw 2000
//! ```
//!
//! Frameworks: `tower` (an axum router, `MemoryStore`), `actix` (an actix-web app, `MemoryStore`),
//! `sealed` (an axum router, a private sealed cookie), `sealed-signed` (the same, signed). Workloads: `untouched` (the route never
//! asks for its session), `read` (reads the counter), `rmw` (the counter route). Every request
//! carries the cookie of an existing session. Subtract a run with a small N from one with a large
//! N and divide by the difference: the instructions of one request, without the set-up.

use std::process::ExitCode;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{Request, header};
use session_state_cookie::{CookieState, SealKey, SealMode, SealedCookie};
use tower::ServiceExt;

type TowerError = session_tower::Error;

async fn counter(session: session_tower::Session) -> Result<String, TowerError> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    session.insert("counter", n + 1).await?;
    Ok(n.to_string())
}

async fn read(session: session_tower::Session) -> Result<String, TowerError> {
    let n: u64 = session.get("counter").await?.unwrap_or(0);
    Ok(n.to_string())
}

fn router(layer: session_tower::SessionLayer) -> Router {
    Router::new()
        .route("/untouched", get(|| async { "ok" }))
        .route("/read", get(read))
        .route("/rmw", get(counter))
        .layer(layer)
}

/// Sends one request to `app`, reading its body; the `Set-Cookie` pair, if any.
async fn send(app: &Router, path: &str, cookie: Option<&str>) -> Option<String> {
    let mut request = Request::builder().uri(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let request = request.body(Body::empty()).expect("request");
    let response = app.clone().oneshot(request).await.expect("infallible");
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

async fn tower_workload(layer: session_tower::SessionLayer, path: &str, n: usize) {
    let app = router(layer);
    let cookie = send(&app, "/rmw", None).await.expect("a session cookie");
    for _ in 0..n {
        send(&app, path, Some(&cookie)).await;
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
        eprintln!("usage: requests tower|actix|sealed|sealed-signed untouched|read|rmw N");
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
    match framework.as_str() {
        "tower" => runtime.block_on(tower_workload(
            session_tower::SessionLayer::new(
                CookieState::default(),
                session_tower::MemoryStore::default(),
            ),
            &path,
            n,
        )),
        "sealed" => {
            let key = SealKey::generate().expect("a key");
            let layer = session_tower::SessionLayer::client_side(SealedCookie::new(key));
            runtime.block_on(tower_workload(layer, &path, n));
        }
        "sealed-signed" => {
            let key = SealKey::generate().expect("a key");
            let sealed = SealedCookie::builder(key).mode(SealMode::Signed).build();
            let layer = session_tower::SessionLayer::client_side(sealed);
            runtime.block_on(tower_workload(layer, &path, n));
        }
        "actix" => actix_rt::System::new().block_on(actix_workload(&path, n)),
        other => {
            eprintln!("unknown framework {other}");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}
