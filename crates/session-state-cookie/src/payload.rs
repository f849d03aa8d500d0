//! The plaintext inside a sealed cookie (format 2): a compact byte layout of this module's own.
//!
//! The layout is not core's `Record` serialized as it is: a field added to `Record` must not
//! silently change what cookies already in browsers decode to. A test pins the exact bytes.
//!
//! | field | encoding |
//! |---|---|
//! | flags | one byte: [`ID_BYTES`], [`LIFETIME`], [`PERSISTENT`], [`BOUND`]; any other bit set is refused |
//! | id | with `ID_BYTES`, the 32 bytes a 43-character base64url id (the default scheme's) stands for; else its text |
//! | created | milliseconds since the Unix epoch |
//! | last active, expires | each the difference from the time before it, in milliseconds |
//! | lifetime | with `LIFETIME`: the idle timeout in seconds |
//! | data | the number of entries, then each key and value, keys in ascending order; a value is its JSON text, or for a JSON string with nothing to escape its contents alone |
//! | binding | with `BOUND`: the subject, the handle, the binding time (difference from created), the user agent and the address (each absent or text) |
//!
//! Numbers are LEB128 varints and differences zigzag varints ([`wire`](crate::wire)); text and
//! bytes are length-prefixed. Decoding only ever sees authenticated bytes, is bounded by them (a
//! cookie's size), refuses what breaks the layout (an unknown flag, keys out of order, trailing
//! bytes; a few other encodings of the same record, such as a default id written as text, are
//! read as that record) and holds no nested structure: values stay JSON text, checked here and read
//! later with `serde_json`'s own depth limit.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::store::{Binding, Handle, Record, Timestamp};
use session_core::{Lifetime, Value};

use crate::wire::{Reader, put_bytes, put_delta, put_varint};

/// The id is held as the 32 bytes of a 43-character base64url id.
const ID_BYTES: u8 = 1;
/// The session has a lifetime of its own.
const LIFETIME: u8 = 1 << 1;
/// That lifetime is persistent.
const PERSISTENT: u8 = 1 << 2;
/// The session is bound to a subject.
const BOUND: u8 = 1 << 3;

/// The length of an id held as bytes, and of its text.
const ID_LEN: usize = 32;
const ID_TEXT_LEN: usize = 43;

/// The low bit of a value's length: the value is a JSON string's contents, without its quotes.
const STRING: u64 = 1;

