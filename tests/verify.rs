//! The verification rules of the core, across modules.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use standard_webhooks::{Error, Secret, SecretError, Signer, Verifier};
use time::OffsetDateTime;

const T0: i64 = 1_700_000_000;
const BODY: &[u8] =
    br#"{"type":"loan.active","timestamp":"2023-11-14T22:13:20Z","data":{"loan_id":"ln_1"}}"#;

fn secret(n: u8) -> Secret {
    Secret::from_bytes([n; 32]).unwrap()
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn one_key() -> Verifier {
    Verifier::builder().secret(secret(1)).build().unwrap()
}

#[test]
fn tolerance_is_inclusive_in_both_directions() {
    let v = one_key();
    let h = Signer::new(secret(1)).headers("msg_1", T0, BODY);
    assert!(v.verify_at(&h, BODY, at(T0 + 300)).is_ok());
    assert!(v.verify_at(&h, BODY, at(T0 - 300)).is_ok());
    // Sub-second parts of now do not push an exact edge over.
    assert!(
        v.verify_at(&h, BODY, at(T0 + 300) + time::Duration::milliseconds(999))
            .is_ok()
    );
    assert_eq!(
        v.verify_at(&h, BODY, at(T0 + 301)).unwrap_err(),
        Error::TimestampTooOld {
            skew_secs: 301,
            tolerance_secs: 300
        }
    );
    assert_eq!(
        v.verify_at(&h, BODY, at(T0 - 301)).unwrap_err(),
        Error::TimestampTooNew {
            skew_secs: 301,
            tolerance_secs: 300
        }
    );
}

#[test]
fn custom_and_extreme_tolerances() {
    let h = Signer::new(secret(1)).headers("msg_1", T0, BODY);
    let zero = Verifier::builder()
        .secret(secret(1))
        .tolerance(Duration::ZERO)
        .build()
        .unwrap();
    assert!(zero.verify_at(&h, BODY, at(T0)).is_ok());
    assert!(zero.verify_at(&h, BODY, at(T0 + 1)).is_err());
    let max = Verifier::builder()
        .secret(secret(1))
        .tolerance(Duration::MAX)
        .build()
        .unwrap();
    assert!(max.verify_at(&h, BODY, at(-377_705_116_800)).is_ok());
    assert_eq!(max.tolerance(), Duration::MAX);
}

#[test]
fn stale_messages_are_rejected_before_the_signature_is_looked_at() {
    let v = one_key();
    let h = [
        ("webhook-id", "m"),
        ("webhook-timestamp", "1000"),
        ("webhook-signature", "garbage"),
    ];
    assert!(matches!(
        v.verify_at(&h, BODY, at(T0)).unwrap_err(),
        Error::TimestampTooOld { .. }
    ));
}

#[test]
fn timestamp_must_be_canonical() {
    let v = one_key();
    for ts in [
        "+1700000000",
        " 1700000000",
        "01700000000",
        "1700000000.0",
        "1.7e9",
        "１７",
    ] {
        let h = [
            ("webhook-id", "m"),
            ("webhook-timestamp", ts),
            ("webhook-signature", "v1,x"),
        ];
        assert_eq!(
            v.verify_at(&h, BODY, at(T0)).unwrap_err(),
            Error::InvalidTimestamp {
                header: "webhook-timestamp"
            },
            "{ts:?}"
        );
    }
    // A leading minus is an integer far in the past.
    let h = [
        ("webhook-id", "m"),
        ("webhook-timestamp", "-1"),
        ("webhook-signature", "v1,x"),
    ];
    assert!(matches!(
        v.verify_at(&h, BODY, at(T0)).unwrap_err(),
        Error::TimestampTooOld { .. }
    ));
    // i64 extremes and beyond never overflow.
    for ts in [
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999999999",
    ] {
        let h = [
            ("webhook-id", "m"),
            ("webhook-timestamp", ts),
            ("webhook-signature", "v1,x"),
        ];
        assert!(matches!(
            v.verify_at(&h, BODY, at(T0)).unwrap_err(),
            Error::TimestampTooOld { .. } | Error::TimestampTooNew { .. }
        ));
    }
}

#[test]
fn retiring_key_stops_at_its_expiry_without_a_restart() {
    let expires = at(T0 + 3600);
    let v = Verifier::builder()
        .secret(secret(2))
        .secret_until(secret(1), expires)
        .build()
        .unwrap();
    let old = Signer::new(secret(1));
    let new = Signer::new(secret(2));
    let just_before = T0 + 3599;
    let h = old.headers("m", just_before, BODY);
    assert!(v.verify_at(&h, BODY, at(just_before)).is_ok());
    assert_eq!(v.keys_in_force(at(just_before)), 2);
    // At the expiry instant the old key is no longer trusted (exclusive), nor after.
    for t in [T0 + 3600, T0 + 3601] {
        let h = old.headers("m", t, BODY);
        assert_eq!(
            v.verify_at(&h, BODY, at(t)).unwrap_err(),
            Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 1,
                keys: 1
            }
        );
        assert!(v.verify_at(&new.headers("m", t, BODY), BODY, at(t)).is_ok());
    }
    // Judged at the `now` of the call, not at the message timestamp.
    let h = old.headers("m", just_before, BODY);
    assert!(v.verify_at(&h, BODY, at(T0 + 3600)).is_err());
}

