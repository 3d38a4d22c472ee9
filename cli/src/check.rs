//! `check`: a conformance drill of a receiver, in any language, over HTTP.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use standard_webhooks::Signer;
use standard_webhooks::time::OffsetDateTime;

use crate::http::{Answer, NoAnswer, Receiver, reason};
use crate::keys::{self, SignKey};
use crate::{Failure, Outcome, events, random};

/// The skew of the stale and future drills: twice the 5-minute tolerance of every reference
/// library, so that a receiver with a somewhat wider window still refuses them.
const SKEW_SECS: i64 = 600;

/// `standard-webhooks check`.
#[derive(Args, Debug)]
#[command(
    about = "Drill a receiver: genuine deliveries must be accepted, forged ones refused",
    long_about = "Drill a running receiver, written in any language, with deliveries a \
receiver must accept and deliveries it must refuse, and print a table of expected and actual \
answers. Each drill posts its own plausible event of the sender's types (customer.*, \
credit_offer.*, loan.*) with a fresh webhook-id, so a receiver that parses its events accepts the \
genuine ones.

Must get a 2xx:
  genuine        signed with --secret, timestamp now
  redelivery     the genuine delivery's id again, re-signed with a new timestamp (a retry: an \
idempotent receiver acknowledges it without processing it twice; whether it did cannot be seen \
from outside)
  both-keys      (with --retiring) signed by --secret and --retiring, as during a rotation
  retiring-key   (with --retiring) signed by the retiring key alone, within its grace period
Must not get a 2xx (nor 410, which tells a sender to disable the endpoint):
  forged         signed with a random key of the same scheme
  tampered       genuine headers, the body changed after signing (an amount)
  stale          signed correctly, timestamp 10 minutes in the past (a replay)
  future         signed correctly, timestamp 10 minutes in the future
  unsigned       webhook-id and webhook-timestamp, no webhook-signature
  wrong-scheme   a v1a entry from a throwaway Ed25519 key when --secret is a whsec_ secret (a v1 \
entry from a random secret when it is a whsk_ key)
Should get a 413:
  oversized      a genuine delivery one byte over --max-body

Exit status: 0 if every must-drill passed (a should-drill that did not is reported, as a \
warning), 1 if one failed, 2 bad usage or a receiver that cannot be reached.",
    after_help = "Examples:
  standard-webhooks check http://127.0.0.1:3000/webhooks/dinie --secret whsec_…

  # During a rotation, the receiver holding `whsec_NEW whsec_OLD@…`:
  standard-webhooks check https://staging.example.com/webhooks --secret whsec_NEW --retiring whsec_OLD"
)]
pub struct CheckArgs {
    /// The receiver's URL (http:// or https://).
    url: String,

    /// The receiver's current key: the `whsec_` secret it holds, or the `whsk_` signing key
    /// whose public key (`whpk_`) it holds.
    #[arg(long, value_name = "KEY")]
    secret: String,

    /// A retiring key the receiver still trusts (the old secret of a rotation): adds the
    /// both-keys and retiring-key drills.
    #[arg(long, value_name = "KEY")]
    retiring: Option<String>,

    /// The receiver's body limit in bytes: the oversized drill sends one byte more.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024)]
    max_body: usize,

    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
}

/// What a drill requires of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Must be 2xx.
    Accept,
    /// Must not be 2xx (nor 410).
    Refuse,
    /// Should be 413.
    TooLarge,
}

impl Expect {
    fn text(self) -> &'static str {
        match self {
            Self::Accept => "2xx",
            Self::Refuse => "not 2xx",
            Self::TooLarge => "413 (should)",
        }
    }
}

/// The verdict of one drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Ok,
    Fail,
    Warn,
    Skipped,
}

/// One drill's result, as a table row and, if it did not pass, a reason.
struct Row {
    name: &'static str,
    expect: Expect,
    actual: String,
    verdict: Verdict,
    note: Option<String>,
}

/// One delivery to post.
struct Delivery {
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// The drills' shared state: keys, receiver, clock.
struct Drill {
    receiver: Receiver,
    key: SignKey,
    signer: Signer,
}

impl Drill {
    /// A delivery of a plausible `event_type` event signed by `signer` at `ts`.
    fn event(
        &self,
        signer: &Signer,
        event_type: &str,
        id: &str,
        ts: i64,
    ) -> Result<Delivery, Failure> {
        let now = OffsetDateTime::now_utc();
        let body = events::body(event_type, now, &events::data(event_type, now)?);
        Ok(signed(signer, id, ts, body))
    }

