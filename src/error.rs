//! The error type of verification and configuration.

use crate::secret::SecretError;

/// Why a delivery was rejected, or why a verifier could not be built.
///
/// Every message names what was wrong (the header, the skew in seconds and the tolerance, the
/// limit) and never contains key material. Matching on the variant lets a receiver map the
/// failure to its own response: header problems are the sender's malformed request (HTTP 400),
/// a stale timestamp or a signature that does not match is an authentication failure (HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A required header is absent, or present with an empty value.
    #[error("missing header `{header}`")]
    MissingHeader {
        /// The header's name, e.g. `webhook-id`.
        header: &'static str,
    },

    /// A header that must appear once was repeated with differing values.
    #[error("header `{header}` is repeated with different values")]
    ConflictingHeader {
        /// The header's name.
        header: &'static str,
    },

    /// A header's value cannot be used (for example a message id that is not UTF-8).
    #[error("header `{header}` is malformed: {reason}")]
    InvalidHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The timestamp header is not an integer number of Unix seconds in canonical form, or it
    /// lies outside the dates this crate can represent.
    #[error(
        "header `{header}` is not a Unix timestamp in whole seconds (ASCII digits only, optional leading `-`, no `+`, spaces, leading zeros or fractions)"
    )]
    InvalidTimestamp {
        /// The header's name, e.g. `webhook-timestamp`.
        header: &'static str,
    },

    /// The message timestamp lies further in the past than the tolerance allows.
    #[error(
        "message timestamp is {skew_secs} s in the past, beyond the tolerance of {tolerance_secs} s"
    )]
    TimestampTooOld {
        /// How many seconds before `now` the message is dated.
        skew_secs: u64,
        /// The verifier's tolerance in whole seconds.
        tolerance_secs: u64,
    },

    /// The message timestamp lies further in the future than the tolerance allows.
    #[error(
        "message timestamp is {skew_secs} s in the future, beyond the tolerance of {tolerance_secs} s"
    )]
    TimestampTooNew {
        /// How many seconds after `now` the message is dated.
        skew_secs: u64,
        /// The verifier's tolerance in whole seconds.
        tolerance_secs: u64,
    },

    /// The signature header holds more entries than a verifier examines.
    #[error("header `{header}` has more than {limit} signature entries")]
    TooManySignatures {
        /// The header's name.
        header: &'static str,
        /// The maximum number of entries examined ([`MAX_SIGNATURE_ENTRIES`](crate::MAX_SIGNATURE_ENTRIES)).
        limit: usize,
    },

    /// No entry of the signature header verifies under any key in force.
    #[error(
        "no signature in `{header}` matches a trusted key (well-formed entries: {entries}, keys in force: {keys})"
    )]
    NoMatchingSignature {
        /// The header's name.
        header: &'static str,
        /// How many entries had a supported version and a well-formed value.
        entries: usize,
        /// How many keys were in force at the time of the check.
        keys: usize,
    },

    /// A verifier or signer was built without any key.
    #[error("no key configured: add at least one secret")]
    NoKeys,

    /// A secret could not be parsed.
    #[error(transparent)]
    Secret(#[from] SecretError),

    /// An asymmetric (`whpk_` / `whsk_`) key could not be parsed.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    #[error(transparent)]
    Key(#[from] crate::asymmetric::KeyError),
}
