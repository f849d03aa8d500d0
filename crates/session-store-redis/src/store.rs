//! [`RedisStore`], its builder, and the [`Store`] implementation.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::{Cmd, IntoConnectionInfo, RedisResult, Script, Value};
use session_core::store::{
    BoundSession, Changes, Clock, DEFAULT_MAX_RECORD_BYTES, Key, MAX_RECORD_BYTES_LIMIT, Record,
    Store, StoreError, SystemClock, Timestamp, subject_key,
};

use crate::cache::{Cache, ClientCache, ClientCacheStats, Forget};
use crate::cluster;
use crate::command::{self, KeyName};
use crate::connection::{Connection, Settings, Target};
use crate::error::RedisStoreError;
use crate::layout::{self, Corrupt, FieldChanges};
use crate::listing;
use crate::scripts::{Scripts, Variant};

/// The key prefix unless [`RedisStoreBuilder::prefix`] says otherwise.
pub const DEFAULT_PREFIX: &str = "session:";
/// The bound on every Redis call unless [`RedisStoreBuilder::timeout`] says otherwise: 1 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// The default bound on each connection attempt: 1 s.
///
/// See [`RedisStoreBuilder::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// The default number of retries per reconnection round after a lost connection.
///
/// See [`RedisStoreBuilder::reconnect_retries`].
pub const DEFAULT_RECONNECT_RETRIES: usize = 3;

/// The longest TTL set (about 35 000 years).
///
/// Far beyond any session, and far from the overflow that makes Redis refuse a `PEXPIRE`.
const MAX_TTL_MS: u64 = 1 << 50;

/// Sessions in Redis: one hash per session, key-level changes applied atomically by Lua scripts.
///
/// Cheap to clone (clones share one connection). See the [crate docs](crate) for the layout, the
/// scripts, time-outs and what happens when Redis is down.
#[derive(Clone)]
pub struct RedisStore {
    inner: Arc<Inner>,
}

