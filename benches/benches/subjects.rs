//! What sessions per user cost, per store, through the engine (no sockets): a login against a
//! plain id change, and ending all of a user's sessions.
//!
//! - `login/STORE/cycle`: a request on a stored session (two values) that calls `cycle_id`: a
//!   new record under a new id, the old one deleted. Each iteration goes on from the id the last
//!   one left.
//! - `login/STORE/bind`: the same request calling `bind` instead (a login: the same id change,
//!   and the record bound, which indexes it). The difference to `cycle` is what binding adds.
//! - `end-all/STORE/N`: `Subjects::end_all` of a user with N live sessions (made before each
//!   iteration, not timed): one listing and N deletes.
//!
//! Stores: `memory` (`MemoryStore`), `cache` (moka `CacheStore`), `file` (`FileStore` under
//! `target/bench-subjects`, with fsync), `redis` (a `redis-server` started by the bench on
//! loopback), `postgres` (a PostgreSQL server started by the bench) and `sqlite` (a file under
//! `target/bench-subjects`). Requests that neither log in nor out pay nothing for this (unbound
//! records are written as before); the counter-route benches (`tower`, `actix`) measure them.
//!
//! Run with `cargo bench -p session-benches --bench subjects` (needs `redis-server` and
//! PostgreSQL's binaries, as the tests do).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Criterion;
use http::{HeaderMap, StatusCode};
use session_core::state::RequestView;
use session_core::store::Store;
use session_core::subject::Subjects;
use session_core::{Engine, Id, MemoryStore, ParamState};
use session_store_cache::CacheStore;
use session_store_file::FileStore;
use session_store_redis::RedisStore;
use session_store_redis::testing::RedisServer;
use session_store_sqlx::testing::PostgresServer;
use session_store_sqlx::{PgStore, SqliteStore};
use tokio::runtime::Runtime;

/// A scratch directory under the target directory.
fn bench_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("bench-subjects").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the bench directory");
    dir
}

/// One request on `id` (or a new session) running `handler`, committed: the id afterwards.
async fn request<F, Fut>(engine: &Engine, id: Option<&Id>, handler: F) -> Id
where
    F: FnOnce(session_core::Session) -> Fut,
    Fut: Future<Output = ()>,
{
    let headers = HeaderMap::new();
    let query = id.map(|id| format!("plack_session={}", id.as_str()));
    let session = engine.start(&RequestView::new(&headers, query.as_deref()));
    handler(session.clone()).await;
    engine
        .commit(&session, StatusCode::OK)
        .await
        .expect("commit");
    session.id().await.expect("id").expect("a stored session")
}

/// A stored session holding two values.
async fn seeded(engine: &Engine) -> Id {
    request(engine, None, |s| async move {
        s.insert("counter", 1).await.expect("insert");
        s.insert("user", "someone").await.expect("insert");
    })
    .await
}

/// A login as `user` on a new session.
async fn login(engine: &Engine, user: &str) -> Id {
    let user = user.to_owned();
    request(engine, None, |s| async move {
        s.bind(&user).await.expect("bind");
    })
    .await
}

/// The three benches of one store.
fn bench_store(c: &mut Criterion, rt: &Runtime, name: &str, store: Arc<dyn Store>) {
    let engine = Engine::new(ParamState::default(), store.clone());
    let mut group = c.benchmark_group(format!("login/{name}"));
    let mut id = rt.block_on(seeded(&engine));
    group.bench_function("cycle", |b| {
        b.iter(|| {
            id = rt.block_on(request(&engine, Some(&id), |s| async move { s.cycle_id() }));
        })
    });
    let mut id = rt.block_on(seeded(&engine));
    let user = format!("login-{name}");
    group.bench_function("bind", |b| {
        b.iter(|| {
            let user = user.clone();
            id = rt.block_on(request(&engine, Some(&id), |s| async move {
                s.bind(&user).await.expect("bind");
            }));
        })
    });
    group.finish();

    let mut group = c.benchmark_group(format!("end-all/{name}"));
    group.sample_size(10);
    group.sampling_mode(criterion::SamplingMode::Flat);
    for sessions in [1usize, 100] {
        let mut round = 0;
        group.bench_function(sessions.to_string(), |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    round += 1;
                    let user = format!("end-{name}-{sessions}-{round}");
                    rt.block_on(async {
                        for _ in 0..sessions {
                            login(&engine, &user).await;
                        }
                    });
                    let started = Instant::now();
                    let ended = rt
                        .block_on(Subjects::new(&*store).end_all(&user))
                        .expect("end all");
                    spent += started.elapsed();
                    assert_eq!(black_box(ended), sessions);
                }
                spent
            })
        });
    }
    group.finish();
}

fn main() {
    let mut criterion = session_benches::criterion(Duration::from_secs(2)).configure_from_args();
    let rt = Runtime::new().expect("runtime");
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|f| f.contains(name) || name.contains(f))
    };

    if wanted("memory") {
        bench_store(
            &mut criterion,
            &rt,
            "memory",
            Arc::new(MemoryStore::default()),
        );
    }
    if wanted("cache") {
        bench_store(
            &mut criterion,
            &rt,
            "cache",
            Arc::new(CacheStore::new(1_000_000)),
        );
    }
    if wanted("file") {
        let dir = bench_dir("file");
        let store = FileStore::builder()
            .open(&dir)
            .expect("open the file store");
        bench_store(&mut criterion, &rt, "file", Arc::new(store));
    }
    if wanted("redis") {
        let server = RedisServer::start();
        let store = rt
            .block_on(RedisStore::connect(server.url()))
            .expect("connect to Redis");
        bench_store(&mut criterion, &rt, "redis", Arc::new(store));
    }
    if wanted("postgres") {
        let server = PostgresServer::start();
        let store = rt.block_on(async {
            let pool = session_store_sqlx::sqlx::postgres::PgPoolOptions::new()
                .max_connections(4)
                .connect(&server.url())
                .await
                .expect("connect to PostgreSQL");
            let store = PgStore::new(pool);
            store.migrate().await.expect("migrate");
            store
        });
        bench_store(&mut criterion, &rt, "postgres", Arc::new(store));
    }
    if wanted("sqlite") {
        let dir = bench_dir("sqlite");
        let store = rt.block_on(async {
            let store = SqliteStore::open(dir.join("sessions.db"))
                .await
                .expect("open SQLite");
            store.migrate().await.expect("migrate");
            store
        });
        bench_store(&mut criterion, &rt, "sqlite", Arc::new(store));
    }
    criterion.final_summary();
}
