//! Session ids: generation from the OS CSPRNG, strict parsing, and the digest stores are keyed by.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// A validated session id, as it travels to and from the client.
///
/// An `Id` is a secret: its `Debug` output shows only a short prefix, and it has no `Display`
/// implementation, so it cannot end up in a log line by accident. Use [`Id::as_str`] where the
/// whole value is really needed (a `Set-Cookie` header, a link carrying the id).
///
/// Stores never see an `Id`: they are keyed by its [`Key`]. Cloning is cheap (a reference count).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Id(Arc<str>);

impl Id {
    /// The whole id, as sent to the client.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The store key for this id: the SHA-256 digest of the id text.
    pub fn key(&self) -> Key {
        Key(Sha256::digest(self.0.as_bytes()).into())
    }

    /// Wraps text that a scheme has already validated.
    pub(crate) fn new_unchecked(text: &str) -> Self {
        Id(text.into())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix: String = self.0.chars().take(4).collect();
        write!(f, "Id({prefix}…)")
    }
}

/// The key a store files a session under: the SHA-256 digest of its [`Id`].
///
/// Core computes it, so no store sees or persists a raw session id: a leaked store directory or
/// database dump yields no usable cookie, and the hex form is safe as a file name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key([u8; 32]);

impl Key {
    /// Wraps a raw 32-byte digest (for stores that read keys back, e.g. from file names).
    pub fn from_digest(digest: [u8; 32]) -> Self {
        Key(digest)
    }

    /// The raw 32-byte digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest as 64 lowercase hex characters.
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// Parses 64 lowercase hex characters back into a key; anything else gives `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return None;
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut digest = [0u8; 32];
        for (slot, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            *slot = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(Key(digest))
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        write!(f, "Key({}…)", &hex[..8])
    }
}

/// How ids are generated and validated (Plack's `sid_generator` and `sid_validator`).
///
/// A scheme's generator must only produce ids its own validator accepts, made of visible ASCII
/// characters other than `"`, `,`, `;` and `\`, so that they travel in a cookie or a query string
/// unchanged; the engine checks this for every id it generates and refuses one that breaks it.
pub trait IdScheme: Send + Sync + fmt::Debug + 'static {
    /// Generates a fresh id from a cryptographically secure source.
    fn generate(&self) -> Result<String, Error>;

    /// Whether `candidate` is an id this scheme could have generated.
    ///
    /// Called on every id a client sends, before any store sees it, so it must be strict and cheap.
    fn is_valid(&self, candidate: &str) -> bool;
}

/// The default scheme: 256 random bits from the OS CSPRNG, as 43 characters of unpadded base64url.
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultIds;

impl IdScheme for DefaultIds {
    fn generate(&self) -> Result<String, Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(Error::Random)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    fn is_valid(&self, candidate: &str) -> bool {
        // What strict decoding accepts, checked without decoding: 43 characters of the URL-safe
        // alphabet (no padding), the last one's two low bits zero (43 sextets carry 258 bits, of
        // which 256 are the id's), so the only accepted texts are the ones `generate` produces.
        let [body @ .., last] = candidate.as_bytes() else {
            return false;
        };
        body.len() == 42
            && body
                .iter()
                .fold(true, |ok, &c| ok & (SEXTETS[usize::from(c)] != NOT_BASE64))
            && SEXTETS[usize::from(*last)] & 0b11 == 0
    }
}

/// Not a character of the URL-safe base64 alphabet (its low bits are set, so no last character
/// passes as it).
const NOT_BASE64: u8 = 0xff;

/// Each byte's value as a URL-safe base64 character, or [`NOT_BASE64`].
const SEXTETS: [u8; 256] = {
    let mut table = [NOT_BASE64; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut i = 0;
    while i < alphabet.len() {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Plack's id format: `bytes` random bytes as lowercase hex (Plack uses 20 bytes, 40 characters).
///
/// Uppercase hex is rejected, as are ids of any other length.
#[derive(Clone, Copy, Debug)]
pub struct HexIds {
    bytes: usize,
}

impl HexIds {
    /// A hex scheme with `bytes` random bytes per id; fewer than 16 bytes (128 bits) is refused.
    pub fn new(bytes: usize) -> Result<Self, Error> {
        if !(16..=64).contains(&bytes) {
            return Err(Error::Config("HexIds needs between 16 and 64 random bytes"));
        }
        Ok(HexIds { bytes })
    }
}

impl IdScheme for HexIds {
    fn generate(&self) -> Result<String, Error> {
        let mut bytes = [0u8; 64];
        let bytes = &mut bytes[..self.bytes];
        getrandom::fill(bytes).map_err(Error::Random)?;
        Ok(hex(bytes))
    }

    fn is_valid(&self, candidate: &str) -> bool {
        candidate.len() == self.bytes * 2
            && candidate
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    }
}

type Generator = dyn Fn() -> Result<String, Error> + Send + Sync;
type Validator = dyn Fn(&str) -> bool + Send + Sync;

/// A scheme made of two closures: a generator and a validator.
#[derive(Clone)]
pub struct FnIds {
    generate: Arc<Generator>,
    validate: Arc<Validator>,
}

impl FnIds {
    /// Builds a scheme from a generator and a validator.
    pub fn new(
        generate: impl Fn() -> Result<String, Error> + Send + Sync + 'static,
        validate: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        FnIds {
            generate: Arc::new(generate),
            validate: Arc::new(validate),
        }
    }
}

impl fmt::Debug for FnIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnIds").finish_non_exhaustive()
    }
}

impl IdScheme for FnIds {
    fn generate(&self) -> Result<String, Error> {
        (self.generate)()
    }

    fn is_valid(&self, candidate: &str) -> bool {
        (self.validate)(candidate)
    }
}

/// Lowercase hex of `bytes`.
fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    out
}