struct Inner {
    connection: Connection,
    prefix: String,
    timeout: Duration,
    max_record_bytes: usize,
    clock: Box<dyn Clock>,
    scripts: Scripts,
    /// The client-side cache, when asked for.
    cache: Option<Cache>,
    /// Whether writes pack the values of a large session.
    pack_values: bool,
    /// The server's address (a cluster's: its seed nodes'), for `Debug` (never the password).
    addr: String,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("addr", &self.inner.addr)
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .field("max_record_bytes", &self.inner.max_record_bytes)
            .field("clock", &self.inner.clock)
            .field("cache", &self.inner.cache)
            .field("pack_values", &self.inner.pack_values)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RedisStore`]: key prefix, time-outs, record size limit, clock, and eager or lazy
/// connection.
pub struct RedisStoreBuilder {
    target: RedisResult<Target>,
    prefix: String,
    timeout: Duration,
    max_record_bytes: usize,
    connect_timeout: Duration,
    reconnect_retries: usize,
    clock: Box<dyn Clock>,
    lazy: bool,
    cache: Option<ClientCache>,
    pack_values: bool,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.target.as_ref().map(Target::addr);
        f.debug_struct("RedisStoreBuilder")
            .field("addr", &addr.as_deref().unwrap_or("(invalid)"))
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("reconnect_retries", &self.reconnect_retries)
            .field("max_record_bytes", &self.max_record_bytes)
            .field("clock", &self.clock)
            .field("lazy", &self.lazy)
            .field("client_cache", &self.cache)
            .field("pack_values", &self.pack_values)
            .finish()
    }
}

impl RedisStoreBuilder {
    /// The prefix of every key this store writes (default [`DEFAULT_PREFIX`], `"session:"`).
    ///
    /// Stores with different prefixes share a Redis database without seeing each other.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The bound on every store call (default [`DEFAULT_TIMEOUT`], 1 s).
    ///
    /// It includes any wait for a reconnection, and is also the connection's response time-out. A
    /// call that passes it fails with
    /// [`StoreErrorKind::Timeout`](session_core::store::StoreErrorKind::Timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bound on each attempt to open a connection (default [`DEFAULT_CONNECT_TIMEOUT`], 1 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times one reconnection round retries after a failed attempt.
    ///
    /// Default: [`DEFAULT_RECONNECT_RETRIES`]. The round pauses 50 ms to 500 ms (growing, with
    /// jitter) between attempts. A round that fails makes the calls waiting on it fail; the next
    /// call starts a new round.
    pub fn reconnect_retries(mut self, retries: usize) -> Self {
        self.reconnect_retries = retries;
        self
    }

    /// The largest session written or read, in bytes: its values as stored, each `v:` field's
    /// name and JSON text (default [`DEFAULT_MAX_RECORD_BYTES`], 1 MiB, as the file store's; at
    /// most [`MAX_RECORD_BYTES_LIMIT`], 256 MiB). The metadata fields add under 200 bytes, about
    /// 1 KiB with a binding.
    ///
    /// A write that would pass it fails with
    /// [`StoreErrorKind::TooLarge`](session_core::store::StoreErrorKind::TooLarge) and writes
    /// nothing; a hash larger than it is treated as damaged (no session). See the
    /// [crate docs](crate#record-size-limit).
    pub fn max_record_bytes(mut self, max: usize) -> Self {
        self.max_record_bytes = max.min(MAX_RECORD_BYTES_LIMIT);
        self
    }

    /// The clock expiry is judged by, and TTLs computed from.
    ///
    /// Default: the system clock; a `ManualClock` in tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Whether [`connect`](Self::connect) returns without connecting (default `false`).
    ///
    /// Eager (the default), `connect` fails when Redis cannot be reached, so a misconfigured
    /// application stops at startup. Lazy, the first call connects; an application then starts
    /// while Redis is down, and its session calls fail until Redis is back.
    pub fn lazy(mut self, lazy: bool) -> Self {
        self.lazy = lazy;
        self
    }

    /// Turns on the client-side cache (off by default): a session read once is then served from
    /// this process's memory, without a round trip, until Redis reports that it changed.
    ///
    /// Needs Redis 6 or later (RESP3 and `CLIENT TRACKING`) and one server: on a cluster,
    /// [`connect`](Self::connect) fails with [`RedisStoreError::ClientCacheOnCluster`]. The
    /// store opens a second connection for it and runs a task that checks that connection.
    /// See [the crate docs](crate#client-side-cache) for what it guarantees (another process's
    /// write is seen once Redis's invalidation arrives, this process's own writes at once) and
    /// the measured window.
    pub fn client_cache(mut self, cache: ClientCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Whether writes pack the values of a large session into one field (default `true`; see
    /// [the crate docs](crate#layout)). Packed hashes are read either way.
    ///
    /// A release before packing existed reads a packed hash as damaged (no session), and its
    /// `apply` script does not know a packed value from a missing one. While processes of such a
    /// release share the Redis (a rolling upgrade), set this to `false` in the new ones; once
    /// none of the old ones is left, remove it. There is no way back: once packs are written, a
    /// release before packing cannot read those sessions.
    pub fn pack_values(mut self, pack: bool) -> Self {
        self.pack_values = pack;
        self
    }

    /// Connects (unless [`lazy`](Self::lazy)) and loads the scripts. Needs a Tokio runtime.
    ///
    /// Fails with [`RedisStoreError::InvalidUrl`] for bad connection information, and, when
    /// eager, with [`RedisStoreError::Connect`] or [`RedisStoreError::Timeout`] when Redis cannot
    /// be reached after the configured retries.
    pub async fn connect(self) -> Result<RedisStore, RedisStoreError> {
        let target = self.target.map_err(RedisStoreError::InvalidUrl)?;
        let addr = target.addr();
        let cache = match (&self.cache, &target) {
            (None, _) => None,
            (Some(_), Target::Cluster(_)) => return Err(RedisStoreError::ClientCacheOnCluster),
            (Some(settings), Target::Single(client)) => Some(Cache::new(
                settings.clone(),
                client.get_connection_info(),
                &self.prefix,
                self.timeout,
                self.connect_timeout,
                self.pack_values,
            )),
        };
        let settings = Settings {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            reconnect_retries: self.reconnect_retries,
        };
        let connection = target.open(&settings, self.lazy).await?;
        let variant = if connection.is_cluster() {
            Variant::Cluster
        } else {
            Variant::Single
        };
        let store = RedisStore {
            inner: Arc::new(Inner {
                connection,
                prefix: self.prefix,
                timeout: self.timeout,
                max_record_bytes: self.max_record_bytes,
                clock: self.clock,
                scripts: Scripts::new(variant, self.pack_values),
                cache,
                pack_values: self.pack_values,
                addr,
            }),
        };
        if let Some(cache) = &store.inner.cache {
            if !self.lazy {
                cache.connect().await?;
            }
            cache.spawn_keeper();
        }
        if !self.lazy {
            // Not needed for correctness (EVALSHA falls back to loading), but a server that
            // refuses the scripts is better found at startup.
            let mut scripts = store.inner.scripts.all().to_vec();
            if variant == Variant::Cluster {
                scripts.extend(cluster::INDEX_SCRIPTS.all());
            }
            for script in scripts {
                let mut connection = store.inner.connection.clone();
                store
                    .bounded("connect", script.load_async(&mut connection))
                    .await?;
            }
        }
        Ok(store)
    }
}

impl RedisStore {
    /// A builder for the server at `info` (a URL, or a [`redis::ConnectionInfo`]).
    ///
    /// A URL such as `redis://127.0.0.1:6379/0`; see the redis crate for `rediss://` and
    /// `redis+unix://` URLs.
    pub fn builder(info: impl IntoConnectionInfo) -> RedisStoreBuilder {
        RedisStore::with_target(redis::Client::open(info).map(Target::Single))
    }

