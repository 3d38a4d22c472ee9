//! The axum idempotency layer with body limits in every order, and with the verified
//! extractors behind it (issue 14, items 2 and 4), on real servers.
#![cfg(feature = "axum")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::{Json, Router, http::StatusCode};
use common::{new_secret, now, old_secret, send, signed};
use standard_webhooks::axum::IdempotencyLayer;
use standard_webhooks::{Delivery, Idempotency, MemoryStore, Signer, Verified, Verifier};

fn verifier() -> Verifier {
    Verifier::builder().secret(new_secret()).build().unwrap()
}

fn once() -> Idempotency {
    Idempotency::new(MemoryStore::new())
}

/// A JSON body of exactly `len` bytes (at least 64).
fn body_of(len: usize) -> String {
    let head = r#"{"type":"loan.signed","timestamp":"2026-11-30T12:00:00Z","data":{"pad":""#;
    let tail = r#""}}"#;
    format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()))
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A route that counts its runs and reads the verified JSON.
fn counted(runs: &Arc<AtomicUsize>) -> axum::routing::MethodRouter {
    let runs = runs.clone();
    post(
        move |Verified(Json(event)): Verified<Json<serde_json::Value>>| {
            let runs = runs.clone();
            async move {
                assert_eq!(event["type"], "loan.signed");
                runs.fetch_add(1, Ordering::SeqCst);
                StatusCode::NO_CONTENT
            }
        },
    )
}

async fn deliver(addr: SocketAddr, id: &str, body: &str) -> u16 {
    let client = reqwest::Client::new();
    let h = signed(&Signer::new(new_secret()), id, now(), body.as_bytes());
    send(
        &client,
        &format!("http://{addr}/webhooks"),
        &h,
        body.to_owned(),
    )
    .await
    .0
}

/// The natural order: the route's `DefaultBodyLimit` inside, the layer outside with its own
/// limit. A body over it is refused 413 before verification, claims nothing, runs nothing.
#[tokio::test]
async fn the_layers_own_limit_holds_in_the_natural_order() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/webhooks", counted(&runs))
        .layer(DefaultBodyLimit::max(1024))
        .layer(IdempotencyLayer::new(verifier(), once()).body_limit(1024));
    let addr = serve(app).await;
    assert_eq!(deliver(addr, "msg_big", &body_of(2000)).await, 413);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // Nothing was claimed: the same id with a body within the limit runs.
    assert_eq!(deliver(addr, "msg_big", &body_of(1024)).await, 204);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// The same order without a limit of the layer's own: the route's `DefaultBodyLimit` still
/// holds for the handler (its extractor refuses the body, 413), and the claim is released, so
/// the sender's retry is not told 409.
#[tokio::test]
async fn an_inner_limit_still_holds_for_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/webhooks", counted(&runs))
        .layer(DefaultBodyLimit::max(1024))
        .layer(IdempotencyLayer::new(verifier(), once()));
    let addr = serve(app).await;
    assert_eq!(deliver(addr, "msg_big", &body_of(2000)).await, 413);
    assert_eq!(deliver(addr, "msg_big", &body_of(2000)).await, 413);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}

/// A limit raised above axum's 2 MB default, outside the layer or as the layer's own: a genuine
/// delivery of 3 MiB gets through (it was refused 413 on every attempt before).
#[tokio::test]
async fn a_raised_limit_lets_large_deliveries_through() {
    let big = body_of(3 * 1024 * 1024);
    for outside in [true, false] {
        let runs = Arc::new(AtomicUsize::new(0));
        let layer = IdempotencyLayer::new(verifier(), once());
        let app = if outside {
            Router::new()
                .route("/webhooks", counted(&runs))
                .layer(layer)
                .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
        } else {
            Router::new()
                .route("/webhooks", counted(&runs))
                .layer(DefaultBodyLimit::max(4 * 1024 * 1024))
                .layer(layer.body_limit(4 * 1024 * 1024))
        };
        let addr = serve(app).await;
        assert_eq!(
            deliver(addr, "msg_large", &big).await,
            204,
            "outside: {outside}"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Without the raised limit, the same delivery is refused.
        let app = Router::new()
            .route("/webhooks", counted(&runs))
            .layer(IdempotencyLayer::new(verifier(), once()));
        let addr = serve(app).await;
        assert_eq!(deliver(addr, "msg_large", &big).await, 413);
    }
}

/// On one route's `MethodRouter`, a second layer after the idempotency layer needs the error
/// type named (axum cannot infer it: E0283); this form compiles and works.
#[tokio::test]
async fn layers_chained_on_one_route_compile_with_the_error_type_named() {
    let runs = Arc::new(AtomicUsize::new(0));
    let route = counted(&runs)
        .layer::<_, Infallible>(IdempotencyLayer::new(verifier(), once()))
        .layer(DefaultBodyLimit::max(1024));
    let app = Router::new().route("/webhooks", route);
    let addr = serve(app).await;
    assert_eq!(deliver(addr, "msg_1", &body_of(512)).await, 204);
    assert_eq!(deliver(addr, "msg_1", &body_of(512)).await, 200);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Behind the layer, `Delivery<Json<_>>` takes the delivery the layer verified, not a second
/// verification with the state's keys: the state here trusts another key, which would refuse
/// every delivery.
#[tokio::test]
async fn the_extractors_take_the_layers_delivery() {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    let other_keys = Verifier::builder().secret(old_secret()).build().unwrap();
    let app = Router::new()
        .route(
            "/webhooks",
            post(
                move |Delivery {
                          id,
                          payload: Json(event),
                          ..
                      }: Delivery<Json<serde_json::Value>>| {
                    let counter = counter.clone();
                    async move {
                        assert_eq!(id, "msg_proof");
                        assert_eq!(event["type"], "loan.signed");
                        counter.fetch_add(1, Ordering::SeqCst);
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .layer(IdempotencyLayer::new(verifier(), once()))
        .with_state(other_keys);
    let addr = serve(app).await;
    assert_eq!(deliver(addr, "msg_proof", &body_of(256)).await, 204);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Without a verifying layer, an extractor on a router whose state holds no keys answers 500:
/// it never lets a delivery through unverified.
#[tokio::test]
async fn without_keys_or_a_layer_the_extractor_refuses() {
    let runs = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route("/webhooks", counted(&runs));
    let addr = serve(app).await;
    assert_eq!(deliver(addr, "msg_1", &body_of(256)).await, 500);
    assert_eq!(runs.load(Ordering::SeqCst), 0);
}
