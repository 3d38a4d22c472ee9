//! axum 0.8: extractors that verify a delivery before the handler runs, and a layer that also
//! runs the route once per `webhook-id` (feature `axum`).
//!
//! Put [`Verified<E>`] or [`Delivery<E>`] in a handler's arguments, around any extractor that
//! reads the body (`Bytes`, `String`, `Json<T>`, …). The keys come from the router's state
//! ([`KeyState`]): a [`Verifier`] state works as is (as does any state with
//! `#[derive(FromRef)]` and a `Verifier` field), an [`Endpoints`] state serves several
//! endpoints on one route. A delivery that fails verification never reaches the handler; the
//! client gets one of these answers instead (see [`Rejection`]), with a generic one-line body:
//!
//! | what | status |
//! | --- | --- |
//! | a `webhook-*` header missing or malformed | 400 |
//! | no signature matches, or the timestamp is outside the tolerance | 401 |
//! | [`Endpoints`]: no keys for the endpoint named by the path | 404 |
//! | body larger than the `DefaultBodyLimit` (2 MB unless you change it) | 413 |
//! | body that could not be read (the connection broke off, malformed chunks) | 400 |
//! | the verifier has no key in force (all its keys were retiring and expired) | 500 |
//! | [`Endpoints`]: the endpoint's keys could not be looked up | 503, `Retry-After` |
//! | the inner extractor's own rejection (e.g. JSON that does not parse) | as it answers |
//!
//! The headers are checked before the body is read, so a request without valid headers costs no
//! buffering, and the timestamp again once the body is complete if it had to be waited for, so a
//! slow upload cannot stretch the tolerance window. The body is buffered once under the router's
//! own `DefaultBodyLimit`, verified, and handed to the inner extractor inside the original request
//! (same headers, extensions and limits). axum's extractors do not decode a `Content-Encoding`:
//! decompress after verification, never before it. Never 410: senders disable an endpoint that
//! answers 410.
//!
//! ```
//! use axum::{Json, Router, http::StatusCode, routing::post};
//! use serde::Deserialize;
//! use standard_webhooks::{Secret, Signer, Verified, Verifier};
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
//! assert_eq!(answer.text().await?, "webhook signature verification failed");
//!
//! // No webhook headers at all: 400, before the body is read.
//! let answer = client.post(&url).body(body).send().await?;
//! assert_eq!(answer.status(), 400);
//! assert_eq!(answer.text().await?, "invalid webhook request");
//! # Ok(())
//! # }
//! ```
//!
//! To get the message id (the idempotency key), timestamp and the key that verified it as
//! well, take a [`Delivery<E>`] instead: `Delivery { id, payload: Json(event), .. }`.
//!
//! ```
//! use axum::{Json, http::StatusCode};
//! use standard_webhooks::Delivery;
//!
//! async fn dinie(
//!     Delivery { id, payload: Json(event), .. }: Delivery<Json<serde_json::Value>>,
//! ) -> StatusCode {
//!     // `id` is the same on every retry of this event: skip it if already processed, or let
//!     // `IdempotencyLayer` do it.
//!     println!("{id}: {}", event["type"]);
//!     StatusCode::NO_CONTENT
//! }
//! # let _ = axum::Router::<standard_webhooks::Verifier>::new().route("/", axum::routing::post(dinie));
//! ```
//!
//! Behind [`IdempotencyLayer`] (or the [`tower`](crate::tower) layer), which verify first, the
//! same extractors take the verified delivery the layer left in the request instead of
//! verifying again: a handler's type still says "verified".

mod idempotency;

pub use idempotency::{IdempotencyLayer, IdempotencyService};

use ::axum::RequestExt as _;
use ::axum::body::Body;
use ::axum::extract::{FromRef, FromRequest, Request};
use ::axum::response::{IntoResponse, Response};

