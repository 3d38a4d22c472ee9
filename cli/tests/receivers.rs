//! The built binary against real receivers on 127.0.0.1: `send` to a verifying receiver, and
//! `check` against the project's example receivers (which must pass every drill), a receiver
//! that accepts everything and one that ignores the timestamp (which must fail the drills they
//! should, by name).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{cli, generate_secret};
use standard_webhooks::Verifier;
use standard_webhooks::time::OffsetDateTime;

/// An in-test receiver on 127.0.0.1, served until the test ends.
struct Server {
    url: String,
    _runtime: tokio::runtime::Runtime,
}

fn serve(app: Router) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });
    Server {
        url: format!("http://{addr}/webhooks"),
        _runtime: runtime,
    }
}

/// What the in-test receivers do with a delivery.
#[derive(Clone)]
struct Receiver {
    verifier: Option<Verifier>,
    /// Judge the timestamp as of the delivery's own time: never stale, never early.
    ignore_timestamp: bool,
    accepted: Arc<AtomicUsize>,
    types: Arc<Mutex<Vec<String>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if let Some(verifier) = &r.verifier {
        let at = if r.ignore_timestamp {
            let ts = headers
                .get("webhook-timestamp")
                .and_then(|v| v.to_str().ok()?.parse().ok())
                .unwrap_or(0);
            OffsetDateTime::from_unix_timestamp(ts).unwrap_or(OffsetDateTime::UNIX_EPOCH)
        } else {
            OffsetDateTime::now_utc()
        };
        if verifier.verify_at(&headers, &body, at).is_err() {
            return StatusCode::UNAUTHORIZED;
        }
    }
    // A receiver that parses its events: a body that is not one is refused.
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(event_type) = event["type"].as_str() else {
        return StatusCode::BAD_REQUEST;
    };
    if !event["timestamp"].is_string() || !event["data"].is_object() {
        return StatusCode::BAD_REQUEST;
    }
    r.types.lock().unwrap().push(event_type.to_owned());
    r.accepted.fetch_add(1, Ordering::SeqCst);
    StatusCode::NO_CONTENT
}

fn receiver(verifier: Option<Verifier>, ignore_timestamp: bool) -> (Server, Receiver) {
    let state = Receiver {
        verifier,
        ignore_timestamp,
        accepted: Arc::default(),
        types: Arc::default(),
    };
    let app = Router::new()
        .route("/webhooks", post(receive))
        .with_state(state.clone())
        .layer(DefaultBodyLimit::max(256 * 1024));
    (serve(app), state)
}

fn verifier(config: &str) -> Verifier {
    Verifier::builder()
        .secrets_from_config(config)
        .unwrap()
        .build()
        .unwrap()
}

/// `check URL args…`: exit code, stdout, and each drill's verdict.
fn check(url: &str, args: &[&str]) -> (i32, String, Vec<(String, String)>) {
    let out = cli().arg("check").arg(url).args(args).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let drills = stdout
        .lines()
        .skip_while(|l| !l.starts_with("drill "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            (words[0].to_owned(), words[words.len() - 1].to_owned())
        })
        .collect();
    (
        out.status.code().unwrap(),
        format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)),
        drills,
    )
}

fn with_verdict(drills: &[(String, String)], verdict: &str) -> BTreeSet<String> {
    drills
        .iter()
        .filter(|(_, v)| v == verdict)
        .map(|(d, _)| d.clone())
        .collect()
}

fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

const ALL_DRILLS: [&str; 11] = [
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
];

