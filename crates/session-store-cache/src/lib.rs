#![cfg_attr(docsrs, feature(doc_cfg))]
//! Session stores on a cache.
//!
//! - [`CacheStore`]: sessions in a bounded in-process cache, [`MokaCache`] by default or any
//!   [`Cache`] (Plack's `Store::Cache` seam: `get`, `set`, `remove`). Each entry expires exactly at
//!   its record's expiry; a full cache evicts the least recently used session (that user is logged
//!   out) and never refuses a fresh login.
//! - [`CachingStore`]: a cache in front of a slower store (files, Redis): reads that hit the cache
//!   never reach the slower store; writes go to both.
//!
//! Both need a Tokio runtime (moka's and the per-key locks' futures run on any executor, but the
//! crate is tested on Tokio only).
//!
//! # Sessions per subject
//!
//! Both stores can list a subject's sessions, so that the engine's "list my sessions", "revoke
//! one" and "log out everywhere" ([`Subjects`](session_core::subject::Subjects)) work on them:
//!
//! - [`CacheStore`] on a [`MokaCache`] keeps an index of its bound sessions per subject (keyed by
//!   the subject's hash, [`subject_key`](session_core::store::subject_key)), in step with the
//!   cache: a session is listed once its `create` returns, and leaves the index when it is
//!   deleted, replaced, or dropped by moka (evicted, expired). Unbound sessions pay nothing for
//!   it. See [`MokaCache`'s section](MokaCache#sessions-per-subject). On a [`Cache`] of your own,
//!   the store lists subjects if the cache does ([`Cache::lists_subjects`]): only the cache sees
//!   its own evictions.
//! - [`CachingStore`] lists what its back store lists, asking the back store. Ending sessions
//!   through it ends them in its front and its back at once; **another process's front** may
//!   serve a session ended here until its entry goes: bound that with
//!   [`MokaCacheBuilder::max_entry_age`] on every front, or use no front where several processes
//!   share the back store. See [`CachingStore`'s section](CachingStore#sessions-per-subject).
//!
//! # Example
//!
//! An engine on a moka cache holding at most 50 000 sessions, driven by hand as an adapter drives
//! it:
//!
//! ```
//! use session_core::{Engine, ParamState};
//! use session_store_cache::CacheStore;
//!
//! let engine = Engine::new(ParamState::default(), CacheStore::new(50_000));
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let headers = http::HeaderMap::new();
//! let session = engine.start(&session_core::state::RequestView::new(&headers, None));
//! session.insert("counter", 1).await?;
//! let id = session.save().await?;
//! engine.commit(&session, http::StatusCode::OK).await?;
//!
//! let query = format!("plack_session={}", id.as_str());
//! let session = engine.start(&session_core::state::RequestView::new(&headers, Some(&query)));
//! assert_eq!(session.get::<u64>("counter").await?, Some(1));
//! # Ok::<_, session_core::Error>(())
//! # }).unwrap();
//! ```

mod cache;
mod caching;
mod entry;
mod index;
mod moka_cache;
mod store;

pub use cache::{Cache, Change};
pub use caching::CachingStore;
pub use moka_cache::{DEFAULT_MAX_SESSIONS, DEFAULT_RECLAIM_WITHIN, MokaCache, MokaCacheBuilder};
pub use store::CacheStore;
