//! The extractor types shared by the [`axum`](crate::axum) and [`actix`](crate::actix)
//! integrations: one definition, each framework's `FromRequest` implemented in its own module.

use time::OffsetDateTime;

/// A verified delivery's body, read by the inner extractor `E`.
///
/// `Verified<Bytes>` gives the raw body, `Verified<Json<T>>` (axum) or
/// `Verified<web::Json<T>>` (actix-web) parses it. A delivery that fails verification never
/// reaches the handler: see the framework module's docs for the answers a client gets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Verified<E>(pub E);

impl<E> Verified<E> {
    /// The inner extractor's value.
    pub fn into_inner(self) -> E {
        self.0
    }
}

/// A verified delivery with its message id and timestamp, the body read by the inner
/// extractor `E`: `VerifiedDelivery { id, payload: Json(event), .. }`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifiedDelivery<E> {
    /// The `webhook-id`: the same on every retry of one event, so the idempotency key.
    pub id: String,
    /// The `webhook-timestamp` of this attempt.
    pub timestamp: OffsetDateTime,
    /// The inner extractor's value.
    pub payload: E,
}

impl<E> VerifiedDelivery<E> {
    /// The id and timestamp of a verified `message`, with `payload`.
    pub(crate) fn new(message: &crate::Message<'_>, payload: E) -> Self {
        Self {
            id: message.id().to_owned(),
            timestamp: message.timestamp(),
            payload,
        }
    }

    /// The same delivery carrying another payload (what the inner extractor made of the body).
    pub(crate) fn with_payload<F>(self, payload: F) -> VerifiedDelivery<F> {
        VerifiedDelivery {
            id: self.id,
            timestamp: self.timestamp,
            payload,
        }
    }
}
