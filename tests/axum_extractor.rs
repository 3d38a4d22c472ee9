//! The axum extractors against a real axum server on 127.0.0.1, through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg(feature = "axum")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, State};
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use standard_webhooks::axum::{Verified, VerifiedDelivery};
use standard_webhooks::{Signer, Verifier};

#[derive(Deserialize)]
struct Event {
    r#type: String,
}

#[derive(Clone)]
struct AppState {
    verifier: Verifier,
    seen: Arc<Seen>,
}

impl FromRef<AppState> for Verifier {
    fn from_ref(s: &AppState) -> Verifier {
        s.verifier.clone()
    }
}

/// Echoes the raw verified body.
async fn raw_body(State(s): State<AppState>, Verified(body): Verified<Bytes>) -> Bytes {
    s.seen.record(None, None);
    body
}

/// Parses the verified body as JSON and answers with the message id.
async fn json_event(
    State(s): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    VerifiedDelivery {
        id,
        timestamp,
        payload: Json(event),
        ..
    }: VerifiedDelivery<Json<Event>>,
) -> String {
    assert!(event.r#type.contains('.'));
    assert!(
        (time::OffsetDateTime::now_utc() - timestamp)
            .whole_seconds()
            .abs()
            < 7200
    );
    s.seen.record(Some(&id), Some(peer));
    id
}

struct Server {
    addr: SocketAddr,
    seen: Arc<Seen>,
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Trusts the new secret, and the old one for another hour (a rotation in progress).
async fn start() -> Server {
    let verifier = Verifier::builder()
        .secret(new_secret())
        .secret_until(
            old_secret(),
            time::OffsetDateTime::now_utc() + time::Duration::hours(1),
        )
        .build()
        .unwrap();
    let expired = Verifier::builder()
        .secret_until(
            new_secret(),
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        )
        .build()
        .unwrap();
    let seen = Arc::new(Seen::default());
    let state = AppState {
        verifier,
        seen: seen.clone(),
    };
    let expired_state = AppState {
        verifier: expired,
        seen: seen.clone(),
    };
    let app = Router::new()
        .route("/raw", post(raw_body))
        .route("/json", post(json_event))
        .with_state(state)
        .merge(
            Router::new()
                .route("/expired", post(raw_body))
                .with_state(expired_state),
        )
        .layer(DefaultBodyLimit::max(LIMIT));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    Server { addr, seen }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_delivery_reaches_the_handler_with_the_exact_body() {
    let s = start().await;
    let client = reqwest::Client::new();
    // Not UTF-8, not JSON: the raw extractor hands over the bytes exactly as signed.
    let body: Vec<u8> = (0..=255u8).chain(b" {\"x\": 1} ".iter().copied()).collect();
    let h = signed(&Signer::new(new_secret()), "msg_exact", now(), &body);
    let (status, _) = send(&client, &s.url("/raw"), &h, body.clone()).await;
    assert_eq!(status, 200);
    let mut req = client.post(s.url("/raw")).body(body.clone());
    for (n, v) in &h {
        req = req.header(*n, v);
    }
    let echoed = req.send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&echoed[..], &body[..]);
    assert_eq!(s.seen.calls(), 2);

    let json = event("customer.active", 1);
    let h = signed(
        &Signer::new(new_secret()),
        "msg_json",
        now(),
        json.as_bytes(),
    );
    assert_eq!(
        send(&client, &s.url("/json"), &h, json).await,
        (200, "msg_json".to_owned())
    );
    assert_eq!(s.seen.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_get_their_status_and_never_reach_the_handler() {
    let s = start().await;
    let client = reqwest::Client::new();
    let signer = Signer::new(new_secret());
    let body = event("loan.signed", 7);

    // Forged: valid headers, body altered.
    let h = signed(&signer, "msg_f", now(), body.as_bytes());
    let (st, text) = send(&client, &s.url("/json"), &h, body.replace("15000", "95000")).await;
    assert_eq!(
        (
            st,
            text.starts_with("webhook verification failed: no signature")
        ),
        (401, true),
        "{text}"
    );

    // Signed by a key the receiver does not trust.
    let stranger = Signer::new(standard_webhooks::Secret::from_bytes(b"not our key").unwrap());
    let h = signed(&stranger, "msg_k", now(), body.as_bytes());
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        401
    );

    // Stale and from the future.
    for skew in [-301, 301] {
        let h = signed(&signer, "msg_s", now() + skew, body.as_bytes());
        let (st, text) = send(&client, &s.url("/json"), &h, body.clone()).await;
        assert_eq!(st, 401, "{text}");
        assert!(text.contains("beyond the tolerance of 300 s"), "{text}");
    }

    // Unsigned, and each header missing in turn: 400 naming the header.
    let (st, text) = send(&client, &s.url("/json"), &[], body.clone()).await;
    assert_eq!(
        (st, text.as_str()),
        (
            400,
            "malformed webhook request: missing header `webhook-id`"
        )
    );
    let full = signed(&signer, "msg_m", now(), body.as_bytes());
    for skip in 0..3 {
        let mut h = full.clone();
        let (name, _) = h.remove(skip);
        let (st, text) = send(&client, &s.url("/json"), &h, body.clone()).await;
        assert_eq!(st, 400, "{text}");
        assert!(text.contains(name), "{text}");
    }
    // A malformed timestamp: 400.
    let mut h = full.clone();
    h[1].1 = "12e4".into();
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        400
    );

    // Oversized: 413 under the router's DefaultBodyLimit, even correctly signed.
    let big = vec![b'x'; LIMIT + 1];
    let h = signed(&signer, "msg_big", now(), &big);
    let (st, text) = send(&client, &s.url("/raw"), &h, big).await;
    assert_eq!(
        (st, text.as_str()),
        (413, "request body is larger than this endpoint accepts")
    );

    // Exactly at the limit is fine.
    let at_limit = vec![b'x'; LIMIT];
    let h = signed(&signer, "msg_limit", now(), &at_limit);
    assert_eq!(send(&client, &s.url("/raw"), &h, at_limit).await.0, 200);
    assert_eq!(
        s.seen.calls(),
        1,
        "only the delivery at the limit ran the handler"
    );

    // The inner extractor's own rejection: verified, but not JSON. axum's Json answers 400.
    let h = signed(&signer, "msg_nj", now(), b"{nope");
    let (st, text) = send(&client, &s.url("/json"), &h, "{nope").await;
    assert_eq!(st, 400);
    assert!(text.contains("JSON"), "{text}");

    // A verifier whose keys have all expired: the server is misconfigured, 500.
    let h = signed(&signer, "msg_e", now(), body.as_bytes());
    let (st, text) = send(&client, &s.url("/expired"), &h, body.clone()).await;
    assert_eq!(
        (st, text.as_str()),
        (500, "no webhook key is in force for this endpoint")
    );

    assert_eq!(s.seen.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_delivery_passes_with_either_key() {
    let s = start().await;
    let client = reqwest::Client::new();
    let body = event("credit_offer.available", 3);
    let both = Signer::new(old_secret()).secret(new_secret());
    let h = signed(&both, "msg_rot", now(), body.as_bytes());
    assert!(h[2].1.contains(' '), "two signatures");
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        200
    );

    // Each key alone, as senders do before and after the grace period.
    for signer in [Signer::new(old_secret()), Signer::new(new_secret())] {
        let h = signed(&signer, "msg_one", now(), body.as_bytes());
        assert_eq!(
            send(&client, &s.url("/json"), &h, body.clone()).await.0,
            200
        );
    }

    // A receiver that holds only one of the two keys accepts the two-signature delivery with
    // either, and refuses a delivery signed by the other key alone.
    for (held, other) in [(old_secret(), new_secret()), (new_secret(), old_secret())] {
        let verifier = Verifier::builder().secret(held).build().unwrap();
        let app = Router::new()
            .route("/", post(|Verified(b): Verified<Bytes>| async move { b }))
            .with_state(verifier);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        assert_eq!(
            send(&client, &url, &h, body.clone()).await,
            (200, body.clone())
        );
        let by_other = signed(&Signer::new(other), "msg_other", now(), body.as_bytes());
        assert_eq!(send(&client, &url, &by_other, body.clone()).await.0, 401);
    }
    assert_eq!(s.seen.calls(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_4xx_and_leave_the_server_healthy() {
    let s = start().await;
    let signer = Signer::new(new_secret());
    let body = event("loan.active", 1);
    let h = signed(&signer, "msg_h", now(), body.as_bytes());

    // Headers are judged before the body is read: an announced body that never comes does not
    // delay the answer (buffering first would wait for it, and `raw` would give up after 10 s).
    let head0 = head("/json", &[], "content-length: 1000\r\n");
    assert_eq!(
        raw(s.addr, &[&head0], Duration::ZERO, false).await,
        Some(400)
    );
    let stale = signed(&signer, "msg_old", now() - 3600, body.as_bytes());
    let head0 = head("/json", &stale, "content-length: 1000\r\n");
    assert_eq!(
        raw(s.addr, &[&head0], Duration::ZERO, false).await,
        Some(401)
    );

    // The body ends before Content-Length: the client half-closes after 10 bytes.
    let head1 = head("/json", &h, &format!("content-length: {}\r\n", body.len()));
    let got = raw(
        s.addr,
        &[&head1, &body.as_bytes()[..10]],
        Duration::ZERO,
        true,
    )
    .await;
    assert!(got.is_none_or(|c| (400..500).contains(&c)), "{got:?}");

    // Chunked, over the limit, never announcing a length: 413.
    let chunk = format!("{:x}\r\n{}\r\n", 4096, "x".repeat(4096));
    let mut pieces: Vec<Vec<u8>> = vec![head(
        "/raw",
        &h,
        "transfer-encoding: chunked\r\nconnection: close\r\n",
    )];
    pieces.extend(std::iter::repeat_n(chunk.into_bytes(), LIMIT / 4096 + 2));
    pieces.push(b"0\r\n\r\n".to_vec());
    let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
    assert_eq!(raw(s.addr, &refs, Duration::ZERO, false).await, Some(413));

    // Chunked and truncated in the middle of a chunk.
    let head2 = head("/raw", &h, "transfer-encoding: chunked\r\n");
    let got = raw(s.addr, &[&head2, b"400\r\nabc"], Duration::ZERO, true).await;
    assert!(got.is_none_or(|c| (400..500).contains(&c)), "{got:?}");

    // Slow: the body trickles in over ~1 s. Forged: 401 once it is complete.
    let forged = body.replace("ln_1", "ln_2");
    let head3 = head(
        "/json",
        &h,
        &format!("content-length: {}\r\nconnection: close\r\n", forged.len()),
    );
    let mut pieces: Vec<&[u8]> = vec![&head3];
    pieces.extend(forged.as_bytes().chunks(forged.len() / 10 + 1));
    assert_eq!(
        raw(s.addr, &pieces, Duration::from_millis(100), false).await,
        Some(401)
    );

    // Slow and genuine: accepted, judged by its arrival time.
    let head4 = head(
        "/json",
        &h,
        &format!("content-length: {}\r\nconnection: close\r\n", body.len()),
    );
    let mut pieces: Vec<&[u8]> = vec![&head4];
    pieces.extend(body.as_bytes().chunks(body.len() / 10 + 1));
    assert_eq!(
        raw(s.addr, &pieces, Duration::from_millis(100), false).await,
        Some(200)
    );
    assert_eq!(
        s.seen.calls(),
        1,
        "only the genuine slow delivery ran the handler"
    );

    // Still healthy: a normal delivery goes through.
    let client = reqwest::Client::new();
    let h = signed(&signer, "msg_after", now(), body.as_bytes());
    assert_eq!(
        send(&client, &s.url("/json"), &h, body).await,
        (200, "msg_after".to_owned())
    );
    assert_eq!(s.seen.calls(), 2);
}

/// 20,000 deliveries, 64 connections, a mix of valid and invalid; every answer checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_20000_deliveries_64_connections() {
    const N: usize = 20_000;
    let s = start().await;
    let deliveries = prepare(N);
    let report = tokio::time::timeout(
        Duration::from_secs(240),
        load(
            &s.url("/json"),
            deliveries,
            64,
            "Failed to parse the request body as JSON",
        ),
    )
    .await
    .expect("load test took longer than its time bound");
    assert_eq!(report.answered_as_expected, N, "{report:?}");
    assert_eq!(s.seen.calls(), report.handled, "{report:?}");
    assert_exactly_valid_ids_handled(&s.seen, N);
    let peers = s.seen.peers.lock().unwrap().len();
    eprintln!(
        "axum load: {} deliveries ({} handled) at 64 connections in {:.2?} ({:.0}/s), {} client connections seen by the handler",
        report.sent,
        report.handled,
        report.elapsed,
        report.sent as f64 / report.elapsed.as_secs_f64(),
        peers
    );
}
