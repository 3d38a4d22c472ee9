//! `verify` (and the inputs it shares with `explain`).

use std::process::ExitCode;

use clap::Args;
use standard_webhooks::time::OffsetDateTime;
use standard_webhooks::time::format_description::well_known::Rfc3339;
use standard_webhooks::{Error, FindingKind, KeyKind, Message};

use crate::input::{self, Headers};
use crate::keys::{self, Trusted};
use crate::{Failure, Outcome};

/// What a delivery is read from, and the keys it is judged with.
#[derive(Args, Debug)]
pub struct DeliveryArgs {
    /// A header of the delivery, as `'name: value'` (repeatable, like curl's -H). `@FILE` reads
    /// one header a line from FILE (`@-`: standard input), e.g. the output of `sign`. With
    /// --request, a header given here replaces the capture's headers of the same name.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,

    /// A raw HTTP request as captured (request line, headers, blank line, body; CRLF or LF), e.g.
    /// by `nc -l` or a proxy; `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub request: Option<String>,

    /// The body, byte for byte as received; `-` for standard input. Replaces the body of
    /// --request.
    #[arg(long, value_name = "FILE")]
    pub body: Option<String>,

    /// A key to trust (repeatable): `whsec_…` (v1), `whpk_…` (v1a), or a retiring one as
    /// `KEY@2026-12-01T00:00:00Z`; one value may list several, separated by spaces or commas.
    /// Without --secret, the list in the environment variable WEBHOOK_SECRETS.
    #[arg(long = "secret", value_name = "KEY")]
    pub secrets: Vec<String>,

    /// Judge the delivery as of this time, not now: Unix seconds or RFC 3339. For an old
    /// capture; keys are judged in force at that time too.
    #[arg(long, value_name = "UNIX")]
    pub at: Option<String>,
}

/// A delivery read from the command line, and the time to judge it at.
pub struct Delivery {
    pub headers: Headers,
    pub body: Vec<u8>,
    pub at: OffsetDateTime,
    /// Whether `at` was given (`--at`), not the clock.
    pub pinned: bool,
}

impl DeliveryArgs {
    /// Reads the delivery and builds the verifier; every failure names its input.
    pub fn load(&self) -> Result<(Delivery, Trusted), Failure> {
        let (at, pinned) = match &self.at {
            Some(text) => (parse_at(text)?, true),
            None => (OffsetDateTime::now_utc(), false),
        };
        // Keys first: a bad key is reported before any file is read.
        let trusted = keys::verifier(&self.secrets, at)?;
        let mut stdin_taken = None;
        let mut request = match &self.request {
            Some(path) => {
                let label = format!("--request {path}");
                let raw = input::read("--request", path, &mut stdin_taken)?;
                input::parse_request(&raw, &label)?
            }
            None => input::Request::default(),
        };
        let extra = input::header_args(&self.headers, &mut stdin_taken)?;
        let body = match &self.body {
            Some(path) => input::read("--body", path, &mut stdin_taken)?,
            None if self.request.is_some() => std::mem::take(&mut request.body),
            None => {
                return Err(Failure::new(
                    "no body: give --body FILE (`-` for standard input) or --request FILE",
                ));
            }
        };
        let headers = input::merge(request.headers, extra);
        if headers.is_empty() {
            return Err(Failure::new(
                "no headers: give them with -H 'name: value' (or -H @FILE) or --request FILE",
            ));
        }
        // What the capture's reader noticed (a body longer than announced...), for either command.
        for note in &request.notes {
            eprintln!("note: {note}");
        }
        Ok((
            Delivery {
                headers,
                body,
                at,
                pinned,
            },
            trusted,
        ))
    }
}

/// `--at`: Unix seconds or an RFC 3339 date-time.
fn parse_at(text: &str) -> Result<OffsetDateTime, Failure> {
    let text = text.trim();
    let parsed = match text.parse::<i64>() {
        Ok(secs) => OffsetDateTime::from_unix_timestamp(secs).ok(),
        Err(_) => OffsetDateTime::parse(text, &Rfc3339).ok(),
    };
    parsed.ok_or_else(|| {
        Failure::new(format!(
            "--at '{}': expected Unix seconds (e.g. 1795780800) or an RFC 3339 date-time \
             (e.g. 2026-11-27T12:00:00Z)",
            input::shown(text)
        ))
    })
}

