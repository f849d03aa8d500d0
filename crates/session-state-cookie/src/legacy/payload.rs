//! The plaintext inside a format 1 cookie, decoded only: payload version 1 (a session not bound to
//! a subject) or 2 (a bound one), encoded with bincode and then base64url.
//!
//! The layout is this module's own ([`Sealed`]). Its encoder is kept for the tests only, which pin
//! its bytes; the cookies it wrote are pinned as a whole in `tests/sealed/fixtures.rs`.
//!
//! Decoding only ever sees authenticated bytes, and is bounded: the input is at most a cookie's
//! size, bincode is told the same limit, and the record holds no nested structure (its values are
//! JSON text, checked here and read later with `serde_json`'s own depth limit).

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use session_core::store::{Binding, Handle, Record, Timestamp};
use session_core::{Lifetime, Value};

/// The version of the plaintext layout of a session not bound to a subject; a cookie with another
/// version does not open.
const VERSION: u8 = 1;

/// The version of a bound session's layout: version 1's fields, then the binding. Unbound sessions
/// keep version 1, so that a release from before bindings still opens them; it refuses (a fresh
/// session) a bound one.
const VERSION_BOUND: u8 = 2;

/// The most bytes a payload may decode to: no cookie is larger.
const MAX_DECODED: usize = crate::sealed::MAX_COOKIE_BYTES;

/// The sealed layout, version 1.
///
/// Times in milliseconds since the Unix epoch, the session's own lifetime as (idle seconds,
/// persistent), each value as its JSON text.
#[derive(Serialize, Deserialize)]
struct Sealed<'a> {
    version: u8,
    #[serde(borrow)]
    id: &'a str,
    created: u64,
    last_active: u64,
    expires: u64,
    lifetime: Option<(u64, bool)>,
    #[serde(borrow)]
    data: Vec<(&'a str, &'a str)>,
}

/// A bound session's layout, version 2: version 1's fields, then the subject, the handle, the
/// binding time (milliseconds), the user agent and the client address.
#[derive(Serialize, Deserialize)]
struct SealedBound<'a> {
    #[serde(borrow)]
    session: Sealed<'a>,
    #[serde(borrow)]
    binding: (&'a str, &'a str, u64, Option<&'a str>, Option<&'a str>),
}

/// Encodes a session as the first release sealed it (tests only: nothing writes format 1 now).
#[cfg(test)]
pub(crate) fn encode(
    id: &session_core::Id,
    record: &Record,
) -> Result<String, bincode::error::EncodeError> {
    encode_id(id.as_str(), record)
}

