//! Hostile input against the core verifier: oversized and repeated headers, thousands of
//! signature entries, non-ASCII and control bytes, odd-case and look-alike header names,
//! timestamps at the ends of `i64`, extreme tolerances, empty and multi-MiB bodies.
//!
//! Each case must end in a typed error or the correct verdict, never a panic. That the work per
//! call stays bounded is shown by `benches/hostile.rs` (criterion), not by timing here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::time::Duration;

use standard_webhooks::{Error, Secret, Signer, Verifier};
use time::{OffsetDateTime, PrimitiveDateTime};

const T0: i64 = 1_700_000_000;
const ID: &str = "msg_2Kq8";
const BODY: &[u8] = br#"{"type":"loan.active","data":{}}"#;
const KIB_64: usize = 64 * 1024;

fn secret() -> Secret {
    Secret::from_bytes([0x42; 32]).unwrap()
}

fn verifier() -> Verifier {
    Verifier::builder().secret(secret()).build().unwrap()
}

fn signer() -> Signer {
    Signer::new(secret())
}

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

/// The three headers as owned byte pairs, ready to be changed.
fn pairs(id: &[u8], ts: &[u8], sig: &[u8]) -> Vec<(String, Vec<u8>)> {
    vec![
        ("webhook-id".into(), id.to_vec()),
        ("webhook-timestamp".into(), ts.to_vec()),
        ("webhook-signature".into(), sig.to_vec()),
    ]
}

fn signed(id: &str, ts: i64, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let sig = signer().sign(id, ts, body);
    pairs(id.as_bytes(), ts.to_string().as_bytes(), sig.as_bytes())
}

fn no_match(entries: usize) -> Error {
    Error::NoMatchingSignature {
        header: "webhook-signature",
        entries,
        keys: 1,
    }
}

// ---------------------------------------------------------------- header values of 64 KiB+

#[test]
fn ids_of_64_kib_and_1_mib_verify_when_signed_and_fail_when_changed() {
    let v = verifier();
    for len in [KIB_64, KIB_64 + 1, 1024 * 1024] {
        let id = "i".repeat(len);
        let h = signed(&id, T0, BODY);
        assert_eq!(v.verify_at(&h, BODY, at(T0)).unwrap().id().len(), len);

        let mut changed = h.clone();
        changed[0].1[len - 1] = b'j';
        assert_eq!(v.verify_at(&changed, BODY, at(T0)), Err(no_match(1)));
    }
}

#[test]
fn timestamps_of_64_kib_are_typed_errors() {
    let v = verifier();
    let sig = signer().sign(ID, T0, BODY);
    // Canonical digits, absurdly large: the value saturates and lies in the future.
    let huge = format!("1{}", "0".repeat(KIB_64));
    let h = pairs(ID.as_bytes(), huge.as_bytes(), sig.as_bytes());
    assert!(matches!(
        v.verify_at(&h, BODY, at(T0)),
        Err(Error::TimestampTooNew { .. })
    ));
    let huge_negative = format!("-{}", "9".repeat(KIB_64));
    let h = pairs(ID.as_bytes(), huge_negative.as_bytes(), sig.as_bytes());
    assert!(matches!(
        v.verify_at(&h, BODY, at(T0)),
        Err(Error::TimestampTooOld { .. })
    ));
    // Not canonical: leading zeros, then a trailing space after 64 KiB of digits.
    for bad in [
        format!("{}{T0}", "0".repeat(KIB_64)),
        format!("{}{}", "1".repeat(KIB_64), " "),
    ] {
        let h = pairs(ID.as_bytes(), bad.as_bytes(), sig.as_bytes());
        assert_eq!(
            v.verify_at(&h, BODY, at(T0)),
            Err(Error::InvalidTimestamp {
                header: "webhook-timestamp"
            })
        );
    }
}

