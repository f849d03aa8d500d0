//! The opt-in client-side cache: sessions read once are served from memory until Redis says
//! they changed (server-assisted client-side caching, `CLIENT TRACKING`).
//!
//! The cache reads through a connection of its own, a RESP3 connection with tracking on: Redis
//! remembers every key read on it and, when the key changes (written by any client, expired,
//! evicted, flushed), pushes an invalidation on that same connection. The redis crate hands each
//! push to [`Shared::on_push`] inline, in the order the frames arrive, so an invalidation is
//! acted on before any reply Redis sent after it.
//!
//! The one race left is between a read and an invalidation of the key it read: the read's reply
//! arrives, then the invalidation (the key changed after the read), and the invalidation is
//! handled before the reader, woken by its reply, gets to insert what it read. Each key therefore
//! belongs to one of [`STRIPES`] stripes holding an epoch: an invalidation bumps its stripe's
//! epoch and drops the entry under the stripe's lock, and a reader notes the epoch before it
//! sends its read and inserts what it read only if the epoch is unchanged, under the same lock.
//! An entry can thus never outlive an invalidation that arrived after it was read.
//!
//! Writes by this process drop the key at once when they return (so the process never reads its
//! own stale value while the push is on its way), and on every way out of the write, so a
//! cancelled write does not leave the entry either. `apply` goes through the tracking
//! connection and may instead change the entry alike, when it provably held what Redis held
//! ([`Pending`]). A lost connection may have lost pushes: its
//! loss empties the cache, as does a failed health check (a `PING` every
//! [`ClientCache::check_interval`]); reads go to the store's main connection, uncached, until a
//! new tracking connection is up.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{
    AsyncConnectionConfig, ConnectionInfo, ProtocolVersion, PushInfo, PushKind, Script, Value,
};
use session_core::store::{Changes, Key, Record, Timestamp};

use crate::error::RedisStoreError;

/// How many epoch stripes keys are spread over (by their digest's first two bytes): enough that
/// concurrent writes to different sessions rarely share one (each moves its stripe's epoch,
/// which makes the others drop their entries rather than update them).
const STRIPES: usize = 4096;

/// The entries' weight beyond their fields' bytes: the record, its map and the cache's node.
const ENTRY_OVERHEAD: usize = 160;

/// The client name of the tracking connection (`CLIENT LIST` shows it).
const CLIENT_NAME: &str = "session-store-redis-cache";

/// Settings of the opt-in client-side cache ([`RedisStoreBuilder::client_cache`]).
///
/// [`RedisStoreBuilder::client_cache`]: crate::RedisStoreBuilder::client_cache
#[derive(Clone, Debug)]
pub struct ClientCache {
    max_bytes: u64,
    time_to_live: Duration,
    check_interval: Duration,
}

impl Default for ClientCache {
    fn default() -> Self {
        ClientCache::new()
    }
}

impl ClientCache {
    /// The default bound on the memory the entries take: 64 MiB.
    pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;
    /// The default time an entry is kept at most, whatever Redis says: 5 minutes.
    pub const DEFAULT_TIME_TO_LIVE: Duration = Duration::from_secs(300);
    /// The default pause between health checks of the tracking connection: 1 s.
    pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(1);

    /// The defaults: 64 MiB, entries kept at most 5 minutes, a health check every second.
    pub fn new() -> Self {
        ClientCache {
            max_bytes: ClientCache::DEFAULT_MAX_BYTES,
            time_to_live: ClientCache::DEFAULT_TIME_TO_LIVE,
            check_interval: ClientCache::DEFAULT_CHECK_INTERVAL,
        }
    }

    /// The bound on the memory the entries take, estimated from their fields' bytes (default
    /// [`DEFAULT_MAX_BYTES`](Self::DEFAULT_MAX_BYTES)). Past it the least used entries go.
    pub fn max_bytes(mut self, max: u64) -> Self {
        self.max_bytes = max;
        self
    }

