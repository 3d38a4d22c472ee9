//! Keys that change under load, with real servers: 20,000 deliveries over 64 connections while
//! the keys rotate every ~200 ms, by `Verifier::rotate` and (feature `reload`) by rewriting the
//! key file a `KeyFile` watcher reads. Every answer is checked against what the keys were at the
//! time:
//! a delivery signed by a key in force from before it was sent until its answer came back must
//! be accepted; one signed only by keys that had expired before it was sent, or never
//! installed, must be refused. (A key that expired while the request was in flight may go
//! either way; such deliveries are counted, and must be few.)
#![cfg(all(feature = "axum", feature = "actix-web"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use standard_webhooks::{Fingerprint, Secret, Signer, Verified, Verifier};
use time::OffsetDateTime;

const DELIVERIES: usize = 20_000;
const CONNECTIONS: usize = 64;
const ROTATE_EVERY: Duration = Duration::from_millis(200);
/// The grace period of each rotation: short, so that keys expire during the test.
const GRACE: Duration = Duration::from_millis(700);
/// Each connection's pause between deliveries: the run lasts a few seconds, so that the keys
/// rotate some twenty times and many deliveries are signed by keys that expired.
const PACE: Duration = Duration::from_millis(8);

/// A key the rotator installed, and when it was installed.
#[derive(Clone)]
struct Installed {
    secret: Secret,
    fingerprint: Fingerprint,
    at: OffsetDateTime,
}

/// What the senders know of the keys: every key installed so far, oldest first. Expiries are
/// read from the verifier itself (`Verifier::keys`), after each answer.
#[derive(Default)]
struct Schedule {
    installed: RwLock<Vec<Installed>>,
    /// The last expiry seen of each key, by fingerprint (an expiry, once set, only stays).
    expiries: Mutex<std::collections::HashMap<Fingerprint, OffsetDateTime>>,
}

impl Schedule {
    fn install(&self, secret: Secret, at: OffsetDateTime) {
        let fingerprint = secret.fingerprint();
        self.installed.write().unwrap().push(Installed {
            secret,
            fingerprint,
            at,
        });
    }

    fn note_expiries(&self, verifier: &Verifier) {
        let mut expiries = self.expiries.lock().unwrap();
        for key in verifier.keys() {
            if let Some(at) = key.expires_at() {
                expiries.insert(key.fingerprint(), at);
            }
        }
    }

    fn expiry(&self, fingerprint: Fingerprint) -> Option<OffsetDateTime> {
        self.expiries.lock().unwrap().get(&fingerprint).copied()
    }
}

/// The verdicts of the run.
#[derive(Default, Debug)]
struct Tally {
    accepted_as_due: AtomicUsize,
    refused_expired: AtomicUsize,
    refused_stranger: AtomicUsize,
    in_flight_expiry: AtomicUsize,
    by_retiring_key: AtomicUsize,
}

/// Rotates the keys of `verifier` every `ROTATE_EVERY` until `stop`, recording each new key.
async fn rotator(verifier: Verifier, schedule: Arc<Schedule>, stop: Arc<AtomicBool>, n: u8) {
    let mut round = 0u32;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(ROTATE_EVERY).await;
        round += 1;
        let mut bytes = [n; 32];
        bytes[..4].copy_from_slice(&round.to_le_bytes());
        let secret = Secret::from_bytes(bytes).unwrap();
        // A key is recorded as installed only once `rotate` returned: a delivery signed by it
        // is sent after that.
        let v = verifier.clone();
        let s = secret.clone();
        tokio::task::spawn_blocking(move || v.rotate(s, GRACE))
            .await
            .unwrap();
        schedule.install(secret, OffsetDateTime::now_utc());
        schedule.note_expiries(&verifier);
    }
}