    /// A builder for the Redis Cluster that `nodes` belong to (URLs or
    /// [`redis::ConnectionInfo`]s; one reachable node is enough, more are tried in turn).
    ///
    /// Every script then touches the keys of one hash slot only, and the subject indexes are
    /// kept by calls of their own: see the [crate docs](crate#redis-cluster) for what changes.
    pub fn cluster_builder<T: IntoConnectionInfo>(
        nodes: impl IntoIterator<Item = T>,
    ) -> RedisStoreBuilder {
        let nodes: RedisResult<Vec<_>> = nodes
            .into_iter()
            .map(IntoConnectionInfo::into_connection_info)
            .collect();
        let nodes = nodes.and_then(|nodes| {
            if nodes.is_empty() {
                Err(redis::RedisError::from((
                    redis::ErrorKind::InvalidClientConfig,
                    "a cluster needs at least one node",
                )))
            } else {
                Ok(nodes)
            }
        });
        RedisStore::with_target(nodes.map(Target::Cluster))
    }

    fn with_target(target: RedisResult<Target>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            target,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            reconnect_retries: DEFAULT_RECONNECT_RETRIES,
            clock: Box::new(SystemClock),
            lazy: false,
            cache: None,
            pack_values: true,
        }
    }

    /// Connects to `info` with the defaults; see [`RedisStoreBuilder::connect`].
    pub async fn connect(info: impl IntoConnectionInfo) -> Result<RedisStore, RedisStoreError> {
        RedisStore::builder(info).connect().await
    }

    /// The Redis key of the session stored under `key`: the prefix and the key's hex digest.
    pub fn key_name(&self, key: &Key) -> String {
        let mut name = String::with_capacity(self.inner.prefix.len() + 64);
        name.push_str(&self.inner.prefix);
        name.push_str(&key.to_hex());
        name
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// The bound on every call.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// The largest session written or read, in bytes.
    pub fn max_record_bytes(&self) -> usize {
        self.inner.max_record_bytes
    }

    /// The counters of the client-side cache, `None` without one
    /// ([`RedisStoreBuilder::client_cache`]).
    pub fn client_cache_stats(&self) -> Option<ClientCacheStats> {
        self.inner.cache.as_ref().map(Cache::stats)
    }

    /// Whether this store talks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        self.inner.connection.is_cluster()
    }

    /// The session scripts, in the form this store's connection needs.
    pub(crate) fn scripts(&self) -> &Scripts {
        &self.inner.scripts
    }

    /// A clone of the connection, for one call.
    pub(crate) fn connection(&self) -> Connection {
        self.inner.connection.clone()
    }

    /// The store's clock, now.
    pub(crate) fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// Every field of `record` (what `create` and `save` write) and its size; an error, and
    /// nothing to send, past the size limit.
    pub(crate) fn record_fields(
        &self,
        record: &Record,
    ) -> Result<(Vec<(String, String)>, usize), StoreError> {
        let size = layout::record_size(record);
        if size > self.inner.max_record_bytes {
            return Err(self.too_large(size));
        }
        Ok((layout::record_fields(record, self.inner.pack_values), size))
    }

    /// The error for a write that would make a session of `size` bytes.
    pub(crate) fn too_large(&self, size: usize) -> StoreError {
        let limit = self.inner.max_record_bytes;
        RedisStoreError::TooLarge { size, limit }.into()
    }

    /// Runs one Redis call under the store's time-out.
    pub(crate) async fn bounded<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = RedisResult<T>>,
    ) -> Result<T, RedisStoreError> {
        match tokio::time::timeout(self.inner.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(source)) => Err(RedisStoreError::Redis { op, source }),
            Err(_) => Err(RedisStoreError::Timeout {
                op,
                after: self.inner.timeout,
            }),
        }
    }

    /// The session key's name as a command argument.
    pub(crate) fn key_arg<'a>(&'a self, key: &'a Key) -> KeyName<'a> {
        KeyName {
            prefix: &self.inner.prefix,
            key,
        }
    }

    /// Runs `cmd`, an `EVALSHA` of `script` (see [`command::run`]), under the time-out.
    pub(crate) async fn call_script(
        &self,
        op: &'static str,
        script: &Script,
        cmd: &Cmd,
    ) -> Result<Value, RedisStoreError> {
        let mut connection = self.inner.connection.clone();
        self.call_script_on(op, script, cmd, &mut connection).await
    }

    /// [`call_script`](Self::call_script) over `connection`.
    async fn call_script_on(
        &self,
        op: &'static str,
        script: &Script,
        cmd: &Cmd,
        connection: &mut impl redis::aio::ConnectionLike,
    ) -> Result<Value, RedisStoreError> {
        self.bounded(op, command::run(cmd, script, connection))
            .await
    }

    /// Runs a script call that answers 1 (done), 0 (no live record / collision), or `{2, size}`
    /// (not written: the record would be `size` bytes, over the limit).
    async fn run_script(
        &self,
        op: &'static str,
        script: &Script,
        cmd: &Cmd,
    ) -> Result<bool, StoreError> {
        let mut connection = self.inner.connection.clone();
        self.run_script_on(op, script, cmd, &mut connection).await
    }

    /// [`run_script`](Self::run_script) over `connection`.
    async fn run_script_on(
        &self,
        op: &'static str,
        script: &Script,
        cmd: &Cmd,
        connection: &mut impl redis::aio::ConnectionLike,
    ) -> Result<bool, StoreError> {
        let reply = self.call_script_on(op, script, cmd, connection).await?;
        match reply {
            Value::Int(0) => Ok(false),
            Value::Int(1) => Ok(true),
            Value::Array(items) => match items.as_slice() {
                [Value::Int(2), Value::Int(size)] => {
                    Err(self.too_large(usize::try_from(*size).unwrap_or(usize::MAX)))
                }
                _ => Err(RedisStoreError::UnexpectedReply { op }.into()),
            },
            _ => Err(RedisStoreError::UnexpectedReply { op }.into()),
        }
    }

    /// `apply` through the client-side cache's tracking connection: the cached record, if it is
    /// still the one Redis held when the script ran, gets the same changes, so the next read of
    /// the session is a hit (see [`Pending`](crate::cache::Pending)). `None` when there is no
    /// tracking connection (apply over the main connection, dropping the entry).
    async fn apply_tracked(
        &self,
        cache: &Cache,
        key: &Key,
        changes: &Changes,
    ) -> Option<Result<bool, StoreError>> {
        // Noted before the link is copied (as a read does): a link given up in between moves
        // the epoch, so this write cannot then update the entry.
        let pending = cache.begin_write(key);
        let mut link = cache.link()?;
        let now = self.inner.clock.now();
        let script = cache.apply_script();
        let applied = async {
            let cmd = self.apply_command(script, key, now, changes)?;
            self.run_script_on("apply", script, &cmd, &mut link.connection)
                .await
        }
        .await;
        if matches!(applied, Ok(true)) && ttl_ms(now, changes.expires) > 0 {
            pending.applied(changes);
        }
        Some(applied)
    }

    /// `create` or `save`: the whole record, under the write script's `mode`.
    async fn write(
        &self,
        mode: &'static str,
        key: &Key,
        record: &Record,
    ) -> Result<bool, StoreError> {
        let (fields, size) = self.record_fields(record)?;
        let now = self.inner.clock.now();
        let script = &self.inner.scripts.write;
        let keys = 1 + usize::from(record.binding.is_some());
        let bytes = fields.iter().map(|(f, t)| f.len() + t.len()).sum::<usize>() + 256;
        let mut cmd = command::evalsha_sized(script, keys, keys + 5 + 2 * fields.len(), bytes);
        cmd.arg(self.key_arg(key));
        if let Some(binding) = &record.binding {
            cmd.arg(listing::index_name(
                &self.inner.prefix,
                &binding.subject_key(),
            ));
        }
        cmd.arg(now.as_millis())
            .arg(ttl_ms(now, record.expires))
            .arg(mode);
        for (field, text) in &fields {
            cmd.arg(field).arg(text);
        }
        cmd.arg(layout::SIZE).arg(size);
        self.run_script(mode, script, &cmd).await
    }
}

