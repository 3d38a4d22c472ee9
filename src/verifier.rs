//! The multi-key verifier and its builder.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;

use hmac::Mac as _;
use time::OffsetDateTime;

use crate::error::Error;
use crate::headers::{HeaderSource, WebhookHeaders};
use crate::secret::{HmacSha256, Secret, SecretError};
use crate::signature::Candidates;
use crate::timestamp;

/// The default tolerance between a message's timestamp and the receiver's clock: 5 minutes,
/// as in every reference library.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// One trusted key: a pre-keyed HMAC state or a public key, and when it stops being trusted.
#[derive(Clone)]
struct Key {
    kind: KeyKind,
    expires_at: Option<OffsetDateTime>,
}

#[derive(Clone)]
enum KeyKind {
    /// Checks `v1` entries.
    Hmac(HmacSha256),
    /// Checks `v1a` entries.
    #[cfg(feature = "ed25519")]
    Ed25519(crate::asymmetric::PublicKey),
}

impl Key {
    /// Trusted strictly before `expires_at` (RFC 7519 `exp` semantics).
    fn in_force(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// The headers of a delivery that passed the checks needing no body.
struct Prepared<'h> {
    id: &'h str,
    /// The timestamp exactly as received (it is signed as such).
    timestamp: &'h [u8],
    at: OffsetDateTime,
    signature_header: &'static str,
}

struct Inner {
    keys: Box<[Key]>,
    tolerance: Duration,
}

/// Verifies Standard Webhooks deliveries under one or several keys.
///
/// Cheap to clone (the keys are shared behind an `Arc`), `Send + Sync`, and built once at
/// start-up: each key's HMAC state is prepared then, so a verification costs one HMAC pass over
/// the body per key tried and allocates nothing.
///
/// ```
/// use standard_webhooks::{Secret, Signer, Verifier};
/// use time::OffsetDateTime;
///
/// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let verifier = Verifier::builder().secret(secret.clone()).build()?;
///
/// // What the sender does:
/// let now = OffsetDateTime::now_utc();
/// let body = br#"{"type":"loan.active","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
/// let headers = Signer::new(secret).headers("msg_2Kq8", now.unix_timestamp(), body);
///
/// // What the receiver does:
/// let msg = verifier.verify_at(&headers, body, now)?;
/// assert_eq!(msg.id(), "msg_2Kq8");
/// assert_eq!(msg.body(), body);
/// # Ok::<(), standard_webhooks::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

/// A delivery that passed verification: its id, timestamp and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    id: &'a str,
    timestamp: OffsetDateTime,
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// The `webhook-id`: the same on every retry of one event, so the idempotency key.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The `webhook-timestamp` of this attempt.
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// The body bytes exactly as verified.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

impl Verifier {
    /// Starts building a verifier.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder::default()
    }

