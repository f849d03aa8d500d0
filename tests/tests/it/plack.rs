//! The Plack nine-step scenario (plack-reference.md) over HTTP: two sessions A and B, each
//! request from a fresh client carrying the id it is told to, with CookieState and ParamState on a
//! MemoryStore, the moka CacheStore, the FileStore, the RedisStore (a `redis-server` of each
//! test's own), the PgStore (a database of each test's own) and the SqliteStore (a file of each
//! test's own), and on a NullStore with the expectations adjusted (nothing is ever kept).

use serde_json::{Value, json};
use session_store_redis::testing::RedisServer;
use session_tests::plack_step::{Step, step};
use session_tests::sql::{Database, Sql};
use session_tests::{App, Framework, Setup, TestServer};

/// The id a step gives the client: the session's own id (from the body), which with a cookie
/// must also be the one the `Set-Cookie` carries.
#[track_caller]
fn issued(server: &TestServer, step: &Step, n: u8) -> String {
    let id = step
        .id()
        .unwrap_or_else(|| panic!("step {n}: no id in {}", step.json))
        .to_owned();
    if server.cookie_name().is_some() || server.id_header().is_some() {
        assert_eq!(
            step.reply.new_id().as_deref(),
            Some(id.as_str()),
            "step {n}: cookie or id header"
        );
    } else {
        assert!(
            !step.reply.has_set_cookie(),
            "step {n}: ParamState sent a cookie"
        );
    }
    id
}

/// Checks a step that carried `id` kept it: same id in the body, and any cookie sent is that id.
#[track_caller]
fn kept(step: &Step, n: u8, id: &str) {
    assert_eq!(step.id(), Some(id), "step {n}: the id changed");
    if let Some(sent) = step.reply.new_id() {
        assert_eq!(sent, id, "step {n}: a cookie with another id");
    }
}

/// The nine steps. `keeps` is false for a store that keeps nothing (NullStore): every step then
/// starts from an empty session.
async fn nine_steps(framework: Framework, setup: Setup, keeps: bool) {
    let server = TestServer::start(framework, App::Scenario, &setup).await;
    let when = |kept: Value| if keeps { kept } else { json!({}) };
    let foo_if = |value: &'static str| keeps.then_some(value);

    // 1. No id: new session A.
    let s = step(&server, 1, None).await;
    s.check(1, None, json!({"foo": "bar", "bar": "baz"}));
    let a = issued(&server, &s, 1);

    // 2. No id: new session B, not A.
    let s = step(&server, 2, None).await;
    s.check(2, None, json!({"foo": "baz"}));
    let b = issued(&server, &s, 2);
    assert_ne!(a, b, "step 2: B has A's id");

    // 3. A: foo is bar; remove foo.
    let s = step(&server, 3, Some(&a)).await;
    s.check(3, foo_if("bar"), when(json!({"bar": "baz"})));
    if keeps {
        kept(&s, 3, &a);
    }

    // 4. B: foo is baz.
    let s = step(&server, 4, Some(&b)).await;
    s.check(4, foo_if("baz"), when(json!({"foo": "baz"})));
    if keeps {
        kept(&s, 4, &b);
    }

    // 5. A: foo absent; set baz.
    let s = step(&server, 5, Some(&a)).await;
    let expected = if keeps {
        json!({"bar": "baz", "baz": "gorch"})
    } else {
        json!({"baz": "gorch"})
    };
    s.check(5, None, expected.clone());
    if keeps {
        kept(&s, 5, &a);
    } else {
        assert_ne!(issued(&server, &s, 5), a, "step 5: NullStore adopted A");
    }

    // 6. A: bar is baz; expire. The response removes the cookie.
    let s = step(&server, 6, Some(&a)).await;
    assert_eq!(s.json["bar"].as_str(), foo_if("baz"), "step 6: bar before");
    if keeps {
        assert_eq!(s.json["data"], expected, "step 6: data");
        assert_eq!(s.id(), Some(a.as_str()), "step 6: id");
    }
    if server.cookie_name().is_some() || server.id_header().is_some() {
        // Even when the id named nothing (NullStore), the client holds it: it is told to forget it.
        assert!(s.reply.removes_id(), "step 6: {:?}", s.reply.headers);
    }
    assert!(
        s.reply.new_id().is_none(),
        "step 6: an id was sent with the expiry"
    );

    // 7. A again: not A any more; bar absent; data empty.
    let s = step(&server, 7, Some(&a)).await;
    s.check(7, None, json!({}));
    assert_eq!(
        s.json["bar"],
        Value::Null,
        "step 7: bar survived the expiry"
    );
    assert_ne!(
        s.id(),
        Some(a.as_str()),
        "step 7: A was adopted after expiry"
    );
    assert_ne!(s.reply.new_id().as_deref(), Some(a.as_str()));

    // 8. B: still valid, foo is baz.
    let s = step(&server, 8, Some(&b)).await;
    s.check(8, foo_if("baz"), when(json!({"foo": "baz"})));
    if keeps {
        kept(&s, 8, &b);
    }

    // 9. `../wrong`: not adopted; a new id; foo absent; set foo=baz; the new id carries it.
    let s = step(&server, 9, Some("../wrong")).await;
    s.check(9, None, json!({"foo": "baz"}));
    let new = issued(&server, &s, 9);
    for old in ["../wrong", a.as_str(), b.as_str()] {
        assert_ne!(new, old, "step 9: an old id was reused");
    }
    let s = step(&server, 8, Some(&new)).await;
    s.check(10, foo_if("baz"), when(json!({"foo": "baz"})));
}

