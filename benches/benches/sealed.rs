//! Client-side sessions: the cost per request of sealing and opening the session in a cookie.
//!
//! The cost, and the cookie's size, for this project's `SealedCookie` (private: AES-256-GCM;
//! signed: HMAC-SHA256) against actix-session's `CookieSessionStore`
//! (`CookieContentSecurity::Private` and `Signed`), in the same run.
//!
//! Every session holds the same three keys with the same values: `counter` (a `u64`), `user` (a
//! short string) and `csrf` (a 32-character token).
//!
//! - `sealed-read`: the handler reads `counter` and returns it, writing nothing. Ours opens the
//!   cookie when the handler takes the session and, within the touch interval, seals nothing;
//!   actix-session opens the cookie before every request (whether the handler looks or not) and,
//!   with its defaults (browser-session cookie, TTL extended on state changes only), sends no
//!   cookie back either.
//! - `sealed-rmw`: the handler reads `counter` and writes `counter + 1`: an open and a seal (a
//!   `Set-Cookie`) on every request, for every contender but `bare`.
//! - `sealed-engine`: this project's engine alone, no web framework: `open-*` is `Engine::start`
//!   plus the first `get` on a request carrying the cookie; `seal-*` is the commit of a session
//!   that was opened and then changed (the open happens in untimed setup).
//!
//! Each request carries the cookie the same middleware produced once, in setup, just before its
//! bench (the session's last write is then seconds old, well within ours' one-minute touch
//! interval, so the read bench never reseals; this is checked after the bench). `bare` is the same
//! routes without a session middleware, given ours' private cookie, which it ignores. Requests go
//! through `actix_web::test::init_service` in process, as in the `actix` bench, and every response
//! body is read to the end. The `Set-Cookie` sizes of the three-key session are printed to stderr
//! before the benches start.
//!
//! Run with `cargo bench -p session-benches --bench sealed`.

use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_rt::SystemRunner;
use actix_session::config::CookieContentSecurity;
use actix_session::storage::CookieSessionStore;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::test::{self, TestRequest};
use actix_web::web::{self, ServiceConfig};
use actix_web::{App, Error};
use criterion::measurement::WallTime;
use criterion::{BatchSize, BenchmarkGroup, Criterion};
use session_benches::actix::{cookie_pair, send, time_requests};
use session_core::Engine;
use session_core::state::RequestView;
use session_state_cookie::{SealKey, SealMode, SealedCookie};

/// The session's three values, the same for every contender.
const COUNTER: u64 = 1;
const USER: &str = "alice";
const CSRF: &str = "q7ZK2mVx9LbR4tWc8NfH3sJd6PgY0uEa";

/// The two benched workloads.
///
/// As (criterion group, request path, whether every response carries a `Set-Cookie` for the session
/// contenders).
const WORKLOADS: [(&str, &str, bool); 2] = [
    ("sealed-read", "/read", false),
    ("sealed-rmw", "/rmw", true),
];

/// The bare handlers: no session middleware.
///
/// `read` and `rmw` do the same formatting work without a session.
fn bare(config: &mut ServiceConfig) {
    config
        .route(
            "/read",
            web::get().to(|| async { black_box(COUNTER).to_string() }),
        )
        .route(
            "/rmw",
            web::get().to(|| async {
                let n = black_box(COUNTER);
                format!("Hello, you've been here for {n}th time!")
            }),
        );
}

mod ours {
    use session_actix::{Error, Session};

    use super::*;

    async fn setup(session: Session) -> Result<&'static str, Error> {
        session.insert("counter", COUNTER).await?;
        session.insert("user", USER).await?;
        session.insert("csrf", CSRF).await?;
        Ok("set")
    }

    async fn all(session: Session) -> Result<String, Error> {
        let counter: Option<u64> = session.get("counter").await?;
        let user: Option<String> = session.get("user").await?;
        let csrf: Option<String> = session.get("csrf").await?;
        Ok(format!("{counter:?}|{user:?}|{csrf:?}"))
    }

    async fn read(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        Ok(n.to_string())
    }

    async fn rmw(session: Session) -> Result<String, Error> {
        let n: u64 = session.get("counter").await?.unwrap_or(0);
        session.insert("counter", n + 1).await?;
        Ok(format!("Hello, you've been here for {n}th time!"))
    }

    /// This project's handlers; the app wraps them in `SessionMiddleware::client_side`.
    pub(crate) fn routes(config: &mut ServiceConfig) {
        config
            .route("/setup", web::get().to(setup))
            .route("/all", web::get().to(all))
            .route("/read", web::get().to(read))
            .route("/rmw", web::get().to(rmw));
    }
}

mod theirs {
    use actix_session::Session;

    use super::*;

