//! Running a handler at most once per id: claim, run, then complete or release.

use core::fmt;
use core::future::Future;
use core::time::Duration;
use std::sync::Arc;

use http::StatusCode;

use super::memory::MemoryStore;
use super::store::{Claim, ClaimToken, IdempotencyStore, MAX_TTL, StoreError};
use super::store_call::{Abandoned, StoreCall};
use crate::delivery::VerifiedId;

/// How long a claim holds by default: 5 minutes.
///
/// Far beyond the request timeout of senders (15 to 30 s), so a handler still running after its
/// sender gave up does not lose its claim to the retry; short enough that an instance that
/// crashed mid-handler blocks its id for minutes, not hours: a sender's later retries (Svix's
/// come 5 s, 5 min, 30 min, 2 h… after a failure) find it free.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(5 * 60);

/// How long a done id is remembered by default: 3 days.
///
/// Covers a sender's whole retry schedule (Svix's runs about 28 hours after the first
/// attempt; most senders give up within 1 to 3 days), so a retry sent because our 2xx was lost
/// still finds the id done. Replays of captured deliveries only need the verifier's 5-minute
/// tolerance.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(3 * 24 * 60 * 60);

/// The `Retry-After` given by default with a 409 or a 503: 5 seconds.
///
/// Most handlers finish within seconds, so a sender that honours the header learns the outcome
/// on its next attempt; senders that ignore it follow their own schedule, which is fine too.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The status for a delivery whose id another request is processing: 409 Conflict.
///
/// It is what the IETF's Idempotency-Key draft prescribes for "a request with the same key is
/// still being processed", and every Standard Webhooks sender retries any non-2xx, so the
/// event comes back later. Not 503: that would read as an outage on dashboards and load
/// balancers, while this is normal traffic. Never 410, which makes senders disable the
/// endpoint.
pub const IN_PROGRESS_STATUS: StatusCode = StatusCode::CONFLICT;

/// The status when the store cannot be reached: 503 Service Unavailable. The handler has not
/// run; the sender retries later.
pub const STORE_UNAVAILABLE_STATUS: StatusCode = StatusCode::SERVICE_UNAVAILABLE;

/// The body of the 200 answered for a done id.
#[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
pub(crate) const DONE_BODY: &str = "webhook already processed";
/// The body of the 409 answered for an id in progress.
#[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
pub(crate) const IN_PROGRESS_BODY: &str =
    "webhook is being processed by another request; retry later";
/// The body of the 503 answered when the store is down. It names no internals.
#[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
pub(crate) const UNAVAILABLE_BODY: &str =
    "webhook not processed: the idempotency store is unavailable; retry later";

/// Put in a response's extensions by the idempotency middlewares whenever the store failed: on
/// the 503 they answer when the claim could not be asked, and on the route's own response when
/// the result could not be recorded after the route ran (the claim then lapses after its
/// lease). For an outer layer that logs or counts errors; the sender never sees it.
#[derive(Debug, Clone)]
pub struct StoreFailure(pub Arc<StoreError>);

