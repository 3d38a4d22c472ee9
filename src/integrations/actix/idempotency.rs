//! The actix-web idempotency middleware: verify each delivery, then run the route once per
//! `webhook-id`.

use core::future::{Future, Ready, ready};
use core::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use ::actix_web::body::{BoxBody, EitherBody, MessageBody};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use ::actix_web::{HttpMessage, ResponseError};

use crate::idempotency::{
    Begin, DONE_BODY, IN_PROGRESS_BODY, IN_PROGRESS_STATUS, Idempotency, IdempotencyStore,
    STORE_UNAVAILABLE_STATUS, StoreFailure, UNAVAILABLE_BODY,
};
use crate::resolver::KeyResolver;
use crate::verifier::Verifier;

/// An actix-web middleware (feature `actix-web`): verify, then run the route at most once per
/// `webhook-id`.
///
/// The same steps and answers as the axum
/// [`IdempotencyLayer`](crate::axum::IdempotencyLayer): the delivery is verified with `keys` (a
/// [`Verifier`], or [`Endpoints`](crate::Endpoints) for several endpoints on one route) first
/// (a delivery that fails is answered 400/401/404/413/… and claims nothing); then the claim;
/// then the route, whose response decides (2xx records the id as done; anything else, an
/// `Err`, a panic or a cancellation releases it). The body is read under the app's
/// `PayloadConfig`. The route gets the verified body as its payload and the
/// [`Delivery`](crate::Delivery) in the request's extensions: the
/// [`Verified`](crate::Verified) and `Delivery` extractors take it from there (no second
/// verification); `web::ReqData<Delivery>` works too. Done ids are answered 200, ids in
/// progress 409 with `Retry-After`, and a store that is down 503 with `Retry-After`.
///
/// ```
/// use actix_web::{App, HttpResponse, test, web};
/// use standard_webhooks::actix::IdempotencyMiddleware;
/// use standard_webhooks::{Delivery, Idempotency, MemoryStore, Secret, Signer, Verifier};
///
/// async fn dinie(delivery: Delivery<web::Json<serde_json::Value>>) -> HttpResponse {
///     assert_eq!(delivery.id, "msg_1");
///     assert_eq!(delivery.payload["type"], "customer.active");
///     HttpResponse::NoContent().finish()
/// }
///
/// # #[actix_web::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let verifier = Verifier::builder().secret(secret.clone()).build()?;
/// let once = Idempotency::new(MemoryStore::new());
/// let app = test::init_service(
///     App::new().service(
///         web::resource("/webhooks")
///             .wrap(IdempotencyMiddleware::new(verifier, once)) // the one line
///             .route(web::post().to(dinie)),
///     ),
/// )
/// .await;
///
/// let body = r#"{"type":"customer.active","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
/// let now = time::OffsetDateTime::now_utc().unix_timestamp();
/// let mut statuses = Vec::new();
/// for attempt in 0..2 {
///     let signed = Signer::new(secret.clone()).headers("msg_1", now + attempt, body.as_bytes());
///     let mut req = test::TestRequest::post()
///         .uri("/webhooks")
///         .insert_header(("content-type", "application/json"))
///         .set_payload(body);
///     for (name, value) in signed.iter() {
///         req = req.insert_header((name, value));
///     }
///     statuses.push(test::call_service(&app, req.to_request()).await.status().as_u16());
/// }
/// assert_eq!(statuses, [204, 200]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct IdempotencyMiddleware<S, K = Verifier> {
    keys: K,
    once: Idempotency<S>,
}

impl<S, K: Clone> Clone for IdempotencyMiddleware<S, K> {
    fn clone(&self) -> Self {
        Self {
            keys: self.keys.clone(),
            once: self.once.clone(),
        }
    }
}

impl<S: IdempotencyStore, K: KeyResolver + Clone> IdempotencyMiddleware<S, K> {
    /// Verifies with `keys` (a [`Verifier`], [`Endpoints`](crate::Endpoints) or any
    /// [`KeyResolver`]), keeps claims with `once`.
    pub fn new(keys: K, once: Idempotency<S>) -> Self {
        Self { keys, once }
    }
}

