//! session-store-redis's integration tests against a real redis-server (each test starts its own
//! on a free loopback port), one test binary with a module per concern.
//!
//! - [`conformance`]: the conformance kit and Plack's scenarios.
//! - [`damaged`]: hashes this store cannot read, written by hand.
//! - [`expiry`]: TTLs follow the record's expiry on the store's clock.
//! - [`faults`]: Redis killed, restarted, slow, or down at start.
//! - [`layout`]: what the store writes to Redis.
//! - [`packing`]: many values packed into one field, and changed key by key.
//! - [`resurrection`]: no write brings a deleted session back.
//! - [`size`]: the record size limit, and the size the scripts keep.
//! - [`subjects`]: sessions per subject: the binding fields and the index per subject.
//! - [`calls`]: the commands each operation costs Redis.
//! - [`client_cache`]: the opt-in client-side cache and its invalidation.
//! - [`common`]: a server, a store on it, a raw connection, keys and records.

mod calls;
mod client_cache;
mod cluster;
mod common;
mod conformance;
mod damaged;
mod expiry;
mod faults;
mod layout;
mod packing;
mod resurrection;
mod size;
mod subjects;
