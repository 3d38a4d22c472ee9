//! `send`: signed sample deliveries of the sender's event types, posted to a receiver.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use standard_webhooks::time::OffsetDateTime;

use crate::http::{NoAnswer, Receiver, reason};
use crate::{Failure, Outcome, events, input, keys, random};

/// `standard-webhooks send`.
#[derive(Args, Debug)]
#[command(
    about = "Post signed sample deliveries (customer.*, credit_offer.*, loan.*) to a receiver",
    long_about = "Post signed sample deliveries of the sender's event types to a receiver, as \
the sender would: a POST with a JSON body {\"type\", \"timestamp\", \"data\"}, plausible data \
for each type, a fresh webhook-id and the current webhook-timestamp, signed with every --secret.

Types: customer.{created, under_review, kyc_updated, active}, credit_offer.{available, expired}, \
loan.{created, contract_generated, awaiting_signatures, signed, disbursing, active, \
payment_received, finished, cancelled, error}.

Prints one line per delivery with the receiver's answer. Exit status: 0 if every delivery got a \
2xx, 1 if one did not, 2 bad usage or a receiver that cannot be reached.",
    after_help = "Examples:
  # One delivery of every type:
  standard-webhooks send http://127.0.0.1:3000/webhooks/dinie --secret whsec_…

  # Five loan events, with data of your own:
  standard-webhooks send http://127.0.0.1:3000/webhooks/dinie --secret whsec_… \\
      --type 'loan.*' --count 5 --data '{\"loan_id\": \"ln_test_1\", \"amount\": \"1000.00\"}'"
)]
pub struct SendArgs {
    /// The receiver's URL (http:// or https://).
    url: String,

    /// A key to sign with (repeatable, one signature entry each): `whsec_…` or `whsk_…`.
    #[arg(long = "secret", value_name = "KEY", required = true)]
    secrets: Vec<String>,

    /// The event types to send (repeatable): a type (`customer.active`), a resource
    /// (`loan.*`) or `*` [default: every type].
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,

    /// The `data` of every event, as JSON (or `@FILE`), instead of the sample data.
    #[arg(long, value_name = "JSON")]
    data: Option<String>,

    /// How many deliveries to send, going round the types [default: one per type].
    #[arg(long, value_name = "N")]
    count: Option<usize>,

    /// An extra header for every delivery, as `'name: value'` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,

    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    timeout: u64,
}

/// `send`.
pub fn run(args: &SendArgs) -> Outcome {
    let signer = keys::signer(&args.secrets)?;
    let receiver = Receiver::new(&args.url, Duration::from_secs(args.timeout.max(1)))?;
    let types = events::select(&args.types)?;
    let mut stdin_taken = None;
    let data = match &args.data {
        None => None,
        Some(text) => {
            let raw = match text.strip_prefix('@') {
                Some(path) => input::read("--data @", path, &mut stdin_taken)
                    .map_err(|Failure(m)| Failure::new(m.replacen("--data @ ", "--data @", 1)))?,
                None => text.as_bytes().to_vec(),
            };
            Some(
                serde_json::from_slice::<serde_json::Value>(&raw)
                    .map_err(|e| Failure::new(format!("--data: not JSON: {e}")))?,
            )
        }
    };
    let extra = input::header_args(&args.headers, &mut stdin_taken)?;
    let extra: Vec<(String, String)> = extra
        .into_iter()
        .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned()))
        .collect();
    let count = args.count.unwrap_or(types.len());
    let mut refused = 0;
    let mut wrong_url = None;
    for (n, event_type) in types.iter().cycle().take(count).enumerate() {
        let now = OffsetDateTime::now_utc();
        let data = match &data {
            Some(data) => data.clone(),
            None => events::data(event_type, now)?,
        };
        let body = events::body(event_type, now, &data);
        let id = random::id("msg_", 27)?;
        let signed = signer.headers(&id, now.unix_timestamp(), &body);
        let mut headers: Vec<(&str, &str)> = signed.iter().collect();
        headers.extend(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())));
        let line = format!("{:>4}  {event_type:<26} {id}", n + 1);
        match receiver.post(&headers, &body) {
            Ok(answer) => {
                let ok = answer.is_success();
                refused += usize::from(!ok);
                wrong_url = wrong_url.or_else(|| answer.wrong_url());
                say!(
                    "{line}  {} {}  {} ms{}",
                    answer.status,
                    reason(answer.status),
                    answer.elapsed.as_millis(),
                    if ok || answer.text.is_empty() {
                        String::new()
                    } else {
                        format!("  {}", answer.text)
                    }
                );
            }
            Err(NoAnswer::Unreachable(why)) => return Err(Failure::new(why)),
            Err(NoAnswer::Broken(why)) => {
                refused += 1;
                say!("{line}  no answer: {why}");
            }
        }
    }
    say!(
        "{count} {} to {}: {} accepted (2xx), {refused} not",
        if count == 1 { "delivery" } else { "deliveries" },
        receiver.url,
        count - refused
    );
    if let Some(wrong_url) = wrong_url {
        say!("note: {wrong_url}");
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
