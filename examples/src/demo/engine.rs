//! The engine the demo's options describe: the same for every framework.
//!
//! Most stores are built synchronously ([`engine_builder`], [`engine_builder_with`]); the Redis
//! store connects first, so `--store redis` goes through the async [`engine_builder_async`]
//! (which [`bind`](super::bind) uses for every store).

use std::sync::Arc;

use session_core::state::State;
use session_core::store::{ManualClock, Store};
use session_core::{
    Engine, EngineBuilder, HeaderOr, HeaderState, Lifetime, MemoryStore, ParamState,
};
use session_state_cookie::{CookieState, SealKey, SealedCookie};
use session_store_cache::{CacheStore, MokaCache};
use session_store_file::FileStore;
use session_store_null::NullStore;
use session_store_redis::{ClientCache, RedisStore};
use session_store_sqlx::sqlx::Connection;
use session_store_sqlx::sqlx::postgres::{PgConnection, PgPoolOptions};
use session_store_sqlx::{PgStore, SqliteStore};

use super::args::{
    Args, DATABASE_MISSING, DATABASE_URL_MISSING, DEFAULT_REDIS_PREFIX, DEFAULT_STORE_TIMEOUT,
    REDIS_NODES_MISSING, REDIS_URL_MISSING, Revocations, StateKind, StoreKind,
};

/// The engine builder for the chosen state and store, with the chosen timeouts applied.
///
/// Refuses `--store redis`, which connects first: use [`engine_builder_async`].
pub fn engine_builder(args: &Args) -> Result<EngineBuilder, String> {
    engine_builder_with(args, None, None)
}

/// [`engine_builder_with`] for every store, `--store redis` included.
///
/// A Redis store (on `clock`, if given) is connected first, and the call fails with a message
/// naming the URL if Redis cannot be reached.
pub async fn engine_builder_async(
    args: &Args,
    clock: Option<ManualClock>,
    store: Option<Arc<dyn Store>>,
) -> Result<EngineBuilder, String> {
    let redis_revocations = args.revocations == Some(Revocations::Redis);
    let store = match (store, args.store) {
        (None, StoreKind::Redis) => Some(Arc::new(redis_store(args, clock.clone()).await?) as _),
        (None, StoreKind::RedisCluster) => {
            Some(Arc::new(redis_cluster_store(args, clock.clone()).await?) as _)
        }
        (None, StoreKind::Cookie) if redis_revocations => {
            Some(Arc::new(redis_store(args, clock.clone()).await?) as _)
        }
        (None, StoreKind::Postgres) => {
            Some(Arc::new(postgres_store(args, clock.clone()).await?) as _)
        }
        (None, StoreKind::Sqlite) => Some(Arc::new(sqlite_store(args, clock.clone()).await?) as _),
        (store, _) => store,
    };
    engine_builder_with(args, clock, store)
}

