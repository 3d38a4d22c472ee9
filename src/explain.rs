//! The diagnosis of a delivery: [`Verifier::explain`], its [`Explanation`] and [`Finding`]s.
//!
//! The verdict is [`Verifier::verify_at`]'s, computed by the same code under the same keys.
//! Only a rejection is diagnosed: the known mistakes of senders and middleware are tried one by
//! one (the body as it was before a JSON middleware re-wrote it, a retired key, the secret's
//! text as the HMAC key, the other header family's id, ...), each against the keys the verifier
//! holds, and each one that reproduces the signature is named.
//!
//! # Bounds
//!
//! The alternatives are a fixed list, each built once per call:
//!
//! - the delivery as received;
//! - at most 11 bodies: one with a final line break added or removed, up to two with line
//!   endings converted, and (feature `serde`) up to 8 JSON re-serialisations, each limited to
//!   four times the body's length plus 4 KiB;
//! - for a timestamp outside the window or a signature that does not match, at most 7
//!   id/timestamp pairs: the other header family's id, timestamp and both, and the timestamp 1
//!   and 2 seconds either side; for a timestamp in milliseconds or an invalid one instead, one
//!   timestamp read another way (as seconds, or as the integer it was meant to be).
//!
//! So at most 19 alternatives. Each is hashed once per secret the verifier holds (in force or
//! expired) and, for a secret parsed from text, twice more (its text with and without
//! `whsec_`): at most 57 HMAC passes over the body per secret. Each tag is compared in constant time with at
//! most 64 `v1` entries in standard base64 and 64 in another encoding ([`MAX_EXPLAINED_V1`]);
//! each public key checks at most 4 `v1a` entries of each kind per alternative (as verification
//! does, [`MAX_V1A_ENTRIES`](crate::MAX_V1A_ENTRIES)). Reading the signature header is linear
//! in its length.

use core::fmt;
use std::borrow::Cow;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use subtle::{Choice, ConditionallySelectable as _, ConstantTimeEq as _};
use time::OffsetDateTime;

use crate::error::Error;
use crate::headers::{self, HeaderSource, WebhookHeaders, signature_values};
use crate::keys::{Key, KeyKind, Material};
use crate::secret::{HmacSha256, LENIENT};
#[cfg(feature = "ed25519")]
use crate::signature::MAX_V1A_ENTRIES;
use crate::timestamp;
use crate::verifier::{Message, Now, Verifier};

/// The most `v1` entries of each encoding (standard base64, or another) that a diagnosis
/// compares each computed tag with. The verifier itself examines every entry; a sender puts one
/// per key it signs with.
const MAX_EXPLAINED_V1: usize = 64;

/// URL-safe base64, padding optional, trailing bits tolerated.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What a [`Finding`] names: one mistake of a sender, a proxy or a middleware.
///
/// Each has a stable snake_case code ([`as_str`](Self::as_str)) for tools and logs. A rejected
/// delivery has at least one finding; each kind appears at most once per [`Explanation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// `missing_header`: a required header is absent or empty.
    ///
    /// Fix: the sender sends `webhook-id`, `webhook-timestamp` and `webhook-signature` (or
    /// the three `svix-*` headers); check that no proxy drops them.
    MissingHeader,
    /// `conflicting_header`: a header that must appear once is repeated with different
    /// values, so the verifier will not pick one.
    ///
    /// Fix: find what adds the second value (a proxy, a client library merging headers).
    ConflictingHeader,
    /// `invalid_header`: a header's value cannot be used (a `webhook-id` that is not UTF-8).
    ///
    /// Fix: the sender sends the id as text.
    InvalidHeader,
    /// `mixed_header_families`: some headers come as `webhook-*` and others as `svix-*`
    /// (e.g. `webhook-id` with `svix-timestamp` and `svix-signature`). The verifier reads one
    /// family only; the finding says whether the signature matches with the headers taken
    /// across both.
    ///
    /// Fix: the sender (or a proxy renaming headers) sends all three under one family.
    MixedHeaderFamilies,
    /// `invalid_timestamp`: the timestamp is not a whole number of Unix seconds (a fraction,
    /// a `+`, leading zeros, a date). The finding says what it looks like and whether the
    /// signature matches the value as sent or as the integer it was meant to be.
    ///
    /// Fix: the sender sends (and signs) integer Unix seconds.
    InvalidTimestamp,
    /// `timestamp_in_milliseconds`: the timestamp has 13 digits and, read as milliseconds, is
    /// within the tolerance. The finding says whether the signature matches the value as sent
    /// (the sender signs milliseconds too) or in seconds (it signs seconds, sends milliseconds).
    ///
    /// Fix: the sender sends and signs Unix seconds (`Math.floor(Date.now() / 1000)`).
    TimestampInMilliseconds,
    /// `timestamp_skew`: the timestamp is further from now than the tolerance, by the seconds
    /// given; the finding says whether the signature is genuine (an old delivery replayed or
    /// held up, or a clock off) and notes a skew close to whole hours, up to 14 (a time-zone
    /// error).
    ///
    /// Fix: synchronise both clocks (NTP); a genuine old delivery is rightly refused.
    TimestampSkew,
    /// `wrong_scheme`: the signature holds only `v1a` (Ed25519) entries and the verifier only
    /// secrets, or only `v1` (HMAC) entries and the verifier only public keys.
    ///
    /// Fix: trust the kind of key the sender signs with (`whpk_` needs feature `ed25519`), or
    /// have it sign with the other one.
    WrongScheme,
    /// `retired_key`: a key the verifier holds, past its expiry, matches: the sender has not
    /// switched to the new key of a rotation. Names the key's fingerprint and expiry.
    ///
    /// Fix: have the sender sign with the current key (its rotation may have failed), or give
    /// the old key a longer grace period.
    RetiredKey,
    /// `secret_as_text`: the signature matches an HMAC keyed with the secret's text (with or
    /// without `whsec_`) instead of the bytes its base64 decodes to.
    ///
    /// Fix: the sender strips `whsec_` and base64-decodes the rest to get the key. A sender
    /// that cannot change is verified with `Secret::from_bytes` of the text it uses.
    /// Recognised only for secrets parsed from text: a [`Secret::from_bytes`](crate::Secret::from_bytes)
    /// has none.
    SecretAsText,
    /// `url_safe_base64`: an entry decodes to the right tag only with the URL-safe alphabet
    /// (`-`, `_`), with missing or excess `=` padding, or with non-zero spare bits.
    ///
    /// Fix: the sender encodes signatures in standard, padded base64.
    UrlSafeBase64,
    /// `body_reformatted`: the body, parsed as JSON and written out again (compactly, as
    /// Python's `json.dumps` does, pretty-printed with 2 or 4 spaces; keys in their order or
    /// sorted), matches: something re-serialised the body between signing and this check.
    /// Tried only with the crate's `serde` feature.
    ///
    /// Fix: verify the raw bytes as received, before any JSON parsing; the sender sends the
    /// bytes it signed.
    BodyReformatted,
    /// `body_trailing_newline`: the body with a final line break removed (or added) matches:
    /// one was added after signing (Go's `json.Encoder`, a `print`) or stripped on the way (a
    /// body read as text and trimmed).
    ///
    /// Fix: keep the body's bytes exactly as signed.
    BodyTrailingNewline,
    /// `body_line_endings`: the body with `\r\n` turned into `\n` (or the reverse) matches: a
    /// text-mode transfer, file or proxy converted the line endings.
    ///
    /// Fix: keep the body's bytes exactly as signed.
    BodyLineEndings,
    /// `wrong_id`: the signature matches with another id than the one in the id header: the
    /// other family's (`svix-id` when `webhook-*` were read, or the reverse).
    ///
    /// Fix: the sender signs the id it sends, and sends the same values in both families.
    WrongId,
    /// `wrong_timestamp`: the signature matches with another timestamp than the one in the
    /// timestamp header: the other family's, or one 1 or 2 seconds away (the sender read its
    /// clock twice).
    ///
    /// Fix: the sender signs the timestamp it sends, from one clock reading.
    WrongTimestamp,
    /// `no_matching_key`: no entry matches any key in force and no known mistake reproduces
    /// the signature; says how many entries and keys were tried.
    ///
    /// Fix: compare the fingerprint of the sender's current secret with the verifier's keys;
    /// otherwise the body or headers were changed on the way (or the delivery is forged).
    NoMatchingKey,
}

