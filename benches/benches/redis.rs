//! End to end over sockets, with Redis: requests per second of the counter route.
//!
//! The route is `GET /`: read `counter`, write `counter + 1`, answer "Hello, you've been here for
//! {n}th time!". It is served by real HTTP servers on loopback ports, all against one private
//! `redis-server` started for the run.
//!
//! Contenders, each run in turn with the same load:
//!
//! - `floor-redis`: no HTTP at all, a raw redis client (the redis crate's `ConnectionManager`, one
//!   multiplexed connection, as `RedisStore` uses) sending per request what `RedisStore` sends for
//!   this route: `HGETALL`, then `EVALSHA` of a script making the same calls as the store's `apply`
//!   script does here (one `HMGET`, one `HSET` of `v:counter`, `last_active`, `expires` and the
//!   size). The most any Redis-backed server could do with this Redis.
//! - `floor-axum`, `floor-actix`: the route with no session at all (it formats the same body),
//!   behind axum and behind actix-web: what HTTP alone costs with this load driver.
//! - `ours-axum`: this project's `session_tower::SessionLayer` (default `CookieState`) over
//!   `RedisStore`, in axum.
//! - `tower-sessions`: tower-sessions' `SessionManagerLayer` (defaults) over
//!   tower-sessions-redis-store's `RedisStore` on a fred `Client` (one connection), in axum.
//! - `ours-actix`: this project's `session_actix::SessionMiddleware` over `RedisStore`, in
//!   actix-web.
//! - `ours-axum-cached`, `ours-actix-cached`: the same with the store's client-side cache
//!   (`ClientCache`): reads of a session this process last wrote or read are served from memory,
//!   so the counter route makes one round trip (the apply) and the read route none.
//! - `actix-session`: actix-session's `SessionMiddleware` (defaults, fresh key) over its
//!   `RedisSessionStore` (the redis crate 0.32, one `ConnectionManager`), in actix-web.
//!
//! Every Redis-backed contender talks to Redis over one connection, multiplexed or pipelined by its
//! client. The axum servers run on a Tokio runtime with 2 worker threads; the actix servers run
//! with 2 workers, their Redis connections driven by the actix system thread (as in an
//! `#[actix_web::main]` application). The load driver runs in the same process on a Tokio runtime
//! of its own: `CONNECTIONS` keep-alive HTTP/1.1 connections (hyper's client), each one a browser
//! with a session of its own (the first request, without a cookie, creates it; later requests
//! send the cookie back and follow any `Set-Cookie`), each sending its next request as soon as the
//! last response is read. Every response is checked: status 200 and the body with the counter this
//! connection expects.
//!
//! Round trips are measured, not assumed: `INFO commandstats` from a side connection before and
//! after each contender's run, divided by the requests it served. Commands that Redis runs inside
//! a script (`redis.call`) are counted by Redis as well; they are shown apart, since they cost no
//! round trip.
//!
//! Run with `cargo bench -p session-benches --bench redis` (about a minute: 1 s of warm-up and 5 s
//! of measurement per contender, 32 connections; `SESSION_BENCH_SECS` and
//! `SESSION_BENCH_CONNECTIONS` change those). Without `--bench` (as `cargo test --benches` runs
//! it), each contender runs for a moment with 4 connections, as a smoke test.
//!
//! `SESSION_BENCH_ROUTE=read` measures `GET /read` instead: the session's counter read, nothing
//! written (each connection's first request, outside the measurement, creates its session with
//! the counter at 1; every answer is then checked for that counter). The floor then sends only
//! the `HGETALL`.
//!
//! `SESSION_BENCH_VALUES=COUNTxBYTES` (`100x500`, `10x5000`) runs the route on a large session:
//! each session first gets COUNT more values of BYTES characters (`GET /fill/COUNT/BYTES`, outside
//! the measurement; the floor writes them into its hashes as the store lays them out).
//!
//! `SESSION_BENCH_SESSIONS=one` puts every connection on one session (the first connection's
//! first request creates it; answers are then checked for a counter, not for which one), where
//! concurrent requests contend for one hash. `SESSION_BENCH_PIN=shared` or `apart` pins the
//! servers to CPU 0 and Redis to CPU 0 (sharing the server's core) or CPU 1 (a core of its own,
//! with the load driver); see `session_benches::placement`.
//!
//! Client, servers and Redis share this machine's cores: the numbers compare the contenders with
//! one another in one run, not with a deployment.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use session_benches::apps;
use session_benches::filler;
use session_benches::load::{
    Client, HttpClient, Load, Outcome, drive, fill, hello, http_clients, http_clients_sharing,
    runtime,
};
use session_benches::placement::{Placement, pin_process, pin_thread};
use session_benches::redis::{ours_store, tower_sessions_store};
use session_benches::servers::{self, AxumServer};
use session_store_redis::testing::RedisServer;
use tokio::runtime::Runtime;

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970");
    u64::try_from(since.as_millis()).expect("milliseconds fit in u64")
}

