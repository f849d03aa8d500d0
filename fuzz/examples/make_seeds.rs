//! Writes the seed corpus in `fuzz/seeds/<target>/`.
//!
//! A few small, meaningful inputs per target: the known session's cookie, sealed cookies that open,
//! encoded records, framed session files.
//!
//! `cargo run -p session-fuzz --example make_seeds`. Deterministic except for the sealed cookies
//! in private mode (a random nonce per seal); the seeds stay valid for as long as `SEAL_KEY`,
//! `NOW_MS` and the formats do. The sealed cookies and payloads of the first release's format
//! (`*-format1`) are committed seeds that nothing writes any more.

use std::path::Path;
use std::time::Duration;

use http::header::SET_COOKIE;
use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::store::{BincodeCodec, Codec, JsonCodec, Record};
use session_core::{Engine, Lifetime};
use session_fuzz::{KNOWN_ID, SEAL_KEY, SEALED_USER, block_on, clock, known_record};
use session_state_cookie::fuzzing::encode_payload;
use session_state_cookie::{SealKey, SealMode, SealedCookie};
use session_store_file::fuzzing::header;
use session_store_redis::fuzzing::record_fields;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| -> std::io::Result<()> {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(name), bytes)
    };

    let known = KNOWN_ID;
    write("cookie_request", "known", format!("id={known}").as_bytes())?;
    write(
        "cookie_request",
        "known-after-others",
        format!("theme=dark; id=not-an-id; id=\"{known}\"").as_bytes(),
    )?;
    write(
        "cookie_request",
        "two-headers",
        format!("a=1; id=AAAA\nid={known}").as_bytes(),
    )?;
    write("cookie_request", "no-session", b"theme=dark; lang=en")?;

    write(
        "param_request",
        "known",
        format!("plack_session={known}").as_bytes(),
    )?;
    write(
        "param_request",
        "known-after-others",
        format!("a=1&plack_session=bad&plack_session={known}&b").as_bytes(),
    )?;
    write("param_request", "no-session", b"page=2&q=x")?;

    for (mode, first, name) in [
        (SealMode::Private, 0u8, "private"),
        (SealMode::Signed, 1, "signed"),
    ] {
        let pair = sealed_cookie(mode)?;
        write("sealed_open", name, &[&[first], pair.as_bytes()].concat())?;
        write(
            "sealed_open",
            &format!("{name}-after-junk"),
            &[&[first], format!("theme=dark; id=junk\n{pair}").as_bytes()].concat(),
        )?;
    }
    write(
        "sealed_open",
        "junk",
        b"\x00id=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    )?;

    let mut with_lifetime = known_record();
    with_lifetime.lifetime = Some(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
    let records = [("known", known_record()), ("persistent", with_lifetime)];

    for (name, record) in &records {
        let raw = encode_payload(known, record);
        write(
            "sealed_payload",
            &format!("{name}-format2"),
            &[&[0u8], &raw[..]].concat(),
        )?;

        write("codec_json", name, &JsonCodec::default().encode(record)?)?;
        write(
            "codec_bincode",
            name,
            &BincodeCodec::default().encode(record)?,
        )?;

        let bincode = BincodeCodec::default().encode(record)?;
        let json = JsonCodec::default().encode(record)?;
        // First byte: bit 7 picks the JSON store, the low bits the framing (see file_read.rs).
        write(
            "file_read",
            &format!("{name}-bincode-framed"),
            &[&[1u8], &bincode[..]].concat(),
        )?;
        write(
            "file_read",
            &format!("{name}-json-framed"),
            &[&[0x81u8], &json[..]].concat(),
        )?;
        write(
            "file_read",
            &format!("{name}-bincode-file"),
            &[&[0u8], &file(record, &bincode)[..]].concat(),
        )?;
        let expired = 1u64.to_le_bytes();
        write(
            "file_read",
            &format!("{name}-bincode-expired"),
            &[&[2u8], &expired[..], &bincode[..]].concat(),
        )?;

        let fields: Vec<String> = record_fields(record)
            .into_iter()
            .map(|(field, value)| format!("{field}={value}"))
            .collect();
        write("redis_fields", name, fields.join("\n").as_bytes())?;
    }
    println!("seeds written under {}", root.display());
    Ok(())
}

/// A session file as the store writes it: header, then payload.
fn file(record: &Record, payload: &[u8]) -> Vec<u8> {
    [&header(record.expires, payload.len())[..], payload].concat()
}

/// The `id=...` pair of a session sealed in `mode` with the fixed key at the fixed time.
///
/// It holds `user` = `SEALED_USER` and `n` = 1: what the sealed_open target accepts as authentic.
fn sealed_cookie(mode: SealMode) -> Result<String, Box<dyn std::error::Error>> {
    let key = SealKey::from_bytes(&SEAL_KEY)?;
    let engine = Engine::client_side_builder(SealedCookie::builder(key).mode(mode).build())
        .clock(clock())
        .build();
    block_on(async {
        let session = engine.start(&RequestView::new(&HeaderMap::new(), None));
        session.insert("user", SEALED_USER).await?;
        session.insert("n", 1u64).await?;
        let mut response = HeaderMap::new();
        engine
            .commit(&session, StatusCode::OK)
            .await?
            .apply_to(&mut response);
        let set_cookie = response.get(SET_COOKIE).ok_or("no Set-Cookie")?.to_str()?;
        let pair = set_cookie.split(';').next().unwrap_or_default();
        Ok(pair.to_owned())
    })
}