/// Runs a handler at most once per verified message id, with claims kept in a store.
///
/// Cheap to clone (the store is shared).
///
/// A sender delivers each event until it gets a 2xx, with the same `webhook-id` on every
/// attempt: a 2xx that got lost or came late means a second delivery, hours later; a delivery
/// captured by an attacker can be replayed while its timestamp is fresh. An [`Idempotency`]
/// runs your handler once per id:
///
/// | the id is | the handler | the answer |
/// | --- | --- | --- |
/// | new (or its record expired) | runs | the handler's; a success records the id as done for the retention (3 days by default), any other answer, a panic or a cancellation releases it |
/// | done | does not run | 200 at once, so the sender stops retrying |
/// | being processed (by this or another instance) | does not run | 409 Conflict, `Retry-After: 5` |
/// | unknown, because the store is down | does not run | 503 Service Unavailable, `Retry-After: 5` |
///
/// A claim lasts for a lease (5 minutes by default), so an instance that crashed mid-handler
/// blocks its id for at most that long. A request cancelled after its handler returned still
/// records the handler's result, and one cancelled while its claim was being answered does not
/// leave that claim behind (on a Tokio runtime; see [`Idempotency::run`]).
///
/// Claims are only ever taken for a verified delivery ([`VerifiedId`]: a [`Message`], which only
/// [`Verifier::verify`] hands out, or a [`Delivery`](crate::Delivery) from an extractor): an
/// unsigned request cannot claim an id and block the real event. With axum or actix-web, the
/// [`IdempotencyLayer`](crate::axum::IdempotencyLayer) and
/// [`IdempotencyMiddleware`](crate::actix::IdempotencyMiddleware) verify, claim and run the
/// route in one line.
///
/// ```
/// use standard_webhooks::{Idempotency, MemoryStore, Outcome, Secret, Signer, Verifier};
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build()?.block_on(async {
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let verifier = Verifier::builder().secret(secret.clone()).build()?;
/// let once = Idempotency::new(MemoryStore::new());
/// let runs = AtomicUsize::new(0);
///
/// let body = br#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
/// let now = time::OffsetDateTime::now_utc().unix_timestamp();
/// let headers = Signer::new(secret).headers("msg_2Kq8", now, body);
///
/// for _attempt in 0..3 {
///     let msg = verifier.verify(&headers, body)?; // never claim before verifying
///     let outcome = once
///         .run(&msg, async {
///             runs.fetch_add(1, Ordering::SeqCst);
///             Ok::<_, std::io::Error>("booked") // Ok records the id as done
///         })
///         .await?; // Err: the store is down, answer 503
///     match outcome {
///         Outcome::Ran { output, .. } => assert_eq!(output?, "booked"), // answer 200 (or 500 on Err)
///         Outcome::Done => {}                                           // answer 200 at once
///         Outcome::InProgress { retry_after } => {                      // answer 409 + Retry-After
///             unreachable!("not concurrent here: {retry_after:?}")
///         }
///     }
/// }
/// assert_eq!(runs.load(Ordering::SeqCst), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Stores: [`MemoryStore`] (one process, bounded), [`RedisStore`](crate::RedisStore) (feature
/// `redis`, shared by a fleet), or your own through [`IdempotencyStore`].
///
/// [`Message`]: crate::Message
/// [`Verifier::verify`]: crate::Verifier::verify
pub struct Idempotency<S = MemoryStore> {
    store: Arc<S>,
    /// The namespace made key-safe (see [`encode`]): what goes in front of every id in the
    /// store.
    key_prefix: Arc<str>,
    lease: Duration,
    retention: Duration,
    retry_after: Duration,
}

impl<S> Clone for Idempotency<S> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            key_prefix: Arc::clone(&self.key_prefix),
            lease: self.lease,
            retention: self.retention,
            retry_after: self.retry_after,
        }
    }
}

impl<S> fmt::Debug for Idempotency<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Idempotency")
            .field("store", &core::any::type_name::<S>())
            .field("key_prefix", &&*self.key_prefix)
            .field("lease", &self.lease)
            .field("retention", &self.retention)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

/// What [`Idempotency::run`] did with a delivery.
#[derive(Debug)]
#[must_use = "the outcome says how to answer the sender"]
pub enum Outcome<R> {
    /// The id was new (or released after a failure): the handler ran and this is its output.
    /// Answer with it.
    Ran {
        /// The handler's output.
        output: R,
        /// Set when the store could not record the result after the handler ran. The claim
        /// then lapses after its lease. Answer with `output` all the same: the handler did run,
        /// and a 5xx would make the sender deliver the event again.
        record_error: Option<StoreError>,
    },
    /// The id is done: answer 2xx at once, the handler did not run.
    Done,
    /// Another request is processing the id right now: answer [`IN_PROGRESS_STATUS`] (409)
    /// with this `Retry-After`; the handler did not run.
    InProgress {
        /// How long the sender should wait (whole seconds, at least one).
        retry_after: Duration,
    },
}