use crate::delivery::{Delivery, Verified};
use crate::integrations::{log_payload_rejected, log_rejected, read_body, verify_delivery};
use crate::rejection::Rejection;
use crate::resolver::{Endpoints, KeyResolver};
use crate::verifier::Verifier;

/// Where the extractors find the keys: the router's state.
///
/// Implemented for every state from which a [`Verifier`] can be taken ([`FromRef`]: a
/// `Verifier` state, or a state struct with `#[derive(FromRef)]` and a `Verifier` field), for
/// [`Endpoints`], and for `()` (no keys: the extractors then need a verifying layer in front,
/// such as [`IdempotencyLayer`], and answer 500 without one). A larger state serving several
/// endpoints implements it in three lines:
///
/// ```
/// use standard_webhooks::Endpoints;
/// use standard_webhooks::axum::KeyState;
///
/// #[derive(Clone)]
/// struct AppState {
///     endpoints: Endpoints,
///     // ... a database pool, etc.
/// }
///
/// impl KeyState for AppState {
///     type Keys = Endpoints;
///     fn webhook_keys(&self) -> Option<Endpoints> {
///         Some(self.endpoints.clone())
///     }
/// }
/// ```
pub trait KeyState: Send + Sync {
    /// What the keys are looked up with.
    type Keys: KeyResolver;

    /// The keys; `None` when this state has none.
    fn webhook_keys(&self) -> Option<Self::Keys>;
}

impl<S: Send + Sync> KeyState for S
where
    Verifier: FromRef<S>,
{
    type Keys = Verifier;

    fn webhook_keys(&self) -> Option<Verifier> {
        Some(Verifier::from_ref(self))
    }
}

impl KeyState for Endpoints {
    type Keys = Endpoints;

    fn webhook_keys(&self) -> Option<Endpoints> {
        Some(self.clone())
    }
}

impl KeyState for () {
    type Keys = Verifier;

    fn webhook_keys(&self) -> Option<Verifier> {
        None
    }
}

/// The rejection of [`Verified`] and [`Delivery`]: the delivery failed verification, or the
/// inner extractor refused the verified body.
#[derive(Debug)]
pub enum VerifiedRejection<R> {
    /// The delivery was refused before the inner extractor ran.
    Verification(Rejection),
    /// The inner extractor's own rejection, answered as it answers (and, with the feature
    /// `tracing`, logged as `reason="payload_rejected"` when it is turned into that answer).
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
            Self::Inner(r) => {
                let response = r.into_response();
                log_payload_rejected(
                    response.status().as_u16(),
                    core::any::type_name::<R>(),
                    None,
                );
                response
            }
        }
    }
}

impl IntoResponse for Rejection {
    /// The [status](Rejection::status), the generic one-line `text/plain` body of
    /// [`response_text`](Rejection::response_text), and `Retry-After` with a 503.
    fn into_response(self) -> Response {
        super::http_body::plain_response(self.status(), self.response_text(), self.retry_after())
    }
}

/// Verifies a request with `keys` (a [`Verifier`], [`Endpoints`] or any [`KeyResolver`]):
/// resolves the endpoint's keys, checks the headers, buffers the body under the router's body
/// limit, verifies it, and gives back the original request (same parts, the buffered body) as
/// the payload of the verified [`Delivery`].
///
/// This is what the extractors do before running their inner extractor; call it from your own
/// extractor or middleware to add a step between verification and the handler. Every failure
/// is a [`Rejection`], which answers with its status; read the body the same way the route
/// would, and answer any error, never swallow it:
///
/// ```
/// use axum::body::Bytes;
/// use axum::extract::{FromRequest, Request};
/// use axum::response::{IntoResponse, Response};
/// use standard_webhooks::Verifier;
/// use standard_webhooks::axum::verify_request;
///
/// async fn check(req: Request, verifier: &Verifier) -> Result<(String, Bytes), Response> {
///     let delivery = verify_request(req, verifier).await.map_err(IntoResponse::into_response)?;
///     // ... look `delivery.id` up in a store of processed ids here ...
///     let body = Bytes::from_request(delivery.payload, &())
///         .await
///         .map_err(IntoResponse::into_response)?;
///     Ok((delivery.id, body))
/// }
/// ```
pub async fn verify_request<K: KeyResolver>(
    req: Request,
    keys: &K,
) -> Result<Delivery<Request>, Rejection> {
    let mut req = req.with_limited_body();
    let body = core::mem::take(req.body_mut());
    let (delivery, bytes) = verify_delivery(
        keys,
        req.uri().path(),
        req.headers(),
        || read_body(body, None),
        true,
    )
    .await?;
    *req.body_mut() = Body::from(bytes);
    // `verify` built the delivery: asked for with `true`.
    match delivery {
        Some(delivery) => Ok(delivery.map(|()| req)),
        None => Err(Rejection::MissingVerifier),
    }
}

