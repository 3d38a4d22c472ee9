//! What every framework integration does the same way: find the endpoint's keys, check the
//! headers, read the body under a limit, verify, and log the outcome.
//!
//! The order is the same everywhere: the keys are resolved and the headers judged before the
//! body is read (an unknown endpoint, an unsigned or stale request costs no buffering); the
//! timestamp is judged again when the body is complete if reading it had to wait for the client
//! (a body trickled in slowly must not stretch the tolerance window).

#[cfg(feature = "actix-web")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix-web")))]
pub mod actix;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
#[cfg(any(feature = "axum", feature = "tower"))]
mod http_body;
mod log;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub mod tower;

#[cfg(feature = "axum")]
pub(crate) use http_body::read_body;
#[cfg(any(feature = "axum", feature = "tower"))]
pub(crate) use http_body::verify_http;
use log::log_accepted;
#[cfg(any(feature = "axum", feature = "actix-web"))]
pub(crate) use log::log_payload_rejected;
pub(crate) use log::log_rejected;

use std::borrow::Cow;

use bytes::Bytes;

use crate::delivery::Delivery;
use crate::headers::HeaderSource;
use crate::rejection::Rejection;
use crate::resolver::KeyResolver;
use crate::verifier::{Message, Now, Verifier};

/// The endpoint a request is for: the last non-empty segment of its path, as it appears in the
/// URL (`/webhooks/we_2Kq8` and `/webhooks/we_2Kq8/` give `we_2Kq8`).
pub(crate) fn endpoint_of(path: &str) -> &str {
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("")
}

/// The verifier for a request to `path`, and the endpoint name when the keys depend on it.
/// Nothing of the request is read but its path. A single verifier is borrowed, with no lookup.
pub(crate) async fn resolve<'k, 'p, K: KeyResolver>(
    keys: &'k K,
    path: &'p str,
) -> Result<(Cow<'k, Verifier>, Option<&'p str>), Rejection> {
    if let Some(verifier) = keys.as_verifier() {
        return Ok((Cow::Borrowed(verifier), None));
    }
    let endpoint = keys.per_endpoint().then(|| endpoint_of(path));
    match keys.resolve(endpoint.unwrap_or("")).await {
        Ok(Some(verifier)) => Ok((Cow::Owned(verifier), endpoint)),
        Ok(None) => Err(Rejection::unknown_endpoint(endpoint.unwrap_or(""))),
        Err(e) => Err(Rejection::KeysUnavailable(e.to_string())),
    }
}

/// The whole verification of a request to `path` with `headers`, `read` starting to read its
/// body under the framework's limit: resolves the endpoint's keys, checks the headers, reads the
/// body, verifies it, and logs the outcome. Builds the [`Delivery`] only when `want` it (the
/// `Verified` extractors do not: no `String` is made of the id).
pub(crate) async fn verify_delivery<K, H, F>(
    keys: &K,
    path: &str,
    headers: &H,
    read: impl FnOnce() -> F,
    want: bool,
) -> Result<(Option<Delivery>, Bytes), Rejection>
where
    K: KeyResolver,
    H: HeaderSource + ?Sized,
    F: core::future::Future<Output = Result<Bytes, Rejection>>,
{
    let outcome = async {
        let (verifier, endpoint) = resolve(keys, path).await?;
        verify_read(&verifier, headers, read, |m, bytes: &Bytes| {
            log_accepted(m, endpoint);
            want.then(|| Delivery::new(m, bytes.clone(), endpoint))
        })
        .await
    }
    .await;
    if let Err(rejection) = &outcome {
        log_rejected(rejection, path);
    }
    outcome
}

