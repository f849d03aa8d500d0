//! The demo's HTTP contract over `--store postgres` and `--store sqlite`, on axum and actix-web:
//! the counter, the caching headers, skip_store and 5xx, login and logout, concurrent writes, the
//! idle timeout and the absolute cap on a manual clock (shared by the engine and the store),
//! sessions that outlive the server, and `--db-table`s that keep applications apart. Each test
//! has a database of its own (a PostgreSQL server on a free loopback port, or a SQLite file in a
//! temporary directory), and reads the tables directly after the requests: a row per session
//! whose `id` is the SHA-256 of the session id, and the raw id nowhere. (The Plack nine steps
//! over both are in `plack.rs`, the two adapters side by side in `parity.rs`, two processes in
//! `sql_store_processes.rs`, PostgreSQL going down in `postgres_fault.rs`.)
//!
//! Each scenario is an `async fn(Framework, Sql)`; [`per_database!`] makes it one test per
//! database and framework (`postgres::on_axum::…`, `sqlite::on_actix::…`).

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use session_core::store::{Clock, ManualClock};
use session_store_sqlx::DEFAULT_TABLE;
use session_tests::sql::{Database, Sql};
use session_tests::{Framework, Setup, TestServer, contract, counter_body};

/// One test per scenario, database and framework: `mod postgres` and `mod sqlite`, each with
/// the `on_axum` and `on_actix` modules of [`session_tests::per_framework!`].
macro_rules! per_database {
    ($($scenario:ident),+ $(,)?) => {
        mod postgres {
            $(
                async fn $scenario(framework: session_tests::Framework) {
                    super::$scenario(framework, session_tests::sql::Sql::Postgres).await
                }
            )+
            session_tests::per_framework!($($scenario),+);
        }
        mod sqlite {
            $(
                async fn $scenario(framework: session_tests::Framework) {
                    super::$scenario(framework, session_tests::sql::Sql::Sqlite).await
                }
            )+
            session_tests::per_framework!($($scenario),+);
        }
    };
}

/// The counter, `/static`, `Vary` and `Cache-Control`, skip_store and a 5xx, in the tables: one
/// row, keyed by the id's digest, holding the counter and nothing that was not committed.
async fn demo_contract(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let server = TestServer::demo(framework, &db.setup(Setup::cookie())).await;
    let id = contract::counter_counts(&server).await;
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    assert_eq!(
        rows.values_of(&id).into_iter().collect::<Vec<_>>(),
        [("counter".to_owned(), "3".to_owned())]
    );

    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    assert_eq!(
        rows.values_of(&id).into_keys().collect::<Vec<_>>(),
        ["counter"],
        "a 5xx or skip_store wrote a value"
    );
    assert_eq!(server.get_as("/", &id).await.body, counter_body(3));
}

/// `--state param`: the id from `/id`, passed back as the query parameter.
async fn param_contract(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let server = TestServer::demo(framework, &db.setup(Setup::param())).await;
    let id = server.get("/id").await.body;
    db.rows(DEFAULT_TABLE).await.assert_sessions(&[&id]);
    server.get_as("/set/colour/blue", &id).await.assert_ok();
    let colour = server.get_as("/get/colour", &id).await;
    assert_eq!(
        (colour.status, colour.body.as_str()),
        (StatusCode::OK, "blue")
    );
    assert!(!colour.has_set_cookie());
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    assert_eq!(rows.values_of(&id)["colour"], "\"blue\"");
}

/// Login moves the data to a new id and removes the old row; logout removes the new one and its
/// values.
async fn login_and_logout(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let server = TestServer::demo(framework, &db.setup(Setup::cookie())).await;
    let old = server.get("/set/a/1").await.expect_new_id();
    db.rows(DEFAULT_TABLE).await.assert_sessions(&[&old]);
    let new = server.get_as("/login", &old).await.expect_new_id();
    assert_ne!(new, old);
    assert_eq!(
        server.get_as("/get/a", &old).await.status,
        StatusCode::NOT_FOUND
    );
    for (key, value) in [("a", "1"), ("user", "demo-user")] {
        let reply = server.get_as(&format!("/get/{key}"), &new).await;
        assert_eq!((reply.status, reply.body.as_str()), (StatusCode::OK, value));
    }
    let rows = db.rows(DEFAULT_TABLE).await;
    // Only the new row: the old one is gone, and neither id is written anywhere.
    rows.assert_sessions(&[&new]);
    rows.assert_id_absent(&old);
    assert_eq!(
        rows.values_of(&new).into_keys().collect::<Vec<_>>(),
        ["a", "user"]
    );

    let logout = server.get_as("/logout", &new).await;
    assert!(logout.session_cookie().is_some_and(|c| c.is_removal()));
    let rows = db.rows(DEFAULT_TABLE).await;
    assert!(rows.is_empty(), "logout left rows: {rows:#?}");
    assert_eq!(
        server.get_as("/get/a", &new).await.status,
        StatusCode::NOT_FOUND
    );
}

