//! The multi-key verifier and its builder.

use core::fmt;
use core::time::Duration;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use hmac::Mac as _;
use time::OffsetDateTime;

use crate::error::Error;
use crate::fingerprint::Fingerprint;
use crate::headers::{HeaderSource, WebhookHeaders, signature_values};
use crate::keys::{Key, KeyInfo, KeyList, KeySet, Material, check_duplicates};
use crate::secret::{HmacSha256, Secret};
use crate::signature::Candidates;
use crate::timestamp;

/// The default tolerance between a message's timestamp and the receiver's clock: 5 minutes,
/// as in every reference library.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

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
    /// Unix nanoseconds, as key expiries are compared.
    pub(crate) fn nanos(self) -> i128 {
        self.nanos
    }

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
    /// The keys as they were then: a request finishes with the keys it started with, whatever
    /// changes meanwhile.
    keys: Arc<KeySet>,
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

/// The most keys past their expiry that [`Verifier::rotate`] keeps (the latest to expire), so
/// that a diagnosis can still name a delivery signed by one, while a verifier rotated every few
/// minutes does not grow without bound.
const EXPIRED_KEPT: usize = 4;

struct Inner {
    /// Swapped whole when keys change; read without a lock.
    keys: ArcSwap<KeySet>,
    tolerance: Duration,
    /// Serializes changes to `keys` (two rotations at once must not lose one); verification
    /// never takes it.
    changes: Mutex<()>,
}

/// Verifies Standard Webhooks deliveries under one or several keys.
///
/// Cheap to clone, `Send + Sync`. Every clone shares the same keys: a key installed with
/// [`rotate`](Self::rotate) or [`reload_from_config`](Self::reload_from_config) is seen at once
/// by every clone (axum state, actix-web `web::Data`, the idempotency layer), with no restart.
/// Each key's HMAC state is prepared when the key is loaded, so a verification costs one HMAC
/// pass over the body per key tried, takes no lock and allocates nothing.
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

