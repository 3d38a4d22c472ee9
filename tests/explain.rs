//! `Verifier::explain`: each finding, produced by the mistake as a real sender, proxy or
//! middleware makes it; a genuine delivery verified with no finding; the verdict always
//! `verify_at`'s (every case here and many generated deliveries); and no key material in any
//! message.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod key_forms;
use key_forms::forms;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use proptest::prelude::*;
use sha2::Sha256;
use standard_webhooks::{Explanation, Finding, FindingKind, Secret, Signer, Verifier};
use time::OffsetDateTime;

const T0: i64 = 1_700_000_000;

/// The sender's current secret, and the one before its rotation.
const NEW: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Another endpoint's secret: not one the receiver holds.
const STRANGER: &str = "whsec_q83vEjRWeJq83vEjRWeJq83vEjRWeJq8";

const BODY: &str = r#"{"type":"loan.active","timestamp":"2023-11-14T22:13:20Z","data":{"loan_id":"ln_1","amount":"15000.00"}}"#;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn secret(text: &str) -> Secret {
    text.parse().unwrap()
}

/// The bytes a `whsec_` secret decodes to.
fn key_bytes(text: &str) -> Vec<u8> {
    STANDARD
        .decode(text.strip_prefix("whsec_").unwrap())
        .unwrap()
}

/// A receiver that trusts the sender's current secret.
fn receiver() -> Verifier {
    Verifier::builder().secret(secret(NEW)).build().unwrap()
}

/// HMAC-SHA256 of `id.ts.body` under raw key bytes, as a hand-written sender computes it.
fn hmac(key: &[u8], id: &[u8], ts: &[u8], body: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for part in [id, b".", ts, b".", body] {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// A `v1` entry as a correct sender writes it.
fn v1(key: &[u8], id: &str, ts: &str, body: &[u8]) -> String {
    format!(
        "v1,{}",
        STANDARD.encode(hmac(key, id.as_bytes(), ts.as_bytes(), body))
    )
}

type Headers = Vec<(String, Vec<u8>)>;

fn headers(pairs: &[(&str, &str)]) -> Headers {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
        .collect()
}

fn webhook(id: &str, ts: &str, signature: &str) -> Headers {
    headers(&[
        ("webhook-id", id),
        ("webhook-timestamp", ts),
        ("webhook-signature", signature),
    ])
}

/// One delivery and the receiver that judges it.
struct Case {
    name: &'static str,
    verifier: Verifier,
    headers: Headers,
    body: Vec<u8>,
    now: OffsetDateTime,
}

impl Case {
    fn new(name: &'static str, verifier: Verifier, headers: Headers, body: &[u8]) -> Self {
        Self {
            name,
            verifier,
            headers,
            body: body.to_vec(),
            now: at(T0),
        }
    }

    fn explain(&self) -> Explanation<'_> {
        self.verifier.explain(&self.headers, &self.body, self.now)
    }
}

fn codes(e: &Explanation<'_>) -> Vec<&'static str> {
    e.findings().iter().map(Finding::code).collect()
}

/// The finding of `kind`, failing with the whole explanation if there is none.
fn find<'e>(e: &'e Explanation<'_>, kind: FindingKind) -> &'e str {
    e.findings()
        .iter()
        .find(|f| f.kind() == kind)
        .map(Finding::message)
        .unwrap_or_else(|| panic!("no {kind} in:\n{e}"))
}

/// Asserts that `case` is rejected and names `kind`, and returns the finding's message.
fn names(case: &Case, kind: FindingKind) -> String {
    let e = case.explain();
    assert!(!e.is_verified(), "{}: verified", case.name);
    assert_eq!(
        *e.result(),
        case.verifier.verify_at(&case.headers, &case.body, case.now),
        "{}",
        case.name
    );
    find(&e, kind).to_owned()
}

fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part:?} not in {message:?}");
    }
}

// The cases: one function per mistake, each made as a sender or middleware would make it.

fn genuine() -> Case {
    let h = Signer::new(secret(NEW)).headers("msg_1", T0, BODY.as_bytes());
    let h = webhook(&h.id, &h.timestamp, &h.signature);
    Case::new("genuine", receiver(), h, BODY.as_bytes())
}

/// A proxy that drops an unknown header.
fn missing_header() -> Case {
    let h = headers(&[("webhook-id", "msg_1"), ("webhook-timestamp", "1700000000")]);
    Case::new("missing_header", receiver(), h, BODY.as_bytes())
}

/// A proxy that adds its own `webhook-id` beside the sender's.
fn conflicting_header() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let mut h = webhook("msg_1", "1700000000", &sig);
    h.push(("webhook-id".to_owned(), b"req_7f3a".to_vec()));
    Case::new("conflicting_header", receiver(), h, BODY.as_bytes())
}

