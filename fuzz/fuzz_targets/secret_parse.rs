//! Secret parsing: `Secret::from_str`, `Secret::from_bytes` and
//! `VerifierBuilder::secrets_from_config` on arbitrary bytes. Never a panic; an accepted secret
//! equals the bytes an independent lenient base64 decode gives (excess `=` ignored) and holds
//! at least 24 of them; error messages and Debug output are fixed wording and numbers, never an
//! echo of the input.
#![no_main]

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use libfuzzer_sys::fuzz_target;
use standard_webhooks::{Secret, SecretError, Verifier};
use standard_webhooks_fuzz::assert_fixed_wording;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fuzz_target!(|data: &[u8]| {
    // Raw bytes: only the empty key is refused.
    match Secret::from_bytes(data) {
        Ok(secret) => {
            assert!(!data.is_empty());
            assert_eq!(secret.len(), data.len());
            assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        }
        Err(e) => {
            assert!(data.is_empty());
            assert_eq!(e, SecretError::Empty);
        }
    }

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<Secret>() {
        Ok(secret) => {
            // Independent reading of the format: trim, optional prefix, lenient base64.
            let trimmed = text.trim_ascii();
            assert!(!trimmed.starts_with("whpk_") && !trimmed.starts_with("whsk_"));
            let b64 = trimmed.strip_prefix("whsec_").unwrap_or(trimmed);
            let bytes = LENIENT
                .decode(b64.trim_end_matches('='))
                .expect("accepted secret must be base64");
            assert!(
                bytes.len() >= 24,
                "a secret of {} bytes was accepted",
                bytes.len()
            );
            assert_eq!(secret, Secret::from_bytes(&bytes).expect("non-empty"));
            assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        }
        Err(e) => {
            assert_fixed_wording(&format!("{e} {e:?}"));
        }
    }

    match Verifier::builder().secrets_from_config(text) {
        Ok(builder) => {
            assert_fixed_wording(&format!("{builder:?}"));
            if let Ok(verifier) = builder.build() {
                assert_fixed_wording(&format!("{verifier:?}"));
            }
        }
        Err(e) => {
            assert_fixed_wording(&format!("{e} {e:?}"));
        }
    }
});
