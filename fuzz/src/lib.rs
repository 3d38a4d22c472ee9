//! Shared input types and helpers of the fuzz targets (and of the seed generator).
//!
//! The structured targets take their fixed-size controls (clock, tolerance, key choices,
//! mutation) through `arbitrary` and end with a raw byte tail, so a seed is easy to write by
//! hand: the little-endian integers, then the tail. `src/bin/seeds.rs` writes such seeds from
//! the official vectors and checks that `arbitrary` reads each one back as intended.

use arbitrary::Arbitrary;
use standard_webhooks::Secret;
use time::OffsetDateTime;

/// The two HMAC secrets of the official vectors (tests/data/official.json).
pub const OFFICIAL_SECRETS: [&str; 2] = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
];

/// Input of the `verify_at` target: a clock, a verifier's configuration, and a request.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct VerifyInput<'a> {
    /// The clock, in Unix seconds (skipped when not representable).
    pub now: i64,
    /// The tolerance in seconds; `u64::MAX` stands for `Duration::MAX`.
    pub tolerance_secs: u64,
    /// Sub-second part of the tolerance.
    pub tolerance_nanos: u32,
    /// Up to three keys, see [`key_from`].
    pub keys: [KeySpec; 3],
    /// `name: value` header lines separated by `\n`, an empty line, then the body.
    pub request: &'a [u8],
}

/// One key of a fuzzed verifier.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// `% 4`: 0 and 1 the official secrets, 2 the bytes below, 3 no key.
    pub kind: u8,
    /// Raw key bytes for kind 2 (the first `1 + len % 32` of them).
    pub bytes: [u8; 32],
    /// Length selector for kind 2.
    pub len: u8,
    /// Expiry (exclusive) in Unix seconds, when `retiring` is odd.
    pub retiring: u8,
    /// The expiry instant.
    pub expires_at: i64,
}

/// The secret a key spec stands for, if any.
pub fn key_from(spec: &KeySpec) -> Option<Secret> {
    match spec.kind % 4 {
        0 => OFFICIAL_SECRETS[0].parse().ok(),
        1 => OFFICIAL_SECRETS[1].parse().ok(),
        2 => {
            let len = 1 + usize::from(spec.len % 32);
            Secret::from_bytes(&spec.bytes[..len]).ok()
        }
        _ => None,
    }
}

/// The raw key bytes of a key spec, for scanning formatted output.
pub fn key_bytes(spec: &KeySpec) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    match spec.kind % 4 {
        k @ (0 | 1) => {
            let s = OFFICIAL_SECRETS[usize::from(k)];
            lenient.decode(s.trim_start_matches("whsec_")).ok()
        }
        2 => Some(spec.bytes[..1 + usize::from(spec.len % 32)].to_vec()),
        _ => None,
    }
}

/// The expiry of a key spec, when it is a representable instant.
pub fn expiry_from(spec: &KeySpec) -> Option<OffsetDateTime> {
    if spec.retiring % 2 == 1 {
        OffsetDateTime::from_unix_timestamp(spec.expires_at).ok()
    } else {
        None
    }
}

/// A request split into header pairs and a body.
pub struct Request {
    /// `(name, value)` pairs in order; names that are not UTF-8 are dropped.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Everything after the first empty line.
    pub body: Vec<u8>,
}

/// Splits `name: value` lines (`\n`-separated, one optional space after the colon) up to the
/// first empty line; the rest is the body. A line without a colon is a name with an empty
/// value.
pub fn parse_request(raw: &[u8]) -> Request {
    let (head, body) = match raw.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&raw[..at], &raw[at + 2..]),
        None => (raw, &[][..]),
    };
    let mut headers = Vec::new();
    for line in head.split(|&b| b == b'\n') {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(at) => (&line[..at], &line[at + 1..]),
            None => (line, &[][..]),
        };
        let value = value.strip_prefix(b" ").unwrap_or(value);
        if let Ok(name) = std::str::from_utf8(name) {
            headers.push((name.to_owned(), value.to_vec()));
        }
    }
    Request {
        headers,
        body: body.to_vec(),
    }
}