impl FindingKind {
    /// Every kind, in the order findings are listed.
    pub const ALL: &'static [FindingKind] = &[
        Self::MissingHeader,
        Self::ConflictingHeader,
        Self::InvalidHeader,
        Self::MixedHeaderFamilies,
        Self::InvalidTimestamp,
        Self::TimestampInMilliseconds,
        Self::TimestampSkew,
        Self::WrongScheme,
        Self::RetiredKey,
        Self::SecretAsText,
        Self::UrlSafeBase64,
        Self::BodyReformatted,
        Self::BodyTrailingNewline,
        Self::BodyLineEndings,
        Self::WrongId,
        Self::WrongTimestamp,
        Self::NoMatchingKey,
    ];

    /// The stable snake_case code, e.g. `"retired_key"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingHeader => "missing_header",
            Self::ConflictingHeader => "conflicting_header",
            Self::InvalidHeader => "invalid_header",
            Self::MixedHeaderFamilies => "mixed_header_families",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::TimestampInMilliseconds => "timestamp_in_milliseconds",
            Self::TimestampSkew => "timestamp_skew",
            Self::WrongScheme => "wrong_scheme",
            Self::RetiredKey => "retired_key",
            Self::SecretAsText => "secret_as_text",
            Self::UrlSafeBase64 => "url_safe_base64",
            Self::BodyReformatted => "body_reformatted",
            Self::BodyTrailingNewline => "body_trailing_newline",
            Self::BodyLineEndings => "body_line_endings",
            Self::WrongId => "wrong_id",
            Self::WrongTimestamp => "wrong_timestamp",
            Self::NoMatchingKey => "no_matching_key",
        }
    }
}

/// The code, as [`as_str`](FindingKind::as_str).
impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One mistake [`Verifier::explain`] found: a stable code and a sentence for a person.
///
/// The sentence names headers, counts, seconds and key [fingerprints](crate::Fingerprint),
/// never key material, and never a header's value as received (only numbers read from it).
/// It is one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    kind: FindingKind,
    message: String,
}

impl Finding {
    fn new(kind: FindingKind, message: String) -> Self {
        Self { kind, message }
    }

    /// What was found.
    pub fn kind(&self) -> FindingKind {
        self.kind
    }

    /// The stable snake_case code of [`kind`](Self::kind), e.g. `"body_reformatted"`.
    pub fn code(&self) -> &'static str {
        self.kind.as_str()
    }

    /// What was found and how to fix it, in one sentence (or two) for a person.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// `code: message`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

/// The result of [`Verifier::explain`]: the verdict, exactly as [`Verifier::verify_at`] gives
/// it, and for a rejection the mistakes found.
///
/// `Display` writes one line for the verdict (`verified with key …`, or `rejected: ` and the
/// error), then one line per finding (`code: message`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation<'a> {
    result: Result<Message<'a>, Error>,
    findings: Vec<Finding>,
}

impl<'a> Explanation<'a> {
    /// The verdict: what [`Verifier::verify_at`] returns for the same delivery, keys and time.
    pub fn result(&self) -> &Result<Message<'a>, Error> {
        &self.result
    }

    /// The verdict, owned.
    pub fn into_result(self) -> Result<Message<'a>, Error> {
        self.result
    }

    /// Whether the delivery verified.
    pub fn is_verified(&self) -> bool {
        self.result.is_ok()
    }

    /// What was found, in the order of [`FindingKind::ALL`]: none for a verified delivery, at
    /// least one for a rejected one.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }
}

impl fmt::Display for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.result {
            Ok(message) => write!(f, "verified with key {}", message.key_fingerprint())?,
            Err(error) => write!(f, "rejected: {error}")?,
        }
        for finding in &self.findings {
            write!(f, "\n{finding}")?;
        }
        Ok(())
    }
}

impl Verifier {
    /// Verifies a delivery as [`verify_at`](Self::verify_at) does and, if it is rejected,
    /// says why in terms of the mistake that most likely caused it.
    ///
    /// The verdict ([`Explanation::result`]) is exactly `verify_at`'s, decided by the same
    /// code; a verified delivery has no finding. For a rejection, the known mistakes of
    /// senders, proxies and middleware are tried one by one against the keys the verifier
    /// holds (those in force at `now` and, for [`FindingKind::RetiredKey`], those past their
    /// expiry), comparing MACs in constant time like verification; each that reproduces the
    /// signature becomes a [`Finding`]. See [`FindingKind`] for the list and the fixes.
    ///
    /// The work is bounded by a fixed list of alternatives, each built once per call: the
    /// delivery as received; at most 11 bodies (a final line break added or removed, line
    /// endings converted either way, and with feature `serde` up to 8 JSON re-serialisations,
    /// each at most four times the body's length plus 4 KiB); and either at most 7 id/timestamp
    /// pairs (the other header family's values, the timestamp 1 and 2 s either side) or one
    /// timestamp read another way. That is at most 19 alternatives, each hashed under every
    /// secret held, in force or expired, and for a secret parsed from text twice more: at most
    /// 57 HMAC passes over the body per secret. Each tag is compared in constant time with at
    /// most 64 `v1` entries of each encoding; each public key checks at most
    /// [`MAX_V1A_ENTRIES`](crate::MAX_V1A_ENTRIES) `v1a` entries of each encoding per
    /// alternative.
    ///
    /// It is a diagnosis for an operator, a log line or a command-line tool, not for the hot
    /// path. Run it on rejected deliveries you want to understand, not on every request from
    /// the internet, and keep its findings out of responses to the sender: they name your
    /// keys' fingerprints and expiry dates. Nothing here runs unless called.
    ///
    /// ```
    /// use standard_webhooks::{FindingKind, Secret, Signer, Verifier};
    /// use time::OffsetDateTime;
    ///
    /// let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
    /// let verifier = Verifier::builder().secret(secret.clone()).build()?;
    /// let now = OffsetDateTime::now_utc();
    ///
    /// // The sender signs its JSON, then its HTTP layer sends it with a line break appended.
    /// let signed = br#"{"type":"loan.active","data":{"loan_id":"ln_1"}}"#;
    /// let headers = Signer::new(secret).headers("msg_1", now.unix_timestamp(), signed);
    /// let received = [&signed[..], b"\n"].concat();
    ///
    /// let explanation = verifier.explain(&headers, &received, now);
    /// assert!(!explanation.is_verified());
    /// assert_eq!(*explanation.result(), verifier.verify_at(&headers, &received, now));
    /// let finding = &explanation.findings()[0];
    /// assert_eq!(finding.kind(), FindingKind::BodyTrailingNewline);
    /// assert_eq!(finding.code(), "body_trailing_newline");
    /// println!("{explanation}");
    ///
    /// // The delivery as signed verifies, with no finding.
    /// let explanation = verifier.explain(&headers, signed, now);
    /// assert!(explanation.is_verified() && explanation.findings().is_empty());
    /// # Ok::<(), standard_webhooks::Error>(())
    /// ```
    pub fn explain<'a, H: HeaderSource + ?Sized>(
        &self,
        headers: &'a H,
        body: &'a [u8],
        now: OffsetDateTime,
    ) -> Explanation<'a> {
        let keys = self.key_set();
        let result = self.verify_with(|| &keys, headers, body, Now::at(now));
        let findings = match &result {
            Ok(_) => Vec::new(),
            Err(error) => {
                let at = Now::at(now);
                let mut diagnosis = Diagnosis {
                    keys: keys.keys(),
                    in_force: keys.keys().iter().map(|k| k.in_force(at)).collect(),
                    now,
                    tolerance: self.tolerance().as_secs(),
                    headers,
                    body,
                    findings: Vec::new(),
                };
                diagnosis.diagnose(error);
                let mut findings = diagnosis.findings;
                findings.sort_by_key(|f| f.kind);
                findings.dedup_by_key(|f| f.kind);
                findings
            }
        };
        Explanation { result, findings }
    }
}

/// The state of one diagnosis.
struct Diagnosis<'k, 'a, H: ?Sized> {
    /// Every key the verifier holds, in force or not.
    keys: &'k [Key],
    /// Whether each of `keys` is in force at `now`.
    in_force: Vec<bool>,
    now: OffsetDateTime,
    tolerance: u64,
    headers: &'a H,
    body: &'a [u8],
    findings: Vec<Finding>,
}

