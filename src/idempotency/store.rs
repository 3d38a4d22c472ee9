//! The store trait: where claims on message ids and the ids already processed are kept.

use core::fmt;
use core::future::Future;
use core::time::Duration;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The longest lease or retention a store keeps: 1000 years (of 365 days).
///
/// Longer durations, [`Duration::MAX`] included, mean "as long as possible" and are clamped to
/// it, the same way by [`Idempotency::lease`](crate::Idempotency::lease),
/// [`Idempotency::retention`](crate::Idempotency::retention), [`MemoryStore`] and
/// `RedisStore`, so that no store refuses them. Redis refuses an expiry that does not fit a
/// signed 64-bit count of milliseconds since 1970 (with Redis 7.0.15, `SET … PX` accepts at most
/// `i64::MAX` less the current time in milliseconds); the date types a store of your own may
/// compute expiries with (the `time` crate, SQL `DATETIME`) end in the year 9999.
///
/// [`MemoryStore`]: crate::MemoryStore
pub const MAX_TTL: Duration = Duration::from_secs(1000 * 365 * 24 * 60 * 60);

/// [`MAX_TTL`] in milliseconds.
const MAX_TTL_MILLIS: u64 = MAX_TTL.as_secs() * 1000;

/// A lease or retention in whole milliseconds, as the stores keep them: at least 1, at most
/// [`MAX_TTL`].
pub(crate) fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, MAX_TTL_MILLIS)
}

/// Where an [`Idempotency`](crate::Idempotency) keeps the ids being processed and those done.
///
/// Three operations, each atomic in the store, each on one key (the message id, with the
/// namespace of the [`Idempotency`](crate::Idempotency) and `:` in front; see
/// [`Idempotency::namespace`](crate::Idempotency::namespace)):
///
/// | operation | key absent or expired | claimed by the caller | claimed by another | done |
/// | --- | --- | --- | --- | --- |
/// | [`claim`](Self::claim) | claim it for `lease`: [`Claim::Claimed`] | [`Claim::InProgress`] | [`Claim::InProgress`] | [`Claim::Done`] |
/// | [`complete`](Self::complete) | record done for `retention` | record done for `retention` | record done for `retention` | unchanged |
/// | [`release`](Self::release) | unchanged | remove | unchanged | unchanged |
///
/// The [`ClaimToken`] that `claim` hands out is what makes an instance's `release` touch its
/// own claim and nothing else: an instance whose lease ran out must not delete the claim that
/// another instance took since, nor a done record. `complete` records "done" whoever holds the
/// claim, because it states a fact about the event (its handler succeeded): if a slow instance
/// outlived its lease and another one is running the same event, a retry after that second run
/// fails must still find the event done.
///
/// The `lease` and `retention` an [`Idempotency`](crate::Idempotency) passes are at least 1 ms
/// and at most [`MAX_TTL`].
///
/// A call, once started, is awaited to its end even if the request that made it is dropped
/// meanwhile (with the `tokio` feature, on a spawned task): give each call an end of its own,
/// such as a timeout on each round trip to a server, as [`RedisStore`] does.
///
/// Implement it to keep ids in your own database (a table with a primary key on the id and an
/// expiry column; a conditional `INSERT … ON CONFLICT` or a DynamoDB conditional put gives the
/// atomic claim). The futures must be `Send`, so that handlers stay usable on multi-threaded
/// runtimes; an `async fn` in the `impl` block is enough:
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::{Duration, Instant};
/// use standard_webhooks::{Claim, ClaimToken, IdempotencyStore, StoreError};
///
/// /// A toy store: unbounded, and it never forgets (use `MemoryStore` for real).
/// #[derive(Default)]
/// struct MyStore(Mutex<HashMap<String, Option<(ClaimToken, Instant)>>>);
///
/// impl IdempotencyStore for MyStore {
///     async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, StoreError> {
///         let mut map = self.0.lock().map_err(|_| StoreError::unavailable("poisoned"))?;
///         match map.get(id) {
///             Some(None) => return Ok(Claim::Done),
///             Some(Some((_, until))) if *until > Instant::now() => {
///                 let expires_in = Some(until.saturating_duration_since(Instant::now()));
///                 return Ok(Claim::InProgress { expires_in });
///             }
///             _ => {}
///         }
///         let token = ClaimToken::generate();
///         map.insert(id.to_owned(), Some((token.clone(), Instant::now() + lease)));
///         Ok(Claim::Claimed(token))
///     }
///
///     async fn complete(&self, id: &str, _: &ClaimToken, _: Duration) -> Result<(), StoreError> {
///         let mut map = self.0.lock().map_err(|_| StoreError::unavailable("poisoned"))?;
///         map.insert(id.to_owned(), None);
///         Ok(())
///     }
///
///     async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), StoreError> {
///         let mut map = self.0.lock().map_err(|_| StoreError::unavailable("poisoned"))?;
///         if matches!(map.get(id), Some(Some((t, _))) if t == token) {
///             map.remove(id);
///         }
///         Ok(())
///     }
/// }
///
/// # tokio_test_block_on(async {
/// let store = MyStore::default();
/// let Claim::Claimed(token) = store.claim("msg_1", Duration::from_secs(60)).await? else {
///     panic!("the first claim wins");
/// };
/// assert!(matches!(store.claim("msg_1", Duration::from_secs(60)).await?, Claim::InProgress { .. }));
/// store.complete("msg_1", &token, Duration::from_secs(3600)).await?;
/// assert_eq!(store.claim("msg_1", Duration::from_secs(60)).await?, Claim::Done);
/// # Ok::<(), StoreError>(())
/// # }).unwrap();
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
///
/// [`RedisStore`]: crate::idempotency::RedisStore
pub trait IdempotencyStore: Send + Sync + 'static {
    /// Claims `id` for `lease`, unless it is done or claimed already.
    ///
    /// Must be atomic: of two concurrent claims on a free id, exactly one gets
    /// [`Claim::Claimed`]. An expired claim or done record counts as absent.
    fn claim(
        &self,
        id: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records `id` as done for `retention`, after its handler succeeded.
    ///
    /// Replaces the caller's claim, an expired one, or (if the caller's lease ran out) another
    /// instance's claim; leaves an existing done record as it is.
    fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the claim on `id` if, and only if, it is still the one `token` was handed out
    /// for; called after a handler failed, so that the sender's retry runs it again.
    fn release(
        &self,
        id: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Like [`release`](Self::release), from a place that cannot wait: the handler's future
    /// was dropped (the request was cancelled, or the handler panicked).
    ///
    /// The default does nothing, and the claim lapses when its lease ends. [`MemoryStore`]
    /// releases at once; [`RedisStore`] spawns the release on the current Tokio runtime.
    ///
    /// [`MemoryStore`]: crate::MemoryStore
    /// [`RedisStore`]: crate::RedisStore
    fn release_in_background(&self, id: &str, token: &ClaimToken) {
        let _ = (id, token);
    }
}

/// The answer of [`IdempotencyStore::claim`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The id was free and is now claimed by the caller, until the lease ends or the caller
    /// completes or releases it with this token.
    Claimed(ClaimToken),
    /// The id was processed already.
    Done,
    /// Another request holds a claim on the id.
    InProgress {
        /// When that claim lapses, if the store knows.
        expires_in: Option<Duration>,
    },
}

