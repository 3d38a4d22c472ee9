//! Keys per endpoint: one service receiving for several endpoints (per product, environment or
//! tenant), each with its own keys, on one route such as `/webhooks/{endpoint}`.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;

use crate::verifier::Verifier;

/// Finds the keys of an endpoint: what the framework integrations use in place of a single
/// [`Verifier`] when one service receives for several endpoints.
///
/// The integrations name the endpoint by the last non-empty segment of the request's path (so a
/// route `/webhooks/{endpoint}` gives `{endpoint}`, as it appears in the URL), look its keys up
/// before reading the body, and answer:
///
/// | `resolve` gives | the sender gets |
/// | --- | --- |
/// | `Ok(Some(verifier))` | the delivery is verified with that verifier's keys only |
/// | `Ok(None)`: an endpoint you do not know | 404, before the body is read |
/// | `Err(_)`: the lookup failed (a database down) | 503 with `Retry-After`, before the body is read; the sender retries |
///
/// A key of one endpoint never verifies another endpoint's delivery, and the idempotency
/// integrations keep the ids of different endpoints apart.
///
/// Implemented by [`Verifier`] (the same keys for every endpoint), [`Endpoints`] (a map, or a
/// cached asynchronous lookup), and `Arc<R>`. Implement it for your own lookup, e.g. a table of
/// endpoints and secrets. The layers ([`axum::IdempotencyLayer`](crate::axum::IdempotencyLayer),
/// [`actix::IdempotencyMiddleware`](crate::actix::IdempotencyMiddleware),
/// [`tower::VerifyLayer`](crate::tower::VerifyLayer)) take it as it is; for the extractors (axum
/// state, actix-web app data), and to cache its answers, wrap it in [`Endpoints::lookup`] (a
/// zero time to live caches nothing):
///
/// ```
/// use standard_webhooks::{KeyResolver, ResolveError, Verifier};
///
/// struct Tenants; // e.g. a database pool
///
/// impl KeyResolver for Tenants {
///     async fn resolve(&self, endpoint: &str) -> Result<Option<Verifier>, ResolveError> {
///         // SELECT secrets FROM webhook_endpoints WHERE id = $1
///         let config = match endpoint {
///             "we_2Kq8" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
///             _ => return Ok(None),
///         };
///         let verifier = Verifier::builder().secrets_from_config(config)?.build()?;
///         Ok(Some(verifier))
///     }
/// }
/// ```
pub trait KeyResolver: Send + Sync + 'static {
    /// The verifier holding the keys of `endpoint`; `None` for an endpoint you do not know.
    fn resolve(
        &self,
        endpoint: &str,
    ) -> impl Future<Output = Result<Option<Verifier>, ResolveError>> + Send;

    /// Whether the keys depend on the endpoint. When they do, each [`Delivery`] names its
    /// endpoint and idempotency keeps ids apart per endpoint. `true` unless overridden; a single
    /// [`Verifier`] says `false`.
    ///
    /// [`Delivery`]: crate::Delivery
    fn per_endpoint(&self) -> bool {
        true
    }

    /// The one verifier, when these keys are the same for every endpoint: the integrations then
    /// borrow it, with no lookup. `None` unless overridden; a [`Verifier`] gives itself.
    #[doc(hidden)]
    fn as_verifier(&self) -> Option<&Verifier> {
        None
    }
}

/// Why the keys of an endpoint could not be looked up: the delivery is answered 503, and the
/// sender retries.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// The lookup failed (a database or secrets store could not be reached).
    #[error("the keys of this endpoint could not be looked up: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The keys found for the endpoint could not be used (a stored secret that does not parse).
    /// The error says what is wrong, never the key.
    #[error("the keys stored for this endpoint cannot be used: {0}")]
    InvalidKeys(#[from] crate::Error),
}

impl ResolveError {
    /// An [`Unavailable`](Self::Unavailable) error from any error or message.
    pub fn unavailable(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Unavailable(source.into())
    }
}

/// A single verifier: the same keys, whatever the endpoint.
impl KeyResolver for Verifier {
    fn resolve(
        &self,
        _endpoint: &str,
    ) -> impl Future<Output = Result<Option<Verifier>, ResolveError>> + Send {
        core::future::ready(Ok(Some(self.clone())))
    }

    fn per_endpoint(&self) -> bool {
        false
    }

    fn as_verifier(&self) -> Option<&Verifier> {
        Some(self)
    }
}

impl<R: KeyResolver> KeyResolver for Arc<R> {
    fn resolve(
        &self,
        endpoint: &str,
    ) -> impl Future<Output = Result<Option<Verifier>, ResolveError>> + Send {
        R::resolve(self, endpoint)
    }

