//! [`TestServer`]: an app with a given engine on a given framework, on a real TCP port, and the
//! hand-driven HTTP client that talks to it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use http::HeaderValue;
use http::header::{COOKIE, HeaderName};
use session_actix::SessionMiddleware;
use session_core::store::{ManualClock, Store};
use session_core::{Engine, HeaderState, ParamState};
use session_examples::demo::{self, Args, StateKind, StoreKind};
use session_state_cookie::DEFAULT_COOKIE_NAME;
use session_tower::SessionLayer;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::Reply;

/// The web framework serving the app under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    /// axum, through `session-tower`.
    Axum,
    /// actix-web, through `session-actix`.
    Actix,
}

/// Which app the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum App {
    /// The demo server's routes (see `examples/src/demo`).
    Demo,
    /// The Plack nine-step scenario (`GET /scenario/N`, see [`crate::scenario`]).
    Scenario,
    /// Plack's cookie-store counter (`GET /counter`, see [`crate::plack_counter`]).
    PlackCounter,
}

/// How the client must send the session id back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// In a cookie with this name.
    Cookie(String),
    /// In a query parameter with this name.
    Param(String),
    /// In a request header with this name, returned in a response header of the same name.
    Header(String),
}

/// What the server's engine is built from: the demo's options (state, store, timeouts, cookie
/// settings), optionally with a store and a manual clock of the test's own.
///
/// The engine always comes from the demo's own wiring ([`demo::engine_builder_async`]), so the
/// demo's `--store` and `--state` choices are what is tested.
#[derive(Clone)]
pub struct Setup {
    pub(crate) args: Args,
    store: Option<Arc<dyn Store>>,
    clock: Option<ManualClock>,
}

impl Setup {
    /// An engine as the demo builds it for `args` (only the framework and address are ignored).
    pub fn new(args: Args) -> Self {
        Setup {
            args,
            store: None,
            clock: None,
        }
    }

    /// The demo's defaults: `CookieState` (named `id`, Secure) and a `MemoryStore`.
    pub fn cookie() -> Self {
        Setup::new(Args::default())
    }

    /// `--state param`: `ParamState` (`?plack_session=ID`) and a `MemoryStore`.
    pub fn param() -> Self {
        Setup::new(Args {
            state: StateKind::Param,
            ..Args::default()
        })
    }

    /// `--state header`: `HeaderState` (the id in `x-session-id`, or the header `name`) and a
    /// `MemoryStore`.
    pub fn header(name: Option<&str>) -> Self {
        Setup::new(Args {
            state: StateKind::Header,
            session_header: name.map(str::to_owned),
            ..Args::default()
        })
    }

    /// `--state header-or-cookie`: `HeaderOr<CookieState>` (the id in `x-session-id` when the
    /// request carries that header, else in the cookie) and a `MemoryStore`. Its client uses the
    /// cookie ([`TestServer::send_headers`] sends the header).
    pub fn header_or_cookie() -> Self {
        Setup::new(Args {
            state: StateKind::HeaderOrCookie,
            ..Args::default()
        })
    }

    /// The same setup with `--store null` (`NullStore`).
    pub fn null_store(mut self) -> Self {
        self.args.store = StoreKind::Null;
        self
    }

    /// The same setup with `--store cache` (`CacheStore` on moka; on the setup's clock, if any).
    pub fn cache(mut self) -> Self {
        self.args.store = StoreKind::Cache;
        self
    }

    /// The same setup with `--store file --dir DIR` (`FileStore`; on the setup's clock, if any).
    pub fn file(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.args.store = StoreKind::File;
        self.args.dir = Some(dir.into());
        self
    }

    /// The same setup with `--store redis --redis-url URL` (`RedisStore`, keys under the demo's
    /// default prefix; on the setup's clock, if any). The store connects when a server starts.
    pub fn redis(mut self, url: impl Into<String>) -> Self {
        self.args.store = StoreKind::Redis;
        self.args.redis_url = Some(url.into());
        self
    }

    /// The same setup with `--store redis-cluster --redis-nodes URL,URL...` (`RedisStore` on a
    /// Redis Cluster, keys under the demo's default prefix; on the setup's clock, if any).
    pub fn redis_cluster(mut self, nodes: Vec<String>) -> Self {
        self.args.store = StoreKind::RedisCluster;
        self.args.redis_nodes = nodes;
        self
    }

