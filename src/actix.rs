//! actix-web 4 extractors that verify a delivery before the handler runs (feature `actix-web`).
//!
//! Put [`Verified<E>`] in a handler's arguments, around any extractor that reads the body
//! (`web::Bytes`, `String`, `web::Json<T>`, …). The [`Verifier`] comes from app data:
//! `App::new().app_data(web::Data::new(verifier))` (a plain `Verifier` in `app_data` works
//! too). A delivery that fails verification never reaches the handler; the client gets one of
//! these answers instead (see [`Rejection`]):
//!
//! | what | status |
//! | --- | --- |
//! | a `webhook-*` header missing or malformed | 400 |
//! | no signature matches, or the timestamp is outside the tolerance | 401 |
//! | body larger than the `PayloadConfig` limit (256 KiB unless you change it) | 413 |
//! | body sent with a `Content-Encoding`, larger than 256 KiB as received | 413 |
//! | body that could not be read (the connection broke off, malformed chunks) | 400 |
//! | no `Verifier` in app data, or none of its keys in force | 500 |
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
//! use standard_webhooks::actix::Verified;
//! use standard_webhooks::{Secret, Signer, Verifier};
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
//! let text = test::read_body(answer).await;
//! assert_eq!(text, "malformed webhook request: missing header `webhook-id`");
//! # Ok(())
//! # }
//! ```
//!
//! The extractor's error type is `actix_web::Error`; a refusal by this crate downcasts to
//! [`Rejection`] (`err.as_error::<Rejection>()`), e.g. in an error-handling middleware that
//! answers in your own format. To get the message id (the idempotency key) and timestamp as
//! well, take a [`VerifiedDelivery<E>`] instead.
//!
//! ```
//! use actix_web::{HttpResponse, web};
//! use standard_webhooks::actix::VerifiedDelivery;
//!
//! async fn dinie(delivery: VerifiedDelivery<web::Json<serde_json::Value>>) -> HttpResponse {
//!     // `id` is the same on every retry of this event: skip it if already processed.
//!     let VerifiedDelivery { id, payload: event, .. } = delivery;
//!     println!("{id}: {}", event["type"]);
//!     HttpResponse::NoContent().finish()
//! }
//! # let _ = actix_web::App::new().route("/", web::post().to(dinie));
//! ```

// Hooking in (e.g. an idempotency layer): `verify_request(&req, &mut payload, &verifier)` does
// the whole job (header pre-check, buffering under `PayloadConfig` or, for a body with a content
// coding, undecoded up to 256 KiB; verification) and returns a
// `VerifiedDelivery<web::Bytes>`; run any extractor on the verified body with
// `E::from_request(&req, &mut Payload::from(delivery.payload))`. Failures are `Rejection`s,
// which implement `ResponseError` with the right status. `verifier_from_app_data` finds the
// verifier the way the extractors do.

use core::future::Future;
use core::pin::Pin;

use ::actix_web::dev::Payload;
use ::actix_web::http::StatusCode;
use ::actix_web::http::header::{self, HeaderMap, HeaderName};
use ::actix_web::web::{self, Bytes};
use ::actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError};

use crate::headers::{self, HeaderSource};
use crate::rejection::verify_read;
use crate::verifier::Verifier;

pub use crate::rejection::Rejection;

pub use crate::extract::{Verified, VerifiedDelivery};

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
        StatusCode::from_u16(self.status().as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The status and a one-line `text/plain` body.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type("text/plain; charset=utf-8")
            .body(self.to_string())
    }
}

/// The verifier the extractors use: `web::Data<Verifier>` from app data, else a plain
/// `Verifier` from app data.
pub fn verifier_from_app_data(req: &HttpRequest) -> Option<Verifier> {
    app_verifier(req).cloned()
}

/// [`verifier_from_app_data`], borrowed from the request.
fn app_verifier(req: &HttpRequest) -> Option<&Verifier> {
    req.app_data::<web::Data<Verifier>>()
        .map(|data| data.get_ref())
        .or_else(|| req.app_data::<Verifier>())
}

/// Verifies a request: checks the headers, buffers the body under the app's `PayloadConfig`,
/// verifies it, and returns the verified body with the message id and timestamp.
///
/// The body is returned as received: one sent with a `Content-Encoding` is read, verified and
/// returned still encoded (up to 256 KiB), for the extractor you run on it to decode.
///
/// This is what [`Verified`] does before running its inner extractor; call it from your own
/// extractor or middleware to add a step (an idempotency check, say) between verification and
/// the handler:
///
/// ```
/// use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
/// use standard_webhooks::actix::{verifier_from_app_data, verify_request, Rejection};
///
/// async fn check(req: HttpRequest, mut payload: Payload) -> Result<String, actix_web::Error> {
///     let verifier = verifier_from_app_data(&req).ok_or(Rejection::MissingVerifier)?;
///     let delivery = verify_request(&req, &mut payload, &verifier).await?;
///     // ... look `delivery.id` up in a store of processed ids here ...
///     let text = String::from_request(&req, &mut Payload::from(delivery.payload)).await?;
///     Ok(text)
/// }
/// ```
pub async fn verify_request(
    req: &HttpRequest,
    payload: &mut Payload,
    verifier: &Verifier,
) -> Result<VerifiedDelivery<Bytes>, Rejection> {
    let (delivery, bytes) = verify_read(
        verifier,
        req.headers(),
        || read_body(req, payload),
        |m| VerifiedDelivery::new(m, ()),
    )
    .await?;
    Ok(delivery.with_payload(bytes))
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

/// Both extractors: verify the request, then run the inner extractor `E` on the verified
/// body; `keep` takes what the extractor returns of the verified message.
async fn extract<E, T>(
    req: HttpRequest,
    mut payload: Payload,
    keep: impl FnOnce(&crate::Message<'_>) -> T,
) -> Result<(T, E), ::actix_web::Error>
where
    E: FromRequest,
{
    let verifier = app_verifier(&req).ok_or(Rejection::MissingVerifier)?;
    let (kept, bytes) = verify_read(
        verifier,
        req.headers(),
        || read_body(&req, &mut payload),
        keep,
    )
    .await?;
    let inner = E::from_request(&req, &mut Payload::from(bytes))
        .await
        .map_err(Into::into)?;
    Ok((kept, inner))
}

impl<E> FromRequest for VerifiedDelivery<E>
where
    E: FromRequest + 'static,
{
    type Error = ::actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let extracted = extract(req.clone(), payload.take(), |m| {
            VerifiedDelivery::new(m, ())
        });
        Box::pin(async move {
            let (delivery, inner) = extracted.await?;
            Ok(delivery.with_payload(inner))
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
        let extracted = extract(req.clone(), payload.take(), |_| ());
        Box::pin(async move {
            let ((), inner) = extracted.await?;
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
    fn missing_verifier_is_found_missing_and_answers_500() {
        let req = TestRequest::default().to_http_request();
        assert!(verifier_from_app_data(&req).is_none());
        let v = Verifier::builder().secret(secret()).build().unwrap();
        let req = TestRequest::default().app_data(v).to_http_request();
        assert!(verifier_from_app_data(&req).is_some());
        assert_eq!(
            Rejection::MissingVerifier.status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
