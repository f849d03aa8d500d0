//! Format 2: how a payload is sealed into a cookie value, and opened again.
//!
//! A value is the base64url (no padding) of one of:
//!
//! - private: [`PRIVATE`], a random 96-bit nonce, the [`payload`] encrypted with AES-256-GCM,
//!   and its 16-byte tag, the context as associated data;
//! - signed: [`SIGNED`], the HMAC-SHA256 tag (32 bytes) over the context and then the payload,
//!   and the payload as it is (readable: the base64url after the value's first 44 characters).
//!
//! The context is the marker byte, the cookie name's length (4 bytes, big-endian) and the name: a
//! value moved to another cookie name, or read as another format or mode, does not authenticate.
//! The marker's top six bits make every format 2 value start with `-`, which no format 1 value
//! does ([`legacy`](crate::legacy)); values starting with `_` are left for a later format.
//!
//! The keys are [`SealKey`]'s working keys; tags are compared in constant time (by `aes-gcm` and
//! by `hmac`'s `verify_slice`); only the base64 text (bounded by the cookie's size) is decoded
//! before authentication, the payload after it.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use session_core::store::Record;

use crate::{SealError, SealKey, SealMode, payload};

/// The first byte of a private value in format 2 (base64url: `-` and then `A`..`P`).
pub(crate) const PRIVATE: u8 = 0xf8;
/// The first byte of a signed value in format 2 (base64url: `-` and then `Q`..`f`).
pub(crate) const SIGNED: u8 = 0xf9;

/// The first character of every format 2 value, and the one left for a later format.
pub(crate) const FIRST_CHAR: u8 = b'-';
pub(crate) const NEXT_FIRST_CHAR: u8 = b'_';

const NONCE_LEN: usize = 12;
const GCM_TAG_LEN: usize = 16;
const MAC_LEN: usize = 32;

/// Seals and opens values of one mode under one cookie name.
#[derive(Clone)]
pub(crate) struct Envelope {
    mode: SealMode,
    /// The marker, the name's length, the name.
    context: Box<[u8]>,
}

impl Envelope {
    pub(crate) fn new(mode: SealMode, name: &str) -> Self {
        let marker = match mode {
            SealMode::Private => PRIVATE,
            SealMode::Signed => SIGNED,
        };
        let mut context = Vec::with_capacity(5 + name.len());
        context.push(marker);
        // Names longer than `u32::MAX` bytes cannot reach a header.
        context.extend_from_slice(&u32::try_from(name.len()).unwrap_or(u32::MAX).to_be_bytes());
        context.extend_from_slice(name.as_bytes());
        Envelope {
            mode,
            context: context.into(),
        }
    }

    fn marker(&self) -> u8 {
        self.context[0]
    }

    /// Seals the session `id` holding `record` with `key`: the cookie value.
    pub(crate) fn seal(
        &self,
        key: &SealKey,
        id: &str,
        record: &Record,
    ) -> Result<String, SealError> {
        let estimate = 96
            + record
                .data
                .iter()
                .map(|(k, v)| k.len() + v.as_json().len() + 4)
                .sum::<usize>();
        self.seal_with(key, estimate, |buf| payload::encode(id, record, buf))
    }

    /// Seals any plaintext (tests only: authenticated bytes that are not a payload).
    #[cfg(test)]
    pub(crate) fn seal_plain(&self, key: &SealKey, plain: &[u8]) -> String {
        self.seal_with(key, 64 + plain.len(), |buf| buf.extend_from_slice(plain))
            .expect("sealed")
    }

    /// Seals what `write` appends to the buffer after the header.
    fn seal_with(
        &self,
        key: &SealKey,
        capacity: usize,
        write: impl FnOnce(&mut Vec<u8>),
    ) -> Result<String, SealError> {
        let mut buf = Vec::with_capacity(capacity);
        buf.push(self.marker());
        match self.mode {
            SealMode::Private => {
                buf.extend_from_slice(&[0; NONCE_LEN]);
                getrandom::fill(&mut buf[1..]).map_err(SealError::Random)?;
                write(&mut buf);
                let (head, body) = buf.split_at_mut(1 + NONCE_LEN);
                let tag = key
                    .cipher()
                    .encrypt_in_place_detached(Nonce::from_slice(&head[1..]), &self.context, body)
                    .map_err(|_| SealError::Seal)?;
                buf.extend_from_slice(&tag);
            }
            SealMode::Signed => {
                buf.extend_from_slice(&[0; MAC_LEN]);
                write(&mut buf);
                let mut mac = key.mac();
                mac.update(&self.context);
                mac.update(&buf[1 + MAC_LEN..]);
                buf[1..=MAC_LEN].copy_from_slice(&mac.finalize().into_bytes());
            }
        }
        Ok(URL_SAFE_NO_PAD.encode(&buf))
    }

    /// Opens a format 2 `value` with `key`, then each of `old`: the session id's text, its record,
    /// and whether an old key opened it.
    pub(crate) fn open(
        &self,
        value: &str,
        key: &SealKey,
        old: &[SealKey],
    ) -> Option<(String, Record, bool)> {
        let mut data = URL_SAFE_NO_PAD.decode(value).ok()?;
        if data.first() != Some(&self.marker()) {
            return None;
        }
        let mut keys = std::iter::once(key).chain(old).enumerate();
        let (plain, index) = match self.mode {
            SealMode::Private => {
                let len = data.len().checked_sub(1 + NONCE_LEN + GCM_TAG_LEN)?;
                let (head, rest) = data.split_at_mut(1 + NONCE_LEN);
                let (body, tag) = rest.split_at_mut(len);
                let (nonce, tag) = (Nonce::from_slice(&head[1..]), Tag::from_slice(tag));
                // A failed attempt must not leave its output behind for the next key.
                let sealed = (!old.is_empty()).then(|| body.to_vec());
                let mut opened = None;
                for (index, key) in keys {
                    if let Some(sealed) = &sealed {
                        body.copy_from_slice(sealed);
                    }
                    let cipher = key.cipher();
                    if cipher
                        .decrypt_in_place_detached(nonce, &self.context, body, tag)
                        .is_ok()
                    {
                        opened = Some(index);
                        break;
                    }
                }
                (&*body, opened?)
            }
            SealMode::Signed => {
                let (tag, body) = data.get(1..)?.split_at_checked(MAC_LEN)?;
                let (index, _) = keys.find(|(_, key)| {
                    let mut mac = key.mac();
                    mac.update(&self.context);
                    mac.update(body);
                    mac.verify_slice(tag).is_ok()
                })?;
                (body, index)
            }
        };
        let (id, record) = payload::decode(plain)?;
        Some((id, record, index > 0))
    }
}