async fn cookie_memory(framework: Framework) {
    nine_steps(framework, Setup::cookie(), true).await;
}

async fn param_memory(framework: Framework) {
    nine_steps(framework, Setup::param(), true).await;
}

async fn cookie_null(framework: Framework) {
    nine_steps(framework, Setup::cookie().null_store(), false).await;
}

async fn param_null(framework: Framework) {
    nine_steps(framework, Setup::param().null_store(), false).await;
}

async fn cookie_cache(framework: Framework) {
    nine_steps(framework, Setup::cookie().cache(), true).await;
}

async fn param_cache(framework: Framework) {
    nine_steps(framework, Setup::param().cache(), true).await;
}

async fn cookie_file(framework: Framework) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    nine_steps(framework, Setup::cookie().file(dir.path()), true).await;
}

async fn param_file(framework: Framework) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    nine_steps(framework, Setup::param().file(dir.path()), true).await;
}

async fn cookie_redis(framework: Framework) {
    let redis = RedisServer::start();
    nine_steps(framework, Setup::cookie().redis(redis.url()), true).await;
}

async fn param_redis(framework: Framework) {
    let redis = RedisServer::start();
    nine_steps(framework, Setup::param().redis(redis.url()), true).await;
}

async fn cookie_postgres(framework: Framework) {
    let db = Database::start(Sql::Postgres);
    nine_steps(framework, db.setup(Setup::cookie()), true).await;
}

async fn param_postgres(framework: Framework) {
    let db = Database::start(Sql::Postgres);
    nine_steps(framework, db.setup(Setup::param()), true).await;
}

async fn cookie_sqlite(framework: Framework) {
    let db = Database::start(Sql::Sqlite);
    nine_steps(framework, db.setup(Setup::cookie()), true).await;
}

async fn param_sqlite(framework: Framework) {
    let db = Database::start(Sql::Sqlite);
    nine_steps(framework, db.setup(Setup::param()), true).await;
}

async fn header_memory(framework: Framework) {
    nine_steps(framework, Setup::header(None), true).await;
}

async fn named_header_memory(framework: Framework) {
    nine_steps(framework, Setup::header(Some("X-Api-Session")), true).await;
}

async fn header_null(framework: Framework) {
    nine_steps(framework, Setup::header(None).null_store(), false).await;
}

async fn named_header_redis(framework: Framework) {
    let redis = RedisServer::start();
    let setup = Setup::header(Some("x-api-session")).redis(redis.url());
    nine_steps(framework, setup, true).await;
}

session_tests::per_framework!(
    cookie_memory,
    param_memory,
    cookie_null,
    param_null,
    cookie_cache,
    param_cache,
    cookie_file,
    param_file,
    cookie_redis,
    param_redis,
    cookie_postgres,
    param_postgres,
    cookie_sqlite,
    param_sqlite,
    header_memory,
    named_header_memory,
    header_null,
    named_header_redis,
);
