//! The primitives of the sealed payload's byte layout: LEB128 varints and length-prefixed bytes.
//!
//! Reading is bounded by its input and strict: a varint longer than needed, or one that overflows
//! 64 bits, is refused, so each value has exactly one encoding.

/// Appends `value` as an unsigned LEB128 varint (7 bits a byte, low bits first).
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends the difference `to - from` (wrapping), zigzag-encoded, so that small differences either
/// way take one or a few bytes.
pub(crate) fn put_delta(out: &mut Vec<u8>, from: u64, to: u64) {
    let signed = to.wrapping_sub(from) as i64;
    put_varint(out, ((signed << 1) ^ (signed >> 63)) as u64);
}

/// Appends `bytes` after their length.
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Reads the layout from a slice; every method returns `None` past its end or on a malformed
/// field.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Whether everything has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (&first, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(first)
    }

    /// The next `len` bytes.
    pub(crate) fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        if len > self.rest.len() {
            return None;
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Some(taken)
    }

    /// A varint in its shortest form, at most 64 bits.
    pub(crate) fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte holds only the top bit.
            if shift == 63 && bits > 1 {
                return None;
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                // A last byte of zero (after the first) is a longer form of a shorter varint.
                return (byte != 0 || shift == 0).then_some(value);
            }
        }
        None
    }

    /// A length, as a `usize` no larger than what is left to read.
    pub(crate) fn len(&mut self) -> Option<usize> {
        let len = usize::try_from(self.varint()?).ok()?;
        (len <= self.rest.len()).then_some(len)
    }

    /// `from` plus a zigzag-encoded difference (wrapping), as [`put_delta`] wrote it.
    pub(crate) fn delta(&mut self, from: u64) -> Option<u64> {
        let zigzag = self.varint()?;
        let signed = (zigzag >> 1) as i64 ^ -((zigzag & 1) as i64);
        Some(from.wrapping_add(signed as u64))
    }

    /// Length-prefixed bytes.
    pub(crate) fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.len()?;
        self.take(len)
    }

    /// Length-prefixed UTF-8 text.
    pub(crate) fn str(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_in_their_shortest_form_only() {
        for value in [0, 1, 127, 128, 300, 1 << 35, u64::MAX - 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut reader = Reader::new(&out);
            assert_eq!(reader.varint(), Some(value), "{value}");
            assert!(reader.is_empty());
        }
        let mut max = Vec::new();
        put_varint(&mut max, u64::MAX);
        assert_eq!(max.len(), 10);
        for bad in [
            &[0x80, 0x00][..],                                             // 0, in two bytes
            &[0xff, 0x80, 0x00],                                           // 127, in three bytes
            &[0x80],                                                       // cut short
            &[0xff; 10],                                                   // 70 bits
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], // 65 bits
            &[0xff; 11],
        ] {
            assert_eq!(Reader::new(bad).varint(), None, "{bad:?}");
        }
    }

    #[test]
    fn deltas_round_trip_either_way_and_wrap() {
        for (from, to) in [
            (5, 5),
            (5, 9),
            (9, 5),
            (0, u64::MAX),
            (u64::MAX, 0),
            (1 << 40, 3),
        ] {
            let mut out = Vec::new();
            put_delta(&mut out, from, to);
            assert_eq!(Reader::new(&out).delta(from), Some(to), "{from} -> {to}");
        }
        let mut out = Vec::new();
        put_delta(&mut out, 1_700_000_000_000, 1_700_000_060_000);
        assert_eq!(out.len(), 3, "a minute later, in three bytes");
    }

    #[test]
    fn lengths_are_bounded_by_the_input() {
        assert_eq!(Reader::new(&[3, b'a', b'b']).bytes(), None);
        assert_eq!(Reader::new(&[2, b'a', b'b']).str(), Some("ab"));
        assert_eq!(Reader::new(&[2, 0xff, 0xfe]).str(), None, "not UTF-8");
        let mut huge = Vec::new();
        put_varint(&mut huge, u64::MAX);
        assert_eq!(Reader::new(&huge).bytes(), None);
    }
}
