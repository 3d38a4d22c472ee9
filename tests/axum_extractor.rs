//! The axum extractors against a real axum server on 127.0.0.1, through real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![cfg(feature = "axum")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef, State};
use axum::routing::post;
use axum::{Json, Router};
use common::*;
use serde::Deserialize;
use standard_webhooks::{Delivery, Verified};
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
    Delivery {
        id,
        timestamp,
        payload: Json(event),
        ..
    }: Delivery<Json<Event>>,
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
    // Built while its one key was in force (a verifier cannot start with none): it has
    // expired since.
    let now = time::OffsetDateTime::now_utc();
    let expired = Verifier::builder()
        .secret_until(new_secret(), now - time::Duration::hours(1))
        .build_at(now - time::Duration::hours(2))
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
    refused_deliveries(&s, "JSON").await;
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
    hostile_bodies_get_4xx(&start().await).await;
}

/// 20,000 deliveries, 64 connections, a mix of valid and invalid; every answer checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_20000_deliveries_64_connections() {
    load_20000_deliveries(
        &start().await,
        "axum",
        "Failed to parse the request body as JSON",
    )
    .await;
}
