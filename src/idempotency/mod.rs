//! Processing each event once: idempotency on the verified `webhook-id`.
//!
//! A sender delivers each event until it gets a 2xx, with the same `webhook-id` on every
//! attempt: a 2xx that got lost or came late means a second delivery, hours later; a delivery
//! captured by an attacker can be replayed while its timestamp is fresh. An [`Idempotency`]
//! runs your handler once per id:
//!
//! | the id is | the handler | the answer |
//! | --- | --- | --- |
//! | new (or its record expired) | runs | the handler's; a success records the id as done for the retention (3 days by default), any other answer, a panic or a cancellation releases it |
//! | done | does not run | 200 at once, so the sender stops retrying |
//! | being processed (by this or another instance) | does not run | 409 Conflict, `Retry-After: 5` |
//! | unknown, because the store is down | does not run | 503 Service Unavailable, `Retry-After: 5` |
//!
//! A claim lasts for a lease (5 minutes by default), so an instance that crashed mid-handler
//! blocks its id for at most that long. A request cancelled after its handler returned still
//! records the handler's result, and one cancelled while its claim was being answered does not
//! leave that claim behind (on a Tokio runtime; see [`Idempotency::run`]).
//!
//! Claims are only ever taken for a [`Message`], which only [`Verifier::verify`] hands out: an
//! unsigned request cannot claim an id and block the real event.
//!
//! ```
//! use standard_webhooks::{Idempotency, MemoryStore, Outcome, Secret, Signer, Verifier};
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let verifier = Verifier::builder().secret(secret.clone()).build()?;
//! let once = Idempotency::new(MemoryStore::new());
//! let runs = AtomicUsize::new(0);
//!
//! let body = br#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
//! let now = time::OffsetDateTime::now_utc().unix_timestamp();
//! let headers = Signer::new(secret).headers("msg_2Kq8", now, body);
//!
//! for _attempt in 0..3 {
//!     let msg = verifier.verify(&headers, body)?; // never claim before verifying
//!     let outcome = once
//!         .run(&msg, async {
//!             runs.fetch_add(1, Ordering::SeqCst);
//!             Ok::<_, std::io::Error>("booked") // Ok records the id as done
//!         })
//!         .await?; // Err: the store is down, answer 503
//!     match outcome {
//!         Outcome::Ran { output, .. } => assert_eq!(output?, "booked"), // answer 200 (or 500 on Err)
//!         Outcome::Done => {}                                           // answer 200 at once
//!         Outcome::InProgress { retry_after } => {                      // answer 409 + Retry-After
//!             unreachable!("not concurrent here: {retry_after:?}")
//!         }
//!     }
//! }
//! assert_eq!(runs.load(Ordering::SeqCst), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Stores: [`MemoryStore`] (one process, bounded), `RedisStore` (feature `redis`, shared by
//! a fleet), or your own through [`IdempotencyStore`].
//!
//! [`Message`]: crate::Message
//! [`Verifier::verify`]: crate::Verifier::verify

#[cfg(feature = "actix-web")]
mod actix_middleware;
#[cfg(feature = "axum")]
mod axum_layer;
mod delivery;
mod memory;
#[cfg(feature = "redis")]
mod redis_store;
mod run;
mod store;
mod store_call;

#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub use actix_middleware::{IdempotencyMiddleware, IdempotencyMiddlewareService};
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum_layer::{IdempotencyLayer, IdempotencyService};
pub use delivery::Delivery;
pub use memory::{DEFAULT_MEMORY_CAPACITY, MemoryStore};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use redis_store::{DEFAULT_REDIS_PREFIX, RedisStore};
pub use run::{
    DEFAULT_LEASE, DEFAULT_RETENTION, DEFAULT_RETRY_AFTER, IN_PROGRESS_STATUS, Idempotency,
    Outcome, STORE_UNAVAILABLE_STATUS, StoreFailure, Success,
};
pub use store::{Claim, ClaimToken, IdempotencyStore, MAX_TTL, StoreError};