#[test]
fn send_posts_signed_events_of_the_senders_types() {
    let (new, old) = (generate_secret(), generate_secret());
    let (server, state) = receiver(Some(verifier(&new)), false);

    // One of every type by default, signed with both keys of a rotation.
    let out = cli()
        .args(["send", &server.url, "--secret", &new, "--secret", &old])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert_eq!(state.accepted.load(Ordering::SeqCst), 16, "{stdout}");
    assert!(
        stdout.contains("16 deliveries") && stdout.contains("16 accepted"),
        "{stdout}"
    );
    let types = state.types.lock().unwrap().clone();
    for t in [
        "customer.kyc_updated",
        "credit_offer.expired",
        "loan.payment_received",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} not sent: {types:?}");
    }

    // --type, --count and --data.
    state.types.lock().unwrap().clear();
    let out = cli()
        .args([
            "send",
            &server.url,
            "--secret",
            &new,
            "--type",
            "loan.*",
            "--count",
            "12",
        ])
        .args(["--data", r#"{"loan_id":"ln_test"}"#])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let types = state.types.lock().unwrap().clone();
    assert_eq!(types.len(), 12);
    assert!(types.iter().all(|t| t.starts_with("loan.")), "{types:?}");
    assert_eq!(state.accepted.load(Ordering::SeqCst), 28);

    // Signed with a key the receiver does not hold: refused, exit 1.
    let out = cli()
        .args([
            "send",
            &server.url,
            "--secret",
            &old,
            "--type",
            "customer.active",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("401 Unauthorized"), "{stdout}");
    assert!(stdout.contains("1 delivery to"), "{stdout}");
    assert!(!stdout.contains("no webhook route"), "{stdout}");
    assert_eq!(state.accepted.load(Ordering::SeqCst), 28);

    // A wrong path: the 404 is named as the URL's fault.
    let out = cli()
        .args(["send", &format!("{}/wrong", server.url), "--secret", &new])
        .args(["--count", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "note: answered 404: no webhook route at this URL? (check its path and method)"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.matches("no webhook route").count(), 1, "{stdout}");
    assert_eq!(state.accepted.load(Ordering::SeqCst), 28);

    // A receiver that is down: exit 2, saying so.
    let down = format!("http://{}/webhooks", free_address());
    let out = cli()
        .args(["send", &down, "--secret", &new])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr.contains("cannot connect to"), "{stderr}");
}

/// An address nothing listens on.
fn free_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn a_receiver_that_accepts_everything_fails_the_refusal_drills() {
    let (server, _) = receiver(None, false);
    let (code, out, drills) = check(
        &server.url,
        &[
            "--secret",
            &generate_secret(),
            "--retiring",
            &generate_secret(),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        with_verdict(&drills, "FAIL"),
        names(&[
            "forged",
            "tampered",
            "stale",
            "future",
            "unsigned",
            "wrong-scheme"
        ]),
        "{out}"
    );
    assert_eq!(
        with_verdict(&drills, "ok"),
        names(&[
            "genuine",
            "redelivery",
            "both-keys",
            "retiring-key",
            "oversized"
        ]),
        "{out}"
    );
    assert!(
        out.contains("FAIL stale: accepted a delivery signed 10 minutes ago"),
        "{out}"
    );
    // Its body limit is 256 KiB: a body of 1001 bytes is accepted, which is a warning (should),
    // not a failure; one of 300,001 bytes gets its 413.
    let (_, out, drills) = check(
        &server.url,
        &["--secret", &generate_secret(), "--max-body", "1000"],
    );
    assert_eq!(
        with_verdict(&drills, "warn"),
        names(&["oversized"]),
        "{out}"
    );
    assert!(
        out.contains("did not refuse a body of 1001 bytes with 413"),
        "{out}"
    );
    let (_, out, drills) = check(
        &server.url,
        &["--secret", &generate_secret(), "--max-body", "300000"],
    );
    assert_eq!(
        with_verdict(&drills, "ok"),
        names(&["genuine", "redelivery", "oversized"]),
        "{out}"
    );
}

#[test]
fn a_receiver_that_ignores_the_timestamp_fails_stale_and_future() {
    let key = generate_secret();
    let (server, _) = receiver(Some(verifier(&key)), true);
    let (code, out, drills) = check(&server.url, &["--secret", &key]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        with_verdict(&drills, "FAIL"),
        names(&["stale", "future"]),
        "{out}"
    );
    assert_eq!(
        with_verdict(&drills, "ok"),
        names(&[
            "genuine",
            "redelivery",
            "forged",
            "tampered",
            "unsigned",
            "wrong-scheme",
            "oversized"
        ]),
        "{out}"
    );
    assert!(!out.contains(&key[6..]), "the key is printed");
}

#[test]
fn a_receiver_without_the_retiring_key_fails_the_rotation_drills() {
    let key = generate_secret();
    let (server, _) = receiver(Some(verifier(&key)), false);
    let (code, out, drills) = check(
        &server.url,
        &["--secret", &key, "--retiring", &generate_secret()],
    );
    assert_eq!(code, 1, "{out}");
    // Both keys' entries: one verifies, so accepted; the retiring key alone is not.
    assert_eq!(
        with_verdict(&drills, "FAIL"),
        names(&["retiring-key"]),
        "{out}"
    );
}

#[test]
fn a_receiver_of_v1a_signatures_passes_every_drill() {
    let out = cli().args(["generate", "keypair"]).output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    let (signing, public) = out.trim().split_once('\n').unwrap();
    let (server, _) = receiver(Some(verifier(public)), false);
    let (code, out, drills) = check(&server.url, &["--secret", signing]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("--secret: v1a key"), "{out}");
    let all_but_rotation: Vec<&str> = ALL_DRILLS
        .into_iter()
        .filter(|d| !["both-keys", "retiring-key"].contains(d))
        .collect();
    assert_eq!(
        with_verdict(&drills, "ok"),
        names(&all_but_rotation),
        "{out}"
    );
}

/// A receiver that records the ids it processed answers a retry 200 without processing it
/// again: the redelivery drill passes with no note.
#[test]
fn a_receiver_that_records_ids_gets_no_redelivery_note() {
    #[derive(Clone)]
    struct Seen(Verifier, Arc<Mutex<BTreeSet<String>>>);
    async fn once(
        State(Seen(verifier, seen)): State<Seen>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        let Ok(message) = verifier.verify(&headers, &body) else {
            return StatusCode::UNAUTHORIZED;
        };
        if seen.lock().unwrap().insert(message.id().to_owned()) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::OK
        }
    }
    let key = generate_secret();
    let app = Router::new()
        .route("/webhooks", post(once))
        .with_state(Seen(verifier(&key), Arc::default()))
        .layer(DefaultBodyLimit::max(256 * 1024));
    let server = serve(app);
    let (code, out, drills) = check(&server.url, &["--secret", &key]);
    assert_eq!(code, 0, "{out}");
    assert!(with_verdict(&drills, "ok").contains("redelivery"), "{out}");
    assert!(!out.contains("note redelivery"), "{out}");
}

/// A wrong path (404) and a receiver that fails (500, e.g. no keys given to the framework) are
/// named as such, not blamed on the secret or the body.
#[test]
fn a_wrong_url_and_a_failing_receiver_are_named() {
    let key = generate_secret();
    let (server, _) = receiver(Some(verifier(&key)), false);
    let (code, out, drills) = check(&format!("{}/wrong", server.url), &["--secret", &key]);
    assert_eq!(code, 1, "{out}");
    assert!(with_verdict(&drills, "FAIL").contains("genuine"), "{out}");
    assert!(
        out.contains("FAIL genuine: answered 404: no webhook route at this URL?"),
        "{out}"
    );
    assert!(!out.contains("does it hold this --secret"), "{out}");

    let failing = serve(Router::new().route(
        "/webhooks",
        post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
    ));
    let (code, out, _) = check(&failing.url, &["--secret", &key]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "FAIL genuine: answered 500: the receiver failed, it did not judge the delivery"
        ),
        "{out}"
    );
}

#[test]
fn a_receiver_that_is_down_is_exit_2() {
    let url = format!("http://{}/webhooks", free_address());
    let (code, out, _) = check(&url, &["--secret", &generate_secret()]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("error: cannot connect to"), "{out}");
}

/// The workspace's root, where the example receivers are.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The example receivers, built once per test run by cargo itself (nothing to do when
/// `cargo test --workspace --all-features` built them already, as CI does), in the target
/// directory of this test.
fn examples() -> &'static PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        // <target>/debug/deps/receivers-… → <target>/debug
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned();
        let target_dir = profile_dir.parent().unwrap();
        let status = Process::new(env!("CARGO"))
            .current_dir(root())
            .args(["build", "--workspace", "--all-features"])
            .args(["--example", "axum_receiver", "--example", "actix_receiver"])
            .env("CARGO_TARGET_DIR", target_dir)
            .status()
            .unwrap();
        assert!(status.success(), "building the example receivers failed");
        profile_dir.join("examples")
    })
}

