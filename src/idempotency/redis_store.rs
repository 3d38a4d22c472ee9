//! The Redis store: claims shared by every instance of a receiver.

use core::fmt;
use core::time::Duration;
use std::sync::{Arc, LazyLock};

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{Claim, ClaimToken, IdempotencyStore, StoreError, ttl_millis};

/// The key prefix a [`RedisStore`] puts in front of each id unless told otherwise.
pub const DEFAULT_REDIS_PREFIX: &str = "standard-webhooks:id:";

/// The value of a done id.
const DONE: &str = "done";

/// `SET key claim NX PX lease`; if the key exists, whether it is done, or the claim's PTTL.
/// Returns `{1, 0}` claimed, `{2, 0}` done, `{3, pttl}` in progress.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, 0}
end
if redis.call('GET', KEYS[1]) == ARGV[3] then
  return {2, 0}
end
return {3, redis.call('PTTL', KEYS[1])}
",
    )
});

/// Records done for `retention` unless done already. Returns 1 if the caller's claim was
/// still there, 2 if it was gone or another's (the lease ran out), 0 if done already.
static COMPLETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current == ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[2])
if current == ARGV[1] then
  return 1
end
return 2
",
    )
});

/// Deletes the key only if it still holds the caller's claim. Returns the number deleted.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});

/// Keeps claims and done ids in Redis, so that every instance of a receiver sees them.
///
/// One key per id (`prefix`, namespace, `:`, id; e.g. `standard-webhooks:id:dinie:msg_1`): a
/// claim is `SET key claim:TOKEN NX PX lease`, made atomic together with reading what is there
/// already by a Lua script; completing sets `done` with the retention as expiry; releasing
/// deletes the key in a script that first checks it still holds this instance's token. Redis
/// expires keys itself: nothing to sweep. Works with Redis 2.6.12 and later, and Valkey.
///
/// Leases and retentions are kept in whole milliseconds, from 1 ms to [`MAX_TTL`] (a longer one,
/// `Duration::MAX` included, is clamped to it, as in [`MemoryStore`]): Redis refuses a `PX` that
/// does not fit once added to its clock.
///
/// [`MAX_TTL`]: super::MAX_TTL
/// [`MemoryStore`]: crate::MemoryStore
///
/// Every command times out after 1 s by default ([`connect`](Self::connect)), so a Redis that
/// hangs turns into a 503 for the sender to retry, not a hung request.
///
/// ```no_run
/// use standard_webhooks::{Idempotency, RedisStore};
///
/// # async fn f() -> Result<(), standard_webhooks::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let once = Idempotency::new(store);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: Arc<str>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &&*self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[:password@]host:port/db`), with a
    /// reconnecting connection whose commands and connection attempts time out after 1 s.
    ///
    /// Fails if the URL is invalid or Redis cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(Self::from_connection(conn))
    }

    /// Uses a connection you configured yourself.
    pub fn from_connection(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: Arc::from(DEFAULT_REDIS_PREFIX),
        }
    }

    /// Sets the key prefix ([`DEFAULT_REDIS_PREFIX`] by default).
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Arc::from(prefix.into());
        self
    }

    fn key(&self, id: &str) -> String {
        format!("{}{}", self.prefix, id)
    }
}

fn claim_value(token: &ClaimToken) -> String {
    format!("claim:{}", token.as_str())
}

impl IdempotencyStore for RedisStore {
    async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, StoreError> {
        let token = ClaimToken::generate();
        let mut conn = self.conn.clone();
        let (state, pttl): (i64, i64) = CLAIM
            .key(self.key(id))
            .arg(claim_value(&token))
            .arg(ttl_millis(lease))
            .arg(DONE)
            .invoke_async(&mut conn)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(match state {
            1 => Claim::Claimed(token),
            2 => Claim::Done,
            _ => Claim::InProgress {
                expires_in: u64::try_from(pttl).ok().map(Duration::from_millis),
            },
        })
    }

    async fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = COMPLETE
            .key(self.key(id))
            .arg(claim_value(token))
            .arg(ttl_millis(retention))
            .arg(DONE)
            .invoke_async(&mut conn)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: i64 = RELEASE
            .key(self.key(id))
            .arg(claim_value(token))
            .invoke_async(&mut conn)
            .await
            .map_err(StoreError::unavailable)?;
        Ok(())
    }

    /// Spawns the release on the current Tokio runtime; outside one, the claim lapses after its
    /// lease.
    fn release_in_background(&self, id: &str, token: &ClaimToken) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let store = self.clone();
            let id = id.to_owned();
            let token = token.clone();
            drop(runtime.spawn(async move {
                // A failure leaves the claim to lapse after its lease, as it would anyway.
                let _ = store.release(&id, &token).await;
            }));
        }
    }
}
