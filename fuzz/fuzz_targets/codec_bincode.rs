//! `BincodeCodec::default().decode` on arbitrary bytes.
//!
//! What a store keeping bincode 2 records (the file store's default; session-core's feature
//! `bincode`) runs on every record it reads.
//!
//! Checked ([`session_fuzz::check_codec`]): never a panic; every value of an accepted record is
//! JSON text (`Value`'s invariant); an accepted input re-encodes, and decoding that gives an equal
//! `Record` (round trip on accepted inputs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use session_core::store::BincodeCodec;
use session_fuzz::check_codec;

fuzz_target!(|data: &[u8]| check_codec(&BincodeCodec::default(), data));