    fn post(&self, delivery: &Delivery) -> Result<Result<Answer, String>, Failure> {
        let headers: Vec<(&str, &str)> = delivery
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        match self.receiver.post(&headers, &delivery.body) {
            Ok(answer) => Ok(Ok(answer)),
            Err(NoAnswer::Broken(why)) => Ok(Err(why)),
            Err(NoAnswer::Unreachable(why)) => Err(Failure::new(format!(
                "{why} (is the receiver running, at this address?)"
            ))),
        }
    }
}

fn signed(signer: &Signer, id: &str, ts: i64, body: Vec<u8>) -> Delivery {
    let h = signer.headers(id, ts, &body);
    Delivery {
        headers: h.iter().map(|(n, v)| (n, v.to_owned())).collect(),
        body,
    }
}

/// Why a delivery that must be accepted was not, where the status says more than the drill:
/// no route here, or a receiver that failed rather than refused.
fn refused_why(a: &Answer, failure: &str) -> String {
    if let Some(wrong_url) = a.wrong_url() {
        return format!("{wrong_url}; the refusal drills prove nothing until this one passes");
    }
    match a.status {
        500..=599 => format!(
            "answered {}: the receiver failed, it did not judge the delivery; its logs say why \
             (keys not given to the framework, every key expired, an error in the handler)",
            a.status
        ),
        _ => failure.to_owned(),
    }
}

/// Judges an answer against what the drill requires; `failure` says what accepting (or
/// refusing) means for this drill.
fn judge(name: &'static str, expect: Expect, answer: Result<Answer, String>, failure: &str) -> Row {
    let (actual, verdict, note) = match (&answer, expect) {
        (Ok(a), Expect::Accept) if a.is_success() => (status(a), Verdict::Ok, None),
        (Ok(a), Expect::Accept) => (
            status(a),
            Verdict::Fail,
            Some(format!("{}{}", refused_why(a, failure), said(a))),
        ),
        (Ok(a), Expect::Refuse) if a.is_success() => {
            (status(a), Verdict::Fail, Some(failure.into()))
        }
        (Ok(a), Expect::Refuse) if a.status == 410 => (
            status(a),
            Verdict::Fail,
            Some(
                "answered 410 Gone, which tells a sender to disable the endpoint: refuse a bad \
                 delivery with 400 or 401"
                    .into(),
            ),
        ),
        (Ok(a), Expect::Refuse) if a.status >= 500 => (
            status(a),
            Verdict::Ok,
            Some(format!(
                "refused with {}: a 5xx makes the sender retry for days; 400 or 401 says the \
                 delivery is bad",
                a.status
            )),
        ),
        (Ok(a), Expect::Refuse) => (status(a), Verdict::Ok, None),
        (Ok(a), Expect::TooLarge) if a.status == 413 => (status(a), Verdict::Ok, None),
        (Ok(a), Expect::TooLarge) => (
            status(a),
            Verdict::Warn,
            Some(format!("{failure}{}", said(a))),
        ),
        (Err(why), Expect::Accept) => (
            "no answer".into(),
            Verdict::Fail,
            Some(format!("{failure} (no answer: {why})")),
        ),
        (Err(why), Expect::Refuse) => (
            "no answer".into(),
            Verdict::Ok,
            Some(format!(
                "closed the connection without an answer ({why}): the sender retries; 400 or 401 \
                 says the delivery is bad"
            )),
        ),
        (Err(why), Expect::TooLarge) => (
            "no answer".into(),
            Verdict::Warn,
            Some(format!(
                "closed the connection without an answer ({why}); 413 tells the sender why"
            )),
        ),
    };
    Row {
        name,
        expect,
        actual,
        verdict,
        note,
    }
}

fn status(a: &Answer) -> String {
    format!("{} {}", a.status, reason(a.status))
        .trim_end()
        .to_owned()
}

/// What the receiver said, for a note.
fn said(a: &Answer) -> String {
    if a.text.is_empty() {
        String::new()
    } else {
        format!(" (it said: {})", a.text)
    }
}

/// `check`.
pub fn run(args: &CheckArgs) -> Outcome {
    if keys::several(&args.secret) {
        return Err(Failure::new(
            "--secret: holds several keys; check takes the current key with --secret and the \
             old one of a rotation with --retiring",
        ));
    }
    let key = keys::sign_key("--secret", &args.secret)?;
    let retiring = args
        .retiring
        .as_deref()
        .map(|r| keys::sign_key("--retiring", r))
        .transpose()?;
    let receiver = Receiver::new(&args.url, Duration::from_secs(args.timeout.max(1)))?;
    let drill = Drill {
        receiver,
        signer: key.signer(),
        key,
    };
    say!("check {}", drill.receiver.url);
    let mut keys = format!(
        "  --secret: {} key {}",
        drill.key.scheme(),
        drill.key.fingerprint()
    );
    if let Some(old) = &retiring {
        keys.push_str(&format!(
            ", --retiring: {} key {}",
            old.scheme(),
            old.fingerprint()
        ));
    }
    say!("{keys}");
    say!();
    say!(
        "{:<14} {:<14} {:<26} verdict",
        "drill",
        "expected",
        "actual"
    );
    let mut rows = Vec::new();
    let mut show = |row: Row| {
        say!(
            "{:<14} {:<14} {:<26} {}",
            row.name,
            row.expect.text(),
            row.actual,
            match row.verdict {
                Verdict::Ok => "ok",
                Verdict::Fail => "FAIL",
                Verdict::Warn => "warn",
                Verdict::Skipped => "skipped",
            }
        );
        rows.push(row);
    };
    let now = || OffsetDateTime::now_utc().unix_timestamp();

    // genuine, then its redelivery: the same id and body, re-signed one second later at least.
    let id = random::id("msg_", 27)?;
    let ts = now() - 1;
    let genuine = drill.event(&drill.signer, "loan.created", &id, ts)?;
    let answer = drill.post(&genuine)?;
    let accepted = answer.as_ref().is_ok_and(Answer::is_success);
    let first_status = answer.as_ref().map(|a| a.status).ok();
    show(judge(
        "genuine",
        Expect::Accept,
        answer,
        "refused a genuine delivery: does it hold this --secret, and verify the raw body \
         (not JSON re-serialised)? `standard-webhooks explain` on a capture of the request says \
         why",
    ));
    if accepted {
        let retry = signed(&drill.signer, &id, now().max(ts + 1), genuine.body.clone());
        let again = drill.post(&retry)?;
        let same = again.as_ref().map(|a| a.status).ok() == first_status;
        let mut row = judge(
            "redelivery",
            Expect::Accept,
            again,
            "refused a retry of a delivery it had accepted: a sender retries until it gets a \
             2xx, so a receiver acknowledges an id it has seen (without processing it twice)",
        );
        if row.verdict == Verdict::Ok && row.note.is_none() && same {
            row.note = Some(
                "answered the retry as it answered the first delivery: whether it processed the \
                 event twice cannot be seen from here (a receiver that records ids, such as the \
                 crate's IdempotencyLayer, answers a retry without running the handler)"
                    .into(),
            );
        }
        show(row);
    } else {
        show(Row {
            name: "redelivery",
            expect: Expect::Accept,
            actual: "-".into(),
            verdict: Verdict::Skipped,
            note: Some("skipped: the genuine delivery was not accepted".into()),
        });
    }

    if let Some(old) = &retiring {
        let both = old.add_to(drill.signer.clone());
        let d = drill.event(
            &both,
            "credit_offer.available",
            &random::id("msg_", 27)?,
            now(),
        )?;
        show(judge(
            "both-keys",
            Expect::Accept,
            drill.post(&d)?,
            "refused a delivery signed by both the current and the retiring key, as every \
             delivery is during a rotation: it must accept a signature header with several \
             entries when one of them verifies",
        ));
        let d = drill.event(
            &old.signer(),
            "customer.kyc_updated",
            &random::id("msg_", 27)?,
            now(),
        )?;
        show(judge(
            "retiring-key",
            Expect::Accept,
            drill.post(&d)?,
            "refused a delivery signed by the retiring key alone: it must trust the retiring key \
             until its grace period ends (WEBHOOK_SECRETS='whsec_NEW whsec_OLD@EXPIRY')",
        ));
    }

    let forger = drill.key.other_of_same_kind()?.signer();
    let d = drill.event(&forger, "loan.disbursing", &random::id("msg_", 27)?, now())?;
    show(judge(
        "forged",
        Expect::Refuse,
        drill.post(&d)?,
        "accepted a delivery signed with a key it does not hold: it does not verify signatures, \
         so anyone can post it events",
    ));

    let mut d = drill.event(
        &drill.signer,
        "loan.payment_received",
        &random::id("msg_", 27)?,
        now(),
    )?;
    d.body = tamper(&d.body);
    show(judge(
        "tampered",
        Expect::Refuse,
        drill.post(&d)?,
        "accepted a body changed after it was signed: the signature must be checked over the \
         exact bytes received",
    ));

    let d = drill.event(
        &drill.signer,
        "loan.signed",
        &random::id("msg_", 27)?,
        now() - SKEW_SECS,
    )?;
    show(judge(
        "stale",
        Expect::Refuse,
        drill.post(&d)?,
        "accepted a delivery signed 10 minutes ago: it does not check webhook-timestamp, so a \
         captured delivery can be replayed at will",
    ));

    let d = drill.event(
        &drill.signer,
        "customer.created",
        &random::id("msg_", 27)?,
        now() + SKEW_SECS,
    )?;
    show(judge(
        "future",
        Expect::Refuse,
        drill.post(&d)?,
        "accepted a delivery dated 10 minutes in the future: it does not check webhook-timestamp \
         in both directions",
    ));

    let mut d = drill.event(
        &drill.signer,
        "loan.active",
        &random::id("msg_", 27)?,
        now(),
    )?;
    d.headers
        .retain(|(n, _)| *n != standard_webhooks::WEBHOOK_SIGNATURE);
    show(judge(
        "unsigned",
        Expect::Refuse,
        drill.post(&d)?,
        "accepted a delivery without a webhook-signature header",
    ));

    let other = drill.key.other_scheme()?;
    let d = drill.event(
        &other.signer(),
        "credit_offer.expired",
        &random::id("msg_", 27)?,
        now(),
    )?;
    let wrong = format!(
        "accepted a {} entry from a key it does not hold: an entry counts only if it verifies \
         under one of its own keys",
        other.scheme()
    );
    show(judge(
        "wrong-scheme",
        Expect::Refuse,
        drill.post(&d)?,
        &wrong,
    ));

    let d = oversized(&drill, args.max_body, now())?;
    let too_large = format!(
        "did not refuse a body of {} bytes with 413: a receiver should refuse bodies beyond its \
         limit (if its limit is higher, give it with --max-body)",
        d.body.len()
    );
    let headers: Vec<(&str, &str)> = d.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let answer = match drill.receiver.post_reading_early(&headers, &d.body) {
        Ok(answer) => Ok(answer),
        Err(NoAnswer::Broken(why)) => Err(why),
        Err(NoAnswer::Unreachable(why)) => return Err(Failure::new(why)),
    };
    show(judge("oversized", Expect::TooLarge, answer, &too_large));

    let failed = rows.iter().filter(|r| r.verdict == Verdict::Fail).count();
    let warned = rows.iter().filter(|r| r.verdict == Verdict::Warn).count();
    let passed = rows.iter().filter(|r| r.verdict == Verdict::Ok).count();
    say!();
    say!(
        "{} drills: {passed} ok, {failed} failed (must), {warned} {} (should)",
        rows.len(),
        if warned == 1 { "warning" } else { "warnings" }
    );
    for row in &rows {
        if let Some(note) = &row.note {
            let tag = match row.verdict {
                Verdict::Fail => "FAIL",
                Verdict::Warn => "warn",
                Verdict::Ok => "note",
                Verdict::Skipped => "skipped",
            };
            say!("{tag} {}: {note}", row.name);
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// A genuine delivery whose body is `max_body + 1` bytes: a `loan.contract_generated` event
/// whose data carries a long attachment.
fn oversized(drill: &Drill, max_body: usize, ts: i64) -> Result<Delivery, Failure> {
    let now = OffsetDateTime::now_utc();
    let event_type = "loan.contract_generated";
    let mut data = events::data(event_type, now)?;
    let base = events::body(event_type, now, &data).len() + r#","attachment":"""#.len();
    let pad = (max_body + 1).saturating_sub(base);
    if let Some(map) = data.as_object_mut() {
        map.insert("attachment".into(), "A".repeat(pad).into());
    }
    let body = events::body(event_type, now, &data);
    Ok(signed(&drill.signer, &random::id("msg_", 27)?, ts, body))
}

/// The body with its payment's amount changed, still valid JSON.
fn tamper(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let changed = text.replace("\"amount\":\"1187.42\"", "\"amount\":\"9187.42\"");
    if changed != text {
        return changed.into_bytes();
    }
    // Not the sample payment: a space before the closing brace changes the bytes, not the JSON.
    let mut body = body.to_vec();
    body.insert(body.len().saturating_sub(1), b' ');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oversized_body_is_one_byte_over() {
        let drill = Drill {
            receiver: Receiver::new("http://127.0.0.1:9/", Duration::from_secs(1)).unwrap(),
            key: keys::sign_key("--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap(),
            signer: keys::signer(&["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()]).unwrap(),
        };
        for max in [10, 1000, 256 * 1024] {
            let d = oversized(&drill, max, 0).unwrap();
            assert!(
                d.body.len() == max + 1 || max < 500,
                "{max}: {}",
                d.body.len()
            );
            assert!(serde_json::from_slice::<serde_json::Value>(&d.body).is_ok());
        }
    }

    #[test]
    fn tampering_changes_the_amount() {
        let now = OffsetDateTime::now_utc();
        let t = "loan.payment_received";
        let body = events::body(t, now, &events::data(t, now).unwrap());
        let changed = tamper(&body);
        assert_ne!(changed, body);
        assert!(String::from_utf8(changed).unwrap().contains("9187.42"));
    }
}