    async fn setup(session: Session) -> Result<&'static str, Error> {
        session.insert("counter", COUNTER)?;
        session.insert("user", USER)?;
        session.insert("csrf", CSRF)?;
        Ok("set")
    }

    async fn all(session: Session) -> Result<String, Error> {
        let counter: Option<u64> = session.get("counter")?;
        let user: Option<String> = session.get("user")?;
        let csrf: Option<String> = session.get("csrf")?;
        Ok(format!("{counter:?}|{user:?}|{csrf:?}"))
    }

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
    /// configuration but for the content security.
    pub(crate) fn routes(config: &mut ServiceConfig) {
        config
            .route("/setup", web::get().to(setup))
            .route("/all", web::get().to(all))
            .route("/read", web::get().to(read))
            .route("/rmw", web::get().to(rmw));
    }
}

/// A contender: its name, its app, and how its requests are built.
///
/// [`mint`](Self::mint) gets its session cookie from its `/setup` route (all but `bare` have one).
struct Contender<S, R> {
    name: &'static str,
    app: S,
    build: fn(TestRequest) -> R,
}

impl<S, R, B> Contender<S, R>
where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    /// Creates the three-key session through `/setup` and returns its `Set-Cookie`.
    ///
    /// Checks first that the session holds the three values and that a read sends no cookie back.
    async fn mint(&self) -> HeaderValue {
        let (status, set_cookie, _) = send(&self.app, self.build, "/setup", None).await;
        assert_eq!(status, StatusCode::OK, "{}: setup", self.name);
        let set_cookie = set_cookie.expect("the setup route sets a session cookie");
        let cookie = cookie_pair(&set_cookie);
        let (status, _, body) = send(&self.app, self.build, "/all", Some(&cookie)).await;
        assert_eq!(status, StatusCode::OK);
        let expected = format!("Some({COUNTER})|Some({USER:?})|Some({CSRF:?})");
        assert_eq!(
            std::str::from_utf8(&body).expect("UTF-8"),
            expected,
            "{}: the session holds the three values",
            self.name
        );
        let (status, reseal, body) = send(&self.app, self.build, "/read", Some(&cookie)).await;
        assert_eq!(
            (status, &body[..]),
            (StatusCode::OK, COUNTER.to_string().as_bytes())
        );
        assert!(reseal.is_none(), "{}: a read sends no cookie", self.name);
        set_cookie
    }
}

/// Benchmarks `GET path` with `cookie` through the contender as `group/name`.
///
/// Each sample's iterations run inside one `block_on`. Checks first that the response does (or does
/// not) carry a `Set-Cookie` as `sets_cookie` says, and the same again after the bench.
fn bench<S, R, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    system: &SystemRunner,
    contender: &Contender<S, R>,
    cookie: &HeaderValue,
    path: &str,
    sets_cookie: bool,
) where
    S: Service<R, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    let (app, build) = (&contender.app, contender.build);
    let probe = |when: &str| {
        let (status, set_cookie, _) = system.block_on(send(app, build, path, Some(cookie)));
        assert_eq!(status, StatusCode::OK);
        if set_cookie.is_some() != sets_cookie {
            eprintln!(
                "note: {} {path} {when} the bench: Set-Cookie {}",
                contender.name,
                if set_cookie.is_some() {
                    "sent"
                } else {
                    "not sent"
                }
            );
        }
    };
    probe("before");
    time_requests(group, contender.name, system, (app, build), path, cookie);
    probe("after");
}

/// Runs a future that never waits to completion, without a runtime.
///
/// A client-side session's operations do no I/O, so the engine bench times the engine alone.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a client-side session operation waited"),
    }
}

/// The three-key session through `engine` alone: returns its `Cookie` request headers.
fn engine_cookie(engine: &Engine) -> http::HeaderMap {
    let session = engine.start(&RequestView::new(&http::HeaderMap::new(), None));
    now(session.insert("counter", COUNTER)).expect("insert");
    now(session.insert("user", USER)).expect("insert");
    now(session.insert("csrf", CSRF)).expect("insert");
    let mut response = http::HeaderMap::new();
    now(engine.commit(&session, http::StatusCode::OK))
        .expect("commit")
        .apply_to(&mut response);
    let set_cookie = response
        .get(http::header::SET_COOKIE)
        .expect("a sealed cookie");
    let pair = set_cookie
        .to_str()
        .expect("ASCII")
        .split(';')
        .next()
        .expect("a pair");
    let mut request = http::HeaderMap::new();
    request.insert(http::header::COOKIE, pair.parse().expect("a header value"));
    request
}