/// A delivery that passed [`Verifier::verify`]: its id, timestamp and body, borrowed from the
/// request, and the fingerprint of the key that verified it.
///
/// The framework integrations hand over the same facts as an owned
/// [`Delivery`](crate::Delivery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    id: &'a str,
    /// Unix seconds, within `timestamp::DATE_RANGE` (converted only when asked for).
    timestamp: i64,
    body: &'a [u8],
    key: Fingerprint,
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

    /// The [fingerprint](Fingerprint) of the key that verified the delivery: after a rotation,
    /// it shows whether the sender still signs with the old key.
    pub fn key_fingerprint(&self) -> Fingerprint {
        self.key
    }

    /// An owned copy, to hand to another task or a queue: the id, timestamp and key, with the
    /// body copied into shared bytes.
    ///
    /// ```
    /// use standard_webhooks::{Secret, Signer, Verifier};
    ///
    /// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    /// let verifier = Verifier::builder().secret(secret.clone()).build()?;
    /// let now = time::OffsetDateTime::now_utc();
    /// let headers = Signer::new(secret).headers("msg_1", now.unix_timestamp(), b"{}");
    /// let delivery = verifier.verify_at(&headers, b"{}", now)?.to_delivery();
    /// std::thread::spawn(move || assert_eq!(delivery.id, "msg_1")).join().unwrap();
    /// # Ok::<(), standard_webhooks::Error>(())
    /// ```
    pub fn to_delivery(&self) -> crate::Delivery {
        crate::Delivery::new(self, bytes::Bytes::copy_from_slice(self.body), None)
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
        self.verify_with(|| self.inner.keys.load(), headers, body, now)
    }

    /// [`verify_at`](Self::verify_at) under the key set `keys` gives, taken only once the
    /// headers passed (a delivery refused on its headers costs no load of the keys):
    /// [`explain`](Self::explain) decides and diagnoses with one and the same set.
    pub(crate) fn verify_with<'a, H, K>(
        &self,
        keys: impl FnOnce() -> K,
        headers: &'a H,
        body: &'a [u8],
        now: Now,
    ) -> Result<Message<'a>, Error>
    where
        H: HeaderSource + ?Sized,
        K: core::ops::Deref<Target = Arc<KeySet>>,
    {
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;
        decide(&keys(), headers, &h, &candidates, now, body)
    }

    /// The keys as they are now, for [`explain`](Self::explain).
    pub(crate) fn key_set(&self) -> Arc<KeySet> {
        self.inner.keys.load_full()
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
        let keys = self.inner.keys.load_full();
        let mut candidates = Candidates::new();
        let h = self.prepare(headers, now, &mut candidates)?;
        // `finish` goes through the keys in force anyway: here only whether there is one, and
        // the count only for the error.
        if candidates.is_empty() || !keys.any_in_force(now) {
            return Err(Error::NoMatchingSignature {
                header: h.signature_header,
                entries: candidates.well_formed(|| signature_values(headers, h.signature_header)),
                keys: keys.count_in_force(now),
            });
        }
        Ok(Pending {
            h,
            candidates,
            now,
            keys,
        })
    }

    /// Verifies the body of a delivery whose headers passed [`begin`](Self::begin).
    ///
    /// `later` is the time the body was complete, if reading it had to wait for the client:
    /// the timestamp is then checked against the window again, and keys are judged in force
    /// at that time. `begin` judged the timestamp when the headers arrived, and a body
    /// trickled in slowly must not stretch the window: a captured delivery could otherwise be
    /// replayed long after `T + tolerance`, past the time a receiver is told to remember its
    /// id. `None` (the body was in memory already) decides as of `begin`'s time.
    #[cfg(any(feature = "axum", feature = "actix-web", feature = "tower"))]
    pub(crate) fn finish<'a, H: HeaderSource + ?Sized>(
        &self,
        pending: &Pending<'a>,
        headers: &'a H,
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
        decide(
            &pending.keys,
            headers,
            &pending.h,
            &pending.candidates,
            now,
            body,
        )
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
        let header = pending.h.signature_header;
        if pending
            .candidates
            .well_formed(|| signature_values(headers, header))
            == 0
        {
            return Err(Error::NoMatchingSignature {
                header,
                entries: 0,
                keys: pending.keys.count_in_force(pending.now),
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
        // `ok_or_else`: an `Error` has drop glue, so one built eagerly costs a drop on success
        // (clippy counts only the cost of building it).
        #[allow(clippy::unnecessary_lazy_evaluations)]
        let ts = timestamp::parse(h.timestamp).ok_or_else(|| Error::InvalidTimestamp {
            header: h.family.timestamp,
        })?;
        timestamp::check_window(ts, now.secs, self.inner.tolerance)?;
        if !timestamp::DATE_RANGE.contains(&ts) {
            return Err(Error::InvalidTimestamp {
                header: h.family.timestamp,
            });
        }
        if h.more_signatures {
            for value in signature_values(headers, h.family.signature) {
                candidates.read_value(value);
            }
        } else {
            candidates.read_value(h.signature);
        }
        Ok(Prepared {
            id: h.id,
            timestamp: h.timestamp,
            at: ts,
            signature_header: h.family.signature,
        })
    }

    /// How many keys the verifier holds, retiring and expired ones included.
    pub fn key_count(&self) -> usize {
        self.inner.keys.load().keys().len()
    }

    /// How many keys are trusted at `now` (retiring keys past their expiry are not).
    pub fn keys_in_force(&self, now: OffsetDateTime) -> usize {
        self.inner.keys.load().count_in_force(Now::at(now))
    }

    /// The keys the verifier holds, in the order they are tried: each one's fingerprint, kind
    /// and expiry, never the key itself. For logs and health checks: a key past its expiry is
    /// listed (and never trusted) until a rotation or reload drops it.
    pub fn keys(&self) -> Vec<KeyInfo> {
        self.inner.keys.load().infos()
    }

    /// The tolerance between a message's timestamp and the clock, in both directions.
    pub fn tolerance(&self) -> Duration {
        self.inner.tolerance
    }

    /// Installs the new secret of a rotation, for every clone of this verifier at once.
    ///
    /// `new` becomes a current key; every other current secret becomes retiring, trusted until
    /// now + `grace` (a retiring secret that expires earlier keeps its expiry). This mirrors
    /// the sender's rotation, which signs with the old and the new secret for a grace period
    /// (Dinie: `expire_current_in`, 3600 s by default): pass the same period. Public keys are
    /// not touched (see [`rotate_public_key`](Self::rotate_public_key)), so a verifier trusting
    /// both schemes during a sender's move between them keeps the other one. Rotating to a key
    /// that is current already changes nothing but the other current secrets.
    ///
    /// Deliveries being verified finish with the keys they started with; the next ones see the
    /// new set. Of the keys past their expiry, the four that expired last are kept (listed by
    /// [`keys`](Self::keys), never trusted).
    ///
    /// ```
    /// use std::time::Duration;
    /// use standard_webhooks::{Secret, Signer, Verifier};
    ///
    /// let old: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    /// let new: Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse()?;
    /// let verifier = Verifier::builder().secret(old.clone()).build()?;
    /// let in_the_app = verifier.clone(); // e.g. the router's state
    ///
    /// verifier.rotate(new.clone(), Duration::from_secs(3600));
    ///
    /// let now = time::OffsetDateTime::now_utc();
    /// let body = b"{}";
    /// for key in [old, new] {
    ///     let headers = Signer::new(key).headers("msg_1", now.unix_timestamp(), body);
    ///     assert!(in_the_app.verify_at(&headers, body, now).is_ok());
    /// }
    /// // An hour later, only the new secret is trusted.
    /// assert_eq!(in_the_app.keys_in_force(now + time::Duration::hours(1)), 1);
    /// # Ok::<(), standard_webhooks::Error>(())
    /// ```
    pub fn rotate(&self, new: Secret, grace: Duration) {
        self.install(Key::secret(&new, None), grace);
    }

    /// [`rotate`](Self::rotate) for an Ed25519 public key (`v1a`): `new` becomes current, every
    /// other current public key retires after `grace`; secrets are not touched.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn rotate_public_key(&self, new: crate::asymmetric::PublicKey, grace: Duration) {
        self.install(Key::public_key(new, None), grace);
    }

    /// `rotate` for a prepared key.
    fn install(&self, new: Key, grace: Duration) {
        let now = OffsetDateTime::now_utc();
        let until = now.checked_add(time::Duration::try_from(grace).unwrap_or(time::Duration::MAX));
        let retire = |at: Option<OffsetDateTime>| match (at, until) {
            (Some(at), Some(until)) => Some(at.min(until)),
            (at, None) => at,
            (None, until) => until,
        };
        let _changing = self
            .inner
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.inner.keys.load();
        let kind = new.kind();
        let mut keys = vec![new.clone()];
        for key in current.keys() {
            if key.kind() == kind && key.fingerprint == new.fingerprint {
                continue;
            }
            let key = key.clone();
            keys.push(if key.kind() == kind {
                let expires_at = retire(key.expires_at);
                key.until(expires_at)
            } else {
                key
            });
        }
        drop_expired_beyond(&mut keys, Now::at(now));
        let keys = KeySet::new(keys);
        log_key_set("webhook key rotated", &keys, now);
        self.inner.keys.store(Arc::new(keys));
    }

    /// Replaces every key with those of `config` (the syntax of
    /// [`VerifierBuilder::secrets_from_config`]), for every clone of this verifier at once.
    ///
    /// All or nothing: a configuration that does not parse, holds a key twice, or leaves no key
    /// in force now changes nothing, and the error says why (naming the entry, never its key).
    /// Deliveries being verified finish with the keys they started with. The keys already in
    /// force (a file rewritten as it was) change nothing either, and are not logged again.
    ///
    /// ```
    /// use standard_webhooks::{Error, Verifier};
    ///
    /// let verifier = Verifier::builder()
    ///     .secrets_from_config("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?
    ///     .build()?;
    /// // The partner rotated: the new secret, and the old one for an hour.
    /// verifier.reload_from_config(
    ///     "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@2099-01-01T00:00:00Z",
    /// )?;
    /// assert_eq!(verifier.key_count(), 2);
    /// // A broken file changes nothing.
    /// assert!(matches!(verifier.reload_from_config("whsec_oops"), Err(Error::ConfigEntry { .. })));
    /// assert_eq!(verifier.key_count(), 2);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn reload_from_config(&self, config: &str) -> Result<(), Error> {
        let (keys, changed) = self.replace_from_config(config)?;
        if changed {
            log_key_set("webhook keys reloaded", &keys, OffsetDateTime::now_utc());
        }
        Ok(())
    }

    /// [`reload_from_config`](Self::reload_from_config) without its log line: the key set in
    /// force once it returns, and whether it is a new one. A configuration of the keys already
    /// in force (the same keys, kinds and expiries) leaves the key set as it is, with the key
    /// that matched last still tried first.
    pub(crate) fn replace_from_config(&self, config: &str) -> Result<(Arc<KeySet>, bool), Error> {
        let now = OffsetDateTime::now_utc();
        let keys = KeySet::checked(crate::config::parse(config)?, now)?;
        let _changing = self
            .inner
            .changes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.inner.keys.load_full();
        let info = |k: &Key| k.info();
        if current
            .keys()
            .iter()
            .map(info)
            .eq(keys.keys().iter().map(info))
        {
            return Ok((current, false));
        }
        let keys = Arc::new(keys);
        self.inner.keys.store(Arc::clone(&keys));
        Ok((keys, true))
    }
}

