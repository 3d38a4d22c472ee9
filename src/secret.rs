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

/// The fewest bytes a parsed secret may decode to: the Standard Webhooks specification requires
/// HMAC secrets of 24 to 64 random bytes. [`Secret::from_bytes`] takes shorter keys, for
/// senders that use them.
pub const MIN_SECRET_LEN: usize = 24;

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
    /// The secret decodes to fewer than [`MIN_SECRET_LEN`] bytes: a placeholder such as
    /// `changeme`, or a key too short to be safe. A sender whose keys really are shorter is
    /// verified with [`Secret::from_bytes`], which takes raw key bytes of any length. (The
    /// message does not name it: it also reaches operators, through a key file's status.)
    #[error(
        "the secret decodes to {len} bytes, too few for a key: Standard Webhooks secrets are \
         24 to 64 random bytes"
    )]
    TooShort {
        /// How many bytes it decodes to.
        len: usize,
    },
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
/// `Debug` shows `Secret([redacted])` and there is no `Display`. A secret parsed from text also
/// keeps that text (zeroized and never printed alike), for one diagnosis only:
/// [`Verifier::explain`](crate::Verifier::explain) recognises a sender that keys its HMAC with
/// the secret's text instead of its decoded bytes.
///
/// Parsing (`"whsec_…".parse()`) is lenient where senders and reference libraries are, and
/// strict where safety needs it:
///
/// - the `whsec_` prefix is optional, and so is `=` padding; excess `=` at the end is ignored
///   (`…LaSw==` where no `=` belongs). This is configuration leniency only: signatures are
///   still compared exactly;
/// - surrounding whitespace (a trailing newline from a file) is ignored;
/// - the secret must decode to at least [`MIN_SECRET_LEN`] (24) bytes, as the specification
///   requires: `changeme`, `TODO` or `secret` are refused with [`SecretError::TooShort`].
///   [`Secret::from_bytes`] takes raw key bytes of any length, for senders that use shorter
///   keys.
///
/// ```
/// use standard_webhooks::{Secret, SecretError};
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// assert_eq!(format!("{secret:?}"), "Secret([redacted])");
/// // The prefix and the padding are optional, as senders and reference libraries allow.
/// assert_eq!(secret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?);
/// assert_eq!(secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw==".parse()?);
/// assert!("whsec_".parse::<Secret>().is_err());
/// // A placeholder is not a secret.
/// assert_eq!("changeme".parse::<Secret>(), Err(SecretError::TooShort { len: 6 }));
/// # Ok::<(), standard_webhooks::SecretError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Zeroizing<Box<[u8]>>,
    /// The base64 text after `whsec_`, as parsed (`None` for [`Secret::from_bytes`]): kept only
    /// so that [`Verifier::explain`](crate::Verifier::explain) can recognise a sender that keys
    /// its HMAC with the secret's text instead of its bytes. Wiped on drop, never shown.
    text: Option<Zeroizing<String>>,
}

/// The key bytes (and the text the secret was parsed from) are wiped when the secret is
/// dropped.
impl ZeroizeOnDrop for Secret {}

