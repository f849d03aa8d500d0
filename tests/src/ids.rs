//! Session ids a server never issued.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A syntactically valid default id (43 characters of unpadded base64url encoding 32 bytes, so the
/// last character is one of `A`, `Q`, `g`, `w`) that no server issued: 252 fresh random bits.
///
/// The randomness is the standard library's per-process hash keys mixed with a counter: not for
/// secrets, but no server id (from the OS CSPRNG) will ever equal it.
pub fn unknown_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let keys = RandomState::new();
    let mut out = String::with_capacity(43);
    let mut word = 0u64;
    for i in 0..42u64 {
        if i % 10 == 0 {
            let mut hasher = keys.build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            hasher.write_u64(i);
            word = hasher.finish();
        }
        out.push(char::from(BASE64URL[(word & 63) as usize]));
        word >>= 6;
    }
    out.push(['A', 'Q', 'g', 'w'][(word & 3) as usize]);
    out
}
