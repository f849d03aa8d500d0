//! The demo's HTTP contract over `--store redis`, on axum and actix-web: the counter, the caching
//! headers, skip_store and 5xx, login and logout, concurrent writes, the idle timeout and the
//! absolute cap on a manual clock (shared by the engine and the store), sessions that outlive the
//! server, and key prefixes that keep applications apart. The counter, login and logout,
//! concurrent writes and the idle timeout run again with `--redis-client-cache true` (`_cached`).
//! Each test starts its own `redis-server` on a free loopback port, so tests never share data. (The Plack nine steps over Redis are in
//! `plack.rs`, the two adapters side by side in `parity.rs`, two processes in
//! `redis_store_processes.rs`, Redis going down in `redis_fault.rs`.)

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use session_core::store::{Clock, ManualClock, SystemClock, Timestamp};
use session_examples::demo::DEFAULT_REDIS_PREFIX;
use session_store_redis::testing::RedisServer;
use session_tests::redis::{deadline_ttl, key_of, keys, ttl};
use session_tests::{Framework, Setup, TestServer, contract, counter_body};

/// The demo's cookie setup over the Redis of `redis`, with the client-side cache if `cached`.
fn cookie_setup(redis: &RedisServer, cached: bool) -> Setup {
    let setup = Setup::cookie().redis(redis.url());
    if cached {
        setup.redis_client_cache()
    } else {
        setup
    }
}

/// The counter, `/static`, `Vary` and `Cache-Control`, skip_store and a 5xx, in Redis: one key,
/// named by the prefix and the id's digest, never by the id.
async fn demo_contract(framework: Framework) {
    demo_contract_on(framework, false).await;
}

/// [`demo_contract`] with the store's client-side cache.
async fn demo_contract_cached(framework: Framework) {
    demo_contract_on(framework, true).await;
}

async fn demo_contract_on(framework: Framework, cached: bool) {
    let redis = RedisServer::start();
    demo_contract_in(framework, &redis, cookie_setup(&redis, cached)).await;
}

/// The demo's contract with `setup` (on `redis`, under the demo's default prefix).
pub(crate) async fn demo_contract_in(framework: Framework, redis: &RedisServer, setup: Setup) {
    let server = TestServer::demo(framework, &setup).await;
    let id = contract::counter_counts(&server).await;
    assert_eq!(
        keys(&redis.url()).await,
        [key_of(DEFAULT_REDIS_PREFIX, &id)]
    );

    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
    assert_eq!(
        keys(&redis.url()).await.len(),
        1,
        "a 5xx or skip_store wrote a key"
    );
    assert_eq!(server.get_as("/", &id).await.body, counter_body(3));
}

/// `--state param`: the id from `/id`, passed back as the query parameter.
async fn param_contract(framework: Framework) {
    let redis = RedisServer::start();
    let server = TestServer::demo(framework, &Setup::param().redis(redis.url())).await;
    let id = server.get("/id").await.body;
    assert_eq!(
        keys(&redis.url()).await,
        [key_of(DEFAULT_REDIS_PREFIX, &id)]
    );
    server.get_as("/set/colour/blue", &id).await.assert_ok();
    let colour = server.get_as("/get/colour", &id).await;
    assert_eq!(
        (colour.status, colour.body.as_str()),
        (StatusCode::OK, "blue")
    );
    assert!(!colour.has_set_cookie());
}

/// Login moves the data to a new id and removes the old key; logout removes the new one.
async fn login_and_logout(framework: Framework) {
    login_and_logout_on(framework, false).await;
}

/// [`login_and_logout`] with the store's client-side cache.
async fn login_and_logout_cached(framework: Framework) {
    login_and_logout_on(framework, true).await;
}

async fn login_and_logout_on(framework: Framework, cached: bool) {
    let redis = RedisServer::start();
    let server = TestServer::demo(framework, &cookie_setup(&redis, cached)).await;
    let old = server.get("/set/a/1").await.expect_new_id();
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
    assert_eq!(
        keys(&redis.url()).await,
        [key_of(DEFAULT_REDIS_PREFIX, &new)],
        "the old key stayed"
    );

    let logout = server.get_as("/logout", &new).await;
    assert!(logout.session_cookie().is_some_and(|c| c.is_removal()));
    assert!(keys(&redis.url()).await.is_empty(), "logout left the key");
    assert_eq!(
        server.get_as("/get/a", &new).await.status,
        StatusCode::NOT_FOUND
    );
}

/// 50 concurrent requests on one session, each writing its own key: all kept (the scripts apply
/// each request's keys atomically).
async fn concurrent_writes_lose_nothing(framework: Framework) {
    concurrent_writes_lose_nothing_on(framework, false).await;
}

/// [`concurrent_writes_lose_nothing`] with the store's client-side cache.
async fn concurrent_writes_lose_nothing_cached(framework: Framework) {
    concurrent_writes_lose_nothing_on(framework, true).await;
}

async fn concurrent_writes_lose_nothing_on(framework: Framework, cached: bool) {
    let redis = RedisServer::start();
    let server = TestServer::demo(framework, &cookie_setup(&redis, cached)).await;
    contract::concurrent_writes_lose_nothing(Arc::new(server)).await;
}

/// The system's time, at `secs` seconds into its minute.
fn into_a_minute(secs: u64) -> Timestamp {
    let now = SystemClock.now().as_millis();
    Timestamp::from_millis(now / 60_000 * 60_000 + secs * 1000)
}

