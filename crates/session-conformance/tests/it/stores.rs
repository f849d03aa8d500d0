//! The store checks against the stores of this workspace.

use session_conformance::{Expect, check_store, check_store_with};
use session_core::MemoryStore;
use session_store_null::NullStore;

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_keeps_every_contract() {
    let report = check_store(MemoryStore::default).await;
    assert!(report.skipped().is_empty(), "{report}");
    assert!(
        report
            .passed()
            .contains(&"concurrent applies keep every write"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_shared_by_all_checks() {
    let store = MemoryStore::with_max_sessions(10_000);
    check_store(move || store.clone()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn null_store_keeps_the_contracts_of_a_store_that_keeps_nothing() {
    let report = check_store_with(Expect::KeepsNothing, || NullStore).await;
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    assert_eq!(
        skipped,
        [
            "concurrent applies keep every write",
            "bound records are listed by subject",
            "a subject's listing follows deletes, expiry and writes",
            "ending a subject's sessions ends those changing their ids",
        ],
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"create pretends to store\" failed")]
async fn memory_store_is_not_a_store_that_keeps_nothing() {
    // The contracts differ: checking a real store as a null one must fail too.
    check_store_with(Expect::KeepsNothing, MemoryStore::default).await;
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "store contract \"create then load round-trips the record\" failed")]
async fn null_store_is_not_persistent() {
    check_store(|| NullStore).await;
}