/// The three headers of a delivery as the diagnosis reads them.
struct Delivery<'a> {
    ts_header: &'static str,
    sig_header: &'static str,
    id: &'a [u8],
    ts: &'a [u8],
    signatures: Vec<&'a [u8]>,
    /// The other family's id and timestamp, where present and different.
    other_id: Option<(&'static str, &'a [u8])>,
    other_ts: Option<(&'static str, &'a [u8])>,
}

/// What an alternative changes of the delivery as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alternative {
    AsIs,
    /// The final line break removed (`removed` is `\n` or `\r\n`), or a `\n` added.
    TrailingNewline {
        removed: Option<&'static str>,
    },
    /// Every `\r\n` as `\n` (`to_lf`), or every lone `\n` as `\r\n`.
    LineEndings {
        to_lf: bool,
    },
    #[cfg(feature = "serde")]
    Json(json::Style),
    OtherId {
        header: &'static str,
    },
    OtherTimestamp {
        header: &'static str,
    },
    OtherIdAndTimestamp {
        id: &'static str,
        timestamp: &'static str,
    },
    NearbyTimestamp {
        offset: i64,
        value: i64,
    },
    /// A millisecond timestamp as seconds.
    Seconds {
        value: i64,
    },
    /// An invalid timestamp as the integer it was meant to be.
    Integer {
        value: i64,
    },
}

/// One alternative delivery: what is hashed.
struct Trial<'a> {
    what: Alternative,
    id: Cow<'a, [u8]>,
    ts: Cow<'a, [u8]>,
    body: Cow<'a, [u8]>,
}

/// How an entry that is not standard padded base64 was decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AltEncoding {
    UrlSafe,
    Padding,
    SpareBits,
}

impl AltEncoding {
    fn describe(self) -> &'static str {
        match self {
            Self::UrlSafe => "URL-safe base64 (`-` and `_` in place of `+` and `/`)",
            Self::Padding => "base64 with missing or excess `=` padding",
            Self::SpareBits => "base64 whose last character has non-zero spare bits",
        }
    }
}

/// One decodable entry of the signature header.
struct Entry<T> {
    /// Its position among all the entries of the header, from 1.
    position: usize,
    /// `None`: standard padded base64, as the verifier reads it.
    encoding: Option<AltEncoding>,
    bytes: T,
}

/// The decodable entries of a signature header.
#[derive(Default)]
struct Entries {
    v1: Vec<Entry<[u8; 32]>>,
    v1_alt: Vec<Entry<[u8; 32]>>,
    #[cfg(feature = "ed25519")]
    v1a: Vec<Entry<[u8; 64]>>,
    #[cfg(feature = "ed25519")]
    v1a_alt: Vec<Entry<[u8; 64]>>,
    /// Every `v1` entry that decodes in some encoding (examined or not).
    v1_count: usize,
    /// Every `v1a` entry that decodes in some encoding.
    v1a_count: usize,
    /// Of those, the entries in another encoding than standard padded base64.
    other_encoding: usize,
}

impl Entries {
    fn read(values: &[&[u8]]) -> Self {
        let mut entries = Self::default();
        let mut position = 0;
        for value in values {
            for entry in crate::signature::entries(value) {
                position += 1;
                if let Some(b64) = entry.strip_prefix(b"v1,") {
                    if let Some((bytes, encoding)) = decode::<32>(b64) {
                        entries.v1_count += 1;
                        entries.other_encoding += usize::from(encoding.is_some());
                        let list = match encoding {
                            None => &mut entries.v1,
                            Some(_) => &mut entries.v1_alt,
                        };
                        if list.len() < MAX_EXPLAINED_V1 {
                            list.push(Entry {
                                position,
                                encoding,
                                bytes,
                            });
                        }
                    }
                } else if let Some(b64) = entry.strip_prefix(b"v1a,")
                    && let Some((_bytes, _encoding)) = decode::<64>(b64)
                {
                    entries.v1a_count += 1;
                    entries.other_encoding += usize::from(_encoding.is_some());
                    #[cfg(feature = "ed25519")]
                    {
                        // The first well-formed ones, as the verifier examines them.
                        let list = match _encoding {
                            None => &mut entries.v1a,
                            Some(_) => &mut entries.v1a_alt,
                        };
                        if list.len() < MAX_V1A_ENTRIES {
                            list.push(Entry {
                                position,
                                encoding: _encoding,
                                bytes: _bytes,
                            });
                        }
                    }
                }
            }
        }
        entries
    }

    /// The first standard entry and the first other one equal to `tag`, each list examined
    /// whole in constant time.
    fn match_v1(&self, tag: &[u8; 32]) -> Option<&Entry<[u8; 32]>> {
        first_equal(&self.v1, tag).or_else(|| first_equal(&self.v1_alt, tag))
    }
}

/// The first of `entries` equal to `tag`: every entry compared in constant time, no early
/// exit.
fn first_equal<'e>(entries: &'e [Entry<[u8; 32]>], tag: &[u8; 32]) -> Option<&'e Entry<[u8; 32]>> {
    let mut any = Choice::from(0);
    let mut index = 0u32;
    for (i, entry) in entries.iter().enumerate() {
        let hit = entry.bytes.ct_eq(tag);
        index.conditional_assign(&u32::try_from(i).unwrap_or(u32::MAX), hit & !any);
        any |= hit;
    }
    if bool::from(any) {
        entries.get(usize::try_from(index).unwrap_or(usize::MAX))
    } else {
        None
    }
}

/// Decodes an entry's value to `N` bytes: standard padded base64 (`None`), else another
/// encoding a sender might use.
fn decode<const N: usize>(b64: &[u8]) -> Option<([u8; N], Option<AltEncoding>)> {
    // Longer than any encoding of N bytes with a little excess padding: not worth decoding.
    if b64.len() > N.div_ceil(3) * 4 + 4 {
        return None;
    }
    let mut out = [0u8; N];
    if matches!(BASE64.decode_slice(b64, &mut out), Ok(n) if n == N) {
        return Some((out, None));
    }
    let unpadded = b64
        .iter()
        .rposition(|&b| b != b'=')
        .and_then(|end| b64.get(..=end))?;
    let url_safe = unpadded.iter().any(|&b| b == b'-' || b == b'_');
    let engine = if url_safe {
        &URL_SAFE_LENIENT
    } else {
        &LENIENT
    };
    if !matches!(engine.decode_slice(unpadded, &mut out), Ok(n) if n == N) {
        return None;
    }
    let encoding = if url_safe {
        AltEncoding::UrlSafe
    } else if b64.len() != N.div_ceil(3) * 4 {
        AltEncoding::Padding
    } else {
        AltEncoding::SpareBits
    };
    Some((out, Some(encoding)))
}

/// How a key was used to compute a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyUse {
    /// As verification uses it.
    Bytes,
    /// A secret's text, with (`true`) or without its `whsec_` prefix.
    Text { prefixed: bool },
}

/// An alternative that reproduces an entry under a key.
struct Hit {
    trial: usize,
    key: usize,
    key_use: KeyUse,
    position: usize,
    encoding: Option<AltEncoding>,
}

/// What trying the alternatives found.
struct Search<'a> {
    trials: Vec<Trial<'a>>,
    entries: Entries,
    hits: Vec<Hit>,
}

impl Search<'_> {
    /// Whether `pred` holds for the alternative of some hit.
    fn any(&self, pred: impl Fn(&Alternative) -> bool) -> bool {
        self.hits
            .iter()
            .any(|h| self.trials.get(h.trial).is_some_and(|t| pred(&t.what)))
    }
}

/// What the signature of the delivery as received came to, for a finding about its headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    /// An entry matches under a key in force, as verification would check it.
    Genuine,
    /// It matches only with a mistake the other findings name (a retired key, ...).
    WithMistakes,
    /// Nothing matches the delivery as received.
    NoMatch,
}

fn status(search: &Search<'_>, in_force: &[bool]) -> Status {
    let genuine = search.hits.iter().any(|h| {
        h.trial == 0
            && in_force.get(h.key).copied().unwrap_or(false)
            && h.key_use == KeyUse::Bytes
            && h.encoding.is_none()
    });
    if genuine {
        Status::Genuine
    } else if search.any(|a| *a == Alternative::AsIs) {
        Status::WithMistakes
    } else {
        Status::NoMatch
    }
}

/// The first non-empty value of a header.
fn first<'h, H: HeaderSource + ?Sized>(headers: &'h H, name: &'static str) -> Option<&'h [u8]> {
    headers.header_values(name).find(|v| !v.is_empty())
}