/// Appends the payload of the session `id` (its text) holding `record` to `out`.
pub(crate) fn encode(id: &str, record: &Record, out: &mut Vec<u8>) {
    let mut id_bytes = [0u8; ID_LEN + 1];
    let short_id = id.len() == ID_TEXT_LEN
        && matches!(URL_SAFE_NO_PAD.decode_slice(id, &mut id_bytes), Ok(ID_LEN));
    let mut flags = 0;
    if short_id {
        flags |= ID_BYTES;
    }
    if let Some(lifetime) = record.lifetime {
        flags |= LIFETIME;
        if lifetime.is_persistent() {
            flags |= PERSISTENT;
        }
    }
    if record.binding.is_some() {
        flags |= BOUND;
    }
    out.push(flags);
    if short_id {
        out.extend_from_slice(&id_bytes[..ID_LEN]);
    } else {
        put_bytes(out, id.as_bytes());
    }
    let created = record.created.as_millis();
    let last_active = record.last_active.as_millis();
    put_varint(out, created);
    put_delta(out, created, last_active);
    put_delta(out, last_active, record.expires.as_millis());
    if let Some(lifetime) = record.lifetime {
        put_varint(out, lifetime.idle_timeout().as_secs());
    }
    put_varint(out, record.data.len() as u64);
    for (key, value) in &record.data {
        put_bytes(out, key.as_bytes());
        let json = value.as_json();
        match bare_string(json.as_bytes()) {
            Some(contents) => {
                put_varint(out, (contents.len() as u64) << 1 | STRING);
                out.extend_from_slice(contents);
            }
            None => {
                put_varint(out, (json.len() as u64) << 1);
                out.extend_from_slice(json.as_bytes());
            }
        }
    }
    if let Some(binding) = &record.binding {
        put_bytes(out, binding.subject.as_bytes());
        put_bytes(out, binding.handle.as_str().as_bytes());
        put_delta(out, created, binding.bound_at.as_millis());
        for text in [&binding.user_agent, &binding.address] {
            match text {
                None => put_varint(out, 0),
                Some(text) => {
                    put_varint(out, text.len() as u64 + 1);
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
    }
}

/// The contents of `json` if it is a JSON string whose contents need no escape (no quote, no
/// backslash, no control character): they are then the string itself.
fn bare_string(json: &[u8]) -> Option<&[u8]> {
    let contents = json.strip_prefix(b"\"")?.strip_suffix(b"\"")?;
    is_bare(contents).then_some(contents)
}

fn is_bare(contents: &[u8]) -> bool {
    !contents
        .iter()
        .any(|&b| b == b'"' || b == b'\\' || b < 0x20)
}

/// Decodes an authenticated payload; `None` if it is not one [`encode`] writes.
pub(crate) fn decode(bytes: &[u8]) -> Option<(String, Record)> {
    let mut reader = Reader::new(bytes);
    let flags = reader.byte()?;
    if flags & !(ID_BYTES | LIFETIME | PERSISTENT | BOUND) != 0
        || (flags & PERSISTENT != 0 && flags & LIFETIME == 0)
    {
        return None;
    }
    let id = if flags & ID_BYTES != 0 {
        URL_SAFE_NO_PAD.encode(reader.take(ID_LEN)?)
    } else {
        reader.str()?.to_owned()
    };
    let created = reader.varint()?;
    let last_active = reader.delta(created)?;
    let expires = reader.delta(last_active)?;
    let mut record = Record::new(
        Timestamp::from_millis(created),
        Timestamp::from_millis(expires),
    );
    record.last_active = Timestamp::from_millis(last_active);
    if flags & LIFETIME != 0 {
        let idle = Duration::from_secs(reader.varint()?);
        record.lifetime = Some(if flags & PERSISTENT != 0 {
            Lifetime::persistent(idle)
        } else {
            Lifetime::browser_session(idle)
        });
    }
    let count = reader.varint()?;
    let mut previous: Option<&str> = None;
    for _ in 0..count {
        let key = reader.str()?;
        if previous.is_some_and(|previous| previous >= key) {
            return None;
        }
        previous = Some(key);
        let header = reader.varint()?;
        let len = usize::try_from(header >> 1).ok()?;
        let text = std::str::from_utf8(reader.take(len)?).ok()?;
        let json = if header & STRING != 0 {
            if !is_bare(text.as_bytes()) {
                return None;
            }
            let mut json = String::with_capacity(text.len() + 2);
            json.push('"');
            json.push_str(text);
            json.push('"');
            json
        } else {
            text.to_owned()
        };
        record
            .data
            .insert(key.to_owned(), Value::from_json(json).ok()?);
    }
    if flags & BOUND != 0 {
        let subject = reader.str()?;
        let handle = Handle::parse(reader.str()?)?;
        let bound_at = Timestamp::from_millis(reader.delta(created)?);
        let mut texts = [None, None];
        for text in &mut texts {
            let len = reader.varint()?;
            if len > 0 {
                let len = usize::try_from(len - 1).ok()?;
                *text = Some(std::str::from_utf8(reader.take(len)?).ok()?.to_owned());
            }
        }
        let [user_agent, address] = texts;
        let binding = Binding::restore(subject.to_owned(), handle, bound_at, user_agent, address)?;
        record.binding = Some(Box::new(binding));
    }
    reader.is_empty().then_some((id, record))
}
