//! The examples' shared code: the demo server as a library.
//!
//! The demo serves one HTTP contract over every combination of framework, store and state. As a
//! library, the workspace HTTP tests can start it in-process on a real TCP port, and the `demo`
//! binary is a thin wrapper around it.

pub mod demo;
