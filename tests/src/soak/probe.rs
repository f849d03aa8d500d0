//! [`Probe`]: the store's sessions counted from outside the server (files, Redis keys).

use std::path::PathBuf;

use session_store_redis::redis;

/// Where the store's sessions can be counted from outside the server.
#[derive(Clone, Debug)]
pub enum Probe {
    /// Nothing to count (memory, cache: inside the server process).
    None,
    /// The file store's directory: one file named by 64 hex digits per session.
    Files(PathBuf),
    /// The Redis at this URL: one key per session.
    Redis(String),
}

impl Probe {
    /// How many sessions the store holds, if it can be counted.
    pub(super) async fn count(&self) -> Option<usize> {
        match self {
            Probe::None => None,
            Probe::Files(dir) => Some(
                std::fs::read_dir(dir)
                    .expect("read the session directory")
                    .filter_map(Result::ok)
                    .filter(|entry| {
                        let name = entry.file_name();
                        let name = name.to_string_lossy();
                        name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit())
                    })
                    .count(),
            ),
            Probe::Redis(url) => {
                let mut connection = crate::redis::connection(url).await;
                let size: usize = redis::cmd("DBSIZE")
                    .query_async(&mut connection)
                    .await
                    .expect("DBSIZE");
                Some(size)
            }
        }
    }

    /// What is measured, for the summary line.
    pub(super) fn label(&self) -> &'static str {
        match self {
            Probe::None => "",
            Probe::Files(_) => " files=",
            Probe::Redis(_) => " redis_keys=",
        }
    }
}
