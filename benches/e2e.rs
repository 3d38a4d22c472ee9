//! End to end: the axum and actix-web extractors over loopback, with and without verification.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --all-features --bench e2e
//! ```
//!
//! For each framework a real server listens on 127.0.0.1 (one worker thread) with two routes
//! taking the same 1 KiB JSON delivery into the same `Json<Event>`: `/plain` without
//! verification and `/verified` through `Verified<Json<Event>>`; three more routes (`/floor`,
//! `/twice`, `/direct`, see `support/routes.rs`) split the difference into its parts. A small load
//! generator on its own thread (raw HTTP/1.1 over keep-alive connections, so that the client
//! costs little next to the server) sends a fixed number of requests to each route in turn,
//! and every answer must be `204 No Content`. It prints requests per second and the ratio of
//! each route to plain (median over the rounds; the routes alternate within each round, so slow
//! changes of load on this shared machine cancel out, and each round starts at the next route,
//! so that none always runs first).
//!
//! On a 2-core machine the load generator shares the cores with the server, so the wall-clock
//! ratio also moves with the client and the kernel's scheduling of both. The bench therefore
//! also measures the server's own CPU time per request (every thread of the process except the
//! load generator's, from `/proc/self/task/*/schedstat`, in nanoseconds), whose inverse is the
//! requests one core can serve: the throughput a server-bound deployment gets. Its ratio
//! plain / verified is the second figure.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use standard_webhooks::Signer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[path = "support/delivery.rs"]
mod delivery;
#[path = "support/routes.rs"]
mod routes;
use delivery::{SECRET, body};

/// Concurrent keep-alive connections.
const CONNECTIONS: usize = 8;
/// Requests per route per round, and rounds.
const REQUESTS: usize = 4_000;
const ROUNDS: usize = 40;
const WARM_UP: usize = 2_000;

/// The raw bytes of one request to `path`, signed now.
fn request(addr: SocketAddr, path: &str, body: &[u8]) -> Vec<u8> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = Signer::new(SECRET.parse().unwrap()).headers("msg_2Kq8Wz", now, body);
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n",
        body.len()
    );
    for (name, value) in signed.iter() {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    let mut req = req.into_bytes();
    req.extend_from_slice(body);
    req
}

/// CPU time (ns) used so far by every thread of this process except the main one (the load
/// generator): the servers' threads. `None` where `/proc` does not provide it.
fn server_cpu_ns() -> Option<u64> {
    let main = std::process::id().to_string();
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?;
        if task.file_name().to_str() == Some(main.as_str()) {
            continue;
        }
        // A thread may end between listing and reading: it counts as nothing.
        if let Ok(stat) = std::fs::read_to_string(task.path().join("schedstat")) {
            total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
        }
    }
    Some(total)
}

/// Opens the `CONNECTIONS` keep-alive connections every round reuses.
async fn connect(addr: SocketAddr) -> Vec<TcpStream> {
    let mut conns = Vec::new();
    for _ in 0..CONNECTIONS {
        let conn = TcpStream::connect(addr).await.unwrap();
        conn.set_nodelay(true).unwrap();
        conns.push(conn);
    }
    conns
}

/// Sends `count` copies of `req` over the keep-alive connections `conns`, all at once; every
/// answer must be a 204. Returns requests per second and the servers' CPU time per request
/// (ns).
async fn load(conns: &mut Vec<TcpStream>, req: &Arc<[u8]>, count: usize) -> (f64, Option<f64>) {
    let cpu_before = server_cpu_ns();
    let start = Instant::now();
    let per_conn = count / CONNECTIONS;
    let mut tasks = Vec::new();
    for mut conn in conns.drain(..) {
        let req = Arc::clone(req);
        tasks.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            for _ in 0..per_conn {
                conn.write_all(&req).await.unwrap();
                // A 204 has no body: the answer ends with its blank line.
                let mut len = 0;
                loop {
                    let n = conn.read(&mut buf[len..]).await.unwrap();
                    assert!(n > 0, "the server closed the connection");
                    len += n;
                    if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                assert!(
                    buf.starts_with(b"HTTP/1.1 204"),
                    "unexpected answer: {}",
                    String::from_utf8_lossy(&buf[..len])
                );
            }
            conn
        }));
    }
    for t in tasks {
        conns.push(t.await.unwrap());
    }
    let done = (per_conn * CONNECTIONS) as f64;
    let rate = done / start.elapsed().as_secs_f64();
    let cpu = cpu_before
        .zip(server_cpu_ns())
        .map(|(before, after)| after.saturating_sub(before) as f64 / done);
    (rate, cpu)
}

