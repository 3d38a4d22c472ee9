//! The crate's main job, end to end: a sender signs Dinie-style deliveries, a receiver verifies
//! them. A genuine delivery, a forged one, a replayed one, and a secret rotation installed on
//! the running verifier.
//!
//! `cargo run -p standard-webhooks-demo`. Exits non-zero if any verdict is not the expected one.

use std::time::Duration;

use standard_webhooks::{Error, Secret, Signer, Verifier};
use time::OffsetDateTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The endpoint's secret, as Dinie shows it once when the endpoint is registered.
    let current: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    let now = OffsetDateTime::now_utc();
    let verifier = Verifier::builder().secret(current.clone()).build()?;
    let sender = Signer::new(current.clone());
    println!("receiver: {verifier:?}\n");

    let mut failures = 0;
    let mut check = |what: &str, got: Result<String, Error>, want_ok: bool| {
        let verdict = match &got {
            Ok(accepted) => format!("accepted ({accepted})"),
            Err(e) => format!("rejected: {e}"),
        };
        let as_expected = got.is_ok() == want_ok;
        if !as_expected {
            failures += 1;
        }
        println!(
            "{} {what:<44} {verdict}",
            if as_expected { "ok  " } else { "FAIL" }
        );
    };

    // 1. A genuine delivery.
    let body = event(
        "loan.signed",
        now,
        r#"{"loan_id":"ln_8Hq2","amount":"15000.00"}"#,
    );
    let headers = sender.headers("msg_2zJ4loanSigned", now.unix_timestamp(), body.as_bytes());
    check(
        "genuine loan.signed",
        verify(&verifier, &headers, body.as_bytes(), now),
        true,
    );

    // 2. The same delivery with its amount changed in transit.
    let forged = body.replace("15000.00", "95000.00");
    check(
        "amount altered in transit",
        verify(&verifier, &headers, forged.as_bytes(), now),
        false,
    );

    // 3. Signed by someone who does not hold the secret.
    let attacker = Signer::new(Secret::from_bytes(b"a guess at the secret")?);
    let fake = attacker.headers("msg_fake", now.unix_timestamp(), body.as_bytes());
    check(
        "signed with the wrong secret",
        verify(&verifier, &fake, body.as_bytes(), now),
        false,
    );

    // 4. A captured delivery replayed ten minutes later.
    let later = now + time::Duration::minutes(10);
    check(
        "replayed 10 minutes later",
        verify(&verifier, &headers, body.as_bytes(), later),
        false,
    );

    // 5. Rotation: the partner calls POST /webhooks/endpoints/{id}/secret/rotate; for
    //    `expire_current_in` (3600 s) Dinie signs every delivery with both secrets. The new
    //    secret is installed on the running verifier: every clone of it sees the change.
    let next: Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse()?;
    verifier.rotate(next.clone(), Duration::from_secs(3600));
    println!("\nafter rotate(new secret, 3600 s): {verifier:?}");
    let both = Signer::new(current.clone()).secret(next.clone());
    let body = event("customer.active", now, r#"{"customer_id":"cus_41"}"#);
    let h = both.headers("msg_rot1", now.unix_timestamp(), body.as_bytes());
    println!("     webhook-signature: {}", h.signature);
    check(
        "two signatures during the grace period",
        verify(&verifier, &h, body.as_bytes(), now),
        true,
    );
    let h = Signer::new(current.clone()).headers("msg_rot2", now.unix_timestamp(), body.as_bytes());
    check(
        "old secret only, inside the grace period",
        verify(&verifier, &h, body.as_bytes(), now),
        true,
    );
    // A minute past the end of the grace period.
    let after = now + time::Duration::seconds(3660);
    let h = Signer::new(current).headers("msg_rot3", after.unix_timestamp(), body.as_bytes());
    check(
        "old secret only, after the grace period",
        verify(&verifier, &h, body.as_bytes(), after),
        false,
    );
    let h = Signer::new(next).headers("msg_rot4", after.unix_timestamp(), body.as_bytes());
    check(
        "new secret, after the grace period",
        verify(&verifier, &h, body.as_bytes(), after),
        true,
    );

    if failures > 0 {
        return Err(format!("{failures} verdicts were not as expected").into());
    }
    println!("\nall verdicts as expected");
    Ok(())
}

/// The verdict: the id and the fingerprint of the key that verified it, or the error.
fn verify(
    verifier: &Verifier,
    headers: &standard_webhooks::SignedHeaders,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<String, Error> {
    verifier
        .verify_at(headers, body, now)
        .map(|m| format!("webhook-id {}, key {}", m.id(), m.key_fingerprint()))
}

/// A Dinie event body: `{"type": ..., "timestamp": "<RFC 3339>", "data": ...}`.
fn event(kind: &str, at: OffsetDateTime, data: &str) -> String {
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    format!(r#"{{"type":"{kind}","timestamp":"{at}","data":{data}}}"#)
}
