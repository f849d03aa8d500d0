#![cfg_attr(docsrs, feature(doc_cfg))]
//! `RedisStore`: HTTP sessions in Redis, the store for more than one process or machine.
//!
//! Built on the [`redis`] crate's `ConnectionManager` (one multiplexed connection that
//! reconnects by itself), or its cluster connection on a Redis Cluster
//! ([`RedisStore::cluster_builder`], see [Redis Cluster](#redis-cluster)), and Lua scripts, on
//! Tokio.
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use session_core::{Engine, ParamState};
//! use session_store_redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0")
//!     .prefix("myapp:session:")
//!     .timeout(Duration::from_millis(500))
//!     .connect()
//!     .await?; // fails here if Redis cannot be reached (or use .lazy(true))
//! let engine = Engine::new(ParamState::default(), store);
//! # Ok(()) }
//! ```
//!
//! Connection information is checked before anything goes over the network:
//!
//! ```
//! use session_store_redis::{RedisStore, RedisStoreError};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let refused = RedisStore::builder("http://127.0.0.1:6379/").connect().await;
//! assert!(matches!(refused, Err(RedisStoreError::InvalidUrl(_))));
//! # });
//! ```
//!
//! # Layout
//!
//! Each session is one Redis hash under `{prefix}{key}`: the prefix (default `"session:"`) and the
//! hex SHA-256 digest of the session id that core computes ([`Key::to_hex`]). The raw id never
//! reaches Redis, so a dump of the database yields no usable cookie.
//!
//! | field | holds |
//! |---|---|
//! | `created`, `last_active`, `expires` | milliseconds since the Unix epoch, in decimal |
//! | `lifetime` | the session's own lifetime (`{"idle_secs":…,"persistent":…}`), absent if none |
//! | `v:<name>` | the value stored under `<name>`, as its JSON text; empty: a packed value removed |
//! | `pack` | the values of a session of many, packed into one field (below) |
//! | `size` | the size of the values, in decimal: every `v:` field's name and text, in bytes (an empty one its name), and each packed value counted as a field of its own |
//! | `binding`, `subject_key` | a bound session's binding and its subject's digest: see [Sessions per subject](#sessions-per-subject) |
//!
//! Everything is text that `redis-cli` and other languages can read; the [`Codec`] seam is not
//! used (values are already JSON, and a field per changed value is what lets `apply` change
//! single keys).
//!
//! **Packed values.** Redis and the client both pay per string of an `HGETALL` reply, so a
//! session of many values is read faster from one field than from many. When a hash would have
//! more than 12 fields (metadata included: a session of about 8 values or more) and its values
//! take at most 128 KiB, its values go into one `pack` field, each value as
//! `<name length>:<text length>:<name><text>` (lengths in bytes, decimal: session-core's
//! [`pack_values`](session_core::store::pack_values)). `create` and `save` write them so.
//! Changes stay key-level: `apply` writes a changed value to its own `v:` field, which a load
//! reads over the packed one, and removes a packed value with an empty `v:` field. When a change
//! leaves the hash with more than 12 fields, the same script packs all its values again (the
//! pack's, the `v:` fields over them), so a session that gains values one request at a time gets
//! packed too, and the fields a counter or a flash message rewrites stay few. A session of a few
//! values is never packed: its hash is laid out as before packing existed. Nor is one whose
//! values take more than 128 KiB: packing copies every value inside Redis (measured: 0.6 to 0.8
//! ms for 50 KB), and the bound keeps that cost bounded.
//!
//! **Upgrading** from a release before packing: it reads a packed hash as damaged (no session),
//! and its `apply` does not know a packed value from a missing one. During a rolling upgrade, set
//! [`pack_values(false)`](RedisStoreBuilder::pack_values) in the new processes (they still read
//! packs) until no old process is left. There is no way back: an older release cannot read the
//! sessions once they are packed.
//!
//! The key carries a TTL (`PEXPIRE`, computed from the store's [`Clock`]) that runs to
//! the *deadline* of its expiry, the first whole minute of that clock after `expires`, so Redis
//! reclaims dead sessions by itself, at most a minute after they died. Whether a session is live
//! is decided by its `expires` field on the store's clock, never by the TTL: a key Redis still
//! holds after its expiry is no session. Keeping the TTL to the minute lets a request whose new
//! expiry falls in the same minute as the old one (every request to a session used within the
//! minute) leave it alone, which saves Redis a `PEXPIRE` per request.
//!
//! # Operations and round trips
//!
//! Each operation is one round trip:
//!
//! - `load`: `HGETALL` (none for a session in the opt-in [client-side cache](#client-side-cache),
//!   whose `apply` also reads the key again with `EXISTS`).
//! - `create`: a script: if a live session is there, answer 0; else drop the key, `HSET` every
//!   field, `PEXPIRE`.
//! - `save`: a script: if no live session is there, answer 0; else drop the key, `HSET` every
//!   field, `PEXPIRE`.
//! - `apply`: a script: one `HMGET` reads `expires` (if no live session is there, answer 0),
//!   `subject_key`, `size` and the old texts of the short values set (up to 256 bytes); when
//!   values change, compute their new size from those (and `HSTRLEN` of each long value replaced
//!   and each value removed) and answer the size, writing nothing, if it passes the limit; then
//!   (on `clear`) `HDEL` every `v:` field and the pack, one `HSET` of the changed fields, the
//!   metadata and the size, `HDEL` of those removed (an `HSET` of empty fields when the hash has
//!   a pack), and `PEXPIRE` only if the expiry moved to another minute. When the change may have
//!   added a field (the single `HSET` says it did; any other write may), an `HLEN`; past 12
//!   fields, with the values under 128 KiB, they are packed again (`HGETALL`, `HDEL` of the `v:`
//!   fields, `HSET` of the pack and the size).
//! - `touch`: the `apply` script with no value changes (`last_active`, `expires`, TTL; the size is
//!   neither read nor written).
//! - `delete`: a script: note whether a live session is there, `UNLINK`, answer that.
//! - `list_subject`: a script over the subject's index (see below).
//!
//! Scripts go out as `EVALSHA`; a server that does not know one (first use, or after a restart)
//! answers `NOSCRIPT`, and the redis crate then loads it and retries: two more round trips, once
//! per script and server. [`RedisStoreBuilder::connect`] loads all four up front.
//!
//! A session is **live** when its hash exists and its `expires` field is later than the store's
//! clock. Every script checks that first and Redis runs each script without interleaving other
//! commands, so:
//!
//! - `apply` is atomic per session ([`Store::applies_atomically`] is `true`): concurrent requests
//!   changing different keys of one session keep every write; two requests writing the same key:
//!   the later commit wins.
//! - Nothing is resurrected: `save`, `apply` and `touch` of a deleted or expired session write
//!   nothing and answer `false`.
//! - `create` is insert-if-absent; it replaces a dead (expired or damaged) hash whole.
//! - `load` never returns a record whose `expires` has passed by the store's clock, even while
//!   Redis still holds it (clocks of different machines, or a `ManualClock` in tests).
//! - A record already dead when written is not written (`create`, `save`) or is removed
//!   (`apply`, `touch`); the call still answers as if it had been written.
//!
//! # Record size limit
//!
//! A session's values may take at most [`max_record_bytes`](RedisStoreBuilder::max_record_bytes)
//! bytes (default [`DEFAULT_MAX_RECORD_BYTES`], 1 MiB, the file store's default; at most
//! [`MAX_RECORD_BYTES_LIMIT`]), counted as stored: each `v:` field's name and JSON text (an empty
//! one, a removed packed value, its name), and each packed value as much as it would take in a
//! field of its own (the metadata fields, under 200
//! bytes, or about 1 KiB with a binding, and the pack's lengths, are not counted). So a handler
//! that stores what users send cannot grow a hash without bound through the store. (A hash grown by
//! something else is still read whole by a load, then refused as damaged.)
//!
//! - `create` and `save` know the whole record: the store checks its size before sending it, and
//!   writes it with the `size` field.
//! - `apply` sees only the changed keys: its script keeps `size` up to date from the lengths it
//!   writes and the old lengths (`HSTRLEN`) of the fields it replaces or removes, and checks the
//!   result before writing anything. A hash without `size` (written before it existed) is
//!   measured once, at its next `apply` that changes a value.
//! - A packed value overridden by its `v:` field, or removed by an empty one, still counts until
//!   the values are packed again. When that count would put a change over the limit, the script
//!   prunes the pack of every value a field overrides or removes and of those the change sets
//!   (which stay in fields of their own, so a value changed again is counted once), drops the
//!   empty fields, and refuses the change only if the values' own size passes the limit. The
//!   pruning reads the whole hash once; a session near the limit whose handler rewrites the same
//!   values is pruned once, not on every request.
//! - A write over the limit fails with
//!   [`StoreErrorKind::TooLarge`](session_core::store::StoreErrorKind::TooLarge), its source a
//!   [`RedisStoreError::TooLarge`] naming the size and the limit, and leaves the stored session as
//!   it was: [`Session::save`](session_core::Session::save) returns it to the handler; at the
//!   commit the adapters answer a bare 500.
//! - A hash whose values take more than the limit (grown by something else, or written under a
//!   larger limit) is damaged: see below. Its size is measured from what `HGETALL` returned,
//!   before any value is parsed, but for a pack's values, which are checked as the pack is split
//!   (a pack of more than twice the limit is refused unsplit).
//!
//! What it costs Redis: a write that changes values runs two or more commands more inside the
//! script (`HGET size`, one `HSTRLEN` per value field written or removed): measured with
//! callgrind on redis-server 7.0, an `EVALSHA` of `apply` setting one value costs 84 000
//! instructions instead of 59 000 (2.5 to 4 µs more per call in `INFO commandstats`, on a busy
//! shared machine), a touch 62 000 instead of 54 000, a `save` 88 000 instead of 83 000.
//!
//! # Time-outs, failures and recovery
//!
//! Every call is bounded by [`RedisStoreBuilder::timeout`] (default 1 s), twice over: the
//! connection's response time-out, and a `tokio::time::timeout` around the whole call (including
//! any wait for a reconnection and a `NOSCRIPT` reload). A call that passes it fails with
//! [`StoreErrorKind::Timeout`](session_core::store::StoreErrorKind::Timeout); a refused or broken
//! connection or a server error fails with
//! [`StoreErrorKind::Backend`](session_core::store::StoreErrorKind::Backend). The error's
//! `source()` is a [`RedisStoreError`] carrying the redis crate's error. A write that timed out may
//! or may not have been applied (the engine answers that request with a 500).
//!
//! When the connection breaks, the calls in flight fail and the connection manager reconnects in
//! the background: up to [`reconnect_retries`](RedisStoreBuilder::reconnect_retries) retries per
//! round, 50 ms to 500 ms apart, each attempt bounded by
//! [`connect_timeout`](RedisStoreBuilder::connect_timeout). While Redis is down, each call waits
//! for one such reconnection round and then fails (about 0.6 s with the defaults, measured on
//! loopback with the port closed), or fails at the time-out if that comes first: lower
//! `reconnect_retries` or `timeout` to fail sooner. Once Redis is back, calls succeed again with
//! the same `RedisStore` (about 55 ms after a restart here), no restart or rebuild needed.
//!
//! **Redis down at start**: [`RedisStoreBuilder::connect`] fails with
//! [`RedisStoreError::Connect`] (or `Timeout`) after its retries, so a misconfigured application
//! stops at startup. With [`lazy(true)`](RedisStoreBuilder::lazy) it returns at once, and the
//! first calls connect: the application starts, and its session calls fail until Redis is up.
//!
//! # Damaged data
//!
//! A hash this store cannot read (a missing or malformed metadata field, a value that is not JSON,
//! a field it does not write, a damaged binding, values over the size limit, or a key that is not a
//! hash at all) is treated as **no session**, like the file store's damaged files: `load` answers
//! `None` and logs a `warn` through `tracing` (with the key's first hex digits, never a value). The
//! hash is left in place for inspection, and its own TTL, if any, reclaims it. The scripts judge a
//! hash by its `expires` field alone: without a readable one (or for a key that is not a hash)
//! there is no live session, so `save`, `apply` and `touch` answer `false` and `create` replaces it
//! whole; with one, a damaged value or unknown field does not stop them (`create` then reports a
//! collision and the engine picks another id), and `apply` trusts the `size` field (a hash grown
//! behind its back is caught by the next `load`). Nothing panics.
//!
//! # Client-side cache
//!
//! Opt-in ([`RedisStoreBuilder::client_cache`]): a session read once is served from this
//! process's memory until Redis reports that it changed, so a session read again (every request
//! that reads but does not write it) costs no round trip. It is Redis's server-assisted
//! client-side caching: the store opens a second connection, speaks RESP3 on it and turns on
//! `CLIENT TRACKING`; it reads through that connection, so Redis remembers each key read there
//! and pushes an invalidation on it when the key changes, whoever changes it (another process, a
//! script, the key expiring or being evicted, `FLUSHDB`). Needs Redis 6 or later, on one server
//! (not a cluster).
//!
//! ```no_run
//! use session_store_redis::{ClientCache, RedisStore};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::builder("redis://127.0.0.1:6379/0")
//!     .client_cache(ClientCache::new().max_bytes(32 << 20))
//!     .connect()
//!     .await?;
//! let stats = store.client_cache_stats().expect("asked for");
//! println!("{} hits, {} misses", stats.hits, stats.misses);
//! # Ok(()) }
//! ```
//!
//! Writes go through the same connection too (`apply` and `touch`; `create`, `save` and
//! `delete` go through the main one), with `NOLOOP` so that the store's own writes announce
//! nothing to it: when the cached record is provably the one Redis held when the write ran, it
//! gets the same changes in memory, so the next read of the session is a hit again, and a
//! read-modify-write request (the counter) costs one round trip instead of two. The `apply`
//! script then reads the key once more after writing (an `EXISTS`), because Redis forgets every
//! connection's tracking of a key when the key changes: the read makes it tracked again, so
//! other processes' later writes are still announced. That relies on the server tracking keys
//! read inside a script for the connection that called it, as Redis does (tested here with
//! Redis 7.0); other Redis-compatible servers are not verified. An entry is changed in place
//! only by a write that was this process's only one in flight to its keys' stripe: concurrent
//! writes to one session from one process may be answered in one order and handled in the
//! other, so they drop the entry instead (the next read is a round trip). A tracked write in
//! flight when the tracking connection breaks fails (as one on the main connection would).
//!
//! What it guarantees:
//!
//! - **This process never reads its own stale value.** Every write this store makes (`create`,
//!   `save`, `apply`, `touch`, `delete`) drops the session's entry, or changes it alike, when it
//!   ends, before it returns, whichever way it ends. The entry is changed only if no
//!   invalidation and no other read's insertion touched it since the write was sent: Redis runs
//!   one connection's commands in order and sends each invalidation when the write causing it
//!   runs, so every other client's write that ran before this one has been announced, and
//!   handled, by the time this one's answer is read.
//! - **Another process's write is seen once its invalidation has arrived, and never after.**
//!   Invalidation is asynchronous: between another process's write and the arrival of Redis's
//!   push, this process may still serve the old record. Redis sends the push when it runs the
//!   write, before it answers the writer, so the window is short: measured on this project's
//!   2-core machine (loopback, 200 writes by another connection, `tests/it/client_cache.rs`),
//!   the invalidation was handled before the writer's call returned in most cases, and at most
//!   75 µs after it (p99 70 µs); between two demo processes, the first request sent after the
//!   other process's response already saw the write or the logout. A busy process handles
//!   pushes later (they wait for the runtime like any task). In particular, a session ended
//!   elsewhere (logout, "log out everywhere") may be served within that window, and never once
//!   its invalidation is in. A read racing an invalidation cannot leave the old record behind: each
//!   read inserts what it read only if no invalidation of its key's stripe arrived since it was
//!   sent.
//! - **Expiry is still enforced**: a cached record past its `expires` on the store's clock is no
//!   session.
//! - **A lost tracking connection empties the cache**, since pushes may have been lost with it;
//!   reads then go to Redis, uncached, until a background task (ending with the store) opens a
//!   new one. That task also `PING`s the connection every
//!   [`check_interval`](ClientCache::check_interval) (1 s), and empties the cache when no answer
//!   comes within the store's time-out: a connection that silently stops carrying pushes (a
//!   network partition) serves stale records for at most about that long.
//! - Entries live at most [`time_to_live`](ClientCache::time_to_live) (5 minutes) and take at
//!   most [`max_bytes`](ClientCache::max_bytes) (64 MiB, estimated), least used first out.
//!   Absent sessions are not cached. [`RedisStore::client_cache_stats`] counts hits, misses,
//!   invalidations, flushes and connections.
//! - Redis keeps a tracking table of the keys each tracking connection read, absent ones
//!   included (so requests with made-up ids add entries); past `tracking-table-max-keys` (one
//!   million by default) it forgets keys, sending their invalidations first, so a full table
//!   costs hits, never correctness.
//!
//! Use it when a write made by another process may be seen a little late (see the window
//! above); leave it off when another process's logout must take effect everywhere before its
//! response is sent. It costs Redis a little more per write (the `EXISTS`, and keeping its
//! tracking table) and saves it every read of a cached session.
//!
//! # TLS and other connection options
//!
//! This crate enables only the redis crate's `tokio-comp`, `connection-manager`, `script` and
//! `cluster-async` features. For TLS, add the redis crate to your own `Cargo.toml` with the feature you want
//! (`tokio-rustls-comp` or `tokio-native-tls-comp`; Cargo unifies features) and connect to a
//! `rediss://` URL. Any [`redis::ConnectionInfo`] can be passed to [`RedisStore::builder`].
//!
//! # Deployment notes
//!
//! - **One prefix per application.** Applications sharing a Redis (or a database number) must
//!   use different [`prefix`](RedisStoreBuilder::prefix)es, or they read each other's sessions.
//!   Processes of one application share the prefix, and with it the sessions.
//! - **Memory limits.** Every session key carries a TTL. With a `maxmemory` limit and an eviction
//!   policy (`volatile-lru`, `volatile-ttl`, `allkeys-lru`, ...), Redis may evict live sessions
//!   when full: those users are logged out (their id is then unknown, so they get a fresh session;
//!   a request in flight on an evicted session writes nothing back, as after a logout). With
//!   `noeviction`, writes fail when memory is full and the requests that write get a 500. On a
//!   Redis shared with other data, prefer a `volatile-*` policy, so that only keys with a TTL
//!   (sessions, caches) are evicted; size `maxmemory` for the sessions you keep, and watch
//!   `evicted_keys`.
//! - **Persistence and fail-over.** Without persistence (RDB or AOF), a Redis restart logs every
//!   user out. Replication is asynchronous: a write acknowledged by a primary that fails before
//!   replicating it is lost on fail-over.
//! - **Cluster.** [`RedisStore::cluster_builder`] talks to a Redis Cluster: sessions spread over
//!   its masters, and sessions per subject work with the guarantees [below](#redis-cluster).
//! - **TLS**: see above; use a `rediss://` URL, and authentication (`redis://user:pass@host`) for
//!   any Redis reachable by more than the application. The store's `Debug` output shows the
//!   server's address, never the password.
//!
//! # Sessions per subject
//!
//! [`Store::lists_subjects`] is `true`: sessions bound to a subject at login
//! ([`Session::bind`](session_core::Session::bind)) are listed by
//! [`Store::list_subject`], on which [`Subjects`] lists, revokes and ends a user's sessions.
//!
//! **Layout.** A bound session's hash has two more fields: `binding`, its [`Binding`] as JSON
//! (subject, handle, `bound_at` in milliseconds, user agent and address if recorded), and
//! `subject_key`, the 64 hex digits of [`subject_key`] of its subject. An unbound session has
//! neither: it is written exactly as before, and hashes written before load as unbound sessions.
//! Each subject has an **index**, a sorted set under `{prefix}subject:{digest}` (the same
//! digest): one member per bound session, the 64 hex digits of its key, scored by its expiry's
//! deadline (the whole minute after it) in milliseconds. The subject itself is only ever inside the `binding` text, never in a key name.
//!
//! **Kept by the same scripts** on one server, so the index changes in the same atomic step as
//! its sessions (on a cluster, by calls of their own: see [Redis Cluster](#redis-cluster)):
//!
//! - `create` and `save` of a bound record take the index as a second key: they prune its
//!   entries scored over a minute ago (`ZREMRANGEBYSCORE`), file the session (`ZADD`) and set the
//!   index's TTL, before writing the hash (an index Redis refuses fails the call with nothing
//!   written). A hash replaced (dead, or saved under another binding or none) leaves the index
//!   it was in.
//! - `apply` and `touch` of a bound record whose expiry moves to another minute move its score
//!   (`ZADD`, which also files it again in an index that was lost) and the TTL; an `apply` that ends the record, and `delete`, take the
//!   entry out (`ZREM`). These scripts find the index through the hash's `subject_key` field: the
//!   liveness check reads it with `expires` (one `HMGET` where there was one `HGET`), so an unbound
//!   session runs as many commands as before.
//! - `list_subject` is one script: it prunes the entries scored over a minute ago, reads each
//!   other entry's hash (`HMGET` of `subject_key`, `binding` and the timestamps), drops the
//!   entries whose hash is gone, dead, or bound to another subject, and answers the rest. Its
//!   cost grows with the subject's sessions.
//!
//! **TTLs.** Every script that changes an index sets its TTL to a minute past its highest score:
//! an index lives at most two minutes longer than its latest session, never less, and the
//! entries of sessions that went without a `delete` (evicted, removed by hand) go at the next
//! listing or bound `create`, or with the index.
//!
//! **Commands per call** (`INFO commandstats`, which counts what the scripts run; each call is
//! one round trip, one `EVALSHA` but for `load`):
//!
//! | call | unbound | bound |
//! |---|---|---|
//! | `create` | `HMGET`, `UNLINK`, `HSET`, `PEXPIRE`: 4 | 8: + `ZREMRANGEBYSCORE`, `ZADD`, `ZRANGE`, `PEXPIRE` |
//! | `apply` (one short value), expiry in the same minute | `HMGET`, `HSET`: 2 | 2 |
//! | `apply` (one short value), expiry in another minute | `HMGET`, `HSET`, `PEXPIRE`: 3 | 6: + `ZADD`, `ZRANGE`, `PEXPIRE` |
//! | `touch`, expiry in another minute | `HMGET`, `HSET`, `PEXPIRE`: 3 | 6: + `ZADD`, `ZRANGE`, `PEXPIRE` |
//! | `delete` | `HGET`→`HMGET`, `UNLINK`: 2 | 4: + `ZREM`, `ZRANGE` (+ `PEXPIRE` if entries remain) |
//! | `load` | `HGETALL`: 1 | 1 |
//!
//! **Damaged data.** A `binding` that is not a binding, a `subject_key` that is not its
//! subject's digest, or one of the two without the other makes the hash damaged, as any damaged
//! metadata field does: `load` answers `None` and logs, the listing leaves it out and logs, the
//! hash stays until its TTL. The scripts use `subject_key` only when it is 64 lowercase hex
//! digits, and their index updates on behalf of `apply`, `touch` and `delete` are best effort: an
//! index that is not a sorted set (written by something else) never stops them; it fails bound
//! `create`s and `save`s and `list_subject`.
//!
//! **Memory limits.** Index keys carry a TTL, so a `volatile-*` eviction policy may evict one:
//! its sessions are then not listed (a "log out everywhere" misses them) until an `apply` or
//! `touch` moving their expiry to another minute files them again. Where sessions per subject
//! matter, size `maxmemory` so that nothing is evicted, or use `noeviction`.
//!
//! ## Redis Cluster
//!
//! [`RedisStore::cluster_builder`] takes one or more nodes of a cluster (the client learns the
//! others from them, and follows `MOVED`, `ASK` and fail-overs by itself); the builder's other
//! settings are the same:
//!
//! ```no_run
//! use session_store_redis::RedisStore;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = RedisStore::cluster_builder([
//!     "redis://10.0.0.1:6379/",
//!     "redis://10.0.0.2:6379/",
//!     "redis://10.0.0.3:6379/",
//! ])
//! .prefix("myapp:session:")
//! .connect() // fails if no node can be reached, or the cluster does not answer
//! .await?;
//! assert!(store.is_cluster());
//! # Ok(()) }
//! ```
//!
//! **What changes.** The keys and the hash fields are the same as on one server; sessions spread
//! over the masters by their keys' hash slots (a prefix with a hash tag, `{...}`, would put every
//! key in one slot, on one master). Every script touches the keys of one slot only: the session
//! scripts (`write`, `apply`, `delete`) their session's hash, the index scripts their subject's
//! index (see the `cluster` module's source). The server must be Redis 6.2 or later (`ZADD GT`).
//!
//! | call | one server | cluster, unbound | cluster, bound |
//! |---|---|---|---|
//! | `load` | `HGETALL` | `HGETALL` | `HGETALL` |
//! | `create`, `save` | 1 script | 1 script | 2: the index's, then the session's |
//! | `apply`, `touch` | 1 script | 1 script | 1, or 2 when the expiry moves to another minute: the session's, then the index's |
//! | `delete` | 1 script | 1 script | 2: the session's, then the index's |
//! | `list_subject` | 1 script | – | 1 script, then one `HMGET` per entry (sent together), and 1 more when it prunes |
//!
//! On one server nothing changes: the connection is an enum whose cluster arm is never taken,
//! with no allocation of its own.
//!
//! **Keeping the index without a two-key script.** A session's hash and its subject's index lie
//! in different slots, so they are written by separate calls, ordered so that a listing never
//! misses a live session:
//!
//! - A bound `create` or `save` files the session in the index first (and fails, writing
//!   nothing, if that fails); a `delete`, an `apply` that ends the record, or a write that moves
//!   a hash to another subject removes the entry after the hash. A listing may thus meet an entry
//!   whose hash is not written yet, never a live bound hash without its entry.
//! - An `apply` or `touch` of a bound session whose expiry moves to another minute learns its
//!   subject from its script's reply, and files the new expiry's deadline after writing the hash,
//!   with `ZADD GT` (an entry's score only grows, and an entry lost is filed again). Within the
//!   minute the entry's score, the deadline of an expiry in the same minute, still covers it, and
//!   the script answers no subject: one round trip, as on one server. To cover the moment between the two calls, an entry is kept
//!   60 s past its score, and an index lives 60 s past its latest entry.
//! - A listing reads the index, then each entry's hash from the client, and prunes an entry only
//!   on evidence that its session is gone: its hash is dead by its `expires`, bound to no or
//!   another subject, or not a hash; or it is missing and the entry's score has passed. An entry
//!   without a hash whose score is still ahead may be a create in flight: it is not listed, and
//!   kept.
//!
//! **Per-user guarantees on a cluster.** `list`, `revoke`, `end_all` and `end_all_except` keep
//! the guarantees they have on one server (see the `subject` module of session-core), including
//! "a session that existed when log out everywhere started is gone afterwards" and "a login that
//! lands later is listed", as long as every call of a write completes: a live bound session is in
//! its index from before it is written until after it is deleted. The conformance kit (which races
//! id changes and logins against `end_all`) and the demo's per-user HTTP tests pass on a cluster.
//! What weakens:
//!
//! - **A listing is not atomic.** It reads each hash after reading the index; a session that
//!   changes meanwhile is seen before or after the change. `end_all` and `revoke` already repeat
//!   listings for stores whose listing is not a snapshot (memory, files), so they hold.
//! - **A process that dies (or a call that fails) between a write's two calls:**
//!   - after filing a create or save, before writing the hash: an entry without a hash, not
//!     listed, dropped by the first listing after its score passes (at most the session's
//!     lifetime), or with the index;
//!   - after deleting a hash (or moving it to another subject), before removing its entry: the
//!     entry is not listed (no hash, or a hash of another subject) and the next listing drops it;
//!   - after an `apply` or `touch` wrote a bound session, before filing its new expiry: the
//!     entry keeps the older expiry. The session stays listed while the entry lives, that is
//!     until 60 s after the older expiry; if no later write of the session files it again by
//!     then, the session drops out of listings (and so escapes "log out everywhere") until its
//!     next write, while it lives. This is the one case where a live session goes unlisted; it
//!     needs a failure in the one round trip after a touch, and a session left idle since.
//!
//!   The failures of these second calls are logged (`warn`) and do not fail the call: the
//!   session was written, or deleted, as asked.
//! - **Eviction** (`maxmemory` with a `volatile-*` policy) may take an index, as on one server.
//!
//! **Fail-over.** When a master fails, its replica takes over after the cluster's
//! `cluster-node-timeout` and an election. Measured with `cluster-node-timeout` 1 s on six local
//! nodes, 24 clients counting in a loop through the demo server (axum and actix-web), the first
//! session's master killed with SIGKILL (the test `redis_cluster_failover` in the workspace's
//! tests):
//!
//! - the cluster reported `cluster_state:ok` again 2.2 s to 2.7 s after the kill, and every
//!   client was served again within 2.3 s to 2.9 s;
//! - meanwhile requests on the failed master's sessions were answered with a bare 500 (the
//!   store's errors, within 0.4 s each: the client's retries fail fast while the slot has no
//!   master, then succeed on the promoted replica); with Redis's default
//!   `cluster-require-full-coverage yes`, the whole cluster refuses commands while a slot is
//!   unserved, so the other masters' sessions saw 500s for the same 2 s or so; with
//!   `cluster-require-full-coverage no` they saw none;
//! - no acknowledged write was lost in these runs (0 of about 2 000 to 6 000 per run): the
//!   replica was in sync on loopback. Replication is asynchronous, so a write acknowledged by a
//!   master in the moment before it dies can be lost: the session then shows its previous
//!   values, or, if it was created in that moment, is gone (its user gets a fresh session).
//!
//! For sessions, prefer `cluster-require-full-coverage no` (a failed master then stops only its
//! own sessions), keep the store's time-out above a request's patience but below the
//! fail-over (the default 1 s fails each request fast and retries nothing: the next request is
//! served once the replica took over), and give each master a replica.
//!
//! **Capacity.** Each master runs commands on one core; a session's calls go to the master of
//! its slot, and a bound session's index calls to the master of its subject's slot, so load and
//! memory spread evenly over the masters and scale with their number. A master runs the same
//! scripts as a single server, so the single server's cost under load is the model (the Redis
//! bench, `benches/benches/redis.rs`, 32 connections: Redis's own CPU time, user and system,
//! over the run divided by the requests served, which includes reading and answering them):
//! about 10 to 13 µs of Redis CPU per counter request (`HGETALL` and the `apply` script, of which
//! the commands themselves take 7 to 10 µs in `INFO commandstats`), so at most 75 000 to 100 000
//! counter requests per second per master core; plan for about half, and multiply by the number
//! of masters. A bound session costs the same except when its expiry moves to another minute
//! (then a second call, to its index's master). A read-only request (`HGETALL` alone) costs about
//! a tenth of a write. The cluster tests' `capacity_figures` measures one request at a time on
//! the test cluster, where every command runs cold: 35 to 50 µs of Redis CPU per request there,
//! an upper bound, not a capacity.
//!
//! Memory (`MEMORY USAGE`): a session holding one small value takes about 230 bytes, a bound one
//! about 830 bytes (its binding, with a user agent and an address), and an index of four sessions
//! about 470 bytes on its subject's master. A million sessions of that size take about 230 MB
//! unbound (830 MB bound) across the cluster, a third of it per master with three, plus each
//! master's base (a few MB) and its replica's copy.
//!
//! ## Rolling out
//!
//! The previous release refuses a hash with a field it does not write: its `load` treats a bound
//! session as damaged, answers `None` and logs a warning. So a user whose bound session reaches a
//! process of the previous release is logged out there (and if that request stores a new
//! session, its cookie replaces the bound one). Unbound sessions are written exactly as before,
//! and either release reads the other's. Hence: deploy this release to every process first,
//! with nothing calling `Session::bind` (an application switch), and bind at login only once no
//! process of the previous release is left. Going back to it afterwards logs out every bound
//! session, and leaves nothing behind: the hashes and indexes expire by their TTLs.
//!
//! # Testing
//!
//! The `testing` feature (for tests only) adds `testing::RedisServer`, which starts a private
//! `redis-server` on a free loopback port, restarts it on the same port for fault tests, and
//! kills it on drop; and `testing::RedisCluster`, a private Redis Cluster of six nodes (three
//! masters with a replica each, created with `redis-cli --cluster create`), whose nodes can be
//! killed and restarted for fail-over tests.
//!
//! [`Key::to_hex`]: session_core::store::Key::to_hex
//! [`Codec`]: session_core::store::Codec
//! [`Clock`]: session_core::store::Clock
//! [`Store::applies_atomically`]: session_core::store::Store::applies_atomically
//! [`Store::lists_subjects`]: session_core::store::Store::lists_subjects
//! [`Store::list_subject`]: session_core::store::Store::list_subject
//! [`Subjects`]: session_core::subject::Subjects
//! [`Binding`]: session_core::store::Binding
//! [`subject_key`]: session_core::store::subject_key
//! [`DEFAULT_MAX_RECORD_BYTES`]: session_core::store::DEFAULT_MAX_RECORD_BYTES
//! [`MAX_RECORD_BYTES_LIMIT`]: session_core::store::MAX_RECORD_BYTES_LIMIT

mod cache;
mod cluster;
mod command;
mod connection;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod layout;
mod listing;
mod scripts;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

pub use cache::{ClientCache, ClientCacheStats};
pub use error::RedisStoreError;
pub use redis;
pub use store::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_PREFIX, DEFAULT_RECONNECT_RETRIES, DEFAULT_TIMEOUT,
    RedisStore, RedisStoreBuilder,
};
