//! Format 2 values: their layout, and hostile ones (another marker, another mode or name,
//! authenticated bytes that are not a payload) give a fresh session.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use session_core::Value;
use session_core::store::Record;

use super::{
    HOUR, MODES, START, assert_fresh, assert_opens, engine, key, new_session, open, sealed, start,
    value_of,
};
use crate::envelope::{Envelope, PRIVATE, SIGNED};
use crate::tests::block_on;
use crate::{MAX_COOKIE_BYTES, SealMode, payload};

fn marker(mode: SealMode) -> u8 {
    match mode {
        SealMode::Private => PRIVATE,
        _ => SIGNED,
    }
}

#[test]
fn new_values_are_format_2_and_signed_ones_are_readable() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let cookie = new_session(&engine, &[("user", "visible-marker")]).await;
            let value = value_of(&cookie);
            assert!(value.starts_with('-'), "{mode:?}: {value}");
            let bytes = URL_SAFE_NO_PAD.decode(value).expect("base64url");
            assert_eq!(bytes[0], marker(mode));
            let readable = URL_SAFE_NO_PAD.decode(&value[44..]).ok();
            let shows = readable.is_some_and(|b| String::from_utf8_lossy(&b).contains("visible"));
            assert_eq!(shows, mode == SealMode::Signed, "{mode:?}: {value}");
        }
    });
}

#[test]
fn another_marker_or_a_reserved_first_character_gives_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let good = new_session(&engine, &[("user", "alice")]).await;
            assert_opens(&engine, &good, "alice").await;
            let bytes = URL_SAFE_NO_PAD.decode(value_of(&good)).expect("base64url");
            for other in [
                0x00,
                0xf7,
                0xfa,
                0xfb,
                0xfc,
                0xff,
                PRIVATE ^ SIGNED ^ marker(mode),
            ] {
                let mut bad = bytes.clone();
                bad[0] = other;
                let value = URL_SAFE_NO_PAD.encode(&bad);
                let what = format!("{mode:?}: marker {other:#x} ({value:.3})");
                assert_fresh(&engine, &format!("id={value}"), &what).await;
            }
            let reserved = format!("id=_{}", &value_of(&good)[1..]);
            assert_fresh(&engine, &reserved, &format!("{mode:?}: starts with _")).await;
            let padded = format!("{good}=");
            assert_fresh(&engine, &padded, &format!("{mode:?}: padded")).await;
        }
    });
}

#[test]
fn values_over_the_cookie_limit_are_not_decoded() {
    block_on(async {
        for mode in MODES {
            let key = key();
            let (engine, _) = engine(sealed(mode, &key));
            let id = start(&engine, None).save().await.expect("save");
            let mut record = Record::new(START, START.saturating_add(HOUR));
            let big = Value::from_serialize(&"x".repeat(MAX_COOKIE_BYTES)).expect("json");
            record.data.insert("user".into(), big);
            let value = Envelope::new(mode, "id")
                .seal(&key, id.as_str(), &record)
                .expect("seal");
            assert!(value.len() > MAX_COOKIE_BYTES);
            assert!(open(&sealed(mode, &key), &format!("id={value}")).is_none());
        }
    });
}

#[test]
fn authenticated_bytes_that_are_not_a_payload_give_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let key = key();
            let (engine, _) = engine(sealed(mode, &key));
            let id = start(&engine, None).save().await.expect("save");
            let mut record = Record::new(START, START.saturating_add(HOUR));
            let alice = Value::from_serialize("alice").expect("json");
            record.data.insert("user".into(), alice);
            let mut ours = Vec::new();
            payload::encode(id.as_str(), &record, &mut ours);
            let envelope = Envelope::new(mode, "id");

            // The control: our own payload, sealed by hand, opens.
            let cookie = format!("id={}", envelope.seal_plain(&key, &ours));
            assert_opens(&engine, &cookie, "alice").await;

            let mut scheme_refuses = Vec::new();
            payload::encode("../wrong", &record, &mut scheme_refuses);
            let random: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
            let plains = [
                ("empty", Vec::new()),
                ("plain text", b"hello world".to_vec()),
                ("random bytes", random),
                ("trailing bytes", [&ours[..], b"more"].concat()),
                ("cut short", ours[..ours.len() - 1].to_vec()),
                ("an id the scheme refuses", scheme_refuses),
                ("a JSON record", b"{\"user\":\"alice\"}".to_vec()),
                ("the id alone", ours[..33].to_vec()),
            ];
            for (what, plain) in plains {
                let cookie = format!("id={}", envelope.seal_plain(&key, &plain));
                assert_fresh(&engine, &cookie, &format!("{mode:?}: {what}")).await;
            }

            // Sealed for another name or the other mode: not authentic here.
            let other_mode = match mode {
                SealMode::Private => SealMode::Signed,
                _ => SealMode::Private,
            };
            for (what, envelope) in [
                ("another name", Envelope::new(mode, "other")),
                ("the other mode", Envelope::new(other_mode, "id")),
            ] {
                let cookie = format!("id={}", envelope.seal_plain(&key, &ours));
                assert_fresh(&engine, &cookie, &format!("{mode:?}: {what}")).await;
            }

            // A real value moved across modes or formats: its marker swapped for the other
            // mode's (past the marker check, into the other primitive), or its bytes without the
            // marker re-encoded as format 1's standard base64 (into the legacy path).
            let real = value_of(&new_session(&engine, &[("user", "alice")]).await).to_owned();
            let mut bytes = URL_SAFE_NO_PAD.decode(&real).expect("base64url");
            let as_format_1 = base64::engine::general_purpose::STANDARD.encode(&bytes[1..]);
            bytes[0] = marker(other_mode);
            let swapped = URL_SAFE_NO_PAD.encode(&bytes);
            for (what, value) in [("marker swapped", swapped), ("as format 1", as_format_1)] {
                let cookie = format!("id={value}");
                assert_fresh(&engine, &cookie, &format!("{mode:?}: {what}")).await;
            }
        }
    });
}
