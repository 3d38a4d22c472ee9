//! Key fingerprints: a name for a key that can be logged, compared and shown to an operator.

use core::fmt;

use sha2::Sha256;

/// PBKDF2 rounds behind a fingerprint: enough that testing one guess of a key against a
/// fingerprint costs as much as this many HMAC-SHA256 computations (1.5 ms in an optimised
/// build on the machine of `BENCHMARKS.md`), little enough that loading a key stays cheap.
#[cfg(not(fuzzing))]
const ROUNDS: u32 = 10_000;

/// Under the fuzzers (`cargo fuzz` builds with `--cfg fuzzing`), one round: every input builds
/// verifiers, and 10,000 instrumented rounds per key would cut the executions per second a
/// hundredfold. The targets check parsing and verification, never a fingerprint's value.
#[cfg(fuzzing)]
const ROUNDS: u32 = 1;

/// A key's fingerprint: 8 bytes derived from the key by a slow one-way function
/// (PBKDF2-HMAC-SHA256, 10,000 rounds, with a salt of this crate's own), shown as 16 hex
/// digits.
///
/// It names a key in logs, in [`Verifier::keys`](crate::Verifier::keys) and on each verified
/// delivery ([`Message::key_fingerprint`](crate::Message::key_fingerprint)), so an operator sees
/// which key a sender signs with, and when it stops using the old one after a rotation. It is
/// stable (the same key gives the same fingerprint in every process and version of this crate
/// that uses the same derivation) and reveals nothing of the key: it cannot be turned back into
/// the key, and testing a guessed key against it costs a PBKDF2 of 10,000 rounds, not one hash.
///
/// ```
/// use standard_webhooks::{Secret, Verifier};
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let fingerprint = secret.fingerprint();
/// assert_eq!(fingerprint.to_string().len(), 16);
/// let verifier = Verifier::builder().secret(secret).build()?;
/// assert_eq!(verifier.keys()[0].fingerprint(), fingerprint);
/// # Ok::<(), standard_webhooks::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 8]);

impl Fingerprint {
    /// The fingerprint of a `v1` secret's bytes.
    pub(crate) fn of_secret(key: &[u8]) -> Self {
        Self::derive(b"standard-webhooks fingerprint v1 whsec", key)
    }

    /// The fingerprint of a `v1a` public key's bytes.
    #[cfg(feature = "ed25519")]
    pub(crate) fn of_public_key(key: &[u8; 32]) -> Self {
        Self::derive(b"standard-webhooks fingerprint v1 whpk", key)
    }

    fn derive(salt: &[u8], key: &[u8]) -> Self {
        let mut out = [0u8; 8];
        pbkdf2::pbkdf2_hmac::<Sha256>(key, salt, ROUNDS, &mut out);
        Self(out)
    }

    /// The 8 bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0
    }
}

/// 16 lowercase hex digits.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_distinct() {
        let a = Fingerprint::of_secret(&[7; 24]);
        assert_eq!(a, Fingerprint::of_secret(&[7; 24]));
        assert_ne!(a, Fingerprint::of_secret(&[8; 24]));
        assert_eq!(a.to_string().len(), 16);
        assert_eq!(format!("{a:?}"), format!("Fingerprint({a})"));
    }

    /// Known answers, computed with Python's `hashlib.pbkdf2_hmac` (an independent
    /// implementation): the derivation must not change between versions, or operators' records
    /// of which key is which would no longer match.
    #[test]
    fn known_answers() {
        for (secret, fingerprint) in [
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "a5ccbcd0afb9b860"),
            ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "d08d1429081b61b1"),
        ] {
            let secret: crate::Secret = secret.parse().unwrap();
            assert_eq!(secret.fingerprint().to_string(), fingerprint);
        }
    }

    #[test]
    fn no_key_byte_shows() {
        let key = [0xabu8; 32];
        let shown = Fingerprint::of_secret(&key).to_string();
        assert!(!shown.contains("abababab"), "{shown}");
    }
}
