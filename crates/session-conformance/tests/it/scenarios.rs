//! The Plack scenarios through the engine, with ParamState and a cookie-style State.

use session_conformance::{CookieCarrier, Expect, ParamCarrier, plack_counter, plack_scenario};
use session_core::{Engine, MemoryStore, ParamState};
use session_store_null::NullStore;

use crate::common::{self, TestCookie};

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_memory_store_param_state() {
    let engine = Engine::new(ParamState::default(), MemoryStore::default());
    let report = plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
    assert_eq!(report.passed().len(), 9, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_null_store_param_state() {
    let engine = Engine::new(ParamState::default(), NullStore);
    plack_scenario(&engine, &ParamCarrier::default(), Expect::KeepsNothing).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_custom_param_name() {
    let state = ParamState::new("sid").expect("valid name");
    let engine = Engine::new(state, MemoryStore::default());
    plack_scenario(&engine, &ParamCarrier::new("sid"), Expect::Persistent).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_memory_store_cookie() {
    let engine = Engine::new(TestCookie, MemoryStore::default());
    plack_scenario(
        &engine,
        &CookieCarrier::new(common::NAME),
        Expect::Persistent,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_null_store_cookie() {
    let engine = Engine::new(TestCookie, NullStore);
    plack_scenario(
        &engine,
        &CookieCarrier::new(common::NAME),
        Expect::KeepsNothing,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_counter_every_combination() {
    for (expect, engine) in [
        (
            Expect::Persistent,
            Engine::new(ParamState::default(), MemoryStore::default()),
        ),
        (
            Expect::KeepsNothing,
            Engine::new(ParamState::default(), NullStore),
        ),
    ] {
        plack_counter(&engine, &ParamCarrier::default(), expect).await;
    }
    for (expect, engine) in [
        (
            Expect::Persistent,
            Engine::new(TestCookie, MemoryStore::default()),
        ),
        (Expect::KeepsNothing, Engine::new(TestCookie, NullStore)),
    ] {
        plack_counter(&engine, &CookieCarrier::new(common::NAME), expect).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "scenario \"plack step 3: id A finds foo=bar, removes it\" failed")]
async fn a_store_that_keeps_nothing_fails_the_persistent_scenario() {
    let engine = Engine::new(ParamState::default(), NullStore);
    plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
}
