//! The multi-key verifier and its builder.

use core::fmt;
use core::time::Duration;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::Mac as _;
use time::OffsetDateTime;

use crate::error::Error;
use crate::headers::{HeaderSource, WebhookHeaders, signature_values};
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
    fn in_force(&self, now: Now) -> bool {
        self.expires_at
            .is_none_or(|at| now.nanos < at.unix_timestamp_nanos())
    }
}

/// The instant a verification is judged at: Unix seconds for the timestamp window, nanoseconds
/// for key expiry.
///
/// [`Verifier::verify`] builds it straight from the system clock, without the calendar
/// arithmetic of an `OffsetDateTime` that it would only take apart again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    secs: i64,
    nanos: i128,
}

impl Now {
    pub(crate) fn at(now: OffsetDateTime) -> Self {
        Self {
            secs: now.unix_timestamp(),
            nanos: now.unix_timestamp_nanos(),
        }
    }

    /// The system clock, as `OffsetDateTime::now_utc` reads it.
    pub(crate) fn system() -> Self {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(after) => Self::from_epoch(after, false),
            Err(before) => Self::from_epoch(before.duration(), true),
        }
    }

    /// The instant `since` after (or, if `before`, before) the Unix epoch.
    fn from_epoch(since: Duration, before: bool) -> Self {
        const NANOS_PER_SEC: i128 = 1_000_000_000;
        let whole = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
        let part = since.subsec_nanos();
        let nanos = i128::from(whole) * NANOS_PER_SEC + i128::from(part);
        if before {
            // Whole seconds rounded towards minus infinity, like `unix_timestamp`.
            Self {
                secs: whole.saturating_neg().saturating_sub(i64::from(part > 0)),
                nanos: -nanos,
            }
        } else {
            Self { secs: whole, nanos }
        }
    }
}

/// A delivery whose headers passed [`Verifier::begin`]: what [`Verifier::finish`] needs.
pub(crate) struct Pending<'h> {
    h: Prepared<'h>,
    candidates: Candidates<'h>,
    /// When the headers were judged.
    now: Now,
}

/// The headers of a delivery that passed the checks needing no body.
struct Prepared<'h> {
    id: &'h str,
    /// The timestamp exactly as received (it is signed as such).
    timestamp: &'h [u8],
    /// The timestamp in Unix seconds, known to be a date `OffsetDateTime` can hold.
    at: i64,
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
    /// Unix seconds, within `timestamp::DATE_RANGE` (converted only when asked for).
    timestamp: i64,
    body: &'a [u8],
}

