//! Keys: lengths, repetitive material, base64, and `Debug` output that shows no secret.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use session_core::store::Opened;

use super::{MODES, assert_opens, engine, new_session, open, sealed};
use crate::tests::block_on;
use crate::{KeyError, SealKey, SealedCookie};

/// `len` bytes with every value distinct (as far as 256 allows): acceptable key material.
fn material(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 + 11) as u8).collect()
}

/// `len` bytes cycling through `distinct` values.
fn cycling(len: usize, distinct: usize) -> Vec<u8> {
    (0..len).map(|i| (i % distinct) as u8 * 7).collect()
}

#[test]
fn short_keys_are_refused() {
    assert!(matches!(
        SealKey::from_bytes(&material(63)),
        Err(KeyError::TooShort { len: 63, min: 64 })
    ));
    assert!(SealKey::from_bytes(&material(64)).is_ok());
    assert!(
        SealKey::from_bytes(&material(100)).is_ok(),
        "longer is fine"
    );
    assert!(matches!(
        SealKey::derive_from(&material(31)),
        Err(KeyError::TooShort { len: 31, min: 32 })
    ));
    assert!(SealKey::derive_from(&material(32)).is_ok());
    assert!(matches!(
        SealKey::from_bytes(&[]),
        Err(KeyError::TooShort { len: 0, min: 64 })
    ));
}

#[test]
fn repetitive_keys_are_refused() {
    for bytes in [vec![7; 64], b"abcd".repeat(16), cycling(64, 15)] {
        assert!(
            matches!(SealKey::from_bytes(&bytes), Err(KeyError::NotRandom)),
            "{bytes:?} accepted"
        );
    }
    assert!(
        SealKey::from_bytes(&cycling(64, 16)).is_ok(),
        "16 distinct values"
    );
    let sentence = b"correct horse battery staple, correct horse battery staple!!!!!!";
    assert_eq!(sentence.len(), 64);
    assert!(matches!(
        SealKey::from_bytes(sentence),
        Err(KeyError::NotRandom)
    ));
    assert!(matches!(
        SealKey::derive_from(&[1; 32]),
        Err(KeyError::NotRandom)
    ));
    assert!(matches!(
        SealKey::derive_from(&cycling(32, 7)),
        Err(KeyError::NotRandom)
    ));
    assert!(SealKey::derive_from(&cycling(32, 8)).is_ok());
}

#[test]
fn base64_keys_round_trip_and_garbage_is_refused() {
    block_on(async {
        let bytes = material(64);
        for text in [
            STANDARD.encode(&bytes),
            STANDARD_NO_PAD.encode(&bytes),
            format!("  {}\n", STANDARD.encode(&bytes)),
        ] {
            let from_text = SealKey::from_base64(&text).expect("base64 key");
            let from_bytes = SealKey::from_bytes(&bytes).expect("key");
            // The same key: what one seals, the other opens.
            for mode in MODES {
                let (seals, _) = engine(sealed(mode, &from_text));
                let (opens, _) = engine(sealed(mode, &from_bytes));
                let cookie = new_session(&seals, &[("user", "alice")]).await;
                assert_opens(&opens, &cookie, "alice").await;
            }
        }
        assert!(matches!(
            SealKey::from_base64(""),
            Err(KeyError::TooShort { len: 0, min: 64 })
        ));
        for garbage in ["!!!!", "not base64 at all", "QUJD*"] {
            assert!(
                matches!(SealKey::from_base64(garbage), Err(KeyError::NotBase64)),
                "{garbage:?}"
            );
        }
        assert!(matches!(
            SealKey::from_base64(&STANDARD.encode(material(32))),
            Err(KeyError::TooShort { len: 32, min: 64 })
        ));
        assert!(matches!(
            SealKey::from_base64(&STANDARD.encode([0u8; 64])),
            Err(KeyError::NotRandom)
        ));
    });
}

/// Ways the key's bytes could show up in text.
fn renderings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let list = format!("{:?}", &bytes[..4]);
    vec![
        list.trim_end_matches(']').to_owned(),
        hex[..16].to_owned(),
        STANDARD_NO_PAD.encode(bytes)[..16].to_owned(),
    ]
}

#[test]
fn debug_output_shows_no_key_and_no_value() {
    block_on(async {
        let bytes = material(64);
        let key = SealKey::from_bytes(&bytes).expect("key");
        let old = SealKey::from_bytes(&material(80)[16..]).expect("key");
        let derived = [
            key.working()[..32].to_vec(),
            key.working()[32..].to_vec(),
            old.working()[..32].to_vec(),
        ];
        for mode in MODES {
            let sealed = SealedCookie::builder(key.clone())
                .mode(mode)
                .old_key(old.clone())
                .build();
            let (engine, _) = engine(sealed.clone());
            let cookie = new_session(&engine, &[("user", "alice-the-secret")]).await;
            let unsealed = open(&sealed, &cookie).expect("opens");
            let id = unsealed.id.clone();
            let texts = [
                format!("{key:?}"),
                format!("{old:?}"),
                format!("{sealed:?}"),
                format!("{sealed:#?}"),
                format!("{engine:?}"),
                format!("{unsealed:?}"),
                format!("{unsealed:#?}"),
                format!("{:?}", Opened::Session(unsealed)),
            ];
            assert_eq!(texts[0], "SealKey(..)");
            for text in texts {
                for secret in [&bytes[..], &material(80)[16..]]
                    .into_iter()
                    .chain(derived.iter().map(Vec::as_slice))
                    .flat_map(renderings)
                {
                    assert!(!text.contains(&secret), "{text} shows key bytes {secret}");
                }
                assert!(!text.contains("alice"), "{text} shows a value");
                assert!(!text.contains(&id[..8]), "{text} shows the id");
                assert!(
                    !text.contains(super::value_of(&cookie)),
                    "{text} shows the cookie"
                );
            }
        }
    });
}