/// The six header names as `[webhook-*, svix-*]`, each `[id, timestamp, signature]`.
const FAMILIES: [[&str; 3]; 2] = [
    [
        headers::WEBHOOK_ID,
        headers::WEBHOOK_TIMESTAMP,
        headers::WEBHOOK_SIGNATURE,
    ],
    [
        headers::SVIX_ID,
        headers::SVIX_TIMESTAMP,
        headers::SVIX_SIGNATURE,
    ],
];

/// `"`a`, `b`"`.
fn names(list: &[&str]) -> String {
    list.iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl<'a, H: HeaderSource + ?Sized> Diagnosis<'_, 'a, H> {
    fn push(&mut self, kind: FindingKind, message: String) {
        self.findings.push(Finding::new(kind, message));
    }

    fn diagnose(&mut self, error: &Error) {
        match *error {
            Error::MissingHeader { header } => self.missing(header),
            Error::ConflictingHeader { header } => {
                let values = self.headers.header_values(header).filter(|v| !v.is_empty());
                self.push(
                    FindingKind::ConflictingHeader,
                    format!(
                        "`{header}` appears {} times with different values, and the verifier \
                         will not choose one: find what adds the second one (a proxy, or a \
                         client library merging headers)",
                        values.count()
                    ),
                );
            }
            Error::InvalidHeader { header, reason } => self.push(
                FindingKind::InvalidHeader,
                format!("`{header}` cannot be used ({reason}): the sender must send it as text"),
            ),
            Error::InvalidTimestamp { .. }
            | Error::TimestampTooOld { .. }
            | Error::TimestampTooNew { .. } => self.timestamp(error),
            Error::NoMatchingSignature {
                header,
                entries,
                keys,
            } => {
                if let Some(delivery) = self.delivery() {
                    let search = self.search(&delivery, None, true);
                    self.signature_findings(&delivery, &search);
                    // Nothing else explains it.
                    if self.findings.is_empty() {
                        self.no_matching_key(header, entries, keys, &search);
                    }
                }
            }
            _ => {}
        }
    }

    /// The headers as the verifier read them (it got past them).
    fn delivery(&self) -> Option<Delivery<'a>> {
        let read = WebhookHeaders::read(self.headers).ok()?;
        let [webhook, svix] = FAMILIES;
        let [other_id, other_ts, _] = if read.family.id == headers::WEBHOOK_ID {
            svix
        } else {
            webhook
        };
        let id = read.id.as_bytes();
        let other = |name: &'static str, used: &[u8]| {
            first(self.headers, name)
                .filter(|v| *v != used)
                .map(|v| (name, v))
        };
        Some(Delivery {
            ts_header: read.family.timestamp,
            sig_header: read.family.signature,
            id,
            ts: read.timestamp,
            signatures: signature_values(self.headers, read.family.signature).collect(),
            other_id: other(other_id, id),
            other_ts: other(other_ts, read.timestamp),
        })
    }

    fn missing(&mut self, header: &'static str) {
        // Which of the six names are present, and whether the other family has the one
        // missing.
        let [w, s] = FAMILIES;
        let webhook = w.map(|name| first(self.headers, name).is_some());
        let svix = s.map(|name| first(self.headers, name).is_some());
        let (other_names, other_present) = if w.contains(&header) {
            (s, svix)
        } else {
            (w, webhook)
        };
        let counterpart = w
            .iter()
            .chain(&s)
            .position(|name| *name == header)
            .map(|i| i % 3)
            .filter(|&i| other_present.get(i).copied().unwrap_or(false))
            .and_then(|i| other_names.get(i).copied());
        let mixed = webhook.contains(&true) && svix.contains(&true) && counterpart.is_some();
        let hint = match counterpart {
            Some(name) if mixed => {
                format!(" (a `{name}` header is present: the families are mixed)")
            }
            _ => String::new(),
        };
        self.push(
            FindingKind::MissingHeader,
            format!(
                "`{header}` is missing or empty{hint}: a delivery carries `webhook-id`, \
                 `webhook-timestamp` and `webhook-signature` (or the three `svix-*` headers); \
                 check that the sender sends it and no proxy drops it"
            ),
        );
        if mixed {
            self.mixed(&webhook, &svix);
        }
    }

    /// Headers of both families, the one the verifier reads incomplete: the signature is
    /// tried with each header taken from whichever family has it.
    fn mixed(&mut self, webhook: &[bool; 3], svix: &[bool; 3]) {
        let [w, s] = FAMILIES;
        let present: Vec<&str> = w
            .iter()
            .zip(webhook)
            .chain(s.iter().zip(svix))
            .filter(|(_, p)| **p)
            .map(|(n, _)| *n)
            .collect();
        let pick = |i: usize| {
            let (wn, sn) = (w.get(i).copied()?, s.get(i).copied()?);
            match first(self.headers, wn) {
                Some(v) => Some((wn, v)),
                None => first(self.headers, sn).map(|v| (sn, v)),
            }
        };
        let combined = match (pick(0), pick(1), pick(2)) {
            (Some((_, id)), Some((ts_header, ts)), Some((sig_header, _))) => Some(Delivery {
                ts_header,
                sig_header,
                id,
                ts,
                signatures: signature_values(self.headers, sig_header).collect(),
                other_id: None,
                other_ts: None,
            }),
            _ => None,
        };
        let verdict = match &combined {
            Some(delivery) => {
                let search = self.search(delivery, None, true);
                let status = match status(&search, &self.in_force) {
                    Status::Genuine => "Taken across both families, the signature is genuine.",
                    Status::WithMistakes => {
                        "Taken across both families, the signature matches only with the \
                         mistakes the other findings name."
                    }
                    Status::NoMatch => {
                        "Taken across both families, the signature does not match either."
                    }
                };
                self.signature_findings(delivery, &search);
                status.to_owned()
            }
            None => String::new(),
        };
        self.push(
            FindingKind::MixedHeaderFamilies,
            format!(
                "the delivery mixes the two header families ({}): the verifier reads the \
                 `webhook-*` headers whenever one is present, and never mixes them with \
                 `svix-*` ones; the sender (or a proxy renaming headers) must send all three \
                 under one family. {verdict}",
                names(&present)
            )
            .trim_end()
            .to_owned(),
        );
    }

    fn timestamp(&mut self, error: &Error) {
        let Some(delivery) = self.delivery() else {
            return;
        };
        let header = delivery.ts_header;
        let now = self.now.unix_timestamp();
        let parsed = timestamp::parse(delivery.ts);
        // Milliseconds: 13 digits that, divided by 1000, are within the tolerance.
        let millis = parsed
            .filter(|v| delivery.ts.len() == 13 && *v > 0)
            .map(|v| v / 1000)
            .filter(|s| s.abs_diff(now) <= self.tolerance);
        if let Some(seconds) = millis {
            let search = self.search(
                &delivery,
                Some(Alternative::Seconds { value: seconds }),
                false,
            );
            let signature = if search.any(|a| *a == Alternative::AsIs) {
                "matches the value as sent: the sender signs its millisecond timestamp too"
                    .to_owned()
            } else if search.any(|a| matches!(a, Alternative::Seconds { .. })) {
                format!(
                    "matches the timestamp in seconds ({seconds}): the sender signs seconds \
                     but sends milliseconds"
                )
            } else {
                "matches neither the value as sent nor the value in seconds".to_owned()
            };
            self.push(
                FindingKind::TimestampInMilliseconds,
                format!(
                    "`{header}` has 13 digits: Unix milliseconds, not seconds; read as seconds \
                     ({seconds}) it is {}, within the tolerance of {} s. The signature \
                     {signature}. The sender must send (and sign) Unix seconds, e.g. \
                     `Math.floor(Date.now() / 1000)`",
                    seconds_from(seconds, now),
                    self.tolerance
                ),
            );
            self.signature_findings(&delivery, &search);
            return;
        }
        match *error {
            Error::TimestampTooOld {
                skew_secs,
                tolerance_secs,
            }
            | Error::TimestampTooNew {
                skew_secs,
                tolerance_secs,
            } => {
                let direction = if matches!(error, Error::TimestampTooOld { .. }) {
                    "in the past"
                } else {
                    "in the future"
                };
                let search = self.search(&delivery, None, true);
                let status = match status(&search, &self.in_force) {
                    Status::Genuine => "The signature is genuine",
                    Status::WithMistakes => {
                        "The signature matches only with the mistakes the other findings name"
                    }
                    Status::NoMatch => "The signature does not match either",
                };
                let hours = skew_secs.saturating_add(1800) / 3600;
                // UTC offsets run from -12 h to +14 h: a day or more off is no time zone.
                let zone = (1..=MAX_UTC_OFFSET_HOURS).contains(&hours);
                let hint = if zone && skew_secs.abs_diff(hours.saturating_mul(3600)) <= 60 {
                    format!(
                        ", close to {hours} h, as a time-zone error on one side would make it (a \
                         local time taken for UTC)"
                    )
                } else {
                    String::new()
                };
                self.push(
                    FindingKind::TimestampSkew,
                    format!(
                        "the timestamp is {skew_secs} s {direction}, beyond the tolerance of \
                         {tolerance_secs} s{hint}. {status}. A genuine delivery this far off is \
                         a replay, one held up on the way, or a sign of a clock off on one side: \
                         check both clocks (NTP)"
                    ),
                );
                self.signature_findings(&delivery, &search);
            }
            _ => self.invalid_timestamp(&delivery, parsed),
        }
    }

    fn invalid_timestamp(&mut self, delivery: &Delivery<'a>, parsed: Option<i64>) {
        let header = delivery.ts_header;
        let now = self.now.unix_timestamp();
        let (shape, meant) = match parsed {
            // An integer, but no date this crate can represent.
            Some(_) => ("beyond the dates this crate can represent", None),
            None => timestamp_shape(delivery.ts),
        };
        let extra = meant.map(|value| Alternative::Integer { value });
        let search = self.search(delivery, extra, false);
        let reading = match meant {
            Some(value) => format!(
                "; read as the integer {value}, it is {}",
                seconds_from(value, now)
            ),
            None => String::new(),
        };
        let signature = if search.any(|a| *a == Alternative::AsIs) {
            "matches the value as sent: the sender signs this text as it is".to_owned()
        } else if let Some(value) = meant
            && search.any(|a| matches!(a, Alternative::Integer { .. }))
        {
            format!("matches {value}: the sender signs integer seconds but sends them otherwise")
        } else if meant.is_some() {
            "matches neither the value as sent nor the integer".to_owned()
        } else {
            "does not match the value as sent".to_owned()
        };
        self.push(
            FindingKind::InvalidTimestamp,
            format!(
                "`{header}` is not a whole number of Unix seconds: {shape}{reading}. The \
                 signature {signature}. The sender must send (and sign) integer Unix seconds, \
                 in ASCII digits"
            ),
        );
        self.signature_findings(delivery, &search);
    }

    /// Builds the alternatives of `delivery`, hashes each under every key held, and records
    /// which reproduce an entry. `extra` is a timestamp read another way; `nearby` adds the
    /// other family's values and the timestamps 1 and 2 s away.
    fn search(&self, d: &Delivery<'a>, extra: Option<Alternative>, nearby: bool) -> Search<'a> {
        let mut trials = vec![Trial {
            what: Alternative::AsIs,
            id: Cow::Borrowed(d.id),
            ts: Cow::Borrowed(d.ts),
            body: Cow::Borrowed(self.body),
        }];
        let with_ts = |what, ts: Cow<'a, [u8]>| Trial {
            what,
            id: Cow::Borrowed(d.id),
            ts,
            body: Cow::Borrowed(self.body),
        };
        if let Some(what @ (Alternative::Seconds { value } | Alternative::Integer { value })) =
            extra
        {
            trials.push(with_ts(what, Cow::Owned(value.to_string().into_bytes())));
        }
        for (what, body) in body_variants(self.body) {
            trials.push(Trial {
                what,
                id: Cow::Borrowed(d.id),
                ts: Cow::Borrowed(d.ts),
                body: Cow::Owned(body),
            });
        }
        if nearby {
            if let Some((header, id)) = d.other_id {
                trials.push(Trial {
                    what: Alternative::OtherId { header },
                    id: Cow::Borrowed(id),
                    ts: Cow::Borrowed(d.ts),
                    body: Cow::Borrowed(self.body),
                });
            }
            if let Some((header, ts)) = d.other_ts {
                trials.push(with_ts(
                    Alternative::OtherTimestamp { header },
                    Cow::Borrowed(ts),
                ));
            }
            if let (Some((id_header, id)), Some((ts_header, ts))) = (d.other_id, d.other_ts) {
                trials.push(Trial {
                    what: Alternative::OtherIdAndTimestamp {
                        id: id_header,
                        timestamp: ts_header,
                    },
                    id: Cow::Borrowed(id),
                    ts: Cow::Borrowed(ts),
                    body: Cow::Borrowed(self.body),
                });
            }
            if let Some(ts) = timestamp::parse(d.ts) {
                for offset in [-2, -1, 1, 2] {
                    if let Some(value) = ts.checked_add(offset) {
                        trials.push(with_ts(
                            Alternative::NearbyTimestamp { offset, value },
                            Cow::Owned(value.to_string().into_bytes()),
                        ));
                    }
                }
            }
        }
        let entries = Entries::read(&d.signatures);
        let mut hits = Vec::new();
        for (t, trial) in trials.iter().enumerate() {
            for (k, key) in self.keys.iter().enumerate() {
                match &key.material {
                    Material::Hmac(mac) => {
                        if entries.v1.is_empty() && entries.v1_alt.is_empty() {
                            continue;
                        }
                        let text = key.text.as_deref();
                        let states = [
                            Some((KeyUse::Bytes, mac)),
                            text.map(|t| (KeyUse::Text { prefixed: true }, &t.with_prefix)),
                            text.map(|t| (KeyUse::Text { prefixed: false }, &t.without_prefix)),
                        ];
                        for (key_use, state) in states.into_iter().flatten() {
                            if let Some(entry) = entries.match_v1(&tag(state, trial)) {
                                hits.push(Hit {
                                    trial: t,
                                    key: k,
                                    key_use,
                                    position: entry.position,
                                    encoding: entry.encoding,
                                });
                            }
                        }
                    }
                    #[cfg(feature = "ed25519")]
                    Material::Ed25519(pk) => {
                        let parts = [&*trial.id, b".", &*trial.ts, b".", &*trial.body];
                        let found = entries
                            .v1a
                            .iter()
                            .chain(&entries.v1a_alt)
                            .find(|e| pk.verify_strict(&parts, &e.bytes));
                        if let Some(entry) = found {
                            hits.push(Hit {
                                trial: t,
                                key: k,
                                key_use: KeyUse::Bytes,
                                position: entry.position,
                                encoding: entry.encoding,
                            });
                        }
                    }
                }
            }
        }
        Search {
            trials,
            entries,
            hits,
        }
    }

    /// The findings each hit names: what its alternative changed, and how its key and entry
    /// were used. None when the delivery as received has a genuine signature; with no hit at
    /// all, whether the entries are of the other scheme.
    fn signature_findings(&mut self, d: &Delivery<'_>, search: &Search<'_>) {
        if search.hits.is_empty() {
            self.wrong_scheme(d, search);
            return;
        }
        if status(search, &self.in_force) == Status::Genuine {
            return;
        }
        for hit in &search.hits {
            let (Some(trial), Some(key)) = (search.trials.get(hit.trial), self.keys.get(hit.key))
            else {
                continue;
            };
            self.alternative_finding(d, trial.what);
            if !self.in_force.get(hit.key).copied().unwrap_or(true) {
                self.retired_key(key);
            }
            if let KeyUse::Text { prefixed } = hit.key_use {
                let with = if prefixed { "with" } else { "without" };
                self.push(
                    FindingKind::SecretAsText,
                    format!(
                        "the signature matches an HMAC keyed with the text of secret {} {with} \
                         its `whsec_` prefix, instead of the bytes its base64 decodes to: the \
                         sender must strip `whsec_` and base64-decode the rest to get the key \
                         (a sender that cannot change is verified with `Secret::from_bytes` of \
                         the text it uses)",
                        key.fingerprint
                    ),
                );
            }
            if let Some(encoding) = hit.encoding {
                self.push(
                    FindingKind::UrlSafeBase64,
                    format!(
                        "entry {} of `{}` matches once decoded as {}: the verifier reads only \
                         standard, padded base64, as the specification requires; the sender \
                         must encode its signatures that way",
                        hit.position,
                        d.sig_header,
                        encoding.describe()
                    ),
                );
            }
        }
    }

    fn alternative_finding(&mut self, d: &Delivery<'_>, what: Alternative) {
        let ts_header = d.ts_header;
        match what {
            Alternative::AsIs | Alternative::Seconds { .. } | Alternative::Integer { .. } => {}
            Alternative::TrailingNewline {
                removed: Some(newline),
            } => self.push(
                FindingKind::BodyTrailingNewline,
                format!(
                    "the signature matches the body without its final `{}`: a line break was \
                     added after signing (Go's `json.Encoder`, a `print`, a proxy); the sender \
                     must send exactly the bytes it signed",
                    newline.escape_default()
                ),
            ),
            Alternative::TrailingNewline { removed: None } => self.push(
                FindingKind::BodyTrailingNewline,
                "the signature matches the body with a final `\\n` added: the body's last line \
                 break was removed on the way (a body read as text and trimmed); verify the raw \
                 bytes as received"
                    .to_owned(),
            ),
            Alternative::LineEndings { to_lf } => {
                let (from, to) = if to_lf {
                    ("\\n", "\\r\\n")
                } else {
                    ("\\r\\n", "\\n")
                };
                self.push(
                    FindingKind::BodyLineEndings,
                    format!(
                        "the signature matches the body with its `{to}` line endings as \
                         `{from}`: something after signing turned the sender's `{from}` into \
                         `{to}` (a text-mode transfer or file, a proxy); keep the body's bytes \
                         exactly as signed"
                    ),
                );
            }
            #[cfg(feature = "serde")]
            Alternative::Json(style) => self.push(
                FindingKind::BodyReformatted,
                format!(
                    "the signature matches the body re-serialised as JSON {}: what was signed \
                     differs from what arrived only in its JSON formatting, so something parsed \
                     the body and wrote it out again (a body-parsing middleware, a logging or \
                     proxy layer, or a sender that signs one serialisation and sends another); \
                     verify the raw bytes as received, before any JSON parsing",
                    style.describe()
                ),
            ),
            Alternative::OtherId { header } => self.wrong_id(d, header),
            Alternative::OtherTimestamp { header } => self.push(
                FindingKind::WrongTimestamp,
                format!(
                    "the signature matches with the `{header}` value as the timestamp instead \
                     of the `{ts_header}` one: the sender signs another timestamp than it sends \
                     in `{ts_header}`; it must sign the one it sends, the same in both families"
                ),
            ),
            Alternative::OtherIdAndTimestamp { id, timestamp } => {
                self.wrong_id(d, id);
                self.push(
                    FindingKind::WrongTimestamp,
                    format!(
                        "the signature matches with the `{id}` and `{timestamp}` values instead \
                         of the family read: the sender signs other values than it sends in \
                         `{ts_header}`; it must sign the ones it sends, the same in both \
                         families"
                    ),
                );
            }
            Alternative::NearbyTimestamp { offset, value } => {
                let side = if offset < 0 { "earlier" } else { "later" };
                self.push(
                    FindingKind::WrongTimestamp,
                    format!(
                        "the signature matches timestamp {value}, {} s {side} than the \
                         `{ts_header}` value: the sender reads its clock once to sign and again \
                         for the header; it must use one reading for both",
                        offset.unsigned_abs()
                    ),
                );
            }
        }
    }

    fn wrong_id(&mut self, d: &Delivery<'_>, other: &'static str) {
        let id_header = if d.ts_header == headers::WEBHOOK_TIMESTAMP {
            headers::WEBHOOK_ID
        } else {
            headers::SVIX_ID
        };
        self.push(
            FindingKind::WrongId,
            format!(
                "the signature matches with the `{other}` value as the id instead of the \
                 `{id_header}` one: the sender signs another message id than it sends in \
                 `{id_header}`; it must sign the one it sends, the same in both families"
            ),
        );
    }

    fn retired_key(&mut self, key: &Key) {
        let expired = match key.expires_at {
            Some(at) => format!(
                ", which expired at {} ({} s before this check)",
                crate::config::rfc3339(at),
                (self.now - at).whole_seconds().max(0)
            ),
            None => String::new(),
        };
        self.push(
            FindingKind::RetiredKey,
            format!(
                "the signature matches key {}{expired}: the sender still signs with the key it \
                 used before a rotation; have it sign with the current key (its rotation may \
                 have failed), or trust the old key for longer",
                key.fingerprint
            ),
        );
    }

    /// `v1a` entries only and only secrets in force, or the reverse.
    fn wrong_scheme(&mut self, d: &Delivery<'_>, search: &Search<'_>) {
        let in_force = |kind: KeyKind| {
            self.keys
                .iter()
                .zip(&self.in_force)
                .filter(|(k, f)| **f && k.kind() == kind)
                .count()
        };
        let (secrets, public_keys) = (in_force(KeyKind::Secret), in_force(KeyKind::PublicKey));
        let (v1, v1a) = (search.entries.v1_count, search.entries.v1a_count);
        let header = d.sig_header;
        let message = if v1a > 0 && v1 == 0 && secrets > 0 && public_keys == 0 {
            let feature = if cfg!(feature = "ed25519") {
                ""
            } else {
                " (which needs this crate's `ed25519` feature)"
            };
            format!(
                "`{header}` holds {} and no `v1` entry, but the \
                 verifier holds only secrets (`whsec_`), which check `v1` entries: trust the \
                 sender's public key (`whpk_`){feature}, or have the sender sign with its secret",
                plural(v1a, "`v1a` (Ed25519) entry", "`v1a` (Ed25519) entries"),
            )
        } else if v1 > 0 && v1a == 0 && public_keys > 0 && secrets == 0 {
            format!(
                "`{header}` holds {} and no `v1a` entry, but the verifier holds only public keys \
                 (`whpk_`), which check `v1a` entries: trust the sender's secret (`whsec_`), or \
                 have the sender sign with its Ed25519 key",
                plural(v1, "`v1` (HMAC) entry", "`v1` (HMAC) entries"),
            )
        } else {
            return;
        };
        self.push(FindingKind::WrongScheme, message);
    }

    fn no_matching_key(&mut self, header: &str, entries: usize, tried: usize, search: &Search<'_>) {
        let expired = self.in_force.iter().filter(|f| !**f).count();
        let in_force: Vec<String> = self
            .keys
            .iter()
            .zip(&self.in_force)
            .filter(|(_, f)| **f)
            .map(|(k, _)| k.fingerprint.to_string())
            .collect();
        let message = if entries == 0 {
            let other = search.entries.other_encoding;
            let also = if other > 0 {
                format!(
                    " ({other} decode in another base64 encoding, and match no key that way \
                     either)"
                )
            } else {
                String::new()
            };
            format!(
                "`{header}` holds no well-formed entry (`v1,` and the standard base64 of a \
                 32-byte HMAC, or `v1a,` and that of a 64-byte Ed25519 signature){also}, so \
                 nothing could be checked: the sender signs in another format"
            )
        } else if tried == 0 {
            format!(
                "`{header}` holds {}, but no key is in force at this time, and none of the {} \
                 held matches either: install the sender's current key",
                plural(entries, "well-formed entry", "well-formed entries"),
                plural(expired, "expired key", "expired keys"),
            )
        } else {
            let expired = if expired > 0 {
                format!(
                    ", nor {} held",
                    plural(expired, "expired key", "expired keys")
                )
            } else {
                String::new()
            };
            let why = match sorted_keys_note(self.body) {
                Some(note) => format!(
                    "{note}; otherwise the key configured here is not the one the sender signs \
                     with (compare fingerprints)"
                ),
                None => "either the key configured here is not the one the sender signs with \
                         (compare fingerprints), or the body or headers were changed on the way"
                    .to_owned(),
            };
            format!(
                "`{header}` holds {} and none matches the {} in force ({}){expired}, and no \
                 known mistake reproduces the signature: {why}",
                plural(entries, "well-formed entry", "well-formed entries"),
                plural(tried, "key", "keys"),
                in_force.join(", "),
            )
        };
        self.push(FindingKind::NoMatchingKey, message);
    }
}

