//! axum 0.8 extractors that verify a delivery before the handler runs (feature `axum`).
//!
//! Put [`Verified<E>`] in a handler's arguments, around any extractor that reads the body
//! (`Bytes`, `String`, `Json<T>`, …). The [`Verifier`] comes from the router's state through
//! [`FromRef`]: a `Verifier` state works as is, and a larger state struct needs only
//! `#[derive(FromRef)]` or a `FromRef` impl. A delivery that fails verification never reaches
//! the handler; the client gets one of these answers instead (see [`Rejection`]):
//!
//! | what | status |
//! | --- | --- |
//! | a `webhook-*` header missing or malformed | 400 |
//! | no signature matches, or the timestamp is outside the tolerance | 401 |
//! | body larger than the `DefaultBodyLimit` (2 MB unless you change it) | 413 |
//! | body that could not be read (the connection broke off, malformed chunks) | 400 |
//! | the verifier has no key in force (all its keys were retiring and expired) | 500 |
//! | the inner extractor's own rejection (e.g. JSON that does not parse) | as it answers |
//!
//! A missing verifier cannot happen at run time: a router whose state gives no `Verifier`
//! does not compile.
//!
//! The headers are checked before the body is read, so a request without valid headers costs no
//! buffering, and the timestamp again once the body is complete if it had to be waited for, so a
//! slow upload cannot stretch the tolerance window. The body is buffered once under the router's
//! own `DefaultBodyLimit`, verified, and handed to the inner extractor inside the original request
//! (same headers, extensions and limits). Never 410: senders disable an endpoint that answers 410.
//!
//! ```
//! use axum::{Json, Router, http::StatusCode, routing::post};
//! use serde::Deserialize;
//! use standard_webhooks::axum::Verified;
//! use standard_webhooks::{Secret, Signer, Verifier};
//!
//! #[derive(Deserialize)]
//! struct Event {
//!     r#type: String,
//! }
//!
//! async fn dinie(Verified(Json(event)): Verified<Json<Event>>) -> StatusCode {
//!     assert_eq!(event.r#type, "loan.signed");
//!     StatusCode::NO_CONTENT
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let verifier = Verifier::builder().secret(secret.clone()).build()?;
//! let app = Router::new()
//!     .route("/webhooks/dinie", post(dinie))
//!     .with_state(verifier);
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}/webhooks/dinie", listener.local_addr()?);
//! tokio::spawn(async move { axum::serve(listener, app).await });
//!
//! // A genuine delivery reaches the handler: 204.
//! let body = r#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
//! let now = time::OffsetDateTime::now_utc().unix_timestamp();
//! let signed = Signer::new(secret).headers("msg_1", now, body.as_bytes());
//! let client = reqwest::Client::new();
//! let send = |body: &'static str| {
//!     let mut req = client.post(&url).header("content-type", "application/json").body(body);
//!     for (name, value) in signed.iter() {
//!         req = req.header(name, value);
//!     }
//!     req.send()
//! };
//! assert_eq!(send(body).await?.status(), 204);
//!
//! // The same headers on an altered body: 401, and the handler does not run.
//! let forged = r#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{"x":1}}"#;
//! let answer = send(forged).await?;
//! assert_eq!(answer.status(), 401);
//! assert!(answer.text().await?.starts_with("webhook verification failed: no signature"));
//!
//! // No webhook headers at all: 400, before the body is read.
//! let answer = client.post(&url).body(body).send().await?;
//! assert_eq!(answer.status(), 400);
//! assert_eq!(answer.text().await?, "malformed webhook request: missing header `webhook-id`");
//! # Ok(())
//! # }
//! ```
//!
//! To get the message id (the idempotency key) and timestamp as well, take a
//! [`VerifiedDelivery<E>`] instead: `VerifiedDelivery { id, timestamp, payload: Json(event), .. }`.
//!
//! ```
//! use axum::{Json, http::StatusCode};
//! use standard_webhooks::axum::VerifiedDelivery;
//!
//! async fn dinie(
//!     VerifiedDelivery { id, payload: Json(event), .. }: VerifiedDelivery<Json<serde_json::Value>>,
//! ) -> StatusCode {
//!     // `id` is the same on every retry of this event: skip it if already processed.
//!     println!("{id}: {}", event["type"]);
//!     StatusCode::NO_CONTENT
//! }
//! # let _ = axum::Router::<standard_webhooks::Verifier>::new().route("/", axum::routing::post(dinie));
//! ```

