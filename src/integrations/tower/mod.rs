//! A framework-neutral tower layer that verifies each delivery before the inner service runs
//! (feature `tower`): for hyper used directly, `lambda_http`, or any server built on tower
//! services.
//!
//! [`VerifyLayer`] takes a request of any body type (`hyper::body::Incoming`, `lambda_http`'s
//! `Body`, axum's `Body`, …): it looks up the keys ([`Verifier`], or [`Endpoints`](crate::Endpoints) for several
//! endpoints on one route, named by the last segment of the path), checks the headers, reads
//! the body under its own limit, verifies it, and only then calls the inner service with the
//! verified body as a [`VerifiedBody`] (`http_body_util::Full<Bytes>`) and the
//! [`Delivery`](crate::Delivery) in the request's extensions. A delivery that fails is answered
//! here, with the same statuses as the extractors and a generic one-line body:
//!
//! | what | status |
//! | --- | --- |
//! | a `webhook-*` header missing or malformed, or a body that could not be read | 400 |
//! | no signature matches, or the timestamp is outside the tolerance | 401 |
//! | [`Endpoints`](crate::Endpoints): no keys for the endpoint named by the path | 404 |
//! | body larger than the layer's limit (2 MiB unless you change it) | 413 |
//! | the verifier has no key in force | 500 |
//! | [`Endpoints`](crate::Endpoints): the endpoint's keys could not be looked up | 503, `Retry-After` |
//!
//! The inner service's response body type must be buildable from a `&'static str` (for the
//! answers above): `http_body_util::Full<Bytes>`, axum's `Body` and `lambda_http`'s `Body` are.
//!
//! With hyper (and `hyper-util`):
//!
//! ```
//! use std::convert::Infallible;
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::Full;
//! use standard_webhooks::tower::{VerifiedBody, VerifyLayer};
//! use standard_webhooks::{Delivery, Secret, Signer, Verifier};
//! use tower::{Layer, ServiceExt, service_fn};
//!
//! // The inner service runs only for verified deliveries.
//! async fn handle(req: Request<VerifiedBody>) -> Result<Response<Full<Bytes>>, Infallible> {
//!     let delivery = req.extensions().get::<Delivery>().expect("set by the layer");
//!     println!("{}: {} bytes", delivery.id, delivery.body().len());
//!     Ok(Response::builder().status(StatusCode::NO_CONTENT).body(Full::default()).unwrap())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let verifier = Verifier::builder().secret(secret.clone()).build()?;
//! let service = VerifyLayer::new(verifier).body_limit(64 * 1024).layer(service_fn(handle));
//! // Serve it with `hyper_util::service::TowerToHyperService::new(service)`; here, call it.
//!
//! let body = r#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
//! let now = time::OffsetDateTime::now_utc().unix_timestamp();
//! let mut req = Request::post("/webhooks/dinie").body(Full::new(Bytes::from(body)))?;
//! *req.headers_mut() = http::HeaderMap::try_from(&Signer::new(secret).headers("msg_1", now, body.as_bytes()))?;
//! assert_eq!(service.clone().oneshot(req).await?.status(), 204);
//!
//! let unsigned = Request::post("/webhooks/dinie").body(Full::new(Bytes::from(body)))?;
//! assert_eq!(service.oneshot(unsigned).await?.status(), 400);
//! # Ok(())
//! # }
//! ```
//!
//! With `lambda_http`: `lambda_http::run(VerifyLayer::new(verifier).layer(service_fn(handler)))`,
//! where `handler` takes a `Request<VerifiedBody>` and returns a `Response<lambda_http::Body>`.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::integrations::verify_http;
use crate::rejection::Rejection;
use crate::resolver::KeyResolver;
use crate::verifier::Verifier;

/// The body the inner service gets: the verified bytes, in one piece.
pub type VerifiedBody = http_body_util::Full<Bytes>;

/// The body limit of a [`VerifyLayer`] unless set: 2 MiB, as axum's default.
pub const DEFAULT_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// A tower layer that verifies each delivery before the inner service runs; see the
/// [module documentation](self).
#[derive(Debug, Clone)]
pub struct VerifyLayer<K = Verifier> {
    keys: K,
    limit: usize,
}

impl<K: KeyResolver + Clone> VerifyLayer<K> {
    /// Verifies with `keys`: a [`Verifier`], [`Endpoints`](crate::Endpoints), or any [`KeyResolver`].
    pub fn new(keys: K) -> Self {
        Self {
            keys,
            limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// The most bytes a body may have ([`DEFAULT_BODY_LIMIT`] unless set): larger ones are
    /// answered 413, and never buffered beyond the limit.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }
}

impl<K: Clone, S> Layer<S> for VerifyLayer<K> {
    type Service = VerifyService<S, K>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService {
            layer: self.clone(),
            inner,
        }
    }
}

/// The service [`VerifyLayer`] wraps a service in.
#[derive(Debug, Clone)]
pub struct VerifyService<S, K = Verifier> {
    layer: VerifyLayer<K>,
    inner: S,
}

impl<S, K, ReqBody, ResBody> Service<Request<ReqBody>> for VerifyService<S, K>
where
    S: Service<Request<VerifiedBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    K: KeyResolver + Clone,
    ReqBody: http_body::Body + Send + 'static,
    ReqBody::Data: Send,
    ReqBody::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResBody: From<&'static str> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The clone that was polled ready serves this request; the fresh one waits its turn.
        let clone = self.inner.clone();
        let mut inner = core::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            match verify_http(req, &layer.keys, Some(layer.limit)).await {
                Ok((mut parts, delivery)) => {
                    let body = VerifiedBody::new(delivery.body_bytes());
                    parts.extensions.insert(delivery);
                    inner.call(Request::from_parts(parts, body)).await
                }
                Err(rejection) => Ok(answer(&rejection)),
            }
        })
    }
}

/// The answer to a refused delivery: its status, `Retry-After` with a 503, and the generic line.
fn answer<B: From<&'static str>>(rejection: &Rejection) -> Response<B> {
    super::http_body::plain_response(
        rejection.status(),
        rejection.response_text(),
        rejection.retry_after(),
    )
}
