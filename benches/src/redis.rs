//! The Redis contenders' stores, connected the same way in every bench: this project's
//! `RedisStore` and tower-sessions-redis-store's. (actix-session's is made by
//! [`apps::actix_session_redis`](crate::apps::actix_session_redis).)

use tower_sessions_redis_store::fred::prelude::{Client, ClientLike, Config};

/// This project's `RedisStore` at `url` (one multiplexed connection), with its client-side cache
/// (`ClientCache`) if `cached`.
pub async fn ours_store(url: &str, cached: bool) -> session_store_redis::RedisStore {
    let mut builder = session_store_redis::RedisStore::builder(url);
    if cached {
        builder = builder.client_cache(session_store_redis::ClientCache::new());
    }
    builder.connect().await.expect("RedisStore connects")
}

/// tower-sessions-redis-store's `RedisStore` at `url`, on a fred `Client` (one connection).
///
/// The client's connection task runs as long as the client lives.
pub async fn tower_sessions_store(url: &str) -> tower_sessions_redis_store::RedisStore<Client> {
    let config = Config::from_url(url).expect("a redis URL");
    let client = Client::new(config, None, None, None);
    let _connection = client.init().await.expect("fred connects");
    tower_sessions_redis_store::RedisStore::new(client)
}
