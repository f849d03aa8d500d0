//! Untouched routes: `/static` never calls the store, whether it fails or hangs.

use session_tests::{Fault, Framework};

use super::rig::{LIMIT, assert_bare_500, rig};

/// With every operation failing, then hanging, `/static` answers 200 with no `Set-Cookie` and no
/// store call, with or without a session cookie; a session route meanwhile is a bare 500.
async fn untouched_routes_never_notice(framework: Framework) {
    let rig = rig(framework, Some(LIMIT)).await;
    let id = rig.session().await;
    for fault in [Fault::Fail, Fault::Hang] {
        rig.fault.set_all(fault);
        let what = format!("store {fault:?}");
        rig.assert_static_untouched(&id, &what).await;
        assert_bare_500(&rig.get("/get/a", Some(&id)).await, &what);
        rig.assert_static_untouched(&id, &what).await;
    }
    rig.still_serving().await;
}

session_tests::per_framework!(untouched_routes_never_notice);
