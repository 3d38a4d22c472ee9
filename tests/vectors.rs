//! The signature examples published by the Standard Webhooks project
//! (`tests/data/official.json`, copied from the shared vectors).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use serde_json::Value;
use standard_webhooks::{Error, Secret, SecretError, Signer, Verifier};
use time::OffsetDateTime;

fn cases(kind: &str) -> Vec<Value> {
    let data: Value = serde_json::from_str(include_str!("data/official.json")).unwrap();
    let cases: Vec<Value> = data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no `{kind}` case in the vectors");
    cases
}

fn s<'a>(case: &'a Value, field: &str) -> &'a str {
    case[field].as_str().unwrap()
}

fn headers(case: &Value) -> [(&str, &str); 3] {
    [
        ("webhook-id", s(case, "id")),
        ("webhook-timestamp", s(case, "timestamp")),
        ("webhook-signature", s(case, "signature")),
    ]
}

fn at(case: &Value) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(s(case, "timestamp").parse().unwrap()).unwrap()
}

fn verifier(case: &Value) -> Verifier {
    let secret: Secret = s(case, "secret").parse().unwrap();
    Verifier::builder().secret(secret).build().unwrap()
}

#[test]
fn published_signatures_are_reproduced_by_the_signer() {
    for case in cases("sign") {
        let secret: Secret = s(&case, "secret").parse().unwrap();
        let ts: i64 = s(&case, "timestamp").parse().unwrap();
        let sig = Signer::new(secret).sign(s(&case, "id"), ts, s(&case, "payload").as_bytes());
        assert_eq!(sig, s(&case, "signature"), "{}", case["name"]);
    }
}

#[test]
fn published_signatures_verify() {
    for case in cases("sign") {
        let h = headers(&case);
        let msg = verifier(&case)
            .verify_at(&h, s(&case, "payload").as_bytes(), at(&case))
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(msg.id(), s(&case, "id"));
        assert_eq!(msg.body(), s(&case, "payload").as_bytes());
        assert_eq!(msg.timestamp(), at(&case));
    }
}

#[test]
fn published_signatures_verify_under_svix_names() {
    for case in cases("sign") {
        let h = [
            ("svix-id", s(&case, "id")),
            ("svix-timestamp", s(&case, "timestamp")),
            ("svix-signature", s(&case, "signature")),
        ];
        assert!(
            verifier(&case)
                .verify_at(&h, s(&case, "payload").as_bytes(), at(&case))
                .is_ok()
        );
    }
}

#[test]
fn rejected_examples_are_rejected() {
    for case in cases("reject") {
        let h = headers(&case);
        let err = verifier(&case)
            .verify_at(&h, s(&case, "payload").as_bytes(), at(&case))
            .unwrap_err();
        assert!(
            matches!(err, Error::NoMatchingSignature { entries: 0 | 1, .. }),
            "{}: {err:?}",
            case["name"]
        );
    }
}

#[test]
fn accepted_examples_are_accepted() {
    for case in cases("accept") {
        let h = headers(&case);
        assert!(
            verifier(&case)
                .verify_at(&h, s(&case, "payload").as_bytes(), at(&case))
                .is_ok(),
            "{}",
            case["name"]
        );
    }
}

/// The unpadded and padded forms parse alike: to the same secret, or (for the 23-byte example,
/// one short of the 24 bytes the specification requires) to the same refusal. Their bytes are
/// the same either way.
#[test]
fn unpadded_secrets_equal_their_padded_form() {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    // Senders' secrets may leave trailing bits set; the crate tolerates them too.
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    let decode = |s: &str| {
        let b64 = s.trim_start_matches("whsec_").trim_end_matches('=');
        engine.decode(b64).unwrap()
    };
    let mut accepted = 0;
    for case in cases("secret-equivalent") {
        let (secret, padded) = (s(&case, "secret"), s(&case, "padded"));
        let (a, b) = (secret.parse::<Secret>(), padded.parse::<Secret>());
        assert_eq!(a, b, "{}", case["name"]);
        accepted += usize::from(a.is_ok());
        assert_eq!(decode(secret), decode(padded), "{}", case["name"]);
        assert_eq!(
            Secret::from_bytes(decode(secret)).unwrap(),
            Secret::from_bytes(decode(padded)).unwrap()
        );
        if let Err(e) = a {
            assert_eq!(
                e,
                SecretError::TooShort {
                    len: decode(secret).len()
                }
            );
        }
    }
    assert!(
        accepted > 0,
        "no example of a secret long enough was parsed"
    );
}

#[test]
fn invalid_secrets_are_refused() {
    for case in cases("secret-invalid") {
        assert!(
            s(&case, "secret").parse::<Secret>().is_err(),
            "{}",
            case["name"]
        );
    }
}
