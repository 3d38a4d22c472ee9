//! Why a framework integration refused a delivery, and the HTTP status it answers with.

use http::StatusCode;

use crate::error::Error;

/// Why an extractor, layer or middleware of this crate refused a delivery. The handler is
/// never called when one is returned.
///
/// | variant | status | response body |
/// | --- | --- | --- |
/// | [`Malformed`](Self::Malformed): a `webhook-*` header missing or malformed | 400 | `invalid webhook request` |
/// | [`BodyUnreadable`](Self::BodyUnreadable): the body could not be read (truncated, bad chunking) | 400 | `invalid webhook request` |
/// | [`Unauthorized`](Self::Unauthorized): no signature matches, or the timestamp is outside the tolerance | 401 | `webhook signature verification failed` |
/// | [`UnknownEndpoint`](Self::UnknownEndpoint): no keys for the endpoint in the path | 404 | `unknown webhook endpoint` |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge): the body exceeds the limit | 413 | `webhook body too large` |
/// | [`MissingVerifier`](Self::MissingVerifier), [`NoKeyInForce`](Self::NoKeyInForce): the server is misconfigured | 500 | `webhook receiver error` |
/// | [`KeysUnavailable`](Self::KeysUnavailable): the endpoint's keys could not be looked up | 503, `Retry-After: 5` | `webhook receiver unavailable, retry later` |
///
/// None is 410 (a sender disables an endpoint that answers 410) or 2xx, so the sender retries
/// every refused delivery. The response body is one generic line per status
/// ([`response_text`](Self::response_text)): it tells a prober nothing about the keys (how many
/// are in force, that all have expired). The detail is in the variant and its
/// [`Display`](core::fmt::Display) text, for your logs (the `tracing` feature logs it).
///
/// ```
/// use standard_webhooks::{Rejection, Verifier, Secret, Signer};
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let verifier = Verifier::builder().secret(secret.clone()).build()?;
/// let now = time::OffsetDateTime::now_utc();
/// let body = br#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
///
/// // A stale delivery: signed correctly, but ten minutes ago.
/// let headers = Signer::new(secret).headers("msg_1", now.unix_timestamp() - 600, body);
/// let rejection = Rejection::from(verifier.verify_at(&headers, body, now).unwrap_err());
/// assert_eq!(rejection.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(rejection.response_text(), "webhook signature verification failed");
/// assert_eq!(
///     rejection.to_string(),
///     "webhook verification failed: message timestamp is 600 s in the past, beyond the tolerance of 300 s"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// A `webhook-*` header is missing, repeated with different values, or malformed
    /// (including a timestamp that is not an integer): 400 Bad Request.
    #[error("malformed webhook request: {0}")]
    Malformed(Error),

    /// No signature entry matches a trusted key, or the timestamp lies outside the tolerance
    /// (stale, replayed, or a skewed clock): 401 Unauthorized.
    #[error("webhook verification failed: {0}")]
    Unauthorized(Error),

    /// The body is larger than the limit (`DefaultBodyLimit` in axum, `PayloadConfig` in
    /// actix-web, or the layer's own): 413 Payload Too Large.
    #[error("request body is larger than this endpoint accepts")]
    PayloadTooLarge,

    /// The body could not be read: the connection ended before `Content-Length` bytes, the
    /// chunked encoding was broken, or the framework refused it: 400 Bad Request.
    #[error("request body could not be read: {0}")]
    BodyUnreadable(String),

    /// No [`Verifier`](crate::Verifier) or [`Endpoints`](crate::Endpoints) was configured
    /// where the extractor looks for it (actix-web app data, or an axum state of `()` with no
    /// verifying layer in front): 500 Internal Server Error.
    #[error(
        "no webhook verifier is configured for this endpoint: give the framework the keys \
         (axum: `.with_state(verifier)` on the router, or a verifying layer in front; \
         actix-web: `.app_data(web::Data::new(verifier))`)"
    )]
    MissingVerifier,

    /// The verifier holds only retiring keys, all past their expiry: 500 Internal Server
    /// Error, since no delivery can verify until the server's configuration is fixed.
    #[error("no webhook key is in force for this endpoint: every key has expired")]
    NoKeyInForce,

    /// The endpoint named by the request's path has no keys (a
    /// [`KeyResolver`](crate::KeyResolver) answered `None`): 404 Not Found, before the body
    /// is read.
    #[error("no keys for webhook endpoint {0:?}")]
    UnknownEndpoint(String),

    /// The endpoint's keys could not be looked up (the resolver failed): 503 Service
    /// Unavailable with `Retry-After`, before the body is read; the sender retries.
    #[error("{0}")]
    KeysUnavailable(String),
}

/// The longest endpoint name a [`Rejection::UnknownEndpoint`] keeps: it comes from the request's
/// path, so from anyone.
const ENDPOINT_SHOWN: usize = 64;