/// A sender whose message id is Latin-1 bytes, not UTF-8.
fn invalid_header() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let mut h = webhook("", "1700000000", &sig);
    h[0].1 = b"msg_\xe91".to_vec();
    Case::new("invalid_header", receiver(), h, BODY.as_bytes())
}

/// A sender that moved to `webhook-id` but still sends the Svix names for the other two.
fn mixed_header_families() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let h = headers(&[
        ("webhook-id", "msg_1"),
        ("svix-timestamp", "1700000000"),
        ("svix-signature", &sig),
    ]);
    Case::new("mixed_header_families", receiver(), h, BODY.as_bytes())
}

/// Python: `ts = str(time.time())`, signed and sent as such.
fn invalid_timestamp_signed_as_sent() -> Case {
    let ts = "1700000000.1234567";
    let sig = v1(&key_bytes(NEW), "msg_1", ts, BODY.as_bytes());
    Case::new(
        "invalid_timestamp (signed as sent)",
        receiver(),
        webhook("msg_1", ts, &sig),
        BODY.as_bytes(),
    )
}

/// A sender that signs `int(time.time())` but sends an ISO 8601 date in the header.
fn invalid_timestamp_iso_date() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    Case::new(
        "invalid_timestamp (ISO date)",
        receiver(),
        webhook("msg_1", "2023-11-14T22:13:20Z", &sig),
        BODY.as_bytes(),
    )
}

/// A sender whose clock gives local time (UTC-3) for UTC: a genuine signature, 3 h off.
fn timestamp_skew() -> Case {
    let ts = (T0 - 3 * 3600).to_string();
    let sig = v1(&key_bytes(NEW), "msg_1", &ts, BODY.as_bytes());
    Case::new(
        "timestamp_skew",
        receiver(),
        webhook("msg_1", &ts, &sig),
        BODY.as_bytes(),
    )
}

/// JavaScript: `const ts = Date.now()`, signed and sent.
fn timestamp_in_milliseconds_signed() -> Case {
    let ts = (T0 * 1000 + 123).to_string();
    let sig = v1(&key_bytes(NEW), "msg_1", &ts, BODY.as_bytes());
    Case::new(
        "timestamp_in_milliseconds (signed)",
        receiver(),
        webhook("msg_1", &ts, &sig),
        BODY.as_bytes(),
    )
}

/// JavaScript: signs `Math.floor(Date.now() / 1000)`, sends `Date.now()`.
fn timestamp_in_milliseconds_seconds_signed() -> Case {
    let sig = v1(
        &key_bytes(NEW),
        "msg_1",
        &(T0 - 2).to_string(),
        BODY.as_bytes(),
    );
    Case::new(
        "timestamp_in_milliseconds (seconds signed)",
        receiver(),
        webhook("msg_1", &((T0 - 2) * 1000 + 456).to_string(), &sig),
        BODY.as_bytes(),
    )
}

/// The receiver configured another endpoint's secret.
fn no_matching_key() -> Case {
    let h = Signer::new(secret(STRANGER)).headers("msg_1", T0, BODY.as_bytes());
    let h = webhook(&h.id, &h.timestamp, &h.signature);
    Case::new("no_matching_key", receiver(), h, BODY.as_bytes())
}

/// The receiver rotated (the old secret expired an hour ago); the sender still signs with the
/// old one.
fn retired_key() -> Case {
    let v = Verifier::builder()
        .secret(secret(NEW))
        .secret_until(secret(OLD), at(T0 - 3600))
        .build_at(at(T0 - 7200))
        .unwrap();
    let h = Signer::new(secret(OLD)).headers("msg_1", T0, BODY.as_bytes());
    let h = webhook(&h.id, &h.timestamp, &h.signature);
    Case::new("retired_key", v, h, BODY.as_bytes())
}

/// A Rust sender signs `serde_json::to_vec_pretty` of its event; a middleware in front of the
/// receiver parses the body into a `serde_json::Value` and writes it out again.
#[cfg(feature = "serde")]
fn body_reformatted_by_serde_json() -> Case {
    let event = serde_json::json!({
        "type": "loan.active",
        "timestamp": "2023-11-14T22:13:20Z",
        "data": {"loan_id": "ln_1", "amount": "15000.00", "installments": [1, 2, 3]},
    });
    let signed = serde_json::to_vec_pretty(&event).unwrap();
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", &signed);
    let parsed: serde_json::Value = serde_json::from_slice(&signed).unwrap();
    let received = serde_json::to_vec(&parsed).unwrap();
    Case::new(
        "body_reformatted (serde_json)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        &received,
    )
}