impl RedisStore {
    /// `load` over `connection`: `HGETALL`, decoded; a damaged or dead session is none.
    async fn fetch(
        &self,
        key: &Key,
        connection: &mut impl redis::aio::ConnectionLike,
    ) -> Result<Option<Record>, StoreError> {
        // Sized once: the name and the key's (about 72 bytes with the default prefix).
        let mut command = Cmd::with_capacity(2, 16 + self.inner.prefix.len() + 64);
        command.arg("HGETALL").arg(self.key_arg(key));
        let fields = self.bounded("load", command.query_async(connection)).await;
        let decoded = match fields {
            Ok(fields) => layout::decode(fields, self.inner.max_record_bytes),
            Err(RedisStoreError::Redis { source, .. }) if source.code() == Some("WRONGTYPE") => {
                Err(Corrupt::WrongType)
            }
            Err(error) => return Err(error.into()),
        };
        match decoded {
            Ok(Some(record)) if !record.is_expired(self.inner.clock.now()) => Ok(Some(record)),
            Ok(_) => Ok(None),
            Err(reason) => {
                tracing::warn!(
                    ?key,
                    %reason,
                    "damaged session in Redis treated as no session (left in place)"
                );
                Ok(None)
            }
        }
    }

    /// A guard that drops `key` from the client-side cache (if any) when the write it is held
    /// across ends, whichever way.
    fn forget<'a>(&'a self, key: &'a Key) -> Forget<'a> {
        Forget {
            cache: self.inner.cache.as_ref(),
            key,
        }
    }