    /// How long an entry is kept at most, even when Redis has not invalidated it (default
    /// [`DEFAULT_TIME_TO_LIVE`](Self::DEFAULT_TIME_TO_LIVE)): a bound on what a lost
    /// invalidation could cost, never needed while the tracking connection is healthy.
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.time_to_live = ttl;
        self
    }

    /// The pause between health checks (`PING`) of the tracking connection, and between
    /// attempts to open it again after losing it (default
    /// [`DEFAULT_CHECK_INTERVAL`](Self::DEFAULT_CHECK_INTERVAL)).
    ///
    /// A connection that stops carrying traffic without being closed (a network partition) is
    /// found by the next check that does not get its answer within the store's time-out; until
    /// then, entries may be served though their invalidations cannot arrive. This interval plus
    /// the time-out bounds that window.
    pub fn check_interval(mut self, interval: Duration) -> Self {
        self.check_interval = interval.max(Duration::from_millis(10));
        self
    }
}

/// Counters of a store's client-side cache ([`RedisStore::client_cache_stats`]).
///
/// [`RedisStore::client_cache_stats`]: crate::RedisStore::client_cache_stats
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientCacheStats {
    /// Loads served from the cache, without a round trip.
    pub hits: u64,
    /// Loads that went to Redis (through the tracking connection, or uncached while there is
    /// none).
    pub misses: u64,
    /// Keys dropped because Redis said they changed (invalidation pushes, by key).
    pub invalidations: u64,
    /// Times the whole cache was emptied: the tracking connection lost or unhealthy, or the
    /// database flushed.
    pub flushes: u64,
    /// Tracking connections opened (the first one included).
    pub connections: u64,
}

/// The tracking connection and the generation it was opened in.
#[derive(Clone)]
pub(crate) struct Link {
    generation: u64,
    pub(crate) connection: MultiplexedConnection,
}

/// A store's client-side cache; its clones share it.
#[derive(Clone)]
pub(crate) struct Cache {
    shared: Arc<Shared>,
}

impl fmt::Debug for Cache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cache")
            .field("settings", &self.shared.settings)
            .field("stats", &self.shared.stats())
            .finish()
    }
}

/// A cached record and its serial number, new at each insertion and each change: a write
/// through the tracking connection changes the entry only if it is still as it saw it when it
/// was sent. Changed in place (no new cache insertion per write).
struct Entry {
    slot: Mutex<Slot>,
}

struct Slot {
    record: Record,
    serial: u64,
    /// The weight the cache last gave the entry ([`weight`] of its record then).
    weighed: usize,
}

/// A stripe of keys: its epoch, and how many writes of this process to its keys are in flight
/// on the tracking connection.
#[derive(Default)]
struct Stripe {
    epoch: u64,
    writing: u32,
}

impl Stripe {
    fn bump(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }
}

impl Entry {
    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

struct Shared {
    settings: ClientCache,
    entries: moka::sync::Cache<Key, Arc<Entry>>,
    /// The `apply` script run on the tracking connection ([`scripts::tracked_apply`]).
    ///
    /// [`scripts::tracked_apply`]: crate::scripts::tracked_apply
    apply: Script,
    serials: AtomicU64,
    /// Each stripe's epoch (bumped by every invalidation of a key in it) and writes in flight.
    stripes: Box<[Mutex<Stripe>]>,
    link: RwLock<Option<Link>>,
    /// The server, with RESP3 asked for.
    info: ConnectionInfo,
    prefix: Box<[u8]>,
    timeout: Duration,
    connect_timeout: Duration,
    generations: AtomicU64,
    connections: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    flushes: AtomicU64,
}

impl Cache {
    /// A cache for the server at `info`, whose session keys start with `prefix`; not connected.
    pub(crate) fn new(
        settings: ClientCache,
        info: &ConnectionInfo,
        prefix: &str,
        timeout: Duration,
        connect_timeout: Duration,
        pack_values: bool,
    ) -> Cache {
        let redis = info
            .redis_settings()
            .clone()
            .set_protocol(ProtocolVersion::RESP3);
        let entries = moka::sync::Cache::builder()
            .max_capacity(settings.max_bytes)
            .weigher(|_, entry: &Arc<Entry>| {
                let mut slot = entry.slot();
                slot.weighed = weight(&slot.record);
                u32::try_from(slot.weighed).unwrap_or(u32::MAX)
            })
            .time_to_live(settings.time_to_live)
            .build();
        Cache {
            shared: Arc::new(Shared {
                settings,
                entries,
                apply: crate::scripts::tracked_apply(pack_values),
                serials: AtomicU64::new(0),
                stripes: (0..STRIPES).map(|_| Mutex::default()).collect(),
                link: RwLock::new(None),
                info: info.clone().set_redis_settings(redis),
                prefix: prefix.as_bytes().into(),
                timeout,
                connect_timeout,
                generations: AtomicU64::new(0),
                connections: AtomicU64::new(0),
                hits: AtomicU64::new(0),
                misses: AtomicU64::new(0),
                invalidations: AtomicU64::new(0),
                flushes: AtomicU64::new(0),
            }),
        }
    }

