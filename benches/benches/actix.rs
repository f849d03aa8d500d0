//! The actix-web adapter in process (no sockets): three routes, each served three ways.
//!
//! By a bare app, by this project's `SessionMiddleware` over `MemoryStore`, and by actix-session
//! over its `CookieSessionStore`.
//!
//! - `actix-untouched`: the handler never touches the session (a static page behind the
//!   middleware).
//! - `actix-read`: the handler reads `counter` from an existing session and returns it.
//! - `actix-rmw`: the quick start's counter: read `counter`, write `counter + 1`.
//!
//! The groups carry an `actix-` prefix so that they sit next to the tower bench's groups without
//! colliding. actix-session runs with its defaults: the whole session travels in an encrypted
//! cookie (it has no server-side store to compare), and every response that changed the session
//! sends that cookie again.
//!
//! Every request carries the cookie of a session created once in setup (the same cookie on every
//! request, also after an `rmw`: this project's counter keeps counting in its store, actix-session
//! keeps reading the value the setup cookie holds), and every response body is read to the end, so
//! all the work a server would do (minus the sockets) is counted. Each app is built once with
//! `actix_web::test::init_service` and driven on one `actix_rt::System`, since actix services are
//! not `Send`. Criterion reports `GROUP/CONTENDER`, e.g. `actix-rmw/ours`; the overhead of a
//! session middleware is its time minus `GROUP/bare` in the same run.
//!
//! Run with `cargo bench -p session-benches --bench actix`.

use std::hint::black_box;
use std::time::Duration;

use actix_rt::SystemRunner;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::test::{self, TestRequest};
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, Error};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use session_benches::actix::{cookie_pair, send, time_requests};

/// The three workloads, as (criterion group, request path).
const WORKLOADS: [(&str, &str); 3] = [
    ("actix-untouched", "/untouched"),
    ("actix-read", "/read"),
    ("actix-rmw", "/rmw"),
];

/// What the untouched route answers, for every contender.
const STATIC_PAGE: &str = "a page that never looks at the session";

/// The untouched route, the same for every contender.
async fn untouched() -> &'static str {
    STATIC_PAGE
}

/// The bare handlers: no session middleware.
///
/// `read` and `rmw` do the same formatting work without a session.
fn bare(config: &mut ServiceConfig) {
    config
        .route("/untouched", web::get().to(untouched))
        .route(
            "/read",
            web::get().to(|| async { black_box(1u64).to_string() }),
        )
        .route(
            "/rmw",
            web::get().to(|| async {
                let n = black_box(1u64);
                format!("Hello, you've been here for {n}th time!")
            }),
        );
}

mod ours {
    use session_actix::{Error, Session};

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

    /// This project's handlers.
    ///
    /// The app wraps them in `SessionMiddleware` with the default `CookieState` and `MemoryStore`.
    pub(crate) fn routes(config: &mut ServiceConfig) {
        config
            .route("/untouched", web::get().to(untouched))
            .route("/read", web::get().to(read))
            .route("/rmw", web::get().to(rmw));
    }
}

mod theirs {
    use actix_session::Session;

    use super::*;

    async fn read(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter")?.unwrap_or(0);
        Ok(n.to_string())
    }

    async fn rmw(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter")?.unwrap_or(0);
        session.insert("counter", n + 1)?;
        Ok(format!("Hello, you've been here for {n}th time!"))
    }

    /// actix-session's handlers.
    ///
    /// The app wraps them in its `SessionMiddleware` over `CookieSessionStore`, default
    /// configuration with a fresh key.
    pub(crate) fn routes(config: &mut ServiceConfig) {
        config
            .route("/untouched", web::get().to(untouched))
            .route("/read", web::get().to(read))
            .route("/rmw", web::get().to(rmw));
    }
}

/// Creates a session through the `rmw` route and returns the `Cookie` header that names it.
///
/// Checks first that the contender behaves with it (the counter is read back, no cookie is sent for
/// a read or an untouched route), so that no bench can silently measure an error path.
async fn session_cookie<S, R, B>(app: &S, build: fn(TestRequest) -> R) -> HeaderValue
where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let (status, set_cookie, _) = send(app, build, "/rmw", None).await;
    assert_eq!(status, StatusCode::OK);
    let set_cookie = set_cookie.expect("the rmw route sets a session cookie");
    let cookie = cookie_pair(&set_cookie);
    check(app, build, &cookie).await;
    cookie
}

/// Checks the read route and the untouched route with `cookie`; panics if they misbehave.
///
/// The read route must answer 1 and the untouched route its page, neither with a `Set-Cookie`.
async fn check<S, R, B>(app: &S, build: fn(TestRequest) -> R, cookie: &HeaderValue)
where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let (status, set_cookie, body) = send(app, build, "/read", Some(cookie)).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"1"[..]),
        "the session is found again"
    );
    assert!(set_cookie.is_none(), "a read sends no cookie");
    let (status, set_cookie, body) = send(app, build, "/untouched", Some(cookie)).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, STATIC_PAGE.as_bytes())
    );
    assert!(set_cookie.is_none(), "an untouched route sends no cookie");
}

/// Benchmarks `GET path` with `cookie` through `app` as `group/name`.
fn bench<S, R, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    system: &SystemRunner,
    (app, build, cookie): &(S, fn(TestRequest) -> R, HeaderValue),
    path: &str,
) where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    time_requests(group, name, system, (app, *build), path, cookie);
}

fn actix(c: &mut Criterion) {
    let system = actix_rt::System::new();
    // A fn pointer, so that the contenders' tuples share its type.
    let build: fn(TestRequest) -> _ = TestRequest::to_request;

    let ours = system.block_on(async {
        let app = test::init_service(
            App::new()
                .wrap(session_actix::SessionMiddleware::new(
                    session_state_cookie::CookieState::default(),
                    session_actix::MemoryStore::default(),
                ))
                .configure(ours::routes),
        )
        .await;
        let cookie = session_cookie(&app, build).await;
        (app, build, cookie)
    });
    let theirs = system.block_on(async {
        let app = test::init_service(
            App::new()
                .wrap(actix_session::SessionMiddleware::new(
                    actix_session::storage::CookieSessionStore::default(),
                    actix_web::cookie::Key::generate(),
                ))
                .configure(theirs::routes),
        )
        .await;
        let cookie = session_cookie(&app, build).await;
        (app, build, cookie)
    });
    let bare = system.block_on(async {
        let app = test::init_service(App::new().configure(bare)).await;
        // The bare app gets a cookie of the same shape as ours, which it ignores.
        let cookie = ours.2.clone();
        check(&app, build, &cookie).await;
        (app, build, cookie)
    });

    for (group_name, path) in WORKLOADS {
        let mut group = c.benchmark_group(group_name);
        bench(&mut group, "bare", &system, &bare, path);
        bench(&mut group, "ours", &system, &ours, path);
        bench(&mut group, "actix-session", &system, &theirs, path);
        group.finish();
    }
}

fn main() {
    // What `criterion_group!` and `criterion_main!` expand to, without an undocumented `pub fn`.
    let mut criterion = session_benches::criterion(Duration::from_secs(3)).configure_from_args();
    actix(&mut criterion);
    criterion.final_summary();
}
