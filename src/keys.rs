//! The keys a verifier trusts: each prepared once (HMAC state or public key, fingerprint), with
//! its expiry; and the set a verifier swaps atomically when keys change.

use core::sync::atomic::{AtomicUsize, Ordering};

use time::OffsetDateTime;

use crate::error::Error;
use crate::fingerprint::Fingerprint;
use crate::secret::{HmacSha256, Secret, TextHmacs};
use crate::verifier::Now;

/// One trusted key: a pre-keyed HMAC state or a public key, its fingerprint, and when it stops
/// being trusted.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) material: Material,
    pub(crate) expires_at: Option<OffsetDateTime>,
    /// `expires_at` in Unix nanoseconds, as the hot path compares it.
    expires_nanos: Option<i128>,
    pub(crate) fingerprint: Fingerprint,
    /// For a secret parsed from text: HMAC states keyed with that text, which only
    /// [`Verifier::explain`](crate::Verifier::explain) uses (boxed: verification never reads
    /// them).
    pub(crate) text: Option<Box<TextHmacs>>,
}

#[derive(Clone)]
pub(crate) enum Material {
    /// Checks `v1` entries.
    Hmac(HmacSha256),
    /// Checks `v1a` entries.
    #[cfg(feature = "ed25519")]
    Ed25519(crate::asymmetric::PublicKey),
}

impl Key {
    pub(crate) fn secret(secret: &Secret, expires_at: Option<OffsetDateTime>) -> Self {
        let mut key = Self::new(
            Material::Hmac(secret.hmac()),
            secret.fingerprint(),
            expires_at,
        );
        key.text = secret.text_hmacs().map(Box::new);
        key
    }

    #[cfg(feature = "ed25519")]
    pub(crate) fn public_key(
        key: crate::asymmetric::PublicKey,
        expires_at: Option<OffsetDateTime>,
    ) -> Self {
        Self::new(Material::Ed25519(key), key.fingerprint(), expires_at)
    }

    fn new(
        material: Material,
        fingerprint: Fingerprint,
        expires_at: Option<OffsetDateTime>,
    ) -> Self {
        Self {
            material,
            expires_nanos: expires_at.map(OffsetDateTime::unix_timestamp_nanos),
            expires_at,
            fingerprint,
            text: None,
        }
    }

    /// The same key, trusted until `expires_at` (`None`: current).
    pub(crate) fn until(mut self, expires_at: Option<OffsetDateTime>) -> Self {
        self.expires_at = expires_at;
        self.expires_nanos = expires_at.map(OffsetDateTime::unix_timestamp_nanos);
        self
    }

    /// Trusted strictly before `expires_at` (RFC 7519 `exp` semantics).
    #[inline]
    pub(crate) fn in_force(&self, now: Now) -> bool {
        self.expires_nanos.is_none_or(|at| now.nanos() < at)
    }

    pub(crate) fn kind(&self) -> KeyKind {
        match self.material {
            Material::Hmac(_) => KeyKind::Secret,
            #[cfg(feature = "ed25519")]
            Material::Ed25519(_) => KeyKind::PublicKey,
        }
    }

    pub(crate) fn info(&self) -> KeyInfo {
        KeyInfo {
            fingerprint: self.fingerprint,
            kind: self.kind(),
            expires_at: self.expires_at,
        }
    }
}

/// Shows what [`Key::info`] shows: never the key.
impl core::fmt::Debug for Key {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.info().fmt(f)
    }
}

/// Refuses a key given twice (same kind, same fingerprint); positions count from 1.
pub(crate) fn check_duplicates(keys: &[Key]) -> Result<(), Error> {
    for (i, key) in keys.iter().enumerate() {
        let first = keys
            .iter()
            .take(i)
            .position(|k| k.fingerprint == key.fingerprint && k.kind() == key.kind());
        if let Some(first) = first {
            return Err(Error::DuplicateKey {
                position: i + 1,
                first: first + 1,
                fingerprint: key.fingerprint,
            });
        }
    }
    Ok(())
}

