//! No key material in any formatted output: every error variant that can arise (Display and
//! Debug, `Error`, `SecretError` and, with `ed25519`, `KeyError`), the Debug of `Secret`,
//! `Verifier`, `VerifierBuilder`, `Signer` (and `SigningKey`), and what `Verifier::explain`
//! says, for secrets parsed from text (which keep that text, and HMAC states keyed with it).
//!
//! The key bytes are searched for raw, as hex, as a Rust byte-array Debug, and as base64
//! (standard and URL-safe, padded and not, with and without `whsec_`), whole and as any
//! 12-character window. The hostile inputs themselves carry the key's base64, so an error that
//! echoed its input would be caught too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod key_forms;
use key_forms::forms;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use standard_webhooks::{Error, Secret, SecretError, Signer, Verifier};
use time::OffsetDateTime;

/// Two keys: one printable (a raw leak would show as text), one binary.
const KEYS: [&[u8]; 2] = [
    b"correct-horse-battery-staple-key",
    &[
        0x9c, 0x03, 0xf1, 0x5e, 0x00, 0x7a, 0xd2, 0x44, 0xbe, 0x19, 0x86, 0x2f, 0xe0, 0x55, 0x31,
        0xca, 0x0d, 0x6b, 0x93, 0x28, 0xff, 0x47, 0xa5, 0x1c,
    ],
];

const T0: i64 = 1_700_000_000;

fn assert_clean(what: &str, shown: &str) {
    for key in KEYS {
        for form in forms(key) {
            assert!(
                form.len() < 8 || !shown.contains(&form),
                "{what} shows key material {form:?}: {shown}"
            );
        }
    }
}

fn b64(key: &[u8]) -> String {
    STANDARD.encode(key)
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn verifier() -> Verifier {
    KEYS.iter()
        .fold(Verifier::builder(), |b, k| {
            b.secret(Secret::from_bytes(k).unwrap())
        })
        .build()
        .unwrap()
}

/// One delivery whose fields carry the key's base64, so an echo would leak it.
fn hostile(id: &str, ts: &str, sig: &str) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", ts.to_owned()),
        ("webhook-signature", sig.to_owned()),
    ]
}

/// Every `Error` that verification and configuration can produce, with key-laden inputs.
fn every_error() -> Vec<Error> {
    let v = verifier();
    let k = b64(KEYS[0]);
    let k2 = b64(KEYS[1]);
    let ts = T0.to_string();
    let entry = format!("v1,{k}");
    let good = Signer::new(Secret::from_bytes(KEYS[0]).unwrap()).sign(&k, T0, b"body");

    let mut errors = vec![];
    fn err<T>(r: Result<T, Error>) -> Error {
        r.err().expect("an error")
    }
    macro_rules! push {
        ($r:expr) => {
            errors.push(err($r))
        };
    }

    // MissingHeader
    push!(v.verify_at(&hostile(&k, &ts, ""), b"", at(T0)));
    // ConflictingHeader
    let mut h = hostile(&k, &ts, &entry);
    h.push(("webhook-id", k2.clone()));
    push!(v.verify_at(&h, b"", at(T0)));
    // InvalidHeader (non-UTF-8 id that embeds the key)
    let id = [KEYS[0], b"\xff"].concat();
    let h: Vec<(&str, &[u8])> = vec![
        ("webhook-id", &id),
        ("webhook-timestamp", ts.as_bytes()),
        ("webhook-signature", entry.as_bytes()),
    ];
    push!(v.verify_at(&h, b"", at(T0)));
    // InvalidTimestamp (the key as the timestamp)
    push!(v.verify_at(&hostile(&k, &k, &entry), b"", at(T0)));
    // TimestampTooOld / TimestampTooNew
    push!(v.verify_at(&hostile(&k, &ts, &good), b"body", at(T0 + 10_000)));
    push!(v.verify_at(&hostile(&k, &ts, &good), b"body", at(T0 - 10_000)));
    // AllKeysExpired
    push!(
        Verifier::builder()
            .secret_until(Secret::from_bytes(KEYS[0]).unwrap(), at(T0))
            .build()
    );
    // DuplicateKey
    push!(
        Verifier::builder()
            .secret(Secret::from_bytes(KEYS[0]).unwrap())
            .secret_until(Secret::from_bytes(KEYS[0]).unwrap(), at(T0))
            .build()
    );
    push!(Verifier::builder().secrets_from_config(&format!("whsec_{k} {k}")));
    // Secret(...), straight from parsing
    push!("whsec_".parse::<Secret>().map_err(Error::from));
    push!(
        format!("whsec_{}", b64(&KEYS[0][..20]))
            .parse::<Secret>()
            .map_err(Error::from)
    );
    // NoMatchingSignature (the right tag for another body, and the key itself as entries)
    push!(v.verify_at(
        &hostile(&k, &ts, &format!("{good} {entry} v1,{k2}")),
        b"other",
        at(T0)
    ));
    // NoKeys
    push!(Verifier::builder().build());
    // ConfigEntry(...): each entry carries a key.
    for config in [
        format!("whsec_{k}@not-a-date"),
        format!("whsec_{k}!"),
        format!("whpk_{}", b64(&KEYS[0][..31])),
        format!("whsk_{k2}"),
        "whsec_".to_owned(),
        format!("\"whsec_{k}\""),
        format!("whsec_{k};whsec_{k2}"),
        format!("whsec_{}", b64(&KEYS[0][..20])),
        format!("whsec_{k} whsec_{}", URL_SAFE.encode(KEYS[1])),
    ] {
        let r = Verifier::builder().secrets_from_config(&config);
        assert!(r.is_err(), "{config} was accepted");
        push!(r);
    }
    #[cfg(feature = "ed25519")]
    {
        use standard_webhooks::{PublicKey, SigningKey};
        let mut identity = [0u8; 32];
        identity[0] = 1;
        for config in [
            format!("whpk_{}", b64(&KEYS[0][..31])),
            k.clone(),
            format!("whsec_{k}"),
            format!("whpk_{k}!"),
            format!("whpk_{}", b64(&identity)),
        ] {
            push!(config.parse::<PublicKey>().map_err(Error::from));
        }
        for config in [
            format!("whsk_{k2}"),
            format!("whsk_{k}!"),
            format!("whpk_{k}"),
        ] {
            push!(config.parse::<SigningKey>().map_err(Error::from));
        }
    }
    errors
}