/// A note for a JSON body whose object keys are all in sorted order, as a parsed and re-written
/// body comes out of `serde_json::Value` or `sort_keys=True`: the order the sender signed in is
/// then lost, and no alternative tried here can bring it back (feature `serde`).
fn sorted_keys_note(body: &[u8]) -> Option<&'static str> {
    #[cfg(feature = "serde")]
    if json::keys_sorted(body) {
        return Some(
            "the body's JSON object keys are all in sorted order, as `serde_json::Value` and \
             Python's `sort_keys=True` write them: if something parsed the body and wrote it out \
             again before it was verified, the key order the sender signed is lost and cannot be \
             tried, so verify the raw bytes as received",
        );
    }
    let _ = body;
    None
}

/// The largest offset of a time zone from UTC, in hours (UTC+14, the Line Islands).
const MAX_UTC_OFFSET_HOURS: u64 = 14;

/// `1 entry`, `2 entries`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How far `value` lies from `now`: `now`, `N s in the past` or `N s in the future`.
fn seconds_from(value: i64, now: i64) -> String {
    let diff = i128::from(value) - i128::from(now);
    match diff.signum() {
        0 => "now".to_owned(),
        -1 => format!("{} s in the past", diff.unsigned_abs()),
        _ => format!("{} s in the future", diff.unsigned_abs()),
    }
}

