//! The axum integration: a layer that verifies each delivery and runs the route once per id.

use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use ::axum::body::Body;
use ::axum::extract::Request;
use ::axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header::RETRY_AFTER};
use tower_layer::Layer;
use tower_service::Service;

use super::delivery::Delivery;
use super::run::{
    DONE_BODY, IN_PROGRESS_BODY, Idempotency, Outcome, StoreFailure, UNAVAILABLE_BODY,
};
use super::store::IdempotencyStore;
use crate::verifier::Verifier;

/// An axum layer (feature `axum`): verify, then run the route at most once per `webhook-id`.
///
/// For each request: [`verify_request`](crate::axum::verify_request) (a delivery that fails is
/// answered 400/401/413 and claims nothing, so unsigned requests cannot block a real event);
/// then the [`Idempotency`] claim; then the route, whose response decides: 2xx records the id
/// as done, anything else (or a panic, or the client going away) releases it. The route sees
/// the original request with the verified body, and a [`Delivery`] in its extensions
/// (`Extension<Delivery>`): behind this layer, plain `Bytes` or `Json<T>` extractors read a
/// verified body.
///
/// Put it on the webhook route only: `post(handler).layer(…)` for one route, or `.layer(…)` on
/// a `Router` that holds only webhook routes (every request through it must be a signed
/// delivery).
///
/// | the id is | the route | the answer |
/// | --- | --- | --- |
/// | new | runs | its response |
/// | done | does not run | 200, `webhook already processed` |
/// | in progress | does not run | 409, `Retry-After` |
/// | unknown: the store is down | does not run | 503, `Retry-After` |
///
/// ```
/// use axum::{Extension, Json, Router, http::StatusCode, routing::post};
/// use standard_webhooks::idempotency::{Delivery, IdempotencyLayer};
/// use standard_webhooks::{Idempotency, MemoryStore, Secret, Signer, Verifier};
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
/// let app = Router::new()
///     .route("/webhooks", post(move |Extension(d): Extension<Delivery>, Json(_event): Json<serde_json::Value>| async move {
///         assert_eq!(d.id(), "msg_1");
///         counter.fetch_add(1, Ordering::SeqCst);
///         StatusCode::NO_CONTENT
///     }))
///     .layer(IdempotencyLayer::new(verifier, Idempotency::new(MemoryStore::new()))); // the one line
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let url = format!("http://{}/webhooks", listener.local_addr()?);
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
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct IdempotencyLayer<S> {
    verifier: Verifier,
    once: Idempotency<S>,
}

impl<S> Clone for IdempotencyLayer<S> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            once: self.once.clone(),
        }
    }
}

impl<S: IdempotencyStore> IdempotencyLayer<S> {
    /// Verifies with `verifier`, keeps claims with `once`.
    pub fn new(verifier: Verifier, once: Idempotency<S>) -> Self {
        Self { verifier, once }
    }
}

impl<S, I> Layer<I> for IdempotencyLayer<S> {
    type Service = IdempotencyService<S, I>;

    fn layer(&self, inner: I) -> Self::Service {
        IdempotencyService {
            verifier: self.verifier.clone(),
            once: self.once.clone(),
            inner,
        }
    }
}

/// The service [`IdempotencyLayer`] wraps a route in.
#[derive(Debug)]
pub struct IdempotencyService<S, I> {
    verifier: Verifier,
    once: Idempotency<S>,
    inner: I,
}

impl<S, I: Clone> Clone for IdempotencyService<S, I> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            once: self.once.clone(),
            inner: self.inner.clone(),
        }
    }
}

impl<S, I> Service<Request> for IdempotencyService<S, I>
where
    S: IdempotencyStore,
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
        let verifier = self.verifier.clone();
        let once = self.once.clone();
        Box::pin(async move { Ok(handle(req, verifier, once, inner).await) })
    }
}

async fn handle<S, I>(
    req: Request,
    verifier: Verifier,
    once: Idempotency<S>,
    mut inner: I,
) -> Response
where
    S: IdempotencyStore,
    I: Service<Request, Response = Response, Error = Infallible>,
{
    let (delivery, mut parts, bytes) = match crate::axum::verify_parts(req, &verifier).await {
        Ok(verified) => verified,
        Err(rejection) => return rejection.into_response(),
    };
    let info = Delivery::new(delivery.id, delivery.timestamp, &bytes);
    let id = info.id().to_owned();
    parts.extensions.insert(info);
    let req = Request::from_parts(parts, Body::from(bytes));

    // The route's response decides (2xx or not): unwrap the `Infallible` first, so that the
    // `Ok` around every response is not taken for a success.
    let route = async move { inner.call(req).await.unwrap_or_else(|never| match never {}) };
    match once.run_id(&id, route).await {
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
        Ok(Outcome::Done) => (StatusCode::OK, DONE_BODY).into_response(),
        Ok(Outcome::InProgress { retry_after }) => {
            with_retry_after(super::IN_PROGRESS_STATUS, IN_PROGRESS_BODY, retry_after)
        }
        Err(error) => {
            let mut response = with_retry_after(
                super::STORE_UNAVAILABLE_STATUS,
                UNAVAILABLE_BODY,
                once.unavailable_retry_after(),
            );
            response
                .extensions_mut()
                .insert(StoreFailure(Arc::new(error)));
            response
        }
    }
}

fn with_retry_after(
    status: StatusCode,
    body: &'static str,
    after: core::time::Duration,
) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(after.as_secs()));
    response
}
