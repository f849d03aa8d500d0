//! Key-level change sets: concurrent requests writing disjoint keys of one session give the same
//! data whatever the order they are applied in (`Changes::apply_to`; `MemoryStore::apply`,
//! sequential and concurrent, through session-conformance's store property); two writes of the
//! same key: the later wins.

use proptest::prelude::*;
use session_conformance::props::{check_store_changes, disjoint_changes, same_key_writes};
use session_core::MemoryStore;

proptest! {
    /// Disjoint change sets give the modelled data in any order (`Changes::apply_to`).
    #[test]
    fn disjoint_changes_commute(changes in disjoint_changes()) {
        let identity: Vec<usize> = (0..changes.sets.len()).collect();
        let in_order = changes.apply_in(&identity);
        let shuffled = changes.apply_in(&changes.order);
        prop_assert_eq!(&in_order.data, &changes.expected);
        prop_assert_eq!(&shuffled.data, &changes.expected);
        // Record-level fields: the last set applied wins.
        let last = &changes.sets[*changes.order.last().expect("one set at least")];
        prop_assert_eq!(shuffled.expires, last.expires);
        prop_assert_eq!(shuffled.last_active, last.last_active);
        prop_assert_eq!(shuffled.created, changes.base.created);
    }

    /// Two sets writing the same key differently: the later wins, so the two orders differ.
    #[test]
    fn the_later_write_of_one_key_wins(writes in same_key_writes()) {
        let one_two = writes.apply(false);
        let two_one = writes.apply(true);
        prop_assert_eq!(one_two.data.get(&writes.key), writes.values.1.as_ref());
        prop_assert_eq!(two_one.data.get(&writes.key), writes.values.0.as_ref());
        prop_assert_ne!(one_two.data, two_one.data);
    }
}

/// `MemoryStore::apply` of disjoint change sets, one after another in any order and from
/// concurrent tasks, and of two writes of one key: the modelled record, the later write winning
/// (256 cases each).
#[test]
fn memory_store_applies_key_level_changes_like_the_model() {
    let report = check_store_changes(MemoryStore::default, 256);
    assert!(report.skipped().is_empty(), "{report}");
    assert_eq!(report.passed().len(), 3, "{report}");
}
