//! `v1a` (Ed25519) verification. The first byte picks a mode:
//!
//! - even: the rest is the `webhook-signature` of the official v1a example, verified under its
//!   public key. Oracle: it verifies exactly when the published signature is among the first
//!   `MAX_V1A_ENTRIES` well-formed `v1a` entries (padded canonical base64 of 64 bytes), however
//!   many other entries there are.
//! - odd: the next 32 bytes are a seed, the rest `id \n body`. What `Signer` signs with that
//!   key verifies under its public key (and not under another key); a changed body or a changed
//!   signature never does.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use standard_webhooks::{Error, MAX_V1A_ENTRIES, PublicKey, Signer, SigningKey, Verifier};
use standard_webhooks_fuzz::split_message;
use std::sync::LazyLock;
use time::OffsetDateTime;

const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;
const BODY: &[u8] = br#"{"test": 2432232314}"#;
const VALID: &str =
    "tQ9V2XOqn7jL/DQenEFpqIugdBVtiMmER5mhSkXBNwM0mkATuDe6KYYUuxqtaiHeYGb7KaaBRdM5WqyeFiL8Ag==";

static OFFICIAL: LazyLock<Verifier> = LazyLock::new(|| {
    let key: PublicKey = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
        .parse()
        .unwrap();
    Verifier::builder().public_key(key).build().unwrap()
});

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(TS).unwrap()
}

fn header_mode(value: &[u8]) {
    let ts = TS.to_string();
    let headers: [(&str, &[u8]); 3] = [
        ("webhook-id", ID.as_bytes()),
        ("webhook-timestamp", ts.as_bytes()),
        ("webhook-signature", value),
    ];
    let got = OFFICIAL.verify_at(&headers, BODY, now());
    let entries: Vec<&[u8]> = value
        .split(|&b| b == b' ')
        .filter(|e| !e.is_empty())
        .collect();
    let well_formed: Vec<Vec<u8>> = entries
        .iter()
        .filter_map(|e| e.strip_prefix(b"v1a,"))
        .filter(|b64| b64.len() == 88)
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .filter(|sig| sig.len() == 64)
        .collect();
    let valid = STANDARD.decode(VALID).unwrap();
    if value.is_empty() {
        assert_eq!(
            got,
            Err(Error::MissingHeader {
                header: "webhook-signature"
            })
        );
    } else if well_formed
        .iter()
        .take(MAX_V1A_ENTRIES)
        .any(|s| *s == valid)
    {
        assert_eq!(got.map(|m| m.id()), Ok(ID));
    } else {
        assert!(
            matches!(got, Err(Error::NoMatchingSignature { .. })),
            "{got:?}"
        );
    }
}

fn sign_mode(seed: &[u8; 32], rest: &[u8]) {
    let (id, mut body) = split_message(rest);
    if id.is_empty() {
        return;
    }
    let key = SigningKey::from_seed(seed);
    let headers = Signer::with_signing_key(key.clone()).headers(&id, TS, &body);
    let verifier = Verifier::builder()
        .public_key(key.public_key())
        .build()
        .unwrap();
    assert_eq!(
        verifier.verify_at(&headers, &body, now()).map(|m| m.id()),
        Ok(id.as_str())
    );

    // Under another public key (the seed with one bit flipped) it does not verify.
    let mut other_seed = *seed;
    other_seed[0] ^= 1;
    let other = Verifier::builder()
        .public_key(SigningKey::from_seed(&other_seed).public_key())
        .build()
        .unwrap();
    assert!(matches!(
        other.verify_at(&headers, &body, now()),
        Err(Error::NoMatchingSignature { .. })
    ));

    // A changed signature character, then a changed body, never verify.
    let mut changed = headers.clone();
    let at = 4 + usize::from(seed[1]) % 88;
    let mut sig = changed.signature.into_bytes();
    sig[at] = if sig[at] == b'A' { b'B' } else { b'A' };
    changed.signature = String::from_utf8(sig).unwrap();
    assert!(matches!(
        verifier.verify_at(&changed, &body, now()),
        Err(Error::NoMatchingSignature { .. })
    ));
    body.push(seed[2]);
    assert!(matches!(
        verifier.verify_at(&headers, &body, now()),
        Err(Error::NoMatchingSignature { .. })
    ));
}

fuzz_target!(|data: &[u8]| {
    match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 => {
            if let Some((seed, rest)) = rest.split_first_chunk::<32>() {
                sign_mode(seed, rest);
            }
        }
        Some((_, rest)) => header_mode(rest),
        None => {}
    }
});