/// Step 4: hashes the body once per key in force (the hinted one first) until one matches an
/// entry. `headers` gives the signature header's values again when it has more `v1` entries
/// than [`Candidates`] keeps.
fn decide<'a, H: HeaderSource + ?Sized>(
    keys: &KeySet,
    headers: &'a H,
    h: &Prepared<'a>,
    candidates: &Candidates<'a>,
    now: Now,
    body: &'a [u8],
) -> Result<Message<'a>, Error> {
    let values = || signature_values(headers, h.signature_header);
    if candidates.is_empty() {
        return Err(Error::NoMatchingSignature {
            header: h.signature_header,
            entries: candidates.well_formed(values),
            keys: keys.count_in_force(now),
        });
    }
    // `.timestamp.` in one piece on the stack: one `update` instead of three.
    let mut buf = [b'.'; 24];
    let dotted = buf
        .get_mut(1..=h.timestamp.len())
        .map(|digits| digits.copy_from_slice(h.timestamp))
        .and(buf.get(..h.timestamp.len() + 2));
    let found = keys.find(now, |key| match &key.material {
        Material::Hmac(mac) => {
            candidates.has_v1()
                && candidates.matches_v1(
                    &hmac_tag(mac, h.id.as_bytes(), dotted, h.timestamp, body),
                    values,
                )
        }
        #[cfg(feature = "ed25519")]
        Material::Ed25519(pk) => {
            let parts = [h.id.as_bytes(), b".", h.timestamp, b".", body];
            candidates.v1a().any(|sig| pk.verify_strict(&parts, &sig))
        }
    });
    match found {
        Ok(key) => Ok(Message {
            id: h.id,
            timestamp: h.at,
            body,
            key: key.fingerprint,
        }),
        Err(tried) => Err(Error::NoMatchingSignature {
            header: h.signature_header,
            entries: candidates.well_formed(values),
            keys: tried,
        }),
    }
}

