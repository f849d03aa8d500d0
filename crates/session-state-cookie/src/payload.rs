//! The plaintext inside a sealed cookie: a format version, the session id and the record, encoded
//! with bincode and then base64url, so that it is a cookie value in both modes.
//!
//! Decoding only ever sees authenticated bytes, and is bounded: the input is at most a cookie's
//! size, bincode is told the same limit, and the record holds no nested structure (its values are
//! JSON text, read later with `serde_json`'s own depth limit).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::{Id, Record};

/// The version of the plaintext layout; a cookie with another version does not open.
const VERSION: u8 = 1;

/// The most bytes a payload may decode to: no cookie is larger.
const MAX_DECODED: usize = crate::sealed::MAX_COOKIE_BYTES;

/// Encodes a session as the plaintext to seal.
pub(crate) fn encode(id: &Id, record: &Record) -> Result<String, bincode::error::EncodeError> {
    let bytes =
        bincode::serde::encode_to_vec((VERSION, id.as_str(), record), bincode::config::standard())?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes an authenticated plaintext; `None` if it is not one this version wrote.
pub(crate) fn decode(text: &str) -> Option<(String, Record)> {
    if text.len() > MAX_DECODED * 4 / 3 + 4 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    let config = bincode::config::standard().with_limit::<MAX_DECODED>();
    let ((version, id, record), used): ((u8, String, Record), usize) =
        bincode::serde::decode_from_slice(&bytes, config).ok()?;
    (version == VERSION && used == bytes.len()).then_some((id, record))
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::{Engine, Lifetime, MemoryStore, ParamState, RequestView, Timestamp, Value};

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
}
