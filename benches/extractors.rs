//! The extractors in process: what `Verified<Json<_>>` adds to a request handled by the
//! framework, with no network in between.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --all-features --bench extractors
//! ```
//!
//! For each framework, one app with the five routes of `support/routes.rs` (`/plain`,
//! `/verified`, `/floor`, `/twice`, `/direct`), each taking the same 1 KiB JSON delivery.
//! Requests are built and handed to the app in process (axum: the router called as a `tower`
//! service; actix-web: `actix_web::test::call_service`), in batches of 2,000, the routes in
//! turn, 100 rounds; every answer must be `204`. It prints, per route, the fastest batch (ns per
//! request, request building included) and the median over the rounds of its difference to
//! `/plain`. `benches/e2e.rs` measures the same routes over loopback.
//!
//! With `--count FRAMEWORK ROUTE N` (FRAMEWORK `axum` or `actix`) it only sends `N` requests
//! to one route, untimed: `benches/callgrind.sh` counts the instructions of a request that way.
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
mod delivery;
#[path = "support/routes.rs"]
mod routes;
use delivery::{SECRET, body};
use routes::ROUTES;

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

/// What to run: the timed rounds over every route, or `count` requests to one route.
#[derive(Clone, Copy)]
enum Run {
    Timed,
    Count(&'static str, usize),
}

/// Sends `count` requests to `path`; every answer must be a 204.
async fn send<F, Fut>(one: &mut F, path: &'static str, count: usize)
where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = u16>,
{
    for _ in 0..count {
        assert_eq!(one(path).await, 204, "{path}");
    }
}

/// Runs `one(path)` in batches, the routes in turn; prints the lines of the table.
async fn measure<F, Fut>(framework: &str, run: Run, mut one: F)
where
    F: FnMut(&'static str) -> Fut,
    Fut: Future<Output = u16>,
{
    if let Run::Count(path, count) = run {
        return send(&mut one, path, count).await;
    }
    for path in ROUTES {
        send(&mut one, path, BATCH).await;
    }
    let mut best = [f64::MAX; ROUTES.len()];
    let mut diffs: [Vec<f64>; ROUTES.len()] = Default::default();
    for _ in 0..ROUNDS {
        let mut t = [0.0; ROUTES.len()];
        for (i, path) in ROUTES.into_iter().enumerate() {
            let start = Instant::now();
            send(&mut one, path, BATCH).await;
            t[i] = start.elapsed().as_nanos() as f64 / BATCH as f64;
            best[i] = best[i].min(t[i]);
        }
        for (i, d) in diffs.iter_mut().enumerate() {
            d.push(t[i] - t[0]);
        }
    }
    for (i, path) in ROUTES.into_iter().enumerate().skip(1) {
        let d = &mut diffs[i];
        d.sort_by(f64::total_cmp);
        println!(
            "| {framework} | `{path}` | {:.0} | {:.0} | {:.0} |",
            best[0],
            best[i],
            d[d.len() / 2]
        );
    }
}

mod axum_app {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower_service::Service;

    pub fn run(run: Run) {
        let app = routes::axum_routes::router();
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
            .block_on(measure("axum 0.8", run, |path| {
                let mut app = app.clone();
                let req = request(path);
                async move { app.call(req).await.unwrap().status().as_u16() }
            }));
    }
}

mod actix_app {
    use super::*;
    use actix_web::{App, test};
    use routes::actix_routes;

    pub fn run(run: Run) {
        actix_web::rt::System::new().block_on(async {
            let app = test::init_service(
                App::new()
                    .app_data(actix_routes::verifier_data())
                    .configure(actix_routes::configure),
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
            measure("actix-web 4", run, |path| {
                let req = request(path);
                let app = &app;
                async move { test::call_service(app, req).await.status().as_u16() }
            })
            .await;
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--count") {
        let usage = "--count (axum|actix) ROUTE N";
        let framework = args.get(at + 1).expect(usage);
        let route = args.get(at + 2).expect(usage);
        let route = ROUTES
            .into_iter()
            .find(|r| r == route)
            .expect("an unknown route");
        let count = args.get(at + 3).and_then(|n| n.parse().ok()).expect(usage);
        let run = Run::Count(route, count);
        match framework.as_str() {
            "axum" => axum_app::run(run),
            "actix" => actix_app::run(run),
            other => {
                eprintln!("unknown framework {other:?}: {usage}");
                std::process::exit(2);
            }
        }
        return;
    }
    // `cargo bench --no-run` builds this; only `cargo bench` runs it.
    if !args.iter().any(|a| a == "--bench") {
        println!("extractors: run with `cargo bench --all-features --bench extractors`");
        return;
    }
    println!(
        "1 KiB JSON deliveries handed to the app in process, {ROUNDS} rounds of {BATCH} per route"
    );
    println!(
        "| framework | route | `/plain`, ns/request (fastest batch) | route (fastest batch) \
         | added over `/plain` (median) |"
    );
    println!("|---|---|---|---|---|");
    axum_app::run(Run::Timed);
    actix_app::run(Run::Timed);
}