#[test]
fn signature_headers_of_64_kib_are_typed_errors_or_verdicts() {
    let v = verifier();
    let good = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();
    let cases: Vec<(Vec<u8>, Result<(), Error>)> = vec![
        // One entry of 64 KiB: not a 32-byte tag, skipped without decoding.
        (
            format!("v1,{}", "A".repeat(KIB_64)).into_bytes(),
            Err(no_match(0)),
        ),
        // 64 KiB of spaces: no entry at all.
        (vec![b' '; KIB_64], Err(no_match(0))),
        // The valid entry padded with 64 KiB of spaces on both sides.
        (
            format!("{pad}{good}{pad}", pad = " ".repeat(KIB_64)).into_bytes(),
            Ok(()),
        ),
        // Fifteen junk entries of 4 KiB each, then the valid one.
        (
            format!(
                "{} {good}",
                vec![format!("v1,{}", "B".repeat(4096)); 15].join(" ")
            )
            .into_bytes(),
            Ok(()),
        ),
        // 64 KiB cycling through all 256 byte values: 256 entries, none of a usable shape.
        (
            (0..KIB_64).map(|i| (i % 256) as u8).collect(),
            Err(no_match(0)),
        ),
        // The same without spaces: one long entry.
        (
            (0..KIB_64)
                .map(|i| (i % 255) as u8 + 1)
                .map(|b| if b == b' ' { b'_' } else { b })
                .collect(),
            Err(no_match(0)),
        ),
    ];
    for (sig, want) in cases {
        let h = pairs(ID.as_bytes(), ts.as_bytes(), &sig);
        assert_eq!(v.verify_at(&h, BODY, at(T0)).map(|_| ()), want);
    }
}

#[test]
fn unrelated_headers_of_64_kib_are_ignored() {
    let mut h = signed(ID, T0, BODY);
    h.push(("x-padding".into(), vec![b'x'; 4 * KIB_64]));
    h.push(("webhook-idx".into(), vec![b'y'; KIB_64]));
    assert!(verifier().verify_at(&h, BODY, at(T0)).is_ok());
}

// ---------------------------------------------------------------- 10,000 signature entries

/// Any number of entries is examined, as the reference libraries do: a valid entry verifies
/// wherever it stands, and junk around it is skipped.
#[test]
fn ten_thousand_entries_are_examined() {
    let v = verifier();
    let good = signer().sign(ID, T0, BODY);
    let forged = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    let ts = T0.to_string();

    // The valid entry first, then 9,999 junk ones.
    let mut entries = vec![good.clone()];
    entries.extend(std::iter::repeat_n("v1,junk".to_string(), 9_999));
    let h = pairs(ID.as_bytes(), ts.as_bytes(), entries.join(" ").as_bytes());
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());

    // 9,999 forged entries of the right shape, then the valid one.
    let mut entries = vec![forged.to_string(); 9_999];
    entries.push(good.clone());
    let h = pairs(ID.as_bytes(), ts.as_bytes(), entries.join(" ").as_bytes());
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());

    // 10,000 forged entries: refused, every one counted.
    let many = vec![forged; 10_000].join(" ");
    let h = pairs(ID.as_bytes(), ts.as_bytes(), many.as_bytes());
    assert_eq!(v.verify_at(&h, BODY, at(T0)), Err(no_match(10_000)));

    // 10,000 copies of the valid entry.
    let many = vec![good.as_str(); 10_000].join(" ");
    let h = pairs(ID.as_bytes(), ts.as_bytes(), many.as_bytes());
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());

    // 10,000 repeated signature headers of one junk entry each, the valid one last.
    let mut h = pairs(ID.as_bytes(), ts.as_bytes(), b"v2,x");
    for _ in 0..10_000 {
        h.push(("Webhook-Signature".into(), forged.as_bytes().to_vec()));
    }
    h.push(("webhook-signature".into(), good.as_bytes().to_vec()));
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());
    h.pop();
    assert_eq!(v.verify_at(&h, BODY, at(T0)), Err(no_match(10_000)));

    // 10,000 empty repeated headers hold no entry.
    let mut h = pairs(ID.as_bytes(), ts.as_bytes(), good.as_bytes());
    for _ in 0..10_000 {
        h.push(("webhook-signature".into(), Vec::new()));
    }
    assert!(v.verify_at(&h, BODY, at(T0)).is_ok());
}

