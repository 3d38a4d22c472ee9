//! `standard-webhooks`: verify, explain, sign and send Standard Webhooks deliveries, and drill a
//! receiver for conformance.
//!
//! Exit codes, for every command: 0 verified / every drill passed, 1 not verified / a drill that
//! must pass failed / a delivery was refused, 2 bad usage or input (a file that cannot be read, a
//! malformed header or key, a receiver that cannot be reached).

/// `println!`, except that a reader gone away (`standard-webhooks check … | head`) is not a
/// panic: the rest of the output is dropped and the command ends with its own status. Any other
/// failure to write (a full disk under `> headers.txt`) ends the program with status 2.
macro_rules! say {
    () => {
        $crate::say(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::say(format_args!($($arg)*))
    };
}

mod check;
mod events;
mod generate;
mod http;
mod input;
mod keys;
mod random;
mod send;
mod sign;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// What [`say!`] does: one line to standard output.
pub fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("error: writing to standard output: {e}");
            std::process::exit(2);
        }
    }
}

/// A failure that ends a command with exit status 2: bad usage or input. The message names the
/// input at fault (`--body FILE`, `-H '…'`, `--secret #2`) and never holds key material.
#[derive(Debug)]
pub struct Failure(pub String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// What a command returns: its exit status, or a failure of its input.
pub type Outcome = Result<ExitCode, Failure>;

#[derive(Parser)]
#[command(
    name = "standard-webhooks",
    version,
    about = "Verify, explain, sign and send Standard Webhooks deliveries; drill a receiver for conformance",
    long_about = "Verify, explain, sign and send Standard Webhooks deliveries \
(webhook-id, webhook-timestamp, webhook-signature), and drill a receiver for conformance.

Keys are `whsec_` secrets (v1, HMAC-SHA256), `whpk_` public keys and `whsk_` signing keys \
(v1a, Ed25519). Keys are never printed, except by `generate`, whose job it is.

Exit status: 0 verified (or: every drill passed, every delivery accepted); 1 not verified (or: a \
drill that must pass failed, a delivery was refused); 2 bad usage or input.",
    after_help = "Examples:
  standard-webhooks generate secret
  standard-webhooks sign --secret whsec_… --body event.json > headers.txt
  standard-webhooks verify --secret whsec_… -H @headers.txt --body event.json
  standard-webhooks explain --secret whsec_… --request captured.http
  standard-webhooks check http://127.0.0.1:3000/webhooks --secret whsec_…

`standard-webhooks COMMAND --help` describes each command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Verify(verify::VerifyArgs),
    Explain(verify::ExplainArgs),
    Sign(sign::SignArgs),
    Send(send::SendArgs),
    Check(check::CheckArgs),
    Generate(generate::GenerateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Verify(args) => verify::verify(&args),
        Command::Explain(args) => verify::explain(&args),
        Command::Sign(args) => sign::run(&args),
        Command::Send(args) => send::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Generate(args) => generate::run(&args),
    };
    match outcome {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
