//! Several endpoints on one route, each with its own keys (`Endpoints`, a `KeyResolver`), with
//! real axum and actix-web servers: a key of one endpoint never verifies another endpoint's
//! delivery; an unknown endpoint is answered 404 without its body being read; a failed lookup
//! is 503 with `Retry-After`; idempotency keeps the ids of different endpoints apart.
#![cfg(all(feature = "axum", feature = "actix-web"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Seen, event, head, now, raw, send, signed};
use standard_webhooks::{
    Delivery, Endpoints, Idempotency, KeyResolver, MemoryStore, ResolveError, Secret, Signer,
    Verified, Verifier,
};

const PROD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SANDBOX: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn secret(s: &str) -> Secret {
    s.parse().unwrap()
}

fn verifier(s: &str) -> Verifier {
    Verifier::builder().secret(secret(s)).build().unwrap()
}

/// `prod` and `sandbox`, each with its own secret.
fn endpoints() -> Endpoints {
    let endpoints = Endpoints::new();
    endpoints.insert("prod", verifier(PROD));
    endpoints.insert("sandbox", verifier(SANDBOX));
    endpoints
}

/// A lookup that fails for `down` and counts its calls: a database behind a cache.
struct Database(Arc<AtomicUsize>);

impl KeyResolver for Database {
    async fn resolve(&self, endpoint: &str) -> Result<Option<Verifier>, ResolveError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        match endpoint {
            "prod" => Ok(Some(verifier(PROD))),
            "sandbox" => Ok(Some(verifier(SANDBOX))),
            "down" => Err(ResolveError::unavailable("connection refused")),
            _ => Ok(None),
        }
    }
}

/// The checks every server below must pass; `url(endpoint)` is its webhook URL for an endpoint.
async fn per_endpoint_keys(addr: SocketAddr, url: impl Fn(&str) -> String, seen: &Seen) {
    let client = reqwest::Client::new();
    let body = event("loan.signed", 1);
    let prod = Signer::new(secret(PROD));
    let sandbox = Signer::new(secret(SANDBOX));

    // Each endpoint accepts its own key.
    let h = signed(&prod, "msg_p", now(), body.as_bytes());
    assert_eq!(send(&client, &url("prod"), &h, body.clone()).await.0, 200);
    let h = signed(&sandbox, "msg_s", now(), body.as_bytes());
    assert_eq!(
        send(&client, &url("sandbox"), &h, body.clone()).await.0,
        200
    );

    // A key of one endpoint never verifies another endpoint's delivery.
    let h = signed(&sandbox, "msg_x", now(), body.as_bytes());
    let (status, text) = send(&client, &url("prod"), &h, body.clone()).await;
    assert_eq!(
        (status, text.as_str()),
        (401, "webhook signature verification failed")
    );
    let h = signed(&prod, "msg_y", now(), body.as_bytes());
    assert_eq!(
        send(&client, &url("sandbox"), &h, body.clone()).await.0,
        401
    );

    // An unknown endpoint: 404, answered on the headers alone. The request announces 10 MB
    // and sends none of it: an answer proves the body was not waited for.
    let h = signed(&prod, "msg_u", now(), body.as_bytes());
    assert_eq!(send(&client, &url("nobody"), &h, body.clone()).await.0, 404);
    let path = url("nobody");
    let path = &path[path.find("/webhooks").unwrap()..];
    let started = std::time::Instant::now();
    let status = raw(
        addr,
        &[&head(path, &h, "content-length: 10000000\r\n")],
        Duration::ZERO,
        false,
    )
    .await;
    assert_eq!(status, Some(404));
    assert!(started.elapsed() < Duration::from_secs(5));

    // Only the two genuine deliveries reached a handler.
    assert_eq!(seen.calls(), 2);
}

