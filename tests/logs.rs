//! The log events of the `tracing` feature, captured by a subscriber: one event per rejected
//! delivery with its reason and figures (and none of the attacker's values raw), one per
//! verified delivery with the key's fingerprint, and one per change of keys.
#![cfg(all(feature = "tracing", feature = "axum"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::{Router, http::StatusCode};
use common::{event, new_secret, now, old_secret, send, signed};
use standard_webhooks::{Endpoints, Signer, Verified, Verifier};

/// Everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs a DEBUG subscriber writing to the returned buffer, for this thread (the tests run
/// their servers on a current-thread runtime, so on this thread too).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let guard = tracing::subscriber::set_default(subscriber(&captured));
    (captured, guard)
}

/// A DEBUG subscriber writing to `captured`.
fn subscriber(captured: &Captured) -> impl tracing::Subscriber + Send + Sync + 'static {
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish()
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route(
            "/webhooks/{endpoint}",
            post(|Verified(_): Verified<axum::body::Bytes>| async { StatusCode::NO_CONTENT }),
        )
        .with_state(verifier)
}

/// An id that, logged raw, would forge fields of the log line.
const HOSTILE_ID: &str = "msg_evil status=200 injected=yes";

#[tokio::test]
async fn each_rejection_is_one_event_with_its_reason_and_figures() {
    let (logs, _guard) = capture();
    let verifier = Verifier::builder().secret(new_secret()).build().unwrap();
    let addr = serve(app(verifier)).await;
    let url = format!("http://{addr}/webhooks/dinie");
    let client = reqwest::Client::new();
    let body = event("loan.signed", 1);
    let signer = Signer::new(new_secret());
    logs.clear();

    // Forged, with a hostile id: one WARN event, the counts, and the id nowhere.
    let forged = signed(
        &Signer::new(old_secret()),
        HOSTILE_ID,
        now(),
        body.as_bytes(),
    );
    assert_eq!(send(&client, &url, &forged, body.clone()).await.0, 401);
    let events = logs.lines_with("webhook delivery rejected");
    assert_eq!(events.len(), 1, "{}", logs.text());
    let e = &events[0];
    assert!(e.contains("WARN"), "{e}");
    assert!(
        e.contains("status=401") && e.contains("reason=\"no_matching_signature\""),
        "{e}"
    );
    assert!(e.contains("entries=1") && e.contains("keys=1"), "{e}");
    assert!(e.contains("path=/webhooks/dinie"), "{e}");
    let all = logs.text();
    assert!(
        !all.contains("msg_evil"),
        "a rejected delivery's id was logged: {all}"
    );
    assert!(
        !all.contains('\u{1b}') && !all.contains("injected"),
        "{all}"
    );

    // Stale: the skew and the tolerance.
    logs.clear();
    let stale = signed(&signer, "msg_s", now() - 600, body.as_bytes());
    assert_eq!(send(&client, &url, &stale, body.clone()).await.0, 401);
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(e.contains("reason=\"timestamp_too_old\""), "{e}");
    assert!(
        e.contains("skew_secs=600") || e.contains("skew_secs=601"),
        "{e}"
    );
    assert!(e.contains("tolerance_secs=300"), "{e}");

    // Unsigned: the missing header.
    logs.clear();
    assert_eq!(send(&client, &url, &[], body.clone()).await.0, 400);
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(
        e.contains("reason=\"missing_header\"") && e.contains("header=\"webhook-id\""),
        "{e}"
    );

    // A hostile path: escaped and truncated.
    logs.clear();
    let hostile_path = format!("http://{addr}/webhooks/%1B%5B31m{}", "a".repeat(500));
    assert_eq!(
        send(&client, &hostile_path, &forged, body.clone()).await.0,
        401
    );
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(
        !e.contains(&"a".repeat(200)),
        "the path was not truncated: {e}"
    );

    // Verified: DEBUG, with the key's fingerprint and the id.
    logs.clear();
    let good = signed(&signer, "msg_ok", now(), body.as_bytes());
    assert_eq!(send(&client, &url, &good, body.clone()).await.0, 204);
    let events = logs.lines_with("webhook delivery verified");
    assert_eq!(events.len(), 1, "{}", logs.text());
    let e = &events[0];
    assert!(e.contains("DEBUG") && e.contains("id=msg_ok"), "{e}");
    assert!(
        e.contains(&format!("key={}", new_secret().fingerprint())),
        "{e}"
    );
    assert!(logs.lines_with("rejected").is_empty());
}

