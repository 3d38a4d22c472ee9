//! Writes the seed corpus of every fuzz target from the official vectors
//! (tests/data/official.json) and the cases of the crate's tests.
//!
//! `cargo run --manifest-path fuzz/Cargo.toml --example seeds -- OUT_DIR` writes
//! `OUT_DIR/<target>/<name>`; `.ci/run` does so into a temporary directory before fuzzing.
//! Each structured seed is read back with `arbitrary` and compared with what was meant, so a
//! change of the input types or of `arbitrary` cannot silently turn the seeds into noise.

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use standard_webhooks_fuzz::{
    KeySpec, OFFICIAL_SECRETS, SignInput, VerifyInput, encode_sign, encode_verify,
};

const NO_KEY: KeySpec = KeySpec {
    kind: 3,
    bytes: [0; 32],
    len: 0,
    retiring: 0,
    expires_at: 0,
};

fn official_key(secret: &str) -> Option<KeySpec> {
    let index = OFFICIAL_SECRETS.iter().position(|s| *s == secret)?;
    Some(KeySpec {
        kind: index as u8,
        ..NO_KEY
    })
}

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn str_field<'a>(case: &'a serde_json::Value, field: &str) -> Option<&'a str> {
    case.get(field).and_then(|v| v.as_str())
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("fuzz/corpus"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let vectors: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/data/official.json")).unwrap(),
    )
    .unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    let mut count = 0usize;
    let mut put = |target: &str, name: &str, bytes: &[u8]| {
        write(&out, target, name, bytes);
        count += 1;
    };

    // secret_parse: every key string of the vectors, and the tests' edge cases.
    for case in cases {
        let name = str_field(case, "name").unwrap();
        for field in ["secret", "padded", "signing_key", "public_key"] {
            if let Some(s) = str_field(case, field) {
                put("secret_parse", &format!("{name}-{field}"), s.as_bytes());
            }
        }
    }
    for (name, s) in [
        (
            "trailing-newline",
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n",
        ),
        ("not-base64", "whsec_not base64!"),
        ("url-safe", "whsec_ab-_"),
        ("no-prefix", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        (
            "config",
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD, whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@2026-11-27T01:00:00Z",
        ),
        (
            "config-bad-expiry",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@tomorrow",
        ),
    ] {
        put("secret_parse", name, s.as_bytes());
    }

    // public_key_parse and v1a_verify: the Ed25519 vector.
    for case in cases {
        let name = str_field(case, "name").unwrap();
        let (Some(pk), Some(sk), Some(signature), Some(id), Some(payload)) = (
            str_field(case, "public_key"),
            str_field(case, "signing_key"),
            str_field(case, "signature"),
            str_field(case, "id"),
            str_field(case, "payload"),
        ) else {
            continue;
        };
        put("public_key_parse", &format!("{name}-public"), pk.as_bytes());
        put(
            "public_key_parse",
            &format!("{name}-signing"),
            sk.as_bytes(),
        );
        let raw_pk = STANDARD.decode(pk.trim_start_matches("whpk_")).unwrap();
        put("public_key_parse", &format!("{name}-public-raw"), &raw_pk);
        let seed = STANDARD.decode(sk.trim_start_matches("whsk_")).unwrap();
        put(
            "v1a_verify",
            &format!("{name}-header"),
            &[b"\0", signature.as_bytes()].concat(),
        );
        put(
            "v1a_verify",
            &format!("{name}-among-v1"),
            &[
                b"\0v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= ",
                signature.as_bytes(),
            ]
            .concat(),
        );
        let message = format!("{id}\n{payload}");
        put(
            "v1a_verify",
            &format!("{name}-sign"),
            &[b"\x01", &seed[..], message.as_bytes()].concat(),
        );
    }

    // signature_header: the signatures of the vectors about example A, and limits.
    let a_id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    let valid_a = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    for case in cases {
        if str_field(case, "id") == Some(a_id) {
            let name = str_field(case, "name").unwrap();
            put(
                "signature_header",
                name,
                str_field(case, "signature").unwrap().as_bytes(),
            );
        }
    }
    put(
        "signature_header",
        "repeated-header",
        format!("v2,x\n{valid_a}").as_bytes(),
    );
    put(
        "signature_header",
        "sixteen-entries",
        [valid_a; 16].join(" ").as_bytes(),
    );
    put(
        "signature_header",
        "seventeen-entries",
        [valid_a; 17].join(" ").as_bytes(),
    );

    // verify_at and sign_verify: each HMAC vector as a request.
    for case in cases {
        let name = str_field(case, "name").unwrap();
        let (Some(secret), Some(id), Some(ts), Some(payload), Some(signature)) = (
            str_field(case, "secret"),
            str_field(case, "id"),
            str_field(case, "timestamp"),
            str_field(case, "payload"),
            str_field(case, "signature"),
        ) else {
            continue;
        };
        let Some(key) = official_key(secret) else {
            continue;
        };
        let now: i64 = ts.parse().unwrap();
        for (variant, request) in [
            (
                "webhook",
                format!(
                    "webhook-id: {id}\nwebhook-timestamp: {ts}\nwebhook-signature: {signature}\n\n{payload}"
                ),
            ),
            (
                "svix-odd-case",
                format!(
                    "Svix-ID: {id}\nSVIX-TIMESTAMP: {ts}\nsvix-Signature: {signature}\n\n{payload}"
                ),
            ),
            (
                "repeated",
                format!(
                    "webhook-id: {id}\nwebhook-id: {id}\nwebhook-timestamp: {ts}\nwebhook-signature: v2,x\nwebhook-signature: {signature}\n\n{payload}"
                ),
            ),
        ] {
            let request = request.into_bytes();
            let input = VerifyInput {
                now,
                tolerance_secs: 300,
                tolerance_nanos: 0,
                keys: [key, NO_KEY, NO_KEY],
                request: &request,
            };
            let bytes = encode_verify(&input);
            let back = VerifyInput::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
            assert_eq!(
                back, input,
                "arbitrary reads the verify_at seed differently"
            );
            put("verify_at", &format!("{name}-{variant}"), &bytes);
        }

        if str_field(case, "kind") == Some("sign") {
            let message = format!("{id}\n{payload}").into_bytes();
            for mutation in 0..5u8 {
                let input = SignInput {
                    now,
                    tolerance_secs: 300,
                    offset: 300, // the timestamp is `now` itself
                    keys: [key, NO_KEY, NO_KEY],
                    mutation,
                    position: 7,
                    byte: b'x',
                    message: &message,
                };
                let bytes = encode_sign(&input);
                let back = SignInput::arbitrary_take_rest(Unstructured::new(&bytes)).unwrap();
                assert_eq!(
                    back, input,
                    "arbitrary reads the sign_verify seed differently"
                );
                put(
                    "sign_verify",
                    &format!("{name}-mutation-{mutation}"),
                    &bytes,
                );
            }
        }
    }
    println!("wrote {count} seeds under {}", out.display());
}
