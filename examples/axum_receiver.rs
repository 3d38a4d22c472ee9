//! A complete axum 0.8 receiver for Dinie webhooks: a starting point for a partner's service.
//!
//! ```sh
//! # The endpoint's secret, shown once by `POST /webhooks/endpoints`. During a rotation, give
//! # the new secret and the old one with the end of its grace period (`expire_current_in`):
//! #   WEBHOOK_SECRETS="whsec_NEW whsec_OLD@2026-11-27T01:00:00Z"
//! WEBHOOK_SECRETS="whsec_..." WEBHOOK_LISTEN=0.0.0.0:3000 \
//!     cargo run --features axum --example axum_receiver
//! ```
//!
//! With `WEBHOOK_EXAMPLE_SELF_TEST=1` it listens on an ephemeral port of 127.0.0.1 with demo
//! secrets, sends itself a few signed deliveries (valid, rotation, forged, stale, unsigned),
//! checks every answer and exits: 0 if all were as expected, 1 otherwise.

#[path = "support/self_test.rs"]
mod self_test;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use standard_webhooks::Delivery;
use standard_webhooks::Verifier;

/// A Dinie event: `{"type": "...", "timestamp": "<ISO 8601>", "data": {...}}`.
#[derive(Debug, Deserialize)]
struct Event {
    r#type: String,
    timestamp: String,
    data: serde_json::Value,
}

/// `POST /webhooks/dinie`. Runs only for deliveries that passed verification: anything else
/// was answered 400/401/413 by the extractor, and Dinie retries it.
async fn dinie(
    Delivery {
        id,
        payload: Json(event),
        ..
    }: Delivery<Json<Event>>,
) -> StatusCode {
    // `id` (webhook-id) is the same on every retry of one event: a service that must not act
    // twice records it (e.g. a unique column) and skips ids it has already processed.
    let what = match event.r#type.split_once('.') {
        Some(("customer", status)) => format!("customer is now {status}"),
        Some(("credit_offer", "available")) => "a credit offer is available".to_owned(),
        Some(("credit_offer", "expired")) => "a credit offer expired".to_owned(),
        Some(("loan", "payment_received")) => format!("loan payment: {}", event.data),
        Some(("loan", status)) => format!("loan is now {status}"),
        // Acknowledge types this service does not know yet: an error would make Dinie retry
        // an event that no retry can fix.
        _ => format!("ignored event type {}", event.r#type),
    };
    println!("[{id}] {} at {}: {what}", event.r#type, event.timestamp);
    StatusCode::NO_CONTENT
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/webhooks/dinie", post(dinie))
        .with_state(verifier)
        // Dinie recommends payloads under 20 KB; refuse anything over 256 KiB with 413.
        .layer(DefaultBodyLimit::max(256 * 1024))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::var("WEBHOOK_EXAMPLE_SELF_TEST").is_ok_and(|v| v == "1");
    let (config, listen) = if self_test {
        (self_test::demo_config(), "127.0.0.1:0".to_owned())
    } else {
        let config = std::env::var("WEBHOOK_SECRETS")
            .map_err(|_| "set WEBHOOK_SECRETS to the endpoint's secret (whsec_...)")?;
        let listen = std::env::var("WEBHOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
        (config, listen)
    };
    // Errors name what is wrong with an entry, never the secret itself.
    let verifier = Verifier::builder()
        .secrets_from_config(&config)
        .and_then(|keys| keys.build())
        .map_err(|e| format!("WEBHOOK_SECRETS: {e}"))?;
    println!("verifier: {verifier:?}");

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let addr = listener.local_addr()?;
    println!("listening on http://{addr}/webhooks/dinie");
    let server = axum::serve(listener, app(verifier));
    if !self_test {
        server.await?;
        return Ok(());
    }
    tokio::spawn(async move { server.await });
    self_test::run(addr).await
}
