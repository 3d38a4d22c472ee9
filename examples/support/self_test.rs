//! The self-test of the receiver examples (`axum_receiver`, `actix_receiver`): with
//! `WEBHOOK_EXAMPLE_SELF_TEST=1` an example serves on an ephemeral port with these demo secrets
//! and plays Dinie against itself. Not part of what a partner's service needs.

use std::net::SocketAddr;

use standard_webhooks::{Secret, Signer};

/// Demo secrets for the self-test: a new one, and an old one in its grace period.
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub fn demo_config() -> String {
    let grace_ends = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let grace_ends = grace_ends
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!("{NEW} {OLD}@{grace_ends}")
}

/// Sends the deliveries to the server at `addr` and checks the answers; exits the process
/// with status 1 if any was unexpected.
pub async fn run(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let failures = self_test_deliveries(addr).await?;
    if failures > 0 {
        eprintln!("self-test: {failures} unexpected answers");
        std::process::exit(1);
    }
    println!("self-test: every answer as expected");
    Ok(())
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
