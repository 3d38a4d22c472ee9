//! The built binary, offline: generate → sign → verify round trips, `--request` captures, exit
//! codes, and errors that name the bad input without showing a key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::PathBuf;

use common::{Run, cli, generate_secret, run};
use standard_webhooks::{PublicKey, Secret, SigningKey};

fn generate_keypair() -> (String, String) {
    let out = run(cli().args(["generate", "keypair"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    (lines[0].to_owned(), lines[1].to_owned())
}

/// A temporary file holding `content`, removed with the directory when the test ends.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "standard-webhooks-cli-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const BODY: &str =
    r#"{"type":"loan.active","timestamp":"2026-11-27T12:00:00Z","data":{"loan_id":"ln_8Hq2"}}"#;

/// `sign` with `keys` (and `extra` arguments): the `name: value` header lines.
fn sign(keys: &[&str], body_file: &str, extra: &[&str]) -> String {
    let mut cmd = cli();
    cmd.args(["sign", "--body", body_file]).args(extra);
    for k in keys {
        cmd.args(["--secret", k]);
    }
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.stdout
}

fn verify(keys: &[&str], headers_file: &str, body_file: &str, extra: &[&str]) -> Run {
    let mut cmd = cli();
    cmd.args([
        "verify",
        "-H",
        &format!("@{headers_file}"),
        "--body",
        body_file,
    ])
    .args(extra);
    for k in keys {
        cmd.args(["--secret", k]);
    }
    run(&mut cmd)
}

#[test]
fn generated_keys_parse_with_the_library() {
    let secret = generate_secret();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(secret.parse::<Secret>().unwrap().len(), 32);
    assert_ne!(secret, generate_secret());

    let (signing, public) = generate_keypair();
    let signing: SigningKey = signing.parse().unwrap();
    let public: PublicKey = public.parse().unwrap();
    assert_eq!(signing.public_key(), public);
}

#[test]
fn sign_then_verify_v1_with_several_keys() {
    let dir = Dir::new("v1");
    let body = dir.file("body.json", BODY);
    let (new, old) = (generate_secret(), generate_secret());
    let headers = sign(&[&new, &old], &body, &[]);
    let lines: Vec<&str> = headers.lines().collect();
    assert_eq!(lines.len(), 3, "{headers}");
    assert!(lines[0].starts_with("webhook-id: msg_"), "{headers}");
    assert!(lines[2].starts_with("webhook-signature: v1,"), "{headers}");
    assert_eq!(lines[2].matches("v1,").count(), 2, "{headers}");
    let headers = dir.file("headers.txt", &headers);

    // Either key alone verifies; the output names the key that matched by its fingerprint.
    for key in [&new, &old] {
        let out = verify(&[key], &headers, &body, &[]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        let fingerprint = key.parse::<Secret>().unwrap().fingerprint().to_string();
        assert!(out.stdout.starts_with("verified"), "{}", out.stdout);
        assert!(out.stdout.contains(&fingerprint), "{}", out.stdout);
        assert!(!out.stdout.contains(&key[6..]), "the key is printed");
    }
    // Both, as one configuration list from the environment.
    let out = run(cli().env("WEBHOOK_SECRETS", format!("{new} {old}")).args([
        "verify",
        "-H",
        &format!("@{headers}"),
        "--body",
        &body,
    ]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // Another key, or another body: not verified, exit 1, in the library's words.
    let out = verify(&[&generate_secret()], &headers, &body, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("no signature in `webhook-signature` matches a trusted key"),
        "{}",
        out.stdout
    );
    let other = dir.file("other.json", BODY.replace("ln_8Hq2", "ln_9999"));
    assert_eq!(verify(&[&new], &headers, &other, &[]).code, 1);
}

#[test]
fn sign_then_verify_v1a_and_mixed() {
    let dir = Dir::new("v1a");
    let body = dir.file("body.json", BODY);
    let (signing, public) = generate_keypair();
    let secret = generate_secret();
    let headers = sign(&[&signing, &secret], &body, &[]);
    assert!(
        headers.contains("webhook-signature: v1a,") && headers.contains(" v1,"),
        "{headers}"
    );
    let headers = dir.file("headers.txt", &headers);
    let out = verify(&[&public], &headers, &body, &[]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("public key, v1a"), "{}", out.stdout);
    assert_eq!(verify(&[&secret], &headers, &body, &[]).code, 0);

    // The v1a entry alone does not verify under another public key, nor a secret.
    let headers = dir.file("v1a.txt", sign(&[&signing], &body, &[]));
    let (_, other_public) = generate_keypair();
    assert_eq!(verify(&[&other_public], &headers, &body, &[]).code, 1);
    assert_eq!(verify(&[&secret], &headers, &body, &[]).code, 1);
}

#[test]
fn old_captures_are_judged_with_at_and_expiries() {
    let dir = Dir::new("at");
    let body = dir.file("body.json", BODY);
    let (new, old) = (generate_secret(), generate_secret());
    // Signed by the old key alone, on 2026-11-27 at 12:00 UTC.
    let ts = "1795780800";
    let headers = dir.file(
        "headers.txt",
        sign(&[&old], &body, &["--id", "msg_1", "--timestamp", ts]),
    );

    // Judged now, it is stale, and the hint says how to judge it as of its own time.
    let out = verify(&[&old], &headers, &body, &[]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("in the past"), "{}", out.stdout);
    assert!(out.stdout.contains(&format!("--at {ts}")), "{}", out.stdout);
    // `explain` names the skew, and gives the same way to judge it.
    let out = run(cli()
        .args(["explain", "--secret", &old, "-H", &format!("@{headers}")])
        .args(["--body", &body]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("timestamp_skew"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!(
            "hint: to check the signature of an old capture, judge it as of its own time: --at {ts}"
        )),
        "{}",
        out.stdout
    );

    // As of its time (Unix seconds or RFC 3339), with the old key retiring an hour later: verified.
    let retiring = format!("{old}@2026-11-27T13:00:00Z");
    for at in [ts, "2026-11-27T12:01:00Z"] {
        let out = verify(&[&new, &retiring], &headers, &body, &["--at", at]);
        assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stdout.contains("retiring until 2026-11-27T13:00:00Z"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("--secret #2"), "{}", out.stdout);
    }
    // The old key had expired by then: not verified, since only the new one was in force.
    let expired = format!("{old}@2026-11-27T11:00:00Z");
    let out = verify(&[&new, &expired], &headers, &body, &["--at", ts]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("keys in force: 1"), "{}", out.stdout);
    // Only expired keys: bad input (the verifier cannot be built), exit 2.
    let out = verify(&[&expired], &headers, &body, &["--at", ts]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--secret: no key is in force"),
        "{}",
        out.stderr
    );
}

/// A timestamp ahead of the clock is no old capture: no `--at` hint. In milliseconds, the hint
/// says so (the diagnosis's finding), not that a clock is off.
#[test]
fn a_timestamp_in_the_future_or_in_milliseconds_is_named() {
    let dir = Dir::new("future");
    let body = dir.file("body.json", BODY);
    let secret = generate_secret();
    let now = standard_webhooks::time::OffsetDateTime::now_utc().unix_timestamp();
    let cases = [
        (
            now + 3600,
            "a timestamp in the future: the sender's clock or this one is off",
        ),
        (
            now * 1000 + 123,
            "`webhook-timestamp` has 13 digits: Unix milliseconds, not seconds",
        ),
    ];
    for (i, (ts, expected)) in cases.into_iter().enumerate() {
        let ts = ts.to_string();
        let headers = dir.file(
            &format!("headers-{i}.txt"),
            sign(&[&secret], &body, &["--timestamp", &ts]),
        );
        let out = verify(&[&secret], &headers, &body, &[]);
        assert_eq!(out.code, 1, "{}", out.stdout);
        assert!(out.stdout.contains("in the future"), "{}", out.stdout);
        assert!(
            out.stdout.contains(&format!("  hint: {expected}")),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("--at"), "{}", out.stdout);
    }
}

#[test]
fn a_captured_request_verifies_and_h_and_body_override_it() {
    let dir = Dir::new("request");
    let secret = generate_secret();
    let body_file = dir.file("body.json", BODY);
    let signed = sign(&[&secret], &body_file, &[]);
    // As `nc -l` prints it: CRLF line ends, header names in any case, other headers around.
    let mut capture = String::from("POST /webhooks/dinie HTTP/1.1\r\nHost: 127.0.0.1:3000\r\n");
    capture.push_str("User-Agent: Dinie-Webhooks/1.0\r\nContent-Type: application/json\r\n");
    for line in signed.lines() {
        let (name, value) = line.split_once(": ").unwrap();
        capture.push_str(&format!("{}: {value}\r\n", name.to_uppercase()));
    }
    capture.push_str(&format!("Content-Length: {}\r\n\r\n{BODY}", BODY.len()));
    let request = dir.file("captured.http", &capture);
    let out = run(cli().args(["verify", "--secret", &secret, "--request", &request]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // LF line ends, from standard input.
    let out = run(cli()
        .args(["verify", "--secret", &secret, "--request", "-"])
        .write_stdin(capture.replace("\r\n", "\n")));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);

    // --body replaces the capture's body; -H replaces its header of the same name.
    let other = dir.file("other.json", "{}");
    let out = run(cli().args([
        "verify",
        "--secret",
        &secret,
        "--request",
        &request,
        "--body",
        &other,
    ]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    let out = run(cli().args([
        "verify",
        "--secret",
        &secret,
        "--request",
        &request,
        "-H",
        "webhook-id: msg_other",
    ]));
    assert_eq!(out.code, 1, "{}", out.stdout);

    // A capture cut short is said to be.
    let cut = dir.file("cut.http", &capture[..capture.len() - 5]);
    let out = run(cli().args(["verify", "--secret", &secret, "--request", &cut]));
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stderr.contains("Content-Length says"), "{}", out.stderr);
}

#[test]
fn the_body_from_standard_input_and_svix_headers() {
    let dir = Dir::new("stdin");
    let secret = generate_secret();
    let body_file = dir.file("body.json", BODY);
    let signed = sign(&[&secret], &body_file, &[]);
    let mut cmd = cli();
    cmd.args(["verify", "--secret", &secret, "--body", "-"]);
    for line in signed.lines() {
        cmd.args(["-H", &line.replace("webhook-", "svix-")]);
    }
    let out = run(cmd.write_stdin(BODY));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

#[test]
fn errors_name_the_input_and_never_show_a_key() {
    let dir = Dir::new("errors");
    let body = dir.file("body.json", BODY);
    let secret = generate_secret();
    let headers = dir.file("headers.txt", sign(&[&secret], &body, &[]));
    let missing = dir.0.join("missing.json");
    let missing = missing.to_str().unwrap();
    let bad_key = format!("{}*", &secret[..20]);
    let at_headers = format!("@{headers}");
    let bad_expiry = format!("{secret}@tomorrow");
    let with_expiry = format!("{secret}@2030-01-01T00:00:00Z");
    let quoted = format!("\"{secret}\"");
    let semicolon = format!("{secret};{}", generate_secret());
    let two = format!("{secret} {}", generate_secret());
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["verify", "--secret", &secret, "-H", &at_headers, "--body", missing],
            format!("--body {missing}: No such file"),
        ),
        (
            vec!["verify", "--secret", &secret, "-H", "webhook-id msg_1", "--body", &body],
            "-H 'webhook-id msg_1': expected 'name: value'".into(),
        ),
        (
            vec!["verify", "--secret", &secret, "-H", &secret, "--body", &body],
            "-H '[key]': expected 'name: value'".into(),
        ),
        (
            vec!["verify", "--secret", &secret, "--secret", &bad_key, "-H", "a: b", "--body", &body],
            "--secret #2: key configuration, entry 1 of 1".into(),
        ),
        (
            vec!["verify", "--secret", &bad_expiry, "-H", "a: b", "--body", &body],
            "--secret: key configuration, entry 1 of 1 (`whsec_` and 44 characters, then `@` and 8 characters): the expiry".into(),
        ),
        (
            vec!["verify", "--secret", &secret, "--request", "-", "--body", "-"],
            "--body -: standard input is already read by --request -".into(),
        ),
        (
            vec!["verify", "--secret", "whsec_changeme", "-H", "a: b", "--body", &body],
            "--secret: key configuration, entry 1 of 1 (`whsec_` and 8 characters): the secret \
             decodes to 6 bytes, too few for a key: Standard Webhooks secrets are 24 to 64 \
             random bytes (`standard-webhooks generate secret` makes one)"
                .into(),
        ),
        (
            vec!["sign", "--secret", "changeme", "--body", &body],
            "--secret (8 characters, no `whsec_` prefix): the secret decodes to 6 bytes, too \
             few for a key: Standard Webhooks secrets are 24 to 64 random bytes \
             (`standard-webhooks generate secret` makes one)"
                .into(),
        ),
        (
            vec!["sign", "--secret", &quoted, "--body", &body],
            "in quotes: remove the quotes around it): the secret is not valid base64".into(),
        ),
        (
            vec!["send", "http://127.0.0.1:9/hook", "--secret", &semicolon],
            "--secret: holds several keys; give each one with its own --secret".into(),
        ),
        (
            vec!["check", "http://127.0.0.1:9/hook", "--secret", &semicolon],
            "--secret: holds several keys; check takes the current key with --secret".into(),
        ),
        (
            vec!["verify", "--secret", &semicolon, "-H", "a: b", "--body", &body],
            "with a `;` or `|`: separate entries with spaces or commas)".into(),
        ),
        (
            vec!["check", "http://127.0.0.1:9/hook", "--secret", &two],
            "--secret: holds several keys; check takes the current key with --secret and the \
             old one of a rotation with --retiring"
                .into(),
        ),
        (
            vec!["send", "127.0.0.1:3000/hook", "--secret", &secret],
            "expected http://HOST[:PORT]/PATH".into(),
        ),
        (
            vec!["verify", "-H", "a: b", "--body", &body],
            "no key: give --secret KEY".into(),
        ),
        (
            vec!["verify", "--secret", &secret, "-H", "a: b", "--body", &body, "--at", "yesterday"],
            "--at 'yesterday': expected Unix seconds".into(),
        ),
        (
            vec!["sign", "--secret", "whpk_ZlN4eg7dSSqi0moX9hQUk3orrOouK3QVQSlJa248c/g=", "--body", &body],
            "--secret: a `whpk_` public key only verifies".into(),
        ),
        (
            vec!["sign", "--secret", &with_expiry, "--body", &body],
            "--secret: an `@expiry` belongs to a receiver's key list".into(),
        ),
        (
            vec!["send", "ftp://example.com/hook", "--secret", &secret],
            "URL 'ftp://example.com/hook': expected http://".into(),
        ),
        (
            vec!["send", "http://127.0.0.1:9/hook", "--secret", &secret, "--data", "{not json"],
            "--data: not JSON".into(),
        ),
        (
            vec!["send", "http://127.0.0.1:9/hook", "--secret", &secret, "--type", "invoice.*"],
            "--type 'invoice.*' matches none of the sender's types".into(),
        ),
    ];
    for (args, expected) in cases {
        let out = run(cli().args(&args).write_stdin(""));
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.starts_with("error: ") && out.stderr.contains(&expected),
            "{args:?}: expected {expected:?} in {:?}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("from_bytes"),
            "{args:?}: names a library function to a command-line user: {:?}",
            out.stderr
        );
        let shown = format!("{}{}", out.stdout, out.stderr);
        for window in secret.as_bytes()[6..].windows(10) {
            let window = std::str::from_utf8(window).unwrap();
            assert!(!shown.contains(window), "{args:?} shows the key: {shown}");
        }
    }
}

/// `standard-webhooks … | head`: the reader has gone when the tool writes. No panic, and the
/// command's own exit status.
#[test]
fn a_closed_standard_output_is_not_a_panic() {
    let dir = Dir::new("closed-stdout");
    let body = dir.file("body.json", BODY);
    let secret = generate_secret();
    for args in [
        vec!["generate", "secret"],
        vec![
            "sign",
            "--secret",
            &secret,
            "--body",
            &body,
            "--curl",
            "http://127.0.0.1:9/hook",
        ],
    ] {
        let mut child =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("standard-webhooks"))
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
        // Closes the reading end before the tool has started writing.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn an_empty_webhook_secrets_is_named_as_such() {
    let dir = Dir::new("empty-env");
    let body = dir.file("body.json", BODY);
    let out = run(cli()
        .env("WEBHOOK_SECRETS", "  ")
        .args(["verify", "-H", "a: b", "--body", &body]));
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("WEBHOOK_SECRETS is set but empty"),
        "{}",
        out.stderr
    );
}

#[test]
fn usage_errors_exit_2_and_every_command_has_help() {
    assert_eq!(run(&mut cli()).code, 2);
    assert_eq!(run(cli().args(["verify", "--bogus"])).code, 2);
    assert_eq!(
        run(cli().args(["sign", "--body", "x"])).code,
        2,
        "no --secret"
    );
    // No body: both ways of giving one are named.
    let out = run(cli().args(["sign", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--body <FILE>|--data <TEXT>"),
        "{}",
        out.stderr
    );
    for command in [
        &["--help"][..],
        &["verify", "--help"],
        &["explain", "--help"],
        &["sign", "--help"],
        &["send", "--help"],
        &["check", "--help"],
        &["generate", "--help"],
        &["generate", "secret", "--help"],
        &["generate", "keypair", "--help"],
    ] {
        let out = run(cli().args(command));
        assert_eq!(out.code, 0, "{command:?}");
        assert!(
            out.stdout.contains("Usage: standard-webhooks"),
            "{command:?}"
        );
    }
    let out = run(cli().args(["check", "--help"]));
    for drill in [
        "genuine",
        "redelivery",
        "both-keys",
        "retiring-key",
        "forged",
        "tampered",
        "stale",
        "future",
        "unsigned",
        "wrong-scheme",
        "oversized",
    ] {
        assert!(out.stdout.contains(drill), "{drill} is not described");
    }
}

#[test]
fn sign_prints_a_curl_command() {
    let dir = Dir::new("curl");
    let body = dir.file("body.json", BODY);
    let secret = generate_secret();
    let url = "http://127.0.0.1:3000/webhooks/dinie";
    let out = run(cli().args(["sign", "--secret", &secret, "--body", &body, "--curl", url]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(&format!("curl -sS -X POST '{url}'")),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-H 'webhook-signature: v1,"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!("--data-binary '@{body}'")),
        "{}",
        out.stdout
    );
    // Inline, with a quote in the body.
    let out = run(cli().args([
        "sign",
        "--secret",
        &secret,
        "--data",
        r#"{"note":"it's"}"#,
        "--curl",
        url,
        "--id",
        "msg_1",
        "--timestamp",
        "1795780800",
    ]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(r#"--data-binary '{"note":"it'\''s"}'"#),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-H 'webhook-id: msg_1'"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("-H 'webhook-timestamp: 1795780800'"),
        "{}",
        out.stdout
    );
}

#[test]
fn explain_names_the_mistake_in_text_and_json() {
    let dir = Dir::new("explain");
    let secret = generate_secret();
    let signed = dir.file("signed.json", BODY);
    let headers = sign(&[&secret], &signed, &[]);
    let headers = dir.file("headers.txt", headers);
    // A JSON middleware parsed the body and wrote it out again, as Python's json.dumps does.
    let python = BODY.replace("\":", "\": ").replace(",\"", ", \"");
    assert_ne!(python, BODY);
    let received = dir.file("received.json", &python);
    let args = |json: bool| {
        let mut cmd = cli();
        cmd.args(["explain", "--secret", &secret, "-H", &format!("@{headers}")]);
        cmd.args(["--body", &received]);
        if json {
            cmd.arg("--json");
        }
        run(&mut cmd)
    };

    let out = args(false);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("rejected: no signature"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("  body_reformatted  the signature matches"),
        "{}",
        out.stdout
    );

    let out = args(true);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.starts_with(
            r#"{"verdict":"rejected","findings":[{"code":"body_reformatted","message":""#
        ),
        "{}",
        out.stdout
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json.as_object().unwrap().len(), 2);
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("raw bytes")
    );

    // The body as signed: verified, no finding.
    let out = run(cli()
        .args([
            "explain",
            "--json",
            "--secret",
            &secret,
            "-H",
            &format!("@{headers}"),
        ])
        .args(["--body", &signed]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout.trim(), r#"{"verdict":"verified","findings":[]}"#);
    let out = run(cli()
        .args(["explain", "--secret", &secret, "-H", &format!("@{headers}")])
        .args(["--body", &signed]));
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("verified"), "{}", out.stdout);

    // Bad input is exit 2, as for verify, and shows no key.
    let out = run(cli().args([
        "explain",
        "--json",
        "--secret",
        &secret[..30],
        "--body",
        &signed,
    ]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("--secret: key configuration"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains(&secret[6..30]), "{}", out.stderr);
}

#[test]
fn explain_judges_keys_as_of_at() {
    let dir = Dir::new("explain-at");
    let body = dir.file("body.json", BODY);
    let (new, old) = (generate_secret(), generate_secret());
    let ts = "1795780800"; // 2026-11-27T12:00:00Z
    let headers = dir.file("headers.txt", sign(&[&old], &body, &["--timestamp", ts]));
    // The old key had retired at 11:00: the sender still signs with it.
    let retired = format!("{old}@2026-11-27T11:00:00Z");
    let out = run(cli()
        .args([
            "explain", "--json", "--at", ts, "--secret", &new, "--secret", &retired,
        ])
        .args(["-H", &format!("@{headers}"), "--body", &body]));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let codes: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["retired_key"], "{}", out.stdout);
    // Still in force at 12:00: verified.
    let retiring = format!("{old}@2026-11-27T13:00:00Z");
    let out = run(cli()
        .args([
            "explain", "--at", ts, "--secret", &new, "--secret", &retiring,
        ])
        .args(["-H", &format!("@{headers}"), "--body", &body]));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}
