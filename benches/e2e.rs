//! End to end: the axum and actix-web extractors over loopback, with and without verification.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --all-features --bench e2e
//! ```
//!
//! For each framework a real server listens on 127.0.0.1 (one worker thread) with two routes
//! taking the same 1 KiB JSON delivery into the same `Json<Event>`: `/plain` without
//! verification and `/verified` through `Verified<Json<Event>>`. A small load generator on its
//! own thread (raw HTTP/1.1 over keep-alive connections, so that the client costs little next
//! to the server) sends a fixed number of requests to each route in turn, and every answer must
//! be `204 No Content`. It prints requests per second and the ratio verified / plain (median
//! over the rounds; the routes alternate within each round, so slow changes of load on this
//! shared machine cancel out).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;
use standard_webhooks::{Secret, Signer, Verifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Concurrent keep-alive connections.
const CONNECTIONS: usize = 8;
/// Requests per route per round, and rounds.
const REQUESTS: usize = 20_000;
const ROUNDS: usize = 5;
const WARM_UP: usize = 2_000;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Event {
    r#type: String,
    timestamp: String,
    data: serde_json::Value,
}

/// A Dinie-style delivery of exactly 1 KiB.
fn body() -> Vec<u8> {
    let head = r#"{"type":"loan.active","timestamp":"2026-11-26T12:00:00Z","data":{"loan_id":"ln_2Kq8Wz","pad":""#;
    let tail = r#""}}"#;
    let pad = 1024 - head.len() - tail.len();
    let body = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(body.len(), 1024);
    serde_json::from_str::<Event>(&body).unwrap();
    body.into_bytes()
}

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

/// Sends `count` copies of `req` over `CONNECTIONS` keep-alive connections; every answer must
/// be a 204. Returns requests per second.
async fn load(addr: SocketAddr, req: &[u8], count: usize) -> f64 {
    let start = Instant::now();
    let per_conn = count / CONNECTIONS;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let req = req.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut conn = TcpStream::connect(addr).await.unwrap();
            conn.set_nodelay(true).unwrap();
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
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    (per_conn * CONNECTIONS) as f64 / start.elapsed().as_secs_f64()
}

/// Runs the rounds against one server and prints its line of the table.
fn measure(framework: &str, addr: SocketAddr) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let body = body();
    let (plain, verified) = (
        request(addr, "/plain", &body),
        request(addr, "/verified", &body),
    );
    let (mut p, mut v, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    rt.block_on(async {
        load(addr, &plain, WARM_UP).await;
        load(addr, &verified, WARM_UP).await;
        for _ in 0..ROUNDS {
            let rp = load(addr, &plain, REQUESTS).await;
            let rv = load(addr, &verified, REQUESTS).await;
            p.push(rp);
            v.push(rv);
            ratios.push(rv / rp);
        }
    });
    let median = |xs: &mut Vec<f64>| {
        xs.sort_by(f64::total_cmp);
        xs[xs.len() / 2]
    };
    println!(
        "| {framework} | {:.0} | {:.0} | {:.3} |",
        median(&mut p),
        median(&mut v),
        median(&mut ratios)
    );
}

fn verifier() -> Verifier {
    let secret: Secret = SECRET.parse().unwrap();
    Verifier::builder().secret(secret).build().unwrap()
}

mod axum_server {
    use super::*;
    use axum::http::StatusCode;
    use axum::{Json, Router, routing::post};
    use standard_webhooks::axum::Verified;

    async fn plain(Json(_event): Json<Event>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn verified(Verified(Json(_event)): Verified<Json<Event>>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

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
                let app = Router::new()
                    .route("/plain", post(plain))
                    .route("/verified", post(verified))
                    .with_state(verifier());
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app).await.unwrap();
            });
        });
        rx.recv_timeout(Duration::from_secs(30)).unwrap()
    }
}

mod actix_server {
    use super::*;
    use actix_web::{App, HttpResponse, HttpServer, web};
    use standard_webhooks::actix::Verified;

    async fn plain(_event: web::Json<Event>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    async fn verified(Verified(_event): Verified<web::Json<Event>>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    /// Starts the server on its own thread (one worker); returns its address.
    pub fn start() -> SocketAddr {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let verifier = web::Data::new(verifier());
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(verifier.clone())
                        .route("/plain", web::post().to(plain))
                        .route("/verified", web::post().to(verified))
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
    println!("| framework | plain req/s | verified req/s | verified / plain |");
    println!("|---|---|---|---|");
    measure("axum 0.8", axum_server::start());
    measure("actix-web 4", actix_server::start());
}