/// An instant as RFC 3339.
pub fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// `42 s ago`, `3 min from now`, as of `now`.
pub fn relative(at: i64, now: i64) -> String {
    let skew = now - at;
    let (n, ago) = (skew.unsigned_abs(), skew >= 0);
    let span = match n {
        0..120 => format!("{n} s"),
        120..7200 => format!("{} min", n / 60),
        7200..172_800 => format!("{} h", n / 3600),
        _ => format!("{} days", n / 86_400),
    };
    if ago {
        format!("{span} ago")
    } else {
        format!("{span} from now")
    }
}

/// `standard-webhooks verify`.
#[derive(Args, Debug)]
#[command(
    about = "Verify a delivery: exit 0 if genuine, 1 if not",
    long_about = "Verify a delivery as a receiver would: its three headers (webhook-* or svix-*), \
the timestamp within 5 minutes of now (or of --at), and a signature entry that matches a trusted \
key. Prints the id, the timestamp and the fingerprint of the key that matched; or why it was \
rejected, in the library's words. For a step-by-step diagnosis, use `explain`.

Exit status: 0 verified, 1 not verified, 2 bad usage or input.",
    after_help = "Examples:
  # Headers and body given separately:
  standard-webhooks verify --secret whsec_… \\
      -H 'webhook-id: msg_2Kq8' -H 'webhook-timestamp: 1795780800' \\
      -H 'webhook-signature: v1,…' --body event.json

  # A request captured with `nc -l 3000 > captured.http`, judged as of its own time:
  standard-webhooks verify --request captured.http --at 1795780800

  # Keys from the environment, as the receiver reads them (a retiring one with its expiry):
  WEBHOOK_SECRETS='whsec_NEW whsec_OLD@2026-12-01T00:00:00Z' \\
      standard-webhooks verify -H @headers.txt --body event.json"
)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub delivery: DeliveryArgs,
}

/// `verify`: prints the verdict; exit 0 verified, 1 rejected.
pub fn verify(args: &VerifyArgs) -> Outcome {
    let (delivery, trusted) = args.delivery.load()?;
    let result = trusted
        .verifier
        .verify_at(&delivery.headers, &delivery.body, delivery.at);
    match result {
        Ok(msg) => {
            print_verified(&msg, &delivery, &trusted);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            say!("not verified: {e}");
            for hint in hints(&e, &delivery, &trusted) {
                say!("  hint: {hint}");
            }
            say!("  hint: `standard-webhooks explain` with the same arguments diagnoses it");
            Ok(ExitCode::from(1))
        }
    }
}

/// The facts of a verified delivery: id, timestamp, the key that matched.
fn print_verified(msg: &Message<'_>, delivery: &Delivery, trusted: &Trusted) {
    let now = delivery.at.unix_timestamp();
    let fingerprint = msg.key_fingerprint();
    let info = trusted
        .verifier
        .keys()
        .into_iter()
        .find(|k| k.fingerprint() == fingerprint);
    let mut key = fingerprint.to_string();
    if let Some(info) = info {
        key.push_str(match info.kind() {
            KeyKind::Secret => " (secret, v1",
            KeyKind::PublicKey => " (public key, v1a",
            _ => " (",
        });
        if let Some(label) = trusted.label(fingerprint) {
            key.push_str(&format!(", {label}"));
        }
        if let Some(until) = info.expires_at() {
            key.push_str(&format!(", retiring until {}", rfc3339(until)));
        }
        key.push(')');
    }
    say!("verified");
    say!("  webhook-id         {}", msg.id());
    say!(
        "  webhook-timestamp  {} ({}, {}{})",
        msg.unix_timestamp(),
        rfc3339(msg.timestamp()),
        relative(msg.unix_timestamp(), now),
        if delivery.pinned { " as of --at" } else { "" }
    );
    say!("  key                {key}");
    say!("  body               {} bytes", msg.body().len());
}

