//! The SQL stores' suites: a database of each test's own ([`Database`]: a database of its own
//! on a shared PostgreSQL server, or a SQLite file in a temporary directory), and what the demo
//! stored in its tables, read directly with sqlx ([`Rows`]), not through the store under test.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use session_store_sqlx::sqlx::postgres::PgConnection;
use session_store_sqlx::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use session_store_sqlx::sqlx::{self, Connection};
use session_store_sqlx::testing::PostgresServer;
use sha2::{Digest, Sha256};

use crate::Setup;

/// Which SQL database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sql {
    /// `--store postgres`, on a database of the test's own.
    Postgres,
    /// `--store sqlite`, on a file in a temporary directory of the test's own.
    Sqlite,
}

/// A database of one test's own, which the demo creates its tables in.
///
/// PostgreSQL: a database made for the test on a server shared by the tests running at the same
/// time ([`shared_postgres`]: starting a server costs about a second, a database a fifth of
/// that). A test that stops its server ([`PostgresServer::stop`]) starts one of its own instead.
/// SQLite: a file in a temporary directory, deleted when dropped.
#[derive(Debug)]
pub enum Database {
    /// The database `name` on `server`.
    Postgres {
        /// The server, shut down when the last test using it drops it.
        server: Arc<PostgresServer>,
        /// The database's name (unique in this test process).
        name: String,
    },
    /// The directory holding the SQLite file `sessions.db`.
    Sqlite(tempfile::TempDir),
}

/// The PostgreSQL server the tests of this process share, started if none runs; shut down and
/// deleted once no test holds it (so never left running after the test process ends normally).
pub fn shared_postgres() -> Arc<PostgresServer> {
    static SHARED: Mutex<Weak<PostgresServer>> = Mutex::new(Weak::new());
    // A test that panicked while starting the server left no server behind: go on.
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(server) = shared.upgrade() {
        return server;
    }
    let server = Arc::new(PostgresServer::start());
    *shared = Arc::downgrade(&server);
    server
}

impl Database {
    /// A new, empty database of `kind`.
    pub fn start(kind: Sql) -> Self {
        static DATABASES: AtomicUsize = AtomicUsize::new(0);
        match kind {
            Sql::Postgres => {
                let server = shared_postgres();
                let name = format!("test_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
                server.create_database(&name);
                Database::Postgres { server, name }
            }
            Sql::Sqlite => Database::Sqlite(tempfile::tempdir().expect("a temporary directory")),
        }
    }

    /// Where the demo finds it: the PostgreSQL URL, or the SQLite file's path.
    pub fn location(&self) -> String {
        match self {
            Database::Postgres { server, name } => server.url_for(name),
            Database::Sqlite(_) => self.sqlite_path().display().to_string(),
        }
    }

    /// `setup` with `--store postgres --database-url URL` or `--store sqlite --database PATH`.
    pub fn setup(&self, setup: Setup) -> Setup {
        match self {
            Database::Postgres { .. } => setup.postgres(self.location()),
            Database::Sqlite(_) => setup.sqlite(self.sqlite_path()),
        }
    }

    /// The demo's command-line words for this store.
    pub fn demo_words(&self) -> Vec<String> {
        let (store, flag) = match self {
            Database::Postgres { .. } => ("postgres", "--database-url"),
            Database::Sqlite(_) => ("sqlite", "--database"),
        };
        ["--store", store, flag, &self.location()]
            .map(str::to_owned)
            .to_vec()
    }

    fn sqlite_path(&self) -> PathBuf {
        match self {
            Database::Sqlite(dir) => dir.path().join("sessions.db"),
            Database::Postgres { .. } => unreachable!("not a SQLite database"),
        }
    }

    /// Every row of the tables `table` and `table_values`, read on a connection of the test's
    /// own (for SQLite, with the database file and its write-ahead log as they are on disk).
    pub async fn rows(&self, table: &str) -> Rows {
        match self {
            Database::Postgres { .. } => postgres_rows(&self.location(), table).await,
            Database::Sqlite(_) => sqlite_rows(self.sqlite_path(), table).await,
        }
    }
}

/// The digest a session `id` is stored under: its SHA-256, 32 bytes.
pub fn digest(id: &str) -> Vec<u8> {
    Sha256::digest(id.as_bytes()).to_vec()
}

/// One row of the sessions table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionRow {
    /// `id`: the digest of the session id.
    pub id: Vec<u8>,
    /// `created`, milliseconds since the epoch.
    pub created: i64,
    /// `last_active`, milliseconds since the epoch.
    pub last_active: i64,
    /// `expires`, milliseconds since the epoch.
    pub expires: i64,
}

/// What the tables held when read: every row, and the bytes an id must never appear in.
#[derive(Debug)]
pub struct Rows {
    /// The sessions table, ordered by `id`.
    pub sessions: Vec<SessionRow>,
    /// The values table as (`session`, `name`, `value`), ordered.
    pub values: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// Every column of every row of both tables as the database prints it (PostgreSQL: each
    /// row's `::text`; SQLite: each column's `quote()`), bytes in hex.
    pub text: String,
    /// SQLite: the database file and its write-ahead log, byte for byte (empty for PostgreSQL).
    pub files: Vec<Vec<u8>>,
}

