//! The demo exactly as its binary serves it: `demo::bind` with the parsed command line, for each
//! `--framework`, answering the counter, `/static` and the logout over real TCP; with the default
//! store, with the sealed cookie store (`--store cookie`) and with Redis (`--store redis`).

use std::time::{Duration, Instant};

use session_examples::demo::{self, Args};
use session_store_redis::testing::RedisServer;
use session_tests::counter_body;
use session_tests::redis::{key_of, keys};
use session_tests::sealed::random_seal_key;

/// The contract of `demo` with `--framework FRAMEWORK` and the `extra` options.
async fn serves_the_contract(framework: &str, extra: &[&str]) {
    let mut words = vec![
        "--framework",
        framework,
        "--addr",
        "127.0.0.1:0",
        "--secure",
        "false",
        "--session-key",
        "sid",
    ];
    words.extend_from_slice(extra);
    let args = Args::parse(words.iter().map(|w| w.to_string())).expect("valid options");
    let (addr, serving) = demo::bind(&args).await.expect("bind a loopback port");
    // The actix-web server has worker threads of its own: it lives until the test binary exits.
    let server = tokio::spawn(serving);
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client");
    let get = |path: &str, cookie: Option<&str>| {
        let mut request = client.get(format!("http://{addr}{path}"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send()
    };

    let first = get("/", None).await.expect("an answer");
    let set_cookie = first.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(set_cookie.starts_with("sid="), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "--secure false: {set_cookie}"
    );
    assert_eq!(first.text().await.expect("body"), counter_body(0));
    let cookie = set_cookie.split(';').next().expect("a pair").to_owned();

    let second = get("/", Some(&cookie)).await.expect("an answer");
    assert_eq!(second.text().await.expect("body"), counter_body(1));

    let page = get("/static", Some(&cookie)).await.expect("an answer");
    assert!(page.headers().get("set-cookie").is_none());
    assert_eq!(page.text().await.expect("body"), "static");

    let logout = get("/logout", Some(&cookie)).await.expect("an answer");
    let removal = logout.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    let after = get("/", Some(&cookie)).await.expect("an answer");
    assert_eq!(after.text().await.expect("body"), counter_body(0));

    assert!(!server.is_finished(), "the server stopped early");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_axum() {
    serves_the_contract("axum", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_on_actix() {
    serves_the_contract("actix", &[]).await;
}

/// `--store redis --redis-url URL --redis-prefix P`: the same contract, the session in Redis
/// under the prefix, named by the id's digest.
async fn serves_the_redis_contract(framework: &str) {
    let redis = RedisServer::start();
    let url = redis.url();
    let extra = [
        "--store",
        "redis",
        "--redis-url",
        &url,
        "--redis-prefix",
        "bind:",
    ];
    serves_the_contract(framework, &extra).await;
    // The logout removed its session; the counter after it started the one key left.
    let left = keys(&url).await;
    assert!(left.len() == 1 && left[0].starts_with("bind:"), "{left:?}");

    let args = Args::parse(extra.iter().map(|w| w.to_string())).expect("valid options");
    let args = Args {
        addr: "127.0.0.1:0".parse().expect("an address"),
        ..args
    };
    let (addr, serving) = demo::bind(&args).await.expect("bind");
    let server = tokio::spawn(serving);
    let reply = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client")
        .get(format!("http://{addr}/set/a/1"))
        .send()
        .await
        .expect("an answer");
    let set_cookie = reply.headers()["set-cookie"].to_str().expect("ascii");
    let id = set_cookie
        .strip_prefix("id=")
        .and_then(|rest| rest.split(';').next())
        .expect("the default cookie name");
    let now = keys(&url).await;
    assert!(
        now.len() == 2 && now.contains(&key_of("bind:", id)),
        "{now:?}"
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_demo_on_axum() {
    serves_the_redis_contract("axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_demo_on_actix() {
    serves_the_redis_contract("actix").await;
}

/// `--store redis` needs `--redis-url`; the synchronous builder points to the async one; and a
/// Redis that cannot be reached stops `demo::bind` at once with a message naming the URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_options_are_checked_and_a_down_redis_stops_the_start() {
    let parse = |words: &[&str]| Args::parse(words.iter().map(|w| w.to_string()));
    let missing = parse(&["--store", "redis"]).expect_err("refused");
    assert!(missing.contains("--redis-url"), "{missing}");

    let mut redis = RedisServer::start();
    let url = redis.url();
    let args = parse(&[
        "--store",
        "redis",
        "--redis-url",
        &url,
        "--addr",
        "127.0.0.1:0",
    ])
    .expect("valid options");
    let sync = demo::engine_builder(&args).map(drop).expect_err("refused");
    assert!(sync.contains("engine_builder_async"), "{sync}");
    assert!(demo::engine_builder_async(&args, None, None).await.is_ok());

    redis.stop();
    let started = Instant::now();
    let down = match demo::bind(&args).await {
        Ok((addr, _)) => panic!("the demo started on {addr} with Redis down"),
        Err(error) => error.to_string(),
    };
    let took = started.elapsed();
    assert!(
        down.contains("cannot use Redis at") && down.contains(&url),
        "{down}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");

    let bad = parse(&[
        "--store",
        "redis",
        "--redis-url",
        "http://127.0.0.1/",
        "--addr",
        "127.0.0.1:0",
    ])
    .expect("parsed");
    let refused = demo::bind(&bad).await.map(drop).expect_err("refused");
    assert!(
        refused.to_string().contains("invalid Redis connection"),
        "{refused}"
    );
}

/// `--store cookie --seal-key K`: the counter counts with a client that sends back the latest
/// cookie (its value changes on every write), under the name and attributes asked for.
async fn serves_the_sealed_contract(framework: &str) {
    let key = random_seal_key();
    let words = [
        "--framework",
        framework,
        "--addr",
        "127.0.0.1:0",
        "--store",
        "cookie",
        "--seal-key",
        &key,
        "--seal-mode",
        "private",
        "--secure",
        "false",
        "--session-key",
        "sid",
    ];
    let args = Args::parse(words.iter().map(|w| w.to_string())).expect("valid options");
    let (addr, serving) = demo::bind(&args).await.expect("bind a loopback port");
    let server = tokio::spawn(serving);
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a client");

    let mut cookie: Option<String> = None;
    for n in 0..3 {
        let mut request = client.get(format!("http://{addr}/"));
        if let Some(cookie) = &cookie {
            request = request.header("cookie", cookie);
        }
        let reply = request.send().await.expect("an answer");
        let set_cookie = reply.headers()["set-cookie"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(set_cookie.starts_with("sid="), "{set_cookie}");
        assert!(
            !set_cookie.contains("Secure"),
            "--secure false: {set_cookie}"
        );
        assert_eq!(reply.text().await.expect("body"), counter_body(n));
        cookie = Some(set_cookie.split(';').next().expect("a pair").to_owned());
    }
    let page = client
        .get(format!("http://{addr}/static"))
        .header("cookie", cookie.as_deref().expect("a cookie"))
        .send()
        .await
        .expect("an answer");
    assert!(page.headers().get("set-cookie").is_none());

    assert!(!server.is_finished(), "the server stopped early");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_demo_on_axum() {
    serves_the_sealed_contract("axum").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealed_demo_on_actix() {
    serves_the_sealed_contract("actix").await;
}

#[test]
fn sealed_store_options_are_checked() {
    let engine = |words: &[&str]| {
        let args = Args::parse(words.iter().map(|w| w.to_string())).expect("parsed");
        demo::engine_builder(&args).map(drop)
    };
    let key = random_seal_key();
    assert!(engine(&["--store", "cookie"]).is_ok(), "a key per process");
    assert!(
        engine(&[
            "--store",
            "cookie",
            "--seal-key",
            &key,
            "--seal-old-key",
            &key
        ])
        .is_ok()
    );
    let param = engine(&["--store", "cookie", "--state", "param"]).expect_err("refused");
    assert!(param.contains("--state cookie"), "{param}");
    let short = engine(&["--store", "cookie", "--seal-key", "c2hvcnQ="]).expect_err("refused");
    assert!(short.contains("--seal-key"), "{short}");
    let old = engine(&["--store", "cookie", "--seal-old-key", &key]).expect_err("refused");
    assert!(old.contains("--seal-old-key"), "{old}");
    let mode = Args::parse(["--seal-mode", "plain"].map(String::from).into_iter());
    assert!(mode.expect_err("refused").contains("plain"));
}

#[test]
fn unknown_framework_is_a_clear_error() {
    let words = ["--framework", "rocket"].map(String::from);
    let error = Args::parse(words.into_iter()).expect_err("refused");
    assert!(error.contains("rocket"), "{error}");
}

#[test]
fn same_site_option_is_checked() {
    let engine = |words: &[&str]| {
        let args = Args::parse(words.iter().map(|w| w.to_string())).expect("parsed");
        demo::engine_builder(&args).map(drop)
    };
    for value in ["lax", "strict", "none"] {
        assert!(engine(&["--same-site", value]).is_ok(), "{value}");
    }
    let insecure = engine(&["--same-site", "none", "--secure", "false"]).expect_err("refused");
    assert!(insecure.contains("cookie settings"), "{insecure}");
    let words = ["--same-site", "sometimes"].map(String::from);
    let error = Args::parse(words.into_iter()).expect_err("refused");
    assert!(error.contains("sometimes"), "{error}");
}