/// `sealed-engine`: open (start + first get) and seal (commit of a changed session) alone.
fn engine(c: &mut Criterion) {
    let mut group = c.benchmark_group("sealed-engine");
    for (mode, label) in [(SealMode::Private, "private"), (SealMode::Signed, "signed")] {
        let key = SealKey::generate().expect("a key");
        let engine = Engine::client_side(SealedCookie::builder(key).mode(mode).build());
        let request = engine_cookie(&engine);
        let open = || {
            let session = engine.start(&RequestView::new(&request, None));
            let n: u64 = now(session.get("counter"))
                .expect("get")
                .expect("a counter");
            (session, n)
        };
        assert_eq!(open().1, COUNTER, "the session opens");
        let changed = || {
            let (session, n) = open();
            now(session.insert("counter", n + 1)).expect("insert");
            session
        };
        let session = changed();
        let commit = now(engine.commit(&session, http::StatusCode::OK)).expect("commit");
        assert!(
            commit
                .state_headers()
                .contains_key(http::header::SET_COOKIE),
            "a changed session is sealed"
        );

        group.bench_function(format!("open-{label}"), |b| b.iter(open));
        group.bench_function(format!("seal-{label}"), |b| {
            b.iter_batched(
                changed,
                |session| now(engine.commit(&session, http::StatusCode::OK)).expect("commit"),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn sealed(c: &mut Criterion) {
    let system = actix_rt::System::new();
    // A fn pointer, so that the contenders share its type.
    let build: fn(TestRequest) -> _ = TestRequest::to_request;

    let make_ours = |name, mode| {
        let key = SealKey::generate().expect("a key");
        let sealed = SealedCookie::builder(key).mode(mode).build();
        system.block_on(async {
            let app = test::init_service(
                App::new()
                    .wrap(session_actix::SessionMiddleware::client_side(sealed))
                    .configure(ours::routes),
            )
            .await;
            Contender { name, app, build }
        })
    };
    let ours = [
        make_ours("ours-private", SealMode::Private),
        make_ours("ours-signed", SealMode::Signed),
    ];
    let make_theirs = |name, security| {
        system.block_on(async {
            let app = test::init_service(
                App::new()
                    .wrap(
                        actix_session::SessionMiddleware::builder(
                            CookieSessionStore::default(),
                            actix_web::cookie::Key::generate(),
                        )
                        .cookie_content_security(security)
                        .build(),
                    )
                    .configure(theirs::routes),
            )
            .await;
            Contender { name, app, build }
        })
    };
    let theirs = [
        make_theirs("actix-session-private", CookieContentSecurity::Private),
        make_theirs("actix-session-signed", CookieContentSecurity::Signed),
    ];
    let bare = system.block_on(async {
        let app = test::init_service(App::new().configure(bare)).await;
        Contender {
            name: "bare",
            app,
            build,
        }
    });

    // The cookie sizes of the three-key session.
    eprintln!(
        "three-key session: counter = {COUNTER}, user = {USER:?}, csrf = {CSRF:?} ({} chars)",
        CSRF.len()
    );
    eprintln!(
        "{:<24} {:>11} {:>16} {:>13}",
        "contender", "Set-Cookie", "name=value pair", "sealed value"
    );
    let sizes = |name: &str, set_cookie: &HeaderValue| {
        let pair = cookie_pair(set_cookie);
        let value = pair
            .to_str()
            .expect("ASCII")
            .split_once('=')
            .expect("a pair")
            .1
            .len();
        eprintln!(
            "{name:<24} {:>11} {:>16} {value:>13}",
            set_cookie.len(),
            pair.len()
        );
        eprintln!("  Set-Cookie attributes: {}", {
            let text = set_cookie.to_str().expect("ASCII");
            text.split_once(';')
                .map_or("", |(_, attributes)| attributes.trim())
        });
    };
    for contender in &ours {
        sizes(contender.name, &system.block_on(contender.mint()));
    }
    for contender in &theirs {
        sizes(contender.name, &system.block_on(contender.mint()));
    }

    for (group_name, path, sets_cookie) in WORKLOADS {
        let mut group = c.benchmark_group(group_name);
        // Each cookie is minted just before its bench, so that ours' read stays within the
        // session's touch interval for the whole bench.
        let cookie = cookie_pair(&system.block_on(ours[0].mint()));
        bench(&mut group, &system, &bare, &cookie, path, false);
        for contender in &ours {
            let cookie = cookie_pair(&system.block_on(contender.mint()));
            bench(&mut group, &system, contender, &cookie, path, sets_cookie);
        }
        for contender in &theirs {
            let cookie = cookie_pair(&system.block_on(contender.mint()));
            bench(&mut group, &system, contender, &cookie, path, sets_cookie);
        }
        group.finish();
    }
}

fn main() {
    // What `criterion_group!` and `criterion_main!` expand to, without an undocumented `pub fn`.
    let mut criterion = session_benches::criterion(Duration::from_secs(3)).configure_from_args();
    sealed(&mut criterion);
    engine(&mut criterion);
    criterion.final_summary();
}