    /// Verifies a delivery against the system clock.
    ///
    /// See [`verify_at`](Self::verify_at).
    pub fn verify<'a, H: HeaderSource + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
    ) -> Result<Message<'a>, Error> {
        self.verify_at(headers, body, OffsetDateTime::now_utc())
    }

    /// Verifies a delivery as of `now`, without reading the system clock.
    ///
    /// In order: the three headers are read (`webhook-*`, or the `svix-*` set when no
    /// `webhook-*` header is present); the timestamp is parsed and checked against the
    /// tolerance; the signature entries are read. Only then is the body hashed, once per key in
    /// force at `now`, until one entry matches. A missing header, a stale timestamp or a header
    /// without a well-formed entry is rejected without hashing the body.
    ///
    /// Each computed tag is compared with every well-formed entry in constant time, so a
    /// rejection takes the same time whatever the forged entries hold. The search stops at the
    /// first key that matches: that only reveals which key signed a genuine delivery, to
    /// someone who already holds it (the crate's `SECURITY.md` explains this and the limits).
    pub fn verify_at<'a, H: HeaderSource + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: OffsetDateTime,
    ) -> Result<Message<'a>, Error> {
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;

        // `.timestamp.` in one piece on the stack: one `update` instead of three.
        let mut buf = [b'.'; 24];
        let dotted = buf
            .get_mut(1..=h.timestamp.len())
            .map(|digits| digits.copy_from_slice(h.timestamp))
            .and(buf.get(..h.timestamp.len() + 2));

        let mut keys = 0;
        if candidates.len() > 0 {
            for key in self.inner.keys.iter().filter(|k| k.in_force(now)) {
                keys += 1;
                let matched = match &key.kind {
                    KeyKind::Hmac(mac) => {
                        !candidates.v1().is_empty() && {
                            let mut mac = mac.clone();
                            mac.update(h.id.as_bytes());
                            match dotted {
                                Some(dotted) => mac.update(dotted),
                                None => {
                                    mac.update(b".");
                                    mac.update(h.timestamp);
                                    mac.update(b".");
                                }
                            }
                            mac.update(body);
                            let tag: [u8; 32] = mac.finalize().into_bytes().into();
                            candidates.matches_v1(&tag)
                        }
                    }
                    #[cfg(feature = "ed25519")]
                    KeyKind::Ed25519(pk) => {
                        let parts = [h.id.as_bytes(), b".", h.timestamp, b".", body];
                        candidates
                            .v1a()
                            .iter()
                            .any(|sig| pk.verify_strict(&parts, sig))
                    }
                };
                if matched {
                    return Ok(Message {
                        id: h.id,
                        timestamp: h.at,
                        body,
                    });
                }
            }
        } else {
            keys = self.keys_in_force(now);
        }
        Err(Error::NoMatchingSignature {
            header: h.signature_header,
            entries: candidates.len(),
            keys,
        })
    }

    /// Runs every check that needs no body, as of `now`: the headers are present and well
    /// formed, the timestamp is within the tolerance, the signature header holds at least one
    /// well-formed entry, and a key is in force (otherwise [`Error::NoMatchingSignature`] with
    /// `entries` or `keys` at 0). Nothing is hashed.
    ///
    /// Web-framework integrations call it before reading a request body, so that a request
    /// without valid headers costs no buffering; [`verify_at`](Self::verify_at) still makes
    /// the full decision once the body is there.
    ///
    /// ```
    /// use standard_webhooks::{Error, Secret, Signer, Verifier};
    /// use time::OffsetDateTime;
    ///
    /// let secret = Secret::from_bytes([7; 32])?;
    /// let verifier = Verifier::builder().secret(secret.clone()).build()?;
    /// let now = OffsetDateTime::now_utc();
    /// let headers = Signer::new(secret).headers("msg_1", now.unix_timestamp(), b"{}");
    /// assert!(verifier.check_headers_at(&headers, now).is_ok());
    /// let unsigned = [("webhook-id", "msg_1")];
    /// assert!(matches!(verifier.check_headers_at(&unsigned, now), Err(Error::MissingHeader { .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn check_headers_at<H: HeaderSource + ?Sized>(
        &self,
        headers: &H,
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;
        let keys = self.keys_in_force(now);
        if candidates.len() == 0 || keys == 0 {
            return Err(Error::NoMatchingSignature {
                header: h.signature_header,
                entries: candidates.len(),
                keys,
            });
        }
        Ok(())
    }

    /// Steps 1 to 3 of a verification: reads the headers, checks the timestamp window, and
    /// decodes the signature entries into `candidates` (built in place by the caller).
    fn prepare<'h, H: HeaderSource + ?Sized>(
        &self,
        headers: &'h H,
        now: OffsetDateTime,
        candidates: &mut Candidates,
    ) -> Result<Prepared<'h>, Error> {
        let h = WebhookHeaders::read(headers)?;
        let ts = timestamp::parse(h.timestamp).ok_or(Error::InvalidTimestamp {
            header: h.family.timestamp,
        })?;
        timestamp::check_window(ts, now.unix_timestamp(), self.inner.tolerance)?;
        let at = OffsetDateTime::from_unix_timestamp(ts).map_err(|_| Error::InvalidTimestamp {
            header: h.family.timestamp,
        })?;
        candidates.read(h.signatures, h.family.signature)?;
        Ok(Prepared {
            id: h.id,
            timestamp: h.timestamp,
            at,
            signature_header: h.family.signature,
        })
    }

    /// How many keys the verifier holds, retiring ones included.
    pub fn key_count(&self) -> usize {
        self.inner.keys.len()
    }

    /// How many keys are trusted at `now` (retiring keys past their expiry are not).
    pub fn keys_in_force(&self, now: OffsetDateTime) -> usize {
        self.inner.keys.iter().filter(|k| k.in_force(now)).count()
    }

    /// The tolerance between a message's timestamp and the clock, in both directions.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let retiring = self
            .inner
            .keys
            .iter()
            .filter(|k| k.expires_at.is_some())
            .count();
        f.debug_struct("Verifier")
            .field("keys", &self.inner.keys.len())
            .field("retiring", &retiring)
            .field("tolerance", &self.inner.tolerance)
            .finish()
    }
}

/// Builds a [`Verifier`]; obtained from [`Verifier::builder`].
#[derive(Clone)]
pub struct VerifierBuilder {
    keys: Vec<Key>,
    tolerance: Duration,
}

impl Default for VerifierBuilder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

impl fmt::Debug for VerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifierBuilder")
            .field("keys", &self.keys.len())
            .field("tolerance", &self.tolerance)
            .finish()
    }
}

