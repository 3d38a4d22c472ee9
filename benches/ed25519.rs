//! The cost of one `v1a` (Ed25519) verification at 1 KiB, beside a `v1` (HMAC) one.
//!
//! `cargo bench --features ed25519 --bench ed25519`
// Benchmark set-up may unwrap: the crate's clippy lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use standard_webhooks::{Secret, Signer, SigningKey, Verifier};
use time::OffsetDateTime;

fn v1a(c: &mut Criterion) {
    let sk: SigningKey = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk="
        .parse()
        .unwrap();
    let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_614_265_330).unwrap();
    let body = vec![b'x'; 1024];

    let ed = Verifier::builder()
        .public_key(sk.public_key())
        .build()
        .unwrap();
    let ed_headers =
        Signer::with_signing_key(sk.clone()).headers("msg_1", now.unix_timestamp(), &body);
    let hm = Verifier::builder().secret(secret.clone()).build().unwrap();
    let hm_headers = Signer::new(secret).headers("msg_1", now.unix_timestamp(), &body);

    let mut g = c.benchmark_group("scheme/1KiB");
    g.bench_function("v1a_ed25519_verify", |b| {
        b.iter(|| {
            ed.verify_at(black_box(&ed_headers), black_box(&body), now)
                .is_ok()
        })
    });
    g.bench_function("v1_hmac_verify", |b| {
        b.iter(|| {
            hm.verify_at(black_box(&hm_headers), black_box(&body), now)
                .is_ok()
        })
    });
    let signer = Signer::with_signing_key(sk);
    g.bench_function("v1a_ed25519_sign", |b| {
        b.iter(|| signer.sign("msg_1", black_box(1_614_265_330), black_box(&body)))
    });
    g.finish();
}

criterion_group!(benches, v1a);
criterion_main!(benches);
