//! A whole `verify_at` with arbitrary headers (names in any case, repeated, any bytes), body,
//! clock, tolerance and keys (official, arbitrary, retiring).
//!
//! Checks: never a panic; the pairs and `http::HeaderMap` sources give the same verdict; an
//! accepted delivery has the body given, a timestamp within the tolerance of the clock, an id
//! taken from an id header, and carries the entry an independent `Signer` computes under a key
//! in force; no error or Debug output contains a key's bytes or base64.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use standard_webhooks::{Error, Signer, Verifier};
use standard_webhooks_fuzz::{
    VerifyInput, assert_absent, assert_fixed_wording, expiry_from, header_map, key_bytes,
    key_forms, key_from, parse_request,
};
use time::OffsetDateTime;

fn values<'a>(headers: &'a [(String, Vec<u8>)], names: &[&str]) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|(n, _)| names.iter().any(|x| n.eq_ignore_ascii_case(x)))
        .map(|(_, v)| v.as_slice())
        .collect()
}

fuzz_target!(|input: VerifyInput<'_>| {
    let Ok(now) = OffsetDateTime::from_unix_timestamp(input.now) else {
        return;
    };
    let tolerance = if input.tolerance_secs == u64::MAX {
        Duration::MAX
    } else {
        Duration::new(input.tolerance_secs, input.tolerance_nanos % 1_000_000_000)
    };

    let mut builder = Verifier::builder().tolerance(tolerance);
    let mut keys = Vec::new();
    for spec in &input.keys {
        if let Some(secret) = key_from(spec) {
            let expiry = expiry_from(spec);
            builder = match expiry {
                Some(at) => builder.secret_until(secret.clone(), at),
                None => builder.secret(secret.clone()),
            };
            keys.push((secret, expiry, key_bytes(spec).unwrap_or_default()));
        }
    }
    let verifier = match builder.build_at(now) {
        Ok(v) => v,
        Err(e) => {
            // The same key twice, or two keys HMAC cannot tell apart (trailing zero bytes).
            let duplicate = keys.iter().enumerate().any(|(i, (a, _, _))| {
                keys.iter()
                    .take(i)
                    .any(|(b, _, _)| a.fingerprint() == b.fingerprint())
            });
            let in_force = keys
                .iter()
                .any(|(_, expiry, _)| expiry.is_none_or(|at| now < at));
            match e {
                Error::NoKeys => assert!(keys.is_empty()),
                Error::DuplicateKey { .. } => assert!(duplicate),
                Error::AllKeysExpired { .. } => assert!(!keys.is_empty() && !in_force),
                other => panic!("unexpected {other:?}"),
            }
            assert_fixed_wording(&format!("{e} {e:?}"));
            return;
        }
    };

    let req = parse_request(input.request);
    let got = verifier.verify_at(&req.headers, &req.body, now);
    if let Some(map) = header_map(&req.headers) {
        assert_eq!(verifier.verify_at(&map, &req.body, now), got);
    }

    let mut shown = format!("{verifier:?}");
    match &got {
        Ok(msg) => {
            assert_eq!(msg.body(), req.body.as_slice());
            let ts = msg.timestamp().unix_timestamp();
            let skew = (i128::from(ts) - i128::from(input.now)).unsigned_abs();
            assert!(
                skew <= u128::from(tolerance.as_secs()),
                "accepted at skew {skew}"
            );

            let ids = values(&req.headers, &["webhook-id", "svix-id"]);
            assert!(ids.contains(&msg.id().as_bytes()));

            let entries: Vec<&[u8]> =
                values(&req.headers, &["webhook-signature", "svix-signature"])
                    .into_iter()
                    .flat_map(|v| v.split(|&b| b == b' '))
                    .collect();
            let signed = keys.iter().any(|(secret, expiry, _)| {
                let in_force = expiry.is_none_or(|at| now < at);
                let entry = Signer::new(secret.clone()).sign(msg.id(), ts, msg.body());
                in_force && entries.contains(&entry.as_bytes())
            });
            assert!(signed, "accepted without an entry signed by a key in force");
        }
        Err(e) => {
            let message = format!("{e} {e:?}");
            assert_fixed_wording(&message);
            shown.push_str(&message);
        }
    }
    assert_fixed_wording(&format!("{verifier:?}"));
    for (_, _, bytes) in &keys {
        for form in key_forms(bytes) {
            assert_absent(&shown, &form, "formatted output");
        }
    }
});
