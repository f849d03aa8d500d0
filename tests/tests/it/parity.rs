//! Differential test: the same requests to the demo on axum and on actix-web, side by side, must
//! get the same answers: status, body and every session header (`Set-Cookie` with its
//! attributes, `Vary`, `Cache-Control`), ids masked as `ID1`, `ID2`, ... in order of first
//! appearance on each server. Any behaviour the other suites do not assert one by one is still
//! covered here: a difference between the adapters is a failing test.

use std::collections::HashMap;

use http::header::{CACHE_CONTROL, VARY};
use session_core::state::{DefaultIds, IdScheme};
use session_tests::sql::{Database, Sql};
use session_tests::{Framework, Reply, Setup, TestServer, ids};

/// One client of one server: its cookie jar (the id, if any) and the masks for the ids it saw.
struct Client {
    server: TestServer,
    id: Option<String>,
    masks: HashMap<String, String>,
}

/// What a request sends along with the path.
#[derive(Clone, Copy, Debug)]
enum Sends {
    /// The id from the jar, if any.
    Jar,
    /// The id from the jar, then a second, unknown one (two `Cookie` lines).
    JarAndUnknown,
    /// A fixed cookie header, the same for both servers.
    Raw(&'static [u8]),
}

impl Client {
    async fn new(framework: Framework, setup: &Setup) -> Self {
        Client {
            server: TestServer::demo(framework, setup).await,
            id: None,
            masks: HashMap::new(),
        }
    }

    fn mask(&mut self, id: &str) -> String {
        let next = format!("ID{}", self.masks.len() + 1);
        self.masks.entry(id.to_owned()).or_insert(next).clone()
    }

    /// Sends the request and returns its answer in comparable form.
    async fn request(&mut self, path: &str, sends: Sends) -> String {
        let name = self
            .server
            .cookie_name()
            .expect("a cookie setup")
            .to_owned();
        let unknown = format!("{name}={}", ids::unknown_id());
        let jar = self.id.as_ref().map(|id| format!("{name}={id}"));
        let mut lines: Vec<&[u8]> = Vec::new();
        match sends {
            Sends::Jar => lines.extend(jar.as_deref().map(str::as_bytes)),
            Sends::JarAndUnknown => {
                lines.extend(jar.as_deref().map(str::as_bytes));
                lines.push(unknown.as_bytes());
            }
            Sends::Raw(raw) => lines.push(raw),
        }
        let reply = self.server.send(path, &lines).await;
        self.observe(&reply)
    }

