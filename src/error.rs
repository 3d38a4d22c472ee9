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

    /// Every key given to a verifier had expired at the time it was built or reloaded: it
    /// would refuse every delivery. Add the sender's current secret.
    #[error(
        "no key is in force: all {keys} configured keys have expired (the last one at {}); add the sender's current secret",
        crate::config::rfc3339(*last_expiry)
    )]
    AllKeysExpired {
        /// How many keys were given.
        keys: usize,
        /// When the last of them expired.
        last_expiry: time::OffsetDateTime,
    },

    /// One entry of a key configuration ([`VerifierBuilder::secrets_from_config`]) cannot be
    /// used. `found` describes what the entry looks like without showing it.
    ///
    /// [`VerifierBuilder::secrets_from_config`]: crate::VerifierBuilder::secrets_from_config
    #[error("key configuration, entry {position} of {count} ({found}): {error}")]
    ConfigEntry {
        /// The entry's position, from 1.
        position: usize,
        /// How many entries the configuration has.
        count: usize,
        /// What the entry looks like, never its key: e.g. "`whsec_` and 32 characters".
        found: String,
        /// What is wrong with it.
        error: Box<Error>,
    },

    /// The same key was given twice: in a configuration (positions of its entries), or to a
    /// builder (the order the keys were added in, from 1). Two secrets that differ only by
    /// trailing zero bytes are the same key to HMAC (it pads keys with zeros), and count as
    /// one.
    #[error(
        "key {position} is the same key as key {first} (fingerprint {fingerprint}): give each key once"
    )]
    DuplicateKey {
        /// Where it appears the second time, from 1.
        position: usize,
        /// Where it appears first, from 1.
        first: usize,
        /// The key's fingerprint.
        fingerprint: crate::Fingerprint,
    },

    /// A key file ([`KeyFile`](crate::KeyFile),
    /// [`VerifierBuilder::secrets_from_file`](crate::VerifierBuilder::secrets_from_file)) cannot
    /// be read: it is missing or unreadable, not a regular file, too large to be a key file
    /// ([`MAX_KEY_FILE_LEN`](crate::MAX_KEY_FILE_LEN)) or not UTF-8 text; or the thread that
    /// watches it could not be started. `reason` says which (with the operating system's
    /// message), never anything of the file's contents.
    #[cfg(feature = "reload")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reload")))]
    #[error("key file `{}`: {reason}", path.display())]
    KeyFileUnreadable {
        /// The file's path, as given.
        path: std::path::PathBuf,
        /// The kind of the I/O error (`NotFound`, `PermissionDenied`, `InvalidData`, …).
        kind: std::io::ErrorKind,
        /// What went wrong.
        reason: String,
    },

    /// A key file was read, but its keys cannot be used: an entry that does not parse
    /// ([`ConfigEntry`](Self::ConfigEntry), naming the entry, never its key), a key given twice,
    /// no key at all, or no key in force.
    #[cfg(feature = "reload")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reload")))]
    #[error("key file `{}`: {error}", path.display())]
    KeyFileInvalid {
        /// The file's path, as given.
        path: std::path::PathBuf,
        /// What is wrong with its keys.
        error: Box<Error>,
    },

    /// A secret could not be parsed.
    #[error(transparent)]
    Secret(#[from] SecretError),

    /// An asymmetric (`whpk_` / `whsk_`) key could not be parsed.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    #[error(transparent)]
    Key(#[from] crate::asymmetric::KeyError),
}
