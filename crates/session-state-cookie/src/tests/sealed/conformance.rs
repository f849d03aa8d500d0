//! The conformance kit's Plack scenarios, with the sealed cookie in both modes
//! (`Expect::ClientSide`).

use session_conformance::{CookieCarrier, Expect, plack_counter, plack_scenario};
use session_core::Engine;

use super::{MODES, key};
use crate::tests::block_on;
use crate::{CookieState, SealedCookie};

#[test]
fn plack_scenario_and_counter_in_both_modes() {
    block_on(async {
        for mode in MODES {
            for name in ["id", "__Host-s"] {
                let sealed = SealedCookie::builder(key())
                    .mode(mode)
                    .cookie(CookieState::new(name).expect("valid"))
                    .build();
                let engine = Engine::client_side(sealed);
                let carrier = CookieCarrier::new(name);
                let report = plack_scenario(&engine, &carrier, Expect::ClientSide).await;
                assert_eq!(report.passed().len(), 9, "{mode:?} {name}: {report}");
                let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
                assert_eq!(
                    skipped,
                    ["plack step 7: id A is not adopted after expiry"],
                    "{mode:?} {name}: {report}"
                );
                let report = plack_counter(&engine, &carrier, Expect::ClientSide).await;
                assert!(report.skipped().is_empty(), "{report}");
            }
        }
    });
}

#[test]
#[should_panic(expected = "the engine keeps sessions with the client")]
fn the_persistent_expectation_is_refused_for_a_sealed_cookie() {
    block_on(async {
        let engine = Engine::client_side(SealedCookie::new(key()));
        plack_scenario(&engine, &CookieCarrier::new("id"), Expect::Persistent).await;
    });
}
