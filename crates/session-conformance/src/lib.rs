#![cfg_attr(docsrs, feature(doc_cfg))]
//! The test kit every session store and state runs.
//!
//! A store author calls one function with a constructor for their store and gets every contract
//! of the [`Store`](session_core::store::Store) trait checked: round trips, collisions, expiry, no
//! resurrection after a delete, key-level changes, and (for stores that claim it) concurrent
//! writes that lose nothing. A broken contract panics with a message naming it, so the kit runs
//! inside an ordinary `#[test]`.
//!
//! - [`check_store`]: every contract, for a store that keeps sessions.
//! - [`check_store_with`]: the same with an [`Expect`]ation, for a store that keeps nothing
//!   ([`Expect::KeepsNothing`], such as `NullStore`).
//! - [`plack_scenario`] and [`plack_counter`]: Plack's own test scenarios, run through an
//!   [`Engine`](session_core::Engine) with any State and Store, with a [`Carrier`] that plays the
//!   client: [`ParamCarrier`] for `ParamState`, [`CookieCarrier`] for any cookie State.
//! - `props::check_store_changes` (feature `proptest`): the key-level change property on
//!   generated cases: change sets from concurrent sessions, each writing keys of its own, applied
//!   in any order, one after another and concurrently, give the model's data; of two writes to
//!   one key, the later wins. The module, `props`, also publishes the proptest strategies behind
//!   it (keys, JSON values, records, disjoint change sets and a permutation, near-miss ids), which
//!   this workspace's own property tests draw from. In `Cargo.toml`:
//!   `session-conformance = { version = "0.1", features = ["proptest"] }` under
//!   `[dev-dependencies]`.
//!
//! Every function returns a [`Report`] of what it checked and what it skipped (and why).
//!
//! # Client-side stores
//!
//! A store that keeps the whole session with the client (a sealed cookie, through
//! [`Engine::client_side`](session_core::Engine::client_side)) runs [`plack_scenario`] and
//! [`plack_counter`] with [`Expect::ClientSide`] and a [`CookieCarrier`]: the kit follows the
//! value each response gives (it changes with every write) and compares sessions by the id sealed
//! inside ([`Session::id`](session_core::Session::id)). These checks cannot apply to it, and are
//! reported as skipped, with the reason, by the function that would run them:
//!
//! - **Every [`check_store`] contract.** They test the [`Store`](session_core::store::Store) trait
//!   (load, create collisions, no resurrection after delete, expiry in the store, key-level
//!   applies and touches, concurrent applies); a client-side store has no server-side records.
//!   [`check_store_with`]`(`[`Expect::ClientSide`]`, ...)` runs none of them and lists them all.
//! - **Server-side revocation.** Expiring a session sends a removal, but a copy of the value still
//!   opens until its sealed expiry: Plack's step 7 (the expired id, replayed, is not adopted) is
//!   skipped by [`plack_scenario`], which checks instead that the replay still opens.
//! - **Concurrent key-level merges.** Each response carries the whole session: of two concurrent
//!   writes the client keeps whichever response it processes last (skipped with the rest of
//!   [`check_store_with`]).
//!
//! # Runtime
//!
//! The kit's functions are `async` and start no runtime of their own: call them from a Tokio
//! runtime, ideally a multi-threaded one (`#[tokio::test(flavor = "multi_thread")]`), on which the
//! concurrency check spawns its tasks. The property checks are the exception: proptest runs its
//! cases synchronously, so `props::check_store_changes` blocks on a runtime of the kit's own and
//! is called from a plain `#[test]`.
//!
//! # Example
//!
//! ```
//! use session_conformance::{check_store, plack_scenario, Expect, ParamCarrier};
//! use session_core::{Engine, MemoryStore, ParamState};
//!
//! # let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
//! # runtime.expect("runtime").block_on(async {
//! // In a test: #[tokio::test(flavor = "multi_thread")] async fn conformance() { ... }
//! let report = check_store(MemoryStore::default).await;
//! assert!(report.passed().contains(&"concurrent applies keep every write"));
//!
//! let engine = Engine::new(ParamState::default(), MemoryStore::default());
//! plack_scenario(&engine, &ParamCarrier::default(), Expect::Persistent).await;
//! # });
//! ```
//!
//! A store that breaks a contract fails with, for instance:
//!
//! ```text
//! session-conformance: store contract "create never overwrites a live record" failed:
//! create on a key holding a live record returned true (a collision must return false)
//! ```

mod carrier;
mod check;
mod client;
mod cookie;
mod fixtures;
#[cfg(feature = "proptest")]
pub mod props;
mod report;
mod scenario;
mod store;

pub use carrier::{Carrier, Delivered, ParamCarrier, RequestParts};
pub use cookie::CookieCarrier;
pub use report::{Expect, Report, Skipped};
pub use scenario::{plack_counter, plack_scenario};
pub use store::{check_store, check_store_with};
