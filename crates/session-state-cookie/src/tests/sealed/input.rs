//! Hostile input: anything that does not open is a fresh, empty session, never a panic.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, CookieJar};
use http::{HeaderMap, HeaderValue};
use session_core::store::Record;

use super::{
    MODES, START, assert_fresh, assert_fresh_with, assert_opens, assert_opens_with, engine, key,
    new_session, sealed, start, value_of,
};
use crate::tests::block_on;
use crate::{CookieState, SealKey, SealMode, SealedCookie, legacy};

/// `value` with the character at `at` replaced by one that differs in a data bit.
fn flip(value: &str, at: usize) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bytes = value.as_bytes().to_vec();
    bytes[at] = match B64.iter().position(|&b| b == bytes[at]) {
        Some(index) => B64[index ^ 16],
        None => b'A',
    };
    String::from_utf8(bytes).expect("ASCII")
}

/// `text` sealed for cookie `name` with the `cookie` crate's jars directly, laid out as the first
/// release laid out its values (format 1; signed: the tag, then the text; the name signed in).
fn seal_raw(mode: SealMode, key: &SealKey, name: &str, text: &str) -> String {
    let mut jar = CookieJar::new();
    match mode {
        SealMode::Private => {
            jar.private_mut(&cookie::Key::from(key.working()))
                .add(Cookie::new(name.to_owned(), text.to_owned()));
            jar.get(name).expect("sealed").value().to_owned()
        }
        SealMode::Signed => {
            jar.signed_mut(&cookie::Key::from(key.working()))
                .add(Cookie::new(name.to_owned(), format!("{name}={text}")));
            let signed = jar.get(name).expect("signed").value();
            format!("{}{}", &signed[..44], &signed[44 + name.len() + 1..])
        }
    }
}

#[test]
fn tampered_values_give_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let good = new_session(&engine, &[("user", "alice")]).await;
            assert_opens(&engine, &good, "alice").await;
            let value = value_of(&good);
            let len = value.len();
            for at in [0, 1, 11, 43, 44, 45, 60, len / 2, len - 3, len - 2, len - 1] {
                let bad = flip(value, at);
                assert_ne!(bad, value);
                let what = format!("{mode:?}: flipped at {at} of {len}");
                assert_fresh(&engine, &format!("id={bad}"), &what).await;
            }
        }
    });
}

#[test]
fn truncated_and_reordered_values_give_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let good = new_session(&engine, &[("user", "alice")]).await;
            let value = value_of(&good);
            let len = value.len();
            for cut in [1, 10, 16, 43, 44, 45, len / 2, len - 4, len - 1] {
                let what = format!("{mode:?}: the first {cut} of {len}");
                assert_fresh(&engine, &format!("id={}", &value[..cut]), &what).await;
                let what = format!("{mode:?}: without the first {cut} of {len}");
                assert_fresh(&engine, &format!("id={}", &value[cut..]), &what).await;
            }
            let half = len / 2;
            let swapped = [
                (
                    "halves swapped",
                    format!("{}{}", &value[half..], &value[..half]),
                ),
                (
                    "first blocks swapped",
                    format!("{}{}{}", &value[16..32], &value[..16], &value[32..]),
                ),
                (
                    "last blocks swapped",
                    format!(
                        "{}{}{}",
                        &value[..len - 32],
                        &value[len - 16..],
                        &value[len - 32..len - 16]
                    ),
                ),
                (
                    "tag moved last",
                    format!("{}{}", &value[44..], &value[..44]),
                ),
            ];
            for (what, bad) in swapped {
                assert_ne!(bad, value);
                assert_fresh(&engine, &format!("id={bad}"), &format!("{mode:?}: {what}")).await;
            }
        }
    });
}

#[test]
fn another_name_key_or_mode_gives_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let key = key();
            let (engine, _) = engine(sealed(mode, &key));
            let good = new_session(&engine, &[("user", "alice")]).await;
            let value = value_of(&good);

            // Same key, another cookie name: the name is bound in.
            let other = SealedCookie::builder(key.clone())
                .mode(mode)
                .cookie(CookieState::new("other").expect("valid"))
                .build();
            let (other, _) = super::engine(other);
            let own = new_session(&other, &[("user", "bob")]).await;
            assert_opens(&other, &own, "bob").await;
            let what = format!("{mode:?}: moved to another name");
            assert_fresh(&other, &format!("other={value}"), &what).await;
            let what = format!("{mode:?}: moved from another name");
            assert_fresh(&engine, &format!("id={}", value_of(&own)), &what).await;

            // Another key.
            let (wrong, _) = super::engine(sealed(mode, &super::key()));
            assert_fresh(&wrong, &good, &format!("{mode:?}: another key")).await;

            // Same key, the other mode.
            let flipped = match mode {
                SealMode::Private => SealMode::Signed,
                _ => SealMode::Private,
            };
            let (flipped, _) = super::engine(sealed(flipped, &key));
            assert_fresh(
                &flipped,
                &good,
                &format!("{mode:?}: opened in another mode"),
            )
            .await;
        }
    });
}