/// The floor: what `RedisStore` sends Redis for the counter route, sent by a raw client.
mod floor {
    use std::sync::Arc;

    use redis::Script;
    use redis::aio::ConnectionManager;

    use super::*;

    /// The calls the store's `apply` script makes for this route.
    ///
    /// For a live session, no `clear`, nothing removed, the expiry within its minute: one `HMGET`
    /// (liveness, subject, size, the old counter), one `HSET` of the changed fields and the size,
    /// no `PEXPIRE`. `ARGV`: now, ttl, the number of pairs n, then the 2n field/values.
    const APPLY: &str = r"
local key, now = KEYS[1], tonumber(ARGV[1])
local f = redis.call('HMGET', key, 'expires', 'subject_key', 'size', 'v:counter')
local expires = tonumber(f[1])
if expires == nil or expires <= now then return 0 end
redis.call('HSET', key, 'size', 20, unpack(ARGV, 4, 3 + 2 * tonumber(ARGV[3])))
return 1
";

    /// The TTL every session is given: a day.
    const TTL_MS: u64 = 24 * 60 * 60 * 1000;

    /// One session's hash and the shared connection.
    pub(crate) struct RawClient {
        connection: ConnectionManager,
        script: Arc<Script>,
        key: String,
        expect: u64,
        read_only: bool,
    }

    /// Connects once and creates `load.connections` sessions, laid out as the store lays them out.
    ///
    /// Each one sends its first request outside the measurement.
    pub(crate) async fn clients(url: &str, load: Load) -> Vec<RawClient> {
        let client = redis::Client::open(url).expect("a redis URL");
        let connection = ConnectionManager::new(client).await.expect("a connection");
        let script = Arc::new(Script::new(APPLY));
        let mut clients = Vec::with_capacity(load.connections);
        for i in 0..load.connections {
            let key = format!("floor:{i:064x}");
            let now = now_ms();
            let mut create = redis::pipe();
            create
                .atomic()
                .hset_multiple(
                    &key,
                    &[
                        ("created", now.to_string()),
                        ("last_active", now.to_string()),
                        ("expires", (now + TTL_MS).to_string()),
                    ],
                )
                .ignore()
                .pexpire(&key, TTL_MS as i64)
                .ignore();
            if let Some((n, bytes)) = session_values() {
                // As the store lays values out: more than 8 in one `pack` field (each
                // `<name length>:<text length>:<name><text>`), fewer each in a `v:KEY` field.
                let values: Vec<(String, String)> = filler(n, bytes)
                    .map(|(name, value)| (name, format!("\"{value}\"")))
                    .collect();
                if values.len() > 8 {
                    let pack: String = values
                        .iter()
                        .map(|(name, json)| format!("{}:{}:{name}{json}", name.len(), json.len()))
                        .collect();
                    create.hset(&key, "pack", pack).ignore();
                } else {
                    let fields: Vec<(String, &String)> = values
                        .iter()
                        .map(|(name, json)| (format!("v:{name}"), json))
                        .collect();
                    create.hset_multiple(&key, &fields).ignore();
                }
            }
            let () = create
                .query_async(&mut connection.clone())
                .await
                .expect("the session is created");
            let mut client = RawClient {
                connection: connection.clone(),
                script: Arc::clone(&script),
                key,
                expect: 0,
                read_only: false,
            };
            client.request().await;
            client.read_only = reading();
            clients.push(client);
        }
        clients
    }