impl<'a> Message<'a> {
    /// The `webhook-id`: the same on every retry of one event, so the idempotency key.
    pub fn id(&self) -> &'a str {
        self.id
    }

    /// The `webhook-timestamp` of this attempt.
    pub fn timestamp(&self) -> OffsetDateTime {
        // Verification checked that the value is in range, so the fallback is never taken.
        OffsetDateTime::from_unix_timestamp(self.timestamp).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The `webhook-timestamp` of this attempt, in Unix seconds as received.
    pub fn unix_timestamp(&self) -> i64 {
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
        self.verify_now(headers, body, Now::system())
    }

    /// Verifies a delivery as of `now`, without reading the system clock.
    ///
    /// In order: the three headers are read (`webhook-*`, or the `svix-*` set when no
    /// `webhook-*` header is present); the timestamp is parsed and checked against the
    /// tolerance; the signature entries are read. Only then is the body hashed, once per key in
    /// force at `now`, until one entry matches. A missing header, a stale timestamp or a
    /// signature header without an entry of a usable shape (`v1,` and 44 characters, or `v1a,`
    /// and the canonical base64 of 64 bytes) is rejected without hashing the body.
    ///
    /// Each computed tag is encoded once, as canonical padded base64, and compared with the
    /// text of every `v1` entry in constant time: an entry matches exactly when it decodes to
    /// the tag, and a rejection takes the same time whatever the forged entries hold. The
    /// search stops at the first key that matches: that only reveals which key signed a
    /// genuine delivery, to someone who already holds it (the crate's `SECURITY.md` explains
    /// this and the limits).
    pub fn verify_at<'a, H: HeaderSource + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: OffsetDateTime,
    ) -> Result<Message<'a>, Error> {
        self.verify_now(headers, body, Now::at(now))
    }

    /// [`verify_at`](Self::verify_at) as of `now`.
    fn verify_now<'a, H: HeaderSource + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: Now,
    ) -> Result<Message<'a>, Error> {
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;
        self.decide(&h, &candidates, now, body)
    }

    /// The checks of a verification that need no body, for a framework integration that
    /// still has to buffer it: [`Error::NoMatchingSignature`] also when no entry can match or
    /// no key is in force, since the body would be wasted. [`finish`](Self::finish) then
    /// decides, with no header read twice.
    pub(crate) fn begin<'h, H: HeaderSource + ?Sized>(
        &self,
        headers: &'h H,
        now: Now,
    ) -> Result<Pending<'h>, Error> {
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;
        // `finish` goes through the keys in force anyway: here only whether there is one, and
        // the count only for the error.
        if candidates.is_empty() || !self.inner.keys.iter().any(|k| k.in_force(now)) {
            return Err(Error::NoMatchingSignature {
                header: h.signature_header,
                entries: candidates.well_formed(),
                keys: self.keys_in_force_now(now),
            });
        }
        Ok(Pending { h, candidates, now })
    }

    /// Verifies the body of a delivery whose headers passed [`begin`](Self::begin).
    ///
    /// `later` is the time the body was complete, if reading it had to wait for the client:
    /// the timestamp is then checked against the window again, and keys are judged in force
    /// at that time. `begin` judged the timestamp when the headers arrived, and a body
    /// trickled in slowly must not stretch the window: a captured delivery could otherwise be
    /// replayed long after `T + tolerance`, past the time a receiver is told to remember its
    /// id. `None` (the body was in memory already) decides as of `begin`'s time.
    #[cfg(any(feature = "axum", feature = "actix-web"))]
    pub(crate) fn finish<'a>(
        &self,
        pending: &Pending<'a>,
        body: &'a [u8],
        later: Option<Now>,
    ) -> Result<Message<'a>, Error> {
        let now = match later {
            Some(now) => {
                timestamp::check_window(pending.h.at, now.secs, self.inner.tolerance)?;
                now
            }
            None => pending.now,
        };
        self.decide(&pending.h, &pending.candidates, now, body)
    }

    /// Step 4: hashes the body once per key in force until one matches an entry.
    fn decide<'a>(
        &self,
        h: &Prepared<'a>,
        candidates: &Candidates<'a>,
        now: Now,
        body: &'a [u8],
    ) -> Result<Message<'a>, Error> {
        // `.timestamp.` in one piece on the stack: one `update` instead of three.
        let mut buf = [b'.'; 24];
        let dotted = buf
            .get_mut(1..=h.timestamp.len())
            .map(|digits| digits.copy_from_slice(h.timestamp))
            .and(buf.get(..h.timestamp.len() + 2));

        let mut keys = 0;
        if !candidates.is_empty() {
            for key in self.inner.keys.iter().filter(|k| k.in_force(now)) {
                keys += 1;
                let matched = match &key.kind {
                    KeyKind::Hmac(mac) => {
                        candidates.has_v1()
                            && candidates.matches_v1(&hmac_tag(
                                mac,
                                h.id,
                                dotted,
                                h.timestamp,
                                body,
                            ))
                    }
                    #[cfg(feature = "ed25519")]
                    KeyKind::Ed25519(pk) => {
                        let parts = [h.id.as_bytes(), b".", h.timestamp, b".", body];
                        candidates.v1a().any(|sig| pk.verify_strict(&parts, &sig))
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
            keys = self.keys_in_force_now(now);
        }
        Err(Error::NoMatchingSignature {
            header: h.signature_header,
            entries: candidates.well_formed(),
            keys,
        })
    }

    /// Runs every check that needs no body, as of `now`: the headers are present and well
    /// formed, the timestamp is within the tolerance, the signature header holds at least one
    /// well-formed entry, and a key is in force (otherwise [`Error::NoMatchingSignature`] with
    /// `entries` or `keys` at 0). Nothing is hashed.
    ///
    /// A web-framework integration calls it before reading a request body, so that a request
    /// without valid headers costs no buffering; [`verify_at`](Self::verify_at) still makes
    /// the full decision once the body is there. (This crate's own extractors keep the
    /// checked headers for that decision instead of reading them twice.)
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
        // `begin` refuses when no entry has a usable shape; this also requires one that
        // decodes.
        let pending = self.begin(headers, Now::at(now))?;
        if pending.candidates.well_formed() == 0 {
            return Err(Error::NoMatchingSignature {
                header: pending.h.signature_header,
                entries: 0,
                keys: self.keys_in_force_now(pending.now),
            });
        }
        Ok(())
    }

    /// Steps 1 to 3 of a verification: reads the headers, checks the timestamp window, and
    /// decodes the signature entries into `candidates` (built in place by the caller).
    fn prepare<'h, H: HeaderSource + ?Sized>(
        &self,
        headers: &'h H,
        now: Now,
        candidates: &mut Candidates<'h>,
    ) -> Result<Prepared<'h>, Error> {
        let h = WebhookHeaders::read(headers)?;
        let ts = timestamp::parse(h.timestamp).ok_or(Error::InvalidTimestamp {
            header: h.family.timestamp,
        })?;
        timestamp::check_window(ts, now.secs, self.inner.tolerance)?;
        if !timestamp::DATE_RANGE.contains(&ts) {
            return Err(Error::InvalidTimestamp {
                header: h.family.timestamp,
            });
        }
        let mut seen = 0;
        if h.more_signatures {
            for value in signature_values(headers, h.family.signature) {
                candidates.read_value(value, &mut seen, h.family.signature)?;
            }
        } else {
            candidates.read_value(h.signature, &mut seen, h.family.signature)?;
        }
        Ok(Prepared {
            id: h.id,
            timestamp: h.timestamp,
            at: ts,
            signature_header: h.family.signature,
        })
    }

    /// How many keys the verifier holds, retiring ones included.
    pub fn key_count(&self) -> usize {
        self.inner.keys.len()
    }

    /// How many keys are trusted at `now` (retiring keys past their expiry are not).
    pub fn keys_in_force(&self, now: OffsetDateTime) -> usize {
        self.keys_in_force_now(Now::at(now))
    }

    fn keys_in_force_now(&self, now: Now) -> usize {
        self.inner.keys.iter().filter(|k| k.in_force(now)).count()
    }

    /// The tolerance between a message's timestamp and the clock, in both directions.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }
}