#[tokio::test]
async fn server_side_failures_are_errors() {
    let (logs, _guard) = capture();
    // Every key expired since the verifier was built: 500, logged as an ERROR.
    let at = time::OffsetDateTime::now_utc();
    let expired = Verifier::builder()
        .secret_until(new_secret(), at - time::Duration::HOUR)
        .build_at(at - time::Duration::hours(2))
        .unwrap();
    let addr = serve(app(expired)).await;
    let body = event("loan.signed", 1);
    let h = signed(&Signer::new(new_secret()), "msg_1", now(), body.as_bytes());
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/webhooks/dinie");
    assert_eq!(send(&client, &url, &h, body.clone()).await.0, 500);
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(
        e.contains("ERROR") && e.contains("reason=\"no_key_in_force\""),
        "{e}"
    );

    // An unknown endpoint: WARN, its name escaped.
    logs.clear();
    let endpoints = Endpoints::new();
    let app = Router::new()
        .route(
            "/webhooks/{endpoint}",
            post(|Verified(_): Verified<axum::body::Bytes>| async { StatusCode::NO_CONTENT }),
        )
        .with_state(endpoints);
    let addr = serve(app).await;
    let url = format!("http://{addr}/webhooks/nobody");
    assert_eq!(send(&client, &url, &h, body.clone()).await.0, 404);
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(
        e.contains("WARN") && e.contains("reason=\"unknown_endpoint\""),
        "{e}"
    );

    // A router given no keys (`.with_state(verifier)` forgotten): 500, and the log says how to
    // give them.
    logs.clear();
    let app = Router::new().route(
        "/webhooks/{endpoint}",
        post(|Verified(_): Verified<axum::body::Bytes>| async { StatusCode::NO_CONTENT }),
    );
    let addr = serve(app).await;
    let url = format!("http://{addr}/webhooks/dinie");
    assert_eq!(send(&client, &url, &h, body).await.0, 500);
    let e = &logs.lines_with("webhook delivery rejected")[0];
    assert!(
        e.contains("ERROR")
            && e.contains("reason=\"no_verifier\"")
            && e.contains(".with_state(verifier)"),
        "{e}"
    );
}

