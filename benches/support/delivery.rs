//! The delivery both extractor benches send (`benches/e2e.rs`, `benches/extractors.rs`): a
//! Dinie-style event of exactly 1 KiB, the handlers' event type, and the verifier's key.

use serde::Deserialize;
use standard_webhooks::Verifier;

pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// What the handlers deserialize.
#[derive(Deserialize)]
#[allow(dead_code)]
pub struct Event {
    r#type: String,
    timestamp: String,
    data: serde_json::Value,
}

/// A Dinie-style delivery of exactly 1 KiB, which `Event` accepts.
pub fn body() -> Vec<u8> {
    let head = r#"{"type":"loan.active","timestamp":"2026-11-26T12:00:00Z","data":{"loan_id":"ln_2Kq8Wz","pad":""#;
    let tail = r#""}}"#;
    let pad = 1024 - head.len() - tail.len();
    let body = format!("{head}{}{tail}", "x".repeat(pad));
    assert_eq!(body.len(), 1024);
    serde_json::from_str::<Event>(&body).unwrap();
    body.into_bytes()
}

/// A verifier trusting `SECRET`.
pub fn verifier() -> Verifier {
    Verifier::builder()
        .secret(SECRET.parse().unwrap())
        .build()
        .unwrap()
}
