//! The framework-neutral tower layer: in front of a plain hyper server (no framework), and with
//! a request body of a type of its own, as `lambda_http` has.
#![cfg(feature = "tower")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::{event, head, new_secret, now, old_secret, raw, send, signed};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use standard_webhooks::tower::{VerifiedBody, VerifyLayer};
use standard_webhooks::{Delivery, Endpoints, Signer, Verifier};
use tower::{Layer, ServiceExt, service_fn};

/// Serves `service` with hyper's own HTTP/1 connection loop: no framework in between.
async fn serve<S>(service: S) -> SocketAddr
where
    S: tower::Service<
            Request<hyper::body::Incoming>,
            Response = Response<Full<Bytes>>,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper_util::service::TowerToHyperService::new(service.clone());
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    addr
}

/// The inner service: counts its runs and echoes the verified id.
fn inner(
    runs: Arc<AtomicUsize>,
) -> impl tower::Service<
    Request<VerifiedBody>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |req: Request<VerifiedBody>| {
        let runs = runs.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let delivery = req.extensions().get::<Delivery>().unwrap();
            assert!(delivery.body().starts_with(b"{\"type\""));
            Ok::<_, Infallible>(Response::new(Full::from(delivery.id.clone())))
        }
    })
}

#[tokio::test]
async fn hyper_with_the_layer_runs_only_verified_deliveries() {
    let runs = Arc::new(AtomicUsize::new(0));
    let verifier = Verifier::builder().secret(new_secret()).build().unwrap();
    let service = VerifyLayer::new(verifier)
        .body_limit(16 * 1024)
        .layer(inner(runs.clone()));
    let addr = serve(service).await;
    let url = format!("http://{addr}/webhooks/dinie");
    let client = reqwest::Client::new();
    let body = event("loan.signed", 1);
    let signer = Signer::new(new_secret());

    // Genuine: the inner service runs and sees the verified delivery.
    let h = signed(&signer, "msg_1", now(), body.as_bytes());
    assert_eq!(
        send(&client, &url, &h, body.clone()).await,
        (200, "msg_1".to_owned())
    );
    // Forged, tampered, stale, unsigned, oversized: the statuses of the extractors.
    let forged = signed(&Signer::new(old_secret()), "msg_2", now(), body.as_bytes());
    assert_eq!(
        send(&client, &url, &forged, body.clone()).await,
        (401, "webhook signature verification failed".to_owned())
    );
    assert_eq!(
        send(&client, &url, &h, body.replace("loan", "lean"))
            .await
            .0,
        401
    );
    let stale = signed(&signer, "msg_3", now() - 600, body.as_bytes());
    assert_eq!(send(&client, &url, &stale, body.clone()).await.0, 401);
    assert_eq!(
        send(&client, &url, &[], body.clone()).await,
        (400, "invalid webhook request".to_owned())
    );
    let big = vec![b'x'; 16 * 1024 + 1];
    let h_big = signed(&signer, "msg_4", now(), &big);
    assert_eq!(
        send(&client, &url, &h_big, big).await,
        (413, "webhook body too large".to_owned())
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // A stale delivery is refused on its headers: its announced body is never waited for.
    let status = raw(
        addr,
        &[&head(
            "/webhooks/dinie",
            &stale,
            "content-length: 1000000\r\n",
        )],
        Duration::ZERO,
        false,
    )
    .await;
    assert_eq!(status, Some(401));
}

#[tokio::test]
async fn hyper_with_endpoints_uses_the_keys_of_the_path() {
    let runs = Arc::new(AtomicUsize::new(0));
    let endpoints = Endpoints::new();
    endpoints.insert(
        "prod",
        Verifier::builder().secret(new_secret()).build().unwrap(),
    );
    endpoints.insert(
        "sandbox",
        Verifier::builder().secret(old_secret()).build().unwrap(),
    );
    let addr = serve(VerifyLayer::new(endpoints).layer(inner(runs.clone()))).await;
    let client = reqwest::Client::new();
    let body = event("loan.signed", 1);
    let url = |e: &str| format!("http://{addr}/webhooks/{e}");
    let by_new = signed(&Signer::new(new_secret()), "msg_1", now(), body.as_bytes());
    assert_eq!(
        send(&client, &url("prod"), &by_new, body.clone()).await.0,
        200
    );
    assert_eq!(
        send(&client, &url("sandbox"), &by_new, body.clone())
            .await
            .0,
        401
    );
    assert_eq!(
        send(&client, &url("other"), &by_new, body.clone()).await.0,
        404
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// A request body type of its own, shaped like `lambda_http::Body` (empty, text or binary, one
/// frame), and a response body built from the layer's `&'static str` answers.
enum LambdaBody {
    Empty,
    Text(String),
    Binary(Vec<u8>),
}

impl From<&'static str> for LambdaBody {
    fn from(s: &'static str) -> Self {
        Self::Text(s.to_owned())
    }
}

impl http_body::Body for LambdaBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        let data = match std::mem::replace(this, Self::Empty) {
            Self::Empty => return Poll::Ready(None),
            Self::Text(s) => Bytes::from(s),
            Self::Binary(b) => Bytes::from(b),
        };
        Poll::Ready(Some(Ok(http_body::Frame::data(data))))
    }
}

#[tokio::test]
async fn any_request_body_type_is_taken() {
    let verifier = Verifier::builder().secret(new_secret()).build().unwrap();
    let service =
        VerifyLayer::new(verifier).layer(service_fn(|req: Request<VerifiedBody>| async move {
            let delivery = req.extensions().get::<Delivery>().unwrap().clone();
            let mut response = Response::new(LambdaBody::Text(delivery.id));
            *response.status_mut() = StatusCode::ACCEPTED;
            Ok::<_, Infallible>(response)
        }));
    let body = event("customer.active", 1);
    let h = Signer::new(new_secret()).headers("msg_l", now(), body.as_bytes());
    for request_body in [
        LambdaBody::Text(body.clone()),
        LambdaBody::Binary(body.clone().into_bytes()),
    ] {
        let mut req = Request::post("/webhooks").body(request_body).unwrap();
        *req.headers_mut() = http::HeaderMap::try_from(&h).unwrap();
        let response = service.clone().oneshot(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let unsigned = Request::post("/webhooks").body(LambdaBody::Empty).unwrap();
    let response = service.oneshot(unsigned).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(matches!(response.body(), LambdaBody::Text(t) if t == "invalid webhook request"));
}
