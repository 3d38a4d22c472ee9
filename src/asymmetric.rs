//! Asymmetric `v1a` keys: Ed25519 public keys (`whpk_`) and signing keys (`whsk_`).
//!
//! With `v1a` the receiver holds only a public key, useless to an attacker who steals it; the
//! sender keeps the signing key. Verification is **strict**: a signature whose `S` is not
//! canonical (`S ≥ ℓ`), whose `R` is not a canonical encoding or is of small order, or a public
//! key of small order, never verifies. So one message has one valid signature per key, and no
//! "weak" key can make forged messages pass.
//!
//! ```
//! use standard_webhooks::{PublicKey, Signer, SigningKey, Verifier};
//!
//! // The sender holds the signing key and publishes the public key.
//! let signing_key: SigningKey = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=".parse()?;
//! let public_key: PublicKey = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=".parse()?;
//! assert_eq!(signing_key.public_key(), public_key);
//!
//! let body = br#"{"test": 2432232314}"#;
//! let headers = Signer::with_signing_key(signing_key).headers("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
//! assert!(headers.signature.starts_with("v1a,"));
//!
//! // The receiver trusts the public key.
//! let verifier = Verifier::builder().public_key(public_key).build()?;
//! let now = time::OffsetDateTime::from_unix_timestamp(1614265330)?;
//! assert!(verifier.verify_at(&headers, body, now).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::ed25519::signature::{MultipartSigner, MultipartVerifier};
use zeroize::Zeroizing;

use crate::secret::{SECRET_PREFIX, decode_lenient};

/// The prefix of an Ed25519 public key.
pub const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// The prefix of an Ed25519 signing key (the 32-byte seed).
pub const SIGNING_KEY_PREFIX: &str = "whsk_";

/// Why a string is not a usable asymmetric key. Never contains any part of the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The string does not start with the expected prefix.
    #[error("expected a key starting with `{expected}`")]
    MissingPrefix {
        /// The prefix that was expected.
        expected: &'static str,
    },
    /// A key of another kind was given (e.g. a `whsec_` secret where a public key is expected).
    #[error("expected a `{expected}` key, got a {found}")]
    WrongKind {
        /// The prefix that was expected.
        expected: &'static str,
        /// What was found instead.
        found: &'static str,
    },
    /// The part after the prefix is not standard base64.
    #[error("the key is not valid base64 (standard alphabet, padding optional)")]
    InvalidBase64,
    /// The key does not decode to 32 bytes.
    #[error("the key decodes to {found} bytes; an Ed25519 key has 32")]
    InvalidLength {
        /// How many bytes it decoded to.
        found: usize,
    },
    /// The bytes are not a valid Ed25519 public key, or one of small order (a "weak" key
    /// that would let forged signatures verify).
    #[error("the public key is not a valid Ed25519 point, or is of small order")]
    WeakOrInvalidPublicKey,
}

/// Decodes `PREFIX + base64(32 bytes)` into a zeroized buffer.
fn decode_32(s: &str, expected: &'static str) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let s = s.trim_ascii();
    let Some(b64) = s.strip_prefix(expected) else {
        let found = [
            (SECRET_PREFIX, "`whsec_` secret"),
            (PUBLIC_KEY_PREFIX, "`whpk_` public key"),
            (SIGNING_KEY_PREFIX, "`whsk_` signing key"),
        ]
        .into_iter()
        .find(|(prefix, _)| s.starts_with(prefix));
        return Err(match found {
            Some((_, found)) => KeyError::WrongKind { expected, found },
            None => KeyError::MissingPrefix { expected },
        });
    };
    let bytes = Zeroizing::new(decode_lenient(b64).ok_or(KeyError::InvalidBase64)?);
    let mut out = Zeroizing::new([0u8; 32]);
    if bytes.len() != out.len() {
        return Err(KeyError::InvalidLength { found: bytes.len() });
    }
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// An Ed25519 public key (`whpk_` + base64 of the 32 raw bytes): what a receiver trusts for
/// `v1a` signatures. Keys of small order are refused when parsed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
}

impl PublicKey {
    /// A public key from its 32 raw bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map_err(|_| KeyError::WeakOrInvalidPublicKey)?;
        if key.is_weak() {
            return Err(KeyError::WeakOrInvalidPublicKey);
        }
        Ok(Self { key })
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The key's [`Fingerprint`](crate::Fingerprint), as [`Verifier::keys`](crate::Verifier::keys)
    /// and the logs name it.
    pub fn fingerprint(&self) -> crate::Fingerprint {
        crate::Fingerprint::of_public_key(&self.key.to_bytes())
    }