impl<R> Outcome<R> {
    /// The handler's output, if it ran.
    pub fn output(self) -> Option<R> {
        match self {
            Outcome::Ran { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// Whether a handler's output counts as a success, which records the id as done. Anything
/// else releases the claim so that the sender's retry runs the handler again.
pub trait Success {
    /// `true` when the event was processed.
    fn is_success(&self) -> bool;
}

impl<T, E> Success for Result<T, E> {
    /// `Ok`.
    fn is_success(&self) -> bool {
        self.is_ok()
    }
}

impl Success for StatusCode {
    /// A 2xx status.
    fn is_success(&self) -> bool {
        StatusCode::is_success(self)
    }
}

impl<B> Success for http::Response<B> {
    /// A 2xx status.
    fn is_success(&self) -> bool {
        self.status().is_success()
    }
}

impl Success for bool {
    fn is_success(&self) -> bool {
        *self
    }
}

impl Default for Idempotency<MemoryStore> {
    fn default() -> Self {
        Self::new(MemoryStore::default())
    }
}

impl<S: IdempotencyStore> Idempotency<S> {
    /// Keeps claims in `store`, with the default lease, retention and `Retry-After`.
    pub fn new(store: S) -> Self {
        Self::from_shared(Arc::new(store))
    }

    /// Like [`new`](Self::new), sharing a store that is already behind an `Arc`.
    pub fn from_shared(store: Arc<S>) -> Self {
        Self {
            store,
            key_prefix: Arc::from(""),
            lease: DEFAULT_LEASE,
            retention: DEFAULT_RETENTION,
            retry_after: DEFAULT_RETRY_AFTER,
        }
    }

    /// How long a claim holds before another request may take the id over ([`DEFAULT_LEASE`]).
    /// Make it longer than your slowest handler: a handler still running when its lease ends
    /// can run a second time alongside the retry.
    ///
    /// At least 1 ms and at most [`MAX_TTL`] (1000 years): a longer lease, `Duration::MAX`
    /// included, means as long as possible, and is clamped to that bound, which every store
    /// accepts.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.clamp(Duration::from_millis(1), MAX_TTL);
        self
    }

    /// How long a done id is remembered ([`DEFAULT_RETENTION`]). Make it longer than your
    /// senders' retry schedules.
    ///
    /// At least 1 ms and at most [`MAX_TTL`] (1000 years): a longer retention, `Duration::MAX`
    /// included, means as long as possible, and is clamped to that bound, which every store
    /// accepts.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention.clamp(Duration::from_millis(1), MAX_TTL);
        self
    }

    /// The `Retry-After` for a delivery whose id is in progress ([`DEFAULT_RETRY_AFTER`]),
    /// never more than the time left on the claim, and at least one second.
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Keeps the ids of this endpoint apart from those of other endpoints (senders whose ids
    /// may collide) that share one store. Empty by default.
    ///
    /// The store key of an id is the namespace, `:`, then the id, with any `%`, `/` and `:`
    /// in the namespace percent-encoded (`%25`, `%2F`, `%3A`), so that the first `:` of a key
    /// always ends its namespace: no id sent to one namespace can reach the key of another
    /// (`tenant1` with id `2msg` against `tenant12` with id `msg`, or the empty namespace with
    /// id `dinie:msg` against `dinie` with `msg`). When keys are looked up per endpoint
    /// ([`Endpoints`](crate::Endpoints)), the endpoint follows the namespace after a `/`,
    /// encoded the same way (`dinie/we_2Kq8:msg_1`), so ids of different endpoints never meet
    /// either.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.key_prefix = Arc::from(encode(&namespace.into()));
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The lease of each claim.
    pub fn lease_duration(&self) -> Duration {
        self.lease
    }

    /// How long done ids are remembered.
    pub fn retention_duration(&self) -> Duration {
        self.retention
    }

    /// Runs `handler` unless the message's id is done or being processed.
    ///
    /// `Err` means the store could not be asked and the handler did not run: answer
    /// [`STORE_UNAVAILABLE_STATUS`] (503) so that the sender retries. Otherwise the
    /// [`Outcome`] says what to answer. The handler's output decides through [`Success`]
    /// whether the id is recorded as done or released. If this future is dropped while the
    /// handler runs (the request was cancelled) or the handler panics, the claim is released
    /// through [`IdempotencyStore::release_in_background`].
    ///
    /// Once the handler has returned, its result is recorded even if this future is dropped
    /// meanwhile (a server timeout, a client that went away, a `select!`): with the `tokio`
    /// feature (enabled by `redis`, `axum` and `actix-web`), a store call that was started is
    /// finished on a task spawned on the current Tokio runtime. So is the claim: dropped while
    /// the store answers it, a claim granted all the same is then released. Without that
    /// feature, or outside a Tokio runtime, such a call is dropped with this future, and the id
    /// is answered [`InProgress`](Outcome::InProgress) until the lease ends, after which the
    /// handler can run again.
    ///
    /// `delivery` is a verified delivery: a [`Message`](crate::Message) from
    /// [`Verifier::verify`](crate::Verifier::verify), or a [`Delivery`](crate::Delivery) from
    /// an extractor ([`VerifiedId`] is sealed, so that nobody claims an id that was not
    /// verified). The ids of deliveries verified with the keys of different endpoints
    /// ([`Delivery::endpoint`](crate::Delivery::endpoint)) are kept apart.
    pub async fn run<V, F>(
        &self,
        delivery: &V,
        handler: F,
    ) -> Result<Outcome<F::Output>, StoreError>
    where
        V: VerifiedId + ?Sized,
        F: Future,
        F::Output: Success,
    {
        self.run_key(self.key(delivery.id(), delivery.endpoint()), handler)
            .await
    }

    /// [`run`](Self::run) for an id of the default endpoint, in tests.
    #[cfg(test)]
    pub(crate) async fn run_id<F>(
        &self,
        id: &str,
        handler: F,
    ) -> Result<Outcome<F::Output>, StoreError>
    where
        F: Future,
        F::Output: Success,
    {
        self.run_key(self.key(id, None), handler).await
    }

    /// [`run`](Self::run) for a store key.
    async fn run_key<F>(&self, key: String, handler: F) -> Result<Outcome<F::Output>, StoreError>
    where
        F: Future,
        F::Output: Success,
    {
        let ticket = match self.begin_key(key).await? {
            Begin::Run(ticket) => ticket,
            Begin::Done => return Ok(Outcome::Done),
            Begin::InProgress { retry_after } => return Ok(Outcome::InProgress { retry_after }),
        };
        let output = handler.await;
        let record_error = ticket.finish(output.is_success()).await;
        Ok(Outcome::Ran {
            output,
            record_error,
        })
    }

    /// Claims a verified delivery's id: the first half of [`run`](Self::run), for middlewares
    /// that must keep the request until they know whether the handler runs.
    #[cfg_attr(not(feature = "actix-web"), allow(dead_code))]
    pub(crate) async fn begin<V: VerifiedId + ?Sized>(
        &self,
        delivery: &V,
    ) -> Result<Begin<'_, S>, StoreError> {
        self.begin_key(self.key(delivery.id(), delivery.endpoint()))
            .await
    }

    /// The claim of a store key.
    ///
    /// The claim runs to its end even if this future is dropped while it waits for the store,
    /// and a claim granted then is released (see [`StoreCall`]): otherwise a claim taken for a
    /// request that is gone would answer 409 for a whole lease.
    async fn begin_key(&self, key: String) -> Result<Begin<'_, S>, StoreError> {
        let store = Arc::clone(&self.store);
        let lease = self.lease;
        let ClaimAnswer { key, claim, .. } = StoreCall::new(async move {
            let claim = store.claim(&key, lease).await;
            ClaimAnswer { store, key, claim }
        })
        .await;
        Ok(match claim? {
            Claim::Claimed(token) => Begin::Run(Ticket {
                once: self,
                key,
                token: Some(token),
            }),
            Claim::Done => Begin::Done,
            Claim::InProgress { expires_in } => Begin::InProgress {
                retry_after: self.retry_after_for(expires_in),
            },
        })
    }

    /// The `Retry-After` for an id in progress: the configured value, capped by what is left
    /// of the claim, in whole seconds, at least one.
    pub(crate) fn retry_after_for(&self, expires_in: Option<Duration>) -> Duration {
        let d = match expires_in {
            Some(left) => self.retry_after.min(left),
            None => self.retry_after,
        };
        // Rounded up; `Duration::MAX` has a fraction and no second above it.
        let secs = d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0));
        Duration::from_secs(secs.max(1))
    }

    /// The `Retry-After` for a 503.
    #[cfg_attr(not(any(feature = "axum", feature = "actix-web")), allow(dead_code))]
    pub(crate) fn unavailable_retry_after(&self) -> Duration {
        self.retry_after_for(None)
    }

    /// The store key of `id`: the encoded namespace, then `/` and the encoded endpoint when
    /// there is one, then `:` and the id. The encoded parts hold no `/` or `:`, so the first
    /// `/` or `:` of a key ends its namespace and the first `:` its endpoint: keys of different
    /// namespaces or endpoints never meet. The ticket keeps it, so it is owned.
    fn key(&self, id: &str, endpoint: Option<&str>) -> String {
        match endpoint {
            None => format!("{}:{id}", self.key_prefix),
            Some(endpoint) => format!("{}/{}:{id}", self.key_prefix, encode(endpoint)),
        }
    }
}