    /// Opens the tracking connection now (an eager store's `connect`).
    pub(crate) async fn connect(&self) -> Result<(), RedisStoreError> {
        let link = self.shared.open().await?;
        self.shared.set_link(link);
        Ok(())
    }

    /// Starts the task that checks the tracking connection and opens it again when lost; it
    /// ends when the store is dropped. Needs a Tokio runtime.
    pub(crate) fn spawn_keeper(&self) {
        tokio::spawn(keep(Arc::downgrade(&self.shared)));
    }

    /// The live record cached under `key`, if any (a hit); `None` is counted as a miss.
    pub(crate) fn get(&self, key: &Key, now: Timestamp) -> Option<Record> {
        let record = self.shared.entries.get(key).and_then(|entry| {
            let slot = entry.slot();
            (!slot.record.is_expired(now)).then(|| slot.record.clone())
        });
        match record {
            Some(record) => {
                self.shared.hits.fetch_add(1, Ordering::Relaxed);
                Some(record)
            }
            None => {
                self.shared.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// The tracking connection to read `key` through, and the epoch to insert what it reads
    /// under; `None` while there is no healthy tracking connection (read uncached).
    ///
    /// The epoch is read before the link is copied: a link given up in between bumps the epoch
    /// after clearing itself, so a read through a link given up can never insert (its key may
    /// no longer be tracked by any connection of ours).
    pub(crate) fn reader(&self, key: &Key) -> Option<(Link, u64)> {
        let epoch = self.shared.epoch(key);
        Some((self.shared.current_link()?, epoch))
    }

    /// Caches `record`, read through the tracking connection when `key`'s stripe was at
    /// `epoch`, unless an invalidation of the stripe arrived since.
    pub(crate) fn insert(&self, key: Key, epoch: u64, record: &Record) {
        let stripe = self.shared.stripe(&key);
        if stripe.epoch == epoch {
            // Values of its own, so that its weight is what it holds: the record read shares
            // the pack's text, which would otherwise stay while any of its values did.
            let mut kept = record.clone();
            kept.unshare_values();
            self.shared.put(key, kept);
        }
    }

    /// The tracking connection, if there is one (writes through it keep the cache warm).
    pub(crate) fn link(&self) -> Option<Link> {
        self.shared.current_link()
    }

    /// The `apply` script for the tracking connection.
    pub(crate) fn apply_script(&self) -> &Script {
        &self.shared.apply
    }

    /// Notes, before a write to `key` is sent on the tracking connection, the state its entry
    /// is in: the stripe's epoch and the entry's serial.
    pub(crate) fn begin_write<'a>(&'a self, key: &'a Key) -> Pending<'a> {
        let mut stripe = self.shared.stripe(key);
        stripe.writing += 1;
        let serial = self
            .shared
            .entries
            .get(key)
            .map(|entry| entry.slot().serial);
        Pending {
            cache: self,
            key,
            epoch: stripe.epoch,
            serial,
            done: false,
        }
    }

    /// Drops `key`'s entry: this process wrote it.
    pub(crate) fn forget(&self, key: &Key) {
        self.shared.invalidate(key);
    }

    /// The counters.
    pub(crate) fn stats(&self) -> ClientCacheStats {
        self.shared.stats()
    }
}

/// A write to a key sent on the tracking connection, and the state its entry was in then.
///
/// Redis runs commands from one connection in order and sends each invalidation on it when the
/// write that causes it runs, so when the write's answer is read, the invalidations of every
/// other client's write that Redis ran before it have been handled. If none bumped the stripe's
/// epoch since the write was sent, and the entry is still the one seen then (no read inserted
/// another), the entry held what Redis held when the script ran: the same changes applied to it
/// give what Redis holds after, and [`applied`](Pending::applied) keeps that. Any other outcome
/// (an error, a refusal, a cancelled write, a moved epoch) drops the entry when this is dropped.
pub(crate) struct Pending<'a> {
    cache: &'a Cache,
    key: &'a Key,
    epoch: u64,
    serial: Option<u64>,
    done: bool,
}

impl Pending<'_> {
    /// The write applied `changes` to a live session that stays live: keep the entry, changed
    /// alike, when that is safe (see above); drop it otherwise.
    pub(crate) fn applied(mut self, changes: &Changes) {
        self.done = true;
        let shared = &self.cache.shared;
        let mut stripe = shared.stripe(self.key);
        // Alone: no other write of this process to the stripe was in flight at any moment of
        // this one's (two in flight may be answered in one order and handled in the other).
        let alone = stripe.writing == 1;
        stripe.writing -= 1;
        let unmoved = stripe.epoch == self.epoch;
        if let (true, Some(entry)) = (alone && unmoved, shared.entries.get(self.key)) {
            let mut slot = entry.slot();
            if Some(slot.serial) == self.serial {
                // Moved, so that a read sent before the write cannot insert what it read.
                stripe.bump();
                changes.apply_to(&mut slot.record);
                slot.serial = shared.serials.fetch_add(1, Ordering::Relaxed);
                let weight = weight(&slot.record);
                let weighed = slot.weighed;
                drop(slot);
                // The cache weighs an entry when it is inserted: one grown or shrunk by much is
                // inserted again (the same entry), so the bound on its bytes holds.
                if weight > weighed + weighed / 4 + 64 || weight < weighed - weighed / 4 {
                    shared.entries.insert(*self.key, entry);
                }
                return;
            }
        }
        shared.drop_entry(&mut stripe, self.key);
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            let shared = &self.cache.shared;
            let mut stripe = shared.stripe(self.key);
            stripe.writing -= 1;
            shared.drop_entry(&mut stripe, self.key);
        }
    }
}

/// Drops a key's entry when dropped: held across a write, so that the entry goes whichever way
/// the write ends (done, failed, or cancelled).
pub(crate) struct Forget<'a> {
    pub(crate) cache: Option<&'a Cache>,
    pub(crate) key: &'a Key,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.cache {
            cache.forget(self.key);
        }
    }
}

