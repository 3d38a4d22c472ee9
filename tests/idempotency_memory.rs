//! Processing each event once with the in-memory store, over real HTTP on 127.0.0.1: two axum
//! servers sharing one `MemoryStore` (as two runtimes of one process would), and actix-web.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg(feature = "axum")]

mod idempotency_support;

use std::time::Duration;

use idempotency_support::*;
use standard_webhooks::{Claim, Idempotency, IdempotencyStore, MemoryStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_duplicates_run_the_handler_exactly_once() {
    let store = std::sync::Arc::new(MemoryStore::new());
    let handler = Handler::with_delay(Duration::from_millis(40));
    let a = Instance::start(Idempotency::from_shared(store.clone()), handler.clone()).await;
    let b = Instance::start(Idempotency::from_shared(store.clone()), handler.clone()).await;

    storms_run_each_event_once(&[&a, &b], &handler).await;

    // Later retries (a lost 2xx) are answered 200 without running anything.
    let client = client();
    let answer = deliver(&client, &a.url, "msg_0_0").await;
    assert_eq!((answer.status, answer.retry_after), (Some(200), None));
    assert_eq!(handler.runs("msg_0_0"), 1);
}

#[tokio::test]
async fn a_failed_handler_runs_again_on_the_retry() {
    let handler = Handler::default();
    let server = Instance::start(Idempotency::new(MemoryStore::new()), handler.clone()).await;
    let client = client();
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(deliver(&client, &server.url, "fail-1").await.status);
    }
    assert_eq!(answers, [Some(500), Some(204), Some(200)]);
    assert_eq!(handler.runs("fail-1"), 2);
}

#[tokio::test]
async fn a_panicking_handler_runs_again_on_the_retry() {
    let handler = Handler::default();
    let server = Instance::start(Idempotency::new(MemoryStore::new()), handler.clone()).await;
    let client = client();
    // The panic ends the connection: the sender sees a failure and retries.
    assert_eq!(deliver(&client, &server.url, "panic-1").await.status, None);
    assert_eq!(
        deliver(&client, &server.url, "panic-1").await.status,
        Some(204)
    );
    assert_eq!(
        deliver(&client, &server.url, "panic-1").await.status,
        Some(200)
    );
    assert_eq!(handler.runs("panic-1"), 2);
}

#[tokio::test]
async fn a_claim_left_by_a_dead_instance_expires_after_the_lease() {
    let store = MemoryStore::new();
    let lease = Duration::from_millis(1500);
    // What a killed instance leaves behind: a claim nobody will complete or release, under the
    // key of `msg_orphan` in the empty namespace (`:` then the id).
    let claim = store.claim(":msg_orphan", lease).await.unwrap();
    assert!(matches!(claim, Claim::Claimed(_)));

    orphaned_claim_is_taken_over(Idempotency::new(store), lease).await;
}

#[tokio::test]
async fn a_cancelled_delivery_releases_its_claim() {
    let handler = Handler::default();
    let once = Idempotency::new(MemoryStore::new());
    let timeout = Some(Duration::from_secs(1));
    let server = Instance::start_with_timeout(once, handler.clone(), timeout).await;
    let client = client();
    // The handler waits past the server's request timeout: its future is dropped (504), and
    // the claim is released with it.
    assert_eq!(
        deliver(&client, &server.url, "gate-1").await.status,
        Some(504)
    );
    assert_eq!(handler.runs("gate-1"), 1);
    // So the retry runs it again (this time the gate is open).
    handler.gate.notify_one();
    assert_eq!(
        deliver(&client, &server.url, "gate-1").await.status,
        Some(204)
    );
    assert_eq!(
        deliver(&client, &server.url, "gate-1").await.status,
        Some(200)
    );
    assert_eq!(handler.runs("gate-1"), 2);
}

#[tokio::test]
async fn a_server_timeout_while_recording_done_does_not_run_the_handler_twice() {
    a_timeout_while_recording_done_does_not_run_the_handler_twice(MemoryStore::new()).await;
}

