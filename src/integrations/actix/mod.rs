//! actix-web 4: extractors that verify a delivery before the handler runs, and a middleware that
//! also runs the route once per `webhook-id` (feature `actix-web`).
//!
//! Put [`Verified<E>`] or [`Delivery<E>`] in a handler's arguments, around any extractor that
//! reads the body (`web::Bytes`, `String`, `web::Json<T>`, …). The keys come from app data: a
//! [`Verifier`] (`App::new().app_data(web::Data::new(verifier))`; a plain `Verifier` in
//! `app_data` works too), or [`Endpoints`] for several endpoints on one route. A delivery that
//! fails verification never reaches the handler; the client gets one of these answers instead
//! (see [`Rejection`]), with a generic one-line body:
//!
//! | what | status |
//! | --- | --- |
//! | a `webhook-*` header missing or malformed | 400 |
//! | no signature matches, or the timestamp is outside the tolerance | 401 |
//! | [`Endpoints`]: no keys for the endpoint named by the path | 404 |
//! | body larger than the `PayloadConfig` limit (256 KiB unless you change it) | 413 |
//! | body sent with a `Content-Encoding`, larger than 256 KiB as received | 413 |
//! | body that could not be read (the connection broke off, malformed chunks) | 400 |
//! | no `Verifier` or `Endpoints` in app data, or none of its keys in force | 500 |
//! | [`Endpoints`]: the endpoint's keys could not be looked up | 503, `Retry-After` |
//! | the inner extractor's own rejection (e.g. JSON that does not parse) | as it answers |
//!
//! The headers are checked before the body is read, so a request without valid headers costs no
//! buffering, and the timestamp again once the body is complete if it had to be waited for, so a
//! slow upload cannot stretch the tolerance window. The body is buffered once under the app's own
//! `PayloadConfig` (limit and content type), verified, and handed to the inner extractor along with
//! the original `HttpRequest`, so its own configuration (`JsonConfig`, …) still applies. The
//! signature covers the body as received: a body sent with a `Content-Encoding` (gzip, …), which
//! actix-web's own body extractors decode when it is built with a `compress-*` feature (its
//! default), is read and verified undecoded (up to 256 KiB, since `PayloadConfig` does not tell its
//! limit) and handed on for the inner extractor to decode once. Never 410: senders disable an
//! endpoint that answers 410.
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use serde::Deserialize;
//! use standard_webhooks::{Secret, Signer, Verified, Verifier};
//!
//! #[derive(Deserialize)]
//! struct Event {
//!     r#type: String,
//! }
//!
//! async fn dinie(Verified(event): Verified<web::Json<Event>>) -> HttpResponse {
//!     assert_eq!(event.r#type, "customer.active");
//!     HttpResponse::NoContent().finish()
//! }
//!
//! # #[actix_web::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let verifier = Verifier::builder().secret(secret.clone()).build()?;
//! let app = test::init_service(
//!     App::new()
//!         .app_data(web::Data::new(verifier))
//!         .route("/webhooks/dinie", web::post().to(dinie)),
//! )
//! .await;
//!
//! let body = r#"{"type":"customer.active","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
//! let now = time::OffsetDateTime::now_utc().unix_timestamp();
//! let signed = Signer::new(secret).headers("msg_1", now, body.as_bytes());
//! let delivery = |body: &'static str| {
//!     let mut req = test::TestRequest::post()
//!         .uri("/webhooks/dinie")
//!         .insert_header(("content-type", "application/json"))
//!         .set_payload(body);
//!     for (name, value) in signed.iter() {
//!         req = req.insert_header((name, value));
//!     }
//!     req.to_request()
//! };
//!
//! // A genuine delivery reaches the handler: 204.
//! let answer = test::call_service(&app, delivery(body)).await;
//! assert_eq!(answer.status(), 204);
//!
//! // The same headers on an altered body: 401, and the handler does not run.
//! let forged = r#"{"type":"customer.active","timestamp":"2026-11-26T12:00:00Z","data":{"x":1}}"#;
//! let answer = test::call_service(&app, delivery(forged)).await;
//! assert_eq!(answer.status(), 401);
//!
//! // No webhook headers at all: 400, before the body is read.
//! let unsigned = test::TestRequest::post().uri("/webhooks/dinie").set_payload(body);
//! let answer = test::call_service(&app, unsigned.to_request()).await;
//! assert_eq!(answer.status(), 400);
//! assert_eq!(test::read_body(answer).await, "invalid webhook request");
//! # Ok(())
//! # }
//! ```
//!
//! The extractors' error type is `actix_web::Error`; a refusal by this crate downcasts to
//! [`Rejection`] (`err.as_error::<Rejection>()`), e.g. in an error-handling middleware that
//! answers in your own format. To get the message id (the idempotency key), timestamp and the
//! key that verified it as well, take a [`Delivery<E>`] instead.
//!
//! ```
//! use actix_web::{HttpResponse, web};
//! use standard_webhooks::Delivery;
//!
//! async fn dinie(delivery: Delivery<web::Json<serde_json::Value>>) -> HttpResponse {
//!     // `id` is the same on every retry of this event: skip it if already processed, or let
//!     // `IdempotencyMiddleware` do it.
//!     let Delivery { id, payload: event, .. } = delivery;
//!     println!("{id}: {}", event["type"]);
//!     HttpResponse::NoContent().finish()
//! }
//! # let _ = actix_web::App::new().route("/", web::post().to(dinie));
//! ```
//!
//! Behind [`IdempotencyMiddleware`], which verifies first, the same extractors take the verified
//! delivery the middleware left in the request instead of verifying again.

