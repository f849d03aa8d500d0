//! What `MemoryStore` reports: its first eviction, once per store.

use session_core::MemoryStore;
use session_core::store::{Clock, Key, Record, Store, SystemClock};

use crate::warnings_of;

/// A key in shard 0 (the shard is the key's first byte).
fn key_in_shard_zero(n: u8) -> Key {
    let mut digest = [0u8; 32];
    digest[1] = n;
    Key::from_digest(digest)
}

#[test]
fn eviction_is_logged_once_per_store() {
    let warnings = warnings_of(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            // 16 sessions in all: one per shard.
            let store = MemoryStore::with_max_sessions(16);
            let now = SystemClock.now();
            let record = Record::new(
                now,
                now.saturating_add(std::time::Duration::from_secs(3600)),
            );
            for n in 0..10 {
                let created = store.create(&key_in_shard_zero(n), &record).await;
                assert!(created.expect("create"));
            }
            assert_eq!(store.len(), 1);
        });
    });
    assert_eq!(warnings.matches("WARN").count(), 1, "{warnings}");
    assert!(warnings.contains("evict"), "{warnings}");
}
