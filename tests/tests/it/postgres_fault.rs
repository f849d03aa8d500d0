//! PostgreSQL going down under load and coming back, on axum and actix-web: a demo server over a
//! PostgreSQL server of the test's own (`fsync` on), with a store time-out of one second;
//! writers run on several sessions; the server is shut down at once (`pg_ctl stop -m immediate`,
//! like a crash) mid-load. While it is down, routes that use the session answer a bare 500
//! (empty body, no `Set-Cookie`) within the store time-out, and `/static`, which never touches
//! the session, keeps answering 200. PostgreSQL is then started again on the same port: the same
//! demo server recovers by itself, and every write acknowledged with a 200, before the stop or
//! after the restart, is there.
//!
//! The figures (time to a 500, recovery time) are printed (`--nocapture` shows them); only
//! generous bounds are asserted: speed is for benchmarks.

use std::sync::Arc;
use std::time::{Duration, Instant};

use session_store_sqlx::testing::PostgresServer;
use session_tests::outage::{self, Writers};
use session_tests::{Framework, Setup, TestServer};

/// Writes acknowledged before PostgreSQL is stopped, and again after it is back.
const ACKED_PER_ROUND: usize = 200;
/// The demo's `--store-timeout-ms` (also its pool's wait for a connection).
const STORE_TIMEOUT: Duration = Duration::from_secs(1);
/// The bound on a 500 while PostgreSQL is down: the store time-out, and slack for a busy machine.
const ERROR_WITHIN: Duration = Duration::from_millis(2500);
/// The bound on recovery after PostgreSQL is back.
const RECOVER_WITHIN: Duration = Duration::from_secs(15);

async fn postgres_down_and_back(framework: Framework) {
    let postgres = PostgresServer::start();
    let setup = Setup::cookie()
        .postgres(postgres.url())
        .store_timeout(STORE_TIMEOUT);
    let server = Arc::new(TestServer::demo(framework, &setup).await);
    let ids = outage::sessions(&server).await;

    // Load, then the stop once enough writes are acknowledged.
    let mut acked = Vec::new();
    let mut writers = Writers::spawn(&server, &ids, "w");
    writers.wait_for(ACKED_PER_ROUND, &mut acked).await;
    tokio::task::block_in_place(|| postgres.stop());
    let stopped = Instant::now();

    // Down: each route that uses the session answers a bare 500, within the store time-out (the
    // five at once, as the writers keep going) ...
    let slowest = outage::assert_session_routes_fail(&server, &ids, ERROR_WITHIN).await;
    let all_500 = stopped.elapsed();
    // ... and `/static` keeps answering, with or without a cookie.
    let slowest_static = outage::assert_static_answers(&server, &ids).await;

    let failed_writes = writers.stop(&mut acked).await;
    assert!(failed_writes > 0, "no writer saw PostgreSQL down");
    let acked_before = acked.len();

    // Back: the same demo server recovers by itself.
    tokio::task::block_in_place(|| postgres.start_again());
    let recovered = outage::wait_for_recovery(&server, &ids[0], RECOVER_WITHIN).await;

    // Load again: writes are acknowledged as before.
    let mut writers = Writers::spawn(&server, &ids, "after");
    writers.wait_for(ACKED_PER_ROUND, &mut acked).await;
    let failed_after = writers.stop(&mut acked).await;

    // Every acknowledged write is there, before the stop and after the restart.
    outage::assert_nothing_lost(&server, &ids, &acked).await;
    // And new sessions work as before.
    let fresh = server.get("/set/a/1").await.expect_new_id();
    assert_eq!(server.get_as("/get/a", &fresh).await.body, "1");

    eprintln!(
        "{framework:?}: {acked_before} writes acknowledged before the stop, {failed_writes} \
         failed while down; slowest 500 while down {slowest:?} (all five within {all_500:?} of \
         the stop); slowest /static while down {slowest_static:?}; recovered {recovered:?} \
         after the restart; {} acknowledged after it, {failed_after} failed",
        acked.len() - acked_before
    );
}

session_tests::per_framework!(postgres_down_and_back);
