//! Property checks (feature `proptest`): the store property and the strategies behind it.
//!
//! [`check_store_changes`] checks, on generated cases, what concurrent requests rely on: key-level
//! change sets applied in any order, one after another or from concurrent tasks, give the data
//! of a model, and of two writes to one key the later wins. A store author calls it with a
//! constructor and a case count, from a plain `#[test]`:
//!
//! ```
//! use session_conformance::props::check_store_changes;
//! use session_core::MemoryStore;
//!
//! // In a test: #[test] fn key_level_changes() { ... }
//! let report = check_store_changes(MemoryStore::default, 32);
//! assert_eq!(report.passed().len(), 3, "{report}");
//! ```
//!
//! The strategies it generates its cases with serve a crate's own properties too (a codec, a
//! State, a store's own format), so that every property draws from the same keys and values:
//!
//! - what a session holds: [`key`], [`text`], [`json`] and [`json_sized`] (with [`finite_f64`]),
//!   [`value`], [`data`], [`timestamp`], [`lifetime`], [`record`] (arbitrary: most are expired);
//! - change sets: [`disjoint_changes`] ([`DisjointChanges`]: sets owning disjoint keys, a
//!   permutation to apply them in, and the data every order gives) and [`same_key_writes`]
//!   ([`SameKeyWrites`]: two sets writing one key);
//! - ids: [`miss`] and [`near_miss`] (valid ids spoiled one way or another, [`Miss`], with
//!   [`id_char`]s), and [`IssuedSessions`]: sessions issued on an engine, what a client might send
//!   to reach them ([`IssuedSessions::sent_ids`]), and a check of what a request opened
//!   ([`IssuedSessions::open`]).
//!
//! The strategies are proptest 1's, and async checks inside a property block on [`runtime`].

mod changes;
mod ids;
mod store;
mod values;

use std::sync::OnceLock;

pub use changes::{DisjointChanges, SameKeyWrites, disjoint_changes, same_key_writes};
pub use ids::{IssuedSessions, Miss, id_char, miss, near_miss};
pub use store::check_store_changes;
pub use values::{
    data, finite_f64, json, json_sized, key, lifetime, record, text, timestamp, value,
};

/// A multi-thread Tokio runtime shared by every property, built on first use.
///
/// Two workers, timers and I/O on. proptest runs its cases synchronously, so a case blocks on it.
///
/// Concurrent tasks spawned on it run in parallel. Do not call `block_on` on it from inside
/// another runtime (a `#[tokio::test]`): Tokio refuses.
///
/// ```
/// let sum = session_conformance::props::runtime().block_on(async { 1 + 1 });
/// assert_eq!(sum, 2);
/// ```
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap_or_else(|error| panic!("session-conformance: no Tokio runtime: {error}"))
    })
}
