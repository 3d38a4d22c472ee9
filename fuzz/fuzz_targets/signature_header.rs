//! Signature-header parsing through the public API: `verify_at` of the official example A with
//! an arbitrary `webhook-signature` (each `\n` starts another header line with that name).
//!
//! Oracle, written independently of the crate: any number of entries is examined, and the
//! delivery verifies exactly when one non-empty space-separated entry is byte for byte the
//! canonical `v1,` entry of the example; a header with only empty values is missing. The pairs
//! and the `http::HeaderMap` sources agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use standard_webhooks::{Error, Secret, Verifier};
use std::sync::LazyLock;
use time::OffsetDateTime;

const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: &str = "1614265330";
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const VALID: &[u8] = b"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

static VERIFIER: LazyLock<Verifier> = LazyLock::new(|| {
    let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
    Verifier::builder().secret(secret).build().unwrap()
});

fuzz_target!(|data: &[u8]| {
    let now = OffsetDateTime::from_unix_timestamp(1_614_265_330).unwrap();
    let mut headers: Vec<(&str, &[u8])> = vec![
        ("webhook-id", ID.as_bytes()),
        ("webhook-timestamp", TS.as_bytes()),
    ];
    for value in data.split(|&b| b == b'\n') {
        headers.push(("webhook-signature", value));
    }
    let got = VERIFIER.verify_at(&headers, BODY, now);

    // The same request through http::HeaderMap, when HTTP allows its bytes.
    let mut map = http::HeaderMap::new();
    let mut representable = true;
    for (name, value) in &headers {
        match http::HeaderValue::from_bytes(value) {
            Ok(v) => {
                map.append(*name, v);
            }
            Err(_) => representable = false,
        }
    }
    if representable {
        assert_eq!(VERIFIER.verify_at(&map, BODY, now), got);
    }

    let entries: Vec<&[u8]> = data
        .split(|&b| b == b'\n' || b == b' ')
        .filter(|e| !e.is_empty())
        .collect();
    let all_empty = data.split(|&b| b == b'\n').all(|v| v.is_empty());
    if all_empty {
        assert_eq!(
            got,
            Err(Error::MissingHeader {
                header: "webhook-signature"
            })
        );
    } else if entries.contains(&VALID) {
        let msg = got.expect("the valid entry is present");
        assert_eq!(msg.id(), ID);
        assert_eq!(msg.body(), BODY);
    } else {
        match got {
            Err(Error::NoMatchingSignature {
                entries: n,
                keys: 1,
                ..
            }) => {
                assert!(n <= entries.len());
            }
            other => panic!("expected NoMatchingSignature, got {other:?}"),
        }
    }
});
