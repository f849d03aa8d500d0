//! session-core's integration tests, one test binary with a module per concern.
//!
//! - [`engine`]: the request lifecycle, through the engine.
//! - [`late`]: late store and per-request cookie options, through the engine.
//! - [`props`]: property tests of codecs, change sets, ids and `Key` hex.

mod engine;
mod late;
mod props;