/// Logs a key set that was just installed (feature `tracing`): one INFO event naming each key
/// by fingerprint with its state, and a WARN event per key already past its expiry (kept,
/// never trusted: the configuration should drop it).
#[cfg(feature = "tracing")]
fn log_key_set(what: &str, keys: &KeySet, now: OffsetDateTime) {
    tracing::info!(target: "standard_webhooks", keys = %KeyList(&keys.infos(), now), "{what}");
    for key in keys.keys().iter().filter(|k| !k.in_force(Now::at(now))) {
        if let Some(at) = key.expires_at {
            tracing::warn!(
                target: "standard_webhooks",
                key = %key.fingerprint,
                expired_at = %crate::config::rfc3339(at),
                "webhook key past its expiry is kept but never trusted; remove it from the configuration"
            );
        }
    }
}

#[cfg(not(feature = "tracing"))]
#[inline(always)]
fn log_key_set(_: &str, _: &KeySet, _: OffsetDateTime) {}

/// Keeps at most [`EXPIRED_KEPT`] of the keys past their expiry at `now`: those that expired
/// last (ties may keep one more).
fn drop_expired_beyond(keys: &mut Vec<Key>, now: Now) {
    let mut expired: Vec<OffsetDateTime> = keys
        .iter()
        .filter(|k| !k.in_force(now))
        .filter_map(|k| k.expires_at)
        .collect();
    if expired.len() <= EXPIRED_KEPT {
        return;
    }
    expired.sort_unstable_by(|a, b| b.cmp(a));
    if let Some(&oldest_kept) = expired.get(EXPIRED_KEPT.saturating_sub(1)) {
        keys.retain(|k| k.in_force(now) || k.expires_at.is_some_and(|at| at >= oldest_kept));
    }
}

