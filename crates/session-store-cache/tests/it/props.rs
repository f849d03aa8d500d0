//! Property tests (proptest): key-level change sets on `CacheStore` (moka), through
//! session-conformance's store property. Change sets writing pairwise disjoint keys of one session
//! give the same data whatever the order they are applied in, one after another or from
//! concurrent tasks; two writes of one key: the later wins.

use session_conformance::props::check_store_changes;
use session_store_cache::CacheStore;

/// `CacheStore::apply` of disjoint change sets in any order, sequential and concurrent, and of two
/// writes of one key: the modelled record, the later write winning (256 cases each).
#[test]
fn cache_store_applies_key_level_changes_like_the_model() {
    let report = check_store_changes(|| CacheStore::new(10_000), 256);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}