/// Identifies one claim, so that [`IdempotencyStore::release`] only removes the caller's own.
///
/// Unique across processes (a per-process random prefix, from the operating system's
/// randomness through [`std::hash::RandomState`], and a per-process counter), but not secret:
/// whoever can write to the store can do worse than guess a token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(Box<str>);

impl ClaimToken {
    /// A fresh token, unique across processes and machines.
    ///
    /// ```
    /// use standard_webhooks::ClaimToken;
    /// assert_ne!(ClaimToken::generate(), ClaimToken::generate());
    /// ```
    pub fn generate() -> Self {
        static PREFIX: OnceLock<(u64, u64)> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let (a, b) = *PREFIX.get_or_init(|| (random_u64(), random_u64()));
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        Self(format!("{a:016x}{b:016x}-{n:x}").into_boxed_str())
    }

    /// A token read back from a store that keeps tokens as text.
    pub fn from_string(token: impl Into<String>) -> Self {
        Self(token.into().into_boxed_str())
    }

    /// The token as text, for a store to save.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClaimToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClaimToken").field(&&*self.0).finish()
    }
}

/// 64 bits from the OS-seeded keys of a fresh `RandomState` (SipHash of the process id).
fn random_u64() -> u64 {
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    hasher.finish()
}

/// Why a store could not answer. The delivery is then refused with 503, and the sender retries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or failed (a Redis connection refused or timed out, a
    /// database error).
    #[error("idempotency store unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),

    /// A bounded store is full of claims that are still running, so it cannot take another.
    #[error("idempotency store full: {capacity} ids are claimed and still in progress")]
    Full {
        /// The store's capacity, in ids.
        capacity: usize,
    },
}

impl StoreError {
    /// An [`Unavailable`](Self::Unavailable) error from any error or message.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(source.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_round_trip() {
        let a = ClaimToken::generate();
        let b = ClaimToken::generate();
        assert_ne!(a, b);
        assert_eq!(ClaimToken::from_string(a.as_str()), a);
        assert_eq!(a.as_str().len(), b.as_str().len());
        // The random prefix is shared within a process; the counter differs.
        assert_eq!(a.as_str()[..32], b.as_str()[..32]);
    }

    #[test]
    fn ttls_are_clamped_to_what_every_store_accepts() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1500)), 1);
        assert_eq!(ttl_millis(Duration::from_secs(60)), 60_000);
        assert_eq!(ttl_millis(MAX_TTL), 31_536_000_000_000);
        assert_eq!(
            ttl_millis(MAX_TTL + Duration::from_millis(1)),
            31_536_000_000_000
        );
        assert_eq!(ttl_millis(Duration::MAX), 31_536_000_000_000);
        // Redis's PX is a signed 64-bit count of milliseconds, added to the current time.
        assert!(ttl_millis(Duration::MAX) < (i64::MAX as u64) / 2);
    }

    #[test]
    fn store_error_messages_say_what_happened() {
        assert_eq!(
            StoreError::unavailable("connection refused").to_string(),
            "idempotency store unavailable: connection refused"
        );
        assert_eq!(
            StoreError::Full { capacity: 3 }.to_string(),
            "idempotency store full: 3 ids are claimed and still in progress"
        );
    }
}