impl Shared {
    fn stripe(&self, key: &Key) -> std::sync::MutexGuard<'_, Stripe> {
        let digest = key.digest();
        self.stripes[usize::from(u16::from_le_bytes([digest[0], digest[1]])) % STRIPES]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn epoch(&self, key: &Key) -> u64 {
        self.stripe(key).epoch
    }

    /// Caches `record` under `key` with a new serial; the caller holds the key's stripe.
    fn put(&self, key: Key, record: Record) {
        let serial = self.serials.fetch_add(1, Ordering::Relaxed);
        let slot = Mutex::new(Slot {
            record,
            serial,
            weighed: 0,
        });
        self.entries.insert(key, Arc::new(Entry { slot }));
    }

    fn invalidate(&self, key: &Key) {
        self.drop_entry(&mut self.stripe(key), key);
    }

    /// Drops `key`'s entry, moving its stripe's epoch first (so no read begun before can insert
    /// it again); the caller holds `stripe`, the key's.
    fn drop_entry(&self, stripe: &mut Stripe, key: &Key) {
        stripe.bump();
        self.entries.invalidate(key);
    }

    /// Empties the cache: every stripe's epoch moves first, so no read begun before can insert.
    fn flush(&self) {
        for stripe in &self.stripes {
            stripe.lock().unwrap_or_else(PoisonError::into_inner).bump();
        }
        self.entries.invalidate_all();
        self.flushes.fetch_add(1, Ordering::Relaxed);
    }

