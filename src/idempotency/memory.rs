//! The in-memory store: one process, bounded, the default.

use core::time::Duration;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::store::{Claim, ClaimToken, IdempotencyStore, StoreError, ttl_millis};

/// The default capacity of a [`MemoryStore`]: 100 000 ids.
pub const DEFAULT_MEMORY_CAPACITY: usize = 100_000;

/// Keeps claims and done ids in this process's memory, for a receiver that runs as one
/// instance. A fleet behind a load balancer needs a shared store such as
/// [`RedisStore`](crate::RedisStore).
///
/// Bounded: it holds at most `capacity` ids ([`DEFAULT_MEMORY_CAPACITY`] unless set). Expired
/// records are swept as new ids arrive. When it is full, the done record that was completed
/// first is forgotten to make room (the least likely to see a retry: senders retry only
/// deliveries that were not answered 2xx, and a replay is refused by the verifier after its
/// 5-minute tolerance); if every id held is still in progress, a new claim fails with
/// [`StoreError::Full`], answered 503. Size it to the deliveries one retention period brings.
/// Leases and retentions run from 1 ms to [`MAX_TTL`](super::MAX_TTL), clamped as in every
/// store.
///
/// Memory: 182 bytes of resident memory per done id of 31 characters (a Svix-style `msg_`
/// id), so 182 MB per million ids (the default capacity: about 18 MB), measured with
/// `cargo bench --bench memory_store_size` on Linux/glibc (see BENCHMARKS.md). Longer ids
/// add their length.
///
/// Cheap to clone: clones share the same records.
///
/// ```
/// use std::time::Duration;
/// use standard_webhooks::{Claim, IdempotencyStore, MemoryStore};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let store = MemoryStore::with_capacity(10_000);
/// let lease = Duration::from_secs(60);
///
/// let Claim::Claimed(token) = store.claim("msg_1", lease).await? else { unreachable!() };
/// // While the first request runs, a duplicate is told to come back later:
/// assert!(matches!(store.claim("msg_1", lease).await?, Claim::InProgress { .. }));
/// // Once it succeeded, the id is done:
/// store.complete("msg_1", &token, Duration::from_secs(3 * 24 * 3600)).await?;
/// assert_eq!(store.claim("msg_1", lease).await?, Claim::Done);
/// assert_eq!(store.len(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    /// Milliseconds are counted from here.
    origin: Instant,
    capacity: usize,
    map: HashMap<Arc<str>, Entry>,
    /// Done ids in the order they were completed, with the expiry they were given; an item
    /// whose expiry no longer matches the map's entry is stale and skipped.
    done: VecDeque<(Arc<str>, u64)>,
}

enum Entry {
    Done { expires: u64 },
    Claimed { expires: u64, token: ClaimToken },
}

impl Entry {
    fn expires(&self) -> u64 {
        match self {
            Entry::Done { expires } | Entry::Claimed { expires, .. } => *expires,
        }
    }
}

/// How many expired records one call sweeps at most, so that no call pays for a backlog.
const SWEEP_BUDGET: usize = 8;

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_MEMORY_CAPACITY)
    }
}

impl core::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let inner = self.lock();
        f.debug_struct("MemoryStore")
            .field("len", &inner.map.len())
            .field("capacity", &inner.capacity)
            .finish()
    }
}

impl MemoryStore {
    /// An empty store of [`DEFAULT_MEMORY_CAPACITY`] ids.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store holding at most `capacity` ids (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                origin: Instant::now(),
                capacity: capacity.max(1),
                map: HashMap::new(),
                done: VecDeque::new(),
            })),
        }
    }

    /// How many ids are held, claimed or done, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.lock().map.len()
    }

    /// Whether no id is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most ids it holds.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The lock is never held across a call that can panic, but if it were poisoned the
        // records are still consistent (every update is a single map operation).
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn claim_now(&self, id: &str, lease: Duration) -> Result<Claim, StoreError> {
        let mut inner = self.lock();
        let now = inner.now();
        inner.sweep(now, SWEEP_BUDGET);
        match inner.map.get(id) {
            Some(Entry::Done { expires }) if *expires > now => return Ok(Claim::Done),
            Some(Entry::Claimed { expires, .. }) if *expires > now => {
                return Ok(Claim::InProgress {
                    expires_in: Some(Duration::from_millis(expires - now)),
                });
            }
            Some(_) => {} // expired: replaced below, no room needed
            None => inner.make_room(now)?,
        }
        let token = ClaimToken::generate();
        let expires = now.saturating_add(ttl_millis(lease));
        inner.map.insert(
            Arc::from(id),
            Entry::Claimed {
                expires,
                token: token.clone(),
            },
        );
        Ok(Claim::Claimed(token))
    }

    fn complete_now(&self, id: &str, retention: Duration) {
        let mut inner = self.lock();
        let now = inner.now();
        if matches!(inner.map.get(id), Some(Entry::Done { expires }) if *expires > now) {
            return;
        }
        let expires = now.saturating_add(ttl_millis(retention));
        let key: Arc<str> = match inner.map.get_key_value(id) {
            Some((key, _)) => Arc::clone(key),
            None => {
                // The claim was swept after its lease: take its place again. A full store
                // still records the fact (one over capacity) rather than lose it.
                let _ = inner.make_room(now);
                Arc::from(id)
            }
        };
        inner.done.push_back((Arc::clone(&key), expires));
        inner.map.insert(key, Entry::Done { expires });
    }

    fn release_now(&self, id: &str, token: &ClaimToken) {
        let mut inner = self.lock();
        if matches!(inner.map.get(id), Some(Entry::Claimed { token: t, .. }) if t == token) {
            inner.map.remove(id);
        }
    }
}

