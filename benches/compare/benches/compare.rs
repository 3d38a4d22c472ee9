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
//! Afterwards it prints criterion's medians (read back from its `estimates.json` files, only
//! those written by this run) and one table of ratios, measured here by interleaving: rounds of
//! a batch of one function then a batch of the other, about 0.6 s per pair, giving the median
//! of the per-round ratios (load that changes slower than a round cancels out; this shared
//! 2-core machine is rarely idle) and, in brackets, the ratio of the fastest batches.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

#[path = "../../support/ratios.rs"]
mod ratios;
use ratios::{fmt_ns, median, output_directory, paired};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";

const SIZES: [(&str, usize); 5] = [
    ("128B", 128),
    ("1KiB", 1024),
    ("16KiB", 16 * 1024),
    ("256KiB", 256 * 1024),
    ("4MiB", 4 * 1024 * 1024),
];

/// The measured functions, in the order of each size's closures.
const FUNCTIONS: [&str; 4] = ["hmac_floor", "ours", "svix", "standardwebhooks"];

fn body(len: usize) -> Vec<u8> {
    // Valid UTF-8 (both reference libraries refuse other bodies).
    (0..len).map(|i| b"{\"a\":1234567890}"[i % 16]).collect()
}

/// The four measured functions of one body size, in the order of [`FUNCTIONS`].
type Runs = Vec<Box<dyn Fn() -> bool>>;

fn cases() -> Vec<(&'static str, usize, Runs)> {
    let secret: Secret = SECRET.parse().unwrap();
    let signer = Signer::new(secret.clone());
    let mut out = Vec::new();
    for (name, len) in SIZES {
        let body = body(len);
        // All three read the system clock: signed now, and every library is given a day of
        // tolerance where it can be set (ours); the others allow 5 minutes, far more than
        // the whole run takes.
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
        let ours = Verifier::builder()
            .secret(secret.clone())
            .tolerance(Duration::from_secs(86_400))
            .build()
            .unwrap();
        let svix = svix::webhooks::Webhook::new(SECRET).unwrap();
        let stdwh = standardwebhooks::Webhook::new(SECRET).unwrap();
        let floor = <Hmac<Sha256> as KeyInit>::new_from_slice(&[0x31u8; 24]).unwrap();
        assert!(ours.verify(&map, &body).is_ok());
        assert!(svix.verify(&body, &map).is_ok());
        assert!(stdwh.verify(&body, &map).is_ok());
        let shared = std::rc::Rc::new((map, body));
        let (a, b, c) = (shared.clone(), shared.clone(), shared.clone());
        let runs: Runs = vec![
            Box::new(move || {
                let mut mac = floor.clone();
                mac.update(black_box(ID.as_bytes()));
                mac.update(ts_dot.as_bytes());
                mac.update(black_box(&shared.1));
                black_box(mac.finalize().into_bytes())[0] != 1
            }),
            Box::new(move || ours.verify(black_box(&a.0), black_box(&a.1)).is_ok()),
            Box::new(move || svix.verify(black_box(&b.1), black_box(&b.0)).is_ok()),
            Box::new(move || stdwh.verify(black_box(&c.1), black_box(&c.0)).is_ok()),
        ];
        out.push((name, len, runs));
    }
    out
}

fn bench(c: &mut Criterion, cases: &[(&'static str, usize, Runs)]) {
    for (name, len, runs) in cases {
        let mut g = c.benchmark_group(format!("compare_{name}"));
        g.throughput(Throughput::Bytes(*len as u64));
        if *len >= 256 * 1024 {
            g.sample_size(10);
        }
        for (f, run) in FUNCTIONS.iter().zip(runs) {
            g.bench_function(*f, |b| b.iter(run));
        }
        g.finish();
    }
}

fn main() {
    let since = SystemTime::now();
    let dir = output_directory();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(30)
        .output_directory(&dir)
        .configure_from_args();
    let cases = cases();
    bench(&mut c, &cases);
    c.final_summary();

    println!("\n=== criterion medians ===");
    println!("| body | plain HMAC floor | ours (`verify`) | svix 2.9.1 | standardwebhooks 1.0.1 |");
    println!("|---|---|---|---|---|");
    let mut ran = Vec::new();
    for (name, _, runs) in &cases {
        let group = format!("compare_{name}");
        let m: Vec<Option<f64>> = FUNCTIONS
            .iter()
            .map(|f| median(&dir, &group, f, since))
            .collect();
        if m.iter().any(Option::is_none) {
            continue;
        }
        let cell = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), fmt_ns);
        println!(
            "| {name} | {} | {} | {} | {} |",
            cell(m[0]),
            cell(m[1]),
            cell(m[2]),
            cell(m[3])
        );
        ran.push((name, runs));
    }

    println!(
        "\n=== ratios from interleaved rounds (median of per-round ratios; fastest batches) ==="
    );
    println!("| body | ours / floor | svix / ours | standardwebhooks / ours |");
    println!("|---|---|---|---|");
    for (name, runs) in ran {
        let cell = |(r, min): (f64, f64)| format!("{r:.2}× ({min:.2}×)");
        println!(
            "| {name} | {} | {} | {} |",
            cell(paired(&runs[0], &runs[1])),
            cell(paired(&runs[1], &runs[2])),
            cell(paired(&runs[1], &runs[3])),
        );
    }
}