mod idempotency;

pub use idempotency::{IdempotencyMiddleware, IdempotencyMiddlewareService};

use core::future::Future;
use core::pin::Pin;

use ::actix_web::dev::Payload;
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderName, RETRY_AFTER};
use ::actix_web::web::{self, Bytes};
use ::actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, ResponseError};

use crate::delivery::{Delivery, Verified};
use crate::headers::{self, HeaderSource};
use crate::integrations::{log_payload_rejected, log_rejected, verify_delivery};
use crate::rejection::Rejection;
use crate::resolver::{Endpoints, KeyResolver};
use crate::verifier::Verifier;

/// actix-web's own header map (on `http` 0.2), so the core verifier reads it directly.
///
/// A hashed lookup by a prepared name costs less here than a pass over the whole map, so
/// it keeps the default `all_headers` (`None`).
impl HeaderSource for HeaderMap {
    fn header_values(&self, name: &'static str) -> impl Iterator<Item = &[u8]> {
        // Looking up by `&str` parses the name into a new `HeaderName` on every call.
        match headers::known_index(name).and_then(|i| PREPARED.get(i)) {
            Some(known) => self.get_all(known),
            None => self.get_all(name),
        }
        .map(|v| v.as_bytes())
    }
}

/// `crate::headers::NAMES`, prepared as actix (`http` 0.2) `HeaderName`s.
static PREPARED: [HeaderName; 6] = [
    HeaderName::from_static(headers::WEBHOOK_ID),
    HeaderName::from_static(headers::WEBHOOK_TIMESTAMP),
    HeaderName::from_static(headers::WEBHOOK_SIGNATURE),
    HeaderName::from_static(headers::SVIX_ID),
    HeaderName::from_static(headers::SVIX_TIMESTAMP),
    HeaderName::from_static(headers::SVIX_SIGNATURE),
];

impl ResponseError for Rejection {
    fn status_code(&self) -> StatusCode {
        actix_status(self.status())
    }

    /// The status, the generic one-line `text/plain` body of
    /// [`response_text`](Rejection::response_text), and `Retry-After` with a 503.
    fn error_response(&self) -> HttpResponse {
        plain_response(self.status(), self.response_text(), self.retry_after())
    }
}