/// [`encode`] for the id's text.
#[cfg(test)]
fn encode_id(id: &str, record: &Record) -> Result<String, bincode::error::EncodeError> {
    let sealed = Sealed {
        version: if record.binding.is_some() {
            VERSION_BOUND
        } else {
            VERSION
        },
        id,
        created: record.created.as_millis(),
        last_active: record.last_active.as_millis(),
        expires: record.expires.as_millis(),
        lifetime: record
            .lifetime
            .map(|l| (l.idle_timeout().as_secs(), l.is_persistent())),
        data: record
            .data
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_json()))
            .collect(),
    };
    let config = bincode::config::standard();
    let bytes = match &record.binding {
        None => bincode::serde::encode_to_vec(&sealed, config)?,
        Some(binding) => {
            let bound = SealedBound {
                session: sealed,
                binding: (
                    &binding.subject,
                    binding.handle.as_str(),
                    binding.bound_at.as_millis(),
                    binding.user_agent.as_deref(),
                    binding.address.as_deref(),
                ),
            };
            bincode::serde::encode_to_vec(&bound, config)?
        }
    };
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes an authenticated plaintext; `None` if it is not one this version wrote.
pub(crate) fn decode(text: &str) -> Option<(String, Record)> {
    if text.len() > MAX_DECODED * 4 / 3 + 4 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let config = bincode::config::standard().with_limit::<MAX_DECODED>();
    // The version is the first byte (a `u8` is one byte in bincode).
    let (sealed, binding, used) = match bytes.first() {
        Some(&VERSION) => {
            let (sealed, used): (Sealed<'_>, usize) =
                bincode::serde::borrow_decode_from_slice(&bytes, config).ok()?;
            (sealed, None, used)
        }
        Some(&VERSION_BOUND) => {
            let (bound, used): (SealedBound<'_>, usize) =
                bincode::serde::borrow_decode_from_slice(&bytes, config).ok()?;
            let (subject, handle, bound_at, user_agent, address) = bound.binding;
            let binding = Binding::restore(
                subject.to_owned(),
                Handle::parse(handle)?,
                Timestamp::from_millis(bound_at),
                user_agent.map(str::to_owned),
                address.map(str::to_owned),
            )?;
            (bound.session, Some(binding), used)
        }
        _ => return None,
    };
    if used != bytes.len() {
        return None;
    }
    let mut record = Record::new(
        Timestamp::from_millis(sealed.created),
        Timestamp::from_millis(sealed.expires),
    );
    record.last_active = Timestamp::from_millis(sealed.last_active);
    record.lifetime = sealed.lifetime.map(|(idle, persistent)| {
        let idle = Duration::from_secs(idle);
        if persistent {
            Lifetime::persistent(idle)
        } else {
            Lifetime::browser_session(idle)
        }
    });
    for (key, json) in sealed.data {
        let value = Value::from_json(json.to_owned()).ok()?;
        record.data.insert(key.to_owned(), value);
    }
    record.binding = binding.map(Box::new);
    Some((sealed.id.to_owned(), record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::Id;
    use session_core::state::RequestView;
    use session_core::store::Timestamp;
    use session_core::{Engine, Lifetime, MemoryStore, ParamState, Value};

    async fn some_id() -> Id {
        let engine = Engine::new(ParamState::default(), MemoryStore::default());
        let headers = http::HeaderMap::new();
        let session = engine.start(&RequestView::new(&headers, None));
        session.save().await.expect("save")
    }

    #[tokio::test]
    async fn round_trips_and_refuses_everything_else() {
        let id = some_id().await;
        let mut record = Record::new(Timestamp::from_millis(5), Timestamp::from_millis(9));
        record.lifetime = Some(Lifetime::persistent(std::time::Duration::from_secs(60)));
        record
            .data
            .insert("user".into(), Value::from_serialize("alice").expect("json"));
        let text = encode(&id, &record).expect("encode");
        assert_eq!(decode(&text), Some((id.as_str().to_owned(), record)));

        assert_eq!(decode(""), None);
        assert_eq!(decode("!!!"), None);
        assert_eq!(decode(&text[..text.len() - 3]), None, "truncated");
        assert_eq!(decode(&format!("{text}AAAA")), None, "trailing bytes");
        let mut other = URL_SAFE_NO_PAD.decode(&text).expect("b64");
        other[0] = VERSION + 1;
        assert_eq!(decode(&URL_SAFE_NO_PAD.encode(other)), None, "version");
        assert_eq!(decode(&"A".repeat(10_000)), None, "oversized");
    }

    /// The layout is frozen: cookies in browsers must keep opening after an upgrade.
    ///
    /// A change here needs a new `VERSION` (and decoding of the old one).
    #[tokio::test]
    async fn the_layout_is_pinned() {
        let id = some_id().await;
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(300));
        record.last_active = Timestamp::from_millis(2);
        record.lifetime = Some(Lifetime::persistent(std::time::Duration::from_secs(60)));
        record
            .data
            .insert("n".into(), Value::from_serialize(&7).expect("json"));
        let bytes = URL_SAFE_NO_PAD
            .decode(encode(&id, &record).expect("encode"))
            .expect("b64");
        let mut expected = vec![VERSION, 43];
        expected.extend_from_slice(id.as_str().as_bytes());
        // created 1, last_active 2, expires 300 (varint 251 = u16 follows), Some((60, true)),
        // one entry ("n", "7").
        expected.extend_from_slice(&[1, 2, 251, 44, 1, 1, 60, 1, 1, 1, b'n', 1, b'7']);
        assert_eq!(bytes, expected);
    }

    /// A bound session: version 2, version 1's fields and then the binding; it round-trips, and
    /// a version-2 cookie holding a malformed handle or subject does not open.
    #[tokio::test]
    async fn bound_sessions_take_version_2() {
        let id = some_id().await;
        let mut record = Record::new(Timestamp::from_millis(1), Timestamp::from_millis(300));
        let info = session_core::subject::ClientInfo::new().user_agent("UA");
        let binding = Binding::new("alice", info, Timestamp::from_millis(1)).expect("bind");
        let handle = binding.handle.clone();
        record.binding = Some(Box::new(binding));
        let text = encode(&id, &record).expect("encode");
        assert_eq!(
            decode(&text),
            Some((id.as_str().to_owned(), record.clone()))
        );
        let bytes = URL_SAFE_NO_PAD.decode(&text).expect("b64");
        assert_eq!(bytes[0], VERSION_BOUND);
        let mut unbound = record.clone();
        unbound.binding = None;
        let plain = URL_SAFE_NO_PAD
            .decode(encode(&id, &unbound).expect("encode"))
            .expect("b64");
        assert_eq!(plain[0], VERSION);
        // Version 1's fields (after the version byte), then the binding.
        assert_eq!(bytes[1..plain.len()], plain[1..]);
        let mut tail = vec![5];
        tail.extend_from_slice(b"alice");
        tail.push(22);
        tail.extend_from_slice(handle.as_str().as_bytes());
        tail.extend_from_slice(&[1, 1, 2]);
        tail.extend_from_slice(b"UA");
        tail.push(0);
        assert_eq!(bytes[plain.len()..], tail[..]);

        let mut bad = bytes.clone();
        let at = plain.len() + 1 + 5 + 1;
        bad[at] = b'!';
        assert_eq!(
            decode(&URL_SAFE_NO_PAD.encode(&bad)),
            None,
            "a malformed handle"
        );
        let mut empty = plain.clone();
        empty[0] = VERSION_BOUND;
        empty.extend_from_slice(&[0, 22]);
        empty.extend_from_slice(handle.as_str().as_bytes());
        empty.extend_from_slice(&[1, 0, 0]);
        assert_eq!(
            decode(&URL_SAFE_NO_PAD.encode(&empty)),
            None,
            "an empty subject"
        );
    }
}