/// An example receiver running as a process; killed when dropped.
struct Example {
    child: Child,
    url: String,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_example(name: &str, secrets: &str) -> Example {
    let mut child = Process::new(examples().join(name))
        .env("WEBHOOK_SECRETS", secrets)
        .env("WEBHOOK_LISTEN", "127.0.0.1:0")
        .env_remove("WEBHOOK_EXAMPLE_SELF_TEST")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads every line, so that the receiver never blocks on a full pipe.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("listening on ") {
                let _ = tx.send(url.trim().to_owned());
            }
        }
    });
    let url = rx.recv_timeout(Duration::from_secs(60));
    let mut example = Example {
        child,
        url: String::new(),
    };
    example.url = url.unwrap_or_else(|_| panic!("{name} did not say where it listens"));
    example
}

fn example_passes_every_drill(name: &str) {
    let (new, old) = (generate_secret(), generate_secret());
    let expiry = OffsetDateTime::now_utc() + standard_webhooks::time::Duration::hours(1);
    let expiry = expiry
        .format(&standard_webhooks::time::format_description::well_known::Rfc3339)
        .unwrap();
    let example = start_example(name, &format!("{new} {old}@{expiry}"));
    let (code, out, drills) = check(&example.url, &["--secret", &new, "--retiring", &old]);
    assert_eq!(code, 0, "{name}: {out}");
    // The example answers a retry as the first delivery: `check` says it cannot tell more.
    assert!(
        out.contains("note redelivery: answered the retry as it answered the first delivery"),
        "{name}: {out}"
    );
    assert_eq!(
        with_verdict(&drills, "ok"),
        names(&ALL_DRILLS),
        "{name}: {out}"
    );
}

