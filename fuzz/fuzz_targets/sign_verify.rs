//! Sign-then-verify agreement. What `Signer` produces verifies (through pairs, the signed
//! headers themselves and `http::HeaderMap`), under all its keys and under each one alone;
//! after a change of the id, the timestamp, the body or every signature entry it never does.
#![no_main]

use core::time::Duration;

use libfuzzer_sys::fuzz_target;
use standard_webhooks::{Error, Secret, SignedHeaders, Signer, Verifier};
use standard_webhooks_fuzz::{SignInput, key_from, split_message};
use time::OffsetDateTime;

fn verifier(keys: &[Secret], tolerance: Duration) -> Verifier {
    keys.iter()
        .fold(Verifier::builder().tolerance(tolerance), |b, k| {
            b.secret(k.clone())
        })
        .build()
        .unwrap()
}

fn verify(v: &Verifier, h: &SignedHeaders, body: &[u8], now: OffsetDateTime) -> Result<(), Error> {
    let pairs: Vec<(&str, &str)> = h.iter().collect();
    let got = v.verify_at(&pairs, body, now).map(|_| ());
    assert_eq!(v.verify_at(h, body, now).map(|_| ()), got);
    if let Ok(map) = http::HeaderMap::try_from(h) {
        assert_eq!(v.verify_at(&map, body, now).map(|_| ()), got);
    }
    got
}

fuzz_target!(|input: SignInput<'_>| {
    let Ok(now) = OffsetDateTime::from_unix_timestamp(input.now) else {
        return;
    };
    let tolerance_secs = i64::from(input.tolerance_secs);
    let tolerance = Duration::from_secs(input.tolerance_secs.into());
    // A timestamp anywhere in the inclusive window [now - tolerance, now + tolerance].
    let ts = input.now + input.offset.rem_euclid(2 * tolerance_secs + 1) - tolerance_secs;
    if OffsetDateTime::from_unix_timestamp(ts).is_err() {
        return;
    }
    let mut keys: Vec<Secret> = Vec::new();
    // Distinct keys: a verifier refuses a key given twice, and two keys HMAC cannot tell apart
    // (the same bytes but for trailing zero bytes) are the same key, with the same fingerprint.
    for key in input.keys.iter().filter_map(key_from) {
        if !keys.iter().any(|k| k.fingerprint() == key.fingerprint()) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        keys.push(Secret::from_bytes(input.keys[0].bytes).unwrap());
    }
    let (id, body) = split_message(input.message);

    let signer = Signer::from_secrets(keys.clone()).unwrap();
    let headers = signer.headers(&id, ts, &body);
    assert_eq!(headers.signature.split(' ').count(), keys.len());
    let all = verifier(&keys, tolerance);

    if id.is_empty() {
        // A delivery cannot carry an empty id: the header counts as missing.
        assert_eq!(
            verify(&all, &headers, &body, now),
            Err(Error::MissingHeader {
                header: "webhook-id"
            })
        );
        return;
    }
    assert_eq!(verify(&all, &headers, &body, now), Ok(()));
    let msg = all.verify_at(&headers, &body, now).unwrap();
    assert_eq!(
        (msg.id(), msg.timestamp().unix_timestamp(), msg.body()),
        (id.as_str(), ts, body.as_slice())
    );
    for key in &keys {
        assert_eq!(
            verify(
                &verifier(std::slice::from_ref(key), tolerance),
                &headers,
                &body,
                now
            ),
            Ok(())
        );
    }

    let pos = usize::from(input.position);
    let mut body = body;
    let mut changed = headers.clone();
    match input.mutation % 5 {
        1 => {
            // Another non-empty id: one character replaced, or one appended.
            let mut chars: Vec<char> = id.chars().collect();
            let at = pos % (chars.len() + 1);
            match chars.get_mut(at) {
                Some(c) => *c = if *c == 'a' { 'b' } else { 'a' },
                None => chars.push(char::from(input.byte)),
            }
            changed.id = chars.into_iter().collect();
            assert_ne!(changed.id, id);
        }
        2 => {
            // Another timestamp in the window (the window has room unless the tolerance is 0).
            let Some(other) = [ts + 1, ts - 1]
                .into_iter()
                .find(|t| (t - input.now).abs() <= tolerance_secs)
            else {
                return;
            };
            if OffsetDateTime::from_unix_timestamp(other).is_err() {
                return;
            }
            changed.timestamp = other.to_string();
        }
        3 => {
            let at = pos % (body.len() + 1);
            match body.get_mut(at) {
                Some(b) => *b ^= input.byte.max(1),
                None => body.push(input.byte),
            }
        }
        4 => {
            // Change one base64 character of every entry to another character.
            let entries: Vec<String> = changed
                .signature
                .split(' ')
                .map(|entry| {
                    let mut bytes = entry.as_bytes().to_vec();
                    let at = 3 + pos % (bytes.len() - 3);
                    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
                    String::from_utf8(bytes).unwrap()
                })
                .collect();
            changed.signature = entries.join(" ");
        }
        _ => return,
    }
    match verify(&all, &changed, &body, now) {
        Err(Error::NoMatchingSignature { .. }) => {}
        other => panic!("a changed delivery gave {other:?}"),
    }
});