/// The HMAC of `id.timestamp.body` from a pre-keyed state; `dotted` is `.timestamp.` when it
/// fitted the caller's buffer.
///
/// Kept out of line: inlined into the verifier, whose frame is large, the compiler calls the
/// finalization out of line instead and moves the whole HMAC state into it; here everything
/// stays in one small frame, as in a plain HMAC computation.
#[inline(never)]
pub(crate) fn hmac_tag(
    keyed: &HmacSha256,
    id: &[u8],
    dotted: Option<&[u8]>,
    timestamp: &[u8],
    body: &[u8],
) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(id);
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
    /// The keys by fingerprint, each current, retiring (until when) or expired (since when) as
    /// of the system clock, and the tolerance.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let now = OffsetDateTime::now_utc();
        let keys = self.inner.keys.load();
        let shown: Vec<KeyState> = keys
            .keys()
            .iter()
            .map(|k| KeyState(k.info(), now))
            .collect();
        f.debug_struct("Verifier")
            .field("keys", &shown)
            .field("tolerance", &self.inner.tolerance)
            .finish()
    }
}

/// A key as `Verifier`'s `Debug` shows it.
struct KeyState(KeyInfo, OffsetDateTime);

impl fmt::Debug for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self(info, now) = self;
        fmt::Display::fmt(&KeyList(core::slice::from_ref(info), *now), f)
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
        self.keys.push(Key::secret(&secret, None));
        self
    }

    /// Trusts a retiring key until `expires_at` (exclusive), judged at the `now` of each call.
    ///
    /// After a sender rotates a secret it signs with both the old and the new one for a grace
    /// period (Dinie: `expire_current_in`, one hour by default). Give the new key to
    /// [`secret`](Self::secret) and the old one here, with the end of the grace period; no
    /// restart is needed when it passes. (On a running verifier, [`Verifier::rotate`] does
    /// both at once.)
    pub fn secret_until(mut self, secret: Secret, expires_at: OffsetDateTime) -> Self {
        self.keys.push(Key::secret(&secret, Some(expires_at)));
        self
    }

    /// Trusts an Ed25519 public key for `v1a` entries. Repeatable, and may be combined with
    /// secrets (as during a sender's move from one scheme to the other): `v1` entries are
    /// checked only against secrets, `v1a` entries only against public keys.
    #[cfg(feature = "ed25519")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ed25519")))]
    pub fn public_key(mut self, key: crate::asymmetric::PublicKey) -> Self {
        self.keys.push(Key::public_key(key, None));
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
        self.keys.push(Key::public_key(key, Some(expires_at)));
        self
    }

    /// Trusts every key of a configuration string, such as one environment variable or file.
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
    /// An entry that cannot be used is reported as [`Error::ConfigEntry`]: its position, what
    /// it looks like (the prefix, its length, characters that do not belong in a key such as
    /// quotes or `;`) and what is wrong, never the key itself. A key given twice is
    /// [`Error::DuplicateKey`]. A retiring key already past its expiry is kept, never trusted
    /// (a configuration left as it was after a rotation still loads), but a configuration whose
    /// keys have all expired is refused by [`build`](Self::build).
    pub fn secrets_from_config(mut self, config: &str) -> Result<Self, Error> {
        self.keys.extend(crate::config::parse(config)?);
        Ok(self)
    }

    /// Trusts every key of a key file: the syntax of
    /// [`secrets_from_config`](Self::secrets_from_config), with `#` comment lines (see
    /// [`KeyFile`](crate::KeyFile), which also watches the file and applies its changes).
    ///
    /// A file that cannot be read (missing, unreadable, not a regular file, larger than
    /// [`MAX_KEY_FILE_LEN`](crate::MAX_KEY_FILE_LEN), not UTF-8) is
    /// [`Error::KeyFileUnreadable`]; one whose keys cannot be used, or that holds none, is
    /// [`Error::KeyFileInvalid`]. Both name the path and what is wrong, never the file's
    /// contents, so that a service started with a bad file stops at start-up with a message
    /// that can be logged. (A file whose keys have all expired is refused by
    /// [`build`](Self::build), as [`Error::AllKeysExpired`], as a configuration string is.)
    ///
    /// ```
    /// use standard_webhooks::Verifier;
    ///
    /// let path = std::env::temp_dir().join(format!("secrets-from-file-doc-{}", std::process::id()));
    /// std::fs::write(&path, "# Dinie, endpoint we_2Kq8\nwhsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")?;
    /// let verifier = Verifier::builder().secrets_from_file(&path)?.build()?;
    /// assert_eq!(verifier.key_count(), 1);
    /// std::fs::remove_file(&path)?;
    ///
    /// let missing = Verifier::builder().secrets_from_file(&path).unwrap_err();
    /// assert!(missing.to_string().contains("cannot be read"), "{missing}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "reload")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reload")))]
    pub fn secrets_from_file(mut self, path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let invalid = |error| Error::KeyFileInvalid {
            path: path.to_owned(),
            error: Box::new(error),
        };
        let keys = crate::config::parse(&crate::key_file::read_config(path)?).map_err(invalid)?;
        if keys.is_empty() {
            return Err(invalid(Error::NoKeys));
        }
        self.keys.extend(keys);
        Ok(self)
    }

    /// The tolerance between a message's timestamp and the receiver's clock, applied in both
    /// directions and inclusive (default 300 s). Sub-second parts are ignored, since
    /// timestamps are whole seconds.
    pub fn tolerance(mut self, tolerance: Duration) -> Self {
        self.tolerance = tolerance;
        self
    }

    /// Builds the verifier.
    ///
    /// Fails with [`Error::NoKeys`] when no key was added, [`Error::DuplicateKey`] when one was
    /// added twice, and [`Error::AllKeysExpired`] when every key had expired by now: such a
    /// verifier would refuse every delivery, so it fails at start-up, where it is seen, not on
    /// the first delivery. Keys past their expiry beside one in force are kept (never trusted;
    /// listed by [`Verifier::keys`] as expired).
    pub fn build(self) -> Result<Verifier, Error> {
        self.build_at(OffsetDateTime::now_utc())
    }

    /// [`build`](Self::build), judging which keys are in force at `now` instead of the system
    /// clock: for a test with a pinned clock, or a tool checking an old capture with the keys
    /// that were in force then.
    pub fn build_at(self, now: OffsetDateTime) -> Result<Verifier, Error> {
        check_duplicates(&self.keys)?;
        let keys = KeySet::checked(self.keys, now)?;
        log_key_set("webhook verifier built", &keys, now);
        Ok(Verifier {
            inner: Arc::new(Inner {
                keys: ArcSwap::from_pointee(keys),
                tolerance: self.tolerance,
                changes: Mutex::new(()),
            }),
        })
    }
}