// Hooking in (e.g. an idempotency layer): `verify_request(req, &verifier)` does the whole job
// (header pre-check, buffering under the router's body limit, verification) and returns a
// `VerifiedDelivery<Request>` whose payload is the original request with the buffered body; run
// any extractor on it with `E::from_request(delivery.payload, state)`. Failures are
// `Rejection`s, which already answer with the right status.

use ::axum::RequestExt as _;
use ::axum::body::{Body, Bytes};
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;

use crate::rejection::verify_read;
use crate::verifier::Verifier;

pub use crate::rejection::Rejection;

pub use crate::extract::{Verified, VerifiedDelivery};

/// The rejection of [`Verified`] and [`VerifiedDelivery`]: the delivery failed verification,
/// or the inner extractor refused the verified body.
#[derive(Debug)]
pub enum VerifiedRejection<R> {
    /// The delivery was refused before the inner extractor ran.
    Verification(Rejection),
    /// The inner extractor's own rejection, answered as it answers.
    Inner(R),
}

impl<R: core::fmt::Display> core::fmt::Display for VerifiedRejection<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Verification(r) => r.fmt(f),
            Self::Inner(r) => r.fmt(f),
        }
    }
}

impl<R: core::fmt::Debug + core::fmt::Display> std::error::Error for VerifiedRejection<R> {}

impl<R: IntoResponse> IntoResponse for VerifiedRejection<R> {
    fn into_response(self) -> Response {
        match self {
            Self::Verification(r) => r.into_response(),
            Self::Inner(r) => r.into_response(),
        }
    }
}

impl IntoResponse for Rejection {
    /// The [status](Rejection::status) and a one-line `text/plain` body.
    fn into_response(self) -> Response {
        (self.status(), self.to_string()).into_response()
    }
}

/// Verifies a request: checks the headers, buffers the body under the router's body limit,
/// verifies it, and gives back the original request (same parts, the buffered body) with the
/// message id and timestamp.
///
/// This is what [`Verified`] does before running its inner extractor; call it from your own
/// extractor or middleware to add a step (an idempotency check, say) between verification and
/// the handler:
///
/// ```
/// use axum::body::Bytes;
/// use axum::extract::{FromRequest, Request};
/// use standard_webhooks::axum::{Rejection, verify_request};
/// use standard_webhooks::Verifier;
///
/// async fn check(req: Request, verifier: &Verifier) -> Result<(String, Bytes), Rejection> {
///     let delivery = verify_request(req, verifier).await?;
///     // ... look `delivery.id` up in a store of processed ids here ...
///     let body = Bytes::from_request(delivery.payload, &()).await.unwrap_or_default();
///     Ok((delivery.id, body))
/// }
/// ```
pub async fn verify_request(
    req: Request,
    verifier: &Verifier,
) -> Result<VerifiedDelivery<Request>, Rejection> {
    let (delivery, parts, bytes) = verify_parts(req, verifier).await?;
    Ok(delivery.with_payload(Request::from_parts(parts, Body::from(bytes))))
}

/// [`verify_request`], with the parts and the buffered body handed back apart, for a layer
/// that needs the bytes themselves (no re-collecting of a body just built from them).
pub(crate) async fn verify_parts(
    req: Request,
    verifier: &Verifier,
) -> Result<(VerifiedDelivery<()>, http::request::Parts, Bytes), Rejection> {
    let (parts, body) = req.with_limited_body().into_parts();
    // `with_limited_body` put the body under the router's `DefaultBodyLimit`.
    let (delivery, bytes) = verify_read(
        verifier,
        &parts.headers,
        || buffer(body),
        |m| VerifiedDelivery::new(m, ()),
    )
    .await?;
    Ok((delivery, parts, bytes))
}

