//! The actix-web extractors against a real actix-web server on 127.0.0.1, through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg(feature = "actix-web")]

mod common;

use std::sync::Arc;

use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use common::*;
use serde::Deserialize;
use standard_webhooks::{Delivery, Verified};
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
    delivery: Delivery<web::Json<Event>>,
) -> HttpResponse {
    let Delivery {
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
    // Built while its one key was in force (a verifier cannot start with none): it has
    // expired since.
    let now = time::OffsetDateTime::now_utc();
    let expired = Verifier::builder()
        .secret_until(new_secret(), now - time::Duration::hours(1))
        .build_at(now - time::Duration::hours(2))
        .unwrap();
    let seen = Arc::new(Seen::default());
    let seen2 = seen.clone();
    let addr = common::spawn_actix(move |listener| {
        HttpServer::new(move || {
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
        .run()
    });
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
    refused_deliveries(&s, "Json").await;

    let client = reqwest::Client::new();
    let body = event("loan.signed", 7);
    let h = signed(&Signer::new(new_secret()), "msg_u", now(), body.as_bytes());
    // No verifier in app data: 500, and the handler does not run.
    let (st, text) = send(&client, &s.url("/unconfigured"), &h, body.clone()).await;
    assert_eq!((st, text.as_str()), (500, "webhook receiver error"));

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

/// gzip of `data`.
fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// actix-web (built here with `compress-gzip`, as its default features are) decodes a body sent
/// with `Content-Encoding: gzip` in its body extractors. The signature covers the body as
/// received, so `Verified` checks the encoded bytes and hands them on still encoded: the inner
/// extractor decodes them once, as it does without verification.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encoded_body_is_verified_as_received_and_decoded_once() {
    let s = start();
    let client = reqwest::Client::new();
    let json = event("loan.disbursed", 9);
    let encoded = gzip(json.as_bytes());
    // The signed headers plus the content coding, sent by `send`.
    let gzipped = |mut h: Vec<(&'static str, String)>| {
        h.push(("content-encoding", "gzip".to_owned()));
        h
    };

    // Signed over the bytes sent: both inner extractors get the decoded body.
    let h = gzipped(signed(
        &Signer::new(new_secret()),
        "msg_gz",
        now(),
        &encoded,
    ));
    assert_eq!(
        send(&client, &s.url("/json"), &h, encoded.clone()).await,
        (200, "msg_gz".to_owned())
    );
    assert_eq!(
        send(&client, &s.url("/raw"), &h, encoded.clone()).await,
        (200, json.clone())
    );
    assert_eq!(s.seen.calls(), 2);

    // Signed over the decoded body, not what was sent: refused before any handler runs.
    let h = gzipped(signed(
        &Signer::new(new_secret()),
        "msg_gz",
        now(),
        json.as_bytes(),
    ));
    for path in ["/json", "/raw"] {
        assert_eq!(
            send(&client, &s.url(path), &h, encoded.clone()).await.0,
            401
        );
    }

    // Still encoded, the body may hold 256 KiB at most (`PayloadConfig` has no getter for the
    // limit this server sets); beyond that, 413 before the signature is checked.
    let big = vec![b'x'; 256 * 1024 + 1];
    let h = gzipped(signed(&Signer::new(new_secret()), "msg_big", now(), &big));
    assert_eq!(send(&client, &s.url("/raw"), &h, big).await.0, 413);
    assert_eq!(s.seen.calls(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bodies_get_4xx_and_leave_the_server_healthy() {
    hostile_bodies_get_4xx(&start()).await;
}

/// 20,000 deliveries, 64 connections, a mix of valid and invalid; every answer checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_20000_deliveries_64_connections() {
    load_20000_deliveries(&start(), "actix-web", "Json deserialize error").await;
}