// ---------------------------------------------------------------- non-ASCII and control bytes

#[test]
fn non_utf8_id_is_a_typed_error() {
    let sig = signer().sign(ID, T0, BODY);
    for id in [&b"\xff\xfe"[..], b"msg_\xc3", b"\xed\xa0\x80"] {
        let h = pairs(id, T0.to_string().as_bytes(), sig.as_bytes());
        assert_eq!(
            verifier().verify_at(&h, BODY, at(T0)),
            Err(Error::InvalidHeader {
                header: "webhook-id",
                reason: "not valid UTF-8"
            })
        );
    }
}

#[test]
fn non_ascii_and_control_bytes_in_id_and_body_are_signed_bytes_like_any_other() {
    let v = verifier();
    for id in [
        "msg_ünïcødé_🦀",
        "msg\0nul",
        "msg\r\ninjected: 1",
        "\u{202e}rtl",
        "\t",
    ] {
        let body = [
            BODY,
            "\0\u{7f}\u{1b}[2J ünï".as_bytes(),
            &[0xff, 0xfe, 0x00],
        ]
        .concat();
        let h = signed(id, T0, &body);
        assert_eq!(v.verify_at(&h, &body, at(T0)).unwrap().id(), id);
    }
}

#[test]
fn non_ascii_and_control_bytes_in_timestamp_are_typed_errors() {
    let sig = signer().sign(ID, T0, BODY);
    for ts in [
        "١٧٠٠٠٠٠٠٠٠".as_bytes(),           // Arabic-Indic digits
        "１７００００００００".as_bytes(), // full-width digits
        b"1700000000\0",
        b"\t1700000000",
        b"+1700000000",
        b"1700000000\r\n",
        b"\xff",
    ] {
        let h = pairs(ID.as_bytes(), ts, sig.as_bytes());
        assert_eq!(
            verifier().verify_at(&h, BODY, at(T0)),
            Err(Error::InvalidTimestamp {
                header: "webhook-timestamp"
            }),
            "{:?}",
            String::from_utf8_lossy(ts)
        );
    }
}

#[test]
fn control_and_non_ascii_bytes_in_signature_entries_are_skipped() {
    let good = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();
    for (sig, want) in [
        // Only the space separates entries: a tab or NUL glued to the entry spoils it.
        (format!("{good}\t"), Err(no_match(0))),
        (format!("\0{good}"), Err(no_match(0))),
        (format!("{good}\r\n"), Err(no_match(0))),
        // Non-ASCII look-alikes of the version.
        (good.replacen("v1", "ｖ1", 1), Err(no_match(0))),
        // Junk around, the valid entry itself intact.
        (format!("\u{1f980} \0\t {good} \u{ff}"), Ok(())),
    ] {
        let h = pairs(ID.as_bytes(), ts.as_bytes(), sig.as_bytes());
        assert_eq!(
            verifier().verify_at(&h, BODY, at(T0)).map(|_| ()),
            want,
            "{sig:?}"
        );
    }
}

// ---------------------------------------------------------------- header names

#[test]
fn header_names_match_in_any_ascii_case() {
    let sig = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();
    let h = [
        ("WEBHOOK-ID", ID),
        ("wEbHoOk-TiMeStAmP", ts.as_str()),
        ("Webhook-Signature", sig.as_str()),
    ];
    assert!(verifier().verify_at(&h, BODY, at(T0)).is_ok());
    let h = [
        ("SVIX-ID", ID),
        ("Svix-Timestamp", ts.as_str()),
        ("sViX-sIgNaTuRe", sig.as_str()),
    ];
    assert!(verifier().verify_at(&h, BODY, at(T0)).is_ok());
}

