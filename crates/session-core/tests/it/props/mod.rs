//! Property tests (proptest): codec round trips and size limits, key-level change sets on
//! `Changes::apply_to` and `MemoryStore::apply`, id schemes and `Key` hex, and ids through the
//! engine with `ParamState`. The strategies, and the store property, are session-conformance's
//! (`session_conformance::props`).

mod changes;
mod codec;
mod ids;