/// What an invalid timestamp looks like (never its text), and the integer it was probably
/// meant to be.
fn timestamp_shape(raw: &[u8]) -> (&'static str, Option<i64>) {
    let Ok(text) = core::str::from_utf8(raw) else {
        return ("it is not ASCII text", None);
    };
    let trimmed = text.trim();
    if trimmed.len() != text.len() {
        if let Some(value) = timestamp::parse(trimmed.as_bytes()) {
            return ("it has surrounding whitespace", Some(value));
        }
        return ("it has surrounding whitespace, and more", None);
    }
    if let Some(rest) = text.strip_prefix('+')
        && let Some(value) = timestamp::parse(rest.as_bytes())
    {
        return ("it has a leading `+`", Some(value));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit()) {
        let value = timestamp::parse(text.trim_start_matches('0').as_bytes()).or(Some(0));
        return (
            "it has leading zeros",
            value.filter(|_| !text.starts_with('-')),
        );
    }
    if text.len() > 32 {
        return ("it is not a number", None);
    }
    if text.contains(['T', ' ', ':']) {
        let date =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .ok()
                .map(time::OffsetDateTime::unix_timestamp);
        return ("it looks like a date and time, not Unix seconds", date);
    }
    if let Ok(float) = text.parse::<f64>()
        && float.is_finite()
        && float.abs() < 1e15
    {
        let shape = if text.contains(['e', 'E']) {
            "it is in scientific notation"
        } else if text.contains('.') {
            "it has a fractional part"
        } else {
            "it is not in canonical form"
        };
        // Truncation is what `Math.floor` or `int()` of a positive time does.
        let value = float.trunc() as i64;
        return (shape, Some(value));
    }
    ("it holds characters other than digits", None)
}