    impl Client for RawClient {
        async fn request(&mut self) {
            let fields: Vec<(String, String)> = redis::cmd("HGETALL")
                .arg(&self.key)
                .query_async(&mut self.connection)
                .await
                .expect("HGETALL");
            let n = fields
                .iter()
                .find(|(field, _)| field == "v:counter")
                .map_or(0, |(_, json)| json.parse::<u64>().expect("a number"));
            assert_eq!(n, self.expect, "the floor counts like the others");
            if self.read_only {
                black_box(hello(n));
                return;
            }
            let now = now_ms();
            let mut apply = self.script.prepare_invoke();
            apply
                .key(&self.key)
                .arg(now)
                .arg(TTL_MS)
                .arg(3)
                .arg("v:counter")
                .arg(n + 1)
                .arg("last_active")
                .arg(now)
                .arg("expires")
                .arg(now + TTL_MS);
            let done: i64 = apply
                .invoke_async(&mut self.connection)
                .await
                .expect("EVALSHA");
            assert_eq!(done, 1, "the session is live");
            self.expect += 1;
            black_box(hello(n));
        }
    }
}

/// Redis's own counters, read from a side connection.
mod stats {
    use super::*;

    /// Commands the scripts run inside Redis (`redis.call`).
    ///
    /// Counted by `INFO commandstats`, but no round trip. No contender sends these itself during a
    /// measured run.
    pub(crate) const IN_SCRIPTS: [&str; 14] = [
        "type",
        "exists",
        "hget",
        "hmget",
        "hset",
        "hstrlen",
        "pexpire",
        "unlink",
        "hkeys",
        "hdel",
        "zadd",
        "zrange",
        "zrem",
        "zremrangebyscore",
    ];
    /// Commands the scripts are sent with.
    const SCRIPT_CALLS: [&str; 3] = ["evalsha", "eval", "evalsha_ro"];

    /// Calls and microseconds per command, and the server's CPU seconds (user + system).
    #[derive(Clone, Debug, Default)]
    pub(crate) struct Snapshot {
        commands: BTreeMap<String, (u64, u64)>,
        cpu: f64,
    }

    /// What happened between two snapshots, per request served.
    #[derive(Debug)]
    pub(crate) struct PerRequest {
        /// Commands a client sent (each a round trip), per request, by name.
        pub(crate) sent: Vec<(String, f64)>,
        /// Commands run inside scripts, per request, by name.
        pub(crate) inside: Vec<(String, f64)>,
        /// Microseconds Redis spent executing the sent commands, per request.
        pub(crate) usec: f64,
        /// Redis's CPU time over the run, per second of the run (1.0 = one core).
        pub(crate) cpu_share: f64,
    }

    impl PerRequest {
        pub(crate) fn round_trips(&self) -> f64 {
            self.sent.iter().map(|(_, n)| n).sum()
        }
    }

