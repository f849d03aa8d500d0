//! The engine the demo's options describe: the same for every framework.

use std::sync::Arc;

use session_core::{Engine, EngineBuilder, Lifetime, MemoryStore, ParamState, State, Store};
use session_state_cookie::CookieState;
use session_store_file::FileStore;
use session_store_null::NullStore;

use super::args::{Args, StateKind, StoreKind};

/// The engine builder for the chosen state and store, with the chosen timeouts applied.
pub fn engine_builder(args: &Args) -> Result<EngineBuilder, String> {
    let state: Arc<dyn State> = match args.state {
        StateKind::Cookie => {
            let mut builder = CookieState::builder().secure(args.secure);
            if let Some(name) = &args.session_key {
                builder = builder.name(name);
            }
            Arc::new(
                builder
                    .build()
                    .map_err(|e| format!("cookie settings: {e}"))?,
            )
        }
        StateKind::Param => Arc::new(match &args.session_key {
            Some(name) => ParamState::new(name).map_err(|e| e.to_string())?,
            None => ParamState::default(),
        }),
    };
    let store: Arc<dyn Store> = match args.store {
        StoreKind::Memory => Arc::new(MemoryStore::default()),
        StoreKind::Null => Arc::new(NullStore),
        StoreKind::File => Arc::new(file_store(args)?),
    };
    Ok(configure(state, store, args))
}

/// `--store file`: the store on `--dir`, or on a private temporary directory; with a sweeper every
/// minute when a Tokio runtime is running.
fn file_store(args: &Args) -> Result<FileStore, String> {
    let store = match &args.dir {
        Some(dir) => FileStore::open(dir),
        None => FileStore::temporary(),
    }
    .map_err(|e| format!("--store file: {e}"))?;
    if tokio::runtime::Handle::try_current().is_ok() {
        store.spawn_cleanup(std::time::Duration::from_secs(60));
    }
    Ok(store)
}

fn configure<St: State, S: Store>(state: St, store: S, args: &Args) -> EngineBuilder {
    let mut builder = Engine::builder(state, store);
    if let Some(idle) = args.idle_timeout {
        builder = builder.lifetime(Lifetime::browser_session(idle));
    }
    if let Some(cap) = args.absolute_timeout {
        builder = builder.absolute_timeout(cap);
    }
    builder
}
