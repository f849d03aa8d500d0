//! Sessions per user over real HTTP, on axum and actix-web, on every server-side store (memory,
//! moka cache, file, Redis, Redis Cluster, PostgreSQL, SQLite): `/login/NAME` binds, `/sessions` lists,
//! `/revoke/HANDLE`, `/logout-everywhere` and `/logout-others` end; a limit per user; a login racing
//! a logout-everywhere; and the stores that cannot list (null, sealed cookie) answering 501.
//!
//! Each scenario is an `async fn(Framework, Kind)`; [`per_store!`] makes it one test per store and
//! framework (`redis::on_actix::…`).

use std::any::Any;
use std::collections::BTreeSet;
use std::sync::Arc;

use http::StatusCode;
use serde_json::Value;
use session_store_redis::testing::{RedisCluster, RedisServer};
use session_tests::sql::{Database, Sql};
use session_tests::{Framework, Setup, TestServer, counter_body};

/// A server-side store the scenarios run on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Memory,
    Cache,
    File,
    Redis,
    RedisCluster,
    Postgres,
    Sqlite,
}

/// A setup on `kind`, and what must live as long as the server (a Redis server, a database, a
/// directory).
fn backing(kind: Kind, setup: Setup) -> (Setup, Box<dyn Any + Send>) {
    match kind {
        Kind::Memory => (setup, Box::new(())),
        Kind::Cache => (setup.cache(), Box::new(())),
        Kind::File => {
            let dir = tempfile::tempdir().expect("a temporary directory");
            (setup.file(dir.path()), Box::new(dir))
        }
        Kind::Redis => {
            let redis = RedisServer::start();
            (setup.redis(redis.url()), Box::new(redis))
        }
        Kind::RedisCluster => {
            let cluster = RedisCluster::start();
            (setup.redis_cluster(cluster.urls()), Box::new(cluster))
        }
        Kind::Postgres | Kind::Sqlite => {
            let sql = match kind {
                Kind::Postgres => Sql::Postgres,
                _ => Sql::Sqlite,
            };
            let db = Database::start(sql);
            (db.setup(setup), Box::new(db))
        }
    }
}

/// A demo server on `kind`, with the demo's `--sessions-per-user` if `limit` is given.
async fn server(
    framework: Framework,
    kind: Kind,
    limit: Option<usize>,
) -> (TestServer, Box<dyn Any + Send>) {
    let mut args = Setup::cookie().args().clone();
    args.sessions_per_user = limit;
    let (setup, keep) = backing(kind, Setup::new(args));
    (TestServer::demo(framework, &setup).await, keep)
}

/// `/login/NAME` from `id` (or from no session): the new id.
async fn login(server: &TestServer, name: &str, id: Option<&str>) -> String {
    let path = format!("/login/{name}");
    let reply = match id {
        Some(id) => server.get_as(&path, id).await,
        None => server.get(&path).await,
    };
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, format!("logged in as {name}").as_str())
    );
    reply.expect_new_id()
}

/// One entry of `/sessions`.
#[derive(Debug)]
struct Listed {
    handle: String,
    created: u64,
    last_active: u64,
    current: bool,
}

/// `/sessions` as `id`: the entries, or the status when it is not 200.
async fn sessions(server: &TestServer, id: &str) -> Result<Vec<Listed>, StatusCode> {
    let reply = server.get_as("/sessions", id).await;
    if reply.status != StatusCode::OK {
        return Err(reply.status);
    }
    let json: Value = serde_json::from_str(&reply.body).expect("a JSON body");
    let items = json.as_array().expect("a JSON array");
    Ok(items
        .iter()
        .map(|item| Listed {
            handle: item["handle"].as_str().expect("a handle").to_owned(),
            created: item["created"].as_u64().expect("created"),
            last_active: item["last_active"].as_u64().expect("last_active"),
            current: item["current"].as_bool().expect("current"),
        })
        .collect())
}

/// The handle of the session `id` (its own entry in `/sessions`).
async fn own_handle(server: &TestServer, id: &str) -> String {
    let listed = sessions(server, id).await.expect("a bound session lists");
    let mine: Vec<_> = listed.iter().filter(|l| l.current).collect();
    assert_eq!(mine.len(), 1, "exactly one entry is current: {listed:?}");
    mine[0].handle.clone()
}