impl Rows {
    /// Whether both tables are empty.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.values.is_empty()
    }

    /// The digests of the sessions held, in order.
    pub fn ids(&self) -> Vec<Vec<u8>> {
        self.sessions.iter().map(|row| row.id.clone()).collect()
    }

    /// The row of the session `id`, if any.
    pub fn session(&self, id: &str) -> Option<&SessionRow> {
        let digest = digest(id);
        self.sessions.iter().find(|row| row.id == digest)
    }

    /// The values of the session `id`, name to JSON text.
    pub fn values_of(&self, id: &str) -> BTreeMap<String, String> {
        let digest = digest(id);
        self.values
            .iter()
            .filter(|(session, _, _)| *session == digest)
            .map(|(_, name, value)| {
                let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).expect("UTF-8");
                (text(name), text(value))
            })
            .collect()
    }

    /// Asserts that the sessions table holds exactly one row per id of `ids` (keyed by its
    /// digest), that every value belongs to one of them, and that none of `ids` appears in the
    /// tables (see [`assert_id_absent`](Self::assert_id_absent)).
    #[track_caller]
    pub fn assert_sessions(&self, ids: &[&str]) {
        let mut expected: Vec<Vec<u8>> = ids.iter().map(|id| digest(id)).collect();
        expected.sort();
        assert_eq!(
            self.ids(),
            expected,
            "the session rows, by digest: {self:#?}"
        );
        for (session, name, _) in &self.values {
            assert!(
                expected.contains(session),
                "a value ({:?}) of no listed session",
                String::from_utf8_lossy(name)
            );
        }
        for id in ids {
            self.assert_id_absent(id);
        }
    }

    /// Asserts that the raw `id` is nowhere: in no column (as bytes, or as the hex of its
    /// bytes in the printed rows) and, for SQLite, nowhere in the files on disk.
    #[track_caller]
    pub fn assert_id_absent(&self, id: &str) {
        let raw = id.as_bytes();
        let hex: String = raw.iter().map(|byte| format!("{byte:02x}")).collect();
        assert!(
            !self.text.contains(id),
            "the raw id is stored: {}",
            self.text
        );
        assert!(
            !self.text.to_ascii_lowercase().contains(&hex),
            "the raw id is stored as bytes: {}",
            self.text
        );
        let columns = self.sessions.iter().map(|row| &row.id).chain(
            self.values
                .iter()
                .flat_map(|(session, name, value)| [session, name, value]),
        );
        for haystack in columns.chain(&self.files) {
            assert!(
                !haystack.windows(raw.len()).any(|window| window == raw),
                "the raw id is in a column or on disk"
            );
        }
    }
}

/// The rows of `table` and `table_values` on `connection` (a `PgConnection` or a
/// `SqliteConnection`: the statements are the same), and the rows as `print` prints them.
macro_rules! read_tables {
    ($connection:expr, $table:expr, $print:expr) => {{
        let table = $table;
        let sessions: Vec<(Vec<u8>, i64, i64, i64)> = sqlx::query_as(&format!(
            "SELECT id, created, last_active, expires FROM {table} ORDER BY id"
        ))
        .fetch_all(&mut $connection)
        .await
        .expect("read the sessions table");
        let values = sqlx::query_as(&format!(
            "SELECT session, name, value FROM {table}_values ORDER BY session, name"
        ))
        .fetch_all(&mut $connection)
        .await
        .expect("read the values table");
        let text: Vec<String> = sqlx::query_scalar(&$print)
            .fetch_all(&mut $connection)
            .await
            .expect("print the rows");
        Rows {
            sessions: sessions
                .into_iter()
                .map(|(id, created, last_active, expires)| SessionRow {
                    id,
                    created,
                    last_active,
                    expires,
                })
                .collect(),
            values,
            text: text.join("\n"),
            files: Vec::new(),
        }
    }};
}

async fn postgres_rows(url: &str, table: &str) -> Rows {
    let mut connection = PgConnection::connect(url)
        .await
        .expect("connect to the test's PostgreSQL");
    let print =
        format!("SELECT s::text FROM {table} s UNION ALL SELECT v::text FROM {table}_values v");
    let rows = read_tables!(connection, table, print);
    connection.close().await.expect("close");
    rows
}

async fn sqlite_rows(path: PathBuf, table: &str) -> Rows {
    // Read-write (a read-only connection cannot open a WAL database whose `-shm` is gone), but
    // never creating the file: a missing database is a failure.
    let options = SqliteConnectOptions::new().filename(&path);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .expect("open the test's SQLite file");
    let print = format!(
        "SELECT quote(id) || ' ' || created || ' ' || last_active || ' ' || expires || ' ' || \
         quote(lifetime) || ' ' || size FROM {table} UNION ALL \
         SELECT quote(session) || ' ' || quote(name) || ' ' || quote(value) FROM {table}_values"
    );
    let mut rows = read_tables!(connection, table, print);
    connection.close().await.expect("close");
    rows.files
        .push(std::fs::read(&path).expect("read the database file"));
    let mut wal = path.into_os_string();
    wal.push("-wal");
    rows.files.extend(std::fs::read(wal).ok());
    rows
}
