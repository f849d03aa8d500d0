//! Cookies sealed by the first release (the `cookie` crate's jars around a bincode payload), pinned
//! with their key and clock: they must keep opening, to the same session, after any change to the
//! format.

use std::time::Duration;

use session_core::store::Record;
use session_core::subject::{Binding, Handle};
use session_core::{Lifetime, Value};

use super::{START, assert_opens, commit, engine, open, pair, sealed, value_of};
use crate::tests::block_on;
use crate::{SealKey, SealMode};

/// The key material the fixtures were sealed with (`SealKey::from_bytes`).
fn fixture_key() -> SealKey {
    let material: Vec<u8> = (0..64).map(|i| (i * 37 + 11) as u8).collect();
    SealKey::from_bytes(&material).expect("key")
}

/// The session id every fixture carries.
const ID: &str = "lMaxNu6vW9_QbSN5V-7KzhyMOoSK5l-2N9qHzum7XJU";

/// The bound fixtures' handle.
const HANDLE: &str = "ebi2KdzXi7NnhF31BLVMcA";

/// The CSRF token every fixture holds.
const CSRF: &str = "q7ZK2mVx9LbR4tWc8NfH3sJd6PgY0uEa";

/// `(mode, what, cookie)`: `plain` is payload version 1, `persistent` version 1 with a lifetime of
/// its own, `bound` version 2; all under the default name `id`.
const FIXTURES: [(SealMode, &str, &str); 6] = [
    (
        SealMode::Private,
        "plain",
        "id=A/RtqTEjikNRHufBD8swnA2IHMyyMD/5DZPcuZDu+zTV17G/lvayOHnewk3UXxIiTUBI5k7CYEWfRRVt7E70KvmH\
         +kenV6s4z3uAsRfnvb9AOMbqtw2ZKjES75TRI4shVSnbl6hMXVN8hvelPOd9vL7DICDz/t5cSA7Rlw0hHGG/NsTEw\
         j7I7XHK129ZzT9AUQRcMVFXfUlMtRxwsZnZhE/G55qyDBWAkHCUvQ9pAb+cFL3pGNOxnshrTEO9Ufwxpxm3cJ+hWst\
         +6cDcDUFmGKgh/Q==",
    ),
    (
        SealMode::Private,
        "persistent",
        "id=PZHTPziqaHuJD7dD/Xrub+ymxlCpmHuON3gauyS6DfrKRmYEGpP4PqXrc2LSKseopbVAxfmF2pwIpyMCpX+BttWA\
         bU/9cyd5dGXG4eBtJ2LGmqVWec1GKAxL2bkEJO/t0kezPb1tlcSMHtY9R5YwBH9xygwsFw5o5NnpwqU0Xw4YSTcFiN\
         dzPSmt3cSfS7eWqGXAUtUdZOa1WWHkggryt0upg8UfbLIIc45D+bC3bsDu4GyNnhyjcAE9N3RhfhixIoaKz12FabfT\
         EpJX3UKqUfdkm3KVaCV9XnZ9",
    ),
    (
        SealMode::Private,
        "bound",
        "id=1Tf3XO6zg6qLCOnY0In8MvVanCa+Ga7pF+woaA+injEtFcrRQwengoDK5kCHKQU6U1/JEjlVXMzLJw6IbfSknUiF\
         PzD7/fDelCDVwI3RtEWxA2AEdgwCSHOEjuXch5iYPTO+CRLQCn2wTGpR3W5UclcSi1gibIVa0Tyi4EHJ2lDmBydbnr\
         l8FqM2KNr1G+Ts1VK1KsV6LGXepy+EoQBn9L+xibGFXh7ZHjhekvUE9ebarr3VV+QTnaSMCRiYcSV2QL9uxIE1oKxw\
         ZcfIgDJ7Jp0ghX87qWxS3hsGdz4dpxEeZ3uITq3412sM/TZkWuSNCrmbzoThNqT4YAG1aXPqbjgXfCXTrN8h2nUfUu\
         wvSreEM5hFD9UvKb8LlZ4bElrOWpNxi9GXm6L+VR8=",
    ),
    (
        SealMode::Signed,
        "plain",
        "id=LNfZZKwRDKTX/DxINgZP6OjBW0hEoaB4t7sFVESCYwk=AStsTWF4TnU2dlc5X1FiU041Vi03S3poeU1Pb1NLNWwt\
         Mk45cUh6dW03WEpV_QBo5c-LAQAA_WBS5s-LAQAA_YBWHNCLAQAAAAMHY291bnRlcgExBGNzcmYiInE3WksybVZ4OU\
         xiUjR0V2M4TmZIM3NKZDZQZ1kwdUVhIgR1c2VyByJhbGljZSI",
    ),
    (
        SealMode::Signed,
        "persistent",
        "id=KiWgXk23yHZ8qc1gGKh2XT4sznfmFF6suFCiXLthAvE=AStsTWF4TnU2dlc5X1FiU041Vi03S3poeU1Pb1NLNWwt\
         Mk45cUh6dW03WEpV_QBo5c-LAQAA_WBS5s-LAQAA_YBWHNCLAQAAAfwAjScAAQMHY291bnRlcgExBGNzcmYiInE3Wk\
         sybVZ4OUxiUjR0V2M4TmZIM3NKZDZQZ1kwdUVhIgR1c2VyByJhbGljZSI",
    ),
    (
        SealMode::Signed,
        "bound",
        "id=ulYxt9HMMB+0dlU4Pjv7w12pP8fITeg+Byru5JroOA4=AitsTWF4TnU2dlc5X1FiU041Vi03S3poeU1Pb1NLNWwt\
         Mk45cUh6dW03WEpV_QBo5c-LAQAA_WBS5s-LAQAA_YBWHNCLAQAAAAMHY291bnRlcgExBGNzcmYiInE3WksybVZ4OU\
         xiUjR0V2M4TmZIM3NKZDZQZ1kwdUVhIgR1c2VyByJhbGljZSIHdXNlci00MhZlYmkyS2R6WGk3Tm5oRjMxQkxWTWNB\
         _QBo5c-LAQAAAQtNb3ppbGxhLzUuMAELMjAzLjAuMTEzLjc",
    ),
];

