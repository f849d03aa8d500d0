//! Property tests (proptest): key-level change sets on `FileStore` (private temporary
//! directories, both built-in codecs), through session-conformance's store property. Change sets
//! writing pairwise disjoint keys of one session give the same data whatever the order they are
//! applied in, one after another or from concurrent tasks (each apply locks the session file);
//! two writes of one key: the later wins. Files are slow: few cases.

use session_conformance::props::check_store_changes;
use session_store_file::FileStore;

/// Cases per codec and property.
const CASES: u32 = 24;

/// `FileStore::apply` with the default codec (bincode): the modelled record, the later write
/// winning.
#[test]
fn file_store_applies_key_level_changes_like_the_model() {
    // A new private temporary directory per case, removed when the store is dropped.
    let report = check_store_changes(|| FileStore::temporary().expect("a directory"), CASES);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}

/// The same with the JSON codec.
#[test]
fn file_store_with_json_applies_key_level_changes_like_the_model() {
    let json = || {
        FileStore::builder()
            .json()
            .temporary()
            .expect("a directory")
    };
    let report = check_store_changes(json, CASES);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}