/// The user the session `id` is logged in as, if it is alive.
async fn user_of(server: &TestServer, id: &str) -> Option<String> {
    let reply = server.get_as("/get/user", id).await;
    (reply.status == StatusCode::OK).then_some(reply.body)
}

/// Two clients of one user see two sessions (each marked current in its own list, with sane
/// times); another user's sessions are apart; a revoked session's next request is anonymous; a
/// handle is not a cookie; logout-others keeps only the caller; logout-everywhere ends all of
/// the user's and none of another's, removing the caller's cookie; 401 without a login.
async fn lifecycle(framework: Framework, kind: Kind) {
    let (server, _keep) = server(framework, kind, None).await;
    let anonymous = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(
        sessions(&server, &anonymous).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        server.get_as("/logout-everywhere", &anonymous).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Logging in changes the id and keeps the data.
    let first = login(&server, "alice", Some(&anonymous)).await;
    assert_ne!(first, anonymous);
    assert_eq!(user_of(&server, &anonymous).await, None, "the old id lives");
    let a = server.get_as("/get/a", &first).await;
    assert_eq!((a.status, a.body.as_str()), (StatusCode::OK, "1"));
    let second = login(&server, "alice", None).await;
    let bob = login(&server, "bob", None).await;

    let from_first = sessions(&server, &first).await.expect("alice lists");
    let from_second = sessions(&server, &second).await.expect("alice lists");
    assert_eq!(from_first.len(), 2, "{from_first:?}");
    let handles = |listed: &[Listed]| -> BTreeSet<String> {
        listed.iter().map(|l| l.handle.clone()).collect()
    };
    assert_eq!(handles(&from_first), handles(&from_second));
    let (first_handle, second_handle) = (
        own_handle(&server, &first).await,
        own_handle(&server, &second).await,
    );
    assert_ne!(first_handle, second_handle);
    for listed in &from_first {
        assert!(listed.created > 1_600_000_000_000, "{listed:?}");
        assert!(listed.last_active >= listed.created, "{listed:?}");
    }
    let bob_handle = own_handle(&server, &bob).await;
    assert_eq!(sessions(&server, &bob).await.expect("bob").len(), 1);
    assert!(!handles(&from_first).contains(&bob_handle));

    // A handle is not a cookie: it opens nothing, and the session it names lives on.
    let as_cookie = server.get_as("/", &second_handle).await;
    assert_eq!(as_cookie.body, counter_body(0));
    assert_ne!(as_cookie.expect_new_id(), second_handle);
    assert_eq!(user_of(&server, &second).await.as_deref(), Some("alice"));

    // Another user's handle, and one that names nothing: 404, nothing ended.
    for handle in [
        bob_handle.as_str(),
        "AAAAAAAAAAAAAAAAAAAAAA",
        "not-a-handle",
    ] {
        let reply = server.get_as(&format!("/revoke/{handle}"), &first).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{handle}");
    }
    assert_eq!(user_of(&server, &bob).await.as_deref(), Some("bob"));

    // Revoking the second session: its next request is anonymous.
    let revoke = server
        .get_as(&format!("/revoke/{second_handle}"), &first)
        .await;
    assert_eq!(revoke.status, StatusCode::OK, "{}", revoke.body);
    assert_eq!(user_of(&server, &second).await, None);
    assert_eq!(
        sessions(&server, &second).await.err(),
        Some(StatusCode::UNAUTHORIZED)
    );
    let left = sessions(&server, &first).await.expect("alice lists");
    assert_eq!(handles(&left), BTreeSet::from([first_handle.clone()]));

    // Logout-others: the caller stays, the others go.
    let third = login(&server, "alice", None).await;
    let fourth = login(&server, "alice", None).await;
    let others = server.get_as("/logout-others", &third).await;
    assert_eq!(
        (others.status, others.body.as_str()),
        (StatusCode::OK, "ended 2 other sessions")
    );
    assert_eq!(user_of(&server, &first).await, None);
    assert_eq!(user_of(&server, &fourth).await, None);
    assert_eq!(user_of(&server, &third).await.as_deref(), Some("alice"));

    // Logout-everywhere from a fifth: both it and the third end; bob is untouched.
    let fifth = login(&server, "alice", None).await;
    let everywhere = server.get_as("/logout-everywhere", &fifth).await;
    assert_eq!(
        (everywhere.status, everywhere.body.as_str()),
        (StatusCode::OK, "ended 2 sessions")
    );
    assert!(
        everywhere.session_cookie().is_some_and(|c| c.is_removal()),
        "no removal cookie: {:?}",
        everywhere.headers
    );
    for id in [&third, &fifth] {
        assert_eq!(user_of(&server, id).await, None);
    }
    assert_eq!(user_of(&server, &bob).await.as_deref(), Some("bob"));
    assert_eq!(sessions(&server, &bob).await.expect("bob").len(), 1);
}

/// `--sessions-per-user 2`: a third login ends the least recently active session, never the one
/// logging in.
async fn limit_per_user(framework: Framework, kind: Kind) {
    let (server, _keep) = server(framework, kind, Some(2)).await;
    // Times are in milliseconds: steps a few apart, so that they order.
    let tick = || tokio::time::sleep(std::time::Duration::from_millis(5));
    let oldest = login(&server, "carol", None).await;
    tick().await;
    let middle = login(&server, "carol", None).await;
    tick().await;
    // The oldest is used again: the middle one is now the least recently active. (The touch
    // interval keeps last_active from moving on a read, so write.)
    server.get_as("/set/x/1", &oldest).await.assert_ok();
    tick().await;
    let newest = login(&server, "carol", None).await;
    assert_eq!(
        user_of(&server, &middle).await,
        None,
        "the least recent lives"
    );
    for id in [&oldest, &newest] {
        assert_eq!(user_of(&server, id).await.as_deref(), Some("carol"));
    }
    assert_eq!(sessions(&server, &newest).await.expect("lists").len(), 2);
}

/// Logins (new ones, and sessions logging in again) racing a logout-everywhere: afterwards every
/// session of the user that is alive is one the user's list shows, and the sessions that had not
/// logged in again are all ended.
async fn login_racing_logout_everywhere(framework: Framework, kind: Kind) {
    let (server, _keep) = server(framework, kind, None).await;
    let server = Arc::new(server);
    let mut steady = Vec::new();
    for _ in 0..6 {
        steady.push(login(&server, "dave", None).await);
    }
    let movers: Vec<String> = steady.drain(..3).collect();
    let ender = login(&server, "dave", None).await;
    let mut tasks = Vec::new();
    for n in 0..6 {
        let server = server.clone();
        let from = movers.get(n).cloned();
        tasks.push(tokio::spawn(async move {
            let path = "/login/dave";
            let reply = match &from {
                Some(id) => server.get_as(path, id).await,
                None => server.get(path).await,
            };
            reply.new_id()
        }));
    }
    let everywhere = server.get_as("/logout-everywhere", &ender).await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.body);
    let mut issued = Vec::new();
    for task in tasks {
        issued.extend(task.await.expect("a login task"));
    }
    for id in steady.iter().chain([&ender]) {
        assert_eq!(user_of(&server, id).await, None, "a steady session lived");
    }
    // What lives is what the list shows.
    let checker = login(&server, "dave", None).await;
    let listed = sessions(&server, &checker).await.expect("lists");
    let listed: BTreeSet<String> = listed.into_iter().map(|l| l.handle).collect();
    let mut alive = BTreeSet::new();
    for id in issued.iter().chain(&movers) {
        if user_of(&server, id).await.as_deref() == Some("dave") {
            alive.insert(own_handle(&server, id).await);
        }
    }
    alive.insert(own_handle(&server, &checker).await);
    assert_eq!(alive, listed, "alive sessions and the list differ");
}