impl Rejection {
    /// The HTTP status answered for this rejection: 400, 401, 404, 413, 500 or 503, never
    /// 410 or 2xx.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::BodyUnreadable(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            Self::MissingVerifier | Self::NoKeyInForce => StatusCode::INTERNAL_SERVER_ERROR,
            Self::KeysUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The one line answered as the response body: the same for every rejection of a status,
    /// so that it tells a prober nothing (the detail is in [`Display`](core::fmt::Display),
    /// for logs).
    pub fn response_text(&self) -> &'static str {
        match self.status().as_u16() {
            400 => "invalid webhook request",
            401 => "webhook signature verification failed",
            404 => "unknown webhook endpoint",
            413 => "webhook body too large",
            503 => "webhook receiver unavailable, retry later",
            _ => "webhook receiver error",
        }
    }

    /// The `Retry-After` answered with a 503, in seconds.
    #[cfg_attr(
        not(any(feature = "axum", feature = "actix-web", feature = "tower")),
        allow(dead_code)
    )]
    pub(crate) fn retry_after(&self) -> Option<u64> {
        matches!(self, Self::KeysUnavailable(_)).then_some(5)
    }

    /// The verification error behind a 400 or 401 answer, if that is what this is.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Malformed(e) | Self::Unauthorized(e) => Some(e),
            _ => None,
        }
    }

    /// An unknown endpoint, its name (from the request's path) escaped and truncated.
    #[cfg_attr(
        not(any(feature = "axum", feature = "actix-web", feature = "tower")),
        allow(dead_code)
    )]
    pub(crate) fn unknown_endpoint(name: &str) -> Self {
        Self::UnknownEndpoint(name.chars().take(ENDPOINT_SHOWN).collect())
    }
}

impl From<Error> for Rejection {
    /// Classifies a verification error: header problems are 400, a signature or timestamp that
    /// fails is 401, a verifier without a key in force is 500.
    fn from(e: Error) -> Self {
        match e {
            Error::MissingHeader { .. }
            | Error::ConflictingHeader { .. }
            | Error::InvalidHeader { .. }
            | Error::InvalidTimestamp { .. } => Self::Malformed(e),
            Error::NoMatchingSignature { keys: 0, .. }
            | Error::NoKeys
            | Error::AllKeysExpired { .. } => Self::NoKeyInForce,
            // Signature and timestamp failures, and any failure added later: refused, 401.
            _ => Self::Unauthorized(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, Signer, Verifier};
    use time::OffsetDateTime;

    fn secret() -> Secret {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
    }

    #[test]
    fn statuses_never_410_nor_success() {
        let all = [
            Rejection::Malformed(Error::MissingHeader {
                header: "webhook-id",
            }),
            Rejection::Unauthorized(Error::TimestampTooOld {
                skew_secs: 1,
                tolerance_secs: 0,
            }),
            Rejection::PayloadTooLarge,
            Rejection::BodyUnreadable("x".into()),
            Rejection::MissingVerifier,
            Rejection::NoKeyInForce,
            Rejection::UnknownEndpoint("x".into()),
            Rejection::KeysUnavailable("x".into()),
        ];
        let codes: Vec<u16> = all.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(codes, [400, 401, 413, 400, 500, 500, 404, 503]);
        for r in &all {
            assert!(!r.response_text().is_empty());
        }
    }

    /// The body a client gets says nothing about the keys: how many are in force, that they
    /// all expired, which header or entry failed.
    #[test]
    fn the_response_line_is_generic_per_status() {
        let now = OffsetDateTime::now_utc();
        let v = Verifier::builder().secret(secret()).build().unwrap();
        let h = Signer::new(Secret::from_bytes(b"another key").unwrap()).headers(
            "m",
            now.unix_timestamp(),
            b"b",
        );
        let forged = Rejection::from(v.verify_at(&h, b"b", now).unwrap_err());
        let stale = Rejection::from(
            v.verify_at(
                &Signer::new(secret()).headers("m", now.unix_timestamp() - 600, b"b"),
                b"b",
                now,
            )
            .unwrap_err(),
        );
        assert_eq!(forged.response_text(), stale.response_text());
        assert!(forged.to_string().contains("keys in force: 1"));
        assert!(!forged.response_text().contains('1'));
        assert_eq!(
            Rejection::NoKeyInForce.response_text(),
            Rejection::MissingVerifier.response_text()
        );
        assert!(!Rejection::NoKeyInForce.response_text().contains("expired"));
    }

    #[test]
    fn messages_carry_no_key_material() {
        let now = OffsetDateTime::now_utc();
        let h = Signer::new(Secret::from_bytes(b"another key").unwrap()).headers(
            "m",
            now.unix_timestamp(),
            b"b",
        );
        let v = Verifier::builder().secret(secret()).build().unwrap();
        let r = Rejection::from(v.verify_at(&h, b"b", now).unwrap_err());
        assert_eq!(r.status(), 401);
        let text = r.to_string();
        assert!(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{text}");
        assert!(!text.contains(&h.signature), "{text}");
    }

    #[test]
    fn an_unknown_endpoint_is_kept_short() {
        let long = "e".repeat(10_000);
        let r = Rejection::unknown_endpoint(&long);
        assert!(r.to_string().len() < 200);
    }
}
