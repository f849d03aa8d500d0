//! [`SealKey`]: the secret a [`SealedCookie`](crate::SealedCookie) seals with, and [`KeyError`].

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::KeyInit;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The length of a full key: 32 bytes for HMAC-SHA256 signing, 32 for AES-256-GCM encryption.
pub const KEY_LEN: usize = 64;

/// The shortest master key [`SealKey::derive_from`] accepts.
pub const MASTER_KEY_MIN_LEN: usize = 32;

/// The secret a [`SealedCookie`](crate::SealedCookie) seals with.
///
/// The bytes given are not used as they are: a 64-byte working key (the first half for HMAC-SHA256
/// signing, the second for AES-256-GCM encryption) is derived from all of
/// them with HKDF-SHA256 under a label of this crate's own. So a key that the application also uses
/// elsewhere (to sign or encrypt its other cookies, say) still cannot be turned against sessions:
/// nothing sealed elsewhere opens here. Even so, **give sessions a key of their own**.
///
/// **A key must come from real random material**: [`SealKey::generate`], or bytes from a secrets
/// manager or `openssl rand -base64 64`. Never a password, a passphrase or a string written in the
/// source: anyone who can guess the key can forge any session. There is no default key. A key that
/// is too short, or so repetitive that it cannot be random (fewer distinct byte values than a
/// quarter of its length, counted over at most 64 bytes), is refused.
///
/// Private mode draws a random 96-bit nonce per seal, which AES-GCM allows for 2^32 seals per key
/// (NIST SP 800-38D's bound; past it, the chance of a repeated nonce, which would let an attacker
/// forge cookies, grows); every write and every rolling-expiry refresh is a seal. Count seals,
/// not days: rotate the key (see
/// [`SealedCookieBuilder::old_key`](crate::SealedCookieBuilder::old_key)) before about 2^31 of
/// them, which at 1 000 seals per second is about three weeks, at 10 000 about two and a half
/// days. Signed mode has no such bound.
///
/// Its `Debug` output never shows the key.
///
/// ```
/// use session_state_cookie::{KeyError, SealKey};
///
/// let key = SealKey::generate().expect("the OS random source");
/// assert!(format!("{key:?}").len() < 20);
///
/// assert!(matches!(SealKey::from_bytes(&[7; 32]), Err(KeyError::TooShort { len: 32, min: 64 })));
/// assert!(matches!(SealKey::from_bytes(&[7; 64]), Err(KeyError::NotRandom)));
/// ```
#[derive(Clone)]
pub struct SealKey(Arc<Working>);

/// The working key, ready to use: the cipher keyed (its round keys expanded) and the HMAC keyed
/// (its padded key hashed) once, not on every seal and open.
struct Working {
    cipher: Aes256Gcm,
    mac: Hmac<Sha256>,
    #[cfg(test)]
    bytes: [u8; KEY_LEN],
}

/// The HKDF label that ties a working key to this crate's sealed sessions.
const LABEL: &[u8] = b"session-state-cookie sealed session v1";

