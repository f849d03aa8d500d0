//! The throwaway server the PostgreSQL tests run on: [`PostgresServer`] starts, stops, comes back
//! with its data, makes databases, and leaves nothing behind.

use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use session_store_sqlx::sqlx::{self, Connection, PgConnection};
use session_store_sqlx::testing::PostgresServer;

/// `SELECT 1` on a new connection to `url`.
async fn select_one(url: &str) -> Result<i32, sqlx::Error> {
    let mut connection = PgConnection::connect(url).await?;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut connection)
        .await?;
    connection.close().await?;
    Ok(one)
}

/// Whether something accepts TCP connections on `port` of 127.0.0.1.
fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

#[tokio::test]
async fn starts_and_answers_on_its_url() {
    let server = PostgresServer::start();
    assert_eq!(
        server.url(),
        format!("postgres://postgres@127.0.0.1:{}/postgres", server.port())
    );
    assert_ne!(server.port(), 5432, "never the default port");
    assert_eq!(select_one(&server.url()).await.expect("SELECT 1"), 1);
    let socket = server.dir().join(format!(".s.PGSQL.{}", server.port()));
    assert!(socket.exists(), "no Unix socket at {}", socket.display());
}

#[tokio::test]
async fn two_servers_at_once_have_ports_of_their_own() {
    let first = PostgresServer::start();
    let second = PostgresServer::start();
    assert_ne!(first.port(), second.port());
    assert_ne!(first.dir(), second.dir());
    assert_eq!(select_one(&first.url()).await.expect("first"), 1);
    assert_eq!(select_one(&second.url()).await.expect("second"), 1);
}

#[tokio::test]
async fn stop_fails_open_connections_and_start_again_keeps_the_data() {
    let server = PostgresServer::start();
    let port = server.port();
    let mut connection = PgConnection::connect(&server.url()).await.expect("connect");
    sqlx::query("CREATE TABLE kept (n integer)")
        .execute(&mut connection)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept VALUES (7)")
        .execute(&mut connection)
        .await
        .expect("insert");

    server.stop();
    server.stop(); // a second stop does nothing
    let failed = tokio::time::timeout(
        Duration::from_secs(5),
        sqlx::query("SELECT 1").execute(&mut connection),
    )
    .await
    .expect("the query on a stopped server failed at once");
    assert!(failed.is_err(), "a query on a stopped server succeeded");
    assert!(
        select_one(&server.url()).await.is_err(),
        "connected to a stopped server"
    );
    assert!(!accepts(port));

    server.start_again();
    server.start_again(); // a second start does nothing
    assert_eq!(server.port(), port);
    let mut connection = PgConnection::connect(&server.url())
        .await
        .expect("reconnect");
    let n: i32 = sqlx::query_scalar("SELECT n FROM kept")
        .fetch_one(&mut connection)
        .await
        .expect("the table survived");
    assert_eq!(n, 7);
}

#[tokio::test]
async fn drop_stops_the_server_and_removes_its_dir() {
    let server = PostgresServer::start();
    let port = server.port();
    let dir = server.dir().to_owned();
    assert!(dir.join("data").join("PG_VERSION").exists());
    drop(server);
    assert!(!dir.exists(), "{} is still there", dir.display());
    assert!(!accepts(port), "port {port} still accepts connections");
}

#[tokio::test]
async fn a_stopped_server_drops_cleanly() {
    let server = PostgresServer::start();
    let dir = server.dir().to_owned();
    server.stop();
    drop(server);
    assert!(!dir.exists(), "{} is still there", dir.display());
}

#[tokio::test]
async fn create_database_makes_a_database_of_its_own() {
    let server = PostgresServer::start();
    let url = server.create_database("sessions_1");
    assert_eq!(url, server.url_for("sessions_1"));
    assert!(url.ends_with("/sessions_1"), "{url}");
    let mut connection = PgConnection::connect(&url).await.expect("connect");
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&mut connection)
        .await
        .expect("current_database");
    assert_eq!(name, "sessions_1");
}

#[test]
#[should_panic(expected = "is not a database name")]
fn create_database_refuses_names_that_need_quoting() {
    let server = PostgresServer::start();
    server.create_database("Robert'); DROP TABLE students;--");
}