    /// The same setup with `--redis-client-cache true` (the Redis store's client-side cache).
    pub fn redis_client_cache(mut self) -> Self {
        self.args.redis_client_cache = true;
        self
    }

    /// The same setup with `--redis-prefix PREFIX`.
    pub fn redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.args.redis_prefix = Some(prefix.into());
        self
    }

    /// The same setup with `--store postgres --database-url URL` (`PgStore`, tables named after
    /// `--db-table`; on the setup's clock, if any). The store connects and migrates when a server
    /// starts.
    pub fn postgres(mut self, url: impl Into<String>) -> Self {
        self.args.store = StoreKind::Postgres;
        self.args.database_url = Some(url.into());
        self
    }

    /// The same setup with `--store sqlite --database PATH` (`SqliteStore` on that file, created
    /// if missing; tables named after `--db-table`; on the setup's clock, if any).
    pub fn sqlite(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.args.store = StoreKind::Sqlite;
        self.args.database = Some(path.into());
        self
    }

    /// The same setup with `--db-table NAME`: the SQL stores' tables are `NAME` and
    /// `NAME_values`.
    pub fn db_table(mut self, name: impl Into<String>) -> Self {
        self.args.db_table = Some(name.into());
        self
    }

    /// The same setup with `--store-timeout-ms`: the bound on each store call.
    pub fn store_timeout(mut self, limit: std::time::Duration) -> Self {
        self.args.store_timeout = Some(limit);
        self
    }

    /// The same setup with the test's own store instead of the one `--store` names.
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The same setup on a manual clock: the engine reads it, and so does the store `--store`
    /// names (a custom store must be given the clock by the test).
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The same setup with `--idle-timeout` and `--absolute-timeout`.
    pub fn timeouts(
        mut self,
        idle: Option<std::time::Duration>,
        absolute: Option<std::time::Duration>,
    ) -> Self {
        self.args.idle_timeout = idle;
        self.args.absolute_timeout = absolute;
        self
    }

    /// The demo's options this setup stands for.
    pub fn args(&self) -> &Args {
        &self.args
    }

    /// Builds the engine (connecting to Redis or the database first for `--store redis`,
    /// `postgres` and `sqlite`).
    pub async fn engine(&self) -> Engine {
        demo::engine_builder_async(&self.args, self.clock.clone(), self.store.clone())
            .await
            .expect("the demo accepts its own options")
            .build()
    }

    /// How a client sends the id to a server with this setup.
    pub fn transport(&self) -> Transport {
        let key = self.args.session_key.clone();
        match self.args.state {
            StateKind::Cookie | StateKind::HeaderOrCookie => {
                Transport::Cookie(key.unwrap_or_else(|| DEFAULT_COOKIE_NAME.into()))
            }
            StateKind::Header => Transport::Header(
                self.args
                    .session_header
                    .clone()
                    .unwrap_or_else(|| HeaderState::DEFAULT_NAME.into()),
            ),
            StateKind::Param => {
                Transport::Param(key.unwrap_or_else(|| ParamState::DEFAULT_NAME.into()))
            }
        }
    }
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup")
            .field("args", &self.args)
            .field("custom_store", &self.store.is_some())
            .field("clock", &self.clock)
            .finish()
    }
}

/// An app served on `127.0.0.1:PORT` by a task on the test's runtime, stopped when dropped, and a
/// client with no cookie jar.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    transport: Transport,
    client: reqwest::Client,
    task: JoinHandle<()>,
    /// actix-web runs its own worker threads: they are stopped through this handle.
    actix: Option<actix_web::dev::ServerHandle>,
}

