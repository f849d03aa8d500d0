//! The demo's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use session_state_cookie::{SameSite, SealMode};

/// The usage text.
pub const USAGE: &str = "usage: demo [--framework axum|actix] \
[--store memory|null|file|cache|cookie|redis|redis-cluster|postgres|sqlite] [--state cookie|param|header|header-or-cookie] [--addr 127.0.0.1:PORT] \
[--dir DIR] [--redis-url URL] [--redis-nodes URL,URL...] [--redis-prefix PREFIX] [--idle-timeout SECS] \
[--absolute-timeout SECS] [--store-timeout-ms MS] [--secure true|false] [--same-site lax|strict|none] [--session-key NAME] [--session-header NAME] [--seal-key BASE64] \
[--seal-old-key BASE64]... [--seal-mode private|signed] [--memory-max-bytes N] \
[--redis-max-record-bytes N] [--redis-client-cache true|false] [--database-url URL] [--database PATH] [--db-table NAME] \
[--sessions-per-user N] [--revocations memory|redis]

--state header carries the id in a request header and returns it in a response header of the same name (--session-header, default x-session-id), for clients without cookies; a logout answers the header empty. --state header-or-cookie serves a request that carries the header (even empty) in the header, and any other with the cookie.

--store postgres needs --database-url (e.g. postgres://app@127.0.0.1:5432/app); --store sqlite \
needs --database (a file, created 0600 in WAL mode if missing). Both connect and migrate the \
session tables (named after --db-table, default \"sessions\") at start, and fail to start if \
the database cannot be used. While PostgreSQL is down, requests that use the session get a bare \
500 and the others are served; the pool reconnects by itself.

--store redis needs --redis-url (e.g. redis://127.0.0.1:6379/0) and connects at start: if Redis \
cannot be reached then, the demo says so and exits with a failure status. Once running, it \
reconnects by itself; while Redis is down, requests that use the session get a bare 500 and \
the others are served. Keys are PREFIX + the hex SHA-256 of the id (default prefix \"demo:\").

--redis-client-cache true (with --store redis) turns on the Redis store's client-side cache: \
sessions read once are served from memory until Redis reports a change (RESP3 CLIENT TRACKING, \
Redis 6 or later); another process's write is seen once its invalidation arrives.

--store redis-cluster needs --redis-nodes, the URLs of one or more nodes of a Redis Cluster, \
comma-separated (e.g. redis://127.0.0.1:7000,redis://127.0.0.1:7001); it connects at start in \
the same way and follows the cluster's fail-overs by itself.

--store-timeout-ms bounds every store call (default 5000; 0 for no limit): a store that does not \
answer in time gives the request a bare 500.

--memory-max-bytes bounds the memory store's sessions by their estimated size (default 256 MiB); \
the least recently used are evicted when it is full. --redis-max-record-bytes is the largest \
session the Redis store writes or reads (default 1 MiB): a larger write answers a bare 500.

--sessions-per-user N keeps at most N live sessions per user (/login/NAME): a login past it \
ends that user's least recently active sessions (default: no limit). The per-user routes \
(/login/NAME, /sessions, /revoke/HANDLE, /logout-everywhere, /logout-others) are GETs to keep \
the demo scriptable; an application makes the ones that change state POSTs with a CSRF check.

--revocations memory|redis (with --store cookie) keeps each user's \"log out everywhere\" time \
in this process's memory or in Redis at --redis-url (keys under --redis-prefix): a sealed session \
of that user bound before it is refused at its next request. The memory store is bounded and \
evicts when full, which would forget such times: it is for trying the feature out.";

/// The limit on each store call unless `--store-timeout-ms` says otherwise.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The Redis key prefix unless `--redis-prefix` says otherwise.
pub const DEFAULT_REDIS_PREFIX: &str = "demo:";

/// The web framework serving the demo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framework {
    /// axum, through session-tower.
    Axum,
    /// actix-web, through session-actix.
    Actix,
}

/// Where sessions are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// `MemoryStore`.
    Memory,
    /// `NullStore`: keeps nothing.
    Null,
    /// `FileStore`: one file per session in `--dir` (a private temporary directory without it).
    File,
    /// `CacheStore`: a moka cache of 100 000 sessions.
    Cache,
    /// `SealedCookie`: the whole session in a sealed cookie, no server storage.
    ///
    /// Only with `--state cookie`. Sealed with `--seal-key`, or with a key generated at start-up
    /// (sessions then end when the server stops).
    Cookie,
    /// `RedisStore` at `--redis-url`, keys under `--redis-prefix`.
    ///
    /// Connected at start (the demo fails to start if Redis cannot be reached), reconnecting by
    /// itself afterwards.
    Redis,
    /// `RedisStore` on the Redis Cluster of `--redis-nodes`, keys under `--redis-prefix`.
    ///
    /// Connected at start, as `Redis`.
    RedisCluster,
    /// `PgStore` at `--database-url`, tables named after `--db-table`.
    ///
    /// Connected and migrated at start (the demo fails to start if PostgreSQL cannot be used).
    Postgres,
    /// `SqliteStore` on the file `--database`, tables named after `--db-table`.
    Sqlite,
}

/// How the id travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    /// A cookie (`CookieState`).
    Cookie,
    /// A query parameter (`ParamState`).
    Param,
    /// A request and response header (`HeaderState`).
    Header,
    /// The header when the request carries it, else the cookie (`HeaderOr<CookieState>`).
    HeaderOrCookie,
}

/// Where `--store cookie` keeps each user's "log out everywhere" time (`--revocations`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Revocations {
    /// A `MemoryStore` of this process.
    Memory,
    /// A `RedisStore` at `--redis-url`.
    Redis,
}

/// The demo's options.
#[derive(Clone, Debug)]
pub struct Args {
    /// `--framework`.
    pub framework: Framework,
    /// `--store`.
    pub store: StoreKind,
    /// `--state`.
    pub state: StateKind,
    /// `--addr` (port 0 picks a free port).
    pub addr: SocketAddr,
    /// `--dir`, the file store's directory (created 0700 if missing).
    ///
    /// Without it `--store file` uses a private temporary directory removed when the server stops.
    pub dir: Option<PathBuf>,
    /// `--redis-url`, required by `--store redis`.
    pub redis_url: Option<String>,
    /// `--redis-nodes URL,URL...`: a Redis Cluster's nodes, required by `--store redis-cluster`.
    pub redis_nodes: Vec<String>,
    /// `--redis-prefix`: the Redis store's key prefix ([`DEFAULT_REDIS_PREFIX`] without it).
    pub redis_prefix: Option<String>,
    /// `--idle-timeout SECS`.
    pub idle_timeout: Option<Duration>,
    /// `--absolute-timeout SECS`.
    pub absolute_timeout: Option<Duration>,
    /// `--store-timeout-ms MS`: the limit on each store call.
    ///
    /// [`DEFAULT_STORE_TIMEOUT`] without it; `0` for none.
    pub store_timeout: Option<Duration>,
    /// `--secure true|false` for the cookie (default true).
    pub secure: bool,
    /// `--same-site lax|strict|none`: the cookie's `SameSite` attribute (the cookie state's
    /// default, `Lax`, without it).
    pub same_site: Option<SameSite>,
    /// `--session-key NAME`: the cookie or query parameter name.
    pub session_key: Option<String>,
    /// `--session-header NAME`: the header of `--state header` and `header-or-cookie`.
    pub session_header: Option<String>,
    /// `--seal-key BASE64`: at least 64 random bytes, for `--store cookie`.
    pub seal_key: Option<String>,
    /// `--seal-old-key BASE64`, repeatable (newest first): older keys for `--store cookie`.
    ///
    /// They still open sessions, which are then resealed with `--seal-key` (key rotation).
    pub seal_old_keys: Vec<String>,
    /// `--seal-mode private|signed`, for `--store cookie` (default private).
    pub seal_mode: SealMode,
    /// `--memory-max-bytes N`: the memory store's size bound (its default without it).
    pub memory_max_bytes: Option<usize>,
    /// `--redis-max-record-bytes N`: the Redis store's record size limit (its default without it).
    pub redis_max_record_bytes: Option<usize>,
    /// `--redis-client-cache true|false`: the Redis store's client-side cache (default false).
    pub redis_client_cache: bool,
    /// `--database-url URL`, required by `--store postgres`.
    pub database_url: Option<String>,
    /// `--database PATH`, required by `--store sqlite`.
    pub database: Option<PathBuf>,
    /// `--db-table NAME`: the SQL stores' table (`"sessions"` without it).
    pub db_table: Option<String>,
    /// `--sessions-per-user N`: at most N live sessions per user.
    pub sessions_per_user: Option<usize>,
    /// `--revocations memory|redis`: where `--store cookie` keeps each user's "not before" time.
    pub revocations: Option<Revocations>,
}

impl Default for Args {
    /// axum, memory store, cookie state, 127.0.0.1:0, Secure cookies.
    fn default() -> Self {
        Args {
            framework: Framework::Axum,
            store: StoreKind::Memory,
            state: StateKind::Cookie,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            dir: None,
            redis_url: None,
            redis_nodes: Vec::new(),
            redis_prefix: None,
            idle_timeout: None,
            absolute_timeout: None,
            store_timeout: Some(DEFAULT_STORE_TIMEOUT),
            secure: true,
            same_site: None,
            session_key: None,
            session_header: None,
            seal_key: None,
            seal_old_keys: Vec::new(),
            seal_mode: SealMode::Private,
            memory_max_bytes: None,
            redis_max_record_bytes: None,
            redis_client_cache: false,
            database_url: None,
            database: None,
            db_table: None,
            sessions_per_user: None,
            revocations: None,
        }
    }
}

impl Args {
    /// Parses the words after the program name.
    pub fn parse(mut words: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut args = Args {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            ..Args::default()
        };
        while let Some(flag) = words.next() {
            let value = words
                .next()
                .ok_or_else(|| format!("{flag} needs a value"))?;
            match flag.as_str() {
                "--framework" => {
                    args.framework = match value.as_str() {
                        "axum" => Framework::Axum,
                        "actix" => Framework::Actix,
                        other => return Err(format!("unknown framework {other:?}")),
                    }
                }
                "--store" => {
                    args.store = match value.as_str() {
                        "memory" => StoreKind::Memory,
                        "null" => StoreKind::Null,
                        "file" => StoreKind::File,
                        "cache" => StoreKind::Cache,
                        "cookie" => StoreKind::Cookie,
                        "redis" => StoreKind::Redis,
                        "redis-cluster" => StoreKind::RedisCluster,
                        "postgres" => StoreKind::Postgres,
                        "sqlite" => StoreKind::Sqlite,
                        other => return Err(format!("unknown store {other:?}")),
                    }
                }
                "--state" => {
                    args.state = match value.as_str() {
                        "cookie" => StateKind::Cookie,
                        "param" => StateKind::Param,
                        "header" => StateKind::Header,
                        "header-or-cookie" => StateKind::HeaderOrCookie,
                        other => return Err(format!("unknown state {other:?}")),
                    }
                }
                "--addr" => {
                    args.addr = value
                        .parse()
                        .map_err(|e| format!("--addr {value:?}: {e}"))?
                }
                "--dir" => args.dir = Some(value.into()),
                "--redis-url" => args.redis_url = Some(value),
                "--redis-nodes" => {
                    args.redis_nodes = value
                        .split(',')
                        .filter(|url| !url.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                "--redis-prefix" => args.redis_prefix = Some(value),
                "--idle-timeout" => args.idle_timeout = Some(seconds(&flag, &value)?),
                "--absolute-timeout" => args.absolute_timeout = Some(seconds(&flag, &value)?),
                "--store-timeout-ms" => {
                    let millis: u64 = value.parse().map_err(|_| {
                        format!("--store-timeout-ms takes a number of milliseconds, not {value:?}")
                    })?;
                    args.store_timeout = (millis > 0).then(|| Duration::from_millis(millis));
                }
                "--secure" => args.secure = boolean(&flag, &value)?,
                "--same-site" => {
                    args.same_site = Some(match value.as_str() {
                        "lax" => SameSite::Lax,
                        "strict" => SameSite::Strict,
                        "none" => SameSite::None,
                        other => {
                            return Err(format!(
                                "--same-site takes lax, strict or none, not {other:?}"
                            ));
                        }
                    });
                }
                "--session-key" => args.session_key = Some(value),
                "--session-header" => args.session_header = Some(value),
                "--seal-key" => args.seal_key = Some(value),
                "--seal-old-key" => args.seal_old_keys.push(value),
                "--seal-mode" => {
                    args.seal_mode = match value.as_str() {
                        "private" => SealMode::Private,
                        "signed" => SealMode::Signed,
                        other => return Err(format!("unknown seal mode {other:?}")),
                    }
                }
                "--memory-max-bytes" => args.memory_max_bytes = Some(bytes(&flag, &value)?),
                "--redis-max-record-bytes" => {
                    args.redis_max_record_bytes = Some(bytes(&flag, &value)?);
                }
                "--redis-client-cache" => args.redis_client_cache = boolean(&flag, &value)?,
                "--database-url" => args.database_url = Some(value),
                "--database" => args.database = Some(value.into()),
                "--db-table" => args.db_table = Some(value),
                "--revocations" => {
                    args.revocations = Some(match value.as_str() {
                        "memory" => Revocations::Memory,
                        "redis" => Revocations::Redis,
                        other => return Err(format!("unknown revocation store {other:?}")),
                    });
                }
                "--sessions-per-user" => {
                    let n = value.parse().ok().filter(|n| *n > 0);
                    let n = n.ok_or_else(|| format!("{flag} takes a positive count"))?;
                    args.sessions_per_user = Some(n);
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if args.revocations.is_some() && args.store != StoreKind::Cookie {
            return Err("--revocations applies to --store cookie only".into());
        }
        let redis = args.store == StoreKind::Redis || args.revocations == Some(Revocations::Redis);
        if redis && args.redis_url.is_none() {
            return Err(REDIS_URL_MISSING.into());
        }
        if args.redis_client_cache && args.store != StoreKind::Redis {
            return Err("--redis-client-cache applies to --store redis only".into());
        }
        if args.store == StoreKind::RedisCluster && args.redis_nodes.is_empty() {
            return Err(REDIS_NODES_MISSING.into());
        }
        if args.store == StoreKind::Postgres && args.database_url.is_none() {
            return Err(DATABASE_URL_MISSING.into());
        }
        if args.store == StoreKind::Sqlite && args.database.is_none() {
            return Err(DATABASE_MISSING.into());
        }
        Ok(args)
    }
}

/// The error for `--store redis` without `--redis-url`.
pub(crate) const REDIS_URL_MISSING: &str =
    "--store redis needs --redis-url URL (e.g. --redis-url redis://127.0.0.1:6379/0)";

/// The error for `--store redis-cluster` without `--redis-nodes`.
pub(crate) const REDIS_NODES_MISSING: &str = "--store redis-cluster needs --redis-nodes URL,URL... \
(e.g. --redis-nodes redis://127.0.0.1:7000,redis://127.0.0.1:7001)";

/// The error for `--store postgres` without `--database-url`.
pub(crate) const DATABASE_URL_MISSING: &str =
    "--store postgres needs --database-url URL (e.g. --database-url postgres://app@127.0.0.1/app)";

/// The error for `--store sqlite` without `--database`.
pub(crate) const DATABASE_MISSING: &str =
    "--store sqlite needs --database PATH (e.g. --database sessions.db)";

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    match value.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(format!(
            "{flag} takes a positive number of seconds, not {value:?}"
        )),
    }
}

fn boolean(flag: &str, value: &str) -> Result<bool, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes true or false, not {value:?}"))
}

fn bytes(flag: &str, value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("{flag} takes a number of bytes, not {value:?}"))
}