/// The keys of a verifier at one moment. Replaced whole when keys change, never modified (but
/// for the hint of which key to try first).
pub(crate) struct KeySet {
    keys: Box<[Key]>,
    /// The index of the key that matched last: tried first, so that while a sender signs only
    /// with a retiring key (before it switched over), each delivery costs one HMAC, not two.
    hint: AtomicUsize,
}

impl KeySet {
    /// The keys in the order they are tried (the hint aside): current keys in the order given,
    /// then retiring ones, the one that expires last first. Which keys match does not depend on
    /// the order, only the work.
    pub(crate) fn new(mut keys: Vec<Key>) -> Self {
        keys.sort_by(|a, b| match (a.expires_at, b.expires_at) {
            (None, None) => core::cmp::Ordering::Equal,
            (None, Some(_)) => core::cmp::Ordering::Less,
            (Some(_), None) => core::cmp::Ordering::Greater,
            (Some(a), Some(b)) => b.cmp(&a),
        });
        Self {
            keys: keys.into_boxed_slice(),
            hint: AtomicUsize::new(0),
        }
    }

    pub(crate) fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// What [`Verifier::keys`](crate::Verifier::keys) lists: each key's fingerprint, kind and
    /// expiry, in the order they are tried.
    pub(crate) fn infos(&self) -> Vec<KeyInfo> {
        self.keys.iter().map(Key::info).collect()
    }

    pub(crate) fn count_in_force(&self, now: Now) -> usize {
        self.keys.iter().filter(|k| k.in_force(now)).count()
    }

    pub(crate) fn any_in_force(&self, now: Now) -> bool {
        self.keys.iter().any(|k| k.in_force(now))
    }

    /// Calls `matches` on each key in force, the hinted one first, until one returns `true`;
    /// returns that key, or the number of keys tried.
    #[inline]
    pub(crate) fn find(
        &self,
        now: Now,
        mut matches: impl FnMut(&Key) -> bool,
    ) -> Result<&Key, usize> {
        let hint = self.hint.load(Ordering::Relaxed);
        let mut tried = 0;
        if let Some(key) = self.keys.get(hint)
            && key.in_force(now)
        {
            tried += 1;
            if matches(key) {
                return Ok(key);
            }
        }
        for (i, key) in self.keys.iter().enumerate() {
            if i == hint || !key.in_force(now) {
                continue;
            }
            tried += 1;
            if matches(key) {
                self.hint.store(i, Ordering::Relaxed);
                return Ok(key);
            }
        }
        Err(tried)
    }

    /// The latest expiry, when every key has one.
    pub(crate) fn last_expiry(&self) -> Option<OffsetDateTime> {
        self.keys
            .iter()
            .map(|k| k.expires_at)
            .try_fold(None::<OffsetDateTime>, |last, at| {
                at.map(|at| Some(last.map_or(at, |l| l.max(at))))
            })
            .flatten()
    }
}

/// Which scheme a key checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// A `whsec_` secret: checks `v1` (HMAC-SHA256) entries.
    Secret,
    /// A `whpk_` public key: checks `v1a` (Ed25519) entries.
    PublicKey,
}

/// What a verifier holds of one key, for logs and health checks: its fingerprint, kind and
/// expiry; never the key. From [`Verifier::keys`](crate::Verifier::keys).
///
/// ```
/// use standard_webhooks::{KeyKind, Secret, Verifier};
/// use time::{Duration, OffsetDateTime};
///
/// let old: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
/// let new: Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse()?;
/// let grace_ends = OffsetDateTime::now_utc() + Duration::hours(1);
/// let verifier = Verifier::builder().secret(new.clone()).secret_until(old.clone(), grace_ends).build()?;
///
/// let keys = verifier.keys();
/// assert_eq!(keys[0].fingerprint(), new.fingerprint());
/// assert_eq!((keys[0].kind(), keys[0].expires_at()), (KeyKind::Secret, None));
/// assert_eq!(keys[1].fingerprint(), old.fingerprint());
/// assert_eq!(keys[1].expires_at(), Some(grace_ends));
/// assert!(keys[1].in_force_at(OffsetDateTime::now_utc()));
/// # Ok::<(), standard_webhooks::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    fingerprint: Fingerprint,
    kind: KeyKind,
    expires_at: Option<OffsetDateTime>,
}

