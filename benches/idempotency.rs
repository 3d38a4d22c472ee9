//! The latency idempotency adds to each delivery, with the memory store and with Redis on
//! loopback.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --features redis --bench idempotency
//! ```
//!
//! Redis: `REDIS_URL` if set (keys go under a per-run prefix and expire), else the bench starts
//! a private `redis-server` (from `$REDIS_SERVER` or the PATH) on a free 127.0.0.1 port without
//! persistence, and stops it at the end.
//!
//! Each iteration is one delivery through [`Idempotency::run`] with a handler that does nothing,
//! so the figure is what the store costs:
//! - `floor`: the handler alone, awaited and timed the same way, no store;
//! - `new_id`: claim, run, record as done (what every first delivery pays);
//! - `done_id`: a duplicate of a done id, answered without running the handler;
//! - `redis_loopback/ping`: one bare `PING` round trip, for scale (`new_id` makes two round
//!   trips, `done_id` one).
//!
//! The memory store runs at its default capacity (100 000 ids): after the first 100 000
//! iterations every new id also evicts the oldest, its steady state under load.
//! Verification is not included (see `benches/verify.rs`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use standard_webhooks::RedisStore;
use standard_webhooks::{
    Idempotency, IdempotencyStore, MemoryStore, Outcome, Secret, Signer, Verifier,
};

const BODY: &[u8] = br#"{"type":"loan.payment_received","timestamp":"2026-11-26T12:00:00Z","data":{"loan_id":"ln_2Kq8dG3xVb7","amount":"15000.00","currency":"BRL"}}"#;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `iters` deliveries of one verified message shape through `once`, with ids from `id`.
async fn deliveries<S: IdempotencyStore>(
    once: &Idempotency<S>,
    verifier: &Verifier,
    signer: &Signer,
    iters: u64,
    id: impl Fn(u64) -> String,
) -> Duration {
    // Signing and verifying are set up outside the timed loop: only `run` is measured. The
    // message is verified once per id, as a receiver would, but untimed.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut total = Duration::ZERO;
    for i in 0..iters {
        let id = id(i);
        let headers = signer.headers(&id, now, BODY);
        let msg = verifier.verify(&headers, BODY).unwrap();
        let start = Instant::now();
        let outcome = once.run(&msg, async { black_box(true) }).await.unwrap();
        total += start.elapsed();
        black_box(matches!(outcome, Outcome::Ran { .. }));
    }
    total
}

/// The same loop and timer as [`deliveries`], around the handler alone: what `run` would cost
/// with a store that took no time.
async fn floor(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for i in 0..iters {
        let id = format!("msg_2Kq8dG3xVb7pQ9rLmN4tW{i:08}");
        let start = Instant::now();
        let ran = async { black_box(true) }.await;
        total += start.elapsed();
        black_box((ran, id));
    }
    total
}

fn bench_store<S: IdempotencyStore>(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    name: &str,
    once: Idempotency<S>,
) {
    let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
    let verifier = Verifier::builder().secret(secret.clone()).build().unwrap();
    let signer = Signer::new(secret);
    let mut group = c.benchmark_group(name);
    group.bench_function("floor", |b| {
        b.iter_custom(|iters| rt.block_on(floor(iters)))
    });

    let mut next = 0u64;
    group.bench_function("new_id", |b| {
        b.iter_custom(|iters| {
            let base = next;
            next += iters;
            rt.block_on(deliveries(&once, &verifier, &signer, iters, |i| {
                format!("msg_2Kq8dG3xVb7pQ9rLmN4tW{:08}", base + i)
            }))
        })
    });

    // One id, done once: every iteration is a duplicate.
    rt.block_on(deliveries(&once, &verifier, &signer, 1, |_| {
        "msg_done".into()
    }));
    group.bench_function("done_id", |b| {
        b.iter_custom(|iters| {
            rt.block_on(deliveries(&once, &verifier, &signer, iters, |_| {
                "msg_done".into()
            }))
        })
    });
    group.finish();
}

/// A private redis-server, stopped on drop.
struct PrivateRedis(std::process::Child);

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_url() -> (String, Option<PrivateRedis>) {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return (url, None);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
    let child = std::process::Command::new(&bin)
        .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("set REDIS_URL, or install redis-server ({bin}: {e})"));
    let guard = PrivateRedis(child);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (format!("redis://127.0.0.1:{port}/"), Some(guard));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("redis-server did not start on 127.0.0.1:{port}");
}

fn benches(c: &mut Criterion) {
    // One runtime for everything: the Redis connection's driver task lives on it.
    let rt = runtime();
    bench_store(c, &rt, "memory", Idempotency::new(MemoryStore::new()));

    let (url, _guard) = redis_url();
    let store = rt.block_on(RedisStore::connect(&url));
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let store = store.unwrap().prefix(format!("bench:{nanos}:"));
    // Short retention: the bench's keys expire soon after the run.
    let once = Idempotency::new(store).retention(Duration::from_secs(600));
    bench_store(c, &rt, "redis_loopback", once);

    // One bare round trip on the same kind of connection, for scale: `new_id` costs two
    // (claim, then complete), `done_id` one.
    let client = redis::Client::open(url.as_str()).unwrap();
    let conn = rt
        .block_on(redis::aio::ConnectionManager::new(client))
        .unwrap();
    c.bench_function("redis_loopback/ping", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut conn = conn.clone();
                let start = Instant::now();
                for _ in 0..iters {
                    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
                    black_box(pong);
                }
                start.elapsed()
            })
        })
    });
}

criterion_group!(idempotency, benches);
criterion_main!(idempotency);