/// Parses a candidate through a scheme: `None` when the scheme rejects it.
pub(crate) fn parse(scheme: &dyn IdScheme, candidate: &str) -> Option<Id> {
    scheme
        .is_valid(candidate)
        .then(|| Id::new_unchecked(candidate))
}

/// Generates an id and checks it is one the scheme accepts and that can travel in a header.
pub(crate) fn generate(scheme: &dyn IdScheme) -> Result<Id, Error> {
    let text = scheme.generate()?;
    let header_safe = !text.is_empty()
        && text
            .bytes()
            .all(|c| c.is_ascii_graphic() && !matches!(c, b'"' | b',' | b';' | b'\\'));
    if !header_safe || !scheme.is_valid(&text) {
        return Err(Error::Config(
            "the id generator produced an id its validator rejects or that cannot travel in a header",
        ));
    }
    Ok(Id(text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ids_round_trip_and_are_strict() {
        let scheme = DefaultIds;
        let id = generate(&scheme).expect("generate");
        assert_eq!(id.as_str().len(), 43);
        assert!(scheme.is_valid(id.as_str()));
        assert_ne!(id, generate(&scheme).expect("generate"));
        for bad in [
            "",
            "../wrong",
            &"a".repeat(44),
            &"+".repeat(43),
            &format!("{}\n", id.as_str()),
        ] {
            assert!(!scheme.is_valid(bad), "{bad:?} accepted");
        }
        // 'B' has a non-zero low bit in the last sextet, which the generator cannot produce.
        let mut tail = id.as_str()[..42].to_string();
        tail.push('B');
        assert!(!scheme.is_valid(&tail));
    }

    #[test]
    fn default_ids_accept_what_strict_decoding_accepts() {
        let strict = |text: &str| {
            let mut out = [0u8; 33];
            text.len() == 43 && matches!(URL_SAFE_NO_PAD.decode_slice(text, &mut out), Ok(32))
        };
        let scheme = DefaultIds;
        for _ in 0..4 {
            let id = generate(&scheme).expect("generate");
            let bytes = id.as_str().as_bytes();
            for at in 0..bytes.len() {
                for c in 0..=255u8 {
                    let mut text = bytes.to_vec();
                    text[at] = c;
                    let Ok(text) = String::from_utf8(text) else {
                        continue;
                    };
                    assert_eq!(scheme.is_valid(&text), strict(&text), "{at} {c}");
                }
            }
            for cut in [0, 1, 42, 44] {
                let mut text = id.as_str().repeat(2);
                text.truncate(cut);
                assert_eq!(scheme.is_valid(&text), strict(&text), "length {cut}");
            }
            assert!(!scheme.is_valid(&format!("{}=", &id.as_str()[..42])));
        }
    }

    #[test]
    fn hex_ids_are_lowercase_only() {
        let scheme = HexIds::new(20).expect("valid size");
        let id = generate(&scheme).expect("generate");
        assert_eq!(id.as_str().len(), 40);
        assert!(!scheme.is_valid(&id.as_str().to_uppercase().replace(char::is_numeric, "A")));
        assert!(HexIds::new(8).is_err());
    }

    #[test]
    fn key_hex_round_trips_and_debug_hides_secrets() {
        let id = Id::new_unchecked("secret-session-id");
        let key = id.key();
        assert_eq!(Key::from_hex(&key.to_hex()), Some(key));
        assert!(Key::from_hex("zz").is_none());
        assert!(!format!("{id:?}").contains("secret-session-id"));
        assert!(!format!("{key:?}").contains(&key.to_hex()));
    }

    #[test]
    fn a_generator_that_breaks_its_validator_is_refused() {
        let scheme = FnIds::new(|| Ok("a;b".to_string()), |_| true);
        assert!(generate(&scheme).is_err());
    }
}