#[test]
fn rotation_delivery_passes_with_either_key() {
    let both = Signer::new(secret(1)).secret(secret(2));
    let h = both.headers("msg_rot", T0, BODY);
    assert_eq!(h.signature.split(' ').count(), 2);
    for key in [1, 2] {
        let v = Verifier::builder().secret(secret(key)).build().unwrap();
        assert!(v.verify_at(&h, BODY, at(T0)).is_ok(), "key {key}");
    }
    let stranger = Verifier::builder().secret(secret(3)).build().unwrap();
    assert_eq!(
        stranger.verify_at(&h, BODY, at(T0)).unwrap_err(),
        Error::NoMatchingSignature {
            header: "webhook-signature",
            entries: 2,
            keys: 1
        }
    );
}

#[test]
fn repeated_signature_headers_all_count() {
    let v = one_key();
    let good = Signer::new(secret(1)).sign("m", T0, BODY);
    let bad = Signer::new(secret(9)).sign("m", T0, BODY);
    let h = [
        ("webhook-id", "m".to_string()),
        ("webhook-timestamp", T0.to_string()),
        ("webhook-signature", bad),
        ("WEBHOOK-SIGNATURE", good),
    ];
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());
}

#[test]
fn http_header_map_works_and_ignores_case() {
    let v = one_key();
    let signed = Signer::new(secret(1)).headers("msg_hm", T0, BODY);
    let mut map = http::HeaderMap::new();
    map.insert("Webhook-Id", signed.id.parse().unwrap());
    map.insert("WEBHOOK-TIMESTAMP", signed.timestamp.parse().unwrap());
    map.insert("webhook-signature", signed.signature.parse().unwrap());
    assert_eq!(v.verify_at(&map, BODY, at(T0)).unwrap().id(), "msg_hm");
}

#[test]
fn svix_headers_are_accepted_but_never_mixed() {
    let v = one_key();
    let s = Signer::new(secret(1)).headers("msg_svix", T0, BODY);
    let svix = [
        ("svix-id", s.id.as_str()),
        ("svix-timestamp", s.timestamp.as_str()),
        ("svix-signature", s.signature.as_str()),
    ];
    assert!(v.verify_at(&svix, BODY, at(T0)).is_ok());
    let mixed = [
        ("webhook-id", s.id.as_str()),
        ("svix-timestamp", s.timestamp.as_str()),
        ("svix-signature", s.signature.as_str()),
    ];
    assert_eq!(
        v.verify_at(&mixed, BODY, at(T0)).unwrap_err(),
        Error::MissingHeader {
            header: "webhook-timestamp"
        }
    );
    let svix_missing = [
        ("svix-id", s.id.as_str()),
        ("svix-signature", s.signature.as_str()),
    ];
    assert_eq!(
        v.verify_at(&svix_missing, BODY, at(T0)).unwrap_err(),
        Error::MissingHeader {
            header: "svix-timestamp"
        }
    );
}