    fn set_link(&self, link: Link) {
        *self.link.write().unwrap_or_else(PoisonError::into_inner) = Some(link);
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    fn current_link(&self) -> Option<Link> {
        self.link
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Gives up the link of `generation` (if it is still the current one) and empties the cache:
    /// pushes may have been lost with it.
    fn drop_link(&self, generation: u64) {
        {
            let mut link = self.link.write().unwrap_or_else(PoisonError::into_inner);
            if link
                .as_ref()
                .is_some_and(|link| link.generation == generation)
            {
                *link = None;
            }
        }
        self.flush();
    }

    /// A push from the tracking connection of `generation`, handled inline.
    fn on_push(&self, generation: u64, push: PushInfo) {
        match push.kind {
            PushKind::Invalidate => match push.data.first() {
                Some(Value::Array(names)) => {
                    for name in names {
                        // A name that is not one of this store's session keys was never read
                        // through this connection, so is not cached.
                        if let Some(key) = self.key_of(name) {
                            self.invalidate(&key);
                            self.invalidations.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                // A null (after FLUSHDB or FLUSHALL), or anything not understood: everything.
                _ => self.flush(),
            },
            PushKind::Disconnection => self.drop_link(generation),
            _ => {}
        }
    }

    /// The session key named `name` (the prefix and 64 hex digits).
    fn key_of(&self, name: &Value) -> Option<Key> {
        let Value::BulkString(name) = name else {
            return None;
        };
        let hex = name.strip_prefix(&*self.prefix)?;
        Key::from_hex(std::str::from_utf8(hex).ok()?)
    }

    fn stats(&self) -> ClientCacheStats {
        ClientCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            invalidations: self.invalidations.load(Ordering::Relaxed),
            flushes: self.flushes.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
        }
    }

    /// Opens a tracking connection: RESP3, pushes handled by [`Shared::on_push`], named, and
    /// `CLIENT TRACKING ON`.
    async fn open(self: &Arc<Self>) -> Result<Link, RedisStoreError> {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::downgrade(self);
        let on_push = move |push: PushInfo| -> Result<(), std::convert::Infallible> {
            if let Some(shared) = shared.upgrade() {
                shared.on_push(generation, push);
            }
            Ok(())
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.connect_timeout))
            .set_response_timeout(Some(self.timeout))
            .set_push_sender(on_push);
        let opening = async {
            let client = redis::Client::open(self.info.clone())?;
            let mut connection = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            redis::cmd("CLIENT")
                .arg("SETNAME")
                .arg(CLIENT_NAME)
                .exec_async(&mut connection)
                .await?;
            // NOLOOP: the store's own writes through this connection announce nothing to it
            // (they keep the entry up to date instead: `Pending`).
            redis::cmd("CLIENT")
                .arg("TRACKING")
                .arg("ON")
                .arg("NOLOOP")
                .exec_async(&mut connection)
                .await?;
            // Not needed for correctness (a missing script is loaded on first use), but a
            // server that refuses it is better found here.
            self.apply.load_async(&mut connection).await?;
            Ok::<_, redis::RedisError>(connection)
        };
        let bound = self.connect_timeout.saturating_add(self.timeout);
        match tokio::time::timeout(bound, opening).await {
            Ok(Ok(connection)) => Ok(Link {
                generation,
                connection,
            }),
            Ok(Err(source)) => Err(RedisStoreError::ClientCache { source }),
            Err(_) => Err(RedisStoreError::Timeout {
                op: "client cache connect",
                after: bound,
            }),
        }
    }
}

/// The keeper: every check interval, `PING` the tracking connection (and give it up, emptying
/// the cache, when the answer does not come within the time-out), or open a new one when there
/// is none. Ends when the store is gone.
async fn keep(shared: Weak<Shared>) {
    // Whether the last attempt to open a tracking connection failed: warn once per outage.
    let mut failing = false;
    loop {
        let Some(interval) = shared
            .upgrade()
            .map(|shared| shared.settings.check_interval)
        else {
            return;
        };
        {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            match shared.current_link() {
                None => match shared.open().await {
                    Ok(link) => {
                        if failing {
                            tracing::info!(
                                "Redis client-side cache: tracking connection open again"
                            );
                        }
                        failing = false;
                        shared.set_link(link);
                    }
                    Err(error) => {
                        if !failing {
                            tracing::warn!(
                                error = ?error,
                                "Redis client-side cache: cannot open its tracking connection; \
                                 reads go uncached until it opens"
                            );
                        }
                        failing = true;
                    }
                },
                Some(mut link) => {
                    let ping = redis::cmd("PING");
                    let ping = ping.query_async::<Value>(&mut link.connection);
                    if !matches!(tokio::time::timeout(shared.timeout, ping).await, Ok(Ok(_))) {
                        shared.drop_link(link.generation);
                    }
                }
            }
        }
        tokio::time::sleep(interval).await;
    }
}

/// A record's weight in the cache: its values' bytes and a fixed overhead.
fn weight(record: &Record) -> usize {
    record
        .data
        .iter()
        .fold(ENTRY_OVERHEAD, |sum, (name, value)| {
            sum.saturating_add(name.len() + value.as_json().len() + 48)
        })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use redis::{IntoConnectionInfo, PushInfo, PushKind, Value};
    use session_core::store::{Changes, Key, Record, Timestamp};

    use super::*;

    fn cache() -> Cache {
        cache_with(ClientCache::new())
    }

    /// A cache with `settings`, never connected.
    fn cache_with(settings: ClientCache) -> Cache {
        let info = "redis://127.0.0.1:1/"
            .into_connection_info()
            .expect("a URL");
        let second = Duration::from_secs(1);
        Cache::new(settings, &info, "session:", second, second, true)
    }

    /// Caches [`record`] under `key` as a read sent now would.
    fn read_in(cache: &Cache, key: Key) {
        cache.insert(key, cache.shared.epoch(&key), &record());
    }

    fn record() -> Record {
        Record::new(
            Timestamp::from_millis(1_000),
            Timestamp::from_millis(10_000),
        )
    }

    fn now() -> Timestamp {
        Timestamp::from_millis(2_000)
    }

    fn invalidate(names: Vec<Value>) -> PushInfo {
        PushInfo {
            kind: PushKind::Invalidate,
            data: vec![Value::Array(names)],
        }
    }

    fn name(key: &Key) -> Value {
        Value::BulkString(format!("session:{}", key.to_hex()).into_bytes())
    }

    #[test]
    fn a_read_is_cached_when_no_invalidation_came_since_it_was_sent() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        let epoch = cache.shared.epoch(&key);
        cache.insert(key, epoch, &record());
        assert_eq!(cache.get(&key, now()), Some(record()));
    }

    #[test]
    fn a_cached_record_holds_values_of_its_own() {
        use session_core::store::{SharedText, pack_values, unpack_shared};

        let cache = cache();
        let key = Key::from_digest([1; 32]);
        // As a read of a packed hash decodes it: the values share the pack's text.
        let text = SharedText::from(pack_values([("a", "1"), ("b", "\"two\"")]));
        let mut read = record();
        for (name, value) in unpack_shared(&text).expect("a pack") {
            read.data.insert(name.to_owned(), value);
        }
        cache.insert(key, cache.shared.epoch(&key), &read);
        let cached = cache.get(&key, now()).expect("cached");
        assert_eq!(cached, read);
        assert!(cached.data.values().all(|value| !value.is_shared()));
    }

    #[test]
    fn an_invalidation_between_a_read_and_its_insert_keeps_it_out() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        // The reader notes the epoch and sends its read; the invalidation is handled before the
        // reader gets to insert what it read.
        let epoch = cache.shared.epoch(&key);
        cache.shared.on_push(0, invalidate(vec![name(&key)]));
        cache.insert(key, epoch, &record());
        assert_eq!(cache.get(&key, now()), None);
        assert_eq!(cache.stats().invalidations, 1);
        // So does this process's own write, and a flush.
        let epoch = cache.shared.epoch(&key);
        cache.forget(&key);
        cache.insert(key, epoch, &record());
        assert_eq!(cache.get(&key, now()), None);
        let epoch = cache.shared.epoch(&key);
        cache.shared.on_push(
            0,
            PushInfo {
                kind: PushKind::Disconnection,
                data: vec![],
            },
        );
        cache.insert(key, epoch, &record());
        assert_eq!(cache.get(&key, now()), None);
    }

    #[test]
    fn invalidations_drop_their_keys_only() {
        let cache = cache();
        let (one, two) = (Key::from_digest([1; 32]), Key::from_digest([2; 32]));
        for key in [one, two] {
            read_in(&cache, key);
        }
        // Names that are not this store's session keys are ignored.
        cache.shared.on_push(
            0,
            invalidate(vec![
                name(&one),
                Value::BulkString(b"other:0123".to_vec()),
                Value::BulkString(b"session:not-hex".to_vec()),
                Value::Int(3),
            ]),
        );
        assert_eq!(cache.get(&one, now()), None);
        assert_eq!(cache.get(&two, now()), Some(record()));
        assert_eq!(cache.stats().invalidations, 1);
        // A null (FLUSHDB) drops everything.
        cache.shared.on_push(
            0,
            PushInfo {
                kind: PushKind::Invalidate,
                data: vec![Value::Nil],
            },
        );
        assert_eq!(cache.get(&two, now()), None);
        assert_eq!(cache.stats().flushes, 1);
    }

    fn counter_set(n: u64) -> Changes {
        let mut changes = Changes::touch(now(), Timestamp::from_millis(20_000));
        changes.updates.push((
            "counter".to_owned(),
            Some(session_core::Value::from_serialize(&n).expect("a number")),
        ));
        changes
    }

    #[test]
    fn an_own_write_keeps_the_entry_it_saw_changed_alike() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        read_in(&cache, key);
        let pending = cache.begin_write(&key);
        pending.applied(&counter_set(7));
        let mut expected = record();
        counter_set(7).apply_to(&mut expected);
        assert_eq!(cache.get(&key, now()), Some(expected));
    }

