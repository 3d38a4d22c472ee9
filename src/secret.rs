//! Symmetric `whsec_` secrets.

use core::fmt;
use core::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit};
use sha2::Sha256;
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// The HMAC-SHA256 state keyed with a secret.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The prefix of a symmetric Standard Webhooks secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// Standard alphabet, padding optional, trailing bits tolerated: what senders emit.
pub(crate) const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Why a string is not a usable secret. Never contains any part of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The secret is empty (or only the `whsec_` prefix).
    #[error("the secret is empty")]
    Empty,
    /// The part after `whsec_` is not standard base64.
    #[error("the secret is not valid base64 (standard alphabet, padding optional)")]
    InvalidBase64,
    /// A key of another kind was given where a `whsec_` secret was expected.
    #[error("expected a `whsec_` secret, got a {found}")]
    WrongKind {
        /// What was found instead, e.g. "`whpk_` public key".
        found: &'static str,
    },
    /// A configuration entry has an expiry after `@` that is not an RFC 3339 date-time.
    #[error("the expiry after `@` is not an RFC 3339 date-time (e.g. 2026-11-27T01:00:00Z)")]
    InvalidExpiry,
}

/// A symmetric key shared by sender and receiver (`whsec_` + base64).
///
/// The key bytes are zeroized when the value is dropped and are never printed:
/// `Debug` shows `Secret([redacted])` and there is no `Display`.
///
/// ```
/// use standard_webhooks::Secret;
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// assert_eq!(format!("{secret:?}"), "Secret([redacted])");
/// // The prefix and the padding are optional, as senders and reference libraries allow.
/// assert_eq!(secret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?);
/// assert!("whsec_".parse::<Secret>().is_err());
/// # Ok::<(), standard_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Box<[u8]>>,
}

/// The key bytes are wiped when the secret is dropped.
impl ZeroizeOnDrop for Secret {}

impl Secret {
    /// A secret from raw key bytes. An empty key is refused.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self, SecretError> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            bytes: Zeroizing::new(bytes.into()),
        })
    }

    /// The length of the key in bytes (not secret: it follows from the header's length).
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: an empty secret cannot be built.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The HMAC-SHA256 state keyed with this secret, ready to be cloned per message.
    pub(crate) fn hmac(&self) -> HmacSha256 {
        // HMAC accepts keys of any length (longer ones are hashed first).
        match <HmacSha256 as KeyInit>::new_from_slice(&self.bytes) {
            Ok(mac) => mac,
            Err(_) => unreachable_hmac(),
        }
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // `Hmac::new_from_slice` never fails: any key length is valid for HMAC. Should that ever
    // change, fall back to a state no sender can match rather than panic.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

impl FromStr for Secret {
    type Err = SecretError;

    /// Parses `whsec_` + standard base64; the prefix and `=` padding are optional, surrounding
    /// ASCII whitespace (a trailing newline from a file) is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim_ascii();
        if let Some(found) = other_kind(s) {
            return Err(SecretError::WrongKind { found });
        }
        let b64 = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        if b64.is_empty() {
            return Err(SecretError::Empty);
        }
        let bytes = Zeroizing::new(
            LENIENT
                .decode(b64)
                .map_err(|_| SecretError::InvalidBase64)?,
        );
        Self::from_bytes(&*bytes)
    }
}

/// Names the kind of key when `s` carries the prefix of a key that is not a secret.
pub(crate) fn other_kind(s: &str) -> Option<&'static str> {
    if s.starts_with("whpk_") {
        Some("`whpk_` public key")
    } else if s.starts_with("whsk_") {
        Some("`whsk_` signing key")
    } else {
        None
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Constant-time equality of the key bytes (lengths are not secret).
impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        use subtle::ConstantTimeEq;
        {
            let (a, b): (&[u8], &[u8]) = (&self.bytes, &other.bytes);
            a.ct_eq(b)
        }
        .into()
    }
}

impl Eq for Secret {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_padding_are_optional() {
        let a: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        let b: Secret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 24);
        let unpadded: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS".parse().unwrap();
        let padded: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS=".parse().unwrap();
        assert_eq!(unpadded, padded);
        assert_ne!(unpadded, a);
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let a: Secret = " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n".parse().unwrap();
        assert_eq!(a, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap());
    }

    #[test]
    fn empty_and_invalid_are_refused() {
        assert_eq!("".parse::<Secret>(), Err(SecretError::Empty));
        assert_eq!("whsec_".parse::<Secret>(), Err(SecretError::Empty));
        assert_eq!("  ".parse::<Secret>(), Err(SecretError::Empty));
        assert_eq!(Secret::from_bytes([]), Err(SecretError::Empty));
        assert_eq!(
            "whsec_not base64!".parse::<Secret>(),
            Err(SecretError::InvalidBase64)
        );
        // URL-safe alphabet is not the standard one.
        assert_eq!(
            "whsec_ab-_".parse::<Secret>(),
            Err(SecretError::InvalidBase64)
        );
    }

    #[test]
    fn other_key_kinds_are_named() {
        let err = "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g="
            .parse::<Secret>()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a `whsec_` secret, got a `whpk_` public key"
        );
        assert!(matches!(
            "whsk_AAAA".parse::<Secret>(),
            Err(SecretError::WrongKind { .. })
        ));
    }

    #[test]
    fn debug_is_redacted() {
        let s = Secret::from_bytes(b"super-secret-bytes").unwrap();
        let dbg = format!("{s:?} {:#?}", s);
        assert!(!dbg.contains("super"));
        assert_eq!(format!("{s:?}"), "Secret([redacted])");
    }
}