/// [`engine_builder`] with what a command line cannot say, for tests.
///
/// A manual `clock` for the engine and the store `--store` names, or a `store` of the caller's own
/// instead.
///
/// `--store redis` without a `store` is refused: the Redis store is connected by
/// [`engine_builder_async`].
pub fn engine_builder_with(
    args: &Args,
    clock: Option<ManualClock>,
    store: Option<Arc<dyn Store>>,
) -> Result<EngineBuilder, String> {
    if args.session_header.is_some()
        && !matches!(args.state, StateKind::Header | StateKind::HeaderOrCookie)
    {
        return Err(
            "--session-header names the header of --state header or header-or-cookie".into(),
        );
    }
    let state: Arc<dyn State> = match args.state {
        StateKind::Cookie => Arc::new(cookie_state(args)?),
        StateKind::Param => Arc::new(match &args.session_key {
            Some(name) => ParamState::new(name).map_err(|e| e.to_string())?,
            None => ParamState::default(),
        }),
        StateKind::Header => Arc::new(header_state(args)?),
        StateKind::HeaderOrCookie => {
            Arc::new(HeaderOr::new(header_state(args)?, cookie_state(args)?))
        }
    };
    if args.store == StoreKind::Cookie && args.revocations.is_some() {
        return sealed_builder(args, clock, store);
    }
    let store: Arc<dyn Store> = match (store, args.store, &clock) {
        (Some(store), _, _) => store,
        (None, StoreKind::Memory, clock) => Arc::new(memory_store(args, clock.clone())),
        (None, StoreKind::Null, _) => Arc::new(NullStore),
        (None, StoreKind::File, _) => Arc::new(file_store(args, clock.clone())?),
        (None, StoreKind::Cache, None) => Arc::new(CacheStore::default()),
        (None, StoreKind::Cache, Some(clock)) => Arc::new(CacheStore::on(
            MokaCache::builder().clock(clock.clone()).build(),
        )),
        (None, StoreKind::Cookie, _) => return sealed_builder(args, clock.clone(), None),
        (
            None,
            StoreKind::Redis | StoreKind::RedisCluster | StoreKind::Postgres | StoreKind::Sqlite,
            _,
        ) => {
            return Err(
                "--store redis, redis-cluster, postgres and sqlite connect first: use \
                 engine_builder_async"
                    .into(),
            );
        }
    };
    let mut builder = configure(state, store, args);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    Ok(builder)
}

/// The header `--session-header` names.
fn header_state(args: &Args) -> Result<HeaderState, String> {
    match &args.session_header {
        Some(name) => HeaderState::new(name).map_err(|e| format!("--session-header: {e}")),
        None => Ok(HeaderState::default()),
    }
}

/// The cookie `--secure`, `--same-site` and `--session-key` describe.
fn cookie_state(args: &Args) -> Result<CookieState, String> {
    let mut builder = CookieState::builder().secure(args.secure);
    if let Some(same_site) = args.same_site {
        builder = builder.same_site(same_site);
    }
    if let Some(name) = &args.session_key {
        builder = builder.name(name);
    }
    builder.build().map_err(|e| format!("cookie settings: {e}"))
}

/// `--store cookie`: a client-side engine sealing sessions into the cookie.
///
/// With `--revocations`, `revocations` (or, for `memory`, a `MemoryStore` of this process) keeps
/// each user's "log out everywhere" time; `--revocations redis` needs the connected store.
fn sealed_builder(
    args: &Args,
    clock: Option<ManualClock>,
    revocations: Option<Arc<dyn Store>>,
) -> Result<EngineBuilder, String> {
    if args.state != StateKind::Cookie {
        return Err("--store cookie keeps the session in the cookie: use --state cookie".into());
    }
    let key = match &args.seal_key {
        Some(text) => SealKey::from_base64(text),
        None => SealKey::generate(),
    }
    .map_err(|e| format!("--seal-key: {e}"))?;
    if args.seal_key.is_none() && !args.seal_old_keys.is_empty() {
        return Err("--seal-old-key needs --seal-key (the current key)".into());
    }
    let mut sealed = SealedCookie::builder(key)
        .cookie(cookie_state(args)?)
        .mode(args.seal_mode);
    for text in &args.seal_old_keys {
        let old = SealKey::from_base64(text).map_err(|e| format!("--seal-old-key: {e}"))?;
        sealed = sealed.old_key(old);
    }
    let sealed = sealed.build();
    let mut builder = timeouts(Engine::client_side_builder(sealed), args);
    match (args.revocations, revocations) {
        (None, _) => {}
        (Some(_), Some(store)) => builder = builder.revocation_store(store),
        (Some(Revocations::Memory), None) => {
            builder = builder.revocation_store(memory_store(args, clock.clone()));
        }
        (Some(Revocations::Redis), None) => {
            return Err("--revocations redis connects first: use engine_builder_async".into());
        }
    }
    Ok(match clock {
        Some(clock) => builder.clock(clock),
        None => builder,
    })
}

/// `--store memory`: a `MemoryStore` bounded by `--memory-max-bytes` (its default without it).
fn memory_store(args: &Args, clock: Option<ManualClock>) -> MemoryStore {
    let store = match args.memory_max_bytes {
        Some(max) => MemoryStore::with_max_bytes(max),
        None => MemoryStore::default(),
    };
    match clock {
        Some(clock) => store.clock(clock),
        None => store,
    }
}

