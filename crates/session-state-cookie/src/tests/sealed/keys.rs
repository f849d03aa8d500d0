//! Keys: lengths, repetitive material, base64, and `Debug` output that shows no secret.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use session_core::Opened;

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
            key.key().signing().to_vec(),
            key.key().encryption().to_vec(),
            old.key().signing().to_vec(),
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
