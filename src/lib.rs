#![doc = include_str!("guide.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[cfg(feature = "ed25519")]
mod asymmetric;
mod config;
mod delivery;
mod error;
#[cfg(feature = "serde")]
mod event;
mod explain;
mod fingerprint;
mod headers;
mod idempotency;
#[cfg(any(feature = "axum", feature = "actix-web", feature = "tower"))]
mod integrations;
#[cfg(feature = "reload")]
mod key_file;
mod keys;
mod pattern;
mod rejection;
mod resolver;
mod secret;
mod signature;
mod signer;
mod timestamp;
mod verifier;

#[cfg(feature = "ed25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
pub use asymmetric::{KeyError, PUBLIC_KEY_PREFIX, PublicKey, SIGNING_KEY_PREFIX, SigningKey};
pub use delivery::{Delivery, Verified, VerifiedId};
pub use error::Error;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub use event::{Event, event_type};
pub use explain::{Explanation, Finding, FindingKind};
pub use fingerprint::Fingerprint;
pub use headers::{
    HeaderSource, SVIX_ID, SVIX_SIGNATURE, SVIX_TIMESTAMP, WEBHOOK_ID, WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
};
pub use idempotency::{
    Claim, ClaimToken, DEFAULT_LEASE, DEFAULT_MEMORY_CAPACITY, DEFAULT_RETENTION,
    DEFAULT_RETRY_AFTER, IN_PROGRESS_STATUS, Idempotency, IdempotencyStore, MAX_TTL, MemoryStore,
    Outcome, STORE_UNAVAILABLE_STATUS, StoreError, StoreFailure, Success,
};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use idempotency::{DEFAULT_REDIS_PREFIX, RedisStore};
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use integrations::actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use integrations::axum;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use integrations::tower;
#[cfg(feature = "reload")]
#[cfg_attr(docsrs, doc(cfg(feature = "reload")))]
pub use key_file::{
    DEFAULT_RELOAD_INTERVAL, KeyFile, KeyFileEvent, KeyFileStatus, KeyFileWatcher, MAX_KEY_FILE_LEN,
};
pub use keys::{KeyInfo, KeyKind};
pub use pattern::{EventPattern, EventRoutes, PatternError};
pub use rejection::Rejection;
pub use resolver::{Endpoints, KeyResolver, ResolveError};
pub use secret::{MIN_SECRET_LEN, SECRET_PREFIX, Secret, SecretError};
pub use signature::MAX_V1A_ENTRIES;
pub use signer::{SignedHeaders, Signer};
pub use verifier::{DEFAULT_TOLERANCE, Message, Verifier, VerifierBuilder};

/// The README's examples, compiled and run as doctests (with every feature, as `scripts/test`
/// runs them): the README is plain Rust for a code host and a registry page, so it is not the
/// crate documentation itself.
#[cfg(all(
    doctest,
    feature = "axum",
    feature = "actix-web",
    feature = "tower",
    feature = "tracing",
    feature = "redis",
    feature = "serde",
    feature = "ed25519",
    feature = "reload"
))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The `time` crate, re-exported: [`Verifier::verify_at`] and
/// [`VerifierBuilder::secret_until`] take its `OffsetDateTime`.
pub use time;