/// `text` with `%`, `/` and `:` percent-encoded (`%25`, `%2F`, `%3A`).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '/' => out.push_str("%2F"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

/// What [`Idempotency::begin`] found.
pub(crate) enum Begin<'a, S: IdempotencyStore> {
    /// Claimed: run the handler, then [`Ticket::finish`].
    Run(Ticket<'a, S>),
    Done,
    InProgress {
        retry_after: Duration,
    },
}

/// A claim being run. Dropped before [`finish`](Self::finish) (the handler was cancelled or
/// panicked), it releases the claim through [`IdempotencyStore::release_in_background`].
pub(crate) struct Ticket<'a, S: IdempotencyStore> {
    once: &'a Idempotency<S>,
    key: String,
    token: Option<ClaimToken>,
}

impl<S: IdempotencyStore> Ticket<'_, S> {
    /// Records the id as done after a success, releases it otherwise; the store's error, if
    /// it failed.
    ///
    /// Once started, the store call runs to its end even if this future is dropped (see
    /// [`StoreCall`]): the handler's result is known, and a success left unrecorded would run
    /// it again after the lease.
    pub(crate) async fn finish(mut self, success: bool) -> Option<StoreError> {
        let token = self.token.take()?;
        let key = core::mem::take(&mut self.key);
        let store = Arc::clone(&self.once.store);
        let retention = self.once.retention;
        StoreCall::new(async move {
            if success {
                store.complete(&key, &token, retention).await
            } else {
                store.release(&key, &token).await
            }
        })
        .await
        .err()
    }
}