/// The same headers as an `http::HeaderMap`, when every name and value is one HTTP allows.
pub fn header_map(headers: &[(String, Vec<u8>)]) -> Option<http::HeaderMap> {
    let mut map = http::HeaderMap::new();
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = http::HeaderValue::from_bytes(value).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// Input of the `sign_verify` target.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct SignInput<'a> {
    /// The receiver's clock in Unix seconds (skipped when not representable).
    pub now: i64,
    /// Tolerance in seconds.
    pub tolerance_secs: u32,
    /// Where the message timestamp lies in the window (mapped into `now ± tolerance`).
    pub offset: i64,
    /// The sender's keys (kind 3 = absent; at least one is always used).
    pub keys: [KeySpec; 3],
    /// Which single change to make after checking the untouched delivery (`% 5`): 0 none,
    /// 1 the id, 2 the timestamp, 3 the body, 4 every signature entry.
    pub mutation: u8,
    /// Where the change happens.
    pub position: u16,
    /// The byte the change uses.
    pub byte: u8,
    /// The id, a `\n`, then the body (no `\n`: the id is the whole tail, the body empty).
    pub message: &'a [u8],
}

/// Splits a message tail into an id (lossy UTF-8) and a body.
pub fn split_message(raw: &[u8]) -> (String, Vec<u8>) {
    match raw.iter().position(|&b| b == b'\n') {
        Some(at) => (
            String::from_utf8_lossy(&raw[..at]).into_owned(),
            raw[at + 1..].to_vec(),
        ),
        None => (String::from_utf8_lossy(raw).into_owned(), Vec::new()),
    }
}

/// Serializes a key spec as `arbitrary` reads it.
pub fn encode_key(out: &mut Vec<u8>, k: &KeySpec) {
    out.push(k.kind);
    out.extend_from_slice(&k.bytes);
    out.push(k.len);
    out.push(k.retiring);
    out.extend_from_slice(&k.expires_at.to_le_bytes());
}

/// Serializes a [`VerifyInput`] as `arbitrary` reads it (integers little-endian, tail last).
pub fn encode_verify(i: &VerifyInput<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&i.now.to_le_bytes());
    out.extend_from_slice(&i.tolerance_secs.to_le_bytes());
    out.extend_from_slice(&i.tolerance_nanos.to_le_bytes());
    for k in &i.keys {
        encode_key(&mut out, k);
    }
    out.extend_from_slice(i.request);
    out
}

/// Serializes a [`SignInput`] as `arbitrary` reads it.
pub fn encode_sign(i: &SignInput<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&i.now.to_le_bytes());
    out.extend_from_slice(&i.tolerance_secs.to_le_bytes());
    out.extend_from_slice(&i.offset.to_le_bytes());
    for k in &i.keys {
        encode_key(&mut out, k);
    }
    out.push(i.mutation);
    out.extend_from_slice(&i.position.to_le_bytes());
    out.push(i.byte);
    out.extend_from_slice(i.message);
    out
}

/// Panics when `haystack` contains `needle` (used to prove formatted output holds no key).
pub fn assert_absent(haystack: &str, needle: &[u8], what: &str) {
    // Shorter needles could match the fixed wording of a message by chance.
    if needle.len() >= 20 {
        assert!(
            !haystack
                .as_bytes()
                .windows(needle.len())
                .any(|w| w == needle),
            "{what} leaks key material: {haystack:?}"
        );
    }
}

/// The key's raw bytes and base64 forms (padded, unpadded) that must never be printed.
pub fn key_forms(key: &[u8]) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
    let mut forms = vec![
        STANDARD.encode(key).into_bytes(),
        STANDARD_NO_PAD.encode(key).into_bytes(),
        format!("whsec_{}", STANDARD.encode(key)).into_bytes(),
    ];
    // Raw bytes that are all ASCII could spell a word of a message by chance.
    if !key.is_ascii() {
        forms.push(key.to_vec());
    }
    forms
}

/// Records a formatted message, each key fingerprint (16 lowercase hex digits) and each run of
/// digits replaced by `#`, and panics once more than 512 distinct ones have been seen in this
/// process: messages built only from fixed wording, numbers and fingerprints stay few (a
/// configuration error combines a few fixed descriptions), while a message that echoed its
/// input would not.
pub fn assert_fixed_wording(message: &str) {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let mut shape = String::with_capacity(message.len());
    for word in message.split_inclusive(|c: char| !c.is_ascii_alphanumeric()) {
        let (body, end) = word.split_at(
            word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .len(),
        );
        let fingerprint =
            body.len() == 16 && body.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        let body = if fingerprint { "0" } else { body };
        for c in body.chars().chain(end.chars()) {
            if !c.is_ascii_digit() {
                shape.push(c);
            } else if !shape.ends_with('#') {
                shape.push('#');
            }
        }
    }
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    let seen = seen.get_or_insert_with(HashSet::new);
    seen.insert(shape);
    assert!(
        seen.len() <= 512,
        "more than 512 distinct message shapes, input is echoed? {seen:#?}"
    );
}