    /// The `EVALSHA` of `script` (the apply script, of either variant) for `changes` to `key` at
    /// `now`; an error, and nothing to send, when the values set alone pass the size limit.
    pub(crate) fn apply_command(
        &self,
        script: &Script,
        key: &Key,
        now: Timestamp,
        changes: &Changes,
    ) -> Result<Cmd, StoreError> {
        let mut fields = FieldChanges::from_changes(changes);
        // The values set are all in the record afterwards: when they alone pass the limit, Redis
        // need not see them.
        let set_size = fields.values_set_size();
        if set_size > self.inner.max_record_bytes {
            return Err(self.too_large(set_size));
        }
        let shorts = fields.short_values_first();
        let args = 9 + 2 * fields.set.len() + fields.remove.len() + shorts;
        let bytes = 256 + 2 * set_size + 16 * fields.remove.len();
        let mut cmd = command::evalsha_sized(script, 1, args, bytes);
        cmd.arg(self.key_arg(key))
            .arg(now.as_millis())
            .arg(ttl_ms(now, changes.expires))
            .arg(self.inner.max_record_bytes)
            .arg(if fields.clear { "1" } else { "0" })
            .arg(fields.set.len())
            .arg(fields.values_set)
            .arg(fields.values_removed)
            .arg(shorts);
        for (field, text) in &fields.set {
            cmd.arg(field).arg(text);
        }
        for field in &fields.remove {
            cmd.arg(field);
        }
        for (field, _) in &fields.set[..shorts] {
            cmd.arg(field);
        }
        Ok(cmd)
    }
}