/// Runs the rounds against one server and prints its lines of the table, each route compared
/// with `/plain`: `/verified`; `/floor`, the plain handler plus one HMAC pass (the least any
/// verifier adds); `/twice`, no verification but the body buffered first and then handed to
/// `Json<_>` (what an extractor wrapping any inner extractor must do); `/direct`, the whole
/// verification called by hand in the handler, without the extractor.
fn measure(framework: &str, addr: SocketAddr) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = body();
    let routes = routes::ROUTES.map(|path| Arc::from(request(addr, path, &body)));
    // Per route: req/s and server CPU per request, one entry per round.
    let mut rate: [Vec<f64>; 5] = Default::default();
    let mut cpu: [Vec<f64>; 5] = Default::default();
    // Per compared route (verified, floor, twice, direct): ratio to plain, wall-clock and CPU,
    // per round.
    let mut ratio: [Vec<f64>; 4] = Default::default();
    let mut cpu_ratio: [Vec<f64>; 4] = Default::default();
    rt.block_on(async {
        let mut conns = connect(addr).await;
        for req in &routes {
            load(&mut conns, req, WARM_UP).await;
        }
        for n in 0..ROUNDS {
            // Each round starts at the next route, so that no route always runs first or
            // right after the same neighbour.
            let mut round = [(0.0, None); 5];
            for step in 0..routes.len() {
                let i = (n + step) % routes.len();
                let (r, c) = load(&mut conns, &routes[i], REQUESTS).await;
                rate[i].push(r);
                if let Some(c) = c {
                    cpu[i].push(c);
                }
                round[i] = (r, c);
            }
            for k in 0..4 {
                let ((rp, cp), (rx, cx)) = (round[0], round[k + 1]);
                ratio[k].push(rx / rp);
                if let (Some(cp), Some(cx)) = (cp, cx) {
                    cpu_ratio[k].push(cp / cx);
                }
            }
        }
    });
    let median = |xs: &[f64]| {
        let mut xs = xs.to_vec();
        xs.sort_by(f64::total_cmp);
        xs.get(xs.len() / 2).copied()
    };
    let show = |x: Option<f64>, scale: f64, digits: usize| {
        x.map_or_else(|| "-".to_owned(), |x| format!("{:.digits$}", x * scale))
    };
    for (k, name) in [
        (0, "`Verified<Json<_>>`"),
        (1, "floor: `Bytes` + one HMAC + JSON"),
        (2, "re-wrap: `Bytes`, then `Json<_>` on the buffered body"),
        (
            3,
            "direct: `Bytes`, `Verifier::verify` in the handler, JSON",
        ),
    ] {
        println!(
            "| {framework} | {name} | {} | {} | {} | {} | {} | {} |",
            show(median(&rate[0]), 1.0, 0),
            show(median(&rate[k + 1]), 1.0, 0),
            show(median(&ratio[k]), 1.0, 3),
            show(median(&cpu[0]), 1e-3, 2),
            show(median(&cpu[k + 1]), 1e-3, 2),
            show(median(&cpu_ratio[k]), 1.0, 3),
        );
    }
}

mod axum_server {
    use super::*;

    /// Starts the server on its own thread (a one-worker runtime); returns its address.
    pub fn start() -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, routes::axum_routes::router())
                    .await
                    .unwrap();
            });
        });
        rx.recv_timeout(Duration::from_secs(30)).unwrap()
    }
}

mod actix_server {
    use super::*;
    use actix_web::{App, HttpServer};
    use routes::actix_routes;

    /// Starts the server on its own thread (one worker); returns its address.
    pub fn start() -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let verifier = actix_routes::verifier_data();
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(verifier.clone())
                        .configure(actix_routes::configure)
                })
                .workers(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
                tx.send(server.addrs()[0]).unwrap();
                server.run().await.unwrap();
            });
        });
        rx.recv_timeout(Duration::from_secs(30)).unwrap()
    }
}

fn main() {
    // `cargo test --benches` / `cargo bench --no-run` builds this; only `cargo bench` runs it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("e2e: run with `cargo bench --all-features --bench e2e`");
        return;
    }
    println!(
        "{CONNECTIONS} keep-alive connections, 1 KiB JSON, {REQUESTS} requests per route per \
         round, {ROUNDS} rounds (medians); every answer checked to be 204"
    );
    println!(
        "| framework | route compared with plain `Json<_>` | plain req/s | req/s | ratio \
         | server CPU µs/req, plain | server CPU µs/req | ratio (plain CPU / CPU) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    measure("axum 0.8", axum_server::start());
    measure("actix-web 4", actix_server::start());
}
