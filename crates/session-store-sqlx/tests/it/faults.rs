//! PostgreSQL stopped under a store and started again: calls fail with a clear error within the
//! time-out, and the same store works again once the server is back, nothing acknowledged lost.

use std::time::{Duration, Instant};

use session_core::store::{Store, StoreErrorKind};
use session_store_sqlx::testing::PostgresServer;

use crate::common::{self, key, live};

#[tokio::test(flavor = "multi_thread")]
async fn postgres_down_then_back() {
    let server = PostgresServer::start();
    let store = common::pg_store_with(&server, |b| b.timeout(Duration::from_secs(2))).await;
    let record = live(&[("a", "1")]);
    assert!(store.create(&key(1), &record).await.expect("create"));

    server.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let error = store.load(&key(1)).await.expect_err("down");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            matches!(
                error.kind(),
                StoreErrorKind::Backend | StoreErrorKind::Timeout
            ),
            "{error}"
        );
    }

    server.start_again();
    let deadline = Instant::now() + Duration::from_secs(10);
    let loaded = loop {
        match store.load(&key(1)).await {
            Ok(loaded) => break loaded,
            Err(error) => {
                assert!(Instant::now() < deadline, "not back: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(loaded, Some(record), "an acknowledged write was lost");
}
