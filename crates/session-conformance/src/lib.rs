//! The published test kit every session [`Store`](session_core::Store) and
//! [`State`](session_core::State) implementation runs.
//!
//! A store author calls one function with a constructor for their store and gets every contract
//! of the [`Store`](session_core::Store) trait checked: round trips, collisions, expiry, no
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
//!
//! Every function returns a [`Report`] of what it checked and what it skipped (and why).
//!
//! # Runtime
//!
//! The kit's functions are `async` and start no runtime of their own: call them from a Tokio
//! runtime, ideally a multi-threaded one (`#[tokio::test(flavor = "multi_thread")]`), on which the
//! concurrency check spawns its tasks.
//!
//! # Example
//!
//! ```
//! use session_conformance::{check_store, plack_scenario, Expect, ParamCarrier};
//! use session_core::{Engine, MemoryStore, ParamState};
//!
//! # tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime").block_on(async {
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
mod report;
mod scenario;
mod store;

pub use carrier::{Carrier, Delivered, ParamCarrier, RequestParts};
pub use cookie::CookieCarrier;
pub use report::{Expect, Report, Skipped};
pub use scenario::{plack_counter, plack_scenario};
pub use store::{check_store, check_store_with};