/// actix-web 4 speaks `http` 0.2: the same status, in its type.
fn actix_status(status: http::StatusCode) -> StatusCode {
    StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A one-line `text/plain` answer, with `Retry-After` when given: a rejection's, and the
/// idempotency middleware's own.
pub(crate) fn plain_response(
    status: http::StatusCode,
    body: &'static str,
    retry_after: Option<u64>,
) -> HttpResponse {
    let mut response = HttpResponse::build(actix_status(status));
    response.content_type("text/plain; charset=utf-8");
    if let Some(secs) = retry_after {
        response.insert_header((RETRY_AFTER, secs));
    }
    response.body(body)
}

/// The keys the extractors use, from app data: `web::Data<Verifier>`, a plain `Verifier`,
/// `web::Data<Endpoints>` or a plain `Endpoints`, in that order.
enum AppKeys<'a> {
    One(&'a Verifier),
    Many(&'a Endpoints),
}

impl<'a> AppKeys<'a> {
    fn of(req: &'a HttpRequest) -> Option<Self> {
        req.app_data::<web::Data<Verifier>>()
            .map(|data| Self::One(data.get_ref()))
            .or_else(|| req.app_data::<Verifier>().map(Self::One))
            .or_else(|| {
                req.app_data::<web::Data<Endpoints>>()
                    .map(|data| Self::Many(data.get_ref()))
            })
            .or_else(|| req.app_data::<Endpoints>().map(Self::Many))
    }
}

/// Verifies a request with `keys` (a [`Verifier`], [`Endpoints`] or any [`KeyResolver`]):
/// resolves the endpoint's keys, checks the headers, buffers the body under the app's
/// `PayloadConfig`, verifies it, and returns the verified [`Delivery`] with the body as
/// received as its payload.
///
/// A body sent with a `Content-Encoding` is read, verified and returned still encoded (up to
/// 256 KiB), for the extractor you run on it to decode.
///
/// This is what the extractors do before running their inner extractor; call it from your own
/// extractor or middleware to add a step between verification and the handler:
///
/// ```
/// use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
/// use standard_webhooks::{Rejection, Verifier};
/// use standard_webhooks::actix::verify_request;
///
/// async fn check(req: HttpRequest, mut payload: Payload) -> Result<String, actix_web::Error> {
///     let verifier = req.app_data::<web::Data<Verifier>>().ok_or(Rejection::MissingVerifier)?;
///     let delivery = verify_request(&req, &mut payload, verifier.get_ref()).await?;
///     // ... look `delivery.id` up in a store of processed ids here ...
///     let text = String::from_request(&req, &mut Payload::from(delivery.payload)).await?;
///     Ok(text)
/// }
/// ```
pub async fn verify_request<K: KeyResolver>(
    req: &HttpRequest,
    payload: &mut Payload,
    keys: &K,
) -> Result<Delivery<Bytes>, Rejection> {
    let (delivery, bytes) = verify(req, payload, keys, true).await?;
    match delivery {
        Some(delivery) => Ok(delivery.map(|()| bytes)),
        None => Err(Rejection::MissingVerifier),
    }
}

/// [`verify_delivery`] of an actix-web request: its path, headers, and body read as received.
async fn verify<K: KeyResolver>(
    req: &HttpRequest,
    payload: &mut Payload,
    keys: &K,
    want: bool,
) -> Result<(Option<Delivery>, Bytes), Rejection> {
    verify_delivery(
        keys,
        req.path(),
        req.headers(),
        || read_body(req, payload),
        want,
    )
    .await
}

/// The body exactly as received, which is what the signature covers.
///
/// actix's own `Bytes` extractor applies the app's `PayloadConfig` (limit and content type),
/// but it also decodes a body sent with a `Content-Encoding` (gzip, …) when actix-web is built
/// with a `compress-*` feature, as it is by default. Such a body is therefore read undecoded,
/// up to [`ENCODED_LIMIT`] (`PayloadConfig` has no getter for its own limit); the inner
/// extractor then decodes it, and applies its own configuration, as it would without
/// verification.
async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<Bytes, Rejection> {
    if !has_content_coding(req.headers()) {
        return Bytes::from_request(req, payload).await.map_err(|e| {
            if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                Rejection::PayloadTooLarge
            } else {
                Rejection::BodyUnreadable(e.to_string())
            }
        });
    }
    let raw = web::Payload::from_request(req, payload)
        .await
        .map_err(|e| Rejection::BodyUnreadable(e.to_string()))?;
    match raw.to_bytes_limited(ENCODED_LIMIT).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(Rejection::BodyUnreadable(e.to_string())),
        Err(_exceeded) => Err(Rejection::PayloadTooLarge),
    }
}

/// The most a body with a content coding may hold, as received (still encoded): actix-web's
/// default `PayloadConfig` limit, 256 KiB.
const ENCODED_LIMIT: usize = 262_144;

/// Whether the request declares a content coding: a `Content-Encoding` other than `identity`.
pub(crate) fn has_content_coding(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::CONTENT_ENCODING)
        .any(|v| !v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"identity"))
}

