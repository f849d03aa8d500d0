//! `JsonCodec::default().decode` on arbitrary bytes.
//!
//! What a store keeping JSON records (the file store with `FileStoreBuilder::json`, a store of
//! one's own) runs on every record it reads.
//!
//! Checked ([`session_fuzz::check_codec`]): never a panic; every value of an accepted record is
//! JSON text (`Value`'s invariant); an accepted input re-encodes, and decoding that gives an equal
//! `Record` (round trip on accepted inputs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::store::JsonCodec;
use session_fuzz::check_codec;

fuzz_target!(|data: &[u8]| check_codec(&JsonCodec::default(), data));
