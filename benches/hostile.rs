//! The work one verify call does under hostile headers, against its floor: one pre-keyed
//! HMAC-SHA256 pass over the same 1 MiB body (`hmac_floor`).
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench hostile
//! ```
//!
//! Rejections that come before the body (stale timestamp, no well-formed entry among 10,000, a
//! 64 KiB signature header) must cost far less than the floor, whatever the body length; wrong
//! entries of the right shape cost one body pass per key in force, never more, however many
//! there are (each adds one comparison of 44 bytes: 10,000 of them are one linear scan of the
//! header).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY_LEN: usize = 1024 * 1024;

fn hostile(c: &mut Criterion) {
    let key = [0x42u8; 32];
    let secret = Secret::from_bytes(key).unwrap();
    let one_key = Verifier::builder().secret(secret.clone()).build().unwrap();
    let two_keys = Verifier::builder()
        .secret(Secret::from_bytes([0x24u8; 32]).unwrap())
        .secret(secret.clone())
        .build()
        .unwrap();
    let now = OffsetDateTime::from_unix_timestamp(TS).unwrap();
    let body = vec![b'x'; BODY_LEN];
    let good = Signer::new(secret).sign(ID, TS, &body);
    let ts = TS.to_string();
    let wrong = format!("v1,{}=", "A".repeat(43));
    let headers = |sig: String| {
        vec![
            ("webhook-id", ID.to_owned()),
            ("webhook-timestamp", ts.clone()),
            ("webhook-signature", sig),
        ]
    };
    let stale = headers(good.clone());
    let junk = headers(vec!["v2,x"; 10_000].join(" "));
    let many_wrong = headers(vec![wrong.as_str(); 10_000].join(" "));
    let malformed = headers(["v1,short v2,x"; 8].join(" "));
    let huge = headers(format!("v1,{}", "A".repeat(64 * 1024)));
    let one_wrong = headers(wrong.clone());
    let sixteen_wrong = headers(vec![wrong.as_str(); 16].join(" "));
    let floor = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();

    let mut g = c.benchmark_group("hostile/1MiB");
    g.bench_function("hmac_floor", |b| {
        b.iter(|| {
            let mut mac = floor.clone();
            mac.update(black_box(ID.as_bytes()));
            mac.update(b".1614265330.");
            mac.update(black_box(&body));
            black_box(mac.finalize().into_bytes())
        })
    });
    let late = now + time::Duration::minutes(10);
    let cases = [
        ("stale_timestamp", &stale, late, &one_key),
        ("10000_junk_entries", &junk, now, &one_key),
        ("no_well_formed_entry", &malformed, now, &one_key),
        ("64KiB_entry", &huge, now, &one_key),
        ("one_wrong_entry_1_key", &one_wrong, now, &one_key),
        ("16_wrong_entries_1_key", &sixteen_wrong, now, &one_key),
        ("16_wrong_entries_2_keys", &sixteen_wrong, now, &two_keys),
        ("10000_wrong_entries_1_key", &many_wrong, now, &one_key),
        ("10000_wrong_entries_2_keys", &many_wrong, now, &two_keys),
    ];
    for (name, h, at, v) in cases {
        assert!(
            v.verify_at(h, &body, at).is_err(),
            "{name} must be rejected"
        );
        g.bench_function(name, |b| {
            b.iter(|| v.verify_at(black_box(h), black_box(&body), at).is_err())
        });
    }
    g.finish();
}

criterion_group!(benches, hostile);
criterion_main!(benches);