    /// Updates the jar from the reply and renders the reply with ids masked.
    fn observe(&mut self, reply: &Reply) -> String {
        let mut cookies = Vec::new();
        for cookie in reply.set_cookies() {
            let value = if cookie.value.is_empty() {
                String::new()
            } else {
                self.mask(&cookie.value)
            };
            if cookie.is_removal() {
                self.id = None;
            } else {
                self.id = Some(cookie.value.clone());
            }
            cookies.push(format!("{}={value} {:?}", cookie.name, cookie.attributes));
        }
        let mut body = reply.body.clone();
        if let Some(mask) = self.masks.get(&body) {
            body = mask.clone();
        } else if self.id.as_deref() == Some(body.as_str()) || DefaultIds.is_valid(&body) {
            // The jar's id, or (with a sealed cookie, whose value is not the id) an id from `/id`.
            body = self.mask(&reply.body);
        }
        let values = |name| {
            reply
                .headers
                .get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap_or("<bytes>").to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        format!(
            "{} body={body:?} set-cookie={cookies:?} vary={:?} cache-control={:?}",
            reply.status,
            values(VARY),
            values(CACHE_CONTROL),
        )
    }
}

/// Runs the script against both frameworks and compares every step.
async fn same_answers(setup: Setup, script: &[(&str, Sends)]) {
    let mut axum = Client::new(Framework::Axum, &setup).await;
    let mut actix = Client::new(Framework::Actix, &setup).await;
    for (n, (path, sends)) in script.iter().enumerate() {
        let on_axum = axum.request(path, *sends).await;
        let on_actix = actix.request(path, *sends).await;
        assert_eq!(
            on_axum, on_actix,
            "step {n}: GET {path} with {sends:?}: axum (left) and actix-web (right) differ"
        );
    }
    assert!(!axum.masks.is_empty(), "the script never created a session");
    assert_eq!(axum.masks.len(), actix.masks.len(), "as many ids issued");
}

const DEMO_SCRIPT: &[(&str, Sends)] = &[
    ("/static", Sends::Jar),
    ("/get/counter", Sends::Jar),
    ("/", Sends::Jar),
    ("/", Sends::Jar),
    ("/get/counter", Sends::Jar),
    ("/set/colour/blue", Sends::Jar),
    ("/get/colour", Sends::Jar),
    ("/get/missing", Sends::Jar),
    ("/static", Sends::Jar),
    ("/nostore", Sends::Jar),
    ("/get/nostore", Sends::Jar),
    ("/fail", Sends::Jar),
    ("/get/failed", Sends::Jar),
    ("/id", Sends::Jar),
    ("/", Sends::JarAndUnknown),
    ("/login", Sends::Jar),
    ("/get/user", Sends::Jar),
    ("/get/colour", Sends::Jar),
    ("/id", Sends::Jar),
    ("/logout", Sends::Jar),
    ("/get/user", Sends::Jar),
    ("/logout", Sends::Jar),
    ("/", Sends::Raw(b"id=../../etc/passwd")),
    ("/", Sends::Raw(b"id=\"unterminated; other=1")),
    ("/", Sends::Raw(b"id=\xff\xfe; id=")),
    ("/logout", Sends::Raw(b"id=not-a-valid-id")),
    ("/no/such/route", Sends::Jar),
    ("/", Sends::Jar),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_routes_answer_the_same_on_both_adapters() {
    same_answers(Setup::cookie(), DEMO_SCRIPT).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_timeouts_and_a_custom_cookie_name_too() {
    let mut args = Setup::cookie().args().clone();
    args.session_key = Some("__Host-sid".into());
    args.idle_timeout = Some(std::time::Duration::from_secs(600));
    args.absolute_timeout = Some(std::time::Duration::from_secs(3600));
    let script: Vec<_> = DEMO_SCRIPT
        .iter()
        .filter(|(_, sends)| !matches!(sends, Sends::Raw(_)))
        .copied()
        .collect();
    same_answers(Setup::new(args), &script).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_cache_and_file_stores_too() {
    same_answers(Setup::cookie().cache(), DEMO_SCRIPT).await;
    // Both servers share the directory, as two processes of one application would.
    let dir = tempfile::tempdir().expect("a temporary directory");
    same_answers(Setup::cookie().file(dir.path()), DEMO_SCRIPT).await;
}

/// Both servers on one Redis (their own `redis-server`), as two processes of one application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_redis_store_too() {
    let redis = session_store_redis::testing::RedisServer::start();
    same_answers(Setup::cookie().redis(redis.url()), DEMO_SCRIPT).await;
}

/// Both servers on one PostgreSQL database, as two processes of one application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_postgres_store_too() {
    let db = Database::start(Sql::Postgres);
    same_answers(db.setup(Setup::cookie()), DEMO_SCRIPT).await;
}

/// Both servers on one SQLite file, as two processes of one application.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_sqlite_store_too() {
    let db = Database::start(Sql::Sqlite);
    same_answers(db.setup(Setup::cookie()), DEMO_SCRIPT).await;
}

/// The sealed cookie store, in both modes: cookie values (a new one on every write) and the ids
/// `/id` answers are masked in order of appearance. The whole script applies: it never relies on
/// a server-side store's revocation or merging (a replayed old value is not in it), and it
/// compares the two adapters with each other, not with a server-side store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_sealed_cookie_store_too() {
    same_answers(Setup::sealed(), DEMO_SCRIPT).await;
    let signed = Setup::sealed().seal_mode(session_state_cookie::SealMode::Signed);
    same_answers(signed, DEMO_SCRIPT).await;
}
