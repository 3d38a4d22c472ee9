//! Why a framework extractor refused a delivery, and the HTTP status it answers with.
//!
//! [`Rejection`] is shared by the [`axum`](crate::axum) and [`actix`](crate::actix)
//! extractors. Each variant has one status; none of them is 410 (a sender disables an endpoint
//! that answers 410), and none is 2xx, so the sender retries every refused delivery.
//!
//! ```
//! use standard_webhooks::{Rejection, Verifier, Secret, Signer};
//!
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let verifier = Verifier::builder().secret(secret.clone()).build()?;
//! let now = time::OffsetDateTime::now_utc();
//! let body = br#"{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
//!
//! // A stale delivery: signed correctly, but ten minutes ago.
//! let headers = Signer::new(secret).headers("msg_1", now.unix_timestamp() - 600, body);
//! let rejection = Rejection::from(verifier.verify_at(&headers, body, now).unwrap_err());
//! assert_eq!(rejection.status(), http::StatusCode::UNAUTHORIZED);
//! assert_eq!(
//!     rejection.to_string(),
//!     "webhook verification failed: message timestamp is 600 s in the past, beyond the tolerance of 300 s"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Hooking in: the extractors call `precheck` on the headers before reading the body, then
// `Verifier::finish` and `Rejection::from(core error)` once the body is buffered. Other
// middleware (e.g. an idempotency layer) maps its own failures with the same type so every
// answer stays consistent.

use http::StatusCode;

use crate::error::Error;
use crate::headers::HeaderSource;
use crate::verifier::{Now, Pending, Verifier};

/// Why an extractor refused a delivery. The handler is never called when one is returned.
///
/// | variant | status |
/// | --- | --- |
/// | [`Malformed`](Self::Malformed): a `webhook-*` header missing or malformed | 400 |
/// | [`Unauthorized`](Self::Unauthorized): no signature matches, or the timestamp is outside the tolerance | 401 |
/// | [`PayloadTooLarge`](Self::PayloadTooLarge): the body exceeds the framework's limit | 413 |
/// | [`BodyUnreadable`](Self::BodyUnreadable): the body could not be read (truncated, bad chunking) | 400 |
/// | [`MissingVerifier`](Self::MissingVerifier), [`NoKeyInForce`](Self::NoKeyInForce): the server is misconfigured | 500 |
///
/// The response body is the [`Display`](core::fmt::Display) text: one line saying what was
/// wrong, never key material. Match on the variant to answer differently.
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

    /// The body is larger than the framework's limit (`DefaultBodyLimit` in axum,
    /// `PayloadConfig` in actix-web): 413 Payload Too Large.
    #[error("request body is larger than this endpoint accepts")]
    PayloadTooLarge,

    /// The body could not be read: the connection ended before `Content-Length` bytes, the
    /// chunked encoding was broken, or the framework refused it: 400 Bad Request.
    #[error("request body could not be read: {0}")]
    BodyUnreadable(String),

    /// No [`Verifier`] was configured where the extractor looks for it (actix-web app data):
    /// 500 Internal Server Error. (In axum a missing verifier is a compile error.)
    #[error("no webhook verifier is configured for this endpoint")]
    MissingVerifier,

    /// The verifier holds only retiring keys, all past their expiry: 500 Internal Server
    /// Error, since no delivery can verify until the server's configuration is fixed.
    #[error("no webhook key is in force for this endpoint")]
    NoKeyInForce,
}

impl Rejection {
    /// The HTTP status answered for this rejection: 400, 401, 413 or 500, never 410.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Malformed(_) | Self::BodyUnreadable(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MissingVerifier | Self::NoKeyInForce => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The verification error behind a 400 or 401 answer, if that is what this is.
    pub fn error(&self) -> Option<&Error> {
        match self {
            Self::Malformed(e) | Self::Unauthorized(e) => Some(e),
            _ => None,
        }
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

/// Checks everything that does not need the body: the headers are present and well formed, the
/// timestamp is within the tolerance at `now`, a key is in force, and the signature header holds
/// an entry that can match. Extractors call it before reading the body, so a request without
/// valid headers costs no body buffering; the checked headers are then handed to
/// [`Verifier::finish`] with the body, so nothing is read twice. Nothing is hashed here.
pub(crate) fn precheck<'h, H: HeaderSource + ?Sized>(
    verifier: &Verifier,
    headers: &'h H,
    now: Now,
) -> Result<Pending<'h>, Rejection> {
    verifier.begin(headers, now).map_err(Rejection::from)
}