#[test]
fn every_error_variant_arises_and_none_shows_key_material() {
    let errors = every_error();
    let mut kinds: Vec<String> = Vec::new();
    for e in &errors {
        let shown = format!("{e}\n{e:?}\n{e:#?}");
        assert_clean("Error", &shown);
        if let Some(source) = std::error::Error::source(e) {
            assert_clean("Error source", &format!("{source}\n{source:?}"));
        }
        let kind = format!("{e:?}");
        kinds.push(kind.split([' ', '(', '{']).next().unwrap().to_owned());
    }
    for kind in [
        "MissingHeader",
        "ConflictingHeader",
        "InvalidHeader",
        "InvalidTimestamp",
        "TimestampTooOld",
        "TimestampTooNew",
        "NoMatchingSignature",
        "NoKeys",
        "AllKeysExpired",
        "ConfigEntry",
        "DuplicateKey",
        "Secret",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "{kind} never arose: {kinds:?}"
        );
    }
    #[cfg(feature = "ed25519")]
    for kind in [
        "MissingPrefix",
        "WrongKind",
        "InvalidBase64",
        "InvalidLength",
        "WeakOrInvalidPublicKey",
    ] {
        let found = errors
            .iter()
            .any(|e| matches!(e, Error::Key(k) if format!("{k:?}").starts_with(kind)));
        assert!(found, "KeyError::{kind} never arose");
    }
}

#[test]
fn every_secret_error_variant_arises_and_none_shows_key_material() {
    let k = b64(KEYS[0]);
    let cases: Vec<(String, SecretError)> = vec![
        ("whsec_".into(), SecretError::Empty),
        (format!("whsec_{k}!"), SecretError::InvalidBase64),
        (
            format!("whsec_{}", URL_SAFE.encode(KEYS[1])),
            SecretError::InvalidBase64,
        ),
        (
            format!("whpk_{k}"),
            SecretError::WrongKind {
                found: "`whpk_` public key",
            },
        ),
        (
            format!("whsk_{k}"),
            SecretError::WrongKind {
                found: "`whsk_` signing key",
            },
        ),
        (
            format!("whsec_{}", b64(&KEYS[0][..23])),
            SecretError::TooShort { len: 23 },
        ),
    ];
    for (input, want) in cases {
        let e = input.parse::<Secret>().unwrap_err();
        assert_eq!(e, want, "{input}");
        assert_clean("SecretError", &format!("{e}\n{e:?}\n{e:#?}"));
    }
    assert_eq!(Secret::from_bytes([]).unwrap_err(), SecretError::Empty);
    let e = Verifier::builder()
        .secrets_from_config(&format!("whsec_{k}@2026-13-45"))
        .unwrap_err();
    assert!(
        matches!(&e, Error::ConfigEntry { position: 1, count: 1, error, .. }
            if **error == Error::Secret(SecretError::InvalidExpiry)),
        "{e:?}"
    );
    assert_clean("SecretError", &format!("{e}\n{e:?}"));
}

