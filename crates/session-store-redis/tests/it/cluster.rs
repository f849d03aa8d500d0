//! The store on a Redis Cluster of its own (six nodes: three masters, a replica each).

use session_conformance::check_store;
use session_store_redis::RedisStore;
use session_store_redis::testing::RedisCluster;

/// A store on `cluster` with the defaults.
pub(crate) async fn store(cluster: &RedisCluster) -> RedisStore {
    RedisStore::cluster_builder(cluster.urls())
        .connect()
        .await
        .expect("connect to the cluster")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cluster_store_keeps_every_contract() {
    let cluster = RedisCluster::start();
    let store = store(&cluster).await;
    assert!(store.is_cluster());
    check_store(|| store.clone()).await.assert_nothing_skipped();
}
