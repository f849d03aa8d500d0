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