/// The HMAC of `id.ts.body` under a pre-keyed state, as verification computes it.
fn tag(keyed: &HmacSha256, trial: &Trial<'_>) -> [u8; 32] {
    crate::verifier::hmac_tag(keyed, &trial.id, None, &trial.ts, &trial.body)
}

/// The bodies a sender may have signed instead of the one received, each built once, without
/// duplicates and without the body itself.
fn body_variants(body: &[u8]) -> Vec<(Alternative, Vec<u8>)> {
    let mut out: Vec<(Alternative, Vec<u8>)> = Vec::new();
    let mut add = |what: Alternative, variant: Vec<u8>| {
        if variant != body && out.iter().all(|(_, v)| *v != variant) {
            out.push((what, variant));
        }
    };
    // A final line break added, or removed.
    if let Some(stripped) = body.strip_suffix(b"\r\n") {
        add(
            Alternative::TrailingNewline {
                removed: Some("\r\n"),
            },
            stripped.to_vec(),
        );
    } else if let Some(stripped) = body.strip_suffix(b"\n") {
        add(
            Alternative::TrailingNewline {
                removed: Some("\n"),
            },
            stripped.to_vec(),
        );
    } else {
        add(
            Alternative::TrailingNewline { removed: None },
            [body, b"\n"].concat(),
        );
    }
    // Line endings converted.
    if body.windows(2).any(|w| w == b"\r\n") {
        add(Alternative::LineEndings { to_lf: true }, crlf_to_lf(body));
    }
    let lone_lf = body
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || body.get(i - 1) != Some(&b'\r')));
    if lone_lf {
        add(Alternative::LineEndings { to_lf: false }, lf_to_crlf(body));
    }
    #[cfg(feature = "serde")]
    for (style, variant) in json::variants(body) {
        add(Alternative::Json(style), variant);
    }
    out
}

fn crlf_to_lf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut bytes = body.iter().peekable();
    while let Some(&b) = bytes.next() {
        if b == b'\r' && bytes.peek() == Some(&&b'\n') {
            continue;
        }
        out.push(b);
    }
    out
}

fn lf_to_crlf(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 16);
    let mut previous = 0u8;
    for &b in body {
        if b == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        previous = b;
    }
    out
}

/// JSON re-serialisations of a body (feature `serde`).
#[cfg(feature = "serde")]
mod json {
    use std::io;

    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use serde::ser::{Serialize, SerializeMap as _, SerializeSeq as _, Serializer};
    use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

    /// How a body was written out again.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) struct Style {
        layout: Layout,
        /// Object keys sorted (as `serde_json::Value` holds them), or in their order.
        sorted: bool,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Layout {
        /// No whitespace (JavaScript's `JSON.stringify`, `serde_json::to_vec`).
        Compact,
        /// Python's `json.dumps` defaults: `, ` and `: `, non-ASCII as `\uXXXX`.
        Python,
        /// Pretty-printed with this many spaces (`JSON.stringify(v, null, 2)`,
        /// `serde_json::to_vec_pretty`).
        Pretty(usize),
    }

    /// The fixed list, in the order tried.
    const STYLES: [Style; 8] = {
        const fn s(layout: Layout, sorted: bool) -> Style {
            Style { layout, sorted }
        }
        [
            s(Layout::Compact, false),
            s(Layout::Python, false),
            s(Layout::Pretty(2), false),
            s(Layout::Pretty(4), false),
            s(Layout::Compact, true),
            s(Layout::Python, true),
            s(Layout::Pretty(2), true),
            s(Layout::Pretty(4), true),
        ]
    };

