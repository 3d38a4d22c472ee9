//! The crate's main job, end to end: a sender signs Dinie-style deliveries, a receiver verifies
//! them. Shows a valid delivery, a forged one, a stale one, and a secret rotation.
//!
//! `cargo run --example demo`. Exits non-zero if any verdict is not the expected one.

use standard_webhooks::{Error, Secret, Signer, Verifier};
use time::{Duration, OffsetDateTime};

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
            Ok(id) => format!("accepted (webhook-id {id})"),
            Err(e) => format!("rejected: {e}"),
        };
        let as_expected = got.is_ok() == want_ok;
        if !as_expected {
            failures += 1;
        }
        println!(
            "{} {what:<52} {verdict}",
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
    let later = now + Duration::minutes(10);
    check(
        "replayed 10 minutes later",
        verify(&verifier, &headers, body.as_bytes(), later),
        false,
    );

    // 5. Rotation: the partner calls POST /webhooks/endpoints/{id}/secret/rotate; for
    //    `expire_current_in` (3600 s) Dinie signs with both secrets.
    let next: Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse()?;
    let grace_ends = now + Duration::seconds(3600);
    let rotating = Verifier::builder()
        .secret(next.clone())
        .secret_until(current.clone(), grace_ends)
        .build()?;
    println!("\nafter rotation: {rotating:?}");
    let both = Signer::new(current.clone()).secret(next.clone());
    let body = event("customer.active", now, r#"{"customer_id":"cus_41"}"#);
    let h = both.headers("msg_rot1", now.unix_timestamp(), body.as_bytes());
    println!("     webhook-signature: {}", h.signature);
    check(
        "two signatures during the grace period",
        verify(&rotating, &h, body.as_bytes(), now),
        true,
    );
    let h = Signer::new(current.clone()).headers("msg_rot2", now.unix_timestamp(), body.as_bytes());
    check(
        "old secret only, inside the grace period",
        verify(&rotating, &h, body.as_bytes(), now),
        true,
    );
    let after = grace_ends + Duration::seconds(1);
    let h = Signer::new(current).headers("msg_rot3", after.unix_timestamp(), body.as_bytes());
    check(
        "old secret only, after the grace period",
        verify(&rotating, &h, body.as_bytes(), after),
        false,
    );
    let h = Signer::new(next).headers("msg_rot4", after.unix_timestamp(), body.as_bytes());
    check(
        "new secret, after the grace period",
        verify(&rotating, &h, body.as_bytes(), after),
        true,
    );

    if failures > 0 {
        return Err(format!("{failures} verdicts were not as expected").into());
    }
    println!("\nall verdicts as expected");
    Ok(())
}

fn verify(
    verifier: &Verifier,
    headers: &standard_webhooks::SignedHeaders,
    body: &[u8],
    now: OffsetDateTime,
) -> Result<String, Error> {
    verifier
        .verify_at(headers, body, now)
        .map(|m| m.id().to_owned())
}

/// A Dinie event body: `{"type": ..., "timestamp": ..., "data": ...}`.
fn event(kind: &str, at: OffsetDateTime, data: &str) -> String {
    format!(
        r#"{{"type":"{kind}","timestamp":"{}","data":{data}}}"#,
        at.unix_timestamp()
    )
}