/// The idempotency checks every server below must pass, `url(endpoint)` being a route behind
/// its idempotency layer whose handler counts `runs`: the same id sent to two endpoints runs
/// once on each, and again on the same endpoint is done; an unknown endpoint claims nothing.
async fn ids_kept_apart(url: &dyn Fn(&str) -> String, runs: &AtomicUsize) {
    let client = reqwest::Client::new();
    let body = event("loan.signed", 1);
    let status = |endpoint: &'static str, key: &'static str, attempt: i64| {
        let h = signed(
            &Signer::new(secret(key)),
            "msg_same",
            now() + attempt,
            body.as_bytes(),
        );
        let (client, url, body) = (client.clone(), url(endpoint), body.clone());
        async move { send(&client, &url, &h, body).await.0 }
    };
    assert_eq!(status("prod", PROD, 0).await, 204);
    assert_eq!(status("sandbox", SANDBOX, 0).await, 204);
    assert_eq!(status("prod", PROD, 1).await, 200);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(status("other", PROD, 2).await, 404);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

mod axum_server {
    use super::*;
    use axum::routing::post;
    use axum::{Json, Router, http::StatusCode};
    use standard_webhooks::axum::{IdempotencyLayer, KeyState};

    #[derive(Clone)]
    struct AppState {
        endpoints: Endpoints,
        seen: Arc<Seen>,
    }

    impl KeyState for AppState {
        type Keys = Endpoints;
        fn webhook_keys(&self) -> Option<Endpoints> {
            Some(self.endpoints.clone())
        }
    }

    async fn serve(app: Router) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn extractors_verify_with_the_keys_of_the_endpoint_in_the_path() {
        let seen = Arc::new(Seen::default());
        let state = AppState {
            endpoints: endpoints(),
            seen: seen.clone(),
        };
        let app = Router::new()
            .route(
                "/webhooks/{endpoint}",
                post(
                    |axum::extract::State(s): axum::extract::State<AppState>,
                     d: Delivery<Json<serde_json::Value>>| async move {
                        assert!(d.endpoint().is_some());
                        s.seen.record(Some(&d.id), None);
                        StatusCode::OK
                    },
                ),
            )
            .with_state(state);
        let addr = serve(app).await;
        per_endpoint_keys(addr, |e| format!("http://{addr}/webhooks/{e}"), &seen).await;
    }

    #[tokio::test]
    async fn a_failed_lookup_is_503_and_answers_are_cached() {
        let calls = Arc::new(AtomicUsize::new(0));
        let endpoints = Endpoints::lookup(Database(calls.clone()), Duration::from_secs(60));
        let app = Router::new()
            .route(
                "/webhooks/{endpoint}",
                post(|Verified(_): Verified<axum::body::Bytes>| async { StatusCode::OK }),
            )
            .with_state(endpoints);
        let addr = serve(app).await;
        let client = reqwest::Client::new();
        let body = event("loan.signed", 1);
        let h = signed(&Signer::new(secret(PROD)), "m", now(), body.as_bytes());
        let url = |e: &str| format!("http://{addr}/webhooks/{e}");
        for _ in 0..3 {
            assert_eq!(send(&client, &url("prod"), &h, body.clone()).await.0, 200);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the answer was cached");
        let res = client
            .post(url("down"))
            .body(body.clone())
            .header("webhook-id", "m")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "5");
    }

    /// The idempotency layer in front of several endpoints: the same id sent to two endpoints
    /// runs twice (once each), and again on the same endpoint is done.
    #[tokio::test]
    async fn ids_of_different_endpoints_never_collide() {
        let runs = Arc::new(AtomicUsize::new(0));
        let counter = runs.clone();
        let app = Router::new()
            .route(
                "/webhooks/{endpoint}",
                post(move |Verified(_): Verified<Json<serde_json::Value>>| {
                    let counter = counter.clone();
                    async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                        StatusCode::NO_CONTENT
                    }
                }),
            )
            .layer(IdempotencyLayer::new(
                endpoints(),
                Idempotency::new(MemoryStore::new()),
            ));
        let addr = serve(app).await;
        ids_kept_apart(&|e| format!("http://{addr}/webhooks/{e}"), &runs).await;
    }
}

mod actix_server {
    use super::*;
    use actix_web::{HttpResponse, HttpServer, web};
    use standard_webhooks::actix::IdempotencyMiddleware;

    /// Serves `/webhooks/{endpoint}` with `Endpoints` in app data (the extractor finds them
    /// there), and `/once/{endpoint}` behind the idempotency middleware.
    fn start(seen: Arc<Seen>, runs: Arc<AtomicUsize>) -> SocketAddr {
        common::spawn_actix(move |listener| {
            let endpoints = endpoints();
            let once = Idempotency::new(MemoryStore::new());
            HttpServer::new(move || {
                let (seen, runs) = (seen.clone(), runs.clone());
                actix_web::App::new()
                    .app_data(web::Data::new(endpoints.clone()))
                    .route(
                        "/webhooks/{endpoint}",
                        web::post().to(move |d: Delivery<web::Json<serde_json::Value>>| {
                            let seen = seen.clone();
                            async move {
                                assert!(d.endpoint().is_some());
                                seen.record(Some(&d.id), None);
                                HttpResponse::Ok().finish()
                            }
                        }),
                    )
                    .service(
                        web::resource("/once/{endpoint}")
                            .wrap(IdempotencyMiddleware::new(endpoints.clone(), once.clone()))
                            .route(web::post().to(
                                move |Verified(_): Verified<web::Json<serde_json::Value>>| {
                                    let runs = runs.clone();
                                    async move {
                                        runs.fetch_add(1, Ordering::SeqCst);
                                        HttpResponse::NoContent().finish()
                                    }
                                },
                            )),
                    )
            })
            .workers(1)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run()
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn extractors_verify_with_the_keys_of_the_endpoint_in_the_path() {
        let seen = Arc::new(Seen::default());
        let addr = start(seen.clone(), Arc::default());
        per_endpoint_keys(addr, |e| format!("http://{addr}/webhooks/{e}"), &seen).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ids_of_different_endpoints_never_collide() {
        let runs = Arc::new(AtomicUsize::new(0));
        let addr = start(Arc::default(), runs.clone());
        ids_kept_apart(&|e| format!("http://{addr}/once/{e}"), &runs).await;
    }
}
