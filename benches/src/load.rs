//! The end-to-end benches' load driver (`redis`, `sql`): keep-alive HTTP/1.1 clients on loopback,
//! each a browser with a session of its own, every answer checked.
//!
//! A contender's clients are set up first (each sends its first request, which creates its
//! session), then [`drive`] runs them all at once: a warm-up, then the measured window. Each client
//! sends its next request as soon as the last answer is read.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::header::{COOKIE, HOST, SET_COOKIE};
use http::{HeaderValue, Request, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::runtime::Runtime;

/// The route's answer for a visit that found `n`.
pub fn hello(n: u64) -> String {
    format!("Hello, you've been here for {n}th time!")
}

/// How long and how hard each contender is driven.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Keep-alive connections (clients) driven at once.
    pub connections: usize,
    /// How long they run before the measurement starts.
    pub warm_up: Duration,
    /// The measured window.
    pub measure: Duration,
}

impl Load {
    /// The real run under `cargo bench` (`--bench` among the arguments), a smoke test otherwise.
    pub fn from_args() -> Load {
        if std::env::args().any(|arg| arg == "--bench") {
            Load::measured(5.0)
        } else {
            Load::smoke()
        }
    }

    /// A real run: `SESSION_BENCH_CONNECTIONS` connections (default 32), a 1 s warm-up, and
    /// `SESSION_BENCH_SECS` seconds measured (default `default_secs`).
    pub fn measured(default_secs: f64) -> Load {
        let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
        Load {
            connections: env("SESSION_BENCH_CONNECTIONS").map_or(32, |n| n as usize),
            warm_up: Duration::from_secs(1),
            measure: Duration::from_secs_f64(env("SESSION_BENCH_SECS").unwrap_or(default_secs)),
        }
    }

    /// A smoke test: 4 connections for a moment.
    pub fn smoke() -> Load {
        Load {
            connections: 4,
            warm_up: Duration::from_millis(50),
            measure: Duration::from_millis(200),
        }
    }
}

/// One client of the load driver: a connection with a session of its own.
pub trait Client: Send + 'static {
    /// Sends one request and checks its answer; panics on anything unexpected.
    fn request(&mut self) -> impl Future<Output = ()> + Send;
}

/// What one contender's run measured.
#[derive(Debug)]
pub struct Outcome {
    /// Every request served, warm-up included (for the server's counts per request).
    pub total: u64,
    /// Requests completed within the measurement window, per second.
    pub rps: f64,
    /// The median latency of the measured requests.
    pub p50: Duration,
    /// Their 99th percentile latency.
    pub p99: Duration,
}

/// Drives `clients` concurrently: warm-up, then the measured window; gives the clients back, for
/// another run.
///
/// A request counts when it started after the warm-up and ended within the window.
pub async fn drive<C: Client>(clients: Vec<C>, load: Load) -> (Outcome, Vec<C>) {
    let start = Instant::now();
    let measured_from = start + load.warm_up;
    let until = measured_from + load.measure;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let mut total = 0u64;
                let mut latencies = Vec::new();
                loop {
                    let sent = Instant::now();
                    if sent >= until {
                        break;
                    }
                    client.request().await;
                    let done = Instant::now();
                    total += 1;
                    if sent >= measured_from && done <= until {
                        latencies.push(done - sent);
                    }
                }
                (total, latencies, client)
            })
        })
        .collect();
    let mut total = 0;
    let mut latencies = Vec::new();
    let mut clients = Vec::with_capacity(tasks.len());
    for task in tasks {
        let (served, measured, client) = task.await.expect("a client panicked");
        total += served;
        latencies.extend(measured);
        clients.push(client);
    }
    latencies.sort_unstable();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    let outcome = Outcome {
        total,
        rps: latencies.len() as f64 / load.measure.as_secs_f64(),
        p50: percentile(50),
        p99: percentile(99),
    };
    (outcome, clients)
}

/// What a client checks in each answer's body.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// The floors' answer, always for 0.
    Zero,
    /// The counter of a session this client alone uses: the next answer shows this.
    Counter(u64),
    /// A session shared with other clients: any counter (but a session cookie to send).
    Shared,
    /// A read-only route on a session this client alone uses: every answer shows this.
    Fixed(u64),
}

/// An HTTP/1.1 keep-alive connection to a contender, with the session cookie it was given.
#[derive(Debug)]
pub struct HttpClient {
    sender: SendRequest<Empty<Bytes>>,
    cookie: Option<HeaderValue>,
    expect: Expect,
    path: &'static str,
}

