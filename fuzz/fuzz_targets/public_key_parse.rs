//! Ed25519 key parsing: `PublicKey::from_str` / `from_bytes` and `SigningKey::from_str` on
//! arbitrary bytes. Never a panic; a public key is accepted exactly when its 32 bytes decode to
//! a curve point that is not of small order (checked with curve25519-dalek directly); an
//! accepted key prints back as `whpk_` + padded base64 and parses to itself; a signing key's
//! Debug is redacted; error messages are fixed wording.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use curve25519_dalek::edwards::CompressedEdwardsY;
use libfuzzer_sys::fuzz_target;
use standard_webhooks::{PublicKey, SigningKey};
use standard_webhooks_fuzz::{assert_absent, assert_fixed_wording, key_forms};

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = data.first_chunk::<32>() {
        let valid = CompressedEdwardsY(*bytes)
            .decompress()
            .is_some_and(|p| !p.is_small_order());
        match PublicKey::from_bytes(bytes) {
            Ok(key) => {
                assert!(valid, "accepted a weak or invalid public key");
                assert_eq!(key.to_string(), format!("whpk_{}", STANDARD.encode(bytes)));
            }
            Err(e) => {
                assert!(!valid, "refused a valid public key: {e}");
                assert_fixed_wording(&format!("{e} {e:?}"));
            }
        }
        let signing = SigningKey::from_seed(bytes);
        let shown = format!("{signing:?}");
        assert_eq!(shown, "SigningKey([redacted])");
        for form in key_forms(bytes) {
            assert_absent(
                &format!("{shown} {:?}", signing.public_key()),
                &form,
                "SigningKey",
            );
        }
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<PublicKey>() {
        Ok(key) => {
            let shown = key.to_string();
            assert_eq!(shown.parse::<PublicKey>(), Ok(key));
            assert_eq!(format!("{key:?}"), format!("PublicKey({shown})"));
        }
        Err(e) => assert_fixed_wording(&format!("{e} {e:?}")),
    }
    match text.parse::<SigningKey>() {
        Ok(key) => assert_eq!(format!("{key:?}"), "SigningKey([redacted])"),
        Err(e) => assert_fixed_wording(&format!("{e} {e:?}")),
    }
});