impl Inner {
    fn now(&self) -> u64 {
        millis(self.origin.elapsed())
    }

    /// Drops up to `budget` done records whose retention ended, oldest first.
    fn sweep(&mut self, now: u64, budget: usize) {
        for _ in 0..budget {
            let Some((id, expires)) = self.done.front() else {
                return;
            };
            let current = self.map.get(id).map(Entry::expires);
            if current == Some(*expires) && *expires > now {
                return; // the oldest live record has not expired yet
            }
            if let Some((id, expires)) = self.done.pop_front()
                && expires <= now
                && matches!(self.map.get(&id), Some(Entry::Done { expires: e }) if *e == expires)
            {
                self.map.remove(&id);
            }
        }
    }

    /// Frees a slot for a new id when the store is full, forgetting the oldest done record.
    fn make_room(&mut self, now: u64) -> Result<(), StoreError> {
        while self.map.len() >= self.capacity {
            match self.done.pop_front() {
                Some((id, expires)) => {
                    if matches!(self.map.get(&id), Some(Entry::Done { expires: e }) if *e == expires)
                    {
                        self.map.remove(&id);
                    }
                }
                None => {
                    // Only claims left: drop those whose lease ended, if any.
                    self.map.retain(|_, entry| entry.expires() > now);
                    if self.map.len() >= self.capacity {
                        return Err(StoreError::Full {
                            capacity: self.capacity,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl IdempotencyStore for MemoryStore {
    async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.claim_now(id, lease)
    }

    async fn complete(
        &self,
        id: &str,
        _token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        self.complete_now(id, retention);
        Ok(())
    }

    async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), StoreError> {
        self.release_now(id, token);
        Ok(())
    }

    fn release_in_background(&self, id: &str, token: &ClaimToken) {
        self.release_now(id, token);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(60);
    const DAY: Duration = Duration::from_secs(86_400);

    fn claimed(store: &MemoryStore, id: &str) -> ClaimToken {
        match store.claim_now(id, LEASE).unwrap() {
            Claim::Claimed(t) => t,
            other => panic!("expected a claim on {id}, got {other:?}"),
        }
    }

    #[test]
    fn claim_complete_release_follow_the_table() {
        let store = MemoryStore::new();
        let t = claimed(&store, "a");
        assert!(matches!(
            store.claim_now("a", LEASE).unwrap(),
            Claim::InProgress { expires_in: Some(d) } if d <= LEASE && d > LEASE / 2
        ));
        // Releasing with another token touches nothing.
        store.release_now("a", &ClaimToken::generate());
        assert!(matches!(
            store.claim_now("a", LEASE).unwrap(),
            Claim::InProgress { .. }
        ));
        store.release_now("a", &t);
        let t2 = claimed(&store, "a");
        store.complete_now("a", DAY);
        assert_eq!(store.claim_now("a", LEASE).unwrap(), Claim::Done);
        // A late release with the first or second token never removes a done record.
        store.release_now("a", &t);
        store.release_now("a", &t2);
        assert_eq!(store.claim_now("a", LEASE).unwrap(), Claim::Done);
    }

    #[test]
    fn leases_and_retention_expire() {
        let store = MemoryStore::new();
        let _ = store.claim_now("a", Duration::from_millis(30)).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        let t = claimed(&store, "a"); // the crashed owner's lease ended
        store.complete_now("a", Duration::from_millis(30));
        assert_eq!(store.claim_now("a", LEASE).unwrap(), Claim::Done);
        drop(t);
        std::thread::sleep(Duration::from_millis(60));
        let _ = claimed(&store, "a"); // retention ended: a new event for all we know
    }

    #[test]
    fn expired_done_records_are_swept() {
        let store = MemoryStore::new();
        for i in 0..5 {
            let id = format!("old{i}");
            let _ = claimed(&store, &id);
            store.complete_now(&id, Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(30));
        let _ = claimed(&store, "new");
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_full_store_forgets_the_oldest_done_id_first() {
        let store = MemoryStore::with_capacity(3);
        for id in ["a", "b", "c"] {
            let _ = claimed(&store, id);
            store.complete_now(id, DAY);
        }
        let _ = claimed(&store, "d");
        assert_eq!(store.len(), 3);
        assert!(matches!(
            store.claim_now("a", LEASE).unwrap(),
            Claim::Claimed(_)
        ));
        assert_eq!(store.claim_now("c", LEASE).unwrap(), Claim::Done);
    }

    #[test]
    fn a_store_full_of_running_claims_refuses_more() {
        let store = MemoryStore::with_capacity(2);
        let _ = claimed(&store, "a");
        let _ = claimed(&store, "b");
        assert!(matches!(
            store.claim_now("c", LEASE),
            Err(StoreError::Full { capacity: 2 })
        ));
        // Known ids still get their answer.
        assert!(matches!(
            store.claim_now("a", LEASE).unwrap(),
            Claim::InProgress { .. }
        ));
    }

    #[test]
    fn complete_after_the_lease_ran_out_still_records_done() {
        let store = MemoryStore::new();
        let t = match store.claim_now("a", Duration::from_millis(10)).unwrap() {
            Claim::Claimed(t) => t,
            other => panic!("{other:?}"),
        };
        std::thread::sleep(Duration::from_millis(30));
        let _other = claimed(&store, "a"); // another instance took over
        store.complete_now("a", DAY); // the slow first one succeeded after all
        store.release_now("a", &t);
        assert_eq!(store.claim_now("a", LEASE).unwrap(), Claim::Done);
    }
}