#[tokio::test]
async fn key_changes_are_logged_by_fingerprint_never_by_key() {
    let (logs, _guard) = capture();
    let old = old_secret();
    let new = new_secret();
    let config = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD@2026-01-01T00:00:00Z";
    // Every line logged, whichever step wrote it, names keys by fingerprint only.
    let no_key_material = |text: &str| {
        for key in [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        ] {
            assert!(
                !text.contains(&key[..12]),
                "key material in the logs: {text}"
            );
        }
    };
    let verifier = Verifier::builder()
        .secrets_from_config(config)
        .unwrap()
        .build()
        .unwrap();
    let built = logs.lines_with("webhook verifier built");
    assert_eq!(built.len(), 1, "{}", logs.text());
    assert!(
        built[0].contains(&old.fingerprint().to_string()),
        "{}",
        built[0]
    );
    // The expired entry is named as such, at WARN.
    let warned = logs.lines_with("never trusted");
    assert_eq!(warned.len(), 1, "{}", logs.text());
    assert!(warned[0].contains("WARN") && warned[0].contains(&new.fingerprint().to_string()));

    no_key_material(&logs.text());
    logs.clear();
    verifier.rotate(new.clone(), std::time::Duration::from_secs(3600));
    let rotated = logs.lines_with("webhook key rotated");
    assert_eq!(rotated.len(), 1, "{}", logs.text());
    assert!(
        rotated[0].contains(&format!("{} (current)", new.fingerprint())),
        "{}",
        rotated[0]
    );
    assert!(
        rotated[0].contains(&format!("{} (retiring", old.fingerprint())),
        "{}",
        rotated[0]
    );

    no_key_material(&logs.text());
    logs.clear();
    verifier
        .reload_from_config("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        .unwrap();
    assert_eq!(logs.lines_with("webhook keys reloaded").len(), 1);
    // The same keys again (a key file rewritten as it was): nothing changed, nothing logged.
    no_key_material(&logs.text());
    logs.clear();
    verifier
        .reload_from_config("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        .unwrap();
    assert_eq!(logs.text(), "");
}

/// A verifier built from a key file and then watched: one line at start-up (the verifier built),
/// not three; a change of the file: one line naming the file, the retiring key as retiring.
#[cfg(feature = "reload")]
#[test]
fn a_watched_key_file_logs_each_change_once() {
    use standard_webhooks::KeyFile;

    // The watcher logs from a thread of its own: a global subscriber (only this test sets one;
    // the others capture on their own thread, which takes precedence there).
    let logs = Captured::default();
    tracing::subscriber::set_global_default(subscriber(&logs)).unwrap();
    let dir = std::env::temp_dir().join(format!("sw-logs-keyfile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("keys");
    std::fs::write(&path, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n").unwrap();
    let verifier = Verifier::builder()
        .secrets_from_file(&path)
        .unwrap()
        .build()
        .unwrap();
    let watcher = KeyFile::new(&path)
        .interval(std::time::Duration::from_millis(20))
        .watch(&verifier)
        .unwrap();
    let info = |logs: &Captured| {
        logs.text()
            .lines()
            .filter(|l| l.contains("INFO"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let lines = info(&logs);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(lines[0].contains("webhook verifier built"), "{}", lines[0]);

    logs.clear();
    let until = time::OffsetDateTime::now_utc() + time::Duration::HOUR;
    let until = until
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let tmp = dir.join("keys.tmp");
    std::fs::write(
        &tmp,
        format!("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw@{until}\n"),
    )
    .unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while verifier.key_count() != 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(verifier.key_count(), 2);
    // The line is written after the keys are installed: give the thread a moment.
    while info(&logs).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let lines = info(&logs);
    assert_eq!(lines.len(), 1, "{}", logs.text());
    assert!(
        lines[0].contains("webhook keys loaded from key file")
            && lines[0].contains(&format!("{} (retiring, until", old_secret().fingerprint())),
        "{}",
        lines[0]
    );
    drop(watcher);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A genuine delivery that the handler's payload extractor refuses (the body does not fit the
/// handler's type) is answered by the extractor, and logged: one WARN event with the status and
/// the extractor's rejection type, none of its message (which may quote the body).
#[tokio::test]
async fn a_payload_the_handler_cannot_take_is_logged_after_verification() {
    let (logs, _guard) = capture();
    let verifier = Verifier::builder().secret(new_secret()).build().unwrap();
    let app = Router::new()
        .route(
            "/webhooks/{endpoint}",
            post(
                |Verified(axum::Json(_)): Verified<axum::Json<Vec<u32>>>| async {
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(verifier);
    let addr = serve(app).await;
    let url = format!("http://{addr}/webhooks/dinie");
    let body = event("loan.signed", 1);
    let h = signed(&Signer::new(new_secret()), "msg_1", now(), body.as_bytes());
    logs.clear();
    let (status, _) = send(&reqwest::Client::new(), &url, &h, body).await;
    assert_eq!(status, 422);
    assert_eq!(
        logs.lines_with("webhook delivery verified").len(),
        1,
        "{}",
        logs.text()
    );
    let events = logs.lines_with("webhook delivery rejected");
    assert_eq!(events.len(), 1, "{}", logs.text());
    let e = &events[0];
    assert!(
        e.contains("WARN")
            && e.contains("status=422")
            && e.contains("reason=\"payload_rejected\"")
            && e.contains("extractor=\"axum::extract::rejection::JsonRejection\""),
        "{e}"
    );
    assert!(
        !e.contains("loan.signed") && !e.contains("invalid type"),
        "{e}"
    );
}

#[cfg(feature = "actix-web")]
mod actix {
    use actix_web::{App, HttpResponse, test, web};
    use standard_webhooks::{Signer, Verified, Verifier};

    use super::capture;
    use super::common::{event, new_secret, now, signed};

    /// The same, through actix-web's extractor: the path is known there, and logged escaped.
    #[actix_web::test]
    async fn actix_a_payload_the_handler_cannot_take_is_logged_after_verification() {
        let (logs, _guard) = capture();
        let verifier = Verifier::builder().secret(new_secret()).build().unwrap();
        let app = test::init_service(App::new().app_data(web::Data::new(verifier)).route(
            "/webhooks/dinie",
            web::post().to(|Verified(_): Verified<web::Json<Vec<u32>>>| async {
                HttpResponse::NoContent().finish()
            }),
        ))
        .await;
        let body = event("loan.signed", 1);
        let mut req = test::TestRequest::post()
            .uri("/webhooks/dinie")
            .insert_header(("content-type", "application/json"));
        for (name, value) in signed(&Signer::new(new_secret()), "msg_1", now(), body.as_bytes()) {
            req = req.insert_header((name, value));
        }
        logs.clear();
        let response = test::call_service(&app, req.set_payload(body).to_request()).await;
        assert_eq!(response.status().as_u16(), 400);
        let events = logs.lines_with("webhook delivery rejected");
        assert_eq!(events.len(), 1, "{}", logs.text());
        let e = &events[0];
        assert!(
            e.contains("WARN")
                && e.contains("status=400")
                && e.contains("reason=\"payload_rejected\"")
                && e.contains("extractor=\"actix_web::types::json::Json<")
                && e.contains("path=/webhooks/dinie"),
            "{e}"
        );
        assert!(
            !e.contains("loan.signed") && !e.contains("invalid type"),
            "{e}"
        );
    }
}