    fn per_endpoint(&self) -> bool {
        R::per_endpoint(self)
    }

    fn as_verifier(&self) -> Option<&Verifier> {
        R::as_verifier(self)
    }
}

/// The keys of several endpoints: a map from endpoint name to [`Verifier`] that you fill and
/// change while the service runs, or an asynchronous lookup (a database) whose answers are
/// cached. Cheap to clone; clones share the same endpoints.
///
/// Put it where a single verifier would go: the state of an axum router, actix-web app data,
/// or the idempotency and tower layers. See [`KeyResolver`] for how an endpoint is named and
/// the answers for unknown endpoints.
///
/// ```
/// use standard_webhooks::{Endpoints, KeyResolver, Verifier};
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let endpoints = Endpoints::new();
/// endpoints.insert(
///     "dinie-prod",
///     Verifier::builder().secrets_from_config("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.build()?,
/// );
/// endpoints.insert(
///     "dinie-sandbox",
///     Verifier::builder().secrets_from_config("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")?.build()?,
/// );
/// assert!(endpoints.resolve("dinie-prod").await?.is_some());
/// assert!(endpoints.resolve("unknown").await?.is_none());
///
/// // A rotation on one endpoint: through its verifier, seen by every clone.
/// endpoints.get("dinie-prod").unwrap().rotate(
///     "whsec_3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA".parse()?,
///     std::time::Duration::from_secs(3600),
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Endpoints {
    inner: Arc<Source>,
}

enum Source {
    /// A map, replaced whole on every change (changes are rare, lookups are not).
    Map(ArcSwap<HashMap<String, Verifier>>),
    /// An asynchronous lookup and its cache.
    Lookup {
        resolver: Box<dyn DynResolver>,
        ttl: Duration,
        cache: Mutex<HashMap<String, (Instant, Option<Verifier>)>>,
    },
}

/// The most endpoints a lookup's cache holds; when full, expired answers go first, then all.
const CACHE_CAPACITY: usize = 10_000;

/// How long an answer "unknown endpoint" is cached at most: endpoints registered a moment ago
/// should not wait long, and names probed by a stranger should not pile up.
const NEGATIVE_TTL: Duration = Duration::from_secs(5);

impl Default for Endpoints {
    fn default() -> Self {
        Self::new()
    }
}