/// The whole verification of a request for both extractors, given its `headers` and `read`, which
/// starts reading its body under the framework's limit: checks the headers, reads
/// the body, verifies it, and returns `keep` of the verified message (what the caller needs of
/// it) with the body.
///
/// The headers are judged when they arrive (a stale or unsigned delivery is refused before its
/// body is read), and the timestamp again when the body is complete if reading it had to wait
/// for the client (a slow upload must not stretch the window).
pub(crate) async fn verify_read<H, F, B, T>(
    verifier: &Verifier,
    headers: &H,
    read: impl FnOnce() -> F,
    keep: impl FnOnce(&crate::Message<'_>) -> T,
) -> Result<(T, B), Rejection>
where
    H: HeaderSource + ?Sized,
    F: core::future::Future<Output = Result<B, Rejection>>,
    B: AsRef<[u8]>,
{
    let pending = precheck(verifier, headers, Now::system())?;
    let (body, waited) = read_noting_waits(read()).await;
    let body = body?;
    let kept =
        keep(&verifier.finish(&pending, headers, body.as_ref(), waited.then(Now::system))?);
    Ok((kept, body))
}

/// Awaits `read` (the body being read) and tells whether it ever had to wait for the client
/// (was polled and not ready). A read that never waited found the whole body in memory already,
/// so no time worth counting passed since [`precheck`]; one that waited is judged again at the
/// time it completes (see [`Verifier::finish`]).
async fn read_noting_waits<F: core::future::Future>(read: F) -> (F::Output, bool) {
    let mut read = core::pin::pin!(read);
    let mut waited = false;
    let output = core::future::poll_fn(|cx| {
        let poll = read.as_mut().poll(cx);
        waited |= poll.is_pending();
        poll
    })
    .await;
    (output, waited)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Secret, Signer};
    use time::OffsetDateTime;

    fn verifier(secret: &Secret) -> Verifier {
        Verifier::builder().secret(secret.clone()).build().unwrap()
    }

    #[test]
    fn a_read_that_had_to_wait_is_noted() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(read_noting_waits(async { 7 })), (7, false));
        let waits_once = async {
            tokio::task::yield_now().await;
            8
        };
        assert_eq!(rt.block_on(read_noting_waits(waits_once)), (8, true));
    }

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
        ];
        let codes: Vec<u16> = all.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(codes, [400, 401, 413, 400, 500, 500]);
    }

    #[test]
    fn precheck_passes_valid_headers_without_the_body() {
        let now = OffsetDateTime::now_utc();
        let h = Signer::new(secret()).headers("msg_1", now.unix_timestamp(), b"the body");
        assert!(precheck(&verifier(&secret()), &h, Now::at(now)).is_ok());
    }

    #[test]
    fn precheck_refuses_what_needs_no_body() {
        let now = OffsetDateTime::now_utc();
        let v = verifier(&secret());
        let missing = [("webhook-id", "a"), ("webhook-timestamp", "1")];
        assert_eq!(
            precheck(&v, &missing, Now::at(now)).err().unwrap().status(),
            400
        );

        let stale = Signer::new(secret()).headers("m", now.unix_timestamp() - 301, b"b");
        assert_eq!(
            precheck(&v, &stale, Now::at(now)).err().unwrap().status(),
            401
        );

        let ts = now.unix_timestamp().to_string();
        let no_entry = [
            ("webhook-id", "a"),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", "v9,abc"),
        ];
        assert_eq!(
            precheck(&v, &no_entry, Now::at(now))
                .err()
                .unwrap()
                .status(),
            401
        );
    }

    #[test]
    fn no_key_in_force_is_a_server_error() {
        let now = OffsetDateTime::now_utc();
        // Built while its one key was in force; the key has expired since.
        let v = Verifier::builder()
            .secret_until(secret(), now - time::Duration::hours(1))
            .build_at(now - time::Duration::hours(2))
            .unwrap();
        let h = Signer::new(secret()).headers("m", now.unix_timestamp(), b"b");
        assert_eq!(
            precheck(&v, &h, Now::at(now)).err(),
            Some(Rejection::NoKeyInForce)
        );
    }

    #[test]
    fn messages_carry_no_key_material() {
        let now = OffsetDateTime::now_utc();
        let h = Signer::new(Secret::from_bytes(b"another key").unwrap()).headers(
            "m",
            now.unix_timestamp(),
            b"b",
        );
        let r = Rejection::from(verifier(&secret()).verify_at(&h, b"b", now).unwrap_err());
        assert_eq!(r.status(), 401);
        let text = r.to_string();
        assert!(!text.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), "{text}");
        assert!(!text.contains(&h.signature), "{text}");
    }
}