/// The HMAC of `id.timestamp.body` from a pre-keyed state; `dotted` is `.timestamp.` when it
/// fitted the caller's buffer.
///
/// Kept out of line: inlined into the verifier, whose frame is large, the compiler calls the
/// finalization out of line instead and moves the whole HMAC state into it; here everything
/// stays in one small frame, as in a plain HMAC computation.
#[inline(never)]
fn hmac_tag(
    keyed: &HmacSha256,
    id: &str,
    dotted: Option<&[u8]>,
    timestamp: &[u8],
    body: &[u8],
) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(id.as_bytes());
    match dotted {
        Some(dotted) => mac.update(dotted),
        None => {
            mac.update(b".");
            mac.update(timestamp);
            mac.update(b".");
        }
    }
    mac.update(body);
    mac.finalize().into_bytes().into()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_now_agrees_with_offset_date_time() {
        let before = Now::at(OffsetDateTime::now_utc());
        let now = Now::system();
        let after = Now::at(OffsetDateTime::now_utc());
        assert!(before.nanos <= now.nanos && now.nanos <= after.nanos);
        assert!(before.secs <= now.secs && now.secs <= after.secs);
        assert_eq!(
            now.secs,
            i64::try_from(now.nanos.div_euclid(1_000_000_000)).unwrap()
        );
    }

    #[test]
    fn from_epoch_agrees_with_offset_date_time() {
        for nanos in [
            0i128,
            1,
            999_999_999,
            1_000_000_000,
            1_764_244_800_123_456_789,
            -1,
            -999_999_999,
            -1_000_000_000,
            -1_000_000_001,
            -1_500_000_000,
            -62_135_596_800_000_000_000,
        ] {
            let abs = nanos.unsigned_abs();
            let since = Duration::new(
                u64::try_from(abs / 1_000_000_000).unwrap(),
                u32::try_from(abs % 1_000_000_000).unwrap(),
            );
            let got = Now::from_epoch(since, nanos < 0);
            let want = Now::at(OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap());
            assert_eq!((got.secs, got.nanos), (want.secs, want.nanos), "{nanos}");
        }
    }

    #[test]
    fn check_headers_at_requires_a_well_formed_entry_and_a_key() {
        let secret = Secret::from_bytes([7; 32]).unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let ts = now.unix_timestamp().to_string();
        let verifier = Verifier::builder().secret(secret.clone()).build().unwrap();
        let signed =
            crate::Signer::new(secret.clone()).headers("msg_1", now.unix_timestamp(), b"{}");
        assert_eq!(verifier.check_headers_at(&signed, now), Ok(()));

        let header = |signature: &str| {
            [
                ("webhook-id", "msg_1".to_owned()),
                ("webhook-timestamp", ts.clone()),
                ("webhook-signature", signature.to_owned()),
            ]
        };
        let no_entry = Err(Error::NoMatchingSignature {
            header: "webhook-signature",
            entries: 0,
            keys: 1,
        });
        // No entry of a usable shape, and one of the right length that is not base64.
        assert_eq!(verifier.check_headers_at(&header("v2,abc"), now), no_entry);
        let not_base64 = format!("v1,{}", "*".repeat(44));
        assert_eq!(
            verifier.check_headers_at(&header(&not_base64), now),
            no_entry
        );

        let expired = Verifier::builder()
            .secret_until(secret, now)
            .build()
            .unwrap();
        assert_eq!(
            expired.check_headers_at(&signed, now),
            Err(Error::NoMatchingSignature {
                header: "webhook-signature",
                entries: 1,
                keys: 0,
            })
        );
        assert!(matches!(
            verifier.check_headers_at(&signed, now + time::Duration::minutes(10)),
            Err(Error::TimestampTooOld { .. })
        ));
    }

    #[test]
    fn now_before_the_epoch_rounds_down() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000_000).unwrap();
        let now = Now::at(t);
        assert_eq!((now.secs, now.nanos), (-2, -1_500_000_000));
    }
}
