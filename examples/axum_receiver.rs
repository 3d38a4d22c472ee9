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

use std::net::SocketAddr;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use standard_webhooks::axum::VerifiedDelivery;
use standard_webhooks::{Secret, Signer, Verifier};

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
    VerifiedDelivery {
        id,
        payload: Json(event),
        ..
    }: VerifiedDelivery<Json<Event>>,
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
        (demo_config(), "127.0.0.1:0".to_owned())
    } else {
        let config = std::env::var("WEBHOOK_SECRETS")
            .map_err(|_| "set WEBHOOK_SECRETS to the endpoint's secret (whsec_...)")?;
        let listen = std::env::var("WEBHOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
        (config, listen)
    };
    // Errors name what is wrong with an entry, never the secret itself.
    let verifier = Verifier::builder().secrets_from_config(&config)?.build()?;
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
    let failures = self_test_deliveries(addr).await?;
    if failures > 0 {
        eprintln!("self-test: {failures} unexpected answers");
        std::process::exit(1);
    }
    println!("self-test: every answer as expected");
    Ok(())
}

/// Demo secrets for the self-test: a new one, and an old one in its grace period.
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn demo_config() -> String {
    let grace_ends = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let grace_ends = grace_ends
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!("{NEW} {OLD}@{grace_ends}")
}

/// Plays Dinie: sends signed deliveries to the running server and counts unexpected answers.
async fn self_test_deliveries(addr: SocketAddr) -> Result<usize, Box<dyn std::error::Error>> {
    let (new, old): (Secret, Secret) = (NEW.parse()?, OLD.parse()?);
    let url = format!("http://{addr}/webhooks/dinie");
    let client = reqwest::Client::new();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = |kind: &str, data: &str| {
        format!(r#"{{"type":"{kind}","timestamp":"2026-11-26T12:00:00Z","data":{data}}}"#)
    };

    let active = body("customer.active", r#"{"customer_id":"cus_41"}"#);
    let offer = body("credit_offer.available", r#"{"offer_id":"co_7"}"#);
    let paid = body(
        "loan.payment_received",
        r#"{"loan_id":"ln_8Hq2","amount":"1250.00"}"#,
    );
    let by_new = Signer::new(new.clone());
    let by_both = Signer::new(old.clone()).secret(new);
    let by_old = Signer::new(old);

    let cases = [
        (
            "valid customer.active",
            by_new.headers("msg_1", now, active.as_bytes()),
            active.clone(),
            204,
        ),
        (
            "rotation: two signatures",
            by_both.headers("msg_2", now, offer.as_bytes()),
            offer.clone(),
            204,
        ),
        (
            "old secret in its grace period",
            by_old.headers("msg_3", now, paid.as_bytes()),
            paid.clone(),
            204,
        ),
        (
            "forged: amount altered",
            by_new.headers("msg_4", now, paid.as_bytes()),
            paid.replace("1250.00", "9250.00"),
            401,
        ),
        (
            "stale: signed 10 minutes ago",
            by_new.headers("msg_5", now - 600, active.as_bytes()),
            active.clone(),
            401,
        ),
    ];
    let mut failures = 0;
    for (what, headers, body, want) in cases {
        let mut req = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers.iter() {
            req = req.header(name, value);
        }
        failures += report(what, req.send().await?, want).await?;
    }
    let unsigned = client.post(&url).body(active).send().await?;
    failures += report("unsigned", unsigned, 400).await?;
    Ok(failures)
}

async fn report(
    what: &str,
    answer: reqwest::Response,
    want: u16,
) -> Result<usize, Box<dyn std::error::Error>> {
    let status = answer.status().as_u16();
    let text = answer.text().await?;
    let ok = status == want;
    println!(
        "{} {what:<32} {status} {text}",
        if ok { "ok  " } else { "FAIL" }
    );
    Ok(usize::from(!ok))
}
