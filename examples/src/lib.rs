//! The examples' shared code: the demo server (DESIGN.md section 7) as a library, so that the
//! workspace HTTP tests can start it in-process on a real TCP port, and the `demo` binary is a thin
//! wrapper around it.

pub mod demo;
