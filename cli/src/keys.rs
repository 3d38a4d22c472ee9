//! Keys from `--secret` and `WEBHOOK_SECRETS`, parsed by the library. Errors name the flag (and
//! the entry, through the library's own message) and never show key material.

use standard_webhooks::time::OffsetDateTime;
use standard_webhooks::{
    Error, Fingerprint, PublicKey, Secret, SecretError, Signer, SigningKey, Verifier,
};

use crate::Failure;

/// The environment variable `verify` and `explain` read when no `--secret` is given: the same
/// configuration list the example receivers read.
pub const ENV: &str = "WEBHOOK_SECRETS";

/// A verifier and, for each of its keys, where it came from (`--secret #2`).
pub struct Trusted {
    pub verifier: Verifier,
    labels: Vec<(Fingerprint, String)>,
}

impl Trusted {
    /// Where the key with this fingerprint was given.
    pub fn label(&self, fingerprint: Fingerprint) -> Option<&str> {
        self.labels
            .iter()
            .find(|(f, _)| *f == fingerprint)
            .map(|(_, l)| l.as_str())
    }
}

/// The verifier of `--secret` values (each a configuration list: `whsec_…`, `whpk_…`, with an
/// optional `@RFC3339` expiry), or of `WEBHOOK_SECRETS` when there is none, with its keys
/// judged in force at `at`.
pub fn verifier(secrets: &[String], at: OffsetDateTime) -> Result<Trusted, Failure> {
    let from_env;
    let sources: Vec<(String, &str)> = if secrets.is_empty() {
        from_env = match std::env::var(ENV) {
            Ok(value) if value.trim().is_empty() => {
                return Err(Failure::new(format!(
                    "{ENV} is set but empty: give it the receiver's keys (whsec_…, whpk_…, \
                     KEY@EXPIRY), or give --secret KEY"
                )));
            }
            Ok(value) => value,
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(Failure::new(format!("{ENV} is not valid UTF-8")));
            }
            Err(std::env::VarError::NotPresent) => {
                return Err(Failure::new(format!(
                    "no key: give --secret KEY (repeatable: whsec_…, whpk_…, KEY@EXPIRY) or set \
                     {ENV}"
                )));
            }
        };
        vec![(ENV.to_owned(), from_env.as_str())]
    } else {
        secrets
            .iter()
            .enumerate()
            .map(|(i, s)| (flag_label(i, secrets.len()), s.as_str()))
            .collect()
    };
    let mut builder = Verifier::builder();
    let mut labels = Vec::new();
    for (label, config) in &sources {
        let entries = entries(config);
        if entries.is_empty() {
            return Err(Failure::new(format!("{label} is empty")));
        }
        builder = builder
            .secrets_from_config(config)
            .map_err(|e| Failure::new(format!("{label}: {e}{}", hint(&e))))?;
        for (j, entry) in entries.iter().enumerate() {
            let key = entry.split_once('@').map_or(*entry, |(k, _)| k);
            let fingerprint = if key.starts_with("whpk_") {
                key.parse::<PublicKey>().ok().map(|k| k.fingerprint())
            } else {
                key.parse::<Secret>().ok().map(|k| k.fingerprint())
            };
            if let Some(f) = fingerprint {
                let label = if entries.len() > 1 {
                    format!("{label}, entry {}", j + 1)
                } else {
                    label.clone()
                };
                labels.push((f, label));
            }
        }
    }
    let what = if secrets.is_empty() { ENV } else { "--secret" };
    let verifier = builder.build_at(at).map_err(|e| {
        let when = match e {
            Error::AllKeysExpired { .. } => {
                " (an old capture: judge it with the keys of its time, --at UNIX)"
            }
            _ => "",
        };
        Failure::new(format!("{what}: {e}{when}"))
    })?;
    Ok(Trusted { verifier, labels })
}

/// `--secret`, or `--secret #2` when there are several.
fn flag_label(i: usize, count: usize) -> String {
    if count > 1 {
        format!("--secret #{}", i + 1)
    } else {
        "--secret".to_owned()
    }
}

/// The entries of a configuration list, split as the library splits them.
fn entries(config: &str) -> Vec<&str> {
    config
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .collect()
}

/// A hint for a key error the library cannot know the way out of, here: appended to its message,
/// whose end is the innermost error's own.
fn hint(e: &Error) -> &'static str {
    match e {
        Error::ConfigEntry { error, .. } => hint(error),
        Error::Secret(SecretError::WrongKind { found }) if found.contains("whsk_") => {
            " (a receiver verifies with the public key, `whpk_`, that goes with it)"
        }
        Error::Secret(SecretError::TooShort { .. }) => {
            " (`standard-webhooks generate secret` makes one)"
        }
        _ => "",
    }
}