    #[test]
    fn an_own_write_drops_the_entry_when_anything_moved_meanwhile() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        // Another client's write announced before this one's answer.
        read_in(&cache, key);
        let pending = cache.begin_write(&key);
        cache.shared.on_push(0, invalidate(vec![name(&key)]));
        read_in(&cache, key);
        pending.applied(&counter_set(7));
        assert_eq!(cache.get(&key, now()), None);
        // A read inserting another entry meanwhile (it may have read the write's result).
        read_in(&cache, key);
        let pending = cache.begin_write(&key);
        read_in(&cache, key);
        pending.applied(&counter_set(7));
        assert_eq!(cache.get(&key, now()), None);
        // No entry when it was sent: nothing to keep.
        let pending = cache.begin_write(&key);
        read_in(&cache, key);
        pending.applied(&counter_set(7));
        assert_eq!(cache.get(&key, now()), None);
        // A write that failed or was cancelled.
        read_in(&cache, key);
        drop(cache.begin_write(&key));
        assert_eq!(cache.get(&key, now()), None);
        // And a read sent before the write cannot insert after it.
        read_in(&cache, key);
        let epoch = cache.shared.epoch(&key);
        cache.begin_write(&key).applied(&counter_set(7));
        cache.insert(key, epoch, &record());
        assert_ne!(cache.get(&key, now()), Some(record()));
    }

    #[test]
    fn two_own_writes_in_flight_drop_the_entry() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        read_in(&cache, key);
        // Answered in one order, handled in the other: neither may guess the result.
        let first = cache.begin_write(&key);
        let second = cache.begin_write(&key);
        second.applied(&counter_set(2));
        assert_eq!(cache.get(&key, now()), None);
        first.applied(&counter_set(1));
        assert_eq!(cache.get(&key, now()), None);
        // Alone again: kept.
        read_in(&cache, key);
        cache.begin_write(&key).applied(&counter_set(3));
        assert!(cache.get(&key, now()).is_some());
    }

    #[test]
    fn an_entry_grown_by_own_writes_is_weighed_again() {
        let cache = cache_with(ClientCache::new().max_bytes(10_000));
        let key = Key::from_digest([1; 32]);
        read_in(&cache, key);
        cache.shared.entries.run_pending_tasks();
        assert!(cache.get(&key, now()).is_some());
        let mut grow = counter_set(1);
        let big = "x".repeat(20_000);
        grow.updates.push((
            "big".to_owned(),
            Some(session_core::Value::from_serialize(&big).expect("a string")),
        ));
        cache.begin_write(&key).applied(&grow);
        cache.shared.entries.run_pending_tasks();
        assert!(
            cache.shared.entries.weighted_size() <= 10_000,
            "{} bytes held",
            cache.shared.entries.weighted_size()
        );
        assert_eq!(cache.get(&key, now()), None, "too large for the cache");
    }

    #[test]
    fn an_expired_entry_is_not_served() {
        let cache = cache();
        let key = Key::from_digest([1; 32]);
        read_in(&cache, key);
        assert_eq!(cache.get(&key, Timestamp::from_millis(10_000)), None);
    }
}