    pub(crate) async fn snapshot(connection: &mut redis::aio::MultiplexedConnection) -> Snapshot {
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .arg("cpu")
            .query_async(connection)
            .await
            .expect("INFO");
        let mut snapshot = Snapshot::default();
        for line in info.lines() {
            if let Some(rest) = line.strip_prefix("cmdstat_") {
                let Some((name, fields)) = rest.split_once(':') else {
                    continue;
                };
                let field = |wanted: &str| {
                    fields
                        .split(',')
                        .filter_map(|pair| pair.split_once('='))
                        .find(|(key, _)| *key == wanted)
                        .and_then(|(_, value)| value.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                snapshot
                    .commands
                    .insert(name.to_owned(), (field("calls"), field("usec")));
            } else if let Some((key, value)) = line.split_once(':')
                && (key == "used_cpu_user" || key == "used_cpu_sys")
            {
                snapshot.cpu += value.trim().parse::<f64>().unwrap_or(0.0);
            }
        }
        snapshot
    }

    /// The difference `after - before` over `requests` requests and `elapsed` of wall time.
    ///
    /// It leaves out the `INFO` calls of the snapshots themselves.
    pub(crate) fn per_request(
        before: &Snapshot,
        after: &Snapshot,
        requests: u64,
        elapsed: Duration,
    ) -> PerRequest {
        let requests = requests.max(1) as f64;
        let scripts_ran = SCRIPT_CALLS.iter().any(|name| {
            after.commands.get(*name).map_or(0, |c| c.0)
                > before.commands.get(*name).map_or(0, |c| c.0)
        });
        let mut out = PerRequest {
            sent: Vec::new(),
            inside: Vec::new(),
            usec: 0.0,
            cpu_share: (after.cpu - before.cpu) / elapsed.as_secs_f64(),
        };
        for (name, &(calls, usec)) in &after.commands {
            let (calls_before, usec_before) = before.commands.get(name).copied().unwrap_or((0, 0));
            let calls = calls - calls_before;
            if calls == 0 || name == "info" {
                continue;
            }
            let entry = (name.to_uppercase(), calls as f64 / requests);
            if scripts_ran && IN_SCRIPTS.contains(&name.as_str()) {
                out.inside.push(entry);
            } else {
                out.sent.push(entry);
                out.usec += (usec - usec_before) as f64 / requests;
            }
        }
        out
    }
}

/// One contender's row of the table.
struct Row {
    name: &'static str,
    outcome: Outcome,
    redis: Option<stats::PerRequest>,
}

/// Runs `clients` (already set up) under `load`, with Redis counters around the run.
fn measure<C: Client>(
    driver: &Runtime,
    side: &mut redis::aio::MultiplexedConnection,
    name: &'static str,
    clients: Vec<C>,
    load: Load,
    uses_redis: bool,
) -> Row {
    driver.block_on(async {
        let before = stats::snapshot(side).await;
        let started = Instant::now();
        let (outcome, _) = drive(clients, load).await;
        let elapsed = started.elapsed();
        let after = stats::snapshot(side).await;
        let redis = uses_redis.then(|| stats::per_request(&before, &after, outcome.total, elapsed));
        eprintln!("  {name}: {:.0} req/s", outcome.rps);
        Row {
            name,
            outcome,
            redis,
        }
    })
}

/// Whether the route measured is `GET /read` (`SESSION_BENCH_ROUTE=read`: the session's counter
/// read, nothing written) rather than the counter (`counter`, the default).
fn reading() -> bool {
    match std::env::var("SESSION_BENCH_ROUTE").as_deref() {
        Ok("read") => true,
        Ok("counter") | Ok("") | Err(_) => false,
        Ok(other) => panic!("SESSION_BENCH_ROUTE={other}: expected read or counter"),
    }
}

/// Whether every connection has a session of its own (`SESSION_BENCH_SESSIONS` unset or `each`)
/// or all share one (`one`).
fn one_session() -> bool {
    match std::env::var("SESSION_BENCH_SESSIONS").as_deref() {
        Ok("one") => true,
        Ok("each") | Ok("") | Err(_) => false,
        Ok(other) => panic!("SESSION_BENCH_SESSIONS={other}: expected one or each"),
    }
}

/// `SESSION_BENCH_VALUES=COUNTxBYTES` (`100x500`): every session first gets COUNT more values
/// (`v0`, `v1`, ...) of BYTES characters, outside the measurement, so that the counter route runs
/// on a large session.
fn session_values() -> Option<(usize, usize)> {
    let text = std::env::var("SESSION_BENCH_VALUES")
        .ok()
        .filter(|v| !v.is_empty())?;
    let size = session_benches::values_size(&text);
    Some(size.unwrap_or_else(|| panic!("SESSION_BENCH_VALUES={text}: expected COUNTxBYTES")))
}

/// The clients of a contender at `addr`: see [`one_session`].
async fn clients_for(addr: std::net::SocketAddr, counting: bool, load: Load) -> Vec<HttpClient> {
    let mut clients = if counting && one_session() {
        http_clients_sharing(addr, load).await
    } else {
        http_clients(addr, counting, load).await
    };
    if counting && let Some(size) = session_values() {
        fill(&mut clients, size).await;
    }
    if counting && reading() {
        clients.iter_mut().for_each(HttpClient::read_only);
    }
    clients
}

/// The redis-server's process id, from `INFO server`.
async fn redis_pid(connection: &mut redis::aio::MultiplexedConnection) -> u32 {
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(connection)
        .await
        .expect("INFO server");
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .expect("INFO server has the process id")
}

fn main() {
    let load = Load::from_args();
    let placement = Placement::get();
    let redis_server = RedisServer::start();
    let url = redis_server.url();
    // The servers' runtime (axum) and the load driver's, both with 2 threads like the machine,
    // each built on the CPU its threads are to run on.
    pin_thread(placement.server_cpu());
    let servers = runtime(2);
    pin_thread(placement.driver_cpu());
    let driver = runtime(2);
    let mut side = driver.block_on(async {
        redis::Client::open(url.as_str())
            .expect("a redis URL")
            .get_multiplexed_async_connection()
            .await
            .expect("a side connection")
    });
    let pid = driver.block_on(redis_pid(&mut side));
    pin_process(pid, placement.redis_cpu());
    eprintln!(
        "redis bench: {} connections ({}), {:?} warm-up, {:?} measured per contender, redis at \
         {url}; {}",
        load.connections,
        if one_session() {
            "all on one session"
        } else {
            "a session each"
        },
        load.warm_up,
        load.measure,
        placement.describe()
    );

    let mut rows = Vec::new();

    let clients = driver.block_on(floor::clients(&url, load));
    rows.push(measure(
        &driver,
        &mut side,
        "floor-redis",
        clients,
        load,
        true,
    ));

    let axum_contenders = [
        ("floor-axum", false),
        ("ours-axum", true),
        ("ours-axum-cached", true),
        ("tower-sessions", true),
    ];
    let actix_contenders = [
        ("floor-actix", false),
        ("ours-actix", true),
        ("ours-actix-cached", true),
        ("actix-session", true),
    ];
    for (name, counting) in axum_contenders {
        let router = match name {
            "floor-axum" => servers::axum_floor(),
            "ours-axum" => apps::ours_axum(servers.block_on(ours_store(&url, false))),
            "ours-axum-cached" => apps::ours_axum(servers.block_on(ours_store(&url, true))),
            _ => apps::tower_sessions_axum(servers.block_on(tower_sessions_store(&url))),
        };
        let server = AxumServer::start(&servers, router);
        let clients = driver.block_on(clients_for(server.addr, counting, load));
        rows.push(measure(&driver, &mut side, name, clients, load, counting));
        server.stop();
    }

    for (name, counting) in actix_contenders {
        let server = match name {
            "floor-actix" => servers::actix_floor(),
            "ours-actix" | "ours-actix-cached" => {
                let (url, cached) = (url.clone(), name == "ours-actix-cached");
                apps::ours_actix(move || async move { ours_store(&url, cached).await })
            }
            _ => apps::actix_session_redis(url.clone()),
        };
        let clients = driver.block_on(clients_for(server.addr, counting, load));
        rows.push(measure(&driver, &mut side, name, clients, load, counting));
        server.stop(&driver);
    }

    print_table(&rows, load);
    drop(redis_server);
}

/// The results: one row per contender, then the ratios that answer the issue.
fn print_table(rows: &[Row], load: Load) {
    let rps = |name: &str| {
        rows.iter()
            .find(|row| row.name == name)
            .map_or(f64::NAN, |row| row.outcome.rps)
    };
    let floor_of = |name: &str| {
        if name.starts_with("floor") {
            None
        } else if name.contains("actix") {
            Some("floor-actix")
        } else {
            Some("floor-axum")
        }
    };
    println!();
    println!(
        "redis: {}, {} keep-alive connections, {}, {:?} measured after {:?} warm-up; {}",
        if reading() {
            "GET /read (read counter, write nothing)"
        } else {
            "GET / (read counter, write counter + 1)"
        },
        load.connections,
        if one_session() {
            "all on one session"
        } else {
            "one session each"
        },
        load.measure,
        load.warm_up,
        Placement::get().describe()
    );
    println!(
        "{:<17} {:>9} {:>8} {:>8} {:>13} {:>12} {:>7} {:>8} {:>6}  redis commands per request",
        "contender",
        "req/s",
        "p50 ms",
        "p99 ms",
        "vs HTTP floor",
        "+µs/req",
        "trips",
        "redis µs",
        "r-cpu"
    );
    for row in rows {
        let o = &row.outcome;
        let (vs, added) = match floor_of(row.name) {
            Some(floor) => (
                format!("{:.0}% {}", 100.0 * o.rps / rps(floor), &floor[6..]),
                format!("{:.1}", 1e6 / o.rps - 1e6 / rps(floor)),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        let (trips, usec, cpu, names) = match &row.redis {
            Some(r) => {
                let list = |items: &[(String, f64)]| {
                    items
                        .iter()
                        .map(|(name, n)| format!("{name} {n:.2}"))
                        .collect::<Vec<_>>()
                        .join(" + ")
                };
                let mut names = list(&r.sent);
                if !r.inside.is_empty() {
                    names.push_str(&format!(" (in scripts: {})", list(&r.inside)));
                }
                (
                    format!("{:.2}", r.round_trips()),
                    format!("{:.1}", r.usec),
                    format!("{:.0}%", 100.0 * r.cpu_share),
                    names,
                )
            }
            None => ("-".into(), "-".into(), "-".into(), "none".into()),
        };
        println!(
            "{:<17} {:>9.0} {:>8.2} {:>8.2} {:>13} {:>12} {:>7} {:>8} {:>6}  {}",
            row.name,
            o.rps,
            o.p50.as_secs_f64() * 1e3,
            o.p99.as_secs_f64() * 1e3,
            vs,
            added,
            trips,
            usec,
            cpu,
            names
        );
    }
    println!();
    for (ours, theirs) in [
        ("ours-axum", "tower-sessions"),
        ("ours-actix", "actix-session"),
        ("ours-axum-cached", "tower-sessions"),
        ("ours-actix-cached", "actix-session"),
        ("ours-axum-cached", "ours-axum"),
        ("ours-actix-cached", "ours-actix"),
        ("ours-axum", "floor-redis"),
        ("ours-actix", "floor-redis"),
    ] {
        println!(
            "{ours} / {theirs}: {:.2}x the requests per second",
            rps(ours) / rps(theirs)
        );
    }
    println!(
        "(trips: commands sent to Redis per request, each one round trip; redis µs: Redis's time \
         executing them; r-cpu: Redis's CPU over the run, 100% = one core; +µs/req: 1/req/s minus \
         the HTTP floor's, machine time added per request. Client, servers and Redis share the \
         machine's cores: {}.)",
        Placement::get().describe()
    );
}