/// Rotates by rewriting the key file at `path` every `ROTATE_EVERY` (a temporary file renamed
/// over it, as a secrets manager does): the new key, and the previous keys until their grace
/// period ends. A key is recorded as installed once the verifier lists it.
#[cfg(feature = "reload")]
async fn file_rotator(
    verifier: Verifier,
    schedule: Arc<Schedule>,
    stop: Arc<AtomicBool>,
    n: u8,
    path: std::path::PathBuf,
) {
    use base64::Engine as _;
    let text = |bytes: [u8; 32]| {
        format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    };
    let rfc3339 = |at: OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    // The keys in the file: text, and expiry (none for the current one).
    let mut lines: Vec<(String, Option<OffsetDateTime>)> = vec![(text([n; 32]), None)];
    let mut round = 0u32;
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(ROTATE_EVERY).await;
        round += 1;
        let mut bytes = [n; 32];
        bytes[..4].copy_from_slice(&round.to_le_bytes());
        let now = OffsetDateTime::now_utc();
        for line in &mut lines {
            line.1.get_or_insert(now + GRACE);
        }
        lines.retain(|(_, expiry)| expiry.is_some_and(|at| at > now));
        lines.insert(0, (text(bytes), None));
        let content: String = lines
            .iter()
            .map(|(key, expiry)| match expiry {
                Some(at) => format!("{key}@{}\n", rfc3339(*at)),
                None => format!("# the current key\n{key}\n"),
            })
            .collect();
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, content).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let secret = Secret::from_bytes(bytes).unwrap();
        let fingerprint = secret.fingerprint();
        let picked_up = std::time::Instant::now();
        while !verifier
            .keys()
            .iter()
            .any(|k| k.fingerprint() == fingerprint)
        {
            assert!(
                picked_up.elapsed() < Duration::from_secs(5),
                "the watcher did not pick the file up"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        schedule.install(secret, OffsetDateTime::now_utc());
        schedule.note_expiries(&verifier);
    }
}

/// Sends `DELIVERIES` deliveries over `CONNECTIONS` connections to `url` and checks each answer.
async fn drive(url: String, verifier: Verifier, schedule: Arc<Schedule>) -> Tally {
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let stranger = Signer::new(Secret::from_bytes([0xee; 32]).unwrap());
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let (url, client, next, tally) = (url.clone(), client.clone(), next.clone(), tally.clone());
        let (schedule, verifier, stranger) = (schedule.clone(), verifier.clone(), stranger.clone());
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= DELIVERIES {
                    return;
                }
                let body = common::event("loan.payment_received", i);
                let installed = schedule.installed.read().unwrap().clone();
                let sent = OffsetDateTime::now_utc();
                // Which keys sign: the newest, the newest and the one before (a sender in its
                // grace period), one of the older ones alone, or a stranger's key.
                let newest = installed.len() - 1;
                let signers: Vec<&Installed> = match i % 8 {
                    0..=2 => vec![&installed[newest]],
                    3 | 4 if newest > 0 => vec![&installed[newest - 1], &installed[newest]],
                    5 | 6 => vec![&installed[(i / 8) % installed.len()]],
                    7 => Vec::new(),
                    _ => vec![&installed[newest]],
                };
                let signer = if signers.is_empty() {
                    stranger.clone()
                } else {
                    Signer::from_secrets(signers.iter().map(|k| k.secret.clone())).unwrap()
                };
                let id = format!("msg_soak_{i}");
                let headers = common::signed(&signer, &id, sent.unix_timestamp(), body.as_bytes());
                let (status, text) = common::send(&client, &url, &headers, body).await;
                let answered = OffsetDateTime::now_utc();
                schedule.note_expiries(&verifier);
                // In force throughout: installed before sending, not expired by the answer.
                let in_force = |k: &Installed| {
                    k.at <= sent
                        && schedule
                            .expiry(k.fingerprint)
                            .is_none_or(|at| at > answered)
                };
                // Expired before it was sent.
                let expired =
                    |k: &Installed| schedule.expiry(k.fingerprint).is_some_and(|at| at <= sent);
                if signers.iter().any(|k| in_force(k)) {
                    assert_eq!(
                        status, 204,
                        "delivery {i} signed by a key in force: {status} {text}"
                    );
                    tally.accepted_as_due.fetch_add(1, Ordering::Relaxed);
                    if signers.len() == 1 && schedule.expiry(signers[0].fingerprint).is_some() {
                        tally.by_retiring_key.fetch_add(1, Ordering::Relaxed);
                    }
                } else if signers.iter().all(|k| expired(k)) {
                    assert_eq!(
                        status, 401,
                        "delivery {i} signed only by expired or unknown keys: {status} {text}"
                    );
                    let refused = if signers.is_empty() {
                        &tally.refused_stranger
                    } else {
                        &tally.refused_expired
                    };
                    refused.fetch_add(1, Ordering::Relaxed);
                } else {
                    assert!(
                        status == 204 || status == 401,
                        "delivery {i}: {status} {text}"
                    );
                    tally.in_flight_expiry.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(PACE).await;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.unwrap();
    }
    Arc::try_unwrap(tally).unwrap()
}

/// How the keys change during a run.
#[derive(Clone, Copy)]
enum By {
    Rotate,
    #[cfg(feature = "reload")]
    File,
}