/// The verification of a request, given its `headers` and `read`, which starts reading its body
/// under the framework's limit: checks the headers, reads the body, verifies it, and returns
/// `keep` of the verified message and body (what the caller needs of them) with the body.
///
/// The headers are judged when they arrive (a stale or unsigned delivery is refused before its
/// body is read), and the timestamp again when the body is complete if reading it had to wait
/// for the client (a slow upload must not stretch the window).
async fn verify_read<H, F, B, T>(
    verifier: &Verifier,
    headers: &H,
    read: impl FnOnce() -> F,
    keep: impl FnOnce(&Message<'_>, &B) -> T,
) -> Result<(T, B), Rejection>
where
    H: HeaderSource + ?Sized,
    F: core::future::Future<Output = Result<B, Rejection>>,
    B: AsRef<[u8]>,
{
    let pending = verifier.begin(headers, Now::system())?;
    let (body, waited) = read_noting_waits(read()).await;
    let body = body?;
    let message = verifier.finish(&pending, headers, body.as_ref(), waited.then(Now::system))?;
    let kept = keep(&message, &body);
    Ok((kept, body))
}

/// Awaits `read` (the body being read) and tells whether it ever had to wait for the client
/// (was polled and not ready). A read that never waited found the whole body in memory already,
/// so no time worth counting passed since the headers were judged; one that waited is judged
/// again at the time it completes (see [`Verifier::finish`]).
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

    fn secret() -> Secret {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
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
    fn a_read_that_had_to_wait_is_noted() {
        assert_eq!(block_on(read_noting_waits(async { 7 })), (7, false));
        let waits_once = async {
            tokio::task::yield_now().await;
            8
        };
        assert_eq!(block_on(read_noting_waits(waits_once)), (8, true));
    }

    #[test]
    fn the_endpoint_is_the_last_path_segment() {
        for (path, endpoint) in [
            ("/webhooks/we_2Kq8", "we_2Kq8"),
            ("/webhooks/we_2Kq8/", "we_2Kq8"),
            ("/we", "we"),
            ("/", ""),
            ("", ""),
            ("/a//b//", "b"),
        ] {
            assert_eq!(endpoint_of(path), endpoint, "{path}");
        }
    }

    fn read_ok(
        body: &'static [u8],
    ) -> impl FnOnce() -> core::future::Ready<Result<&'static [u8], Rejection>> {
        move || core::future::ready(Ok(body))
    }

    #[test]
    fn headers_are_judged_before_the_body_is_read() {
        let now = OffsetDateTime::now_utc();
        let v = verifier();
        let missing = [("webhook-id", "a"), ("webhook-timestamp", "1")];
        let mut read = false;
        let r = block_on(verify_read(
            &v,
            &missing,
            || {
                read = true;
                core::future::ready(Ok(b"b".as_slice()))
            },
            |_, _| (),
        ));
        assert_eq!(r.err().map(|e| e.status().as_u16()), Some(400));
        assert!(!read, "the body was read");

        let stale = Signer::new(secret()).headers("m", now.unix_timestamp() - 301, b"b");
        let r = block_on(verify_read(&v, &stale, read_ok(b"b"), |_, _| ()));
        assert_eq!(r.err().map(|e| e.status().as_u16()), Some(401));

        let ts = now.unix_timestamp().to_string();
        let no_entry = [
            ("webhook-id", "a"),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", "v9,abc"),
        ];
        let r = block_on(verify_read(&v, &no_entry, read_ok(b"b"), |_, _| ()));
        assert_eq!(r.err().map(|e| e.status().as_u16()), Some(401));

        let good = Signer::new(secret()).headers("m", now.unix_timestamp(), b"b");
        let r = block_on(verify_read(&v, &good, read_ok(b"b"), |m, _| {
            m.id().to_owned()
        }));
        assert_eq!(r.map(|(id, _)| id).ok().as_deref(), Some("m"));
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
        let r = block_on(verify_read(&v, &h, read_ok(b"b"), |_, _| ()));
        assert_eq!(r.err(), Some(Rejection::NoKeyInForce));
    }

    #[test]
    fn resolving_names_the_endpoint_only_when_keys_depend_on_it() {
        let v = verifier();
        let (_, endpoint) = block_on(resolve(&v, "/webhooks/dinie")).unwrap();
        assert_eq!(endpoint, None);
        let endpoints = crate::Endpoints::new();
        endpoints.insert("dinie", v);
        let (_, endpoint) = block_on(resolve(&endpoints, "/webhooks/dinie")).unwrap();
        assert_eq!(endpoint, Some("dinie"));
        assert_eq!(
            block_on(resolve(&endpoints, "/webhooks/other")).err(),
            Some(Rejection::UnknownEndpoint("other".into()))
        );
    }
}