#[test]
fn look_alike_header_names_do_not_match() {
    let sig = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();
    for id_name in [
        "webhook\u{2010}id", // Unicode hyphen
        "webhook-\u{131}d",  // dotless i, which Unicode upper-cases to I
        "webhook-id ",
        " webhook-id",
        "webhook_id",
        "webhook-id\0",
    ] {
        let h = [
            (id_name, ID),
            ("webhook-timestamp", ts.as_str()),
            ("webhook-signature", sig.as_str()),
        ];
        assert_eq!(
            verifier().verify_at(&h, BODY, at(T0)),
            Err(Error::MissingHeader {
                header: "webhook-id"
            }),
            "{id_name:?}"
        );
    }
    // The Kelvin sign K folds to `k` in Unicode, not in ASCII.
    let h = [
        ("webhoo\u{212a}-id", ID),
        ("webhook-timestamp", ts.as_str()),
        ("webhook-signature", sig.as_str()),
    ];
    assert!(verifier().verify_at(&h, BODY, at(T0)).is_err());
}

// ---------------------------------------------------------------- repeated headers

#[test]
fn repeated_headers_agree_or_conflict() {
    let v = verifier();
    let good = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();

    let mut same = signed(ID, T0, BODY);
    same.push(("WEBHOOK-ID".into(), ID.into()));
    same.push(("webhook-timestamp".into(), ts.clone().into_bytes()));
    assert!(v.verify_at(&same, BODY, at(T0)).is_ok());

    let mut other_id = signed(ID, T0, BODY);
    other_id.push(("webhook-id".into(), b"msg_other".to_vec()));
    assert_eq!(
        v.verify_at(&other_id, BODY, at(T0)),
        Err(Error::ConflictingHeader {
            header: "webhook-id"
        })
    );

    let mut other_ts = signed(ID, T0, BODY);
    other_ts.push((
        "webhook-timestamp".into(),
        (T0 + 1).to_string().into_bytes(),
    ));
    assert_eq!(
        v.verify_at(&other_ts, BODY, at(T0)),
        Err(Error::ConflictingHeader {
            header: "webhook-timestamp"
        })
    );

    // 10,000 copies of the same id are one id.
    let mut many = signed(ID, T0, BODY);
    for _ in 0..10_000 {
        many.push(("webhook-id".into(), ID.into()));
    }
    assert!(v.verify_at(&many, BODY, at(T0)).is_ok());

    // The signature split over two header lines, as proxies may fold it.
    let mut split = pairs(ID.as_bytes(), ts.as_bytes(), b"v2,x");
    split.push(("webhook-signature".into(), good.into_bytes()));
    assert!(v.verify_at(&split, BODY, at(T0)).is_ok());
}

#[test]
fn a_full_svix_set_does_not_rescue_an_incomplete_webhook_set() {
    let good = signer().sign(ID, T0, BODY);
    let ts = T0.to_string();
    let h = [
        ("webhook-id", ID),
        ("svix-id", ID),
        ("svix-timestamp", ts.as_str()),
        ("svix-signature", good.as_str()),
    ];
    assert_eq!(
        verifier().verify_at(&h, BODY, at(T0)),
        Err(Error::MissingHeader {
            header: "webhook-timestamp"
        })
    );
}

#[test]
fn http_header_map_with_repeats_and_odd_case() {
    let good = signer().sign(ID, T0, BODY);
    let mut map = http::HeaderMap::new();
    map.append("Webhook-Id", ID.parse().unwrap());
    map.append("WEBHOOK-ID", ID.parse().unwrap());
    map.append("webhook-timestamp", T0.to_string().parse().unwrap());
    map.append("webhook-signature", "v1,AAAA".parse().unwrap());
    map.append("Webhook-Signature", good.parse().unwrap());
    // Header values may carry obs-text bytes (0x80-0xff); in the id they are not UTF-8.
    assert!(verifier().verify_at(&map, BODY, at(T0)).is_ok());
    map.append(
        "webhook-id",
        http::HeaderValue::from_bytes(b"\xfe\xff").unwrap(),
    );
    assert_eq!(
        verifier().verify_at(&map, BODY, at(T0)),
        Err(Error::ConflictingHeader {
            header: "webhook-id"
        })
    );
}