#[test]
fn garbage_empty_oversized_and_non_utf8_cookies_give_a_fresh_session() {
    block_on(async {
        for mode in MODES {
            let (engine, _) = engine(sealed(mode, &key()));
            let good = new_session(&engine, &[("user", "alice")]).await;
            let long_a = format!("id={}", "A".repeat(100));
            let tag_only = format!("id={}=", "A".repeat(43));
            let ten_kb = format!("id={}", "A".repeat(10 * 1024));
            let good_then_ten_kb = format!("{good}{}", "A".repeat(10 * 1024));
            let cookies = [
                "id=garbage",
                "id=!!!!",
                "id=\"quoted\"",
                "id=%00%ff",
                "id=a=b=c",
                "id==",
                "id=",
                "id",
                "=",
                ";;;",
                "",
                &long_a,
                &tag_only,
                &ten_kb,
                &good_then_ten_kb,
            ];
            for cookie in cookies {
                assert_fresh(&engine, cookie, &format!("{mode:?}: {cookie:.40}")).await;
            }

            let mut headers = HeaderMap::new();
            let bytes: &[&[u8]] = &[
                b"id=\xff\xfe\xfd",
                b"id=a\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
            ];
            for raw in bytes {
                headers.insert("cookie", HeaderValue::from_bytes(raw).expect("obs-text"));
                assert_fresh_with(&engine, &headers, &format!("{mode:?}: {raw:?}")).await;
            }
            // A header that is not UTF-8 is skipped; the next one still opens.
            headers.append("cookie", HeaderValue::from_str(&good).expect("header"));
            assert_opens_with(&engine, &headers, "alice").await;
        }
    });
}

#[test]
fn authenticated_format_1_text_that_is_not_our_payload_is_refused() {
    block_on(async {
        for mode in MODES {
            let key = key();
            let (engine, _) = engine(sealed(mode, &key));
            let id = {
                let session = start(&engine, None);
                session.save().await.expect("save")
            };
            let mut record = Record::new(START, START.saturating_add(super::HOUR));
            record.data.insert(
                "user".into(),
                session_core::Value::from_serialize("alice").expect("json"),
            );
            let config = bincode::config::standard();

            // The control: a format 1 payload, sealed by hand, opens.
            let ours = legacy::encode(&id, &record).expect("encode");
            let cookie = format!("id={}", seal_raw(mode, &key, "id", &ours));
            assert_opens(&engine, &cookie, "alice").await;

            let random: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
            let encode = |version: u8, id: &str| {
                URL_SAFE_NO_PAD.encode(
                    bincode::serde::encode_to_vec((version, id, &record), config).expect("bincode"),
                )
            };
            let mut trailing = URL_SAFE_NO_PAD.decode(&ours).expect("b64");
            trailing.extend_from_slice(b"more");
            let texts = [
                ("plain text", "hello world".to_owned()),
                ("empty", String::new()),
                ("not base64", "not base64!".to_owned()),
                ("random bytes", URL_SAFE_NO_PAD.encode(&random)),
                ("version 0", encode(0, id.as_str())),
                ("version 2", encode(2, id.as_str())),
                ("an id the scheme refuses", encode(1, "../wrong")),
                ("trailing bytes", URL_SAFE_NO_PAD.encode(&trailing)),
                ("a JSON record", "{\"user\":\"alice\"}".to_owned()),
                (
                    "the id alone",
                    URL_SAFE_NO_PAD.encode(
                        bincode::serde::encode_to_vec((1u8, id.as_str()), config).expect("bincode"),
                    ),
                ),
            ];
            for (what, text) in texts {
                let cookie = format!("id={}", seal_raw(mode, &key, "id", &text));
                assert_fresh(&engine, &cookie, &format!("{mode:?}: {what}")).await;
            }
        }
    });
}