#[tokio::test]
async fn a_lease_and_retention_of_duration_max_work() {
    the_longest_lease_and_retention_work(MemoryStore::new()).await;
}

#[tokio::test]
async fn unsigned_requests_claim_nothing() {
    let handler = Handler::default();
    let server = Instance::start(Idempotency::new(MemoryStore::new()), handler.clone()).await;
    let client = client();
    // An attacker who knows an upcoming id sends it unsigned, and with a bad signature.
    let unsigned = client
        .post(&server.url)
        .header("webhook-id", "msg_target")
        .body(body("msg_target"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    let forged = client
        .post(&server.url)
        .header("webhook-id", "msg_target")
        .header(
            "webhook-timestamp",
            time::OffsetDateTime::now_utc().unix_timestamp().to_string(),
        )
        .header(
            "webhook-signature",
            "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .body(body("msg_target"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    // The real delivery still runs.
    assert_eq!(
        deliver(&client, &server.url, "msg_target").await.status,
        Some(204)
    );
    assert_eq!(handler.runs("msg_target"), 1);
}

#[cfg(feature = "actix-web")]
mod actix {
    use actix_web::{App, HttpResponse, test, web};
    use standard_webhooks::Delivery;
    use standard_webhooks::actix::IdempotencyMiddleware;
    use standard_webhooks::{Idempotency, MemoryStore, Signer};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::idempotency_support::{SlowComplete, body, secret, verifier};

    #[actix_web::test]
    async fn actix_runs_once_releases_on_failure_and_answers_409_while_running() {
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        let (r, g) = (runs.clone(), gate.clone());
        let route = move |delivery: web::ReqData<Delivery>, bytes: web::Bytes| {
            let (runs, gate) = (r.clone(), g.clone());
            async move {
                assert!(bytes.starts_with(b"{\"type\""));
                let n = runs.fetch_add(1, Ordering::SeqCst) + 1;
                if delivery.id.starts_with("gate-") {
                    gate.notified().await;
                }
                if delivery.id.starts_with("fail-") && n == 1 {
                    return HttpResponse::InternalServerError().finish();
                }
                HttpResponse::NoContent().finish()
            }
        };
        let once = Idempotency::new(MemoryStore::new());
        let app = test::init_service(
            App::new().service(
                web::resource("/webhooks")
                    .wrap(IdempotencyMiddleware::new(verifier(), once))
                    .route(web::post().to(route)),
            ),
        )
        .await;

        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(
                test::call_service(&app, request("fail-1").to_request())
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses, [500, 204, 200]);
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // While one attempt waits in the route, a second is answered 409 with Retry-After.
        let first = test::call_service(&app, request("gate-1").to_request());
        let second = async {
            // Wait until the first attempt is inside the route.
            for _ in 0..1000 {
                if runs.load(Ordering::SeqCst) == 3 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            let answer = test::call_service(&app, request("gate-1").to_request()).await;
            gate.notify_one();
            answer
        };
        let (first, second) = futures_join(first, second).await;
        assert_eq!(first.status().as_u16(), 204);
        assert_eq!(second.status().as_u16(), 409);
        assert_eq!(second.headers().get("retry-after").unwrap(), "5");
        assert_eq!(runs.load(Ordering::SeqCst), 3);

        // Unsigned: refused before any claim.
        let unsigned = test::TestRequest::post()
            .uri("/webhooks")
            .set_payload(body("x"))
            .to_request();
        assert_eq!(
            test::call_service(&app, unsigned).await.status().as_u16(),
            400
        );
    }

    /// One attempt of event `id`, signed now, for an actix test service.
    fn request(id: &str) -> test::TestRequest {
        let body = body(id);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let signed = Signer::new(secret()).headers(id, now, body.as_bytes());
        let mut req = test::TestRequest::post().uri("/webhooks").set_payload(body);
        for (name, value) in signed.iter() {
            req = req.insert_header((name, value));
        }
        req
    }

    /// Issue 14, through actix-web: the request is dropped (here by a timeout around the call,
    /// as when the client goes away) after the route succeeded, while the store records it as
    /// done. The recording is finished all the same: the retry finds the id done (a 409 at most
    /// while it finishes), and the route never runs twice.
    #[actix_web::test]
    async fn actix_a_request_dropped_while_recording_done_is_still_recorded() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let route = move || {
            let runs = r.clone();
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                HttpResponse::NoContent().finish()
            }
        };
        let store = SlowComplete {
            inner: MemoryStore::new(),
            delay: Duration::from_millis(1500),
        };
        let app = test::init_service(
            App::new().service(
                web::resource("/webhooks")
                    .wrap(IdempotencyMiddleware::new(
                        verifier(),
                        Idempotency::new(store),
                    ))
                    .route(web::post().to(route)),
            ),
        )
        .await;
        let cut = tokio::time::timeout(
            Duration::from_millis(500),
            test::call_service(&app, request("msg_slow").to_request()),
        )
        .await;
        assert!(cut.is_err(), "the request was dropped while `complete` ran");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        let mut status = 0;
        for _ in 0..200 {
            status = test::call_service(&app, request("msg_slow").to_request())
                .await
                .status()
                .as_u16();
            if status != 409 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, 200, "the retry finds the id done");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    /// A delivery sent gzipped is verified as received (still encoded), and the event type the
    /// route gets is read from the body as the route itself reads it: decoded.
    #[cfg(feature = "serde")]
    #[actix_web::test]
    async fn actix_reads_the_event_type_of_an_encoded_body_decoded() {
        use std::io::Write as _;
        let route = |delivery: web::ReqData<Delivery>, bytes: web::Bytes| async move {
            HttpResponse::Ok().body(format!(
                "{} {:?} {}",
                delivery.id,
                delivery.event_type(),
                String::from_utf8_lossy(&bytes)
            ))
        };
        let app = test::init_service(
            App::new().service(
                web::resource("/webhooks")
                    .wrap(IdempotencyMiddleware::new(
                        verifier(),
                        Idempotency::new(MemoryStore::new()),
                    ))
                    .route(web::post().to(route)),
            ),
        )
        .await;
        for (id, gzipped) in [("msg_plain", false), ("msg_gzip", true)] {
            let json = body(id);
            let sent = if gzipped {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
                gz.write_all(json.as_bytes()).unwrap();
                gz.finish().unwrap()
            } else {
                json.clone().into_bytes()
            };
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let signed = Signer::new(secret()).headers(id, now, &sent);
            let mut req = test::TestRequest::post().uri("/webhooks").set_payload(sent);
            for (name, value) in signed.iter() {
                req = req.insert_header((name, value));
            }
            if gzipped {
                req = req.insert_header(("content-encoding", "gzip"));
            }
            let answer = test::call_service(&app, req.to_request()).await;
            assert_eq!(answer.status().as_u16(), 200, "{id}");
            let text = String::from_utf8(test::read_body(answer).await.to_vec()).unwrap();
            assert_eq!(text, format!("{id} Some(\"loan.signed\") {json}"));
        }
    }

    /// Polls two futures on one task (actix's test services are not `Send`).
    async fn futures_join<A: std::future::Future, B: std::future::Future>(
        a: A,
        b: B,
    ) -> (A::Output, B::Output) {
        tokio::join!(a, b)
    }
}

#[tokio::test]
async fn a_layer_on_one_route_leaves_the_others_alone() {
    use axum::{Router, http::StatusCode, routing::get, routing::post};
    use standard_webhooks::axum::IdempotencyLayer;

    let layer = IdempotencyLayer::new(verifier(), Idempotency::new(MemoryStore::new()));
    let app = Router::new()
        .route(
            "/webhooks",
            post(|| async { StatusCode::NO_CONTENT }).layer(layer),
        )
        .route("/health", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = client();
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let url = format!("{base}/webhooks");
    assert_eq!(
        client.post(&url).body("{}").send().await.unwrap().status(),
        400
    );
    assert_eq!(deliver(&client, &url, "msg_1").await.status, Some(204));
    assert_eq!(deliver(&client, &url, "msg_1").await.status, Some(200));
}