// ---------------------------------------------------------------- timestamps at the ends of i64

#[test]
fn timestamps_at_i64_min_and_max_are_typed_errors() {
    let good = signer().sign(ID, T0, BODY);
    let cases = [
        (i64::MAX.to_string(), "new"),
        (i64::MIN.to_string(), "old"),
        ("99999999999999999999999999".to_string(), "new"),
        ("-99999999999999999999999999".to_string(), "old"),
    ];
    for (ts, side) in &cases {
        let h = pairs(ID.as_bytes(), ts.as_bytes(), good.as_bytes());
        let got = verifier().verify_at(&h, BODY, at(T0));
        match (side, got) {
            (&"new", Err(Error::TimestampTooNew { skew_secs, .. }))
            | (&"old", Err(Error::TimestampTooOld { skew_secs, .. })) => {
                assert!(skew_secs > 9_000_000_000_000_000_000 - 2 * T0 as u64);
            }
            (_, other) => panic!("{ts}: {other:?}"),
        }
    }
    // With an unbounded tolerance the window accepts them; the date cannot be represented.
    let v = Verifier::builder()
        .secret(secret())
        .tolerance(Duration::MAX)
        .build()
        .unwrap();
    for (ts, _) in &cases {
        let sig = if let Ok(n) = ts.parse::<i64>() {
            signer().sign(ID, n, BODY)
        } else {
            good.clone()
        };
        let h = pairs(ID.as_bytes(), ts.as_bytes(), sig.as_bytes());
        assert_eq!(
            v.verify_at(&h, BODY, at(T0)),
            Err(Error::InvalidTimestamp {
                header: "webhook-timestamp"
            }),
            "{ts}"
        );
    }
}

#[test]
fn clock_at_the_ends_of_the_representable_range() {
    let v = verifier();
    for now in [
        PrimitiveDateTime::MIN.assume_utc(),
        PrimitiveDateTime::MAX.assume_utc(),
        OffsetDateTime::UNIX_EPOCH,
    ] {
        let ts = now.unix_timestamp();
        let h = signed(ID, ts, BODY);
        assert_eq!(
            v.verify_at(&h, BODY, now).unwrap().timestamp(),
            now.replace_nanosecond(0).unwrap()
        );
        // The same delivery judged from the other end of time is refused, without overflow.
        let far = if ts < 0 {
            PrimitiveDateTime::MAX.assume_utc()
        } else {
            PrimitiveDateTime::MIN.assume_utc()
        };
        assert!(matches!(
            v.verify_at(&h, BODY, far),
            Err(Error::TimestampTooOld { .. } | Error::TimestampTooNew { .. })
        ));
    }
}

// ---------------------------------------------------------------- tolerance zero and MAX

#[test]
fn tolerance_zero_accepts_only_the_same_second() {
    for tolerance in [Duration::ZERO, Duration::from_nanos(999_999_999)] {
        let v = Verifier::builder()
            .secret(secret())
            .tolerance(tolerance)
            .build()
            .unwrap();
        let h = signed(ID, T0, BODY);
        assert!(v.verify_at(&h, BODY, at(T0)).is_ok());
        // Sub-second parts of the clock do not matter: the second is the same.
        let late_in_second = at(T0) + time::Duration::nanoseconds(999_999_999);
        assert!(v.verify_at(&h, BODY, late_in_second).is_ok());
        assert_eq!(
            v.verify_at(&h, BODY, at(T0 + 1)),
            Err(Error::TimestampTooOld {
                skew_secs: 1,
                tolerance_secs: 0
            })
        );
        assert_eq!(
            v.verify_at(&h, BODY, at(T0 - 1)),
            Err(Error::TimestampTooNew {
                skew_secs: 1,
                tolerance_secs: 0
            })
        );
    }
}

