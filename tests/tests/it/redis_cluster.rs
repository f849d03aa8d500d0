//! The demo's HTTP contract over `--store redis-cluster`, on axum and actix-web: each test starts
//! its own Redis Cluster (six `redis-server` processes: three masters with a replica each) and
//! runs its scenarios on it under key prefixes of their own, so they never see each other's keys:
//! the counter, the caching headers, skip_store and 5xx, login and logout (old key gone, one key
//! left, none after logout), `--state param`, and 50 concurrent writes on one session. Sessions per
//! user on a cluster are in `per_user.rs` (`redis_cluster::…`), a master failing over under load
//! in `redis_cluster_failover.rs`.

use std::sync::Arc;

use http::StatusCode;
use session_store_redis::testing::RedisCluster;
use session_tests::redis::{cluster_keys, key_of};
use session_tests::{Framework, Setup, TestServer, contract, counter_body};

/// The demo on `cluster` with keys under `prefix`, the id in a cookie (or in `?plack_session=`
/// with `param`).
async fn demo(
    framework: Framework,
    cluster: &RedisCluster,
    prefix: &str,
    param: bool,
) -> TestServer {
    let setup = if param {
        Setup::param()
    } else {
        Setup::cookie()
    };
    let setup = setup.redis_cluster(cluster.urls()).redis_prefix(prefix);
    TestServer::demo(framework, &setup).await
}

async fn contract_on_a_cluster(framework: Framework) {
    let cluster = RedisCluster::start();
    let nodes = cluster.urls();

    // The counter, `/static`, `Vary` and `Cache-Control`, skip_store and a 5xx: one key, named
    // by the prefix and the id's digest.
    let server = demo(framework, &cluster, "counter:", false).await;
    let id = contract::counter_counts(&server).await;
    assert_eq!(
        cluster_keys(&nodes, "counter:").await,
        [key_of("counter:", &id)]
    );
    contract::untouched_nostore_and_5xx_store_nothing(&server, &id).await;
    assert_eq!(
        cluster_keys(&nodes, "counter:").await.len(),
        1,
        "a 5xx or skip_store wrote a key"
    );
    assert_eq!(server.get_as("/", &id).await.body, counter_body(3));

    // Login moves the data to a new id and removes the old key; logout removes the new one.
    let server = demo(framework, &cluster, "login:", false).await;
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
        cluster_keys(&nodes, "login:").await,
        [key_of("login:", &new)],
        "the old key stayed"
    );
    let logout = server.get_as("/logout", &new).await;
    assert!(logout.session_cookie().is_some_and(|c| c.is_removal()));
    assert!(
        cluster_keys(&nodes, "login:").await.is_empty(),
        "logout left the key"
    );
    assert_eq!(
        server.get_as("/get/a", &new).await.status,
        StatusCode::NOT_FOUND
    );

    // `--state param`: the id from `/id`, passed back as the query parameter.
    let server = demo(framework, &cluster, "param:", true).await;
    let id = server.get("/id").await.body;
    assert_eq!(
        cluster_keys(&nodes, "param:").await,
        [key_of("param:", &id)]
    );
    server.get_as("/set/colour/blue", &id).await.assert_ok();
    let colour = server.get_as("/get/colour", &id).await;
    assert_eq!(
        (colour.status, colour.body.as_str()),
        (StatusCode::OK, "blue")
    );
    assert!(!colour.has_set_cookie());

    // 50 concurrent requests on one session, each writing its own key: all kept.
    let server = demo(framework, &cluster, "concurrent:", false).await;
    contract::concurrent_writes_lose_nothing(Arc::new(server)).await;

    // Many sessions spread over the masters: each master holds some.
    let server = demo(framework, &cluster, "spread:", false).await;
    let mut ids = Vec::new();
    for n in 0..24 {
        ids.push(server.get(&format!("/set/n/{n}")).await.expect_new_id());
    }
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(server.get_as("/get/n", id).await.body, n.to_string());
    }
    for (port, _) in cluster.masters() {
        let keys = cluster
            .query(port, &["KEYS", "spread:*"])
            .expect("KEYS on one master");
        assert!(
            !keys.is_empty(),
            "the master on {port} holds no session of 24"
        );
    }
}

session_tests::per_framework!(contract_on_a_cluster);
