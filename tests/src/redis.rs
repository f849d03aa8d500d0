//! The Redis store's suites: reading a test server's Redis (or Redis Cluster) directly, to check
//! what the demo stored there (key names, TTLs, values) without going through the store under
//! test.

use std::time::Duration;

use session_core::store::Timestamp;
use session_store_redis::redis::{self, AsyncCommands};
use sha2::{Digest, Sha256};

/// The Redis key the demo stores the session `id` under: the prefix and the hex SHA-256 of the id.
pub fn key_of(prefix: &str, id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    let mut key = String::with_capacity(prefix.len() + 64);
    key.push_str(prefix);
    for byte in digest {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

/// A connection of the test's own to the Redis at `url`.
pub async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("connect to the test's Redis")
}

/// Every key in the Redis at `url`, sorted.
pub async fn keys(url: &str) -> Vec<String> {
    let mut keys: Vec<String> = connection(url).await.keys("*").await.expect("KEYS *");
    keys.sort();
    keys
}

/// The time to live Redis has for `key` (`None` without a TTL or without the key).
pub async fn ttl(url: &str, key: &str) -> Option<Duration> {
    let millis: i64 = connection(url).await.pttl(key).await.expect("PTTL");
    u64::try_from(millis).ok().map(Duration::from_millis)
}

/// A cluster connection of the test's own to the Redis Cluster of `nodes`.
pub async fn cluster_connection(nodes: &[String]) -> redis::cluster_async::ClusterConnection {
    redis::cluster::ClusterClient::new(nodes.to_vec())
        .expect("the cluster's node URLs")
        .get_async_connection()
        .await
        .expect("connect to the test's Redis Cluster")
}

/// Every key under `prefix` in the Redis Cluster of `nodes` (every master's), sorted.
pub async fn cluster_keys(nodes: &[String], prefix: &str) -> Vec<String> {
    let mut connection = cluster_connection(nodes).await;
    let mut keys: Vec<String> = connection
        .keys(format!("{prefix}*"))
        .await
        .expect("KEYS on every master");
    keys.sort();
    keys
}

/// The TTL `RedisStore` gives a session expiring at `expires` when its clock says `now`: to the
/// expiry's deadline, the first whole minute of that clock after it.
pub fn deadline_ttl(now: Timestamp, expires: Timestamp) -> Duration {
    let deadline = (expires.as_millis() / 60_000 + 1) * 60_000;
    Duration::from_millis(deadline.saturating_sub(now.as_millis()))
}