impl Secret {
    /// A secret from raw key bytes, of any length but empty.
    ///
    /// This is the constructor for senders whose keys are shorter than the 24 bytes the
    /// specification requires (parsing refuses those, see [`MIN_SECRET_LEN`]); take the bytes
    /// the sender documents, e.g. the base64 of its secret decoded. Prefer longer keys where
    /// you can choose.
    ///
    /// A secret built from bytes has no text: [`Verifier::explain`](crate::Verifier::explain)
    /// cannot tell whether a sender keys its HMAC with the text of it (finding
    /// [`secret_as_text`](crate::FindingKind::SecretAsText) needs a parsed secret).
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self, SecretError> {
        let bytes = bytes.as_ref();
        if bytes.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Self {
            bytes: Zeroizing::new(bytes.into()),
            text: None,
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

    /// The key's [`Fingerprint`](crate::Fingerprint): a name for it that is safe to log.
    ///
    /// It takes about 1.5 ms (a slow derivation, so that the fingerprint does not let
    /// anyone test guesses of the key cheaply); a verifier computes it once per key it loads.
    pub fn fingerprint(&self) -> crate::Fingerprint {
        crate::Fingerprint::of_secret(&self.bytes)
    }

    /// The HMAC-SHA256 state keyed with this secret, ready to be cloned per message.
    pub(crate) fn hmac(&self) -> HmacSha256 {
        keyed(&self.bytes)
    }

    /// HMAC-SHA256 states keyed with the secret's text, as a sender that skips the base64
    /// decoding uses it: with the `whsec_` prefix and without it. `None` for a secret built
    /// from bytes, which has no text.
    pub(crate) fn text_hmacs(&self) -> Option<TextHmacs> {
        let text = self.text.as_ref()?;
        let with_prefix = Zeroizing::new(format!("{SECRET_PREFIX}{}", text.as_str()));
        Some(TextHmacs {
            with_prefix: keyed(with_prefix.as_bytes()),
            without_prefix: keyed(text.as_bytes()),
        })
    }
}

/// HMAC-SHA256 states keyed with a secret's text instead of its decoded bytes, for the
/// diagnosis of [`Verifier::explain`](crate::Verifier::explain) only.
#[derive(Clone)]
pub(crate) struct TextHmacs {
    /// Keyed with `whsec_` and the base64 text.
    pub(crate) with_prefix: HmacSha256,
    /// Keyed with the base64 text alone.
    pub(crate) without_prefix: HmacSha256,
}

/// An HMAC-SHA256 state keyed with `key`.
fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length (longer ones are hashed first).
    match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable_hmac(),
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

    /// Parses `whsec_` + standard base64 of at least [`MIN_SECRET_LEN`] bytes; the prefix and
    /// `=` padding are optional (excess `=` is ignored), surrounding ASCII whitespace (a
    /// trailing newline from a file) is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim_ascii();
        if let Some(found) = other_kind(s) {
            return Err(SecretError::WrongKind { found });
        }
        let b64 = s.strip_prefix(SECRET_PREFIX).unwrap_or(s);
        if b64.is_empty() {
            return Err(SecretError::Empty);
        }
        let bytes = Zeroizing::new(decode_lenient(b64).ok_or(SecretError::InvalidBase64)?);
        if bytes.len() < MIN_SECRET_LEN {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        let mut secret = Self::from_bytes(&*bytes)?;
        secret.text = Some(Zeroizing::new(b64.to_owned()));
        Ok(secret)
    }
}

/// Decodes standard base64 the way keys are configured: padding optional, and any `=` beyond
/// it ignored (Python's reference library and svix accept `…LaSw==` where no `=` belongs).
/// `None` when what remains is not base64.
pub(crate) fn decode_lenient(b64: &str) -> Option<Vec<u8>> {
    LENIENT.decode(b64.trim_end_matches('=')).ok()
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
        let unpadded: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwab".parse().unwrap();
        let padded: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwab=="
            .parse()
            .unwrap();
        assert_eq!(unpadded, padded);
        assert_ne!(unpadded, a);
    }

    #[test]
    fn excess_padding_is_ignored() {
        let a: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap();
        for excess in ["=", "==", "===", "===="] {
            let padded: Secret = format!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw{excess}")
                .parse()
                .unwrap();
            assert_eq!(padded, a, "{excess}");
        }
        // Padding in the middle is still not base64.
        assert_eq!(
            "whsec_MfKQ9r8GKYqr=TwjUPD8ILPZIo2LaLaSw".parse::<Secret>(),
            Err(SecretError::InvalidBase64)
        );
        // Only `=` is not a secret.
        assert_eq!(
            "whsec_==".parse::<Secret>(),
            Err(SecretError::TooShort { len: 0 })
        );
    }

    #[test]
    fn placeholders_and_short_secrets_are_refused() {
        for (placeholder, len) in [("changeme", 6), ("TODO", 3), ("secret", 4), ("ab", 1)] {
            assert_eq!(
                placeholder.parse::<Secret>(),
                Err(SecretError::TooShort { len }),
                "{placeholder}"
            );
        }
        // 23 bytes is one short; 24 is the minimum.
        let b64 = |n: usize| base64::engine::general_purpose::STANDARD.encode(vec![7u8; n]);
        assert_eq!(
            format!("whsec_{}", b64(23)).parse::<Secret>(),
            Err(SecretError::TooShort { len: 23 })
        );
        assert_eq!(
            format!("whsec_{}", b64(24))
                .parse::<Secret>()
                .unwrap()
                .len(),
            24
        );
        // The error names the rule.
        let text = SecretError::TooShort { len: 6 }.to_string();
        assert!(
            text.contains("decodes to 6 bytes") && text.contains("24 to 64 random bytes"),
            "{text}"
        );
        // Raw bytes of any length are still taken, explicitly.
        assert_eq!(Secret::from_bytes(b"short").unwrap().len(), 5);
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
