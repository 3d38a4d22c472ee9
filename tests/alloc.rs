//! A verify call allocates nothing on the heap: accepted or rejected, with an `http::HeaderMap`
//! or a slice of pairs, under one key or several.
//!
//! This test binary counts every allocation through a `#[global_allocator]` (`stats_alloc`,
//! since the crate forbids the `unsafe` a hand-written one needs). The counter is global, so
//! everything is measured inside a single `#[test]`: no other test thread of this binary can
//! allocate while a region is open.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::alloc::System;
use std::hint::black_box;

use standard_webhooks::{Error, Secret, Signer, Verifier};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use time::OffsetDateTime;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const T0: i64 = 1_700_000_000;
const ID: &str = "msg_2Kq8Wz";
const CALLS: usize = 100;

fn secret(n: u8) -> Secret {
    Secret::from_bytes([n; 32]).unwrap()
}

/// `secret(n)` as a configuration entry.
fn base64_secret(n: u8) -> String {
    use base64::Engine as _;
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode([n; 32])
    )
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn to_map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (n, v) in pairs {
        map.append(
            http::HeaderName::try_from(n.as_str()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

/// The delivery's headers as pairs, after a few ordinary request headers.
fn pairs_for(signer: &Signer, ts: i64, body: &[u8]) -> Vec<(String, String)> {
    [
        ("host", "example.com"),
        ("content-type", "application/json"),
    ]
    .into_iter()
    .chain(signer.headers(ID, ts, body).iter())
    .map(|(n, v)| (n.to_owned(), v.to_owned()))
    .collect()
}

fn with(pairs: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    let mut out: Vec<_> = pairs.iter().filter(|(n, _)| n != name).cloned().collect();
    if !value.is_empty() {
        out.push((name.to_owned(), value.to_owned()));
    }
    out
}

/// Heap allocations (and reallocations) made by `CALLS` runs of `f`.
/// Allocations and reallocations made while `f` runs `CALLS` times.
///
/// The counter is process-wide, and the test harness's own thread allocates now and then (a
/// few times, at random moments: seen in about 1 run in 20). So the count is taken three times
/// and the smallest kept: an allocation made by `f` itself is made on every call, so it shows
/// in every count (at least `CALLS`), while a stray one from elsewhere does not land in all
/// three.
fn allocations(mut f: impl FnMut()) -> usize {
    f(); // any lazy, once-only initialisation (none is expected) happens outside the region
    (0..3)
        .map(|_| {
            let region = Region::new(GLOBAL);
            for _ in 0..CALLS {
                f();
            }
            let change = region.change();
            change.allocations + change.reallocations
        })
        .min()
        .unwrap_or(usize::MAX)
}

/// One scenario: a verifier, headers as pairs (also run as an `http::HeaderMap`), a body,
/// the time of the call and the expected outcome.
struct Case {
    name: &'static str,
    verifier: Verifier,
    pairs: Vec<(String, String)>,
    body: Vec<u8>,
    now: OffsetDateTime,
    expect: Result<(), Error>,
}

#[test]
fn verify_never_allocates() {
    // The counter works: a region around an allocation sees it.
    assert_eq!(
        allocations(|| {
            black_box(vec![1u8; 64]);
        }),
        CALLS,
        "the counting allocator does not count"
    );

    let body: Vec<u8> = (0..1024u32).map(|i| b'a' + (i % 26) as u8).collect();
    let one = Verifier::builder().secret(secret(1)).build().unwrap();
    let rotation = Verifier::builder()
        .secret(secret(2))
        .secret_until(secret(1), at(T0 + 3600))
        .build()
        .unwrap();
    let five = (1..=5)
        .fold(Verifier::builder(), |b, n| b.secret(secret(n)))
        .build()
        .unwrap();
    let signed = pairs_for(&Signer::new(secret(1)), T0, &body);
    let by_last = pairs_for(&Signer::new(secret(5)), T0, &body);
    let svix: Vec<(String, String)> = signed
        .iter()
        .map(|(n, v)| (n.replace("webhook-", "svix-"), v.clone()))
        .collect();
    let sig = signed
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .unwrap()
        .1
        .clone();
    // More entries than the verifier keeps by reference: the header is read again per key.
    let forged_entry = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let many_forged = [forged_entry; 40].join(" ");
    let many_then_valid = format!("{many_forged} {sig}");
    // A verifier whose keys changed while it runs: rotated, then reloaded.
    let rotated = Verifier::builder().secret(secret(3)).build().unwrap();
    rotated.rotate(secret(4), std::time::Duration::from_secs(3600));
    rotated.rotate(secret(1), std::time::Duration::from_secs(3600));
    let reloaded = Verifier::builder().secret(secret(3)).build().unwrap();
    let config = format!("{} {}", base64_secret(2), base64_secret(1));
    reloaded.reload_from_config(&config).unwrap();
    let mut repeated_id = signed.clone();
    repeated_id.push(("webhook-id".to_owned(), "msg_other".to_owned()));

    let cases = [
        Case {
            name: "accepted, 1 key",
            verifier: one.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, empty body",
            verifier: one.clone(),
            pairs: pairs_for(&Signer::new(secret(1)), T0, b""),
            body: Vec::new(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, 2 keys, signed by the retiring one",
            verifier: rotation.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, 5 keys, the last matches",
            verifier: five.clone(),
            pairs: by_last,
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, several entries in the header",
            verifier: one.clone(),
            pairs: with(
                &signed,
                "webhook-signature",
                &format!("v1a,abc v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {sig}"),
            ),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, svix-* headers",
            verifier: one.clone(),
            pairs: svix,
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "rejected, missing header",
            verifier: one.clone(),
            pairs: with(&signed, "webhook-signature", ""),
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::MissingHeader {
                header: "webhook-signature",
            }),
        },
        Case {
            name: "rejected, stale timestamp",
            verifier: one.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0 + 301),
            expect: Err(Error::TimestampTooOld {
                skew_secs: 301,
                tolerance_secs: 300,
            }),
        },
        Case {
            name: "rejected, timestamp in the future",
            verifier: one.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0 - 301),
            expect: Err(Error::TimestampTooNew {
                skew_secs: 301,
                tolerance_secs: 300,
            }),
        },
        Case {
            name: "rejected, malformed timestamp",
            verifier: one.clone(),
            pairs: with(&signed, "webhook-timestamp", "+1700000000"),
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::InvalidTimestamp {
                header: "webhook-timestamp",
            }),
        },
        Case {
            name: "rejected, repeated id with another value",
            verifier: one.clone(),
            pairs: repeated_id,
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::ConflictingHeader {
                header: "webhook-id",
            }),
        },
        Case {
            name: "accepted, the valid entry after 40 forged ones",
            verifier: one.clone(),
            pairs: with(&signed, "webhook-signature", &many_then_valid),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "rejected, 40 forged entries",
            verifier: one.clone(),
            pairs: with(&signed, "webhook-signature", &many_forged),
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 40,
                keys: 1,
            }),
        },
        Case {
            name: "accepted, after two rotations, by the newest key",
            verifier: rotated.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, after two rotations, by a retiring key",
            verifier: rotated,
            pairs: pairs_for(&Signer::new(secret(3)), T0, &body),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "accepted, after a reload, by the second key",
            verifier: reloaded.clone(),
            pairs: signed.clone(),
            body: body.clone(),
            now: at(T0),
            expect: Ok(()),
        },
        Case {
            name: "rejected, after a reload, the key it replaced",
            verifier: reloaded,
            pairs: pairs_for(&Signer::new(secret(3)), T0, &body),
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 1,
                keys: 2,
            }),
        },
        Case {
            name: "rejected, forged signature under 5 keys",
            verifier: five,
            pairs: with(
                &signed,
                "webhook-signature",
                "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            ),
            body: body.clone(),
            now: at(T0),
            expect: Err(Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 1,
                keys: 5,
            }),
        },
        Case {
            name: "rejected, tampered body",
            verifier: rotation,
            pairs: signed.clone(),
            body: {
                let mut b = body.clone();
                b[7] ^= 1;
                b
            },
            now: at(T0),
            expect: Err(Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 1,
                keys: 2,
            }),
        },
    ];

    let mut failures = Vec::new();
    for case in &cases {
        let map = to_map(&case.pairs);
        let slice = case.pairs.as_slice();
        let (v, body, now) = (&case.verifier, case.body.as_slice(), case.now);
        // The outcome is the expected one, under both header sources.
        assert_eq!(
            v.verify_at(slice, body, now).map(|_| ()),
            case.expect,
            "{}",
            case.name
        );
        assert_eq!(
            v.verify_at(&map, body, now).map(|_| ()),
            case.expect,
            "{}",
            case.name
        );
        let n = allocations(|| {
            black_box(v.verify_at(black_box(slice), black_box(body), now).is_ok());
        });
        if n != 0 {
            failures.push(format!("{} (slice of pairs): {n} allocations", case.name));
        }
        let n = allocations(|| {
            black_box(v.verify_at(black_box(&map), black_box(body), now).is_ok());
        });
        if n != 0 {
            failures.push(format!("{} (http::HeaderMap): {n} allocations", case.name));
        }
    }

    // `verify` reads the system clock: sign with the current time.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let fresh = to_map(&pairs_for(&Signer::new(secret(1)), now, &body));
    assert!(one.verify(&fresh, &body).is_ok());
    let n = allocations(|| {
        black_box(one.verify(black_box(&fresh), black_box(&body)).is_ok());
    });
    if n != 0 {
        failures.push(format!("verify with the system clock: {n} allocations"));
    }

    // Asymmetric `v1a` entries are streamed into Ed25519 too: accepted and forged.
    #[cfg(feature = "ed25519")]
    {
        let sk = standard_webhooks::SigningKey::from_seed(&[4; 32]);
        let v = Verifier::builder()
            .secret(secret(1))
            .public_key(sk.public_key())
            .build()
            .unwrap();
        let signed = to_map(&pairs_for(&Signer::with_signing_key(sk), T0, &body));
        let mut forged_body = body.clone();
        forged_body[0] ^= 1;
        assert!(v.verify_at(&signed, &body, at(T0)).is_ok());
        assert!(v.verify_at(&signed, &forged_body, at(T0)).is_err());
        for (name, b) in [("v1a accepted", &body), ("v1a forged", &forged_body)] {
            let n = allocations(|| {
                black_box(
                    v.verify_at(black_box(&signed), black_box(b), at(T0))
                        .is_ok(),
                );
            });
            if n != 0 {
                failures.push(format!("{name} (http::HeaderMap): {n} allocations"));
            }
        }
    }

    assert!(
        failures.is_empty(),
        "verify allocated ({CALLS} calls each):\n{}",
        failures.join("\n")
    );
}