/// The answer to a claim, with what it takes to release it if nobody is left to run it.
struct ClaimAnswer<S> {
    store: Arc<S>,
    key: String,
    claim: Result<Claim, StoreError>,
}

impl<S: IdempotencyStore> Abandoned for ClaimAnswer<S> {
    /// A claim granted to a request that is gone is released at once, not left to lapse.
    async fn abandoned(self) {
        if let Ok(Claim::Claimed(token)) = self.claim {
            // A failure leaves the claim to lapse after its lease.
            let _ = self.store.release(&self.key, &token).await;
        }
    }
}

impl<S: IdempotencyStore> Drop for Ticket<'_, S> {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            self.once.store.release_in_background(&self.key, &token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::pin::pin;
    use core::task::{Context, Poll, Waker};

    /// Polls a future that never waits (the memory store never does) to completion.
    fn now<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("the future waited"),
        }
    }

    #[test]
    fn success_records_and_failure_releases() {
        let once = Idempotency::new(MemoryStore::new());
        let out = now(once.run_id("a", async { StatusCode::INTERNAL_SERVER_ERROR })).unwrap();
        assert!(matches!(
            out,
            Outcome::Ran {
                output: StatusCode::INTERNAL_SERVER_ERROR,
                record_error: None
            }
        ));
        let out = now(once.run_id("a", async { StatusCode::NO_CONTENT })).unwrap();
        assert!(matches!(
            out,
            Outcome::Ran {
                output: StatusCode::NO_CONTENT,
                ..
            }
        ));
        let out = now(once.run_id("a", async { StatusCode::OK })).unwrap();
        assert!(matches!(out, Outcome::Done));
    }

    #[test]
    fn a_dropped_handler_releases_its_claim() {
        let once = Idempotency::new(MemoryStore::new());
        {
            let fut = once.run_id("a", core::future::pending::<bool>());
            let mut fut = pin!(fut);
            let poll = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            assert!(poll.is_pending());
            // While it runs, a duplicate is told to retry later.
            let dup = now(once.run_id("a", async { true })).unwrap();
            assert!(matches!(dup, Outcome::InProgress { .. }));
        } // dropped here: cancelled
        let out = now(once.run_id("a", async { true })).unwrap();
        assert!(matches!(out, Outcome::Ran { output: true, .. }));
    }

    fn handler_bug() -> bool {
        panic!("handler bug")
    }

    #[test]
    fn a_panicking_handler_releases_its_claim() {
        let once = Idempotency::new(MemoryStore::new());
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            now(once.run_id("a", async { handler_bug() }))
        }));
        assert!(caught.is_err());
        let out: Outcome<bool> = now(once.run_id("a", async { true })).unwrap();
        assert!(matches!(out, Outcome::Ran { output: true, .. }));
    }

    #[test]
    fn namespaces_keep_endpoints_apart() {
        let store = Arc::new(MemoryStore::new());
        let a = Idempotency::from_shared(Arc::clone(&store)).namespace("a");
        let b = Idempotency::from_shared(Arc::clone(&store)).namespace("b");
        assert!(matches!(
            now(a.run_id("msg", async { true })).unwrap(),
            Outcome::Ran { .. }
        ));
        assert!(matches!(
            now(b.run_id("msg", async { true })).unwrap(),
            Outcome::Ran { .. }
        ));
        assert!(matches!(
            now(a.run_id("msg", async { true })).unwrap(),
            Outcome::Done
        ));
        assert_eq!(store.len(), 2);
    }

    /// No id sent to one namespace reaches the key of another, whatever the two namespaces.
    #[test]
    fn no_id_crosses_into_another_namespace() {
        let cases = [
            (("tenant1", "2msg_x"), ("tenant12", "msg_x")),
            (("", "dinie:msg"), ("dinie", "msg")),
            (("a:b", "c"), ("a", "b:c")),
            (("a%3A", "b"), ("a:", "b")),
            (("a", ":b"), ("a:", "b")),
        ];
        for ((ns_a, id_a), (ns_b, id_b)) in cases {
            let store = Arc::new(MemoryStore::new());
            let a = Idempotency::from_shared(Arc::clone(&store)).namespace(ns_a);
            let b = Idempotency::from_shared(Arc::clone(&store)).namespace(ns_b);
            assert_ne!(
                a.key(id_a, None),
                b.key(id_b, None),
                "{ns_a:?}/{id_a:?} {ns_b:?}/{id_b:?}"
            );
            assert!(matches!(
                now(a.run_id(id_a, async { true })).unwrap(),
                Outcome::Ran { .. }
            ));
            assert!(
                matches!(
                    now(b.run_id(id_b, async { true })).unwrap(),
                    Outcome::Ran { .. }
                ),
                "{ns_a:?}/{id_a:?} marked {ns_b:?}/{id_b:?} as done"
            );
        }
        let plain = Idempotency::new(MemoryStore::new());
        assert_eq!(plain.key("msg_1", None), ":msg_1");
        assert_eq!(
            plain.clone().namespace("dinie").key("msg_1", None),
            "dinie:msg_1"
        );
        assert_eq!(
            plain.namespace("dinie").key("msg_1", Some("we_2")),
            "dinie/we_2:msg_1"
        );
    }

    /// No id of one endpoint reaches the key of another endpoint, or of the same namespace
    /// without endpoints, whatever the names.
    #[test]
    fn no_id_crosses_into_another_endpoint() {
        let once = Idempotency::new(MemoryStore::new()).namespace("n");
        type Case<'a> = (Option<&'a str>, &'a str);
        let cases: [(Case<'_>, Case<'_>); 6] = [
            ((Some("a"), "b:c"), (Some("a:b"), "c")),
            ((None, "a:b"), (Some("a"), "b")),
            ((None, "/a:b"), (Some("a"), "b")),
            ((Some("a/b"), "c"), (Some("a"), "b:c")),
            ((Some(""), "x"), (None, "x")),
            ((Some("a%2F"), "b"), (Some("a/"), "b")),
        ];
        for ((ep_a, id_a), (ep_b, id_b)) in cases {
            assert_ne!(
                once.key(id_a, ep_a),
                once.key(id_b, ep_b),
                "{ep_a:?}/{id_a:?} {ep_b:?}/{id_b:?}"
            );
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_capped_by_the_lease_left() {
        let once = Idempotency::new(MemoryStore::new());
        assert_eq!(once.retry_after_for(None), Duration::from_secs(5));
        assert_eq!(
            once.retry_after_for(Some(Duration::from_millis(2100))),
            Duration::from_secs(3)
        );
        assert_eq!(
            once.retry_after_for(Some(Duration::ZERO)),
            Duration::from_secs(1)
        );
        assert_eq!(
            once.retry_after_for(Some(Duration::from_secs(600))),
            Duration::from_secs(5)
        );
        let unbounded = Idempotency::new(MemoryStore::new()).retry_after(Duration::MAX);
        assert_eq!(
            unbounded.retry_after_for(None),
            Duration::from_secs(u64::MAX)
        );
        assert_eq!(
            unbounded.retry_after_for(Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }
}