/// The whole body. A body that arrives in one piece (the usual webhook) is kept as it is,
/// without a copy; several pieces are joined.
async fn buffer(mut body: Body) -> Result<Bytes, Rejection> {
    let mut first: Option<Bytes> = None;
    let mut joined = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let e = e.into_inner();
            if is_length_limit(e.as_ref()) {
                Rejection::PayloadTooLarge
            } else {
                Rejection::BodyUnreadable(format!("failed to buffer the request body: {e}"))
            }
        })?;
        // Trailers carry nothing that is signed.
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match first.take() {
            None if joined.is_empty() => first = Some(data),
            earlier => {
                if let Some(earlier) = earlier {
                    joined.extend_from_slice(&earlier);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

/// Whether a body error is (or wraps) the length limit of `DefaultBodyLimit`: axum wraps the
/// limited body's error in its own error type, once or twice.
fn is_length_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut e = Some(e);
    while let Some(err) = e {
        if err.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        e = err.source();
    }
    false
}

impl<S, E> FromRequest<S> for VerifiedDelivery<E>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    E: FromRequest<S>,
{
    type Rejection = VerifiedRejection<E::Rejection>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (delivery, payload) = extract(req, state, |m| VerifiedDelivery::new(m, ())).await?;
        Ok(delivery.with_payload(payload))
    }
}

impl<S, E> FromRequest<S> for Verified<E>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    E: FromRequest<S>,
{
    type Rejection = VerifiedRejection<E::Rejection>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The id and timestamp are not kept: no `String` is made of the id.
        let ((), payload) = extract(req, state, |_| ()).await?;
        Ok(Self(payload))
    }
}

/// Both extractors: verify the request in place (its body taken out, buffered and verified),
/// then run the inner extractor `E` on the same request carrying the verified body; `keep`
/// takes what the extractor returns of the verified message. The request is never split into
/// parts and rebuilt: each such move copies a few hundred bytes on every delivery.
async fn extract<S, E, T>(
    req: Request,
    state: &S,
    keep: impl FnOnce(&crate::Message<'_>) -> T,
) -> Result<(T, E), VerifiedRejection<E::Rejection>>
where
    S: Send + Sync,
    Verifier: FromRef<S>,
    E: FromRequest<S>,
{
    let mut req = req.with_limited_body();
    let body = core::mem::take(req.body_mut());
    let verifier = Verifier::from_ref(state);
    let (kept, bytes) = verify_read(&verifier, req.headers(), || buffer(body), keep)
        .await
        .map_err(VerifiedRejection::Verification)?;
    drop(verifier); // not kept alive while the inner extractor runs
    *req.body_mut() = Body::from(bytes);
    let payload = E::from_request(req, state)
        .await
        .map_err(VerifiedRejection::Inner)?;
    Ok((kept, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, Signer};
    use time::OffsetDateTime;

    fn secret() -> Secret {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
    }

    fn request(body: &'static [u8], signed_by: &Secret, ts_offset: i64) -> Request {
        let now = OffsetDateTime::now_utc().unix_timestamp() + ts_offset;
        let h = Signer::new(signed_by.clone()).headers("msg_unit", now, body);
        let mut req = Request::new(Body::from(body));
        *req.headers_mut() = http::HeaderMap::try_from(&h).unwrap();
        req
    }

    fn verifier() -> Verifier {
        Verifier::builder().secret(secret()).build().unwrap()
    }

    fn block_on<F: core::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn keeps_parts_and_hands_over_the_exact_body() {
        let mut req = request(b"{\"a\":1}", &secret(), 0);
        req.extensions_mut().insert(42_u32);
        let d = block_on(verify_request(req, &verifier())).unwrap();
        assert_eq!(d.id, "msg_unit");
        assert_eq!(d.payload.extensions().get::<u32>(), Some(&42));
        assert!(d.payload.headers().contains_key("webhook-signature"));
        let body = block_on(Bytes::from_request(d.payload, &())).unwrap();
        assert_eq!(&body[..], b"{\"a\":1}");
    }

    #[test]
    fn bad_signature_is_refused_after_buffering() {
        let other = Secret::from_bytes(b"someone else").unwrap();
        let err = block_on(verify_request(request(b"x", &other, 0), &verifier())).unwrap_err();
        assert_eq!(err.status(), 401);
        let err =
            block_on(verify_request(request(b"x", &secret(), -301), &verifier())).unwrap_err();
        assert_eq!(err.status(), 401);
    }
}