/// A Python sender signs `json.dumps(event)` (`, ` and `: `, non-ASCII escaped); a Node.js
/// body parser in front of the receiver hands on `JSON.stringify(JSON.parse(body))`: compact,
/// keys in their order, the text unescaped.
#[cfg(feature = "serde")]
fn body_reformatted_python_to_javascript() -> Case {
    let signed = r#"{"type": "customer.active", "timestamp": "2023-11-14T22:13:20Z", "data": {"name": "Jo\u00e3o Ara\u00fajo", "score": 712, "tags": ["pj", "mei"]}}"#;
    let received = r#"{"type":"customer.active","timestamp":"2023-11-14T22:13:20Z","data":{"name":"João Araújo","score":712,"tags":["pj","mei"]}}"#;
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", signed.as_bytes());
    Case::new(
        "body_reformatted (Python to JavaScript)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        received.as_bytes(),
    )
}

/// Go: the sender signs `json.Marshal(event)` but writes the body with
/// `json.NewEncoder(w).Encode(event)`, which appends a newline.
fn body_trailing_newline_added() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    Case::new(
        "body_trailing_newline (added)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        format!("{BODY}\n").as_bytes(),
    )
}

/// The sender signs a body that ends with a newline; the receiver reads it as text and trims
/// it before verifying.
fn body_trailing_newline_trimmed() -> Case {
    let signed = format!("{BODY}\n");
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", signed.as_bytes());
    Case::new(
        "body_trailing_newline (trimmed)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        signed.trim_end().as_bytes(),
    )
}

/// A pretty-printed body signed with `\n`, passed through a text-mode transfer that writes
/// `\r\n`.
fn body_line_endings() -> Case {
    let signed =
        "{\n  \"type\": \"loan.signed\",\n  \"data\": {\n    \"loan_id\": \"ln_1\"\n  }\n}";
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", signed.as_bytes());
    Case::new(
        "body_line_endings",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        signed.replace('\n', "\r\n").as_bytes(),
    )
}

