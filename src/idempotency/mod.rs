//! Processing each event once: idempotency on the verified `webhook-id`.

mod memory;
#[cfg(feature = "redis")]
mod redis_store;
mod run;
mod store;
mod store_call;

pub use memory::{DEFAULT_MEMORY_CAPACITY, MemoryStore};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_store::{DEFAULT_REDIS_PREFIX, RedisStore};
#[cfg(feature = "actix-web")]
pub(crate) use run::Begin;
pub use run::{
    DEFAULT_LEASE, DEFAULT_RETENTION, DEFAULT_RETRY_AFTER, IN_PROGRESS_STATUS, Idempotency,
    Outcome, STORE_UNAVAILABLE_STATUS, StoreFailure, Success,
};
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) use run::{DONE_BODY, IN_PROGRESS_BODY, UNAVAILABLE_BODY};
pub use store::{Claim, ClaimToken, IdempotencyStore, MAX_TTL, StoreError};
