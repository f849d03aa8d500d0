//! Comparative benchmarks.