/// A session left alone past the idle timeout is gone, judged on the manual clock the engine and
/// the store share: the TTL Redis holds is computed from it too.
async fn idle_timeout(framework: Framework) {
    idle_timeout_on(framework, false).await;
}

/// [`idle_timeout`] with the store's client-side cache.
async fn idle_timeout_cached(framework: Framework) {
    idle_timeout_on(framework, true).await;
}

async fn idle_timeout_on(framework: Framework, cached: bool) {
    let redis = RedisServer::start();
    // 35 s into a minute, so that the expiry the write at 30 s sets (125 s into it) falls in the
    // minute after the first one's (95 s): that write sets the TTL (see `deadline_ttl`).
    let clock = ManualClock::new(into_a_minute(35));
    let setup = cookie_setup(&redis, cached)
        .clock(clock.clone())
        .timeouts(Some(Duration::from_secs(60)), None);
    let server = TestServer::demo(framework, &setup).await;
    let id = server.get("/set/a/1").await.expect_new_id();
    let key = key_of(DEFAULT_REDIS_PREFIX, &id);
    clock.advance(Duration::from_secs(30));
    server.get_as("/set/b/2", &id).await.assert_ok();
    // Written at 30 s on the manual clock, expiring at 90 s: a TTL to the minute after 90 s, as
    // the store reads the same clock (on the system clock the store would set about 30 s more).
    let expected = deadline_ttl(
        clock.now(),
        clock.now().saturating_add(Duration::from_secs(60)),
    );
    let left = ttl(&redis.url(), &key).await.expect("a TTL");
    assert!(
        left <= expected && left > expected - Duration::from_secs(10),
        "{left:?}, expected about {expected:?}"
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
    assert_ne!(fresh.expect_new_id(), id, "an expired id was adopted");
}

/// The absolute cap ends an active session, and the store's TTL never runs past it.
async fn absolute_timeout(framework: Framework) {
    let redis = RedisServer::start();
    let (server, clock) = TestServer::demo_on_clock(
        framework,
        Setup::cookie().redis(redis.url()),
        Duration::from_secs(60),
        Some(Duration::from_secs(100)),
    )
    .await;
    // 25 s into a minute: the write at 60 s moves the expiry from 90 s (115 s into the minute) to
    // the cap, 100 s (125 s), in the next minute, and sets the TTL.
    clock.set(into_a_minute(25));
    let id = server.get("/set/a/1").await.expect_new_id();
    let mut capped = None;
    for step in 1..=3 {
        clock.advance(Duration::from_secs(30));
        server.get_as("/set/b/2", &id).await.assert_ok();
        if step == 2 {
            capped = Some(clock.now());
        }
    }
    // At 90 s the session ends at the cap, 100 s: the TTL runs to the minute after the cap, not
    // to a fresh idle timeout's. (Redis counts it from the write at 60 s: the manual clock moved
    // on since, Redis's did not.)
    let at_60 = capped.expect("the write at 60 s");
    let cap = deadline_ttl(at_60, at_60.saturating_add(Duration::from_secs(40)));
    let left = ttl(&redis.url(), &key_of(DEFAULT_REDIS_PREFIX, &id))
        .await
        .expect("a TTL");
    assert!(
        left <= cap && left > cap - Duration::from_secs(10),
        "{left:?}, the cap's deadline was {cap:?} away"
    );
    clock.advance(Duration::from_secs(10));
    assert_eq!(
        server.get_as("/get/a", &id).await.status,
        StatusCode::NOT_FOUND,
        "alive past the absolute cap"
    );
}

/// Sessions live in Redis, not in the server: a new server (a new store) on the same Redis serves
/// them, and a logout there is final. With `--state param` too.
async fn sessions_outlive_the_server(framework: Framework) {
    let redis = RedisServer::start();
    let setups = [
        Setup::cookie().redis(redis.url()),
        Setup::param().redis(redis.url()),
    ];
    session_tests::contract::sessions_outlive_the_server(framework, &setups).await;
    assert!(keys(&redis.url()).await.is_empty());
}

/// Two applications on one Redis with different `--redis-prefix`es do not see each other's
/// sessions; each key is under its application's prefix.
async fn prefixes_keep_applications_apart(framework: Framework) {
    let redis = RedisServer::start();
    let shop = Setup::cookie().redis(redis.url()).redis_prefix("shop:");
    let blog = Setup::cookie().redis(redis.url()).redis_prefix("blog:");
    let shop = TestServer::demo(framework, &shop).await;
    let blog = TestServer::demo(framework, &blog).await;
    let id = shop.get("/set/cart/3").await.expect_new_id();
    let elsewhere = blog.get_as("/get/cart", &id).await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    assert!(!elsewhere.has_set_cookie());
    let other = blog.get("/set/post/1").await.expect_new_id();
    assert_eq!(
        keys(&redis.url()).await,
        [key_of("blog:", &other), key_of("shop:", &id)]
    );
    assert_eq!(shop.get_as("/get/cart", &id).await.body, "3");
}

session_tests::per_framework!(
    demo_contract,
    demo_contract_cached,
    param_contract,
    login_and_logout,
    login_and_logout_cached,
    concurrent_writes_lose_nothing,
    concurrent_writes_lose_nothing_cached,
    idle_timeout,
    idle_timeout_cached,
    absolute_timeout,
    sessions_outlive_the_server,
    prefixes_keep_applications_apart,
);