impl Endpoints {
    /// No endpoint yet: add them with [`insert`](Self::insert).
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Source::Map(ArcSwap::from_pointee(HashMap::new()))),
        }
    }

    /// Endpoints looked up with `resolver` (e.g. in a database), each answer cached for `ttl`
    /// (an unknown endpoint for at most 5 s), so that most deliveries cost no lookup.
    ///
    /// A verifier returned by the lookup is kept for `ttl`: keys changed in the database are
    /// seen after at most that long (or at once, if the lookup returns the same long-lived
    /// `Verifier` and you [`rotate`](Verifier::rotate) it). A failed lookup is not cached.
    /// [`insert`](Self::insert) and [`remove`](Self::remove) act on the cache.
    pub fn lookup(resolver: impl KeyResolver, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Source::Lookup {
                resolver: Box::new(resolver),
                ttl,
                cache: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Adds or replaces the keys of `endpoint`.
    pub fn insert(&self, endpoint: impl Into<String>, verifier: Verifier) {
        let endpoint = endpoint.into();
        match &*self.inner {
            Source::Map(map) => {
                map.rcu(|map| {
                    let mut map = HashMap::clone(map);
                    map.insert(endpoint.clone(), verifier.clone());
                    map
                });
            }
            Source::Lookup { cache, .. } => {
                lock(cache).insert(endpoint, (Instant::now(), Some(verifier)));
            }
        }
    }

    /// Forgets `endpoint`: its deliveries are answered 404 (or, for a lookup, looked up again).
    pub fn remove(&self, endpoint: &str) {
        match &*self.inner {
            Source::Map(map) => {
                map.rcu(|map| {
                    let mut map = HashMap::clone(map);
                    map.remove(endpoint);
                    map
                });
            }
            Source::Lookup { cache, .. } => {
                lock(cache).remove(endpoint);
            }
        }
    }

    /// The verifier of `endpoint` if it is in the map (or, for a lookup, cached and fresh).
    pub fn get(&self, endpoint: &str) -> Option<Verifier> {
        match &*self.inner {
            Source::Map(map) => map.load().get(endpoint).cloned(),
            Source::Lookup { ttl, cache, .. } => cached(cache, endpoint, *ttl).flatten(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A cached answer for `endpoint`, if fresh: `Some(None)` is a cached "unknown".
fn cached(
    cache: &Mutex<HashMap<String, (Instant, Option<Verifier>)>>,
    endpoint: &str,
    ttl: Duration,
) -> Option<Option<Verifier>> {
    let cache = lock(cache);
    let (at, answer) = cache.get(endpoint)?;
    let ttl = if answer.is_some() {
        ttl
    } else {
        ttl.min(NEGATIVE_TTL)
    };
    (at.elapsed() < ttl).then(|| answer.clone())
}

impl KeyResolver for Endpoints {
    async fn resolve(&self, endpoint: &str) -> Result<Option<Verifier>, ResolveError> {
        match &*self.inner {
            Source::Map(map) => Ok(map.load().get(endpoint).cloned()),
            Source::Lookup {
                resolver,
                ttl,
                cache,
            } => {
                if let Some(answer) = cached(cache, endpoint, *ttl) {
                    return Ok(answer);
                }
                let answer = resolver.resolve_boxed(endpoint).await?;
                let mut cache = lock(cache);
                if cache.len() >= CACHE_CAPACITY {
                    let now = Instant::now();
                    cache.retain(|_, (at, _)| now.duration_since(*at) < *ttl);
                    if cache.len() >= CACHE_CAPACITY {
                        cache.clear();
                    }
                }
                cache.insert(endpoint.to_owned(), (Instant::now(), answer.clone()));
                Ok(answer)
            }
        }
    }
}

impl fmt::Debug for Endpoints {
    /// The endpoint names and their verifiers (keys by fingerprint), never a key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.inner {
            Source::Map(map) => f
                .debug_struct("Endpoints")
                .field("map", &*map.load())
                .finish(),
            Source::Lookup { ttl, cache, .. } => f
                .debug_struct("Endpoints")
                .field("lookup_ttl", ttl)
                .field("cached", &lock(cache).len())
                .finish(),
        }
    }
}

/// [`KeyResolver`], object-safe: the future boxed.
trait DynResolver: Send + Sync + 'static {
    fn resolve_boxed<'a>(
        &'a self,
        endpoint: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Verifier>, ResolveError>> + Send + 'a>>;
}

impl<R: KeyResolver> DynResolver for R {
    fn resolve_boxed<'a>(
        &'a self,
        endpoint: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Verifier>, ResolveError>> + Send + 'a>> {
        Box::pin(self.resolve(endpoint))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn verifier(config: &str) -> Verifier {
        Verifier::builder()
            .secrets_from_config(config)
            .unwrap()
            .build()
            .unwrap()
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    struct Counting(Arc<AtomicUsize>);

    impl KeyResolver for Counting {
        async fn resolve(&self, endpoint: &str) -> Result<Option<Verifier>, ResolveError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            match endpoint {
                "down" => Err(ResolveError::unavailable("database down")),
                "a" => Ok(Some(verifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))),
                _ => Ok(None),
            }
        }
    }

    #[test]
    fn a_map_answers_what_it_holds() {
        let endpoints = Endpoints::new();
        endpoints.insert("a", verifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        assert!(block_on(endpoints.resolve("a")).unwrap().is_some());
        assert!(block_on(endpoints.resolve("b")).unwrap().is_none());
        let clone = endpoints.clone();
        endpoints.remove("a");
        assert!(block_on(clone.resolve("a")).unwrap().is_none());
        assert!(endpoints.per_endpoint());
    }

    #[test]
    fn a_lookup_is_cached_and_failures_are_not() {
        let calls = Arc::new(AtomicUsize::new(0));
        let endpoints = Endpoints::lookup(Counting(calls.clone()), Duration::from_secs(60));
        for _ in 0..3 {
            assert!(block_on(endpoints.resolve("a")).unwrap().is_some());
            assert!(block_on(endpoints.resolve("zz")).unwrap().is_none());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        for _ in 0..2 {
            assert!(matches!(
                block_on(endpoints.resolve("down")),
                Err(ResolveError::Unavailable(_))
            ));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        // Forgetting an endpoint looks it up again.
        endpoints.remove("a");
        assert!(block_on(endpoints.resolve("a")).unwrap().is_some());
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn a_zero_ttl_looks_up_every_time() {
        let calls = Arc::new(AtomicUsize::new(0));
        let endpoints = Endpoints::lookup(Counting(calls.clone()), Duration::ZERO);
        for _ in 0..3 {
            assert!(block_on(endpoints.resolve("a")).unwrap().is_some());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_single_verifier_is_every_endpoint() {
        let v = verifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert!(block_on(v.resolve("anything")).unwrap().is_some());
        assert!(!v.per_endpoint());
    }
}
