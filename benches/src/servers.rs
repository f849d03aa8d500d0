//! The end-to-end benches' servers: axum and actix-web on loopback ports, and their floors (the
//! counter route's body with no session at all).

use std::future::Future;
use std::hint::black_box;
use std::net::SocketAddr;

use actix_web::dev::{Server, ServerHandle};
use axum::Router;
use axum::serve::ListenerExt;
use tokio::runtime::Runtime;

use crate::load::hello;

/// The worker threads of every actix server, as many as the axum runtime's.
pub const ACTIX_WORKERS: usize = 2;

/// An axum server on a loopback port, stopped by [`AxumServer::stop`].
#[derive(Debug)]
pub struct AxumServer {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AxumServer {
    /// Serves `router` on `runtime`, on a free loopback port.
    pub fn start(runtime: &Runtime, router: Router) -> AxumServer {
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let listener = listener.tap_io(|tcp| {
            // Best effort: small answers go out at once either way with HTTP/1.1.
            let _ = tcp.set_nodelay(true);
        });
        let task = runtime.spawn(async move {
            axum::serve(listener, router).await.expect("axum serves");
        });
        AxumServer { addr, task }
    }

    /// Stops serving.
    pub fn stop(self) {
        self.task.abort();
    }
}

/// The axum floor: no session, the same body, always counting 0.
pub fn axum_floor() -> Router {
    Router::new().route("/", axum::routing::get(|| async { hello(black_box(0)) }))
}

/// An actix-web server on a loopback port, on a system thread of its own.
#[derive(Debug)]
pub struct ActixServer {
    /// Where it listens.
    pub addr: SocketAddr,
    handle: ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

impl ActixServer {
    /// Starts an actix system on a new thread, serving on a loopback listener.
    ///
    /// There `connect` prepares what the apps need (a store connected on the system's runtime,
    /// as in an `#[actix_web::main]` application) and `bind` runs the server (with
    /// [`actix_serve!`](crate::actix_serve)).
    pub fn start<S, C, Fut, B>(connect: C, bind: B) -> ActixServer
    where
        C: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = S> + 'static,
        B: FnOnce(S, std::net::TcpListener) -> Server + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            // The system's workers inherit the CPU set (see `placement`).
            crate::placement::pin_thread(crate::placement::Placement::get().server_cpu());
            actix_rt::System::new().block_on(async move {
                let server = bind(connect().await, listener);
                tx.send(server.handle()).expect("the bench waits");
                server.await.expect("actix serves");
            });
        });
        let handle = rx.recv().expect("the actix server starts");
        ActixServer {
            addr,
            handle,
            thread,
        }
    }

    /// Stops the server (`runtime` waits for it) and its system thread.
    pub fn stop(self, runtime: &Runtime) {
        runtime.block_on(self.handle.stop(false));
        self.thread.join().expect("the actix thread ends");
    }
}

/// Binds `factory`'s apps to `listener` with the benches' settings: [`ACTIX_WORKERS`] workers,
/// no signal handling.
#[macro_export]
macro_rules! actix_serve {
    ($listener:expr, $factory:expr) => {
        ::actix_web::HttpServer::new($factory)
            .workers($crate::servers::ACTIX_WORKERS)
            .disable_signals()
            .listen($listener)
            .expect("actix listens")
            .run()
    };
}

/// The actix-web floor: no session, the same body, always counting 0.
pub fn actix_floor() -> ActixServer {
    ActixServer::start(
        || async {},
        |(), listener| {
            actix_serve!(listener, || {
                actix_web::App::new().route(
                    "/",
                    actix_web::web::get().to(|| async { hello(black_box(0)) }),
                )
            })
        },
    )
}
