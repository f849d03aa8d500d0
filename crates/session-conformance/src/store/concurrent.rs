//! Concurrent applies: what a store claiming [`Store::applies_atomically`] promises.

use std::sync::Arc;

use serde_json::json;
use session_core::store::{Changes, Store};
use tokio::sync::Barrier;

use crate::check::Contract;
use crate::fixtures::{HOUR, fresh_key, live_record, now, value};

/// How many requests write to one session at once.
pub(super) const WRITERS: usize = 50;
/// How many times the race is run, each on a fresh session.
const ROUNDS: usize = 3;

/// The contract's name, for the report when it is skipped.
pub(super) const NAME: &str = "concurrent applies keep every write";

/// [`WRITERS`] tasks apply, all at once, changes that each set a different key of one session.
///
/// Afterwards every key is there, and so is the key stored before.
///
/// Needs a Tokio runtime (the tasks are spawned on the caller's); a multi-thread runtime makes the
/// writes truly parallel.
pub(super) async fn applies<S: Store>(store: S) -> Contract {
    let c = Contract::store(NAME);
    if tokio::runtime::Handle::try_current().is_err() {
        c.fail("the check spawns Tokio tasks: call the kit from a Tokio runtime, e.g. #[tokio::test(flavor = \"multi_thread\")]");
    }
    let store = Arc::new(store);
    for _ in 0..ROUNDS {
        round(c, &store).await;
    }
    c
}

async fn round<S: Store>(c: Contract, store: &Arc<S>) {
    let key = fresh_key();
    let record = live_record(&[("existing", json!("kept"))]);
    c.ensure(
        c.ok(store.create(&key, &record).await, "create"),
        "create of a new key returned false",
    );
    let (last_active, expires) = (now(), record.expires.saturating_add(HOUR));
    let start = Arc::new(Barrier::new(WRITERS));
    let tasks: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let (store, start) = (Arc::clone(store), Arc::clone(&start));
            let mut changes = Changes::touch(last_active, expires);
            changes
                .updates
                .push((format!("writer-{writer:02}"), Some(value(json!(writer)))));
            tokio::spawn(async move {
                start.wait().await;
                store.apply(&key, &changes).await
            })
        })
        .collect();
    for (writer, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(result) => {
                let applied = c.ok(result, "apply");
                c.ensure(
                    applied,
                    format_args!("apply of writer {writer} to a live record returned false"),
                );
            }
            Err(error) => c.fail(format_args!("the task of writer {writer} failed: {error}")),
        }
    }
    let Some(found) = c.ok(store.load(&key).await, "load") else {
        c.fail("after the concurrent applies, load returned None");
    };
    let lost: Vec<usize> = (0..WRITERS)
        .filter(|writer| {
            found.data.get(&format!("writer-{writer:02}")) != Some(&value(json!(writer)))
        })
        .collect();
    c.ensure(
        lost.is_empty(),
        format_args!(
            "{} of {WRITERS} concurrent writes to different keys were lost (writers {lost:?}); \
             a store whose apply is not atomic must not claim applies_atomically()",
            lost.len()
        ),
    );
    c.ensure(
        found.data.get("existing") == Some(&value(json!("kept"))),
        "the key stored before the concurrent applies was lost",
    );
    c.ensure(
        found.expires == expires,
        "the concurrent applies did not update expires",
    );
}