impl SealKey {
    /// A key from at least 64 bytes of random material (all of them are used).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        SealKey::derive(bytes, KEY_LEN)
    }

    /// A key from a master key of at least 32 random bytes.
    ///
    /// For applications that keep a shorter secret; derived exactly as
    /// [`from_bytes`](SealKey::from_bytes) does.
    pub fn derive_from(master: &[u8]) -> Result<Self, KeyError> {
        SealKey::derive(master, MASTER_KEY_MIN_LEN)
    }

    /// A key from base64 text holding at least 64 random bytes: how keys are usually kept.
    ///
    /// Standard or URL-safe base64, padded or not; whitespace anywhere (such as the line breaks
    /// `openssl rand -base64 64` writes) is ignored.
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let unpadded = compact.trim_end_matches('=');
        let bytes = STANDARD_NO_PAD
            .decode(unpadded)
            .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
            .map_err(|_| KeyError::NotBase64)?;
        SealKey::from_bytes(&bytes)
    }

    /// A key from the `cookie` crate's `Key` (cookie 0.18, the type axum-extra's
    /// `PrivateCookieJar` and `SignedCookieJar` hold), for an application that already keeps
    /// one: its 64 master bytes are derived exactly as [`from_bytes`](SealKey::from_bytes)
    /// derives them, under this crate's own label, so sessions never share a working key with
    /// the application's other cookies. Feature `cookie-key`.
    ///
    /// actix-web's `Key` comes from cookie 0.16: pass its master bytes,
    /// `SealKey::from_bytes(key.master())`, which gives the same key. There is no way back: a
    /// `SealKey` keeps only its derived working key, never the master.
    ///
    /// ```
    /// use session_state_cookie::SealKey;
    ///
    /// let jar_key = cookie::Key::generate(); // what axum-extra's jars use
    /// let sessions = SealKey::from_cookie_key(&jar_key).expect("64 random bytes");
    /// # let _ = sessions;
    /// ```
    #[cfg(feature = "cookie-key")]
    #[cfg_attr(docsrs, doc(cfg(feature = "cookie-key")))]
    pub fn from_cookie_key(key: &cookie::Key) -> Result<Self, KeyError> {
        SealKey::from_bytes(key.master())
    }

    /// A fresh key from the operating system's random source.
    ///
    /// Sessions sealed with it open only while the application keeps it: store it to keep sessions
    /// across restarts.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; KEY_LEN];
        getrandom::fill(&mut bytes).map_err(KeyError::Random)?;
        SealKey::from_bytes(&bytes)
    }

    /// The working key: HKDF-SHA256 of `material` (salted with [`LABEL`]) expanded to 64 bytes.
    fn derive(material: &[u8], min: usize) -> Result<Self, KeyError> {
        check(material, min)?;
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(LABEL), material);
        let mut working = [0u8; KEY_LEN];
        hkdf.expand(LABEL, &mut working)
            .map_err(|_| KeyError::TooShort {
                len: material.len(),
                min,
            })?;
        let (signing, encryption) = working.split_at(KEY_LEN / 2);
        let too_short = |_| KeyError::TooShort {
            len: material.len(),
            min,
        };
        Ok(SealKey(Arc::new(Working {
            cipher: Aes256Gcm::new_from_slice(encryption).map_err(too_short)?,
            mac: <Hmac<Sha256> as Mac>::new_from_slice(signing).map_err(too_short)?,
            #[cfg(test)]
            bytes: working,
        })))
    }

    /// AES-256-GCM under the encryption half.
    pub(crate) fn cipher(&self) -> &Aes256Gcm {
        &self.0.cipher
    }

    /// HMAC-SHA256 under the signing half, fresh (nothing written to it yet).
    pub(crate) fn mac(&self) -> Hmac<Sha256> {
        self.0.mac.clone()
    }

    /// The 64-byte working key: signing half, then encryption half.
    #[cfg(test)]
    pub(crate) fn working(&self) -> &[u8; KEY_LEN] {
        &self.0.bytes
    }
}

/// Refuses key material that is too short or cannot be random.
fn check(bytes: &[u8], min: usize) -> Result<(), KeyError> {
    if bytes.len() < min {
        return Err(KeyError::TooShort {
            len: bytes.len(),
            min,
        });
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in bytes.iter().take(KEY_LEN) {
        if !std::mem::replace(&mut seen[usize::from(b)], true) {
            distinct += 1;
        }
    }
    // 64 random bytes hold about 57 distinct values; fewer than 16 is a typed or patterned key.
    if distinct < bytes.len().min(KEY_LEN) / 4 {
        return Err(KeyError::NotRandom);
    }
    Ok(())
}

/// [`SealKey::from_cookie_key`].
#[cfg(feature = "cookie-key")]
#[cfg_attr(docsrs, doc(cfg(feature = "cookie-key")))]
impl TryFrom<&cookie::Key> for SealKey {
    type Error = KeyError;

    fn try_from(key: &cookie::Key) -> Result<Self, KeyError> {
        SealKey::from_cookie_key(key)
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(..)")
    }
}

/// Why a [`SealKey`] could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The key material is shorter than required.
    TooShort {
        /// Its length, in bytes.
        len: usize,
        /// The least accepted, in bytes.
        min: usize,
    },
    /// The key material is too repetitive to be random (a typed or patterned key).
    NotRandom,
    /// The text is not base64.
    NotBase64,
    /// The operating system's random source failed.
    Random(getrandom::Error),
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::TooShort { len, min } => write!(
                f,
                "a session sealing key needs at least {min} random bytes, got {len}"
            ),
            KeyError::NotRandom => f.write_str(
                "the session sealing key is too repetitive to be random: use SealKey::generate \
                 or bytes from a secure random source",
            ),
            KeyError::NotBase64 => f.write_str("the session sealing key is not valid base64"),
            KeyError::Random(_) => f.write_str("the operating system's random source failed"),
        }
    }
}

impl Error for KeyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            KeyError::Random(e) => Some(e),
            _ => None,
        }
    }
}