impl<S, K, I, B> Transform<I, ServiceRequest> for IdempotencyMiddleware<S, K>
where
    S: IdempotencyStore,
    K: KeyResolver + Clone,
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = ::actix_web::Error;
    type Transform = IdempotencyMiddlewareService<S, I, K>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: I) -> Self::Future {
        ready(Ok(IdempotencyMiddlewareService {
            middleware: self.clone(),
            inner: Rc::new(service),
        }))
    }
}

/// The service [`IdempotencyMiddleware`] wraps a route in.
#[derive(Debug)]
pub struct IdempotencyMiddlewareService<S, I, K = Verifier> {
    middleware: IdempotencyMiddleware<S, K>,
    inner: Rc<I>,
}

impl<S, K, I, B> Service<ServiceRequest> for IdempotencyMiddlewareService<S, I, K>
where
    S: IdempotencyStore,
    K: KeyResolver + Clone,
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let IdempotencyMiddleware { keys, once } = self.middleware.clone();
        let inner = Rc::clone(&self.inner);
        Box::pin(async move {
            let (http_req, mut payload) = req.into_parts();
            let delivery = match crate::actix::verify_request(&http_req, &mut payload, &keys).await
            {
                Ok(delivery) => delivery,
                Err(rejection) => {
                    let response = rejection.error_response();
                    return Ok(ServiceResponse::new(http_req, response).map_into_right_body());
                }
            };
            let body = delivery.payload.clone();
            let mut delivery = delivery.map(|_| ());
            if let Some(decoded) = body_for_event_type(&http_req, &body).await {
                delivery.set_decoded_body(decoded);
            }
            http_req.extensions_mut().insert(delivery.clone());

            let ticket = match once.begin(&delivery).await {
                Ok(Begin::Run(ticket)) => ticket,
                Ok(Begin::Done) => {
                    return Ok(answer(http_req, http::StatusCode::OK, DONE_BODY, None));
                }
                Ok(Begin::InProgress { retry_after }) => {
                    return Ok(answer(
                        http_req,
                        IN_PROGRESS_STATUS,
                        IN_PROGRESS_BODY,
                        Some(retry_after.as_secs()),
                    ));
                }
                Err(error) => {
                    let mut response = answer(
                        http_req,
                        STORE_UNAVAILABLE_STATUS,
                        UNAVAILABLE_BODY,
                        Some(once.unavailable_retry_after().as_secs()),
                    );
                    response
                        .response_mut()
                        .extensions_mut()
                        .insert(StoreFailure(Arc::new(error)));
                    return Ok(response);
                }
            };
            // The route gets the request itself (no clone is kept: actix's routing needs it
            // unshared) with the verified body as its payload.
            let req = ServiceRequest::from_parts(http_req, Payload::from(body));
            let result = inner.call(req).await;
            // An `Err` becomes an error response, never a 2xx: it releases the claim.
            let success = matches!(&result, Ok(response) if response.status().is_success());
            let record_error = ticket.finish(success).await;
            let mut response = result?;
            if let Some(error) = record_error {
                response
                    .response_mut()
                    .extensions_mut()
                    .insert(StoreFailure(Arc::new(error)));
            }
            Ok(response.map_into_left_body())
        })
    }
}

/// The body as the route will read it, for `Delivery::event_type`, when that differs from
/// the verified bytes: a body sent with a `Content-Encoding` is verified as received, still
/// encoded, and actix-web's body extractors decode it for the route (with a `compress-*`
/// feature). It is decoded here the same way, under the app's `PayloadConfig`. `None` when
/// there is nothing to decode, without the `serde` feature (no event type is read), or when
/// decoding fails (the route's extractor will then refuse the body too).
async fn body_for_event_type(
    req: &::actix_web::HttpRequest,
    verified: &::actix_web::web::Bytes,
) -> Option<::actix_web::web::Bytes> {
    use ::actix_web::FromRequest as _;
    if !cfg!(feature = "serde") || !crate::actix::has_content_coding(req.headers()) {
        return None;
    }
    ::actix_web::web::Bytes::from_request(req, &mut Payload::from(verified.clone()))
        .await
        .ok()
}

fn answer<B>(
    req: ::actix_web::HttpRequest,
    status: http::StatusCode,
    body: &'static str,
    retry_after: Option<u64>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    ServiceResponse::new(req, super::plain_response(status, body, retry_after))
        .map_into_right_body()
}
