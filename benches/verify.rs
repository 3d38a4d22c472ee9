//! Verification against its floor: a plain, pre-keyed HMAC-SHA256 of the same bytes.
//!
//! `cargo bench --bench verify`; each group holds `hmac_floor` and `verify` for one body size,
//! so their ratio is read within one run.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;

fn sizes(c: &mut Criterion) {
    let secret: Secret = SECRET.parse().unwrap();
    let verifier = Verifier::builder().secret(secret.clone()).build().unwrap();
    let signer = Signer::new(secret);
    let now = OffsetDateTime::from_unix_timestamp(TS).unwrap();
    let key = [0x31u8; 24];
    let floor = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();

    for (name, len) in [
        ("128B", 128),
        ("1KiB", 1024),
        ("16KiB", 16 * 1024),
        ("256KiB", 256 * 1024),
    ] {
        let body = vec![b'x'; len];
        let headers = signer.headers(ID, TS, &body);
        let map = http::HeaderMap::try_from(&headers).unwrap();
        let mut g = c.benchmark_group(format!("verify/{name}"));
        g.throughput(Throughput::Bytes(len as u64));
        g.bench_function("hmac_floor", |b| {
            b.iter(|| {
                let mut mac = floor.clone();
                mac.update(black_box(ID.as_bytes()));
                mac.update(b".1614265330.");
                mac.update(black_box(&body));
                black_box(mac.finalize().into_bytes())
            })
        });
        g.bench_function("verify", |b| {
            b.iter(|| {
                verifier
                    .verify_at(black_box(&map), black_box(&body), now)
                    .is_ok()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, sizes);
criterion_main!(benches);