/// One test per scenario, store and framework: `mod NAME` for the store `Kind::KIND`.
macro_rules! per_store {
    ($($module:ident: $kind:ident),+ $(,)?) => {
        $(
            mod $module {
                async fn lifecycle(framework: session_tests::Framework) {
                    super::lifecycle(framework, super::Kind::$kind).await
                }
                async fn limit_per_user(framework: session_tests::Framework) {
                    super::limit_per_user(framework, super::Kind::$kind).await
                }
                async fn login_racing_logout_everywhere(framework: session_tests::Framework) {
                    super::login_racing_logout_everywhere(framework, super::Kind::$kind).await
                }
                session_tests::per_framework!(
                    lifecycle,
                    limit_per_user,
                    login_racing_logout_everywhere
                );
            }
        )+
    };
}

per_store!(
    memory: Memory,
    cache: Cache,
    file: File,
    redis: Redis,
    redis_cluster: RedisCluster,
    postgres: Postgres,
    sqlite: Sqlite,
);

/// The null store and the sealed cookie cannot list a user's sessions: `/sessions` answers 501,
/// logged in or not.
async fn unlisted_stores_answer_501(framework: Framework) {
    for setup in [Setup::cookie().null_store(), Setup::sealed()] {
        let server = TestServer::demo(framework, &setup).await;
        let login = server.get("/login/erin").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let id = login.new_id().unwrap_or_default();
        for path in ["/sessions", "/logout-others"] {
            let reply = server.get_as(path, &id).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_IMPLEMENTED,
                "{path} {setup:?}"
            );
        }
        let anonymous = server.get("/sessions").await;
        assert_eq!(anonymous.status, StatusCode::NOT_IMPLEMENTED);
    }
}

