//! Reading and verifying an `http::Request` whose body is any `http_body::Body`: what the axum
//! idempotency layer and the tower layer share.

use bytes::{Buf, Bytes, BytesMut};
use http::Request;
use http::request::Parts;
use http_body_util::BodyExt as _;

use super::verify_delivery;
use crate::delivery::Delivery;
use crate::rejection::Rejection;
use crate::resolver::KeyResolver;

/// A one-line `text/plain` answer, with `Retry-After` when given: a rejection's (axum and the
/// tower layer), and the axum idempotency layer's own.
pub(crate) fn plain_response<B: From<&'static str>>(
    status: http::StatusCode,
    body: &'static str,
    retry_after: Option<u64>,
) -> http::Response<B> {
    let mut response = http::Response::new(B::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(secs) = retry_after {
        headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    response
}

/// The whole body, under `limit` bytes when one is given. A body that arrives in one piece (the
/// usual webhook) is kept as it is, without a copy; several pieces are joined.
pub(crate) async fn read_body<B>(body: B, limit: Option<usize>) -> Result<Bytes, Rejection>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match limit {
        Some(limit) => collect(http_body_util::Limited::new(body, limit)).await,
        None => collect(body).await,
    }
}

async fn collect<B>(body: B) -> Result<Bytes, Rejection>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut body = core::pin::pin!(body);
    let mut first: Option<Bytes> = None;
    let mut joined = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            let e: Box<dyn std::error::Error + Send + Sync> = e.into();
            if is_length_limit(e.as_ref()) {
                Rejection::PayloadTooLarge
            } else {
                Rejection::BodyUnreadable(format!("failed to buffer the request body: {e}"))
            }
        })?;
        // Trailers carry nothing that is signed.
        let Ok(mut data) = frame.into_data() else {
            continue;
        };
        let data = data.copy_to_bytes(data.remaining());
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
    Ok(first.unwrap_or_else(|| joined.freeze()))
}

/// Whether a body error is (or wraps) the length limit of `http_body_util::Limited` (axum wraps
/// it in its own error type, once or twice).
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

/// [`verify_delivery`] of a request for a layer, its body read under `limit`: gives back the
/// request's parts and the verified delivery (which holds the body).
pub(crate) async fn verify_http<B, K>(
    req: Request<B>,
    keys: &K,
    limit: Option<usize>,
) -> Result<(Parts, Delivery), Rejection>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    K: KeyResolver,
{
    let (parts, body) = req.into_parts();
    let (delivery, _) = verify_delivery(
        keys,
        parts.uri.path(),
        &parts.headers,
        || read_body(body, limit),
        true,
    )
    .await?;
    // Asked for with `true`: always there.
    match delivery {
        Some(delivery) => Ok((parts, delivery)),
        None => Err(Rejection::MissingVerifier),
    }
}
