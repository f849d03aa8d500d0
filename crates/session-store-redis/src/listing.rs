//! The index of a subject's sessions: its key's name, and the listing script's reply read back.
//!
//! One sorted set per subject under `{prefix}subject:{digest}`, the digest being
//! [`subject_key`](session_core::store::subject_key) in hex: its members are the hex digests of
//! the subject's session keys, scored by their expiry's deadline (the whole minute after it, in
//! milliseconds). The scripts keep it
//! (see [`scripts`](crate::scripts)); this module only names it and reads what the listing
//! script answers.

use session_core::store::{BoundSession, Key, Record};

use crate::layout::{self, Corrupt, EXPIRES, LAST_ACTIVE};

/// What comes between the prefix and the subject's digest in an index's name. The scripts derive
/// index names from session key names with the same text.
pub(crate) const INDEX_INFIX: &str = "subject:";

/// The name of the index of the subject whose digest is `subject`.
pub(crate) fn index_name(prefix: &str, subject: &Key) -> String {
    let mut name = String::with_capacity(prefix.len() + INDEX_INFIX.len() + 64);
    name.push_str(prefix);
    name.push_str(INDEX_INFIX);
    name.push_str(&subject.to_hex());
    name
}

/// The sessions the listing script answered for the subject whose digest is `digest`: one entry
/// per live session, its key's hex digest and its `binding`, `created`, `last_active` and
/// `expires` texts.
///
/// An entry this store did not write (a damaged binding, say) is left out and logged, as a load
/// of its session would treat it as damaged.
pub(crate) fn read_listing(entries: Vec<Vec<Vec<u8>>>, digest: &Key) -> Vec<BoundSession> {
    let hex = digest.to_hex();
    let mut listed = Vec::with_capacity(entries.len());
    for entry in entries {
        match read_entry(entry, hex.as_bytes()) {
            Ok(bound) => listed.push(bound),
            Err((key, reason)) => tracing::warn!(
                ?key,
                %reason,
                "damaged session in a Redis subject index left out of the listing"
            ),
        }
    }
    listed
}

/// One entry; the session's key (if readable) and why not, for the log.
fn read_entry(entry: Vec<Vec<u8>>, digest: &[u8]) -> Result<BoundSession, (Option<Key>, Corrupt)> {
    let Ok([member, binding, created, last_active, expires]) = <[Vec<u8>; 5]>::try_from(entry)
    else {
        return Err((None, Corrupt::UnknownField));
    };
    let key = std::str::from_utf8(&member).ok().and_then(Key::from_hex);
    let damaged = |reason| (key, reason);
    let session = key.ok_or(Corrupt::UnknownField).map_err(damaged)?;
    let binding = layout::parse_binding(&binding, digest).map_err(damaged)?;
    let created = layout::timestamp(&created, layout::CREATED).map_err(damaged)?;
    let expires = layout::timestamp(&expires, EXPIRES).map_err(damaged)?;
    let mut record = Record::new(created, expires);
    record.last_active = layout::timestamp(&last_active, LAST_ACTIVE).map_err(damaged)?;
    record.binding = Some(Box::new(binding));
    BoundSession::of(session, &record).ok_or((key, Corrupt::Missing(layout::BINDING)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::store::{Binding, Timestamp, subject_key};
    use session_core::subject::ClientInfo;

    fn entry(member: &str, binding: &str, times: [&str; 3]) -> Vec<Vec<u8>> {
        [member, binding, times[0], times[1], times[2]]
            .iter()
            .map(|text| text.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn entries_are_read_and_damaged_ones_left_out() {
        let binding =
            Binding::new("alice", ClientInfo::new(), Timestamp::from_millis(3)).expect("binding");
        let json = serde_json::to_string(&binding).expect("json");
        let digest = subject_key("alice");
        let key = Key::from_digest([7; 32]);
        let good = entry(&key.to_hex(), &json, ["1", "2", "9"]);
        let listed = read_listing(
            vec![
                good.clone(),
                entry("not hex", &json, ["1", "2", "9"]),
                entry(&key.to_hex(), "{", ["1", "2", "9"]),
                entry(&key.to_hex(), &json, ["1", "x", "9"]),
                entry(&key.to_hex(), "", ["1", "2", "9"]),
                good[..4].to_vec(),
            ],
            &digest,
        );
        assert_eq!(listed.len(), 1);
        let only = &listed[0];
        assert_eq!((only.key, &only.binding), (key, &binding));
        assert_eq!(
            (only.created, only.last_active, only.expires),
            (
                Timestamp::from_millis(1),
                Timestamp::from_millis(2),
                Timestamp::from_millis(9)
            )
        );
        // Another subject's digest: the binding does not match it.
        assert!(read_listing(vec![good], &subject_key("bob")).is_empty());
        assert_eq!(
            index_name("p:", &digest),
            format!("p:subject:{}", digest.to_hex())
        );
    }
}
