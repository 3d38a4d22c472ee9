//! `generate secret` and `generate keypair`.

use std::process::ExitCode;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Args, Subcommand};
use standard_webhooks::SigningKey;

use crate::{Outcome, random};

/// `standard-webhooks generate`.
#[derive(Args, Debug)]
#[command(
    about = "Generate a secret (whsec_) or an Ed25519 key pair (whsk_/whpk_)",
    long_about = "Generate keys from the operating system's random generator. The key is \
printed on standard output and nowhere else: store it where it belongs (a secret manager, the \
sender's and the receiver's configuration).",
    after_help = "Examples:
  standard-webhooks generate secret
  standard-webhooks generate keypair > keys.txt   # line 1: whsk_ (sender), line 2: whpk_ (receivers)"
)]
pub struct GenerateArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand, Debug)]
enum What {
    /// A symmetric secret: `whsec_` and the base64 of 32 random bytes (v1, HMAC-SHA256).
    #[command(
        long_about = "A symmetric secret, `whsec_` and the base64 of 32 random bytes \
(v1, HMAC-SHA256). The sender and every receiver hold the same secret."
    )]
    Secret,
    /// An Ed25519 key pair: the signing key (`whsk_`, line 1) and the public key (`whpk_`, line 2).
    #[command(
        long_about = "An Ed25519 key pair (v1a): line 1 is the signing key (`whsk_` and \
the base64 of a 32-byte seed), which only the sender keeps; line 2 is the public key (`whpk_`), \
which receivers trust. A receiver that holds only the public key cannot sign a delivery."
    )]
    Keypair,
}

/// `generate`.
pub fn run(args: &GenerateArgs) -> Outcome {
    match args.what {
        What::Secret => {
            let bytes = random::bytes::<32>()?;
            say!("whsec_{}", STANDARD.encode(bytes));
        }
        What::Keypair => {
            let seed = random::bytes::<32>()?;
            let public = SigningKey::from_seed(&seed).public_key();
            say!("whsk_{}", STANDARD.encode(seed));
            say!("{public}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