impl KeyInfo {
    /// The key's fingerprint, as logs and verified deliveries name it.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// A secret (`v1`) or a public key (`v1a`).
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// When the key stops being trusted; `None` for a current key.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        self.expires_at
    }

    /// Whether the key is trusted at `now` (strictly before its expiry).
    pub fn in_force_at(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_none_or(|at| now < at)
    }
}

/// Keys as `Verifier`'s `Debug`, the logs and the key-file events show them, as of `now`:
/// `secret 1a2b… (current)`, `(retiring, until …)` or `(expired at …)`, separated by commas.
pub(crate) struct KeyList<'a>(pub(crate) &'a [KeyInfo], pub(crate) OffsetDateTime);

impl core::fmt::Display for KeyList<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let Self(keys, now) = self;
        for (i, info) in keys.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let kind = match info.kind() {
                KeyKind::Secret => "secret",
                KeyKind::PublicKey => "public key",
            };
            write!(f, "{kind} {}", info.fingerprint())?;
            match info.expires_at() {
                None => f.write_str(" (current)")?,
                Some(at) if info.in_force_at(*now) => {
                    write!(f, " (retiring, until {})", crate::config::rfc3339(at))?;
                }
                Some(at) => write!(f, " (expired at {})", crate::config::rfc3339(at))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8, expires_at: Option<OffsetDateTime>) -> Key {
        Key::secret(&Secret::from_bytes([n; 32]).unwrap(), expires_at)
    }

    /// The key that matched last is tried first: while a sender signs only with the retiring
    /// key, every delivery after the first costs one try.
    #[test]
    fn the_last_match_is_tried_first() {
        let now = OffsetDateTime::now_utc();
        let retiring = key(2, Some(now + time::Duration::HOUR));
        let target = retiring.fingerprint;
        let set = KeySet::new(vec![key(1, None), retiring]);
        let tries = |set: &KeySet| {
            let mut tried = 0;
            let found = set.find(Now::at(now), |k| {
                tried += 1;
                k.fingerprint == target
            });
            assert_eq!(found.map(|k| k.fingerprint).ok(), Some(target));
            tried
        };
        assert_eq!(tries(&set), 2);
        assert_eq!(tries(&set), 1);
        assert_eq!(tries(&set), 1);
        // A forgery tries every key in force, once each.
        let mut tried = 0;
        assert_eq!(
            set.find(Now::at(now), |_| {
                tried += 1;
                false
            })
            .err(),
            Some(2)
        );
        assert_eq!(tried, 2);
        // A hinted key past its expiry is skipped, not tried.
        let later = Now::at(now + time::Duration::HOUR);
        assert_eq!(set.find(later, |_| false).err(), Some(1));
    }

    /// HMAC pads a key with zero bytes: two secrets that differ only by trailing zeros are one
    /// key, and a verifier given both is given a duplicate.
    #[test]
    fn keys_hmac_cannot_tell_apart_are_duplicates() {
        let a = Key::secret(&Secret::from_bytes([7u8; 24]).unwrap(), None);
        let mut padded = [7u8; 25];
        padded[24] = 0;
        let b = Key::secret(&Secret::from_bytes(padded).unwrap(), None);
        assert!(matches!(
            check_duplicates(&[a.clone(), b]),
            Err(Error::DuplicateKey {
                position: 2,
                first: 1,
                ..
            })
        ));
        let c = Key::secret(&Secret::from_bytes([8u8; 24]).unwrap(), None);
        assert!(check_duplicates(&[a, c]).is_ok());
    }

    #[test]
    fn current_keys_first_then_the_latest_expiry() {
        let now = OffsetDateTime::now_utc();
        let set = KeySet::new(vec![
            key(1, Some(now + time::Duration::MINUTE)),
            key(2, None),
            key(3, Some(now + time::Duration::HOUR)),
            key(4, None),
        ]);
        let order: Vec<Fingerprint> = set.keys().iter().map(|k| k.fingerprint).collect();
        let expected: Vec<Fingerprint> = [2, 4, 3, 1]
            .iter()
            .map(|&n| key(n, None).fingerprint)
            .collect();
        assert_eq!(order, expected);
    }
}