/// A signing key of a sender: a secret (`v1`) or an Ed25519 signing key (`v1a`).
pub enum SignKey {
    Secret(Secret),
    Ed25519(Box<SigningKey>),
}

/// Parses the `--secret` of a sender (`sign`, `send`, `check`): `whsec_…` or `whsk_…`.
pub fn sign_key(label: &str, text: &str) -> Result<SignKey, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Failure::new(format!("{label} is empty")));
    }
    if text.contains('@') {
        return Err(Failure::new(format!(
            "{label}: an `@expiry` belongs to a receiver's key list; a sender signs with every \
             key it is given"
        )));
    }
    if several(text) {
        return Err(Failure::new(format!(
            "{label}: holds several keys; give each one with its own --secret"
        )));
    }
    if text.starts_with("whpk_") {
        return Err(Failure::new(format!(
            "{label}: a `whpk_` public key only verifies; signing needs the `whsk_` signing key"
        )));
    }
    if text.starts_with("whsk_") {
        return text
            .parse::<SigningKey>()
            .map(|k| SignKey::Ed25519(Box::new(k)))
            .map_err(|e| Failure::new(format!("{label}: {e}")));
    }
    text.parse::<Secret>().map(SignKey::Secret).map_err(|e| {
        // The key list's parser describes the entry (quotes, a `;`…) without showing it.
        match Verifier::builder().secrets_from_config(text) {
            Err(Error::ConfigEntry { found, error, .. }) => {
                Failure::new(format!("{label} ({found}): {error}{}", hint(&error)))
            }
            _ => {
                let e = Error::from(e);
                Failure::new(format!("{label}: {e}{}", hint(&e)))
            }
        }
    })
}

/// Whether a `--secret` value holds several keys (a key list, where one key is expected).
pub fn several(text: &str) -> bool {
    // `;` and `|` are no base64: keys separated the wrong way are several keys too.
    text.split(|c: char| matches!(c, ',' | ';' | '|') || c.is_whitespace())
        .filter(|e| !e.is_empty())
        .nth(1)
        .is_some()
}

/// A signer with the `--secret` values of a sender, in order.
pub fn signer(secrets: &[String]) -> Result<Signer, Failure> {
    let mut signer: Option<Signer> = None;
    for (i, text) in secrets.iter().enumerate() {
        let key = sign_key(&flag_label(i, secrets.len()), text)?;
        signer = Some(match (signer, key) {
            (None, SignKey::Secret(s)) => Signer::new(s),
            (None, SignKey::Ed25519(k)) => Signer::with_signing_key(*k),
            (Some(signer), SignKey::Secret(s)) => signer.secret(s),
            (Some(signer), SignKey::Ed25519(k)) => signer.signing_key(*k),
        });
    }
    signer.ok_or_else(|| Failure::new("no key: give --secret KEY (whsec_… or whsk_…)"))
}

impl SignKey {
    /// A signer with this key alone.
    pub fn signer(&self) -> Signer {
        match self {
            Self::Secret(s) => Signer::new(s.clone()),
            Self::Ed25519(k) => Signer::with_signing_key((**k).clone()),
        }
    }

    /// Adds this key to `signer`.
    pub fn add_to(&self, signer: Signer) -> Signer {
        match self {
            Self::Secret(s) => signer.secret(s.clone()),
            Self::Ed25519(k) => signer.signing_key((**k).clone()),
        }
    }

    /// A throwaway key of the same scheme: a forger's.
    pub fn other_of_same_kind(&self) -> Result<SignKey, Failure> {
        let bytes = crate::random::bytes::<32>()?;
        Ok(match self {
            Self::Secret(_) => {
                SignKey::Secret(Secret::from_bytes(bytes).map_err(|e| Failure::new(e.to_string()))?)
            }
            Self::Ed25519(_) => SignKey::Ed25519(Box::new(SigningKey::from_seed(&bytes))),
        })
    }

    /// A throwaway key of the other scheme: `v1a` for a secret, `v1` for a signing key.
    pub fn other_scheme(&self) -> Result<SignKey, Failure> {
        let bytes = crate::random::bytes::<32>()?;
        Ok(match self {
            Self::Secret(_) => SignKey::Ed25519(Box::new(SigningKey::from_seed(&bytes))),
            Self::Ed25519(_) => {
                SignKey::Secret(Secret::from_bytes(bytes).map_err(|e| Failure::new(e.to_string()))?)
            }
        })
    }

    /// The fingerprint a receiver shows for this key (for a signing key: its public key's).
    pub fn fingerprint(&self) -> Fingerprint {
        match self {
            Self::Secret(s) => s.fingerprint(),
            Self::Ed25519(k) => k.public_key().fingerprint(),
        }
    }

    /// `v1` or `v1a`.
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Secret(_) => "v1",
            Self::Ed25519(_) => "v1a",
        }
    }
}