impl TestServer {
    /// Serves `app` with the engine `setup` describes on `framework`.
    pub async fn start(framework: Framework, app: App, setup: &Setup) -> Self {
        let engine = setup.engine().await;
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let addr = listener.local_addr().expect("the bound address");
        let mut actix = None;
        let task = match framework {
            Framework::Axum => {
                let router = match app {
                    App::Demo => demo::axum_router(),
                    App::Scenario => crate::scenario::axum_router(),
                    App::PlackCounter => crate::plack_counter::axum_router(),
                };
                let service = router.layer(SessionLayer::from(engine));
                tokio::spawn(async move {
                    if let Err(error) = axum::serve(listener, service).await {
                        panic!("the axum test server stopped: {error}");
                    }
                })
            }
            Framework::Actix => {
                let routes = match app {
                    App::Demo => demo::actix_routes,
                    App::Scenario => crate::scenario::actix_routes,
                    App::PlackCounter => crate::plack_counter::actix_routes,
                };
                let listener = listener.into_std().expect("a std listener");
                let server = actix_web::HttpServer::new(move || {
                    actix_web::App::new()
                        .wrap(SessionMiddleware::from(engine.clone()))
                        .configure(routes)
                })
                .workers(2)
                .disable_signals()
                .listen(listener)
                .expect("actix-web takes the listener")
                .run();
                actix = Some(server.handle());
                tokio::spawn(async move {
                    if let Err(error) = server.await {
                        panic!("the actix-web test server stopped: {error}");
                    }
                })
            }
        };
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        TestServer {
            addr,
            transport: setup.transport(),
            client,
            task,
            actix,
        }
    }

    /// Serves the demo app.
    pub async fn demo(framework: Framework, setup: &Setup) -> Self {
        TestServer::start(framework, App::Demo, setup).await
    }

    /// The demo on `setup` with the idle timeout `idle` and the absolute cap `absolute`, on a
    /// manual clock starting now, returned with it.
    pub async fn demo_on_clock(
        framework: Framework,
        setup: Setup,
        idle: std::time::Duration,
        absolute: Option<std::time::Duration>,
    ) -> (Self, ManualClock) {
        let clock = ManualClock::starting_now();
        let setup = setup.clock(clock.clone()).timeouts(Some(idle), absolute);
        (TestServer::demo(framework, &setup).await, clock)
    }

    /// How this server expects the id.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The session cookie's name, if the id travels in a cookie.
    pub fn cookie_name(&self) -> Option<&str> {
        match &self.transport {
            Transport::Cookie(name) => Some(name),
            Transport::Param(_) | Transport::Header(_) => None,
        }
    }

    /// The header the id travels in, for `--state header`.
    pub fn id_header(&self) -> Option<HeaderName> {
        match &self.transport {
            Transport::Header(name) => {
                Some(HeaderName::from_bytes(name.as_bytes()).expect("a header name"))
            }
            Transport::Cookie(_) | Transport::Param(_) => None,
        }
    }

    /// `GET path` with no id and no cookie.
    pub async fn get(&self, path: &str) -> Reply {
        self.send(path, &[]).await
    }

    /// `GET path` carrying `id` the way the server expects it: `Cookie: NAME=ID`, or `NAME=ID`
    /// appended to the query string. The value is sent as given, unescaped.
    pub async fn get_as(&self, path: &str, id: &str) -> Reply {
        match &self.transport {
            Transport::Cookie(name) => {
                let header = format!("{name}={id}");
                self.send(path, &[header.as_bytes()]).await
            }
            Transport::Param(name) => {
                let separator = if path.contains('?') { '&' } else { '?' };
                self.send(&format!("{path}{separator}{name}={id}"), &[])
                    .await
            }
            Transport::Header(name) => self.send_headers(path, &[(name, id.as_bytes())]).await,
        }
    }

    /// `GET path` with these headers (name, value sent byte for byte), and no cookie.
    pub async fn send_headers(&self, path: &str, headers: &[(&str, &[u8])]) -> Reply {
        let mut request = self.client.get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            let value = HeaderValue::from_bytes(value).expect("a sendable header value");
            request = request.header(name, value);
        }
        let response = request.send().await.expect("the server answers");
        // Read as this server's transport says.
        Reply::read(response, self.cookie_name())
            .await
            .with_id_header(self.id_header())
    }

    /// `GET path` with one `Cookie` header line per element of `cookie_headers`, sent byte for byte
    /// (non-ASCII bytes included).
    pub async fn send(&self, path: &str, cookie_headers: &[&[u8]]) -> Reply {
        let headers: Vec<(&str, &[u8])> = cookie_headers
            .iter()
            .map(|value| (COOKIE.as_str(), *value))
            .collect();
        self.send_headers(path, &headers).await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        match self.actix.take() {
            // The stop command is sent at once; the server task then ends by itself.
            Some(handle) => drop(handle.stop(false)),
            None => self.task.abort(),
        }
    }
}