/// `standard-webhooks explain`.
#[derive(Args, Debug)]
#[command(
    about = "Diagnose a delivery: the verdict, and for a rejection the mistake that caused it",
    long_about = "Diagnose a delivery: the verdict of `verify` (the same code decides), and for \
a rejection the mistakes that reproduce its signature, each with a stable code and a sentence \
that says what happened and how to fix it: a body re-serialised by a JSON middleware, a line \
break added, a retired key, a timestamp in milliseconds, the secret's text used as the key, \
URL-safe base64, the other header family's id, a clock off by seconds, and more. Key material \
is never shown; keys are named by their fingerprints.

Run it on a request captured where verification fails (before any middleware, if you can: \
`nc -l 3000 > captured.http`, a proxy's dump), with the keys the receiver holds.

--json prints {\"verdict\": \"verified\"|\"rejected\", \"findings\": [{\"code\": …, \
\"message\": …}]} on one line, for scripts.

Exit status: 0 verified, 1 rejected, 2 bad usage or input.",
    after_help = "Examples:
  standard-webhooks explain --secret whsec_… --request captured.http
  standard-webhooks explain --request captured.http --at 1795780800 --json | jq -r '.findings[].code'"
)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub delivery: DeliveryArgs,

    /// Print the verdict and findings as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `explain`: the diagnosis; exit 0 verified, 1 rejected.
pub fn explain(args: &ExplainArgs) -> Outcome {
    let (delivery, trusted) = args.delivery.load()?;
    let explanation = trusted
        .verifier
        .explain(&delivery.headers, &delivery.body, delivery.at);
    let verified = explanation.is_verified();
    if args.json {
        let findings: Vec<serde_json::Value> = explanation
            .findings()
            .iter()
            .map(|f| serde_json::json!({"code": f.code(), "message": f.message()}))
            .collect();
        // Written by hand so that `verdict` comes first, as documented.
        say!(
            "{{\"verdict\":{},\"findings\":{}}}",
            serde_json::Value::from(if verified { "verified" } else { "rejected" }),
            serde_json::Value::from(findings)
        );
    } else {
        match explanation.result() {
            Ok(msg) => print_verified(msg, &delivery, &trusted),
            Err(e) => {
                say!("rejected: {e}");
                let findings = explanation.findings();
                if !findings.is_empty() {
                    say!();
                    let width = findings.iter().map(|f| f.code().len()).max().unwrap_or(0);
                    for f in findings {
                        say!("  {:<width$}  {}", f.code(), f.message());
                    }
                }
                if matches!(e, Error::TimestampTooOld { .. })
                    && let Some(hint) = at_hint(&delivery)
                {
                    say!();
                    say!("  hint: {hint}");
                }
            }
        }
    }
    Ok(if verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What a user can do about a rejection.
fn hints(e: &Error, delivery: &Delivery, trusted: &Trusted) -> Vec<String> {
    let mut out = Vec::new();
    match e {
        Error::TimestampTooOld { .. } => out.extend(at_hint(delivery)),
        Error::TimestampTooNew { .. } => {
            // The diagnosis tells a timestamp in milliseconds from a clock off.
            let explanation =
                trusted
                    .verifier
                    .explain(&delivery.headers, &delivery.body, delivery.at);
            let millis = explanation
                .findings()
                .iter()
                .find(|f| f.kind() == FindingKind::TimestampInMilliseconds);
            out.push(millis.map_or_else(
                || "a timestamp in the future: the sender's clock or this one is off".to_owned(),
                |f| f.message().to_owned(),
            ));
        }
        Error::MissingHeader { .. } => {
            let names: Vec<&str> = delivery.headers.iter().map(|(n, _)| n.as_str()).collect();
            out.push(format!("headers given: {}", names.join(", ")));
        }
        _ => {}
    }
    out
}

/// For a timestamp too old, unless `--at` was given: how to judge a capture as of its own time.
fn at_hint(delivery: &Delivery) -> Option<String> {
    if delivery.pinned {
        return None;
    }
    let ts = delivery.headers.iter().find_map(|(n, v)| {
        (n.eq_ignore_ascii_case("webhook-timestamp") || n.eq_ignore_ascii_case("svix-timestamp"))
            .then(|| String::from_utf8_lossy(v).trim().to_owned())
    })?;
    Some(format!(
        "to check the signature of an old capture, judge it as of its own time: --at {ts}"
    ))
}
