//! The actix-web integration: a middleware that verifies each delivery and runs the route once
//! per id.

use core::future::{Future, Ready, ready};
use core::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use ::actix_web::body::{BoxBody, EitherBody, MessageBody};
use ::actix_web::dev::{
    Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready,
};
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::RETRY_AFTER;
use ::actix_web::{HttpMessage, HttpResponse, ResponseError};

use super::delivery::Delivery;
use super::run::{Begin, DONE_BODY, IN_PROGRESS_BODY, Idempotency, StoreFailure, UNAVAILABLE_BODY};
use super::store::IdempotencyStore;
use crate::verifier::Verifier;

/// An actix-web middleware (feature `actix-web`): verify, then run the route at most once per
/// `webhook-id`.
///
/// The same steps and answers as the axum [`IdempotencyLayer`](super::IdempotencyLayer):
/// [`verify_request`](crate::actix::verify_request) first (a delivery that fails is answered
/// 400/401/413 and claims nothing); then the claim; then the route, whose response decides
/// (2xx records the id as done; anything else, an `Err`, a panic or a cancellation releases
/// it). The route gets the verified body as its payload and a [`Delivery`] in the request's
/// extensions (`web::ReqData<Delivery>`). Done ids are answered 200, ids in progress 409 with
/// `Retry-After`, and a store that is down 503 with `Retry-After`.
///
/// ```
/// use actix_web::{App, HttpResponse, test, web};
/// use standard_webhooks::idempotency::{Delivery, IdempotencyMiddleware};
/// use standard_webhooks::{Idempotency, MemoryStore, Secret, Signer, Verifier};
///
/// async fn dinie(delivery: web::ReqData<Delivery>, body: web::Bytes) -> HttpResponse {
///     assert_eq!(delivery.id(), "msg_1");
///     assert!(body.starts_with(b"{"));
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
///     let mut req = test::TestRequest::post().uri("/webhooks").set_payload(body);
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
pub struct IdempotencyMiddleware<S> {
    verifier: Verifier,
    once: Idempotency<S>,
}

impl<S> Clone for IdempotencyMiddleware<S> {
    fn clone(&self) -> Self {
        Self {
            verifier: self.verifier.clone(),
            once: self.once.clone(),
        }
    }
}

impl<S: IdempotencyStore> IdempotencyMiddleware<S> {
    /// Verifies with `verifier`, keeps claims with `once`.
    pub fn new(verifier: Verifier, once: Idempotency<S>) -> Self {
        Self { verifier, once }
    }
}

impl<S, I, B> Transform<I, ServiceRequest> for IdempotencyMiddleware<S>
where
    S: IdempotencyStore,
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = ::actix_web::Error;
    type Transform = IdempotencyMiddlewareService<S, I>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, ()>>;

    fn new_transform(&self, service: I) -> Self::Future {
        ready(Ok(IdempotencyMiddlewareService {
            verifier: self.verifier.clone(),
            once: self.once.clone(),
            inner: Rc::new(service),
        }))
    }
}

/// The service [`IdempotencyMiddleware`] wraps a route in.
#[derive(Debug)]
pub struct IdempotencyMiddlewareService<S, I> {
    verifier: Verifier,
    once: Idempotency<S>,
    inner: Rc<I>,
}

impl<S, I, B> Service<ServiceRequest> for IdempotencyMiddlewareService<S, I>
where
    S: IdempotencyStore,
    I: Service<ServiceRequest, Response = ServiceResponse<B>, Error = ::actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B, BoxBody>>;
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let verifier = self.verifier.clone();
        let once = self.once.clone();
        let inner = Rc::clone(&self.inner);
        Box::pin(async move {
            let (http_req, mut payload) = req.into_parts();
            let delivery =
                match crate::actix::verify_request(&http_req, &mut payload, &verifier).await {
                    Ok(delivery) => delivery,
                    Err(rejection) => {
                        let response = rejection.error_response();
                        return Ok(ServiceResponse::new(http_req, response).map_into_right_body());
                    }
                };
            let decoded = body_for_event_type(&http_req, &delivery.payload).await;
            let info = Delivery::new(
                delivery.id,
                delivery.timestamp,
                decoded.as_ref().unwrap_or(&delivery.payload),
            );
            let id = info.id().to_owned();
            http_req.extensions_mut().insert(info);

            let ticket = match once.begin(&id).await {
                Ok(Begin::Run(ticket)) => ticket,
                Ok(Begin::Done) => return Ok(answer(http_req, StatusCode::OK, DONE_BODY, None)),
                Ok(Begin::InProgress { retry_after }) => {
                    return Ok(answer(
                        http_req,
                        actix_status(super::IN_PROGRESS_STATUS),
                        IN_PROGRESS_BODY,
                        Some(retry_after.as_secs()),
                    ));
                }
                Err(error) => {
                    let mut response = answer(
                        http_req,
                        actix_status(super::STORE_UNAVAILABLE_STATUS),
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
            let req = ServiceRequest::from_parts(http_req, Payload::from(delivery.payload));
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

/// The body as the route will read it, for [`Delivery::event_type`], when that differs from
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
    status: StatusCode,
    body: &'static str,
    retry_after: Option<u64>,
) -> ServiceResponse<EitherBody<B, BoxBody>> {
    let mut builder = HttpResponse::build(status);
    builder.content_type("text/plain; charset=utf-8");
    if let Some(secs) = retry_after {
        builder.insert_header((RETRY_AFTER, secs));
    }
    ServiceResponse::new(req, builder.body(body)).map_into_right_body()
}

/// actix-web 4 speaks `http` 0.2: the same status, in its type.
fn actix_status(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}
