//! The demo over other configurations: `--state param`, `--store null`, and a store that is down.

use http::StatusCode;
use session_core::state::{DefaultIds, IdScheme};
use session_tests::ids::unknown_id;
use session_tests::{FailingStore, Framework, Reply, Setup, TestServer, counter_body};

#[track_caller]
fn assert_no_cookie(reply: &Reply, what: &str) {
    assert!(
        !reply.has_set_cookie(),
        "{what}: ParamState sent a cookie: {:?}",
        reply.headers
    );
}

/// `--state param`: `/id` gives the id, `/?plack_session=ID` counts 0, 1, 2; no `Set-Cookie`, ever.
async fn param_state_counts(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::param()).await;
    let reply = server.get("/id").await;
    reply.assert_ok();
    assert_no_cookie(&reply, "/id");
    let id = reply.body.clone();
    assert!(DefaultIds.is_valid(&id), "/id answered {id:?}");

    for n in 0..3 {
        let reply = server.get(&format!("/?plack_session={id}")).await;
        assert_eq!(reply.body, counter_body(n));
        assert_no_cookie(&reply, "counter");
    }
    let again = server.get_as("/id", &id).await;
    assert_eq!(again.body, id, "/id changed the id of a live session");
    assert_no_cookie(&again, "/id again");

    // Another /id is another session.
    let other = server.get("/id").await.body;
    assert_ne!(other, id);
    assert_eq!(server.get_as("/", &other).await.body, counter_body(0));

    // Without the parameter every request is a new visitor; writes, login and logout send nothing.
    for path in ["/", "/", "/set/a/1", "/login", "/nostore", "/fail"] {
        let reply = server.get(path).await;
        assert_no_cookie(&reply, path);
        if path == "/" {
            assert_eq!(reply.body, counter_body(0));
        }
    }
    for path in ["/set/a/1", "/logout"] {
        assert_no_cookie(&server.get_as(path, &id).await, path);
    }
    // Logout ended the session.
    assert_eq!(server.get_as("/", &id).await.body, counter_body(0));
    // Login rotates the id without sending anything: the old id is dead.
    assert_no_cookie(&server.get_as("/login", &other).await, "/login");
    let dead = server.get_as("/get/counter", &other).await;
    assert_eq!(dead.status, StatusCode::NOT_FOUND, "login kept the old id");
}

/// `--state param`: a well-formed unknown id and hostile values are never adopted.
async fn param_state_ignores_unknown_ids(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::param()).await;
    let unknown = unknown_id();
    for _ in 0..2 {
        let reply = server.get_as("/", &unknown).await;
        assert_eq!(reply.body, counter_body(0), "the unknown id was adopted");
    }
    let issued = server.get_as("/id", &unknown).await.body;
    assert!(DefaultIds.is_valid(&issued));
    assert_ne!(issued, unknown, "/id adopted the client's id");
    for hostile in ["../wrong", "", "%00", &"A".repeat(10 * 1024)] {
        let reply = server.get_as("/", hostile).await;
        assert_eq!(reply.status, StatusCode::OK, "{hostile:.40}");
        assert_eq!(reply.body, counter_body(0));
    }
}

/// `--store null`: the counter always answers 0th, with the cookie sent back or not.
async fn null_store_counter(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie().null_store()).await;
    let first = server.get("/").await;
    assert_eq!(first.body, counter_body(0));
    let mut id = first.expect_new_id();
    for _ in 0..3 {
        let reply = server.get_as("/", &id).await;
        assert_eq!(reply.body, counter_body(0));
        let next = reply.expect_new_id();
        assert_ne!(next, id, "NullStore adopted an id");
        id = next;
    }
    let reply = server.get_as("/get/counter", &id).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// `--store null --state param`: `/id` issues an id, and it names nothing.
async fn null_store_param_counter(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::param().null_store()).await;
    let id = server.get("/id").await.body;
    assert!(DefaultIds.is_valid(&id), "/id answered {id:?}");
    for _ in 0..3 {
        assert_eq!(server.get_as("/", &id).await.body, counter_body(0));
    }
}

#[track_caller]
fn assert_bare_500(reply: &Reply, what: &str) {
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR, "{what}");
    assert!(
        reply.body.is_empty(),
        "{what}: the 500 has a body: {:?}",
        reply.body
    );
    assert!(!reply.has_set_cookie(), "{what}: {:?}", reply.headers);
}

/// A store that is down: session routes answer a bare 500 with an empty body (also when only the
/// commit fails), and routes that never touch the session keep working.
async fn store_down(framework: Framework) {
    let server = TestServer::demo(framework, &Setup::cookie().store(FailingStore::always())).await;
    assert_bare_500(&server.get("/").await, "/ on a dead store");
    assert_bare_500(&server.get_as("/get/a", &unknown_id()).await, "/get/a");
    // The handler never reads here; only the commit's delete fails.
    assert_bare_500(&server.get_as("/logout", &unknown_id()).await, "/logout");
    for cookie in [None, Some(unknown_id())] {
        let reply = match &cookie {
            Some(id) => server.get_as("/static", id).await,
            None => server.get("/static").await,
        };
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (StatusCode::OK, "static")
        );
    }
}

/// A store whose reads work but whose writes fail: the handler succeeds, the commit fails, and the
/// response becomes a bare 500 with no trace of the handler's answer.
async fn store_failing_at_commit(framework: Framework) {
    let server =
        TestServer::demo(framework, &Setup::cookie().store(FailingStore::on_write())).await;
    assert_bare_500(&server.get("/").await, "counter");
    assert_bare_500(&server.get("/set/a/1").await, "set");
    assert_bare_500(&server.get("/login").await, "login");
    assert_bare_500(&server.get("/id").await, "id");
    // Nothing to write: nothing fails.
    let read = server.get("/get/a").await;
    assert_eq!(read.status, StatusCode::NOT_FOUND);
    let reply = server.get("/static").await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (StatusCode::OK, "static")
    );
}

session_tests::per_framework!(
    param_state_counts,
    param_state_ignores_unknown_ids,
    null_store_counter,
    null_store_param_counter,
    store_down,
    store_failing_at_commit,
);
