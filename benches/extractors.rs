//! The extractors in process: what `Verified<Json<_>>` adds to a request handled by the
//! framework, with no network in between.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --all-features --bench extractors
//! ```
//!
//! For each framework, one app with two routes taking the same 1 KiB JSON delivery:
//! `/plain` (`Json<Event>`, `web::Json` on actix-web) and `/verified`
//! (`Verified<Json<Event>>`). Requests are built and handed to the app in process (axum: the
//! router called as a `tower` service; actix-web: `actix_web::test::call_service`), in batches
//! of 2,000, the two routes in turn, 100 batches each; every answer must be `204`. It prints the
//! fastest batch of each route (ns per request, request building included in both) and the
//! median over the rounds of the difference: the extractor's cost, verification included.
//! `benches/e2e.rs` measures the same routes over loopback.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::time::Instant;

use standard_webhooks::{Secret, SignedHeaders, Signer};

#[path = "support/delivery.rs"]
mod support;
use support::{Event, SECRET, body, verifier};

const BATCH: usize = 2_000;
const ROUNDS: usize = 100;

/// The 1 KiB delivery, signed now.
fn delivery() -> (Vec<u8>, SignedHeaders) {
    let body = body();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let secret: Secret = SECRET.parse().unwrap();
    let signed = Signer::new(secret).headers("msg_2Kq8Wz", now, &body);
    (body, signed)
}

/// Runs `one(path)` in batches, the two routes in turn; prints the line of the table.
async fn measure<F, Fut>(framework: &str, mut one: F)
where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = u16>,
{
    for path in ["/plain", "/verified"] {
        for _ in 0..BATCH {
            assert_eq!(one(path).await, 204, "{path}");
        }
    }
    let (mut best, mut diffs) = ([f64::MAX; 2], Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let mut t = [0.0; 2];
        for (i, path) in ["/plain", "/verified"].into_iter().enumerate() {
            let start = Instant::now();
            for _ in 0..BATCH {
                assert_eq!(one(path).await, 204, "{path}");
            }
            t[i] = start.elapsed().as_nanos() as f64 / BATCH as f64;
            best[i] = best[i].min(t[i]);
        }
        diffs.push(t[1] - t[0]);
    }
    diffs.sort_by(f64::total_cmp);
    println!(
        "| {framework} | {:.0} | {:.0} | {:.0} |",
        best[0],
        best[1],
        diffs[diffs.len() / 2]
    );
}

mod axum_app {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::{Json, Router, routing::post};
    use standard_webhooks::axum::Verified;
    use tower_service::Service;

    async fn plain(Json(_event): Json<Event>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    async fn verified(Verified(Json(_event)): Verified<Json<Event>>) -> StatusCode {
        StatusCode::NO_CONTENT
    }

    pub fn run() {
        let app = Router::new()
            .route("/plain", post(plain))
            .route("/verified", post(verified))
            .with_state(verifier());
        let (body, signed) = delivery();
        let request = |path: &str| {
            let mut b = Request::post(path)
                .header("host", "127.0.0.1:8080")
                .header("content-type", "application/json")
                .header("content-length", body.len());
            for (name, value) in signed.iter() {
                b = b.header(name, value);
            }
            b.body(Body::from(body.clone())).unwrap()
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(measure("axum 0.8", |path| {
                let mut app = app.clone();
                let req = request(path);
                async move { app.call(req).await.unwrap().status().as_u16() }
            }));
    }
}

mod actix_app {
    use super::*;
    use actix_web::{App, HttpResponse, test, web};
    use standard_webhooks::actix::Verified;

    async fn plain(_event: web::Json<Event>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    async fn verified(Verified(_event): Verified<web::Json<Event>>) -> HttpResponse {
        HttpResponse::NoContent().finish()
    }

    pub fn run() {
        actix_web::rt::System::new().block_on(async {
            let app = test::init_service(
                App::new()
                    .app_data(web::Data::new(verifier()))
                    .route("/plain", web::post().to(plain))
                    .route("/verified", web::post().to(verified)),
            )
            .await;
            let (body, signed) = delivery();
            let request = |path: &str| {
                let mut b = test::TestRequest::post()
                    .uri(path)
                    .insert_header(("host", "127.0.0.1:8080"))
                    .insert_header(("content-type", "application/json"));
                for (name, value) in signed.iter() {
                    b = b.insert_header((name, value));
                }
                b.set_payload(body.clone()).to_request()
            };
            measure("actix-web 4", |path| {
                let req = request(path);
                let app = &app;
                async move { test::call_service(app, req).await.status().as_u16() }
            })
            .await;
        });
    }
}

fn main() {
    // `cargo bench --no-run` builds this; only `cargo bench` runs it.
    if !std::env::args().any(|a| a == "--bench") {
        println!("extractors: run with `cargo bench --all-features --bench extractors`");
        return;
    }
    println!(
        "1 KiB JSON deliveries handed to the app in process, {ROUNDS} rounds of {BATCH} per route"
    );
    println!(
        "| framework | plain, ns/request (fastest batch) | verified | added by `Verified` (median) |"
    );
    println!("|---|---|---|---|");
    axum_app::run();
    actix_app::run();
}