impl<S, E> FromRequest<S> for Delivery<E>
where
    S: KeyState,
    E: FromRequest<S>,
{
    type Rejection = VerifiedRejection<E::Rejection>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match extract(req, state, true).await? {
            (Some(delivery), payload) => Ok(delivery.map(|()| payload)),
            (None, _) => Err(VerifiedRejection::Verification(Rejection::MissingVerifier)),
        }
    }
}

impl<S, E> FromRequest<S> for Verified<E>
where
    S: KeyState,
    E: FromRequest<S>,
{
    type Rejection = VerifiedRejection<E::Rejection>;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The id and timestamp are not kept: no `String` is made of the id.
        let (_, payload) = extract(req, state, false).await?;
        Ok(Self(payload))
    }
}

/// Both extractors: verify the request in place (its body taken out, buffered and verified),
/// or take the delivery a verifying layer left in its extensions; then run the inner extractor
/// `E` on the same request carrying the verified body. The [`Delivery`] is built only when
/// `want` it. The request is never split into parts and rebuilt: each such move copies a few
/// hundred bytes on every delivery.
async fn extract<S, E>(
    mut req: Request,
    state: &S,
    want: bool,
) -> Result<(Option<Delivery>, E), VerifiedRejection<E::Rejection>>
where
    S: KeyState,
    E: FromRequest<S>,
{
    let delivery = if let Some(verified) = req.extensions().get::<Delivery>() {
        let delivery = want.then(|| verified.clone());
        *req.body_mut() = Body::from(verified.body_bytes());
        delivery
    } else {
        let Some(keys) = state.webhook_keys() else {
            let rejection = Rejection::MissingVerifier;
            log_rejected(&rejection, req.uri().path());
            return Err(VerifiedRejection::Verification(rejection));
        };
        let mut limited = req.with_limited_body();
        let body = core::mem::take(limited.body_mut());
        let (delivery, bytes) = verify_delivery(
            &keys,
            limited.uri().path(),
            limited.headers(),
            || read_body(body, None),
            want,
        )
        .await
        .map_err(VerifiedRejection::Verification)?;
        drop(keys); // not kept alive while the inner extractor runs
        *limited.body_mut() = Body::from(bytes);
        req = limited;
        delivery
    };
    let payload = E::from_request(req, state)
        .await
        .map_err(VerifiedRejection::Inner)?;
    Ok((delivery, payload))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, Signer};
    use ::axum::body::Bytes;
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
        assert_eq!(d.key_fingerprint(), secret().fingerprint());
        assert_eq!(d.body(), b"{\"a\":1}");
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

    #[test]
    fn a_rejection_answers_a_generic_line() {
        let response = Rejection::NoKeyInForce.into_response();
        assert_eq!(response.status(), 500);
        let body = block_on(Bytes::from_request(Request::new(response.into_body()), &())).unwrap();
        assert_eq!(&body[..], b"webhook receiver error");
        let response = Rejection::KeysUnavailable("db down".into()).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[http::header::RETRY_AFTER], "5");
    }
}