    /// Strictly verifies a 64-byte signature over the concatenation of `parts`, streaming them.
    pub(crate) fn verify_strict(&self, parts: &[&[u8]], signature: &[u8; 64]) -> bool {
        // `multipart_verify` already rejects a non-canonical `S` and a non-canonical `R`
        // encoding (it compares against the canonical encoding of the recomputed `R`); the
        // public key was checked when parsed. What remains of `verify_strict` is `R` of small
        // order, checked here so the message can be streamed instead of copied.
        let Some(r) = signature.first_chunk::<32>() else {
            return false;
        };
        match CompressedEdwardsY(*r).decompress() {
            Some(point) if !point.is_small_order() => {}
            _ => return false,
        }
        let signature = ed25519_dalek::Signature::from_bytes(signature);
        self.key.multipart_verify(parts, &signature).is_ok()
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    /// Parses `whpk_` + standard base64 (padding optional) of 32 bytes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(&*decode_32(s, PUBLIC_KEY_PREFIX)?)
    }
}

impl fmt::Debug for PublicKey {
    /// A public key is not secret: it is shown as `whpk_…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({self})")
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b64 = base64::engine::general_purpose::STANDARD.encode(self.key.as_bytes());
        write!(f, "{PUBLIC_KEY_PREFIX}{b64}")
    }
}

/// An Ed25519 signing key (`whsk_` + base64 of the 32-byte seed): what a sender signs `v1a`
/// entries with. Zeroized on drop, redacted in `Debug`, never displayed.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A signing key from its 32-byte seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// The public key that verifies this key's signatures.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// Signs the concatenation of `parts`.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> [u8; 64] {
        match self.key.try_multipart_sign(parts) {
            Ok(signature) => signature.to_bytes(),
            // Signing with a valid key does not fail; an all-zero value never verifies.
            Err(_) => [0; 64],
        }
    }
}

impl FromStr for SigningKey {
    type Err = KeyError;

    /// Parses `whsk_` + standard base64 (padding optional) of the 32-byte seed.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from_seed(&*decode_32(s, SIGNING_KEY_PREFIX)?))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK: &str = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=";
    const SK: &str = "whsk_VEVTVFNJR05JTkdLRVlET05PVFVTRVRISVNGT1JBTlk=";

    #[test]
    fn published_keys_parse_and_agree() {
        let pk: PublicKey = PK.parse().unwrap();
        let sk: SigningKey = SK.parse().unwrap();
        assert_eq!(sk.public_key(), pk);
        assert_eq!(pk.to_string(), PK);
        // Padding is optional, and excess `=` is ignored.
        assert_eq!(PK.trim_end_matches('=').parse::<PublicKey>().unwrap(), pk);
        assert_eq!(format!("{PK}==").parse::<PublicKey>().unwrap(), pk);
        assert_eq!(
            format!("{SK}=").parse::<SigningKey>().unwrap().public_key(),
            pk
        );
    }

    #[test]
    fn wrong_kinds_are_named() {
        assert_eq!(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
                .parse::<PublicKey>()
                .unwrap_err(),
            KeyError::WrongKind {
                expected: "whpk_",
                found: "`whsec_` secret"
            }
        );
        assert_eq!(
            PK.parse::<SigningKey>().unwrap_err(),
            KeyError::WrongKind {
                expected: "whsk_",
                found: "`whpk_` public key"
            }
        );
        assert_eq!(
            SK.parse::<PublicKey>().unwrap_err().to_string(),
            "expected a `whpk_` key, got a `whsk_` signing key"
        );
        assert_eq!(
            "ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
                .parse::<PublicKey>()
                .unwrap_err(),
            KeyError::MissingPrefix { expected: "whpk_" }
        );
    }

    #[test]
    fn bad_encodings_and_lengths_are_refused() {
        assert_eq!(
            "whpk_!!!!".parse::<PublicKey>().unwrap_err(),
            KeyError::InvalidBase64
        );
        assert_eq!(
            "whpk_AAAA".parse::<PublicKey>().unwrap_err(),
            KeyError::InvalidLength { found: 3 }
        );
        assert_eq!(
            "whsk_".parse::<SigningKey>().unwrap_err(),
            KeyError::InvalidLength { found: 0 }
        );
    }

    #[test]
    fn small_order_public_keys_are_refused() {
        // The identity point and a point of order 8 (canonical encodings).
        let identity = {
            let mut b = [0u8; 32];
            b[0] = 1;
            b
        };
        assert_eq!(
            PublicKey::from_bytes(&identity).unwrap_err(),
            KeyError::WeakOrInvalidPublicKey
        );
        let order_8: [u8; 32] = [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ];
        assert_eq!(
            PublicKey::from_bytes(&order_8).unwrap_err(),
            KeyError::WeakOrInvalidPublicKey
        );
    }

    #[test]
    fn signing_key_is_redacted() {
        let sk: SigningKey = SK.parse().unwrap();
        assert_eq!(format!("{sk:?}"), "SigningKey([redacted])");
    }
}