/// The record a fixture holds: created at [`START`], active a minute later, expiring an hour after
/// `START`; `counter` = 1, `user` = "alice", `csrf` = [`CSRF`].
fn expected(what: &str) -> Record {
    let mut record = Record::new(START, START.saturating_add(Duration::from_secs(3600)));
    record.last_active = START.saturating_add(Duration::from_secs(60));
    for (key, value) in [
        ("counter", Value::from_serialize(&1u64)),
        ("user", Value::from_serialize("alice")),
        ("csrf", Value::from_serialize(CSRF)),
    ] {
        record.data.insert(key.into(), value.expect("json"));
    }
    match what {
        "persistent" => {
            record.lifetime = Some(Lifetime::persistent(Duration::from_secs(30 * 86_400)));
        }
        "bound" => {
            let binding = Binding::restore(
                "user-42".into(),
                Handle::parse(HANDLE).expect("handle"),
                START,
                Some("Mozilla/5.0".into()),
                Some("203.0.113.7".into()),
            );
            record.binding = Some(Box::new(binding.expect("binding")));
        }
        _ => {}
    }
    record
}

#[test]
fn cookies_of_the_first_release_open_to_the_same_session() {
    for (mode, what, cookie) in FIXTURES {
        let unsealed = open(&sealed(mode, &fixture_key()), cookie)
            .unwrap_or_else(|| panic!("{mode:?} {what}: does not open"));
        assert_eq!(unsealed.id, ID, "{mode:?} {what}");
        assert_eq!(unsealed.record, expected(what), "{mode:?} {what}");
    }
}

#[test]
fn cookies_of_the_first_release_open_through_the_engine() {
    block_on(async {
        for (mode, what, cookie) in FIXTURES {
            if what == "bound" {
                // Adopted only after a revocation check: `revocation.rs`.
                continue;
            }
            let (engine, clock) = engine(sealed(mode, &fixture_key()));
            clock.advance(Duration::from_secs(120));
            let session = assert_opens(&engine, cookie, "alice").await;
            let id = session.id().await.expect("id").expect("an id");
            assert_eq!(id.as_str(), ID, "{mode:?} {what}");
            let csrf = session.get::<String>("csrf").await.expect("get");
            assert_eq!(csrf.as_deref(), Some(CSRF), "{mode:?} {what}");
        }
    });
}

/// A read-only request that opens a format 1 cookie seals it again, in format 2, as it does a
/// cookie sealed with an older key; the new cookie opens to the same session.
#[test]
fn cookies_of_the_first_release_are_sealed_again_in_format_2() {
    block_on(async {
        for (mode, what, cookie) in FIXTURES {
            if what == "bound" {
                continue;
            }
            let (engine, clock) = engine(sealed(mode, &fixture_key()));
            // A second after the fixture's last activity: no touch is due, only the format.
            clock.advance(Duration::from_secs(61));
            let session = assert_opens(&engine, cookie, "alice").await;
            let resealed = pair(&commit(&engine, &session).await);
            assert!(value_of(&resealed).starts_with('-'), "{mode:?} {what}");
            let unsealed = open(&sealed(mode, &fixture_key()), &resealed).expect("opens");
            assert_eq!(unsealed.id, ID, "{mode:?} {what}");
            assert!(!unsealed.reseal, "{mode:?} {what}");
            assert_eq!(unsealed.record.data, expected(what).data, "{mode:?} {what}");
            assert_eq!(unsealed.record.lifetime, expected(what).lifetime);
        }
    });
}

#[test]
fn cookies_of_the_first_release_do_not_open_elsewhere() {
    for (mode, what, cookie) in FIXTURES {
        let other = match mode {
            SealMode::Private => SealMode::Signed,
            _ => SealMode::Private,
        };
        assert!(
            open(&sealed(other, &fixture_key()), cookie).is_none(),
            "{mode:?} {what}: opened in the other mode"
        );
        assert!(
            open(&sealed(mode, &super::key()), cookie).is_none(),
            "{mode:?} {what}: opened with another key"
        );
        let renamed = cookie.replacen("id=", "sid=", 1);
        let sid = crate::SealedCookie::builder(fixture_key())
            .mode(mode)
            .cookie(crate::CookieState::new("sid").expect("valid"))
            .build();
        assert!(
            open(&sid, &renamed).is_none(),
            "{mode:?} {what}: opened under another name"
        );
    }
}