impl KeySet {
    /// The set of `keys`, refused if empty or if none is in force at `now`.
    fn checked(keys: Vec<Key>, now: OffsetDateTime) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::NoKeys);
        }
        let count = keys.len();
        let set = KeySet::new(keys);
        if !set.any_in_force(Now::at(now)) {
            return Err(Error::AllKeysExpired {
                keys: count,
                last_expiry: set.last_expiry().unwrap_or(now),
            });
        }
        Ok(set)
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
            .build_at(now - time::Duration::SECOND)
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

    /// A request whose headers were judged before a change of keys finishes with the keys it
    /// started with; a request that starts after it sees the new ones.
    #[cfg(any(feature = "axum", feature = "actix-web", feature = "tower"))]
    #[test]
    fn a_request_finishes_with_the_keys_it_started_with() {
        let old = Secret::from_bytes([1; 32]).unwrap();
        let v = Verifier::builder().secret(old.clone()).build().unwrap();
        let now = OffsetDateTime::now_utc();
        let h = crate::Signer::new(old).headers("m", now.unix_timestamp(), b"body");
        let pending = v.begin(&h, Now::at(now)).unwrap();
        v.reload_from_config("whsec_AgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=")
            .unwrap();
        assert!(v.finish(&pending, &h, b"body", None).is_ok());
        assert!(v.verify_at(&h, b"body", now).is_err());
    }

    #[test]
    fn now_before_the_epoch_rounds_down() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000_000).unwrap();
        let now = Now::at(t);
        assert_eq!((now.secs, now.nanos), (-2, -1_500_000_000));
    }
}
