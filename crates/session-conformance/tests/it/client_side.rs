//! The scenarios with a client-side store (`Expect::ClientSide`), and what the kit reports for one.

use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use session_conformance::{
    CookieCarrier, Expect, ParamCarrier, check_store, check_store_with, plack_counter,
    plack_scenario,
};
use session_core::state::{Delivery, RequestView};
use session_core::store::{ClientStore, Opened, Record, StoreError, Unsealed};
use session_core::{Engine, Id, MemoryStore, ParamState};

/// The cookie's name.
const NAME: &str = "cs";

/// A client-side store with no crypto at all (the real one is `session-state-cookie`'s
/// `SealedCookie`): the session as hex-encoded JSON in the cookie `cs`. `forgetful` makes it a
/// broken one that never opens what it sealed; `sticky` one whose removal removes nothing.
#[derive(Debug, Default)]
struct HexCookie {
    forgetful: bool,
    sticky: bool,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl ClientStore for HexCookie {
    fn open(&self, request: &RequestView<'_>, accept: &mut dyn FnMut(&Unsealed) -> bool) -> Opened {
        let mut sent = false;
        for header in request.headers().get_all(COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            for pair in header.split(';') {
                let Some((name, value)) = pair.trim().split_once('=') else {
                    continue;
                };
                if name != NAME {
                    continue;
                }
                sent = true;
                if self.forgetful {
                    continue;
                }
                let decoded = unhex(value)
                    .and_then(|bytes| serde_json::from_slice::<(String, Record)>(&bytes).ok());
                if let Some((id, record)) = decoded {
                    let unsealed = Unsealed::new(id, record, false);
                    if accept(&unsealed) {
                        return Opened::Session(unsealed);
                    }
                }
            }
        }
        if sent {
            Opened::Refused
        } else {
            Opened::Nothing
        }
    }

    fn seal(
        &self,
        id: &Id,
        record: &Record,
        _delivery: &Delivery,
        headers: &mut HeaderMap,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_vec(&(id.as_str(), record)).map_err(StoreError::backend)?;
        let value = format!("{NAME}={}; Path=/", hex(&json));
        headers.append(
            SET_COOKIE,
            HeaderValue::from_str(&value).map_err(StoreError::backend)?,
        );
        Ok(())
    }

    fn expire(&self, headers: &mut HeaderMap) {
        if !self.sticky {
            headers.append(
                SET_COOKIE,
                HeaderValue::from_static("cs=; Path=/; Max-Age=0"),
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_scenario_with_a_client_side_store() {
    let engine = Engine::client_side(HexCookie::default());
    let report = plack_scenario(&engine, &CookieCarrier::new(NAME), Expect::ClientSide).await;
    assert_eq!(report.passed().len(), 9, "{report}");
    assert!(
        report.passed().contains(
            &"plack step 7 (client-side): the expired session's value, replayed, still opens as A"
        ),
        "{report}"
    );
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    assert_eq!(
        skipped,
        ["plack step 7: id A is not adopted after expiry"],
        "{report}"
    );
    assert!(report.skipped()[0].reason.contains("cannot be revoked"));
    assert!(report.to_string().contains("skipped: plack step 7"));
}

#[tokio::test(flavor = "multi_thread")]
async fn plack_counter_with_a_client_side_store() {
    let engine = Engine::client_side(HexCookie::default());
    let report = plack_counter(&engine, &CookieCarrier::new(NAME), Expect::ClientSide).await;
    assert!(report.skipped().is_empty(), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_store_contracts_are_all_reported_skipped_for_a_client_side_store() {
    let checked = check_store(MemoryStore::default).await;
    let report = check_store_with(Expect::ClientSide, || -> MemoryStore {
        panic!("make must not be called for a client-side store")
    })
    .await;
    assert!(report.passed().is_empty(), "{report}");
    let skipped: Vec<_> = report.skipped().iter().map(|s| s.contract).collect();
    assert_eq!(skipped, checked.passed(), "every contract, in order");
    let reason = |name: &str| {
        report
            .skipped()
            .iter()
            .find(|s| s.contract == name)
            .map(|s| s.reason)
            .expect("listed")
    };
    assert!(reason("no write brings a deleted session back").contains("revocation"));
    assert!(reason("concurrent applies keep every write").contains("concurrent"));
    assert!(reason("create never overwrites a live record").contains("collisions"));
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "scenario \"the expectation fits the engine\" failed: the engine keeps")]
async fn a_client_side_engine_needs_expect_client_side() {
    let engine = Engine::client_side(HexCookie::default());
    plack_scenario(&engine, &CookieCarrier::new(NAME), Expect::Persistent).await;
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "Expect::ClientSide needs an engine built with Engine::client_side")]
async fn expect_client_side_needs_a_client_side_engine() {
    let engine = Engine::new(ParamState::default(), MemoryStore::default());
    plack_counter(&engine, &ParamCarrier::default(), Expect::ClientSide).await;
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(expected = "Expect::ClientSide needs a carrier that reads it from the response")]
async fn expect_client_side_needs_a_carrier_that_reads_responses() {
    let engine = Engine::client_side(HexCookie::default());
    plack_scenario(&engine, &ParamCarrier::default(), Expect::ClientSide).await;
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(
    expected = "scenario \"plack step 1: no id starts session A\" failed: the session value the response gave does not open"
)]
async fn a_client_side_store_that_cannot_open_its_own_cookie_fails() {
    let engine = Engine::client_side(HexCookie {
        forgetful: true,
        ..HexCookie::default()
    });
    plack_scenario(&engine, &CookieCarrier::new(NAME), Expect::ClientSide).await;
}

#[tokio::test(flavor = "multi_thread")]
#[should_panic(
    expected = "scenario \"plack step 6: id A expires\" failed: the response did not remove the id"
)]
async fn a_client_side_store_whose_removal_removes_nothing_fails() {
    let engine = Engine::client_side(HexCookie {
        sticky: true,
        ..HexCookie::default()
    });
    plack_scenario(&engine, &CookieCarrier::new(NAME), Expect::ClientSide).await;
}