/// `--store file`: the store on `--dir`, or on a private temporary directory.
///
/// Built inside a Tokio runtime, it sweeps expired sessions by itself (every minute).
fn file_store(args: &Args, clock: Option<ManualClock>) -> Result<FileStore, String> {
    let mut builder = FileStore::builder();
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    match &args.dir {
        Some(dir) => builder.open(dir),
        None => builder.temporary(),
    }
    .map_err(|e| format!("--store file: {e}"))
}

/// `--store redis`: a `RedisStore` at `--redis-url`, keys under `--redis-prefix`, connected now.
///
/// Eager, so a Redis that cannot be reached stops the demo at start, rather than failing every
/// request later. On `clock` if given.
async fn redis_store(args: &Args, clock: Option<ManualClock>) -> Result<RedisStore, String> {
    let url = args.redis_url.as_deref().ok_or(REDIS_URL_MISSING)?;
    let prefix = args.redis_prefix.as_deref().unwrap_or(DEFAULT_REDIS_PREFIX);
    let mut builder = RedisStore::builder(url).prefix(prefix);
    if let Some(max) = args.redis_max_record_bytes {
        builder = builder.max_record_bytes(max);
    }
    if args.redis_client_cache {
        builder = builder.client_cache(ClientCache::new());
    }
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    builder.connect().await.map_err(|e| {
        format!(
            "--store redis: cannot use Redis at {}: {}",
            redacted(url),
            chain(&e)
        )
    })
}

/// `--store redis-cluster`: a `RedisStore` on the Redis Cluster of `--redis-nodes`, keys under
/// `--redis-prefix`, connected now (as `--store redis`). On `clock` if given.
async fn redis_cluster_store(
    args: &Args,
    clock: Option<ManualClock>,
) -> Result<RedisStore, String> {
    if args.redis_nodes.is_empty() {
        return Err(REDIS_NODES_MISSING.into());
    }
    let prefix = args.redis_prefix.as_deref().unwrap_or(DEFAULT_REDIS_PREFIX);
    let mut builder =
        RedisStore::cluster_builder(args.redis_nodes.iter().map(String::as_str)).prefix(prefix);
    if let Some(max) = args.redis_max_record_bytes {
        builder = builder.max_record_bytes(max);
    }
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    builder.connect().await.map_err(|e| {
        let nodes: Vec<String> = args.redis_nodes.iter().map(|url| redacted(url)).collect();
        format!(
            "--store redis-cluster: cannot use the Redis Cluster at {}: {}",
            nodes.join(","),
            chain(&e)
        )
    })
}

/// The SQL stores' table, and the bound on their calls: the demo's store time-out.
fn sql_settings(args: &Args) -> (&str, std::time::Duration) {
    let table = args
        .db_table
        .as_deref()
        .unwrap_or(session_store_sqlx::DEFAULT_TABLE);
    (table, args.store_timeout.unwrap_or(DEFAULT_STORE_TIMEOUT))
}

/// `--store postgres`: a `PgStore` at `--database-url`, connected and migrated now, cleaning
/// up expired sessions every minute. On `clock` if given.
///
/// The pool does not ping a connection before each use (one round trip less per call; a broken
/// connection fails one call and is replaced) and waits for a connection no longer than the
/// store time-out.
async fn postgres_store(args: &Args, clock: Option<ManualClock>) -> Result<PgStore, String> {
    let url = args.database_url.as_deref().ok_or(DATABASE_URL_MISSING)?;
    let (table, timeout) = sql_settings(args);
    let failed = |e: &dyn std::error::Error| {
        format!(
            "--store postgres: cannot use PostgreSQL at {}: {}",
            redacted(url),
            chain(e)
        )
    };
    // One connection first, for the real reason when it fails: the pool would retry until its
    // acquire time-out and report only that it timed out.
    let first = tokio::time::timeout(timeout, PgConnection::connect(url))
        .await
        .map_err(|_| {
            format!(
                "--store postgres: PostgreSQL at {} did not answer within {timeout:?}",
                redacted(url)
            )
        })?
        .map_err(|e| failed(&e))?;
    let _ = first.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .test_before_acquire(false)
        .acquire_timeout(timeout)
        .connect(url)
        .await
        .map_err(|e| failed(&e))?;
    let mut builder = PgStore::builder(pool).table(table).timeout(timeout);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    let store = builder.build().map_err(|e| failed(&e))?;
    store.migrate().await.map_err(|e| failed(&e))?;
    store.spawn_cleanup(std::time::Duration::from_secs(60));
    Ok(store)
}