/// Sealed cookies with `--revocations memory` (and `redis`): two browsers logged in as one user;
/// logout-everywhere from one refuses the other's sealed session at its next request (a fresh
/// session), another user's is untouched, and a login afterwards works. Without `--revocations`,
/// logout-everywhere answers 501.
async fn sealed_logout_everywhere(framework: Framework, redis: bool) {
    let redis_server = redis.then(RedisServer::start);
    let mut setup = Setup::sealed();
    let mut args = setup.args().clone();
    args.revocations = Some(match &redis_server {
        Some(server) => {
            args.redis_url = Some(server.url());
            session_examples::demo::Revocations::Redis
        }
        None => session_examples::demo::Revocations::Memory,
    });
    setup = Setup::new(args);
    let server = TestServer::demo(framework, &setup).await;
    let first = login(&server, "alice", None).await;
    let second = login(&server, "alice", None).await;
    let bob = login(&server, "bob", None).await;
    assert_eq!(user_of(&server, &second).await.as_deref(), Some("alice"));

    let everywhere = server.get_as("/logout-everywhere", &first).await;
    assert_eq!(everywhere.status, StatusCode::OK, "{}", everywhere.body);
    assert!(everywhere.session_cookie().is_some_and(|c| c.is_removal()));
    for id in [&first, &second] {
        assert_eq!(
            user_of(&server, id).await,
            None,
            "a sealed session lived on"
        );
        let counter = server.get_as("/", id).await;
        assert_eq!(counter.body, counter_body(0));
    }
    assert_eq!(user_of(&server, &bob).await.as_deref(), Some("bob"));
    let again = login(&server, "alice", None).await;
    assert_eq!(user_of(&server, &again).await.as_deref(), Some("alice"));
    // Still not listable.
    assert_eq!(
        server.get_as("/sessions", &again).await.status,
        StatusCode::NOT_IMPLEMENTED
    );
    if let Some(redis) = &redis_server {
        let keys = session_tests::redis::keys(&redis.url()).await;
        assert_eq!(keys.len(), 1, "one not-before record: {keys:?}");
    }

    let plain = TestServer::demo(framework, &Setup::sealed()).await;
    let id = login(&plain, "alice", None).await;
    let reply = plain.get_as("/logout-everywhere", &id).await;
    assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED);
    assert_eq!(user_of(&plain, &id).await.as_deref(), Some("alice"));
}

async fn sealed_logout_everywhere_in_memory(framework: Framework) {
    sealed_logout_everywhere(framework, false).await;
}

async fn sealed_logout_everywhere_in_redis(framework: Framework) {
    sealed_logout_everywhere(framework, true).await;
}

session_tests::per_framework!(
    unlisted_stores_answer_501,
    sealed_logout_everywhere_in_memory,
    sealed_logout_everywhere_in_redis
);
