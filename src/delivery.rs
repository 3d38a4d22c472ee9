//! A verified delivery, owned: what the framework integrations hand a handler.

use bytes::Bytes;
use time::OffsetDateTime;

use crate::fingerprint::Fingerprint;
use crate::verifier::Message;

/// A verified delivery with its message id, timestamp and the key that verified it; the body
/// read by the inner extractor `E`.
///
/// The framework integrations' owned counterpart of [`Message`] (which [`Verifier::verify`]
/// returns, borrowing the request): the same delivery in every framework.
///
/// - As an extractor (axum, actix-web): `Delivery<Json<Event>>` verifies the request, then runs
///   the inner extractor on the verified body; destructure it as
///   `Delivery { id, payload: Json(event), .. }`.
/// - Behind a layer that verified already ([`axum::IdempotencyLayer`], the [`tower`] layer, the
///   actix-web [`actix::IdempotencyMiddleware`]) the request carries a `Delivery` (with `()` as
///   payload) in its extensions, and the extractors take it from there instead of verifying
///   again.
///
/// Only this crate creates one, after a verification: holding a `Delivery` proves it.
///
/// [`Verifier::verify`]: crate::Verifier::verify
/// [`axum::IdempotencyLayer`]: crate::axum::IdempotencyLayer
/// [`tower`]: crate::tower
/// [`actix::IdempotencyMiddleware`]: crate::actix::IdempotencyMiddleware
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Delivery<E = ()> {
    /// The `webhook-id`: the same on every retry of one event, so the idempotency key.
    pub id: String,
    /// The `webhook-timestamp` of this attempt.
    pub timestamp: OffsetDateTime,
    /// The inner extractor's value (`()` in a request's extensions).
    pub payload: E,
    key: Fingerprint,
    /// The endpoint whose keys verified it, when keys are looked up per endpoint.
    endpoint: Option<String>,
    /// The body exactly as verified.
    body: Bytes,
    /// The body as the route reads it, when that differs (a `Content-Encoding` that the
    /// framework decodes): what [`event_type`](Self::event_type) reads.
    decoded: Option<Bytes>,
}

impl Delivery {
    /// The delivery of a verified message whose body is `body` (the same bytes, shared).
    pub(crate) fn new(message: &Message<'_>, body: Bytes, endpoint: Option<&str>) -> Self {
        Self {
            id: message.id().to_owned(),
            timestamp: message.timestamp(),
            payload: (),
            key: message.key_fingerprint(),
            endpoint: endpoint.map(str::to_owned),
            body,
            decoded: None,
        }
    }

    /// Notes the body as the route will read it, decoded, for [`event_type`](Self::event_type).
    #[cfg(feature = "actix-web")]
    pub(crate) fn set_decoded_body(&mut self, decoded: Bytes) {
        self.decoded = Some(decoded);
    }
}

impl<E> Delivery<E> {
    /// The [fingerprint](Fingerprint) of the key that verified the delivery.
    pub fn key_fingerprint(&self) -> Fingerprint {
        self.key
    }

    /// The endpoint the delivery was sent to, when its keys were looked up per endpoint (a
    /// [`KeyResolver`](crate::KeyResolver) such as [`Endpoints`](crate::Endpoints)); `None` with
    /// a single [`Verifier`](crate::Verifier).
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The body exactly as verified (still encoded, if it was sent with a `Content-Encoding`).
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body's top-level JSON `type` (see [`event_type`](crate::event_type)), if it has one:
    /// read from the body as the route reads it (decoded, for a body sent with a
    /// `Content-Encoding` that actix-web decodes).
    #[cfg(feature = "serde")]
    #[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
    pub fn event_type(&self) -> Option<String> {
        let body = self.decoded.as_ref().unwrap_or(&self.body);
        crate::event::event_type(body)
    }

    /// The same delivery carrying another payload.
    pub fn map<F>(self, payload: impl FnOnce(E) -> F) -> Delivery<F> {
        Delivery {
            id: self.id,
            timestamp: self.timestamp,
            payload: payload(self.payload),
            key: self.key,
            endpoint: self.endpoint,
            body: self.body,
            decoded: self.decoded,
        }
    }

    /// The verified body as shared bytes, for the inner extractor.
    #[cfg_attr(
        not(any(feature = "axum", feature = "actix-web", feature = "tower")),
        allow(dead_code)
    )]
    pub(crate) fn body_bytes(&self) -> Bytes {
        self.body.clone()
    }
}

/// A verified delivery's body, read by the inner extractor `E`: `Verified<Bytes>` gives the
/// raw body, `Verified<Json<T>>` (axum) or `Verified<web::Json<T>>` (actix-web) parses it.
///
/// A delivery that fails verification never reaches the handler: see the framework module's
/// docs for the answers a client gets. To have the id and timestamp too, take a [`Delivery`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Verified<E>(pub E);

impl<E> Verified<E> {
    /// The inner extractor's value.
    pub fn into_inner(self) -> E {
        self.0
    }
}

/// A verified delivery's id, as [`Idempotency::run`](crate::Idempotency::run) takes it: a
/// [`Message`] from [`Verifier::verify`](crate::Verifier::verify), or a [`Delivery`] from an
/// extractor. Sealed: only ids that passed verification can be claimed, so an unsigned request
/// can never block a real event.
pub trait VerifiedId: sealed::Sealed {
    /// The `webhook-id`.
    fn id(&self) -> &str;
    /// The endpoint whose keys verified it, when keys are looked up per endpoint: ids of
    /// different endpoints are kept apart.
    fn endpoint(&self) -> Option<&str>;
}

impl VerifiedId for Message<'_> {
    fn id(&self) -> &str {
        Message::id(self)
    }

    fn endpoint(&self) -> Option<&str> {
        None
    }
}

impl<E> VerifiedId for Delivery<E> {
    fn id(&self) -> &str {
        &self.id
    }

    fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::verifier::Message<'_> {}
    impl<E> Sealed for super::Delivery<E> {}
}
