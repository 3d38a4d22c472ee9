//! The keys of a running verifier: expired keys at start-up, rotation, reload, the key listing,
//! and which key verified a delivery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use standard_webhooks::{Error, KeyKind, Secret, Signer, Verifier};
use time::OffsetDateTime;

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const NEWER: &str = "whsec_3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA";
const BODY: &[u8] = br#"{"type":"loan.signed","timestamp":"2026-11-30T12:00:00Z","data":{}}"#;

fn secret(s: &str) -> Secret {
    s.parse().unwrap()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Whether a delivery signed now by `by` alone verifies at `at`.
fn accepts(v: &Verifier, by: &str, at: OffsetDateTime) -> bool {
    let h = Signer::new(secret(by)).headers("msg_1", at.unix_timestamp(), BODY);
    v.verify_at(&h, BODY, at).is_ok()
}

#[test]
fn a_config_whose_keys_have_all_expired_does_not_start() {
    let config = format!("{OLD}@2026-01-01T00:00:00Z {NEW}@2026-02-01T00:00:00Z");
    let err = Verifier::builder()
        .secrets_from_config(&config)
        .unwrap()
        .build()
        .unwrap_err();
    assert_eq!(
        err,
        Error::AllKeysExpired {
            keys: 2,
            last_expiry: time::macros::datetime!(2026-02-01 0:00 UTC),
        }
    );
    assert_eq!(
        err.to_string(),
        "no key is in force: all 2 configured keys have expired (the last one at \
         2026-02-01T00:00:00Z); add the sender's current secret"
    );
    // A single retiring key past its expiry, through the builder.
    assert!(matches!(
        Verifier::builder()
            .secret_until(secret(OLD), now() - time::Duration::SECOND)
            .build(),
        Err(Error::AllKeysExpired { keys: 1, .. })
    ));
}

/// A restart with the configuration left as it was after a rotation: the old key long expired,
/// the new one current. It starts; the old key is listed as expired, never trusted now, and
/// still judged at an earlier time (a replayed capture, a test).
#[test]
fn a_stale_config_restarts_and_keeps_the_expired_key_visible() {
    let config = format!("{NEW} {OLD}@2026-01-01T00:00:00Z");
    let v = Verifier::builder()
        .secrets_from_config(&config)
        .unwrap()
        .build()
        .unwrap();
    let keys = v.keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[1].fingerprint(), secret(OLD).fingerprint());
    assert!(!keys[1].in_force_at(now()));
    assert!(format!("{v:?}").contains("(expired at 2026-01-01T00:00:00Z)"));

    assert!(accepts(&v, NEW, now()));
    assert!(!accepts(&v, OLD, now()));
    let before = time::macros::datetime!(2025-12-31 23:00 UTC);
    assert!(accepts(&v, OLD, before));
}

#[test]
fn rotate_installs_the_new_key_for_every_clone() {
    let v = Verifier::builder().secret(secret(OLD)).build().unwrap();
    let state = v.clone(); // what a router holds
    assert!(!accepts(&state, NEW, now()));

    let before = now();
    v.rotate(secret(NEW), Duration::from_secs(3600));
    let after = now();

    assert!(accepts(&state, NEW, now()));
    assert!(accepts(&state, OLD, now()));
    let keys = state.keys();
    assert_eq!(keys[0].fingerprint(), secret(NEW).fingerprint());
    assert_eq!(keys[0].expires_at(), None);
    assert_eq!(keys[1].fingerprint(), secret(OLD).fingerprint());
    let until = keys[1].expires_at().unwrap();
    assert!(
        before + time::Duration::HOUR <= until && until <= after + time::Duration::HOUR,
        "{until}"
    );
    // At the end of the grace period the old key stops, the new one goes on.
    assert!(!accepts(&state, OLD, until));
    assert!(accepts(&state, NEW, until));
}

#[test]
fn rotate_keeps_an_earlier_expiry_and_shortens_a_later_one() {
    let soon = now() + time::Duration::minutes(10);
    let late = now() + time::Duration::days(2);
    let v = Verifier::builder()
        .secret(secret(NEW))
        .secret_until(secret(OLD), soon)
        .secret_until(secret(NEWER), late)
        .build()
        .unwrap();
    let fresh = Secret::from_bytes([9; 32]).unwrap();
    v.rotate(fresh.clone(), Duration::from_secs(3600));
    let expiry = |s: &Secret| {
        v.keys()
            .into_iter()
            .find(|k| k.fingerprint() == s.fingerprint())
            .unwrap()
            .expires_at()
    };
    assert_eq!(expiry(&fresh), None);
    assert_eq!(expiry(&secret(OLD)), Some(soon));
    let hour = now() + time::Duration::HOUR;
    let new = expiry(&secret(NEW)).unwrap();
    let newer = expiry(&secret(NEWER)).unwrap();
    assert!(
        new <= hour && new > hour - time::Duration::minutes(1),
        "{new}"
    );
    assert_eq!(new, newer);
}

#[test]
fn rotating_to_a_key_held_already_makes_it_current_without_a_duplicate() {
    let v = Verifier::builder()
        .secret(secret(NEW))
        .secret_until(secret(OLD), now() + time::Duration::HOUR)
        .build()
        .unwrap();
    // The retiring key becomes current again (a rotation rolled back), the other one retires.
    v.rotate(secret(OLD), Duration::from_secs(60));
    let keys = v.keys();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].fingerprint(), secret(OLD).fingerprint());
    assert_eq!(keys[0].expires_at(), None);
    assert!(keys[1].expires_at().is_some());
    // Rotating to the current key again changes nothing else.
    v.rotate(secret(OLD), Duration::from_secs(60));
    assert_eq!(v.keys().len(), 2);
}