/// 50 concurrent requests on one session, each writing its own key: all kept (each request's
/// keys are applied in one transaction), a row each, under the one session row.
async fn concurrent_writes_lose_nothing(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let server = TestServer::demo(framework, &db.setup(Setup::cookie())).await;
    let id = contract::concurrent_writes_lose_nothing(Arc::new(server)).await;
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    let mut names: Vec<String> = rows.values_of(&id).into_keys().collect();
    names.sort_by_key(|name| {
        name.trim_start_matches('k')
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    let expected: Vec<String> = (0..50)
        .map(|n| format!("k{n}"))
        .chain(["counter".into()])
        .collect();
    assert_eq!(names, expected, "a row per value: counter and k0..k49");
}

/// A session left alone past the idle timeout is gone, judged on the manual clock the engine and
/// the store share: the `expires` the row holds is computed from it too.
async fn idle_timeout(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let clock = ManualClock::starting_now();
    let start = clock.now().as_millis() as i64;
    let setup = db
        .setup(Setup::cookie())
        .clock(clock.clone())
        .timeouts(Some(Duration::from_secs(60)), None);
    let server = TestServer::demo(framework, &setup).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    clock.advance(Duration::from_secs(30));
    server.get_as("/set/b/2", &id).await.assert_ok();
    // Written at 30 s on the manual clock: expiring at 90 s, to the millisecond, as the store
    // reads the same clock (on the system clock it would be about 60 s from the test's start).
    let rows = db.rows(DEFAULT_TABLE).await;
    rows.assert_sessions(&[&id]);
    let row = rows.session(&id).expect("the row");
    assert_eq!(
        (row.created, row.last_active, row.expires),
        (start, start + 30_000, start + 90_000),
    );

    clock.advance(Duration::from_secs(59));
    assert_eq!(server.get_as("/get/a", &id).await.status, StatusCode::OK);
    clock.advance(Duration::from_secs(61));
    assert_eq!(
        server.get_as("/get/a", &id).await.status,
        StatusCode::NOT_FOUND
    );
    let fresh = server.get_as("/", &id).await;
    assert_eq!(fresh.body, counter_body(0));
    let fresh = fresh.expect_new_id();
    assert_ne!(fresh, id, "an expired id was adopted");
    let rows = db.rows(DEFAULT_TABLE).await;
    let now = clock.now().as_millis() as i64;
    assert!(rows.session(&fresh).is_some_and(|row| row.expires > now));
    // The expired row may stay until a cleanup, but never counts as live.
    assert!(rows.session(&id).is_none_or(|row| row.expires <= now));
}

/// The absolute cap ends an active session, and the row's `expires` never runs past it.
async fn absolute_timeout(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let (server, clock) = TestServer::demo_on_clock(
        framework,
        db.setup(Setup::cookie()),
        Duration::from_secs(60),
        Some(Duration::from_secs(100)),
    )
    .await;
    let start = clock.now().as_millis() as i64;
    let id = server.get("/set/a/1").await.expect_new_id();
    for _ in 0..3 {
        clock.advance(Duration::from_secs(30));
        server.get_as("/set/b/2", &id).await.assert_ok();
    }
    // At 90 s the session ends at the cap, 100 s: not a fresh idle timeout (150 s).
    let rows = db.rows(DEFAULT_TABLE).await;
    let row = rows.session(&id).expect("the row");
    assert_eq!((row.created, row.expires), (start, start + 100_000));
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        server.get_as("/get/a", &id).await.status,
        StatusCode::NOT_FOUND,
        "alive past the absolute cap"
    );
}

/// Sessions live in the database, not in the server: a new server (a new store and pool) on the
/// same database serves them, and a logout there is final. With `--state param` too.
async fn sessions_outlive_the_server(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let setups = [db.setup(Setup::cookie()), db.setup(Setup::param())];
    contract::sessions_outlive_the_server(framework, &setups).await;
    assert!(db.rows(DEFAULT_TABLE).await.is_empty());
}

/// Two applications on one database with different `--db-table`s do not see each other's
/// sessions; each row is in its application's table.
async fn tables_keep_applications_apart(framework: Framework, sql: Sql) {
    let db = Database::start(sql);
    let shop = TestServer::demo(framework, &db.setup(Setup::cookie()).db_table("shop")).await;
    let blog = TestServer::demo(framework, &db.setup(Setup::cookie()).db_table("blog")).await;
    let id = shop.get("/set/cart/3").await.expect_new_id();
    let elsewhere = blog.get_as("/get/cart", &id).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(!elsewhere.has_set_cookie());
    let other = blog.get("/set/post/1").await.expect_new_id();
    db.rows("shop").await.assert_sessions(&[&id]);
    db.rows("blog").await.assert_sessions(&[&other]);
    assert_eq!(shop.get_as("/get/cart", &id).await.body, "3");
}

per_database!(
    demo_contract,
    param_contract,
    login_and_logout,
    concurrent_writes_lose_nothing,
    idle_timeout,
    absolute_timeout,
    sessions_outlive_the_server,
    tables_keep_applications_apart,
);
