//! Asymmetric `v1a` signatures (feature `ed25519`).
#![cfg(feature = "ed25519")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::ed25519::signature::MultipartVerifier;
use serde_json::Value;
use sha2::{Digest, Sha512};
use standard_webhooks::{Error, PublicKey, Secret, Signer, SigningKey, Verifier};
use time::OffsetDateTime;

fn v1a_case() -> Value {
    let data: Value = serde_json::from_str(include_str!("data/official.json")).unwrap();
    data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "v1a-example")
        .cloned()
        .unwrap()
}

fn s<'a>(c: &'a Value, f: &str) -> &'a str {
    c[f].as_str().unwrap()
}

fn now_of(c: &Value) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(s(c, "timestamp").parse().unwrap()).unwrap()
}

fn pk_verifier(c: &Value) -> Verifier {
    Verifier::builder()
        .public_key(s(c, "public_key").parse().unwrap())
        .build()
        .unwrap()
}

fn verify(
    v: &Verifier,
    id: &[u8],
    ts: &[u8],
    sig: &[u8],
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(), Error> {
    let h: [(&str, &[u8]); 3] = [
        ("webhook-id", id),
        ("webhook-timestamp", ts),
        ("webhook-signature", sig),
    ];
    v.verify_at(&h, body, now).map(|_| ())
}

#[test]
fn published_v1a_example_signs_and_verifies() {
    let c = v1a_case();
    let sk: SigningKey = s(&c, "signing_key").parse().unwrap();
    assert_eq!(
        sk.public_key(),
        s(&c, "public_key").parse::<PublicKey>().unwrap()
    );
    let ts: i64 = s(&c, "timestamp").parse().unwrap();
    let sig = Signer::with_signing_key(sk).sign(s(&c, "id"), ts, s(&c, "payload").as_bytes());
    assert_eq!(sig, s(&c, "signature"));
    let (id, ts, sig, body) = (
        s(&c, "id"),
        s(&c, "timestamp"),
        s(&c, "signature"),
        s(&c, "payload"),
    );
    verify(
        &pk_verifier(&c),
        id.as_bytes(),
        ts.as_bytes(),
        sig.as_bytes(),
        body.as_bytes(),
        now_of(&c),
    )
    .unwrap();
}

#[test]
fn one_changed_bit_anywhere_is_rejected() {
    let c = v1a_case();
    let v = pk_verifier(&c);
    let now = now_of(&c);
    let (id, ts, body) = (
        s(&c, "id").as_bytes(),
        s(&c, "timestamp").as_bytes(),
        s(&c, "payload").as_bytes(),
    );
    let sig_bytes = STANDARD.decode(&s(&c, "signature")[4..]).unwrap();
    // Every bit of the signature itself, re-encoded canonically.
    for bit in 0..sig_bytes.len() * 8 {
        let mut b = sig_bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        let sig = format!("v1a,{}", STANDARD.encode(&b));
        assert!(
            verify(&v, id, ts, sig.as_bytes(), body, now).is_err(),
            "signature bit {bit}"
        );
    }
    let sig = s(&c, "signature").as_bytes();
    let flip = |x: &[u8], bit: usize| {
        let mut x = x.to_vec();
        x[bit / 8] ^= 1 << (bit % 8);
        x
    };
    for bit in 0..id.len() * 8 {
        assert!(
            verify(&v, &flip(id, bit), ts, sig, body, now).is_err(),
            "id bit {bit}"
        );
    }
    for bit in 0..ts.len() * 8 {
        assert!(
            verify(&v, id, &flip(ts, bit), sig, body, now).is_err(),
            "timestamp bit {bit}"
        );
    }
    for bit in 0..body.len() * 8 {
        assert!(
            verify(&v, id, ts, sig, &flip(body, bit), now).is_err(),
            "body bit {bit}"
        );
    }
    for bit in 0..sig.len() * 8 {
        assert!(
            verify(&v, id, ts, &flip(sig, bit), body, now).is_err(),
            "header bit {bit}"
        );
    }
}

#[test]
fn mixed_headers_against_each_kind_of_verifier() {
    let secret = Secret::from_bytes([7u8; 32]).unwrap();
    let sk = SigningKey::from_seed(&[9u8; 32]);
    let pk = sk.public_key();
    let body = br#"{"type":"credit_offer.available","data":{}}"#;
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let mixed = Signer::new(secret.clone()).signing_key(sk.clone()).headers(
        "msg_mix",
        now.unix_timestamp(),
        body,
    );
    let parts: Vec<&str> = mixed.signature.split(' ').collect();
    assert!(parts[0].starts_with("v1,") && parts[1].starts_with("v1a,"));

    let only_secret = Verifier::builder().secret(secret.clone()).build().unwrap();
    let only_pk = Verifier::builder().public_key(pk).build().unwrap();
    let both = Verifier::builder()
        .secret(secret.clone())
        .public_key(pk)
        .build()
        .unwrap();
    for v in [&only_secret, &only_pk, &both] {
        assert!(v.verify_at(&mixed, body, now).is_ok(), "{v:?}");
    }
    // Only a v1a entry: a secret-only verifier has nothing to check it with.
    let v1a_only = Signer::with_signing_key(sk).headers("msg_a", now.unix_timestamp(), body);
    assert_eq!(
        only_secret.verify_at(&v1a_only, body, now).unwrap_err(),
        Error::NoMatchingSignature {
            header: "webhook-signature",
            entries: 1,
            keys: 1
        }
    );
    assert!(both.verify_at(&v1a_only, body, now).is_ok());
    // Only a v1 entry: a public-key-only verifier never tries it.
    let v1_only = Signer::new(secret).headers("msg_s", now.unix_timestamp(), body);
    assert!(only_pk.verify_at(&v1_only, body, now).is_err());
    assert!(both.verify_at(&v1_only, body, now).is_ok());
}

#[test]
fn a_v1a_signature_in_a_v1_entry_or_the_reverse_is_not_a_match() {
    let sk = SigningKey::from_seed(&[3u8; 32]);
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let body = b"{}";
    let h = Signer::with_signing_key(sk.clone()).headers("m", now.unix_timestamp(), body);
    let relabelled = h.signature.replacen("v1a,", "v1,", 1);
    let v = Verifier::builder()
        .public_key(sk.public_key())
        .build()
        .unwrap();
    let hdr = [
        ("webhook-id", "m"),
        ("webhook-timestamp", h.timestamp.as_str()),
        ("webhook-signature", relabelled.as_str()),
    ];
    assert!(v.verify_at(&hdr, body, now).is_err());
}

#[test]
fn retiring_public_key_expires() {
    let sk = SigningKey::from_seed(&[5u8; 32]);
    let t = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let v = Verifier::builder()
        .public_key(SigningKey::from_seed(&[6u8; 32]).public_key())
        .public_key_until(sk.public_key(), t)
        .build()
        .unwrap();
    let signer = Signer::with_signing_key(sk);
    let before = t - time::Duration::SECOND;
    assert!(
        v.verify_at(
            &signer.headers("m", before.unix_timestamp(), b"x"),
            b"x",
            before
        )
        .is_ok()
    );
    assert!(
        v.verify_at(&signer.headers("m", t.unix_timestamp(), b"x"), b"x", t)
            .is_err()
    );
}

#[test]
fn public_keys_come_from_config_too() {
    let v = Verifier::builder()
        .secrets_from_config(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=@2030-01-01T00:00:00Z",
        )
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(v.key_count(), 2);
    let err = Verifier::builder()
        .secrets_from_config("whpk_AAAA")
        .unwrap_err();
    assert!(
        matches!(&err, Error::ConfigEntry { position: 1, error, .. }
            if **error == Error::Key(standard_webhooks::KeyError::InvalidLength { found: 3 })),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "key configuration, entry 1 of 1 (`whpk_` and 4 characters): the key decodes to 3 bytes; an Ed25519 key has 32"
    );
}

/// The secret scalar of an Ed25519 seed (RFC 8032 §5.1.5).
fn secret_scalar(seed: &[u8; 32]) -> Scalar {
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    Scalar::from_bytes_mod_order(a)
}

/// `k = SHA-512(R || A || M) mod ℓ`.
fn challenge(r: &[u8; 32], a: &[u8; 32], m: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r);
    h.update(a);
    h.update(m);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

#[test]
fn small_order_r_is_rejected_even_when_the_equation_holds() {
    // With the private scalar `a`, choose R = identity (small order) and S = k·a: then
    // [S]B - [k]A = identity = R, so a non-strict (cofactorless) verifier accepts. Strict
    // verification must not.
    let seed = [11u8; 32];
    let sk = SigningKey::from_seed(&seed);
    let a_bytes = sk.public_key().to_bytes();
    let mut r = [0u8; 32];
    r[0] = 1; // the identity point's encoding
    let (id, ts, body) = ("msg_weak", "1800000000", b"{}".as_slice());
    let m = [id.as_bytes(), b".", ts.as_bytes(), b".", body].concat();
    let s = challenge(&r, &a_bytes, &m) * secret_scalar(&seed);
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&r);
    sig[32..].copy_from_slice(s.as_bytes());

    // The forgery-by-owner does satisfy the plain equation:
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&a_bytes).unwrap();
    assert!(
        vk.multipart_verify(&[&m], &ed25519_dalek::Signature::from_bytes(&sig))
            .is_ok()
    );
    assert!(
        vk.verify_strict(&m, &ed25519_dalek::Signature::from_bytes(&sig))
            .is_err()
    );

    let v = Verifier::builder()
        .public_key(sk.public_key())
        .build()
        .unwrap();
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let header = format!("v1a,{}", STANDARD.encode(sig));
    assert!(
        verify(
            &v,
            id.as_bytes(),
            ts.as_bytes(),
            header.as_bytes(),
            body,
            now
        )
        .is_err()
    );
}

