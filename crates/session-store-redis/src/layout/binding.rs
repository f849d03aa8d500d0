//! A bound session's two extra fields: its binding as JSON, and its subject's digest.
//!
//! | field | holds |
//! |---|---|
//! | `binding` | the [`Binding`] as JSON (`subject`, `handle`, `bound_at`, `user_agent`, `address`) |
//! | `subject_key` | [`subject_key`] of the binding's subject, 64 lowercase hex digits |
//!
//! An unbound session has neither (the layout of records written before bindings existed). The
//! scripts read `subject_key` alone, to find the subject's index; the subject itself is only ever
//! inside the `binding` text, never in a key name.

use session_core::store::{Binding, Handle, subject_key};
use session_core::subject::MAX_SUBJECT_BYTES;

use super::Corrupt;

/// The binding, as JSON.
pub(crate) const BINDING: &str = "binding";
/// The hex digest of the binding's subject ([`subject_key`]): what the scripts name the subject's
/// index after.
pub(crate) const SUBJECT_KEY: &str = "subject_key";

/// The two fields of a bound record.
pub(crate) fn binding_fields(binding: &Binding) -> [(String, String); 2] {
    // Strings, a timestamp and options: serializing it cannot fail.
    let json = serde_json::to_string(binding).unwrap_or_default();
    [
        (BINDING.to_owned(), json),
        (SUBJECT_KEY.to_owned(), binding.subject_key().to_hex()),
    ]
}

/// Reads the two fields back (each `None` when absent): no binding when neither is there, an error
/// when only one is, or when they do not hold a binding and its subject's digest.
pub(crate) fn decode_binding(
    json: Option<&[u8]>,
    digest: Option<&[u8]>,
) -> Result<Option<Binding>, Corrupt> {
    match (json, digest) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Corrupt::Missing(SUBJECT_KEY)),
        (None, Some(_)) => Err(Corrupt::Missing(BINDING)),
        (Some(json), Some(digest)) => parse(json, digest).map(Some),
    }
}

/// A binding from its JSON, checked against the digest stored beside it.
pub(crate) fn parse(json: &[u8], digest: &[u8]) -> Result<Binding, Corrupt> {
    let binding: Binding =
        serde_json::from_slice(json).map_err(|_| Corrupt::BadBinding("not a binding"))?;
    if binding.subject.is_empty() || binding.subject.len() > MAX_SUBJECT_BYTES {
        return Err(Corrupt::BadBinding("its subject is empty or too long"));
    }
    if Handle::parse(binding.handle.as_str()).is_none() {
        return Err(Corrupt::BadBinding("its handle is malformed"));
    }
    if subject_key(&binding.subject).to_hex().as_bytes() != digest {
        return Err(Corrupt::BadBinding(
            "`subject_key` is not its subject's digest",
        ));
    }
    Ok(binding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use session_core::store::Timestamp;
    use session_core::subject::ClientInfo;

    fn sample() -> Binding {
        let info = ClientInfo::new().user_agent("UA \"quoted\" é");
        Binding::new("alice@example.com", info, Timestamp::from_millis(42)).expect("binding")
    }

    #[test]
    fn a_binding_round_trips_through_its_fields() {
        let binding = sample();
        let [(b, json), (s, digest)] = binding_fields(&binding);
        assert_eq!((b.as_str(), s.as_str()), (BINDING, SUBJECT_KEY));
        assert_eq!(digest, subject_key("alice@example.com").to_hex());
        assert!(!digest.contains("alice"));
        let back = decode_binding(Some(json.as_bytes()), Some(digest.as_bytes()));
        assert_eq!(back.expect("decodes"), Some(binding));
        assert_eq!(decode_binding(None, None).expect("unbound"), None);
    }

    #[test]
    fn damaged_bindings_are_refused() {
        let binding = sample();
        let [(_, json), (_, digest)] = binding_fields(&binding);
        let bad = |json: &str, digest: &str| {
            decode_binding(Some(json.as_bytes()), Some(digest.as_bytes()))
        };
        assert!(matches!(
            decode_binding(Some(json.as_bytes()), None),
            Err(Corrupt::Missing(SUBJECT_KEY))
        ));
        assert!(matches!(
            decode_binding(None, Some(digest.as_bytes())),
            Err(Corrupt::Missing(BINDING))
        ));
        for json in ["", "{", "[]", "null", r#"{"subject":"alice"}"#] {
            assert!(
                matches!(bad(json, &digest), Err(Corrupt::BadBinding(_))),
                "{json}"
            );
        }
        let other = subject_key("bob").to_hex();
        assert!(matches!(bad(&json, &other), Err(Corrupt::BadBinding(_))));
        assert!(matches!(
            bad(&json, &digest.to_uppercase()),
            Err(Corrupt::BadBinding(_))
        ));
        let short = json.replace(binding.handle.as_str(), "short");
        assert_ne!(short, json);
        assert!(matches!(bad(&short, &digest), Err(Corrupt::BadBinding(_))));
        let empty = json.replace("alice@example.com", "");
        let empty_digest = subject_key("").to_hex();
        assert!(matches!(
            bad(&empty, &empty_digest),
            Err(Corrupt::BadBinding(_))
        ));
    }
}