#[test]
fn body_is_raw_bytes_not_text() {
    let v = one_key();
    let body: Vec<u8> = (0..=255u8).rev().collect();
    let h = Signer::new(secret(1)).headers("msg_bin", T0, &body);
    assert_eq!(
        v.verify_at(&h, &body, at(T0)).unwrap().body(),
        body.as_slice()
    );
    let empty = Signer::new(secret(1)).headers("msg_empty", T0, b"");
    assert!(v.verify_at(&empty, b"", at(T0)).is_ok());
    assert!(v.verify_at(&empty, b" ", at(T0)).is_err());
}

#[test]
fn system_clock_verify_accepts_fresh_messages() {
    let v = one_key();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let h = Signer::new(secret(1)).headers("msg_now", now, BODY);
    assert!(v.verify(&h, BODY).is_ok());
    let h = Signer::new(secret(1)).headers("msg_old", now - 3600, BODY);
    assert!(matches!(
        v.verify(&h, BODY).unwrap_err(),
        Error::TimestampTooOld { .. }
    ));
}

#[test]
fn building_without_keys_fails() {
    assert_eq!(Verifier::builder().build().unwrap_err(), Error::NoKeys);
    assert_eq!(
        Verifier::builder()
            .secrets_from_config(" , ")
            .unwrap()
            .build()
            .unwrap_err(),
        Error::NoKeys
    );
    assert_eq!(Signer::from_secrets([]).unwrap_err(), Error::NoKeys);
}

#[test]
fn config_lists_parse_keys_and_expiries() {
    let t = OffsetDateTime::from_unix_timestamp(T0).unwrap();
    let v = Verifier::builder()
        .secrets_from_config(
            "whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=,\n whsec_AgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=@2023-11-14T22:13:20Z",
        )
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(v.key_count(), 2);
    assert_eq!(v.keys_in_force(t - time::Duration::SECOND), 2);
    assert_eq!(v.keys_in_force(t), 1);
    let entry_error = |config: &str| match Verifier::builder().secrets_from_config(config) {
        Err(Error::ConfigEntry {
            position, error, ..
        }) => (position, *error),
        other => panic!("{config}: {other:?}"),
    };
    let key = "whsec_AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    assert_eq!(
        entry_error(&format!("{key}@tomorrow")),
        (1, Error::Secret(SecretError::InvalidExpiry))
    );
    assert_eq!(
        entry_error(&format!("{key} whsec_!!")),
        (2, Error::Secret(SecretError::InvalidBase64))
    );
    assert_eq!(
        entry_error("whsec_AAAA"),
        (1, Error::Secret(SecretError::TooShort { len: 3 }))
    );
}

#[test]
fn verifier_is_cheap_shared_and_redacted() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Verifier>();
    let v = Verifier::builder()
        .secret(secret(0x41))
        .secret_until(secret(0x42), at(T0))
        .build()
        .unwrap();
    let dbg = format!("{v:?} {:?}", v.clone());
    let current = secret(0x41).fingerprint();
    let expired = secret(0x42).fingerprint();
    assert!(
        dbg.contains(&format!("secret {current} (current)"))
            && dbg.contains(&format!("secret {expired} (expired at")),
        "{dbg}"
    );
    assert!(!dbg.contains("AAAA") && !dbg.contains("QUFB"), "{dbg}");
}

#[test]
fn error_messages_say_what_is_wrong() {
    let v = one_key();
    let h = [("webhook-id", "m"), ("webhook-signature", "v1,x")];
    assert_eq!(
        v.verify_at(&h, BODY, at(T0)).unwrap_err().to_string(),
        "missing header `webhook-timestamp`"
    );
    let h = Signer::new(secret(1)).headers("m", T0, BODY);
    assert_eq!(
        v.verify_at(&h, BODY, at(T0 + 1000))
            .unwrap_err()
            .to_string(),
        "message timestamp is 1000 s in the past, beyond the tolerance of 300 s"
    );
    assert_eq!(
        v.verify_at(&h, BODY, at(T0 - 400)).unwrap_err().to_string(),
        "message timestamp is 400 s in the future, beyond the tolerance of 300 s"
    );
    assert_eq!(
        v.verify_at(&h, b"other", at(T0)).unwrap_err().to_string(),
        "no signature in `webhook-signature` matches a trusted key (well-formed entries: 1, keys in force: 1)"
    );
}