/// `--store sqlite`: a `SqliteStore` on `--database` (created 0600 in WAL mode if missing),
/// migrated now, cleaning up expired sessions every minute. On `clock` if given.
async fn sqlite_store(args: &Args, clock: Option<ManualClock>) -> Result<SqliteStore, String> {
    let path = args.database.as_deref().ok_or(DATABASE_MISSING)?;
    let (table, timeout) = sql_settings(args);
    let failed = |e: &dyn std::error::Error| {
        format!(
            "--store sqlite: cannot use {}: {}",
            path.display(),
            chain(e)
        )
    };
    let pool = session_store_sqlx::sqlite_pool(path)
        .await
        .map_err(|e| failed(&e))?;
    let mut builder = SqliteStore::builder(pool).table(table).timeout(timeout);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    let store = builder.build().map_err(|e| failed(&e))?;
    store.migrate().await.map_err(|e| failed(&e))?;
    store.spawn_cleanup(std::time::Duration::from_secs(60));
    Ok(store)
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let line = next.to_string();
        if !text.ends_with(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = next.source();
    }
    text
}

/// `url` without its password (`redis://user:secret@host` shows as `redis://user:***@host`).
fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

fn configure<St: State, S: Store>(state: St, store: S, args: &Args) -> EngineBuilder {
    timeouts(Engine::builder(state, store), args)
}

/// The builder with `--idle-timeout`, `--absolute-timeout` and `--store-timeout-ms` applied.
fn timeouts(mut builder: EngineBuilder, args: &Args) -> EngineBuilder {
    if let Some(limit) = args.store_timeout {
        builder = builder.store_timeout(limit);
    }
    if let Some(idle) = args.idle_timeout {
        builder = builder.lifetime(Lifetime::browser_session(idle));
    }
    if let Some(cap) = args.absolute_timeout {
        builder = builder.absolute_timeout(cap);
    }
    if let Some(max) = args.sessions_per_user {
        builder = builder.max_sessions_per_subject(max);
    }
    builder
}

#[cfg(test)]
mod tests {
    use super::{Args, engine_builder_with, redacted};

    fn builds(words: &[&str]) -> Result<(), String> {
        let args = Args::parse(words.iter().map(|w| (*w).to_owned()))?;
        engine_builder_with(&args, None, None).map(drop)
    }

    #[test]
    fn header_states_and_their_header_name() {
        assert!(builds(&["--state", "header"]).is_ok());
        assert!(builds(&["--state", "header", "--session-header", "x-api-session"]).is_ok());
        assert!(builds(&["--state", "header-or-cookie", "--session-header", "x-sid"]).is_ok());
        let refused = [
            &["--state", "header", "--session-header", "cookie"][..],
            &["--state", "header", "--session-header", "a b"],
            &["--state", "cookie", "--session-header", "x-sid"],
            &["--state", "header", "--store", "cookie"],
            &["--state", "sideways"],
        ];
        for words in refused {
            assert!(builds(words).is_err(), "{words:?} was accepted");
        }
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        let cases = [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("redis://:pw@host/1", "redis://:***@host/1"),
            ("redis://user:p@ss@host", "redis://user:***@host"),
            ("redis://user@host:1/", "redis://user@host:1/"),
            ("not a url", "not a url"),
        ];
        for (url, shown) in cases {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }
}