#[test]
fn the_axum_example_passes_every_drill() {
    example_passes_every_drill("axum_receiver");
}

#[test]
fn the_actix_example_passes_every_drill() {
    example_passes_every_drill("actix_receiver");
}

/// A careless configuration stops an example at start-up with a sentence naming the variable
/// and the entry, not a `Debug` dump of the error, and without the key.
#[test]
fn the_examples_refuse_a_bad_key_list_with_a_sentence() {
    let key = generate_secret();
    for name in ["axum_receiver", "actix_receiver"] {
        for (config, expected) in [
            (
                "changeme".to_owned(),
                "WEBHOOK_SECRETS: key configuration, entry 1 of 1 (8 characters, no `whsec_` \
                 prefix): the secret decodes to 6 bytes",
            ),
            (
                format!("\"{key}\""),
                "in quotes: remove the quotes around it)",
            ),
        ] {
            let out = Process::new(examples().join(name))
                .env("WEBHOOK_SECRETS", &config)
                .env("WEBHOOK_LISTEN", "127.0.0.1:0")
                .env_remove("WEBHOOK_EXAMPLE_SELF_TEST")
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{name} started with {config:?}");
            assert!(stderr.contains(expected), "{name}: {stderr}");
            assert!(!stderr.contains("ConfigEntry {"), "{name}: {stderr}");
            assert!(
                !stderr.contains(&key[6..20]),
                "{name} shows the key: {stderr}"
            );
        }
    }
}
