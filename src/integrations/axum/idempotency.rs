//! The axum idempotency layer: verify each delivery, then run the route once per `webhook-id`.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use ::axum::RequestExt as _;
use ::axum::body::Body;
use ::axum::extract::Request;
use ::axum::response::{IntoResponse, Response};
use http::StatusCode;
use tower_layer::Layer;
use tower_service::Service;

use crate::idempotency::{
    DONE_BODY, IN_PROGRESS_BODY, IN_PROGRESS_STATUS, Idempotency, IdempotencyStore, Outcome,
    STORE_UNAVAILABLE_STATUS, StoreFailure, UNAVAILABLE_BODY,
};
use crate::integrations::http_body::plain_response;
use crate::integrations::verify_http;
use crate::resolver::KeyResolver;
use crate::verifier::Verifier;

/// An axum layer (feature `axum`): verify, then run the route at most once per `webhook-id`.
///
/// For each request: the delivery is verified with `keys` (a [`Verifier`], or
/// [`Endpoints`](crate::Endpoints) for several endpoints on one route); one that fails is
/// answered as the extractors answer (400/401/404/413/…) and claims nothing, so unsigned
/// requests cannot block a real event. Then the [`Idempotency`] claim; then the route, whose
/// response decides: 2xx records the id as done, anything else (or a panic, or the client going
/// away) releases it. The route sees the original request with the verified body, and the
/// [`Delivery`](crate::Delivery) in its extensions: the [`Verified`](crate::Verified) and
/// `Delivery` extractors take it from there (no second verification), so a handler's type still
/// says "verified"; `Extension<Delivery>` works too.
///
/// | the id is | the route | the answer |
/// | --- | --- | --- |
/// | new | runs | its response |
/// | done | does not run | 200, `webhook already processed` |
/// | in progress | does not run | 409, `Retry-After` |
/// | unknown: the store is down | does not run | 503, `Retry-After` |
///
/// **Body limit.** The layer reads the body itself, before the route: a `DefaultBodyLimit`
/// inside it (added to the route after it) has not been applied yet. Give the layer its own
/// limit with [`body_limit`](Self::body_limit); without one it uses a `DefaultBodyLimit` placed
/// outside it, or axum's default of 2 MB. Put it on the webhook routes only (every request
/// through it must be a signed delivery): `Router::new().route(..).layer(…)` on a router of
/// webhook routes, or `post(handler).layer(…)` for one route.
///
/// ```
/// use axum::{Json, Router, http::StatusCode, routing::post};
/// use standard_webhooks::axum::IdempotencyLayer;
/// use standard_webhooks::{Idempotency, MemoryStore, Secret, Signer, Verified, Verifier};
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use std::sync::Arc;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let verifier = Verifier::builder().secret(secret.clone()).build()?;
/// let runs = Arc::new(AtomicUsize::new(0));
///
/// let counter = runs.clone();
/// let dinie = move |Verified(Json(event)): Verified<Json<serde_json::Value>>| async move {
///     assert_eq!(event["type"], "loan.signed");
///     counter.fetch_add(1, Ordering::SeqCst);
///     StatusCode::NO_CONTENT
/// };
/// let app = Router::new()
///     .route("/webhooks/dinie", post(dinie))
///     .layer(IdempotencyLayer::new(verifier, Idempotency::new(MemoryStore::new())).body_limit(64 * 1024))
///     .with_state(()); // the layer verified: the extractor takes its delivery
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/webhooks/dinie", listener.local_addr()?);
/// tokio::spawn(async move { axum::serve(listener, app).await });
///
/// let body = r#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
/// let now = time::OffsetDateTime::now_utc().unix_timestamp();
/// let client = reqwest::Client::new();
/// let mut statuses = Vec::new();
/// for attempt in 0..2 {
///     // The sender's retry: same id, new timestamp and signature.
///     let signed = Signer::new(secret.clone()).headers("msg_1", now + attempt, body.as_bytes());
///     let mut req = client.post(&url).header("content-type", "application/json").body(body);
///     for (name, value) in signed.iter() {
///         req = req.header(name, value);
///     }
///     statuses.push(req.send().await?.status().as_u16());
/// }
/// assert_eq!(statuses, [204, 200]); // the retry is answered at once
/// assert_eq!(runs.load(Ordering::SeqCst), 1);
///
/// // An unsigned request is refused before any claim: 400.
/// assert_eq!(client.post(&url).body(body).send().await?.status(), 400);
/// // A body over the layer's limit: 413, before the signature is even checked.
/// let big = "x".repeat(65 * 1024);
/// let signed = Signer::new(secret).headers("msg_2", now, big.as_bytes());
/// let mut req = client.post(&url).body(big);
/// for (name, value) in signed.iter() {
///     req = req.header(name, value);
/// }
/// assert_eq!(req.send().await?.status(), 413);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct IdempotencyLayer<S, K = Verifier> {
    keys: K,
    once: Idempotency<S>,
    limit: Option<usize>,
}

