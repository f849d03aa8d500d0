//! The conformance kit and Plack's scenarios against a real redis-server.

use session_conformance::{Expect, ParamCarrier, check_store, plack_counter, plack_scenario};
use session_core::{Engine, ParamState};
use session_store_redis::testing::RedisServer;

use crate::common;

#[tokio::test(flavor = "multi_thread")]
async fn redis_store_keeps_every_contract() {
    let server = RedisServer::start();
    let store = common::store(&server).await;
    check_store(|| store.clone()).await.assert_nothing_skipped();
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenarios_run_on_redis() {
    let server = RedisServer::start();
    let engine = Engine::new(ParamState::default(), common::store(&server).await);
    plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
    plack_counter(&engine, &ParamCarrier::default(), Expect::Persistent).await;
}

/// The same contracts with the client-side cache: reads served from it and writes through its
/// tracking connection must keep every one (`check_store` reads back what it wrote at once).
#[tokio::test(flavor = "multi_thread")]
async fn redis_store_with_its_client_cache_keeps_every_contract() {
    let server = RedisServer::start();
    let store = common::builder(&server)
        .client_cache(session_store_redis::ClientCache::new())
        .connect()
        .await
        .expect("connect with a client cache");
    check_store(|| store.clone()).await.assert_nothing_skipped();
    let engine = Engine::new(ParamState::default(), store.clone());
    plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
    plack_counter(&engine, &ParamCarrier::default(), Expect::Persistent).await;
    let stats = store.client_cache_stats().expect("a client cache");
    assert!(
        stats.hits > 0,
        "the kit's reads were served from the cache: {stats:?}"
    );
}