#[test]
fn tolerance_max_accepts_any_representable_time_but_still_checks_the_signature() {
    let v = Verifier::builder()
        .secret(secret())
        .tolerance(Duration::MAX)
        .build()
        .unwrap();
    let oldest = PrimitiveDateTime::MIN.assume_utc().unix_timestamp();
    let h = signed(ID, oldest, BODY);
    let now = PrimitiveDateTime::MAX.assume_utc();
    assert_eq!(
        v.verify_at(&h, BODY, now)
            .unwrap()
            .timestamp()
            .unix_timestamp(),
        oldest
    );
    assert!(matches!(
        v.verify_at(&h, b"other", now),
        Err(Error::NoMatchingSignature { .. })
    ));
    assert_eq!(v.tolerance(), Duration::MAX);
}

// ---------------------------------------------------------------- bodies of 0 bytes and MiB

#[test]
fn empty_body_verifies_and_differs_from_a_one_byte_body() {
    let v = verifier();
    let h = signed(ID, T0, b"");
    assert_eq!(v.verify_at(&h, b"", at(T0)).unwrap().body(), b"");
    assert_eq!(v.verify_at(&h, b" ", at(T0)), Err(no_match(1)));
    assert_eq!(v.verify_at(&h, b"\0", at(T0)), Err(no_match(1)));
}

#[test]
fn bodies_of_several_mib_verify_and_one_changed_byte_fails() {
    let v = verifier();
    for len in [4 * 1024 * 1024 - 1, 8 * 1024 * 1024 + 3] {
        let mut body: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let h = signed(ID, T0, &body);
        assert_eq!(v.verify_at(&h, &body, at(T0)).unwrap().body().len(), len);
        body[len / 2] ^= 0x01;
        assert_eq!(v.verify_at(&h, &body, at(T0)), Err(no_match(1)));
        body[len / 2] ^= 0x01;
        body.pop();
        assert_eq!(v.verify_at(&h, &body, at(T0)), Err(no_match(1)));
    }
}

#[test]
fn rejected_headers_are_reported_before_the_body_matters() {
    // With a multi-MiB body, every header fault is reported as such (the order of the checks:
    // headers, timestamp, signature entries, and only then the body).
    let body = vec![b'x'; 8 * 1024 * 1024];
    let v = verifier();
    let ts = T0.to_string();
    let good = signer().sign(ID, T0, &body);
    let stale = pairs(ID.as_bytes(), ts.as_bytes(), good.as_bytes());
    assert!(matches!(
        v.verify_at(&stale, &body, at(T0 + 301)),
        Err(Error::TimestampTooOld { .. })
    ));
    let malformed = pairs(ID.as_bytes(), ts.as_bytes(), b"v1,short v2,x v1a,y");
    assert_eq!(
        v.verify_at(&malformed, &body, at(T0)).map(|_| ()),
        Err(no_match(0))
    );
}

// ---------------------------------------------------------------- the spec's own ambiguity

#[test]
fn id_and_body_boundary_is_not_bound_by_the_signature() {
    // The signed bytes are `{id}.{timestamp}.{body}`. A body that starts with `{timestamp}.`
    // can be re-cut: id `a.T` with body `X` signs the same bytes as id `a` with body `T.X`.
    // This is inherent to the Standard Webhooks format (documented in SECURITY.md): every
    // re-cut changes the id, and one of the two ids contains a `.`.
    let ts = T0.to_string();
    let original_body = format!("{ts}.payload");
    let h = signed("a", T0, original_body.as_bytes());
    let recut = pairs(format!("a.{ts}").as_bytes(), ts.as_bytes(), &h[2].1);
    let msg = verifier().verify_at(&recut, b"payload", at(T0)).unwrap();
    assert_eq!(msg.id(), format!("a.{ts}"));
}
