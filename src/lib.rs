#![doc = include_str!("../README.md")]
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

#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub mod actix;
#[cfg(feature = "ed25519")]
mod asymmetric;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
mod config;
mod error;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod event;
mod explain;
#[cfg(any(feature = "axum", feature = "actix-web"))]
mod extract;
mod fingerprint;
mod headers;
pub mod idempotency;
mod keys;
pub mod pattern;
#[cfg(any(feature = "axum", feature = "actix-web"))]
mod rejection;
mod secret;
mod signature;
mod signer;
mod timestamp;
mod verifier;

#[cfg(feature = "ed25519")]
#[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
pub use asymmetric::{KeyError, PUBLIC_KEY_PREFIX, PublicKey, SIGNING_KEY_PREFIX, SigningKey};
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
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use idempotency::IdempotencyLayer;
#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use idempotency::IdempotencyMiddleware;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use idempotency::RedisStore;
pub use idempotency::{
    Claim, ClaimToken, Delivery, Idempotency, IdempotencyStore, MemoryStore, Outcome, StoreError,
    StoreFailure, Success,
};
pub use keys::{KeyInfo, KeyKind};
pub use pattern::{EventPattern, EventRoutes, PatternError};
#[cfg(any(feature = "axum", feature = "actix-web"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "axum", feature = "actix-web"))))]
pub use rejection::Rejection;
pub use secret::{MIN_SECRET_LEN, SECRET_PREFIX, Secret, SecretError};
pub use signature::MAX_V1A_ENTRIES;
pub use signer::{SignedHeaders, Signer};
pub use verifier::{DEFAULT_TOLERANCE, Message, Verifier, VerifierBuilder};

/// The `time` crate, re-exported: [`Verifier::verify_at`] and
/// [`VerifierBuilder::secret_until`] take its `OffsetDateTime`.
pub use time;