/// Node.js: `crypto.createHmac('sha256', process.env.WEBHOOK_SECRET)`, the `whsec_` string
/// itself as the key.
fn secret_as_text_with_prefix() -> Case {
    let sig = v1(NEW.as_bytes(), "msg_1", "1700000000", BODY.as_bytes());
    Case::new(
        "secret_as_text (with whsec_)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A sender that strips `whsec_` but forgets to base64-decode the rest.
fn secret_as_text_without_prefix() -> Case {
    let text = NEW.strip_prefix("whsec_").unwrap();
    let sig = v1(text.as_bytes(), "msg_1", "1700000000", BODY.as_bytes());
    Case::new(
        "secret_as_text (without whsec_)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A message id whose tag's base64 holds `+` or `/`, so that the URL-safe alphabet differs.
fn id_with_url_unsafe_tag() -> String {
    (0..)
        .map(|n| format!("msg_{n}"))
        .find(|id| {
            let tag = STANDARD.encode(hmac(
                &key_bytes(NEW),
                id.as_bytes(),
                b"1700000000",
                BODY.as_bytes(),
            ));
            tag.contains(['+', '/'])
        })
        .unwrap()
}

/// A sender that encodes its signatures as it encodes JWTs: URL-safe, no padding.
fn url_safe_base64() -> Case {
    let id = id_with_url_unsafe_tag();
    let tag = hmac(
        &key_bytes(NEW),
        id.as_bytes(),
        b"1700000000",
        BODY.as_bytes(),
    );
    let sig = format!("v1,{}", URL_SAFE_NO_PAD.encode(tag));
    Case::new(
        "url_safe_base64",
        receiver(),
        webhook(&id, "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A sender whose base64 encoder leaves out the `=` padding.
fn url_safe_base64_unpadded() -> Case {
    let tag = hmac(&key_bytes(NEW), b"msg_1", b"1700000000", BODY.as_bytes());
    let sig = format!("v1,{}", STANDARD_NO_PAD.encode(tag));
    Case::new(
        "url_safe_base64 (unpadded)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A sender that switched to Ed25519 (`v1a`) while the receiver holds only its secret.
fn wrong_scheme_v1a_to_secrets() -> Case {
    #[cfg(feature = "ed25519")]
    let sig = {
        let key = standard_webhooks::SigningKey::from_seed(&[9; 32]);
        Signer::with_signing_key(key).sign("msg_1", T0, BODY.as_bytes())
    };
    // Without the feature no key can sign; the entry has the shape of one.
    #[cfg(not(feature = "ed25519"))]
    let sig = format!("v1a,{}", STANDARD.encode([9u8; 64]));
    Case::new(
        "wrong_scheme (v1a, secrets only)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A sender that signs with its secret while the receiver holds only its public key.
#[cfg(feature = "ed25519")]
fn wrong_scheme_v1_to_public_key() -> Case {
    let public = standard_webhooks::SigningKey::from_seed(&[9; 32]).public_key();
    let v = Verifier::builder().public_key(public).build().unwrap();
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    Case::new(
        "wrong_scheme (v1, public keys only)",
        v,
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// A sender that sends both families; a relay on the way replaced `webhook-id` with its own
/// request id, while the signature covers the original (still in `svix-id`).
fn wrong_id() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let h = headers(&[
        ("webhook-id", "relay_5c1e"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", &sig),
        ("svix-id", "msg_1"),
        ("svix-timestamp", "1700000000"),
        ("svix-signature", &sig),
    ]);
    Case::new("wrong_id", receiver(), h, BODY.as_bytes())
}

/// A relay that re-stamps `webhook-timestamp` when it forwards; `svix-timestamp` keeps the
/// signed value.
fn wrong_timestamp_other_family() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let h = headers(&[
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "1700000042"),
        ("webhook-signature", &sig),
        ("svix-id", "msg_1"),
        ("svix-timestamp", "1700000000"),
        ("svix-signature", &sig),
    ]);
    Case::new(
        "wrong_timestamp (other family)",
        receiver(),
        h,
        BODY.as_bytes(),
    )
}

/// A sender that reads the clock once to sign and again (a second later) for the header.
fn wrong_timestamp_clock_read_twice() -> Case {
    let sig = v1(&key_bytes(NEW), "msg_1", "1699999999", BODY.as_bytes());
    Case::new(
        "wrong_timestamp (clock read twice)",
        receiver(),
        webhook("msg_1", "1700000000", &sig),
        BODY.as_bytes(),
    )
}

/// Hostile input: the key's base64 in every header, a signature header of many entries, a
/// deeply nested JSON body.
fn hostile() -> Vec<Case> {
    let k = STANDARD.encode(key_bytes(NEW));
    let many = vec![format!("v1,{k}"); 3000].join(" ");
    let deep = format!("{}1{}", "[".repeat(120), "]".repeat(120));
    vec![
        Case::new(
            "hostile (key as id)",
            receiver(),
            webhook(&k, "1700000000", &many),
            deep.as_bytes(),
        ),
        Case::new(
            "hostile (key as timestamp)",
            receiver(),
            webhook("msg_1", &k, &format!("v1,{k}")),
            BODY.as_bytes(),
        ),
        Case::new(
            "hostile (key in the other family)",
            receiver(),
            headers(&[
                ("webhook-id", "msg_1"),
                ("webhook-timestamp", "1700000000"),
                (
                    "webhook-signature",
                    &format!("v1,{} v1a,{k}", URL_SAFE.encode(key_bytes(NEW))),
                ),
                ("svix-id", &k),
                ("svix-timestamp", &k),
            ]),
            k.as_bytes(),
        ),
        Case::new(
            "hostile (key in a mixed family)",
            receiver(),
            headers(&[
                ("webhook-id", &k),
                ("svix-timestamp", &k),
                ("svix-signature", &k),
            ]),
            b"",
        ),
    ]
}

fn all_cases() -> Vec<Case> {
    let mut cases = vec![
        genuine(),
        missing_header(),
        conflicting_header(),
        invalid_header(),
        mixed_header_families(),
        invalid_timestamp_signed_as_sent(),
        invalid_timestamp_iso_date(),
        timestamp_skew(),
        timestamp_in_milliseconds_signed(),
        timestamp_in_milliseconds_seconds_signed(),
        no_matching_key(),
        retired_key(),
        body_trailing_newline_added(),
        body_trailing_newline_trimmed(),
        body_line_endings(),
        secret_as_text_with_prefix(),
        secret_as_text_without_prefix(),
        url_safe_base64(),
        url_safe_base64_unpadded(),
        wrong_scheme_v1a_to_secrets(),
        wrong_id(),
        wrong_timestamp_other_family(),
        wrong_timestamp_clock_read_twice(),
    ];
    #[cfg(feature = "serde")]
    cases.extend([
        body_reformatted_by_serde_json(),
        body_reformatted_python_to_javascript(),
    ]);
    #[cfg(feature = "ed25519")]
    cases.push(wrong_scheme_v1_to_public_key());
    cases.extend(hostile());
    cases
}

// One test per finding code.

#[test]
fn a_genuine_delivery_is_verified_with_no_finding() {
    let case = genuine();
    let e = case.explain();
    assert!(e.is_verified(), "{e}");
    assert!(e.findings().is_empty(), "{e}");
    let msg = e.result().as_ref().unwrap();
    assert_eq!(msg.key_fingerprint(), secret(NEW).fingerprint());
    assert_eq!(
        e.to_string(),
        format!("verified with key {}", secret(NEW).fingerprint())
    );
}

#[test]
fn finds_missing_header() {
    let m = names(&missing_header(), FindingKind::MissingHeader);
    assert_contains(&m, &["`webhook-signature` is missing"]);
}

#[test]
fn finds_conflicting_header() {
    let m = names(&conflicting_header(), FindingKind::ConflictingHeader);
    assert_contains(&m, &["`webhook-id` appears 2 times"]);
}

#[test]
fn finds_invalid_header() {
    let m = names(&invalid_header(), FindingKind::InvalidHeader);
    assert_contains(&m, &["`webhook-id`", "UTF-8"]);
}

#[test]
fn finds_mixed_header_families() {
    let case = mixed_header_families();
    let m = names(&case, FindingKind::MixedHeaderFamilies);
    assert_contains(
        &m,
        &[
            "`webhook-id`, `svix-timestamp`, `svix-signature`",
            "the signature is genuine",
        ],
    );
    let e = case.explain();
    assert_eq!(codes(&e), ["missing_header", "mixed_header_families"]);
    assert_contains(
        find(&e, FindingKind::MissingHeader),
        &["`webhook-timestamp`", "`svix-timestamp` header is present"],
    );
}

#[test]
fn finds_invalid_timestamp() {
    let m = names(
        &invalid_timestamp_signed_as_sent(),
        FindingKind::InvalidTimestamp,
    );
    assert_contains(
        &m,
        &[
            "a fractional part",
            "1700000000",
            "matches the value as sent",
        ],
    );
    let m = names(&invalid_timestamp_iso_date(), FindingKind::InvalidTimestamp);
    assert_contains(&m, &["a date and time", "matches 1700000000", "it is now"]);
}

#[test]
fn finds_timestamp_skew() {
    let case = timestamp_skew();
    let m = names(&case, FindingKind::TimestampSkew);
    assert_contains(
        &m,
        &[
            "10800 s in the past",
            "tolerance of 300 s",
            "close to 3 h",
            "is genuine",
        ],
    );
    assert_eq!(codes(&case.explain()), ["timestamp_skew"]);

    // Whole hours up to 14 look like a time zone; a day or three off is an old capture, not one.
    for (off_hours, zone) in [(14, true), (24, false), (72, false)] {
        let mut case = timestamp_skew();
        case.now = at(T0 - 3 * 3600 + off_hours * 3600);
        let m = names(&case, FindingKind::TimestampSkew);
        assert_contains(&m, &[&format!("{} s in the past", off_hours * 3600)]);
        assert_eq!(m.contains("time-zone"), zone, "{off_hours} h: {m}");
        assert_eq!(
            m.contains(&format!("close to {off_hours} h")),
            zone,
            "{off_hours} h: {m}"
        );
    }

    // A delivery captured before a rotation and replayed after it: stale, and signed with the
    // retired key.
    let mut case = retired_key();
    case.now = at(T0 + 900);
    let e = case.explain();
    assert_eq!(codes(&e), ["timestamp_skew", "retired_key"]);
    assert_contains(
        find(&e, FindingKind::TimestampSkew),
        &[
            "900 s in the past",
            "only with the mistakes the other findings name",
        ],
    );
    // A stale delivery under a key nobody holds.
    let mut case = no_matching_key();
    case.now = at(T0 - 900);
    let e = case.explain();
    assert_eq!(codes(&e), ["timestamp_skew"]);
    assert_contains(
        find(&e, FindingKind::TimestampSkew),
        &["900 s in the future", "does not match either"],
    );
}

#[test]
fn finds_timestamp_in_milliseconds() {
    let case = timestamp_in_milliseconds_signed();
    let m = names(&case, FindingKind::TimestampInMilliseconds);
    assert_contains(
        &m,
        &["13 digits", "1700000000", "matches the value as sent"],
    );
    // The skew is a consequence, not a second finding.
    assert_eq!(codes(&case.explain()), ["timestamp_in_milliseconds"]);
    let m = names(
        &timestamp_in_milliseconds_seconds_signed(),
        FindingKind::TimestampInMilliseconds,
    );
    assert_contains(
        &m,
        &[
            "2 s in the past",
            "matches the timestamp in seconds (1699999998)",
        ],
    );
}

#[test]
fn finds_no_matching_key() {
    let case = no_matching_key();
    let m = names(&case, FindingKind::NoMatchingKey);
    assert_contains(
        &m,
        &[
            "1 well-formed entry",
            "the 1 key in force",
            &secret(NEW).fingerprint().to_string(),
        ],
    );
    assert_eq!(codes(&case.explain()), ["no_matching_key"]);
    assert!(!m.contains("sorted order"), "{m}");
    assert_contains(&m, &["either the key configured here is not the one"]);
    // Entries the verifier cannot read at all.
    let h = webhook("msg_1", "1700000000", "sha256=3f2a v2,abc");
    let m = names(
        &Case::new("no entry", receiver(), h, BODY.as_bytes()),
        FindingKind::NoMatchingKey,
    );
    assert_contains(&m, &["no well-formed entry"]);
}

#[test]
fn finds_retired_key() {
    let case = retired_key();
    let m = names(&case, FindingKind::RetiredKey);
    assert_contains(
        &m,
        &[
            &secret(OLD).fingerprint().to_string(),
            "expired at 2023-11-14T21:13:20Z",
            "3600 s before",
        ],
    );
    assert_eq!(codes(&case.explain()), ["retired_key"]);
}

#[cfg(feature = "serde")]
#[test]
fn finds_body_reformatted() {
    let m = names(
        &body_reformatted_by_serde_json(),
        FindingKind::BodyReformatted,
    );
    assert_contains(&m, &["pretty-printed with 2 spaces"]);
    let case = body_reformatted_python_to_javascript();
    let m = names(&case, FindingKind::BodyReformatted);
    assert_contains(&m, &["Python's `json.dumps`", "keys in their order"]);
    assert_eq!(codes(&case.explain()), ["body_reformatted"]);
}

/// The likeliest Rust mistake: an extractor parses the body into a `serde_json::Value` and a
/// verifying step behind it writes it out again, keys sorted. The sender's key order is lost, so
/// no alternative reproduces the signature; `no_matching_key` says what the body looks like
/// instead of suggesting the key alone.
#[cfg(feature = "serde")]
#[test]
fn a_body_whose_key_order_was_lost_is_pointed_out() {
    let sig = v1(&key_bytes(NEW), "msg_1", "1700000000", BODY.as_bytes());
    let parsed: serde_json::Value = serde_json::from_str(BODY).unwrap();
    for received in [
        serde_json::to_vec(&parsed).unwrap(),
        serde_json::to_vec_pretty(&parsed).unwrap(),
    ] {
        let case = Case::new(
            "key order lost",
            receiver(),
            webhook("msg_1", "1700000000", &sig),
            &received,
        );
        let m = names(&case, FindingKind::NoMatchingKey);
        assert_eq!(codes(&case.explain()), ["no_matching_key"]);
        assert_contains(
            &m,
            &[
                "no known mistake reproduces the signature: the body's JSON object keys are all \
                 in sorted order",
                "verify the raw bytes as received; otherwise the key configured here is not",
            ],
        );
    }
}

#[test]
fn finds_body_trailing_newline() {
    let case = body_trailing_newline_added();
    let m = names(&case, FindingKind::BodyTrailingNewline);
    assert_contains(&m, &["without its final `\\n`", "added after signing"]);
    assert_eq!(codes(&case.explain()), ["body_trailing_newline"]);
    let m = names(
        &body_trailing_newline_trimmed(),
        FindingKind::BodyTrailingNewline,
    );
    assert_contains(&m, &["with a final `\\n` added", "removed on the way"]);
}

#[test]
fn finds_body_line_endings() {
    let case = body_line_endings();
    let m = names(&case, FindingKind::BodyLineEndings);
    assert_contains(&m, &["`\\r\\n` line endings as `\\n`"]);
    assert_eq!(codes(&case.explain()), ["body_line_endings"]);
}

#[test]
fn finds_secret_as_text() {
    let fingerprint = secret(NEW).fingerprint().to_string();
    let case = secret_as_text_with_prefix();
    let m = names(&case, FindingKind::SecretAsText);
    assert_contains(&m, &[&fingerprint, "with its `whsec_` prefix"]);
    assert_eq!(codes(&case.explain()), ["secret_as_text"]);
    let m = names(&secret_as_text_without_prefix(), FindingKind::SecretAsText);
    assert_contains(&m, &[&fingerprint, "without its `whsec_` prefix"]);

    // A secret built from its bytes has no text: the mistake cannot be recognised.
    let mut case = secret_as_text_with_prefix();
    case.verifier = Verifier::builder()
        .secret(Secret::from_bytes(key_bytes(NEW)).unwrap())
        .build()
        .unwrap();
    assert_eq!(codes(&case.explain()), ["no_matching_key"]);
    // And the sender's way is verified by trusting the text as the key's bytes.
    case.verifier = Verifier::builder()
        .secret(Secret::from_bytes(NEW).unwrap())
        .build()
        .unwrap();
    assert!(case.explain().is_verified());
}

#[test]
fn finds_url_safe_base64() {
    let case = url_safe_base64();
    let m = names(&case, FindingKind::UrlSafeBase64);
    assert_contains(&m, &["entry 1 of `webhook-signature`", "URL-safe base64"]);
    assert_eq!(codes(&case.explain()), ["url_safe_base64"]);
    let m = names(&url_safe_base64_unpadded(), FindingKind::UrlSafeBase64);
    assert_contains(&m, &["missing or excess `=` padding"]);
}

#[test]
fn finds_wrong_scheme() {
    let case = wrong_scheme_v1a_to_secrets();
    let m = names(&case, FindingKind::WrongScheme);
    assert_contains(&m, &["1 `v1a` (Ed25519) entry", "only secrets"]);
    assert_eq!(codes(&case.explain()), ["wrong_scheme"]);
    #[cfg(feature = "ed25519")]
    {
        let m = names(&wrong_scheme_v1_to_public_key(), FindingKind::WrongScheme);
        assert_contains(&m, &["1 `v1` (HMAC) entry", "only public keys"]);
    }
}

#[test]
fn finds_wrong_id() {
    let case = wrong_id();
    let m = names(&case, FindingKind::WrongId);
    assert_contains(&m, &["`svix-id` value", "instead of the `webhook-id` one"]);
    assert_eq!(codes(&case.explain()), ["wrong_id"]);
}

#[test]
fn finds_wrong_timestamp() {
    let case = wrong_timestamp_other_family();
    let m = names(&case, FindingKind::WrongTimestamp);
    assert_contains(&m, &["`svix-timestamp` value", "`webhook-timestamp`"]);
    assert_eq!(codes(&case.explain()), ["wrong_timestamp"]);
    let case = wrong_timestamp_clock_read_twice();
    let m = names(&case, FindingKind::WrongTimestamp);
    assert_contains(&m, &["timestamp 1699999999, 1 s earlier"]);
    assert_eq!(codes(&case.explain()), ["wrong_timestamp"]);
}

/// Every kind of finding is produced by one of the cases above.
#[test]
fn every_code_is_produced() {
    let mut seen: Vec<FindingKind> = all_cases()
        .iter()
        .flat_map(|c| {
            c.explain()
                .findings()
                .iter()
                .map(Finding::kind)
                .collect::<Vec<_>>()
        })
        .collect();
    seen.sort();
    seen.dedup();
    let mut expected = FindingKind::ALL.to_vec();
    if !cfg!(feature = "serde") {
        expected.retain(|k| *k != FindingKind::BodyReformatted);
    }
    assert_eq!(seen, expected);
    // Codes are distinct snake_case.
    let mut codes: Vec<&str> = FindingKind::ALL.iter().map(|k| k.as_str()).collect();
    assert!(codes.iter().all(|c| {
        c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    }));
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), FindingKind::ALL.len());
}

/// The shape every explanation has, whatever the delivery.
fn check_shape(what: &str, e: &Explanation<'_>) {
    assert_eq!(e.is_verified(), e.findings().is_empty(), "{what}: {e}");
    let kinds: Vec<FindingKind> = e.findings().iter().map(Finding::kind).collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        kinds, sorted,
        "{what}: findings in order, each kind once: {e}"
    );
    for f in e.findings() {
        assert!(!f.message().contains(['\n', '\r']), "{what}: {f}");
        assert_eq!(f.to_string(), format!("{}: {}", f.code(), f.message()));
    }
    let shown = e.to_string();
    assert_eq!(
        shown.lines().count(),
        1 + e.findings().len(),
        "{what}: {shown}"
    );
    assert_clean(what, &format!("{shown}\n{e:?}"));
}

#[test]
fn the_verdict_is_verify_ats_for_every_case() {
    for case in all_cases() {
        let e = case.explain();
        assert_eq!(
            *e.result(),
            case.verifier.verify_at(&case.headers, &case.body, case.now),
            "{}",
            case.name
        );
        check_shape(case.name, &e);
        // Later and earlier too: the window and the keys in force change.
        for skew in [-400, 3599, 3601, 86_400] {
            let now = case.now + time::Duration::seconds(skew);
            let e = case.verifier.explain(&case.headers, &case.body, now);
            assert_eq!(
                *e.result(),
                case.verifier.verify_at(&case.headers, &case.body, now),
                "{} at {skew}",
                case.name
            );
            check_shape(case.name, &e);
        }
    }
}

// The no-key-material scan: every form of every key, as tests/secrets.rs searches for them.

fn all_forms() -> &'static [String] {
    static FORMS: OnceLock<Vec<String>> = OnceLock::new();
    FORMS.get_or_init(|| {
        let mut all = Vec::new();
        for text in [NEW, OLD, STRANGER] {
            all.extend(forms(&key_bytes(text)));
            // A sender keying its HMAC with the text: that text is key material too.
            all.extend(forms(text.as_bytes()));
        }
        all.extend(forms(&[9; 32]));
        all.retain(|f| f.len() >= 8);
        all
    })
}

fn assert_clean(what: &str, shown: &str) {
    for form in all_forms() {
        assert!(
            !shown.contains(form.as_str()),
            "{what} shows key material {form:?}: {shown}"
        );
    }
}

#[test]
fn no_message_shows_key_material() {
    // Already checked for each case by `check_shape`; here the scan itself is checked.
    for case in all_cases() {
        let e = case.explain();
        for f in e.findings() {
            assert_clean(case.name, f.message());
        }
    }
    let leak = format!(
        "a finding quoting {}",
        &STANDARD.encode(key_bytes(OLD))[3..17]
    );
    assert!(std::panic::catch_unwind(|| assert_clean("probe", &leak)).is_err());
    let leak = format!("keyed with {NEW}");
    assert!(std::panic::catch_unwind(|| assert_clean("probe", &leak)).is_err());
}

// Generated deliveries: the verdict is verify_at's, and the shape holds.

fn generated_receiver() -> &'static Verifier {
    static V: OnceLock<Verifier> = OnceLock::new();
    V.get_or_init(|| {
        let b = Verifier::builder()
            .secret(secret(NEW))
            .secret_until(secret(OLD), at(T0 - 60))
            .tolerance(std::time::Duration::from_secs(300));
        #[cfg(feature = "ed25519")]
        let b = b.public_key(standard_webhooks::SigningKey::from_seed(&[9; 32]).public_key());
        b.build_at(at(T0 - 120)).unwrap()
    })
}

/// A delivery assembled from pieces a sender or middleware might get wrong.
fn generated(choice: [u8; 8], junk: &[u8]) -> (Headers, Vec<u8>) {
    let pick = |i: usize, n: u8| choice[i] % n;
    let id = ["msg_1", "msg_2", "relay_1"][usize::from(pick(0, 3))].to_owned();
    let ts = match pick(1, 8) {
        0 => T0.to_string(),
        1 => (T0 + 1).to_string(),
        2 => (T0 - 400).to_string(),
        3 => (T0 * 1000 + 7).to_string(),
        4 => "1700000000.5".to_owned(),
        5 => "2023-11-14T22:13:20Z".to_owned(),
        6 => String::from_utf8_lossy(junk).into_owned(),
        _ => (T0 + 3600).to_string(),
    };
    let body: Vec<u8> = match pick(2, 5) {
        0 => BODY.as_bytes().to_vec(),
        1 => format!("{BODY}\n").into_bytes(),
        2 => BODY.replace(',', ", ").into_bytes(),
        3 => junk.to_vec(),
        _ => Vec::new(),
    };
    let signed_id = if pick(3, 4) == 0 {
        "msg_2"
    } else {
        id.as_str()
    };
    let signed_ts = match pick(4, 4) {
        0 => (T0 - 1).to_string(),
        1 => T0.to_string(),
        _ => ts.clone(),
    };
    let signed_body: Vec<u8> = match pick(5, 4) {
        0 => BODY.as_bytes().to_vec(),
        1 => body.trim_ascii_end().to_vec(),
        _ => body.clone(),
    };
    let key: Vec<u8> = match pick(6, 5) {
        0 => key_bytes(OLD),
        1 => NEW.as_bytes().to_vec(),
        2 => key_bytes(STRANGER),
        _ => key_bytes(NEW),
    };
    let tag = hmac(
        &key,
        signed_id.as_bytes(),
        signed_ts.as_bytes(),
        &signed_body,
    );
    let entry = match pick(7, 6) {
        0 => format!("v1,{}", URL_SAFE_NO_PAD.encode(&tag)),
        1 => format!("v1a,{}", STANDARD.encode([tag.as_slice(), &tag].concat())),
        2 => format!("v2,{} v1,{}", STANDARD.encode(junk), STANDARD.encode(&tag)),
        3 => String::from_utf8_lossy(junk).into_owned(),
        _ => format!("v1,{}", STANDARD.encode(&tag)),
    };
    let family = choice[0] / 3 % 4;
    let h = match family {
        0 => webhook(&id, &ts, &entry),
        1 => headers(&[
            ("svix-id", &id),
            ("svix-timestamp", &ts),
            ("svix-signature", &entry),
        ]),
        2 => headers(&[
            ("webhook-id", &id),
            ("svix-timestamp", &ts),
            ("svix-signature", &entry),
        ]),
        _ => {
            let mut h = webhook(&id, &ts, &entry);
            h.extend(headers(&[
                ("svix-id", signed_id),
                ("svix-timestamp", &signed_ts),
            ]));
            h
        }
    };
    (h, body)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn the_verdict_is_verify_ats_for_generated_deliveries(
        choice in any::<[u8; 8]>(),
        junk in prop::collection::vec(any::<u8>(), 0..64),
        skew in -400i64..400,
    ) {
        let v = generated_receiver();
        let (h, body) = generated(choice, &junk);
        let now = at(T0 + skew);
        let e = v.explain(&h, &body, now);
        prop_assert_eq!(e.result(), &v.verify_at(&h, &body, now));
        check_shape("generated", &e);
    }

    #[test]
    fn the_verdict_is_verify_ats_for_arbitrary_headers(
        pairs in prop::collection::vec(
            (prop::sample::select(vec![
                "webhook-id", "webhook-timestamp", "webhook-signature",
                "svix-id", "svix-timestamp", "svix-signature", "Webhook-Signature",
            ]), prop::collection::vec(any::<u8>(), 0..60)),
            0..8,
        ),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let v = generated_receiver();
        let now = at(T0);
        let e = v.explain(&pairs, &body, now);
        prop_assert_eq!(e.result(), &v.verify_at(&pairs, &body, now));
        check_shape("arbitrary", &e);
    }
}
