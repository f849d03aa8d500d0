//! The engine the demo's options describe: the same for every framework.

use std::sync::Arc;

use session_core::{
    Engine, EngineBuilder, Lifetime, ManualClock, MemoryStore, ParamState, State, Store,
};
use session_state_cookie::{CookieState, SealKey, SealedCookie};
use session_store_cache::{CacheStore, MokaCache};
use session_store_file::FileStore;
use session_store_null::NullStore;

use super::args::{Args, StateKind, StoreKind};

/// The engine builder for the chosen state and store, with the chosen timeouts applied.
pub fn engine_builder(args: &Args) -> Result<EngineBuilder, String> {
    engine_builder_with(args, None, None)
}

/// [`engine_builder`] with what a command line cannot say, for tests: a manual `clock` for the
/// engine and the store `--store` names, or a `store` of the caller's own instead.
pub fn engine_builder_with(
    args: &Args,
    clock: Option<ManualClock>,
    store: Option<Arc<dyn Store>>,
) -> Result<EngineBuilder, String> {
    let state: Arc<dyn State> = match args.state {
        StateKind::Cookie => Arc::new(cookie_state(args)?),
        StateKind::Param => Arc::new(match &args.session_key {
            Some(name) => ParamState::new(name).map_err(|e| e.to_string())?,
            None => ParamState::default(),
        }),
    };
    let store: Arc<dyn Store> = match (store, args.store, &clock) {
        (Some(store), _, _) => store,
        (None, StoreKind::Memory, None) => Arc::new(MemoryStore::default()),
        (None, StoreKind::Memory, Some(clock)) => {
            Arc::new(MemoryStore::default().with_clock(clock.clone()))
        }
        (None, StoreKind::Null, _) => Arc::new(NullStore),
        (None, StoreKind::File, _) => Arc::new(file_store(args, clock.clone())?),
        (None, StoreKind::Cache, None) => Arc::new(CacheStore::default()),
        (None, StoreKind::Cache, Some(clock)) => {
            Arc::new(CacheStore::with_clock(MokaCache::builder(), clock.clone()))
        }
        (None, StoreKind::Cookie, _) => return sealed_builder(args, clock.clone()),
    };
    let mut builder = configure(state, store, args);
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    Ok(builder)
}

/// The cookie `--secure` and `--session-key` describe.
fn cookie_state(args: &Args) -> Result<CookieState, String> {
    let mut builder = CookieState::builder().secure(args.secure);
    if let Some(name) = &args.session_key {
        builder = builder.name(name);
    }
    builder.build().map_err(|e| format!("cookie settings: {e}"))
}

/// `--store cookie`: a client-side engine sealing sessions into the cookie.
fn sealed_builder(args: &Args, clock: Option<ManualClock>) -> Result<EngineBuilder, String> {
    if args.state != StateKind::Cookie {
        return Err("--store cookie keeps the session in the cookie: use --state cookie".into());
    }
    let key = match &args.seal_key {
        Some(text) => SealKey::from_base64(text),
        None => SealKey::generate(),
    }
    .map_err(|e| format!("--seal-key: {e}"))?;
    if args.seal_key.is_none() && !args.seal_old_keys.is_empty() {
        return Err("--seal-old-key needs --seal-key (the current key)".into());
    }
    let mut sealed = SealedCookie::builder(key)
        .cookie(cookie_state(args)?)
        .mode(args.seal_mode);
    for text in &args.seal_old_keys {
        let old = SealKey::from_base64(text).map_err(|e| format!("--seal-old-key: {e}"))?;
        sealed = sealed.old_key(old);
    }
    let sealed = sealed.build();
    let builder = timeouts(Engine::client_side_builder(sealed), args);
    Ok(match clock {
        Some(clock) => builder.clock(clock),
        None => builder,
    })
}

/// `--store file`: the store on `--dir`, or on a private temporary directory; with a sweeper every
/// minute when a Tokio runtime is running.
fn file_store(args: &Args, clock: Option<ManualClock>) -> Result<FileStore, String> {
    let mut builder = FileStore::builder();
    if let Some(clock) = clock {
        builder = builder.clock(clock);
    }
    let store = match &args.dir {
        Some(dir) => builder.open(dir),
        None => builder.temporary(),
    }
    .map_err(|e| format!("--store file: {e}"))?;
    if tokio::runtime::Handle::try_current().is_ok() {
        store.spawn_cleanup(std::time::Duration::from_secs(60));
    }
    Ok(store)
}

fn configure<St: State, S: Store>(state: St, store: S, args: &Args) -> EngineBuilder {
    timeouts(Engine::builder(state, store), args)
}

/// The builder with `--idle-timeout` and `--absolute-timeout` applied.
fn timeouts(mut builder: EngineBuilder, args: &Args) -> EngineBuilder {
    if let Some(idle) = args.idle_timeout {
        builder = builder.lifetime(Lifetime::browser_session(idle));
    }
    if let Some(cap) = args.absolute_timeout {
        builder = builder.absolute_timeout(cap);
    }
    builder
}
