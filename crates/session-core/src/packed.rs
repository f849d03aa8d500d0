//! A record's values packed into one text, for stores that read a session's values faster as
//! one string than as many (a Redis hash field, an aggregate of SQL rows).

use std::fmt;
use std::fmt::Write as _;
use std::ops::Range;

use crate::value::{SharedText, Value};

/// Packs (name, JSON text) pairs into one text: each pair written
/// `<name length>:<text length>:<name><text>`, lengths in bytes and in decimal, one after the
/// other in the order given. [`unpack_values`] reads it back.
///
/// ```
/// use session_core::store::{pack_values, unpack_values};
///
/// let packed = pack_values([("user", "\"alice\""), ("n", "7")]);
/// assert_eq!(packed, "4:7:user\"alice\"1:1:n7");
/// assert_eq!(
///     unpack_values(packed.as_bytes()).unwrap(),
///     [("user", "\"alice\""), ("n", "7")]
/// );
/// ```
pub fn pack_values<'a, I>(values: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
    I::IntoIter: Clone,
{
    let values = values.into_iter();
    let bytes: usize = values
        .clone()
        .map(|(name, text)| name.len() + text.len() + 12)
        .sum();
    let mut packed = String::with_capacity(bytes);
    for (name, text) in values {
        // Writes to a String: they cannot fail.
        let _ = write!(packed, "{}:{}:", name.len(), text.len());
        packed.push_str(name);
        packed.push_str(text);
    }
    packed
}

/// The (name, text) pairs of a text [`pack_values`] wrote, in its order, borrowed from it.
///
/// The form is checked (UTF-8, every length a run of decimal digits followed by `:`, every pair
/// within the text), the texts are not: a store that reads values from them still checks each
/// with [`Value::from_json`](crate::Value::from_json). An empty text holds no pairs.
pub fn unpack_values(packed: &[u8]) -> Result<Vec<(&str, &str)>, PackError> {
    let text = std::str::from_utf8(packed).map_err(|_| PackError)?;
    let mut pairs = Vec::new();
    each_pair(text, |name, json| {
        pairs.push((&text[name], &text[json]));
        Ok(())
    })?;
    Ok(pairs)
}

/// The (name, value) pairs of a text [`pack_values`] wrote, in its order: the names borrowed
/// from it, the values sharing it (see [`Value::from_shared`]).
///
/// What [`unpack_values`] checks, and every value's text too, as
/// [`Value::from_json`](crate::Value::from_json) does: a text that is not JSON makes it a
/// [`PackError`]. One allocation for the list, none per value: a store that reads a session's
/// values as one string makes them with this.
///
/// ```
/// use session_core::store::{SharedText, pack_values, unpack_shared};
///
/// let text = SharedText::from(pack_values([("user", "\"alice\""), ("n", "7")]));
/// let pairs = unpack_shared(&text).unwrap();
/// assert_eq!(pairs[0].0, "user");
/// assert_eq!(pairs[0].1.deserialize::<String>().unwrap(), "alice");
/// assert_eq!(pairs[1].1.as_json(), "7");
///
/// let not_json = SharedText::from(pack_values([("n", "seven")]));
/// assert!(unpack_shared(&not_json).is_err());
/// ```
pub fn unpack_shared(text: &SharedText) -> Result<Vec<(&str, Value)>, PackError> {
    let all = text.as_str();
    let mut pairs = Vec::new();
    each_pair(all, |name, json| {
        let value = Value::from_shared(text, json).map_err(|_| PackError)?;
        pairs.push((&all[name], value));
        Ok(())
    })?;
    Ok(pairs)
}

/// Calls `put` with the byte ranges of each pair's name and text in `text`, in order, checked
/// to be within it and on its characters' boundaries.
fn each_pair(
    text: &str,
    mut put: impl FnMut(Range<usize>, Range<usize>) -> Result<(), PackError>,
) -> Result<(), PackError> {
    let mut at = 0;
    while at < text.len() {
        let rest = text.get(at..).ok_or(PackError)?;
        let (name_len, after) = length(rest).ok_or(PackError)?;
        let (text_len, after) = length(after).ok_or(PackError)?;
        // Where the name starts: `after` is the end of `text`.
        let start = text.len() - after.len();
        let name_end = start.checked_add(name_len).ok_or(PackError)?;
        let end = name_end.checked_add(text_len).ok_or(PackError)?;
        // `get` refuses a length that ends inside a character, as well as one past the end.
        text.get(start..end).ok_or(PackError)?;
        text.get(start..name_end).ok_or(PackError)?;
        put(start..name_end, name_end..end)?;
        at = end;
    }
    Ok(())
}

/// A length: decimal digits (at most 19, so that it fits) and a `:`; the length and what follows.
fn length(text: &str) -> Option<(usize, &str)> {
    let (digits, after) = text.split_once(':')?;
    if digits.is_empty() || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let length = digits.bytes().try_fold(0usize, |n, digit| {
        n.checked_mul(10)?.checked_add(usize::from(digit - b'0'))
    })?;
    Some((length, after))
}

/// A text that [`pack_values`] did not write: not UTF-8, a length that is not decimal digits and
/// a `:`, or a pair that runs past the end; or, from [`unpack_shared`], a value that is not JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackError;

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not values packed by pack_values")
    }
}

impl std::error::Error for PackError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_round_trip_whatever_they_hold() {
        let pairs = [
            ("", "1"),
            ("a:b", "\"1:2:\""),
            ("é", "\"ü\""),
            ("n", &"x".repeat(1000)),
        ];
        let packed = pack_values(pairs.iter().map(|(n, t)| (*n, &**t)));
        assert_eq!(unpack_values(packed.as_bytes()), Ok(pairs.to_vec()));
        assert_eq!(unpack_values(b""), Ok(Vec::new()));
    }

    #[test]
    fn shared_values_unpack_as_the_texts_do() {
        let texts = [
            ("", "1"),
            ("a:b", "\"1:2:\""),
            ("é", "\"ü\""),
            ("n", "[1,{}]"),
        ];
        let text = SharedText::from(pack_values(texts));
        let shared = unpack_shared(&text).expect("a pack");
        let names: Vec<&str> = shared.iter().map(|(name, _)| *name).collect();
        let jsons: Vec<&str> = shared.iter().map(|(_, value)| value.as_json()).collect();
        assert_eq!(names, texts.map(|(name, _)| name));
        assert_eq!(jsons, texts.map(|(_, json)| json));
        assert_eq!(
            unpack_shared(&SharedText::from(String::new())).expect("empty"),
            []
        );
        // The form as unpack_values checks it, and each text is JSON.
        for bad in ["x", "1:1:a1:", "1:2:éx", "1:1:ax", "1:0:a", "1:1:a11:2:b\""] {
            assert_eq!(
                unpack_shared(&SharedText::from(bad.to_owned())),
                Err(PackError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn malformed_texts_are_refused() {
        for bad in [
            &b"x"[..],
            b"1:1",
            b"1:1:a",
            b"1:1:a1:",
            b"1:1:a12:1:b",
            b":1:a1",
            b"1::a",
            b"-1:1:a1",
            b"1:+1:a1",
            b" 1:1:a1",
            b"99999999999999999999:1:a1",
            b"18446744073709551615:1:a1",
            b"1:2:\xc3\xa9x",
            b"1:1:\xff1",
        ] {
            assert_eq!(
                unpack_values(bad),
                Err(PackError),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