#[test]
fn non_canonical_s_is_rejected() {
    // S + ℓ satisfies the same equation as S modulo ℓ; a verifier that only checks the top bits
    // accepts it. Strict verification requires S < ℓ.
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let c = v1a_case();
    let sig = STANDARD.decode(&s(&c, "signature")[4..]).unwrap();
    let mut carry = 0u16;
    let mut malleated = sig.clone();
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(L[i]) + carry;
        malleated[32 + i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0);
    assert_ne!(malleated, sig);
    let header = format!("v1a,{}", STANDARD.encode(&malleated));
    let (id, ts, body) = (
        s(&c, "id").as_bytes(),
        s(&c, "timestamp").as_bytes(),
        s(&c, "payload").as_bytes(),
    );
    assert_eq!(
        verify(
            &pk_verifier(&c),
            id,
            ts,
            header.as_bytes(),
            body,
            now_of(&c)
        )
        .unwrap_err(),
        Error::NoMatchingSignature {
            header: "webhook-signature",
            entries: 1,
            keys: 1
        }
    );
}

#[test]
fn extra_v1a_entries_beyond_the_cap_are_not_examined() {
    let sk = SigningKey::from_seed(&[1u8; 32]);
    let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let good = Signer::with_signing_key(sk.clone()).sign("m", now.unix_timestamp(), b"x");
    let decoy = Signer::with_signing_key(SigningKey::from_seed(&[2u8; 32])).sign(
        "m",
        now.unix_timestamp(),
        b"x",
    );
    let v = Verifier::builder()
        .public_key(sk.public_key())
        .build()
        .unwrap();
    let ts = now.unix_timestamp().to_string();
    let within = format!(
        "{} {good}",
        [decoy.as_str(); standard_webhooks::MAX_V1A_ENTRIES - 1].join(" ")
    );
    assert!(verify(&v, b"m", ts.as_bytes(), within.as_bytes(), b"x", now).is_ok());
    let beyond = format!(
        "{} {good}",
        [decoy.as_str(); standard_webhooks::MAX_V1A_ENTRIES].join(" ")
    );
    // Not examined, but counted: the error reports every well-formed entry; an entry past the
    // cap that does not decode is not counted.
    let broken = format!("{beyond} v1a,{}", "A".repeat(88));
    for header in [&beyond, &broken] {
        assert_eq!(
            verify(&v, b"m", ts.as_bytes(), header.as_bytes(), b"x", now).unwrap_err(),
            Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: standard_webhooks::MAX_V1A_ENTRIES + 1,
                keys: 1
            },
            "{header}"
        );
    }
}