impl HttpClient {
    /// Connects to `addr`; `counting` says whether the route keeps a counter (a session).
    pub async fn connect(addr: SocketAddr, counting: bool) -> HttpClient {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("the server accepts");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("an HTTP/1.1 connection");
        tokio::spawn(connection);
        HttpClient {
            sender,
            cookie: None,
            expect: if counting {
                Expect::Counter(0)
            } else {
                Expect::Zero
            },
            path: "/",
        }
    }

    /// Sends `GET path` with the session's cookie, outside the measurement (to fill the session,
    /// say): it must answer 200; a new cookie is followed, the body ignored.
    pub async fn prepare(&mut self, path: &str) {
        let (status, _) = self.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path} answers 200");
    }

    /// `GET path` with the session's cookie; a new cookie is followed. The status and the body.
    async fn get(&mut self, path: &str) -> (StatusCode, Bytes) {
        let mut request = Request::get(path).header(HOST, "127.0.0.1");
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie.clone());
        }
        let request = request.body(Empty::new()).expect("a valid request");
        self.sender
            .ready()
            .await
            .expect("the connection stays open");
        let response = self.sender.send_request(request).await.expect("a response");
        if let Some(set_cookie) = response.headers().get(SET_COOKIE) {
            self.cookie = Some(crate::cookie_pair(set_cookie));
        }
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a whole body")
            .to_bytes();
        (status, body)
    }

    /// From now on, requests `GET /read` (the session's counter, read and not written): the
    /// answers then show the counter the session holds now.
    pub fn read_only(&mut self) {
        self.path = "/read";
        if let Expect::Counter(n) = self.expect {
            self.expect = Expect::Fixed(n);
        }
    }
}

impl Client for HttpClient {
    async fn request(&mut self) {
        let (status, body) = self.get(self.path).await;
        match &mut self.expect {
            Expect::Shared => {
                assert_eq!(status, StatusCode::OK, "every answer is a 200");
                assert!(
                    body.starts_with(b"Hello, you've been here for "),
                    "every answer shows a counter"
                );
            }
            expect => {
                let n = match expect {
                    Expect::Counter(n) | Expect::Fixed(n) => *n,
                    _ => 0,
                };
                assert_eq!(
                    (status, &body[..]),
                    (StatusCode::OK, hello(n).as_bytes()),
                    "every answer is a 200 with the counter this connection expects"
                );
                if let Expect::Counter(n) = expect {
                    assert!(
                        self.cookie.is_some(),
                        "the first answer sets a session cookie"
                    );
                    *n += 1;
                }
            }
        }
    }
}

/// Opens `load.connections` clients to `addr` and sends each one's first request.
///
/// That request creates its session, outside the measurement.
pub async fn http_clients(addr: SocketAddr, counting: bool, load: Load) -> Vec<HttpClient> {
    let mut clients = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        let mut client = HttpClient::connect(addr, counting).await;
        client.request().await;
        clients.push(client);
    }
    clients
}

/// Gives every client's session `count` more values of `bytes` characters (`GET
/// /fill/COUNT/BYTES`, see [`filler`](crate::filler)), outside the measurement.
pub async fn fill(clients: &mut [HttpClient], (count, bytes): (usize, usize)) {
    let path = format!("/fill/{count}/{bytes}");
    for client in clients {
        client.prepare(&path).await;
    }
}

/// Opens `load.connections` clients to `addr` that all use one session: the first one's first
/// request creates it, and the others start with its cookie. Answers are checked for a 200 and a
/// counter, not for which count (the clients' requests interleave).
pub async fn http_clients_sharing(addr: SocketAddr, load: Load) -> Vec<HttpClient> {
    let mut first = HttpClient::connect(addr, true).await;
    first.request().await;
    first.expect = Expect::Shared;
    let cookie = first
        .cookie
        .clone()
        .expect("the first answer sets a session cookie");
    let mut clients = vec![first];
    for _ in 1..load.connections {
        let mut client = HttpClient::connect(addr, true).await;
        client.cookie = Some(cookie.clone());
        client.expect = Expect::Shared;
        client.request().await;
        clients.push(client);
    }
    clients
}

/// A multi-threaded Tokio runtime with `threads` workers, timers and I/O enabled.
pub fn runtime(threads: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}