/// Both extractors: verify the request with the keys of app data, or take the delivery the
/// idempotency middleware left in its extensions; then run the inner extractor `E` on the
/// verified body. The [`Delivery`] is built only when `want` it.
async fn extract<E: FromRequest>(
    req: HttpRequest,
    mut payload: Payload,
    want: bool,
) -> Result<(Option<Delivery>, E), ::actix_web::Error> {
    // Cloned only when `want` it: no `String` is made of the id for `Verified<E>`.
    let verified = req
        .extensions()
        .get::<Delivery>()
        .map(|d| (want.then(|| d.clone()), d.body_bytes()));
    let (delivery, bytes) = match verified {
        Some(verified) => verified,
        None => match AppKeys::of(&req) {
            Some(AppKeys::One(verifier)) => verify(&req, &mut payload, verifier, want).await?,
            Some(AppKeys::Many(endpoints)) => verify(&req, &mut payload, endpoints, want).await?,
            None => {
                let rejection = Rejection::MissingVerifier;
                log_rejected(&rejection, req.path());
                return Err(rejection.into());
            }
        },
    };
    let inner = E::from_request(&req, &mut Payload::from(bytes))
        .await
        .map_err(|e| {
            let e: ::actix_web::Error = e.into();
            log_payload_rejected(
                e.as_response_error().status_code().as_u16(),
                core::any::type_name::<E>(),
                Some(req.path()),
            );
            e
        })?;
    Ok((delivery, inner))
}

impl<E> FromRequest for Delivery<E>
where
    E: FromRequest + 'static,
{
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let extracted = extract::<E>(req.clone(), payload.take(), true);
        Box::pin(async move {
            match extracted.await? {
                (Some(delivery), inner) => Ok(delivery.map(|()| inner)),
                (None, _) => Err(Rejection::MissingVerifier.into()),
            }
        })
    }
}

impl<E> FromRequest for Verified<E>
where
    E: FromRequest + 'static,
{
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The id and timestamp are not kept: no `String` is made of the id.
        let extracted = extract::<E>(req.clone(), payload.take(), false);
        Box::pin(async move {
            let (_, inner) = extracted.await?;
            Ok(Self(inner))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, Signer};
    use ::actix_web::test::TestRequest;
    use time::OffsetDateTime;

    fn secret() -> Secret {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
    }

    #[test]
    fn prepared_names_follow_names() {
        for (i, name) in headers::NAMES.iter().enumerate() {
            assert_eq!(PREPARED[i].as_str(), *name);
        }
    }

    #[test]
    fn actix_header_map_is_a_header_source() {
        let req = TestRequest::default()
            .insert_header(("Webhook-Signature", "v1,a"))
            .append_header(("webhook-signature", "v1,b"))
            .to_http_request();
        let values: Vec<&[u8]> = req.headers().header_values("webhook-signature").collect();
        assert_eq!(values, [b"v1,a".as_slice(), b"v1,b"]);
        assert_eq!(req.headers().header_values("webhook-id").count(), 0);
    }

    #[test]
    fn verifies_against_actix_headers() {
        let now = OffsetDateTime::now_utc();
        let h = Signer::new(secret()).headers("msg_a", now.unix_timestamp(), b"body");
        let mut t = TestRequest::default();
        for (n, v) in h.iter() {
            t = t.insert_header((n, v));
        }
        let req = t.to_http_request();
        let verifier = Verifier::builder().secret(secret()).build().unwrap();
        assert_eq!(
            verifier
                .verify_at(req.headers(), b"body", now)
                .unwrap()
                .id(),
            "msg_a"
        );
    }

    #[test]
    fn keys_are_found_in_app_data_or_missing_and_answer_500() {
        let req = TestRequest::default().to_http_request();
        assert!(AppKeys::of(&req).is_none());
        let v = Verifier::builder().secret(secret()).build().unwrap();
        let req = TestRequest::default().app_data(v.clone()).to_http_request();
        assert!(matches!(AppKeys::of(&req), Some(AppKeys::One(_))));
        let req = TestRequest::default()
            .app_data(web::Data::new(Endpoints::new()))
            .to_http_request();
        assert!(matches!(AppKeys::of(&req), Some(AppKeys::Many(_))));
        assert_eq!(
            Rejection::MissingVerifier.status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
