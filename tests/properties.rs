//! Property tests: what the signer produces verifies; any single-bit change does not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

const NOW: i64 = 1_750_000_000;

/// One to four distinct keys (a verifier refuses a key given twice).
fn keys() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::btree_set(prop::collection::vec(any::<u8>(), 1..80), 1..5)
        .prop_map(|keys| keys.into_iter().collect())
}

fn secrets(keys: &[Vec<u8>]) -> Vec<Secret> {
    keys.iter()
        .map(|k| Secret::from_bytes(k).unwrap())
        .collect()
}

fn verifier(keys: &[Vec<u8>]) -> Verifier {
    secrets(keys)
        .into_iter()
        .fold(Verifier::builder(), |b, s| b.secret(s))
        .build()
        .unwrap()
}

fn headers(id: &[u8], ts: &[u8], sig: &[u8]) -> [(&'static str, Vec<u8>); 3] {
    [
        ("webhook-id", id.to_vec()),
        ("webhook-timestamp", ts.to_vec()),
        ("webhook-signature", sig.to_vec()),
    ]
}

fn flip(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = bit % (out.len() * 8);
    out[i / 8] ^= 1 << (i % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn signed_deliveries_verify_under_every_signing_key(
        keys in keys(),
        id in "[!-~]{1,64}",
        skew in -300i64..=300,
        body in prop::collection::vec(any::<u8>(), 0..2048),
    ) {
        let ts = NOW + skew;
        let signer = Signer::from_secrets(secrets(&keys)).unwrap();
        let h = signer.headers(&id, ts, &body);
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        // Each key alone accepts the multi-signature header.
        for key in &keys {
            let msg = verifier(std::slice::from_ref(key)).verify_at(&h, &body, now).unwrap();
            prop_assert_eq!(msg.id(), id.as_str());
            prop_assert_eq!(msg.body(), body.as_slice());
            prop_assert_eq!(msg.timestamp().unix_timestamp(), ts);
        }
        // So does a verifier holding them all.
        prop_assert!(verifier(&keys).verify_at(&h, &body, now).is_ok());
    }

    #[test]
    fn any_single_bit_change_is_rejected(
        keys in keys(),
        id in "[!-~]{1,40}",
        body in prop::collection::vec(any::<u8>(), 1..512),
        bit in any::<usize>(),
        target in 0..4u8,
    ) {
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        let v = verifier(&keys);
        // Every signature under every key: a flip in the body, id or timestamp breaks all of
        // them. For the signature header, sign with one key so a flip cannot leave another
        // intact entry behind.
        let signer = if target == 3 {
            Signer::new(secrets(&keys).remove(0))
        } else {
            Signer::from_secrets(secrets(&keys)).unwrap()
        };
        let h = signer.headers(&id, NOW, &body);
        let (id_b, ts_b, sig_b) = (h.id.as_bytes(), h.timestamp.as_bytes(), h.signature.as_bytes());
        prop_assert!(v.verify_at(&headers(id_b, ts_b, sig_b), &body, now).is_ok());
        let result = match target {
            0 => v.verify_at(&headers(id_b, ts_b, sig_b), &flip(&body, bit), now).map(|_| ()),
            1 => v.verify_at(&headers(&flip(id_b, bit), ts_b, sig_b), &body, now).map(|_| ()),
            2 => v.verify_at(&headers(id_b, &flip(ts_b, bit), sig_b), &body, now).map(|_| ()),
            _ => v.verify_at(&headers(id_b, ts_b, &flip(sig_b, bit)), &body, now).map(|_| ()),
        };
        prop_assert!(result.is_err(), "target {} bit {} accepted", target, bit);
    }

    #[test]
    fn arbitrary_headers_never_panic(
        id in prop::collection::vec(any::<u8>(), 0..64),
        ts in prop::collection::vec(any::<u8>(), 0..24),
        sig in prop::collection::vec(any::<u8>(), 0..256),
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i32>(),
    ) {
        let v = verifier(&[vec![1; 24]]);
        let now = OffsetDateTime::from_unix_timestamp(i64::from(now)).unwrap();
        prop_assert!(v.verify_at(&headers(&id, &ts, &sig), &body, now).is_err());
    }
}