    impl Style {
        pub(super) fn describe(self) -> &'static str {
            match (self.layout, self.sorted) {
                (Layout::Compact, false) => {
                    "compactly, keys in their order (as JavaScript's `JSON.stringify` writes it)"
                }
                (Layout::Python, false) => {
                    "as Python's `json.dumps` writes it by default (`, ` and `: ` separators, \
                     non-ASCII escaped), keys in their order"
                }
                (Layout::Pretty(2), false) => "pretty-printed with 2 spaces, keys in their order",
                (Layout::Pretty(_), false) => "pretty-printed with 4 spaces, keys in their order",
                (Layout::Compact, true) => {
                    "compactly with keys sorted (as `serde_json::to_vec` of a `Value` writes it)"
                }
                (Layout::Python, true) => "as Python's `json.dumps(..., sort_keys=True)` writes it",
                (Layout::Pretty(2), true) => {
                    "pretty-printed with 2 spaces, keys sorted (as `serde_json::to_vec_pretty` \
                     of a `Value` writes it)"
                }
                (Layout::Pretty(_), true) => "pretty-printed with 4 spaces, keys sorted",
            }
        }
    }

    /// The body written out again in each style, where it is JSON; a style whose output
    /// would exceed four times the body plus 4 KiB (deep nesting, pretty-printed) is left out.
    pub(super) fn variants(body: &[u8]) -> Vec<(Style, Vec<u8>)> {
        let Ok(ordered) = serde_json::from_slice::<Ordered>(body) else {
            return Vec::new();
        };
        let Ok(sorted) = serde_json::from_slice::<serde_json::Value>(body) else {
            return Vec::new();
        };
        let limit = body.len().saturating_mul(4).saturating_add(4096);
        STYLES
            .iter()
            .filter_map(|&style| {
                let out = if style.sorted {
                    write(&sorted, style.layout, limit)
                } else {
                    write(&ordered, style.layout, limit)
                };
                out.map(|bytes| (style, bytes))
            })
            .collect()
    }

    /// Whether `body` is JSON with at least one object of two keys or more, and every object's
    /// keys in sorted order (by their bytes, as `serde_json::Value` keeps them).
    pub(super) fn keys_sorted(body: &[u8]) -> bool {
        fn walk(value: &Ordered, several: &mut bool) -> bool {
            match value {
                Ordered::Array(items) => items.iter().all(|item| walk(item, several)),
                Ordered::Object(entries) => {
                    *several |= entries.len() > 1;
                    entries
                        .iter()
                        .zip(entries.iter().skip(1))
                        .all(|((a, _), (b, _))| a <= b)
                        && entries.iter().all(|(_, value)| walk(value, several))
                }
                _ => true,
            }
        }
        let Ok(value) = serde_json::from_slice::<Ordered>(body) else {
            return false;
        };
        let mut several = false;
        walk(&value, &mut several) && several
    }

    fn write<T: Serialize>(value: &T, layout: Layout, limit: usize) -> Option<Vec<u8>> {
        let mut out = Limited {
            out: Vec::new(),
            limit,
        };
        let written = match layout {
            Layout::Compact => value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                CompactFormatter,
            )),
            Layout::Python => value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out, Python,
            )),
            Layout::Pretty(2) => value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                PrettyFormatter::with_indent(b"  "),
            )),
            Layout::Pretty(_) => value.serialize(&mut serde_json::Serializer::with_formatter(
                &mut out,
                PrettyFormatter::with_indent(b"    "),
            )),
        };
        written.ok().map(|()| out.out)
    }

    /// A buffer that refuses to grow past `limit`.
    struct Limited {
        out: Vec<u8>,
        limit: usize,
    }

    impl io::Write for Limited {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.out.len().saturating_add(buf.len()) > self.limit {
                return Err(io::Error::other("re-serialised body too large"));
            }
            self.out.extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Python's `json.dumps` defaults: `, ` between items, `: ` after keys, and every
    /// character outside printable ASCII as `\uXXXX` (`ensure_ascii`).
    struct Python;

    impl Formatter for Python {
        fn begin_array_value<W: ?Sized + io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }

        fn begin_object_key<W: ?Sized + io::Write>(
            &mut self,
            writer: &mut W,
            first: bool,
        ) -> io::Result<()> {
            if first {
                Ok(())
            } else {
                writer.write_all(b", ")
            }
        }

        fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
            writer.write_all(b": ")
        }

        fn write_string_fragment<W: ?Sized + io::Write>(
            &mut self,
            writer: &mut W,
            fragment: &str,
        ) -> io::Result<()> {
            let mut units = [0u16; 2];
            for c in fragment.chars() {
                if (' '..='~').contains(&c) {
                    let mut byte = [0u8; 4];
                    writer.write_all(c.encode_utf8(&mut byte).as_bytes())?;
                } else {
                    for unit in c.encode_utf16(&mut units) {
                        write!(writer, "\\u{unit:04x}")?;
                    }
                }
            }
            Ok(())
        }
    }

    /// A JSON value whose objects keep their keys in the order received.
    enum Ordered {
        Null,
        Bool(bool),
        Number(serde_json::Number),
        String(String),
        Array(Vec<Ordered>),
        Object(Vec<(String, Ordered)>),
    }

    impl<'de> Deserialize<'de> for Ordered {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(OrderedVisitor)
        }
    }

    struct OrderedVisitor;

    impl<'de> Visitor<'de> for OrderedVisitor {
        type Value = Ordered;

        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a JSON value")
        }

        fn visit_unit<E>(self) -> Result<Ordered, E> {
            Ok(Ordered::Null)
        }

        fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
            Ok(Ordered::Bool(v))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
            Ok(Ordered::Number(v.into()))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
            Ok(Ordered::Number(v.into()))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ordered, E> {
            serde_json::Number::from_f64(v)
                .map(Ordered::Number)
                .ok_or_else(|| E::custom("not a finite number"))
        }

        fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
            Ok(Ordered::String(v.to_owned()))
        }

        fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
            Ok(Ordered::String(v))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                items.push(item);
            }
            Ok(Ordered::Array(items))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
            let mut entries = Vec::new();
            while let Some(entry) = map.next_entry::<String, Ordered>()? {
                entries.push(entry);
            }
            Ok(Ordered::Object(entries))
        }
    }

    impl Serialize for Ordered {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            match self {
                Self::Null => serializer.serialize_unit(),
                Self::Bool(b) => serializer.serialize_bool(*b),
                Self::Number(n) => n.serialize(serializer),
                Self::String(s) => serializer.serialize_str(s),
                Self::Array(items) => {
                    let mut seq = serializer.serialize_seq(Some(items.len()))?;
                    for item in items {
                        seq.serialize_element(item)?;
                    }
                    seq.end()
                }
                Self::Object(entries) => {
                    let mut map = serializer.serialize_map(Some(entries.len()))?;
                    for (key, value) in entries {
                        map.serialize_entry(key, value)?;
                    }
                    map.end()
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_convert_both_ways() {
        assert_eq!(crlf_to_lf(b"a\r\nb\r\n\r"), b"a\nb\n\r");
        assert_eq!(lf_to_crlf(b"\na\r\nb\n"), b"\r\na\r\nb\r\n");
    }

    #[test]
    fn entries_decode_in_other_encodings() {
        let tag = [0xfbu8; 32];
        let std = BASE64.encode(tag);
        assert_eq!(decode::<32>(std.as_bytes()), Some((tag, None)));
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag);
        assert_eq!(
            decode::<32>(url.as_bytes()),
            Some((tag, Some(AltEncoding::UrlSafe)))
        );
        let unpadded = std.trim_end_matches('=');
        assert_eq!(
            decode::<32>(unpadded.as_bytes()),
            Some((tag, Some(AltEncoding::Padding)))
        );
        let excess = format!("{std}==");
        assert_eq!(
            decode::<32>(excess.as_bytes()),
            Some((tag, Some(AltEncoding::Padding)))
        );
        assert_eq!(decode::<32>(b"not base64 at all"), None);
        assert_eq!(decode::<32>(BASE64.encode([1u8; 31]).as_bytes()), None);
    }

    #[test]
    fn timestamp_shapes() {
        assert_eq!(timestamp_shape(b"1700000000.123").1, Some(1_700_000_000));
        assert_eq!(timestamp_shape(b"+1700000000").1, Some(1_700_000_000));
        assert_eq!(timestamp_shape(b"01700000000").1, Some(1_700_000_000));
        assert_eq!(timestamp_shape(b"1.7e9").1, Some(1_700_000_000));
        assert_eq!(
            timestamp_shape(b"2023-11-14T22:13:20Z").1,
            Some(1_700_000_000)
        );
        assert_eq!(timestamp_shape(b"abc").1, None);
        assert_eq!(timestamp_shape(b"\xff").1, None);
        assert_eq!(timestamp_shape(b"NaN").1, None);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_styles() {
        let body = "{\"b\":[1,{\"é\":null}],\"a\":\"x\"}".as_bytes();
        let variants = json::variants(body);
        let text: Vec<String> = variants
            .iter()
            .map(|(_, v)| String::from_utf8(v.clone()).unwrap())
            .collect();
        assert_eq!(text[0], "{\"b\":[1,{\"é\":null}],\"a\":\"x\"}");
        assert_eq!(text[1], "{\"b\": [1, {\"\\u00e9\": null}], \"a\": \"x\"}");
        assert!(text[2].starts_with("{\n  \"b\": [\n    1,"));
        assert!(text[3].starts_with("{\n    \"b\": [\n        1,"));
        assert_eq!(text[4], "{\"a\":\"x\",\"b\":[1,{\"é\":null}]}");
        assert_eq!(text[5], "{\"a\": \"x\", \"b\": [1, {\"\\u00e9\": null}]}");
        assert_eq!(variants.len(), 8);
        assert!(json::variants(b"not json").is_empty());
        // A pretty-printed variant of deep nesting would be many times the body: left out.
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(json::variants(deep.as_bytes()).len() < 8);
    }

    #[cfg(feature = "serde")]
    #[test]
    fn sorted_keys() {
        assert!(json::keys_sorted(br#"{"a":1,"b":{"c":[{"d":1,"e":2}]}}"#));
        assert!(!json::keys_sorted(br#"{"a":1,"b":{"e":[{"d":1}],"c":2}}"#));
        assert!(!json::keys_sorted(br#"{"b":1,"a":2}"#));
        // Nothing to tell: no object with two keys, or not JSON.
        assert!(!json::keys_sorted(br#"{"a":[{"b":1}]}"#));
        assert!(!json::keys_sorted(b"[1,2]"));
        assert!(!json::keys_sorted(b"a=1&b=2"));
    }
}