impl<S, K: Clone> Clone for IdempotencyLayer<S, K> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            once: self.once.clone(),
            limit: self.limit,
        }
    }
}

impl<S: IdempotencyStore, K: KeyResolver + Clone> IdempotencyLayer<S, K> {
    /// Verifies with `keys` (a [`Verifier`], [`Endpoints`](crate::Endpoints) or any
    /// [`KeyResolver`]), keeps claims with `once`.
    pub fn new(keys: K, once: Idempotency<S>) -> Self {
        Self {
            keys,
            once,
            limit: None,
        }
    }

    /// The most bytes a body may have: larger ones are answered 413 before verification (and
    /// never buffered beyond the limit). Without it, a `DefaultBodyLimit` outside the layer
    /// applies, or axum's default of 2 MB.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limit = Some(bytes);
        self
    }
}

impl<S, K: Clone, I> Layer<I> for IdempotencyLayer<S, K> {
    type Service = IdempotencyService<S, I, K>;

    fn layer(&self, inner: I) -> Self::Service {
        IdempotencyService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service [`IdempotencyLayer`] wraps a route in.
#[derive(Debug)]
pub struct IdempotencyService<S, I, K = Verifier> {
    layer: IdempotencyLayer<S, K>,
    inner: I,
}

impl<S, I: Clone, K: Clone> Clone for IdempotencyService<S, I, K> {
    fn clone(&self) -> Self {
        Self {
            layer: self.layer.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S, I, K> Service<Request> for IdempotencyService<S, I, K>
where
    S: IdempotencyStore,
    K: KeyResolver + Clone,
    I: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    I::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh one waits its turn.
        let clone = self.inner.clone();
        let inner = core::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move { Ok(handle(req, layer, inner).await) })
    }
}

async fn handle<S, I, K>(req: Request, layer: IdempotencyLayer<S, K>, mut inner: I) -> Response
where
    S: IdempotencyStore,
    K: KeyResolver,
    I: Service<Request, Response = Response, Error = Infallible>,
{
    // Without a limit of its own, the layer takes axum's: a `DefaultBodyLimit` outside it, or
    // the 2 MB default.
    let req = match layer.limit {
        Some(_) => req,
        None => req.with_limited_body(),
    };
    let (mut parts, delivery) = match verify_http(req, &layer.keys, layer.limit).await {
        Ok(verified) => verified,
        Err(rejection) => return rejection.into_response(),
    };
    parts.extensions.insert(delivery.clone());
    let req = Request::from_parts(parts, Body::from(delivery.body_bytes()));

    // The route's response decides (2xx or not): unwrap the `Infallible` first, so that the
    // `Ok` around every response is not taken for a success.
    let route = async move { inner.call(req).await.unwrap_or_else(|never| match never {}) };
    match layer.once.run(&delivery, route).await {
        Ok(Outcome::Ran {
            output: mut response,
            record_error,
        }) => {
            if let Some(error) = record_error {
                // The route ran: keep its answer. The store's failure is there for an outer
                // layer (logging, metrics) to see.
                response
                    .extensions_mut()
                    .insert(StoreFailure(Arc::new(error)));
            }
            response
        }
        Ok(Outcome::Done) => plain_response(StatusCode::OK, DONE_BODY, None),
        Ok(Outcome::InProgress { retry_after }) => plain_response(
            IN_PROGRESS_STATUS,
            IN_PROGRESS_BODY,
            Some(retry_after.as_secs()),
        ),
        Err(error) => {
            let mut response = plain_response(
                STORE_UNAVAILABLE_STATUS,
                UNAVAILABLE_BODY,
                Some(layer.once.unavailable_retry_after().as_secs()),
            );
            response
                .extensions_mut()
                .insert(StoreFailure(Arc::new(error)));
            response
        }
    }
}
