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

mod error;
mod headers;
mod secret;
mod signature;
mod signer;
mod timestamp;
mod verifier;

pub use error::Error;
pub use headers::{
    HeaderSource, SVIX_ID, SVIX_SIGNATURE, SVIX_TIMESTAMP, WEBHOOK_ID, WEBHOOK_SIGNATURE,
    WEBHOOK_TIMESTAMP,
};
pub use secret::{SECRET_PREFIX, Secret, SecretError};
pub use signature::MAX_SIGNATURE_ENTRIES;
pub use signer::{SignedHeaders, Signer};
pub use verifier::{DEFAULT_TOLERANCE, Message, Verifier, VerifierBuilder};

/// The `time` crate, re-exported: [`Verifier::verify_at`] and
/// [`VerifierBuilder::secret_until`] take its `OffsetDateTime`.
pub use time;
