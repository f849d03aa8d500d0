//! Format 1, opened only: the values the first release sealed through the `cookie` crate's jars.
//!
//! - Private: standard base64 (padded) of a 96-bit nonce, the AES-256-GCM ciphertext and its tag,
//!   the cookie's name as associated data.
//! - Signed: the standard base64 (padded, 44 characters) of an HMAC-SHA256 tag over `name=` and
//!   the payload text, then that text.
//!
//! Either way the plaintext is [`payload`]'s base64url text. The keys are the same working keys
//! format 2 uses. No format 1 value starts with `-` or `_` (neither is in standard base64), which
//! is how [`SealedCookie`](crate::SealedCookie) tells the formats apart; a session opened from one
//! is sealed again, in format 2, on that response.

mod payload;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use session_core::store::Record;

#[cfg(feature = "fuzzing")]
pub(crate) use payload::decode as decode_payload;
#[cfg(test)]
pub(crate) use payload::encode;

use crate::{SealKey, SealMode};

/// The length of the jars' nonce, and of the GCM tag.
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// The length of the signed jar's base64 tag.
const SIGNATURE_LEN: usize = 44;

/// Opens a format 1 `value` of the cookie `name` with the first of `keys` that authenticates it:
/// the session id's text and its record.
pub(crate) fn open<'k>(
    mode: SealMode,
    name: &str,
    value: &str,
    mut keys: impl Iterator<Item = &'k SealKey>,
) -> Option<(String, Record)> {
    let text = match mode {
        SealMode::Private => {
            let data = STANDARD.decode(value).ok()?;
            if data.len() < NONCE_LEN + TAG_LEN {
                return None;
            }
            let (nonce, rest) = data.split_at(NONCE_LEN);
            let (sealed, tag) = rest.split_at(rest.len() - TAG_LEN);
            let mut plain = Vec::with_capacity(sealed.len());
            keys.find_map(|key| {
                plain.clear();
                plain.extend_from_slice(sealed);
                key.cipher()
                    .decrypt_in_place_detached(
                        Nonce::from_slice(nonce),
                        name.as_bytes(),
                        &mut plain,
                        Tag::from_slice(tag),
                    )
                    .ok()
            })?;
            String::from_utf8(plain).ok()?
        }
        SealMode::Signed => {
            let (signature, text) = (value.get(..SIGNATURE_LEN)?, value.get(SIGNATURE_LEN..)?);
            let tag = STANDARD.decode(signature).ok()?;
            keys.find(|key| {
                let mut mac = key.mac();
                mac.update(name.as_bytes());
                mac.update(b"=");
                mac.update(text.as_bytes());
                mac.verify_slice(&tag).is_ok()
            })?;
            text.to_owned()
        }
    };
    payload::decode(&text)
}
