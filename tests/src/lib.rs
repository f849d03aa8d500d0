//! Workspace-level HTTP tests over real TCP.
//!
//! Every test starts an app in-process on `127.0.0.1:0` ([`TestServer`]) and talks to it with a
//! real HTTP client that keeps no cookie jar: the test writes the `Cookie` header itself, so it can
//! send anything a hostile client would.
//!
//! The framework is a parameter. Each scenario is written once, as an `async fn(Framework)`, and
//! [`per_framework!`] turns a list of them into one `#[tokio::test]` per scenario and framework.
//! Supporting another framework is one more [`Framework`] variant, its arm in
//! [`TestServer::start`], and one more module in [`per_framework!`].
//!
//! - [`server`]: [`Framework`], [`App`], [`Setup`] (state, store, clock, timeouts) and
//!   [`TestServer`].
//! - [`reply`]: [`Reply`] (a response read whole) and [`SetCookie`] (a parsed `Set-Cookie`).
//! - [`stores`]: [`CountingStore`] and [`FailingStore`], the stores the tests instrument, and
//!   [`FaultStore`], whose operations fail, hang or slow down on the test's command ([`Fault`] per
//!   [`StoreOp`]).
//! - [`scenario`]: the Plack nine-step scenario as an app of its own.
//! - [`ids`]: well-formed ids the server never issued.
//! - [`contract`]: store-independent pieces of the demo's contract, shared by each store's suite.
//! - [`sealed`]: the sealed cookie store's setup, seal keys, and [`Browser`], a client that keeps
//!   the latest cookie.
//! - [`plack_counter`]: Plack's cookie-store counter (counts to 2, then expires) as an app.
//! - [`outage`]: a store's backend down under load and back: writers, the checks while it is
//!   down, recovery, no acknowledged write lost (the Redis and PostgreSQL fault suites).
//! - [`redis`]: what the demo stored in a test's Redis (key names, TTLs), read directly.
//! - [`sql`]: a PostgreSQL server or SQLite file of a test's own ([`sql::Database`]), and what the
//!   demo stored in its tables, read directly ([`sql::Rows`]).
//! - [`soak`]: a bounded load soak of a demo process (concurrent clients, a model of every
//!   acknowledged write, the server's memory from `/proc`), run by the test binary's `soak`
//!   module.

pub mod contract;
pub mod ids;
pub mod outage;
pub mod plack_counter;
pub mod plack_step;
pub mod process;
pub mod redis;
pub mod reply;
pub mod scenario;
pub mod sealed;
pub mod server;
pub mod soak;
pub mod sql;
pub mod stores;

pub use reply::{Reply, SetCookie};
pub use sealed::Browser;
pub use server::{App, Framework, Setup, TestServer, Transport};
pub use stores::{Calls, CountingStore, FAULT_DETAIL, FailingStore, Fault, FaultStore, StoreOp};

/// The body of the demo's counter page for a visitor who has been here `n` times before.
pub fn counter_body(n: u64) -> String {
    format!("Hello, you've been here for {n}th time!")
}

/// Turns scenario functions (`async fn(Framework)`) into one `#[tokio::test]` per framework.
///
/// ```text
/// async fn counter(framework: Framework) { /* ... */ }
///
/// session_tests::per_framework!(counter);
/// // expands to `mod on_axum { #[tokio::test] async fn counter() { super::counter(Framework::Axum).await } }`
/// // and the same `mod on_actix` with `Framework::Actix`
/// ```
///
/// The tests run on a multi-threaded runtime, so that concurrent requests really run in parallel;
/// the server is spawned on the test's own runtime.
#[macro_export]
macro_rules! per_framework {
    ($($scenario:ident),+ $(,)?) => {
        mod on_axum {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Framework::Axum).await
                }
            )+
        }
        mod on_actix {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario($crate::Framework::Actix).await
                }
            )+
        }
    };
}
