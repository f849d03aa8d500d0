//! session-conformance's integration tests, one test binary with a module per concern.
//!
//! - [`broken`]: the kit catches broken stores.
//! - [`client_side`]: the scenarios with a client-side store, and what the kit reports for one.
//! - [`scenarios`]: the Plack scenarios through the engine.
//! - [`stores`]: the store checks against the stores of this workspace.
//! - [`common`]: a minimal cookie `State` the scenarios share.

mod broken;
mod client_side;
mod common;
mod scenarios;
mod stores;