#[test]
fn debug_of_keyed_types_shows_no_key_material() {
    let secrets: Vec<Secret> = KEYS
        .iter()
        .map(|k| Secret::from_bytes(k).unwrap())
        .collect();
    for s in &secrets {
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
        assert_eq!(format!("{s:#?}"), "Secret([redacted])");
    }
    let builder = Verifier::builder()
        .secret(secrets[0].clone())
        .secret_until(secrets[1].clone(), at(T0));
    let verifier = builder.clone().build().unwrap();
    let signer = Signer::from_secrets(secrets.clone()).unwrap();
    let fingerprints: Vec<String> = secrets
        .iter()
        .map(|s| s.fingerprint().to_string())
        .collect();
    for (what, shown) in [
        ("VerifierBuilder", format!("{builder:?} {builder:#?}")),
        ("Verifier", format!("{verifier:?} {verifier:#?}")),
        ("Signer", format!("{signer:?} {signer:#?}")),
    ] {
        assert_clean(what, &shown);
        // Counts, fingerprints and the tolerance: no HMAC state, no other long run of hex or
        // digits.
        assert!(!shown.to_lowercase().contains("hmac"), "{what}: {shown}");
        let mut rest = shown.clone();
        for fingerprint in &fingerprints {
            rest = rest.replace(fingerprint.as_str(), "");
        }
        assert!(
            !rest
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w.len() >= 16),
            "{what}: {shown}"
        );
    }
    // The verifier lists its keys by fingerprint, the expired one as such.
    let shown = format!("{verifier:?}");
    assert!(
        shown.contains(&format!("secret {} (current)", fingerprints[0])),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "secret {} (expired at 2023-11-14T22:13:20Z)",
            fingerprints[1]
        )),
        "{shown}"
    );
}

#[cfg(feature = "ed25519")]
#[test]
fn signing_key_debug_is_redacted() {
    let seed: [u8; 32] = KEYS[0].try_into().unwrap();
    let key = standard_webhooks::SigningKey::from_seed(&seed);
    assert_eq!(format!("{key:?}"), "SigningKey([redacted])");
    let signer = Signer::with_signing_key(key);
    assert_clean("Signer", &format!("{signer:?} {signer:#?}"));
}

#[test]
fn the_scan_catches_a_leak() {
    // The scanner itself must be able to fail: each form of the key is found.
    for shown in [
        format!("key: whsec_{}", b64(KEYS[0])),
        format!("partial {}", &STANDARD_NO_PAD.encode(KEYS[1])[5..17]),
        format!("{:?}", KEYS[1]),
        "correct-horse-battery-staple-key".to_owned(),
    ] {
        let caught = std::panic::catch_unwind(|| assert_clean("probe", &shown));
        assert!(caught.is_err(), "not caught: {shown}");
    }
}

/// A secret parsed from text keeps the text (for `explain`'s `secret_as_text`) and its
/// verifier keeps HMAC states keyed with it: none of it shows in any Debug, and no finding of
/// `explain` shows it, even when the finding is that the sender keyed its HMAC with it.
#[test]
fn parsed_secrets_keep_their_text_hidden() {
    fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    wiped_on_drop::<Secret>();

    let texts: Vec<String> = KEYS.iter().map(|k| format!("whsec_{}", b64(k))).collect();
    let secrets: Vec<Secret> = texts.iter().map(|t| t.parse().unwrap()).collect();
    for s in &secrets {
        assert_eq!(
            format!("{s:?} {:?}", s.clone()),
            "Secret([redacted]) Secret([redacted])"
        );
    }
    let builder = Verifier::builder()
        .secret(secrets[0].clone())
        .secret_until(secrets[1].clone(), at(T0));
    let verifier = builder.clone().build_at(at(T0 - 1)).unwrap();
    let from_config = Verifier::builder()
        .secrets_from_config(&texts.join(" "))
        .unwrap()
        .build()
        .unwrap();
    for (what, shown) in [
        ("VerifierBuilder", format!("{builder:?} {builder:#?}")),
        ("Verifier", format!("{verifier:?} {verifier:#?}")),
        ("Verifier from config", format!("{from_config:?}")),
    ] {
        assert_clean(what, &shown);
    }

    // Deliveries signed with each key's text (with and without `whsec_`), with its bytes, by
    // the expired key, and hostile ones carrying the key's text in every header.
    let ts = T0.to_string();
    let body = b"{\"type\":\"loan.active\"}";
    let mut deliveries = Vec::new();
    for (key, text) in KEYS.iter().zip(&texts) {
        let k = b64(key);
        for signing_key in [text.as_bytes(), k.as_bytes(), key] {
            let sig = Signer::new(Secret::from_bytes(signing_key).unwrap()).sign("msg_1", T0, body);
            deliveries.push(hostile("msg_1", &ts, &sig));
        }
        deliveries.push(hostile(text, &ts, &format!("v1,{k} v1a,{k}")));
        deliveries.push(hostile(
            "msg_1",
            text,
            &format!("v1,{}", URL_SAFE.encode(key)),
        ));
        deliveries.push(vec![
            ("webhook-id", text.clone()),
            ("svix-timestamp", k.clone()),
            ("svix-signature", format!("v1,{text}")),
        ]);
    }
    let mut kinds = Vec::new();
    for h in &deliveries {
        for now in [at(T0), at(T0 + 10_000)] {
            let e = verifier.explain(h, body, now);
            assert_clean("Explanation", &format!("{e}\n{e:?}"));
            kinds.extend(e.findings().iter().map(|f| f.code()));
        }
    }
    for kind in [
        "secret_as_text",
        "retired_key",
        "no_matching_key",
        "mixed_header_families",
    ] {
        assert!(kinds.contains(&kind), "{kind} never arose: {kinds:?}");
    }
}
