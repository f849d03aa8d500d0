//! Redis going down under load and coming back, on axum and actix-web: a demo server over a
//! `redis-server` with an fsync'd append-only file; writers run on several sessions; Redis is
//! killed (SIGKILL) mid-load. While it is down, routes that use the session answer a bare 500
//! (empty body, no `Set-Cookie`) within a bound (five routes requested at once), and `/static`, which never touches the session,
//! keeps answering 200. Redis is then restarted on the same port: the same server recovers by
//! itself, and every write acknowledged with a 200 before the kill is still there.
//!
//! The figures (time to a 500, recovery time) are printed (`--nocapture` shows them); only
//! generous bounds are asserted: speed is for benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_store_redis::testing::RedisServer;
use session_tests::outage::{self, Writers};
use session_tests::{Framework, Setup, TestServer};

/// Writes acknowledged before Redis is killed.
const ACKED_BEFORE_KILL: usize = 200;
/// The bound on a 500 while Redis is down (the store's time-out is 1 s).
const ERROR_WITHIN: Duration = Duration::from_secs(5);
/// The bound on recovery after Redis is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

async fn redis_down_and_back(framework: Framework) {
    let mut redis = RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"]);
    let server = Arc::new(TestServer::demo(framework, &Setup::cookie().redis(redis.url())).await);
    let ids = outage::sessions(&server).await;

    // Load, then the kill once enough writes are acknowledged.
    let mut acked = Vec::new();
    let mut writers = Writers::spawn(&server, &ids, "w");
    writers.wait_for(ACKED_BEFORE_KILL, &mut acked).await;
    tokio::task::block_in_place(|| redis.stop());
    let killed = Instant::now();

    // Down: each route that uses the session answers a bare 500, soon ...
    let slowest = outage::assert_session_routes_fail(&server, &ids, ERROR_WITHIN).await;
    let first_500 = killed.elapsed();
    // ... and `/static` keeps answering, with or without a cookie.
    let slowest_static = outage::assert_static_answers(&server, &ids).await;

    let failed_writes = writers.stop(&mut acked).await;
    assert!(failed_writes > 0, "no writer saw Redis down");
    assert!(!redis.is_running());

    // Back: the same server recovers by itself.
    tokio::task::block_in_place(|| redis.restart());
    let recovered = outage::wait_for_recovery(&server, &ids[0], RECOVER_WITHIN).await;

    // Every write acknowledged before the kill is there.
    outage::assert_nothing_lost(&server, &ids, &acked).await;
    // And it works as before: writes, new sessions.
    server.get_as("/set/after/1", &ids[0]).await.assert_ok();
    let fresh = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(server.get_as("/get/a", &fresh).await.body, "1");

    eprintln!(
        "{framework:?}: {} writes acknowledged before the kill, {failed_writes} failed while \
         down; slowest 500 while down {slowest:?} (all five within {first_500:?} of the kill); \
         slowest /static while down {slowest_static:?}; recovered {recovered:?} after the \
         restart",
        acked.len()
    );
}

session_tests::per_framework!(redis_down_and_back);