/// The run against one server, its keys rotated `by` a call or a file.
async fn soak(url: String, verifier: Verifier, schedule: Arc<Schedule>, n: u8, by: By) {
    let stop = Arc::new(AtomicBool::new(false));
    #[cfg(feature = "reload")]
    let mut _watcher = None;
    let rotating = match by {
        By::Rotate => tokio::spawn(rotator(verifier.clone(), schedule.clone(), stop.clone(), n)),
        #[cfg(feature = "reload")]
        By::File => {
            let path = std::env::temp_dir()
                .join(format!("standard-webhooks-soak-{}-{n}", std::process::id()));
            let first = {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD.encode([n; 32])
            };
            std::fs::write(&path, format!("whsec_{first}\n")).unwrap();
            _watcher = Some(
                standard_webhooks::KeyFile::new(&path)
                    .interval(Duration::from_millis(20))
                    .watch(&verifier)
                    .unwrap(),
            );
            tokio::spawn(file_rotator(
                verifier.clone(),
                schedule.clone(),
                stop.clone(),
                n,
                path,
            ))
        }
    };
    let started = std::time::Instant::now();
    let tally = drive(url, verifier, schedule.clone()).await;
    stop.store(true, Ordering::SeqCst);
    rotating.await.unwrap();
    let rotations = schedule.installed.read().unwrap().len() - 1;
    println!(
        "{tally:?}, {rotations} rotations in {:?}",
        started.elapsed()
    );
    let accepted = tally.accepted_as_due.load(Ordering::Relaxed);
    let expired = tally.refused_expired.load(Ordering::Relaxed);
    let stranger = tally.refused_stranger.load(Ordering::Relaxed);
    let ambiguous = tally.in_flight_expiry.load(Ordering::Relaxed);
    assert_eq!(accepted + expired + stranger + ambiguous, DELIVERIES);
    assert!(rotations >= 10, "the keys rotated {rotations} times only");
    // Each kind of delivery was seen: accepted ones, ones refused for a key that had expired,
    // ones by a retiring key alone.
    assert!(
        accepted > DELIVERIES / 4 && expired > DELIVERIES / 40,
        "{tally:?}"
    );
    assert!(
        tally.by_retiring_key.load(Ordering::Relaxed) > 0,
        "{tally:?}"
    );
    assert!(ambiguous < DELIVERIES / 20, "{tally:?}");
}

fn first_key(n: u8) -> Secret {
    Secret::from_bytes([n; 32]).unwrap()
}

fn started(n: u8) -> (Verifier, Arc<Schedule>) {
    let verifier = Verifier::builder().secret(first_key(n)).build().unwrap();
    let schedule = Arc::new(Schedule::default());
    schedule.install(first_key(n), OffsetDateTime::now_utc());
    (verifier, schedule)
}

/// An axum server on `verifier`: its URL.
async fn axum_server(verifier: Verifier) -> String {
    use axum::{Router, http::StatusCode, routing::post};
    let app = Router::new()
        .route(
            "/webhooks/dinie",
            post(
                |Verified(_): Verified<axum::Json<serde_json::Value>>| async {
                    StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(verifier);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/webhooks/dinie")
}

/// An actix-web server on `verifier`: its URL.
fn actix_server(verifier: Verifier) -> String {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let data = web::Data::new(verifier);
    let addr = common::spawn_actix(move |listener| {
        HttpServer::new(move || {
            App::new().app_data(data.clone()).route(
                "/webhooks/dinie",
                web::post().to(
                    |Verified(_): Verified<web::Json<serde_json::Value>>| async {
                        HttpResponse::NoContent().finish()
                    },
                ),
            )
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run()
    });
    format!("http://{addr}/webhooks/dinie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_under_rotation() {
    let (verifier, schedule) = started(1);
    let url = axum_server(verifier.clone()).await;
    soak(url, verifier, schedule, 1, By::Rotate).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_under_rotation() {
    let (verifier, schedule) = started(2);
    let url = actix_server(verifier.clone());
    soak(url, verifier, schedule, 2, By::Rotate).await;
}

#[cfg(feature = "reload")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_under_a_rewritten_key_file() {
    let (verifier, schedule) = started(3);
    let url = axum_server(verifier.clone()).await;
    soak(url, verifier, schedule, 3, By::File).await;
}

#[cfg(feature = "reload")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_under_a_rewritten_key_file() {
    let (verifier, schedule) = started(4);
    let url = actix_server(verifier.clone());
    soak(url, verifier, schedule, 4, By::File).await;
}
