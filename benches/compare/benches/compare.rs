//! `standard-webhooks` next to `svix` 2.9 and `standardwebhooks` 1.0, and the plain HMAC floor.
//!
//! ```text
//! cd benches/compare && CARGO_TARGET_DIR=/tmp/compare-target cargo bench
//! ```
//!
//! For each body size, one criterion group measures, on the same `http::HeaderMap` (the three
//! `webhook-*` headers and four ordinary request headers) and the same body:
//! - `hmac_floor`: a plain, pre-keyed HMAC-SHA256 (hmac 0.13 + sha2 0.11) of `id.ts.body`;
//! - `ours`: `Verifier::verify` (it reads the system clock, as the other two do);
//! - `svix`: `svix::webhooks::Webhook::verify`;
//! - `standardwebhooks`: `standardwebhooks::Webhook::verify`.
//!
//! Afterwards the medians are read back from criterion's `estimates.json` files (only those
//! written by this run) and printed as one table with the ratios.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

const SIZES: [(&str, usize); 5] = [
    ("128B", 128),
    ("1KiB", 1024),
    ("16KiB", 16 * 1024),
    ("256KiB", 256 * 1024),
    ("4MiB", 4 * 1024 * 1024),
];

const FUNCTIONS: [&str; 4] = ["hmac_floor", "ours", "svix", "standardwebhooks"];

fn body(len: usize) -> Vec<u8> {
    // Valid UTF-8 (both reference libraries refuse other bodies).
    (0..len).map(|i| b"{\"a\":1234567890}"[i % 16]).collect()
}

fn bench(c: &mut Criterion) {
    let secret: Secret = SECRET.parse().unwrap();
    let ours = Verifier::builder().secret(secret.clone()).build().unwrap();
    let signer = Signer::new(secret);
    let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
    let stdwh = standardwebhooks::Webhook::new(SECRET).unwrap();
    let floor = <Hmac<Sha256> as KeyInit>::new_from_slice(&[0x31u8; 24]).unwrap();

    for (name, len) in SIZES {
        let body = body(len);
        // All three read the system clock: sign with the current time, right before measuring.
        let ts = OffsetDateTime::now_utc().unix_timestamp();
        let ts_dot = format!(".{ts}.");
        let mut map = http::HeaderMap::new();
        for (n, v) in [
            ("host", "receiver.example.com"),
            ("user-agent", "Svix-Webhooks/1.62"),
            ("content-type", "application/json"),
            ("accept", "*/*"),
        ] {
            map.insert(n, http::HeaderValue::from_static(v));
        }
        for (n, v) in signer.headers(ID, ts, &body).iter() {
            map.insert(n, http::HeaderValue::from_str(v).unwrap());
        }
        assert!(ours.verify(&map, &body).is_ok());
        assert!(svix.verify(&body, &map).is_ok());
        assert!(stdwh.verify(&body, &map).is_ok());

        let mut g = c.benchmark_group(format!("compare_{name}"));
        g.throughput(Throughput::Bytes(len as u64));
        if len >= 256 * 1024 {
            g.sample_size(10);
        }
        g.bench_function("hmac_floor", |b| {
            b.iter(|| {
                let mut mac = floor.clone();
                mac.update(black_box(ID.as_bytes()));
                mac.update(ts_dot.as_bytes());
                mac.update(black_box(&body));
                black_box(mac.finalize().into_bytes())
            })
        });
        g.bench_function("ours", |b| {
            b.iter(|| ours.verify(black_box(&map), black_box(&body)).is_ok())
        });
        g.bench_function("svix", |b| {
            b.iter(|| svix.verify(black_box(&body), black_box(&map)).is_ok())
        });
        g.bench_function("standardwebhooks", |b| {
            b.iter(|| stdwh.verify(black_box(&body), black_box(&map)).is_ok())
        });
        g.finish();
    }
}

/// `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else beside this executable.
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Median (ns) of `group/function`, if criterion wrote it during this run.
fn median(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn main() {
    let since = SystemTime::now();
    let dir = output_directory();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(1500))
        .sample_size(30)
        .output_directory(&dir)
        .configure_from_args();
    bench(&mut c);
    c.final_summary();

    println!("\n=== medians; ours / floor, and how many times faster ours is than each library ===");
    println!(
        "| body | plain HMAC floor | ours (`verify`) | svix 2.9.1 | standardwebhooks 1.0.1 | ours / floor | svix / ours | standardwebhooks / ours |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, _) in SIZES {
        let group = format!("compare_{name}");
        let m: Vec<Option<f64>> = FUNCTIONS
            .iter()
            .map(|f| median(&dir, &group, f, since))
            .collect();
        if m.iter().all(Option::is_none) {
            continue;
        }
        let cell = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), fmt_ns);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}×", a / b),
            _ => "-".to_owned(),
        };
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            cell(m[0]),
            cell(m[1]),
            cell(m[2]),
            cell(m[3]),
            ratio(m[1], m[0]),
            ratio(m[2], m[1]),
            ratio(m[3], m[1]),
        );
    }
}
