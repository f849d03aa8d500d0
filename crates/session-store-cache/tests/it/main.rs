//! session-store-cache's integration tests, one test binary with a module per concern.
//!
//! - [`bounds`]: `CacheStore` on moka, exact expiry and a full cache.
//! - [`caching`]: `CachingStore` when the front and the back fail or disagree.
//! - [`conformance`]: the conformance kit against `CacheStore` and `CachingStore`.
//! - [`props`]: property tests of key-level change sets on `CacheStore`.
//! - [`subjects`]: sessions per subject, the index on moka and `CachingStore` across processes.

mod bounds;
mod caching;
mod conformance;
mod props;
mod subjects;
