//! Key rotation: the current key seals, older keys still open, and what they open is sealed
//! again with the current key.

use super::{MODES, assert_fresh, assert_opens, commit, engine, key, new_session, open, pair};
use crate::tests::block_on;
use crate::{SealKey, SealMode, SealedCookie};

/// A sealed cookie sealing with `current` and opening with `old` too, in that order.
fn rotated(mode: SealMode, current: &SealKey, old: &[&SealKey]) -> SealedCookie {
    old.iter()
        .fold(
            SealedCookie::builder(current.clone()).mode(mode),
            |builder, key| builder.old_key((*key).clone()),
        )
        .build()
}

#[test]
fn an_old_key_opens_and_the_commit_seals_again_with_the_current_one() {
    block_on(async {
        for mode in MODES {
            let (k1, k2) = (key(), key());
            let (with_k1, _) = engine(rotated(mode, &k1, &[]));
            let old = new_session(&with_k1, &[("user", "alice")]).await;
            let sealed_k2 = rotated(mode, &k2, &[]);
            let (only_k2, _) = engine(sealed_k2.clone());
            let (rotating, _) = engine(rotated(mode, &k2, &[&k1]));

            // A read-only request: the old key opens it, and the response seals it with K2.
            let session = assert_opens(&rotating, &old, "alice").await;
            let id = session.id().await.expect("id").expect("an id");
            let new = pair(&commit(&rotating, &session).await);
            assert_ne!(new, old);
            assert_eq!(open(&sealed_k2, &new).expect("K2 opens it").id, id.as_str());

            // K2 alone opens the new cookie (same session) but not the old one.
            let session = assert_opens(&only_k2, &new, "alice").await;
            assert_eq!(session.id().await.expect("id"), Some(id));
            assert!(commit(&only_k2, &session).await.is_empty(), "read-only");
            assert_fresh(&only_k2, &old, &format!("{mode:?}: K1 cookie, K2 only")).await;

            // Opened with the current key: a read-only request sends nothing.
            let session = assert_opens(&rotating, &new, "alice").await;
            assert!(commit(&rotating, &session).await.is_empty(), "no reseal");

            // Opened with an old key but skip_store: nothing either.
            let session = assert_opens(&rotating, &old, "alice").await;
            session.skip_store();
            assert!(commit(&rotating, &session).await.is_empty(), "skip_store");
        }
    });
}

#[test]
fn several_old_keys_open_in_any_order() {
    block_on(async {
        for mode in MODES {
            let (k1, k2, k3) = (key(), key(), key());
            let (e1, _) = engine(rotated(mode, &k1, &[]));
            let (e2, _) = engine(rotated(mode, &k2, &[]));
            let c1 = new_session(&e1, &[("user", "one")]).await;
            let c2 = new_session(&e2, &[("user", "two")]).await;
            let sealed_k3 = rotated(mode, &k3, &[]);
            for order in [[&k2, &k1], [&k1, &k2]] {
                let (rotating, _) = engine(rotated(mode, &k3, &order));
                for (cookie, user) in [(&c1, "one"), (&c2, "two")] {
                    let session = assert_opens(&rotating, cookie, user).await;
                    let new = pair(&commit(&rotating, &session).await);
                    let reopened = open(&sealed_k3, &new).expect("sealed with K3");
                    assert_eq!(reopened.record.data.len(), 1);
                }
            }
            // A key dropped from the list no longer opens its sessions.
            let (without_k1, _) = engine(rotated(mode, &k3, &[&k2]));
            assert_opens(&without_k1, &c2, "two").await;
            assert_fresh(&without_k1, &c1, &format!("{mode:?}: K1 dropped")).await;
            let (unrelated, _) = engine(rotated(mode, &key(), &[&k3]));
            assert_fresh(&unrelated, &c1, &format!("{mode:?}: unknown key")).await;
        }
    });
}