#[test]
fn rotation_keeps_only_the_last_expired_keys() {
    let v = Verifier::builder()
        .secret(Secret::from_bytes([0; 32]).unwrap())
        .build()
        .unwrap();
    for n in 1..=20u8 {
        // A zero grace period: the previous key expires at once.
        v.rotate(Secret::from_bytes([n; 32]).unwrap(), Duration::ZERO);
    }
    let keys = v.keys();
    let in_force = keys.iter().filter(|k| k.in_force_at(now())).count();
    assert_eq!(in_force, 1);
    // The current key and the four that expired last (one more on a tie of expiries).
    let expired = keys.len() - 1;
    assert!((4..=5).contains(&expired), "{expired} expired keys kept");
    assert_eq!(
        keys[0].fingerprint(),
        Secret::from_bytes([20; 32]).unwrap().fingerprint()
    );
}

#[test]
fn reload_is_all_or_nothing() {
    let v = Verifier::builder().secret(secret(OLD)).build().unwrap();
    let before = v.keys();

    // Does not parse: nothing changes, and the error names the entry.
    let err = v
        .reload_from_config(&format!("{NEW} \"{NEWER}\""))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConfigEntry {
                position: 2,
                count: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(v.keys(), before);

    // Leaves no key in force: nothing changes.
    let err = v
        .reload_from_config(&format!("{NEW}@2020-01-01T00:00:00Z"))
        .unwrap_err();
    assert!(
        matches!(err, Error::AllKeysExpired { keys: 1, .. }),
        "{err:?}"
    );
    assert_eq!(v.keys(), before);

    // Empty, or a key twice: nothing changes.
    assert_eq!(v.reload_from_config(" ").unwrap_err(), Error::NoKeys);
    assert!(matches!(
        v.reload_from_config(&format!("{NEW} {NEW}")),
        Err(Error::DuplicateKey { .. })
    ));
    assert_eq!(v.keys(), before);
    assert!(accepts(&v, OLD, now()));

    // A good one replaces every key.
    v.reload_from_config(&format!("{NEW}, {NEWER}@2099-01-01T00:00:00Z"))
        .unwrap();
    assert!(accepts(&v, NEW, now()));
    assert!(accepts(&v, NEWER, now()));
    assert!(!accepts(&v, OLD, now()));
    assert_eq!(v.key_count(), 2);
}

#[test]
fn a_verified_message_names_the_key_that_matched() {
    let v = Verifier::builder()
        .secret(secret(NEW))
        .secret_until(secret(OLD), now() + time::Duration::HOUR)
        .build()
        .unwrap();
    for (by, other) in [(OLD, NEW), (NEW, OLD), (OLD, NEW)] {
        let at = now();
        let h = Signer::new(secret(by)).headers("msg_1", at.unix_timestamp(), BODY);
        let msg = v.verify_at(&h, BODY, at).unwrap();
        assert_eq!(msg.key_fingerprint(), secret(by).fingerprint());
        assert_ne!(msg.key_fingerprint(), secret(other).fingerprint());
    }
    // Signed by both: the one tried first; either way one of the two.
    let at = now();
    let both = Signer::from_secrets([secret(OLD), secret(NEW)])
        .unwrap()
        .headers("msg_2", at.unix_timestamp(), BODY);
    let fp = v.verify_at(&both, BODY, at).unwrap().key_fingerprint();
    assert!(fp == secret(OLD).fingerprint() || fp == secret(NEW).fingerprint());
    assert_eq!(v.keys()[0].kind(), KeyKind::Secret);
}

#[cfg(feature = "ed25519")]
#[test]
fn public_keys_rotate_apart_from_secrets() {
    use standard_webhooks::SigningKey;
    let old = SigningKey::from_seed(&[1; 32]);
    let new = SigningKey::from_seed(&[2; 32]);
    let v = Verifier::builder()
        .secret(secret(OLD))
        .public_key(old.public_key())
        .build()
        .unwrap();
    v.rotate_public_key(new.public_key(), Duration::from_secs(60));
    let keys = v.keys();
    let info = |fp| keys.iter().find(|k| k.fingerprint() == fp).unwrap();
    assert_eq!(info(new.public_key().fingerprint()).expires_at(), None);
    assert_eq!(
        info(new.public_key().fingerprint()).kind(),
        KeyKind::PublicKey
    );
    assert!(info(old.public_key().fingerprint()).expires_at().is_some());
    // The secret is not touched.
    assert_eq!(info(secret(OLD).fingerprint()).expires_at(), None);
    let at = now();
    let h = Signer::with_signing_key(new).headers("msg_1", at.unix_timestamp(), BODY);
    assert!(v.verify_at(&h, BODY, at).is_ok());
}

/// Verifications on several threads while keys are rotated and reloaded: every verdict is one
/// that the keys before or after a change give, never a panic or a torn state.
#[test]
fn verification_goes_on_while_keys_change() {
    let v = Verifier::builder().secret(secret(OLD)).build().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|_| {
            let (v, stop) = (v.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut checked = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    // OLD is in force throughout (current, then retiring for an hour).
                    assert!(accepts(&v, OLD, now()));
                    // A stranger's key never verifies.
                    let stranger = "whsec_c2VjcmV0LWtleS1udW1iZXItZm91ci1sb25nIQ==";
                    assert!(!accepts(&v, stranger, now()));
                    checked += 1;
                }
                checked
            })
        })
        .collect();
    for n in 0..20u8 {
        if n % 2 == 0 {
            v.rotate(
                Secret::from_bytes([n + 100; 32]).unwrap(),
                Duration::from_secs(3600),
            );
        } else {
            v.reload_from_config(&format!("{OLD} {NEW}")).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        assert!(w.join().unwrap() > 0);
    }
}