impl VerifierBuilder {
    /// Trusts a key. Repeatable: a delivery verifies if it matches any trusted key.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.keys.push(Key {
            kind: KeyKind::Hmac(secret.hmac()),
            expires_at: None,
        });
        self
    }

    /// Trusts a retiring key until `expires_at` (exclusive), judged at the `now` of each call.
    ///
    /// After a sender rotates a secret it signs with both the old and the new one for a grace
    /// period (Dinie: `expire_current_in`, one hour by default). Give the new key to
    /// [`secret`](Self::secret) and the old one here, with the end of the grace period; no
    /// restart is needed when it passes.
    pub fn secret_until(mut self, secret: Secret, expires_at: OffsetDateTime) -> Self {
        self.keys.push(Key {
            kind: KeyKind::Hmac(secret.hmac()),
            expires_at: Some(expires_at),
        });
        self
    }

    /// Trusts an Ed25519 public key for `v1a` entries. Repeatable, and may be combined with
    /// secrets (as during a sender's move from one scheme to the other): `v1` entries are
    /// checked only against secrets, `v1a` entries only against public keys.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn public_key(mut self, key: crate::asymmetric::PublicKey) -> Self {
        self.keys.push(Key {
            kind: KeyKind::Ed25519(key),
            expires_at: None,
        });
        self
    }

    /// Trusts a retiring Ed25519 public key until `expires_at` (exclusive), like
    /// [`secret_until`](Self::secret_until).
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn public_key_until(
        mut self,
        key: crate::asymmetric::PublicKey,
        expires_at: OffsetDateTime,
    ) -> Self {
        self.keys.push(Key {
            kind: KeyKind::Ed25519(key),
            expires_at: Some(expires_at),
        });
        self
    }

    /// Trusts every key of a configuration string, such as one environment variable.
    ///
    /// Entries are separated by whitespace or commas. Each is a secret (`whsec_…`; with the
    /// `ed25519` feature also a public key, `whpk_…`), optionally followed by `@` and an
    /// RFC 3339 date-time, for a retiring key trusted until then:
    ///
    /// ```
    /// use standard_webhooks::Verifier;
    ///
    /// let config = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD, \
    ///               whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@2026-11-27T01:00:00Z";
    /// let verifier = Verifier::builder().secrets_from_config(config)?.build()?;
    /// assert_eq!(verifier.key_count(), 2);
    /// # Ok::<(), standard_webhooks::Error>(())
    /// ```
    ///
    /// An error names what is wrong with an entry, never the entry itself.
    pub fn secrets_from_config(mut self, config: &str) -> Result<Self, Error> {
        let entries = config
            .split(|c: char| c == ',' || c.is_ascii_whitespace())
            .filter(|e| !e.is_empty());
        for entry in entries {
            let (key, expires_at) = match entry.split_once('@') {
                None => (entry, None),
                Some((key, expiry)) => {
                    let at = OffsetDateTime::parse(
                        expiry,
                        &time::format_description::well_known::Rfc3339,
                    )
                    .map_err(|_| SecretError::InvalidExpiry)?;
                    (key, Some(at))
                }
            };
            #[cfg(feature = "ed25519")]
            if key.starts_with(crate::asymmetric::PUBLIC_KEY_PREFIX) {
                self.keys.push(Key {
                    kind: KeyKind::Ed25519(key.parse()?),
                    expires_at,
                });
                continue;
            }
            let secret: Secret = key.parse()?;
            self.keys.push(Key {
                kind: KeyKind::Hmac(secret.hmac()),
                expires_at,
            });
        }
        Ok(self)
    }

    /// The tolerance between a message's timestamp and the receiver's clock, applied in both
    /// directions and inclusive (default 300 s). Sub-second parts are ignored, since
    /// timestamps are whole seconds.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Builds the verifier. Fails with [`Error::NoKeys`] when no key was added.
    pub fn build(mut self) -> Result<Verifier, Error> {
        if self.keys.is_empty() {
            return Err(Error::NoKeys);
        }
        // Keys are tried in this order and each try hashes the body, so the key a sender most
        // likely signs with comes first: current keys (in the order added), then retiring ones,
        // the one retired last first. Which keys match does not depend on the order.
        self.keys
            .sort_by(|a, b| match (a.expires_at, b.expires_at) {
                (None, None) => core::cmp::Ordering::Equal,
                (None, Some(_)) => core::cmp::Ordering::Less,
                (Some(_), None) => core::cmp::Ordering::Greater,
                (Some(a), Some(b)) => b.cmp(&a),
            });
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys: self.keys.into_boxed_slice(),
                tolerance: self.tolerance,
            }),
        })
    }
}
