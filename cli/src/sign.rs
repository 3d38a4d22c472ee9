//! `sign`: the three headers of a delivery, or a curl command that sends it.

use std::process::ExitCode;

use clap::Args;
use standard_webhooks::time::OffsetDateTime;

use crate::input::{self, shown};
use crate::{Failure, Outcome, keys, random};

/// `standard-webhooks sign`.
#[derive(Args, Debug)]
#[command(
    group = clap::ArgGroup::new("input").required(true).multiple(false),
    about = "Sign a body: print the three headers, or a curl command that sends it",
    long_about = "Sign a body as a sender would, and print the headers webhook-id, \
webhook-timestamp and webhook-signature as `name: value` lines (ready for `verify -H @FILE`), or, \
with --curl URL, a curl command that posts the delivery.

Each --secret adds one signature entry, in order: `v1,…` for a `whsec_` secret, `v1a,…` for a \
`whsk_` Ed25519 signing key. Several keys sign as a sender does during a rotation.",
    after_help = "Examples:
  standard-webhooks sign --secret whsec_… --body event.json > headers.txt
  standard-webhooks verify --secret whsec_… -H @headers.txt --body event.json

  # A rotation: the new and the old secret, and an Ed25519 key:
  standard-webhooks sign --secret whsec_NEW --secret whsec_OLD --secret whsk_… --body event.json

  # A curl command for a local receiver, with the body inline:
  standard-webhooks sign --secret whsec_… --curl http://127.0.0.1:3000/webhooks \\
      --data '{\"type\":\"loan.active\",\"timestamp\":\"2026-11-27T12:00:00Z\",\"data\":{}}'"
)]
pub struct SignArgs {
    /// The body to sign, byte for byte; `-` for standard input.
    #[arg(long, value_name = "FILE", group = "input")]
    body: Option<String>,

    /// The body to sign, given inline (like curl's --data).
    #[arg(short = 'd', long, value_name = "TEXT", group = "input")]
    data: Option<String>,

    /// A key to sign with (repeatable, one entry each, in order): `whsec_…` (v1) or `whsk_…` (v1a).
    #[arg(long = "secret", value_name = "KEY", required = true)]
    secrets: Vec<String>,

    /// The webhook-id [default: msg_ and 27 random letters and digits].
    #[arg(long, value_name = "ID")]
    id: Option<String>,

    /// The webhook-timestamp, in Unix seconds [default: now].
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    timestamp: Option<i64>,

    /// Print a curl command that posts the delivery to URL, instead of the headers.
    #[arg(long, value_name = "URL")]
    curl: Option<String>,
}

/// `sign`.
pub fn run(args: &SignArgs) -> Outcome {
    let signer = keys::signer(&args.secrets)?;
    let id = match &args.id {
        Some(id) => {
            if id.is_empty() || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(Failure::new(format!(
                    "--id '{}': a message id is a non-empty header value without spaces or \
                     control characters",
                    shown(id)
                )));
            }
            id.clone()
        }
        None => random::id("msg_", 27)?,
    };
    let timestamp = args
        .timestamp
        .unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
    let mut stdin_taken = None;
    let body = match (&args.body, &args.data) {
        (Some(path), _) => input::read("--body", path, &mut stdin_taken)?,
        (None, Some(text)) => text.as_bytes().to_vec(),
        (None, None) => return Err(Failure::new("no body: give --body FILE or --data TEXT")),
    };
    let headers = signer.headers(&id, timestamp, &body);
    match &args.curl {
        None => {
            for (name, value) in headers.iter() {
                say!("{name}: {value}");
            }
        }
        Some(url) => {
            let data = match &args.body {
                Some(path) if path != "-" => format!("@{path}"),
                _ => String::from_utf8(body).map_err(|_| {
                    Failure::new(
                        "--curl: the body is not UTF-8 text, so it cannot be given inline; \
                         give it as --body FILE",
                    )
                })?,
            };
            say!("curl -sS -X POST {} \\", quote(url));
            say!("  -H 'content-type: application/json' \\");
            for (name, value) in headers.iter() {
                say!("  -H {} \\", quote(&format!("{name}: {value}")));
            }
            say!("  --data-binary {}", quote(&data));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `text` quoted for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
