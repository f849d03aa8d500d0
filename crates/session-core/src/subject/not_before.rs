//! Each subject's "not before" time in a revocation store: what ends a subject's client-side
//! sessions ([`EngineBuilder::revocation_store`](crate::EngineBuilder::revocation_store)).

use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{ROUNDS, check_subject, moving};
use crate::error::{Error, StoreError};
use crate::id::Key;
use crate::record::{Record, Timestamp};
use crate::store::Store;

/// How long a subject's "not before" time is kept at least: 400 days, the longest a browser keeps
/// a cookie (Chromium and Firefox cap `Max-Age` and `Expires` there).
pub(crate) const NOT_BEFORE_KEPT: Duration = Duration::from_secs(400 * 86_400);

/// The value name of a "not before" record.
const NOT_BEFORE: &str = "not_before";

/// The key a revocation store keeps `subject`'s "not before" time under: a digest apart from
/// both session ids and [`subject_key`](super::subject_key).
fn not_before_key(subject: &str) -> Key {
    let mut hasher = Sha256::new();
    hasher.update(b"session-core not-before\0");
    hasher.update(subject.as_bytes());
    Key::from_digest(hasher.finalize().into())
}

/// The time before which `subject`'s client-side sessions were ended, if any: sessions bound at
/// or before it are no longer adopted.
pub(crate) async fn not_before(
    store: &dyn Store,
    subject: &str,
) -> Result<Option<Timestamp>, StoreError> {
    let Some(record) = store.load(&not_before_key(subject)).await? else {
        return Ok(None);
    };
    // A record that does not hold a time (written by something else) ends nothing.
    let time = record
        .data
        .get(NOT_BEFORE)
        .and_then(|v| v.deserialize().ok());
    Ok(time.map(Timestamp::from_millis))
}

/// Ends every client-side session of `subject` bound at or before `now`: records `now` as its
/// "not before" time in `store`, kept for `kept` (never moved back by an older time).
pub(crate) async fn set_not_before(
    store: &dyn Store,
    subject: &str,
    now: Timestamp,
    kept: Duration,
) -> Result<(), Error> {
    check_subject(subject)?;
    let key = not_before_key(subject);
    for _ in 0..ROUNDS {
        let existing = store.load(&key).await?;
        let earlier = existing
            .as_ref()
            .and_then(|r| r.data.get(NOT_BEFORE)?.deserialize::<u64>().ok())
            .map(Timestamp::from_millis);
        let time = earlier.map_or(now, |earlier| earlier.max(now));
        let mut record = Record::new(now, now.saturating_add(kept));
        let value =
            crate::value::Value::from_serialize(&time.as_millis()).map_err(Error::Encode)?;
        record.data.insert(NOT_BEFORE.to_owned(), value);
        let written = match existing {
            Some(_) => store.save(&key, &record).await?,
            None => store.create(&key, &record).await?,
        };
        // Another process may have written an earlier time over a later one meanwhile: the
        // time only moves forward, so look again.
        if written && not_before(store, subject).await? >= Some(time) {
            return Ok(());
        }
    }
    Err(moving())
}