/// The TTL of a record expiring at `expires`, as seen at `now`: 0 if it is already dead.
pub(crate) fn ttl_ms(now: Timestamp, expires: Timestamp) -> u64 {
    u64::try_from(expires.saturating_since(now).as_millis())
        .unwrap_or(u64::MAX)
        .min(MAX_TTL_MS)
}

#[async_trait]
impl Store for RedisStore {
    async fn load(&self, key: &Key) -> Result<Option<Record>, StoreError> {
        let Some(cache) = &self.inner.cache else {
            return self.fetch(key, &mut self.inner.connection.clone()).await;
        };
        if let Some(record) = cache.get(key, self.inner.clock.now()) {
            return Ok(Some(record));
        }
        let Some((mut link, epoch)) = cache.reader(key) else {
            // No healthy tracking connection: read uncached.
            return self.fetch(key, &mut self.inner.connection.clone()).await;
        };
        // A failed read leaves the link alone: replies and pushes stay in order on it after a
        // time-out or an error reply, and a broken connection reports itself (its loss empties
        // the cache), as does one that stops answering the keeper's `PING`.
        let fetched = self.fetch(key, &mut link.connection).await;
        if let Ok(Some(record)) = &fetched {
            cache.insert(*key, epoch, record);
        }
        fetched
    }

    async fn create(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let _forget = self.forget(key);
        if self.is_cluster() {
            return cluster::write(self, "create", key, record).await;
        }
        self.write("create", key, record).await
    }

    async fn save(&self, key: &Key, record: &Record) -> Result<bool, StoreError> {
        let _forget = self.forget(key);
        if self.is_cluster() {
            return cluster::write(self, "save", key, record).await;
        }
        self.write("save", key, record).await
    }

    async fn delete(&self, key: &Key) -> Result<bool, StoreError> {
        let _forget = self.forget(key);
        if self.is_cluster() {
            return cluster::delete(self, key).await;
        }
        let script = &self.inner.scripts.delete;
        let mut cmd = command::evalsha(script, 1);
        cmd.arg(self.key_arg(key))
            .arg(self.inner.clock.now().as_millis());
        self.run_script("delete", script, &cmd).await
    }

    async fn apply(&self, key: &Key, changes: &Changes) -> Result<bool, StoreError> {
        if let Some(cache) = &self.inner.cache
            && let Some(applied) = self.apply_tracked(cache, key, changes).await
        {
            return applied;
        }
        let _forget = self.forget(key);
        if self.is_cluster() {
            return cluster::apply(self, key, changes).await;
        }
        let script = &self.inner.scripts.apply;
        let cmd = self.apply_command(script, key, self.inner.clock.now(), changes)?;
        self.run_script("apply", script, &cmd).await
    }

    async fn touch(
        &self,
        key: &Key,
        last_active: Timestamp,
        expires: Timestamp,
    ) -> Result<bool, StoreError> {
        // The apply script with no value changes: two metadata fields and the TTL.
        self.apply(key, &Changes::touch(last_active, expires)).await
    }

    fn applies_atomically(&self) -> bool {
        true
    }

    fn lists_subjects(&self) -> bool {
        true
    }

    async fn list_subject(&self, subject: &str) -> Result<Vec<BoundSession>, StoreError> {
        if self.is_cluster() {
            return cluster::list_subject(self, subject).await;
        }
        let digest = subject_key(subject);
        let script = &self.inner.scripts.list;
        let mut cmd = command::evalsha(script, 1);
        cmd.arg(listing::index_name(&self.inner.prefix, &digest))
            .arg(self.inner.clock.now().as_millis());
        let reply = self.call_script("list_subject", script, &cmd).await?;
        let entries = redis::from_redis_value(reply)
            .map_err(|_| RedisStoreError::UnexpectedReply { op: "list_subject" })?;
        let mut listed = listing::read_listing(entries, &digest);
        listed.retain(|bound| bound.binding.subject == subject);
        Ok(listed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_is_zero_for_dead_records_and_capped() {
        let now = Timestamp::from_millis(1_000);
        assert_eq!(ttl_ms(now, Timestamp::from_millis(500)), 0);
        assert_eq!(ttl_ms(now, now), 0);
        assert_eq!(ttl_ms(now, Timestamp::from_millis(1_250)), 250);
        assert_eq!(ttl_ms(now, Timestamp::from_millis(u64::MAX)), MAX_TTL_MS);
    }
}
