//! The actix-web extractors against a real actix-web server on 127.0.0.1, through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg(feature = "actix-web")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use common::*;
use serde::Deserialize;
use standard_webhooks::actix::{Verified, VerifiedDelivery};
use standard_webhooks::{Signer, Verifier};

#[derive(Deserialize)]
struct Event {
    r#type: String,
}

/// Echoes the raw verified body.
async fn raw_body(seen: web::Data<Arc<Seen>>, Verified(body): Verified<Bytes>) -> HttpResponse {
    seen.record(None, None);
    HttpResponse::Ok().body(body)
}

/// Parses the verified body as JSON and answers with the message id.
async fn json_event(
    req: HttpRequest,
    seen: web::Data<Arc<Seen>>,
    delivery: VerifiedDelivery<web::Json<Event>>,
) -> HttpResponse {
    let VerifiedDelivery {
        id,
        timestamp,
        payload: event,
        ..
    } = delivery;
    assert!(event.r#type.contains('.'));
    assert!(
        (time::OffsetDateTime::now_utc() - timestamp)
            .whole_seconds()
            .abs()
            < 7200
    );
    seen.record(Some(&id), req.peer_addr());
    HttpResponse::Ok().body(id)
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
fn start() -> Server {
    start_with(
        Verifier::builder()
            .secret(new_secret())
            .secret_until(
                old_secret(),
                time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            )
            .build()
            .unwrap(),
    )
}

/// Trusts `verifier` on `/raw` and `/json`; also a scope with only expired keys and one with
/// no verifier at all.
fn start_with(verifier: Verifier) -> Server {
    let expired = Verifier::builder()
        .secret_until(
            new_secret(),
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        )
        .build()
        .unwrap();
    let seen = Arc::new(Seen::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(seen2.clone()))
                    .app_data(web::PayloadConfig::new(LIMIT))
                    .service(
                        web::scope("/expired")
                            .app_data(web::Data::new(expired.clone()))
                            .route("", web::post().to(raw_body)),
                    )
                    .service(web::scope("/unconfigured").route("", web::post().to(raw_body)))
                    .service(
                        web::scope("")
                            .app_data(web::Data::new(verifier.clone()))
                            .route("/raw", web::post().to(raw_body))
                            .route("/json", web::post().to(json_event)),
                    )
            })
            .workers(2)
            .disable_signals()
            .listen(listener)
            .unwrap()
            .run();
            tx.send(()).unwrap();
            // Runs until the test process exits. (Stopping servers at the end of each test
            // occasionally panicked inside actix-server 2.9: an overflow in a worker's
            // connection counter, in debug builds.)
            server.await.unwrap();
        });
    });
    rx.recv().unwrap();
    Server { addr, seen }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_delivery_reaches_the_handler_with_the_exact_body() {
    let s = start();
    let client = reqwest::Client::new();
    let body: Vec<u8> = (0..=255u8).chain(b" {\"x\": 1} ".iter().copied()).collect();
    let h = signed(&Signer::new(new_secret()), "msg_exact", now(), &body);
    let mut req = client.post(s.url("/raw")).body(body.clone());
    for (n, v) in &h {
        req = req.header(*n, v);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(&res.bytes().await.unwrap()[..], &body[..]);
    assert_eq!(s.seen.calls(), 1);

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
    assert_eq!(s.seen.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_deliveries_get_their_status_and_never_reach_the_handler() {
    let s = start();
    let client = reqwest::Client::new();
    let signer = Signer::new(new_secret());
    let body = event("loan.signed", 7);

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

    let stranger = Signer::new(standard_webhooks::Secret::from_bytes(b"not our key").unwrap());
    let h = signed(&stranger, "msg_k", now(), body.as_bytes());
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        401
    );

    for skew in [-301, 301] {
        let h = signed(&signer, "msg_s", now() + skew, body.as_bytes());
        let (st, text) = send(&client, &s.url("/json"), &h, body.clone()).await;
        assert_eq!(st, 401, "{text}");
        assert!(text.contains("beyond the tolerance of 300 s"), "{text}");
    }

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
    let mut h = full.clone();
    h[1].1 = "12e4".into();
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        400
    );

    // Oversized under the app's PayloadConfig: 413, even correctly signed.
    let big = vec![b'x'; LIMIT + 1];
    let h = signed(&signer, "msg_big", now(), &big);
    let (st, text) = send(&client, &s.url("/raw"), &h, big).await;
    assert_eq!(
        (st, text.as_str()),
        (413, "request body is larger than this endpoint accepts")
    );
    let at_limit = vec![b'x'; LIMIT];
    let h = signed(&signer, "msg_limit", now(), &at_limit);
    assert_eq!(send(&client, &s.url("/raw"), &h, at_limit).await.0, 200);
    assert_eq!(
        s.seen.calls(),
        1,
        "only the delivery at the limit ran the handler"
    );

    // The inner extractor's own rejection: verified, but not JSON. actix's Json answers 400.
    let h = signed(&signer, "msg_nj", now(), b"{nope");
    let (st, text) = send(&client, &s.url("/json"), &h, "{nope").await;
    assert_eq!(st, 400);
    assert!(text.contains("Json"), "{text}");

    let h = signed(&signer, "msg_e", now(), body.as_bytes());
    let (st, text) = send(&client, &s.url("/expired"), &h, body.clone()).await;
    assert_eq!(
        (st, text.as_str()),
        (500, "no webhook key is in force for this endpoint")
    );

    // No verifier in app data: 500, and the handler does not run.
    let (st, text) = send(&client, &s.url("/unconfigured"), &h, body.clone()).await;
    assert_eq!(
        (st, text.as_str()),
        (500, "no webhook verifier is configured for this endpoint")
    );

    assert_eq!(s.seen.calls(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_delivery_passes_with_either_key() {
    let s = start();
    let client = reqwest::Client::new();
    let body = event("credit_offer.available", 3);
    let both = Signer::new(old_secret()).secret(new_secret());
    let h = signed(&both, "msg_rot", now(), body.as_bytes());
    assert!(h[2].1.contains(' '), "two signatures");
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        200
    );
    for signer in [Signer::new(old_secret()), Signer::new(new_secret())] {
        let h = signed(&signer, "msg_one", now(), body.as_bytes());
        assert_eq!(
            send(&client, &s.url("/json"), &h, body.clone()).await.0,
            200
        );
    }
    assert_eq!(s.seen.calls(), 3);

    // A receiver that holds only one of the two keys accepts the two-signature delivery with
    // either, and refuses a delivery signed by the other key alone.
    for (held, other) in [(old_secret(), new_secret()), (new_secret(), old_secret())] {
        let single = start_with(Verifier::builder().secret(held).build().unwrap());
        let url = single.url("/raw");
        assert_eq!(
            send(&client, &url, &h, body.clone()).await,
            (200, body.clone())
        );
        let by_other = signed(&Signer::new(other), "msg_other", now(), body.as_bytes());
        assert_eq!(send(&client, &url, &by_other, body.clone()).await.0, 401);
        assert_eq!(single.seen.calls(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_4xx_and_leave_the_server_healthy() {
    let s = start();
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
    let s = start();
    let deliveries = prepare(N);
    let report = tokio::time::timeout(
        Duration::from_secs(240),
        load(&s.url("/json"), deliveries, 64, "Json deserialize error"),
    )
    .await
    .expect("load test took longer than its time bound");
    assert_eq!(report.answered_as_expected, N, "{report:?}");
    assert_eq!(s.seen.calls(), report.handled, "{report:?}");
    assert_exactly_valid_ids_handled(&s.seen, N);
    let peers = s.seen.peers.lock().unwrap().len();
    eprintln!(
        "actix-web load: {} deliveries ({} handled) at 64 connections in {:.2?} ({:.0}/s), {} client connections seen by the handler",
        report.sent,
        report.handled,
        report.elapsed,
        report.sent as f64 / report.elapsed.as_secs_f64(),
        peers
    );
}