/// The application signs or encrypts its own cookies with the same bytes it gave `SealKey` (one
/// `COOKIE_KEY` for everything): a cookie it sealed for an attacker-chosen value must not open as
/// a session. The working key is derived under this crate's own label, so it does not.
#[test]
fn a_key_shared_with_other_cookie_jars_cannot_forge_sessions() {
    use cookie::{Cookie, CookieJar};

    block_on(async {
        let raw = material(64);
        let shared = cookie::Key::from(&raw[..]);
        for mode in MODES {
            let key = SealKey::from_bytes(&raw).expect("key");
            let (engine, _) = engine(sealed(mode, &key));
            let genuine = new_session(&engine, &[("user", "alice")]).await;
            let session = assert_opens(&engine, &genuine, "alice").await;
            let id = session.id().await.expect("id").expect("stored");
            let record = {
                let mut record = session_core::store::Record::new(
                    session_core::store::Timestamp::from_millis(0),
                    session_core::store::Timestamp::from_millis(u64::MAX / 2),
                );
                record.data.insert(
                    "user".into(),
                    session_core::Value::from_serialize("admin").expect("json"),
                );
                record
            };
            let forged_text = crate::legacy::encode(&id, &record).expect("encode");
            // What the application's own jar would hand out for that text, under the session's
            // cookie name (private) or any name (signed, re-labelled as the signed mode lays out).
            let mut jar = CookieJar::new();
            let value = match mode {
                crate::SealMode::Private => {
                    jar.private_mut(&shared)
                        .add(Cookie::new("id", forged_text.clone()));
                    jar.get("id").expect("sealed").value().to_owned()
                }
                _ => {
                    jar.signed_mut(&shared)
                        .add(Cookie::new("prefs", format!("id={forged_text}")));
                    let signed = jar.get("prefs").expect("signed").value();
                    format!("{}{}", &signed[..44], &signed[44 + 3..])
                }
            };
            assert!(
                open(&sealed(mode, &key), &format!("id={value}")).is_none(),
                "{mode:?}: a value sealed with the raw shared key opened"
            );
        }
    });
}

/// `openssl rand -base64 64` writes its 88 characters on two lines; a key kept that way (or URL-safe)
/// is accepted, and means the same key.
#[test]
fn base64_keys_may_be_wrapped_or_url_safe() {
    use base64::engine::general_purpose::URL_SAFE;
    block_on(async {
        let raw = material(64);
        let text = STANDARD.encode(&raw);
        let wrapped = format!("{}\n{}\n", &text[..64], &text[64..]);
        let url_safe = URL_SAFE.encode(&raw);
        let reference = SealKey::from_bytes(&raw).expect("key");
        let (first, _) = engine(sealed(MODES[0], &reference));
        let cookie = new_session(&first, &[("user", "alice")]).await;
        for text in [wrapped, url_safe, format!("  {text}  ")] {
            let key = SealKey::from_base64(&text).expect("accepted");
            let (same, _) = engine(sealed(MODES[0], &key));
            assert_opens(&same, &cookie, "alice").await;
        }
    });
}

/// The `cookie` crate's `Key` (0.18) and actix-web's (cookie 0.16) give the key their master
/// bytes give: a session sealed under one opens under the others, in both modes; a key made of
/// patterned bytes is refused as from bytes.
#[cfg(feature = "cookie-key")]
#[test]
fn keys_from_the_cookie_crates_derive_as_their_master_bytes() {
    block_on(async {
        let master = material(64);
        let from_018 = SealKey::from_cookie_key(&cookie::Key::from(&master)).expect("a key");
        let from_016 = SealKey::from_bytes(cookie_016::Key::from(&master).master()).expect("a key");
        let from_bytes = SealKey::from_bytes(&master).expect("a key");
        assert_eq!(from_018.working(), from_bytes.working());
        assert_eq!(from_016.working(), from_bytes.working());
        assert_ne!(
            &from_bytes.working()[..],
            &master[..],
            "the working key is derived, not the master itself"
        );
        for mode in MODES {
            let (sealer, _) = engine(sealed(mode, &from_018));
            let cookie = new_session(&sealer, &[("user", "alice")]).await;
            for key in [&from_016, &from_bytes] {
                let (opener, _) = engine(sealed(mode, key));
                assert_opens(&opener, &cookie, "alice").await;
            }
        }
        let generated = cookie::Key::generate();
        assert!(SealKey::try_from(&generated).is_ok());
        assert!(matches!(
            SealKey::from_cookie_key(&cookie::Key::from(&[7; 64])),
            Err(KeyError::NotRandom)
        ));
    });
}
