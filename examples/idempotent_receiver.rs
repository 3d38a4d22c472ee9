//! An axum receiver that processes each event once, routing by event type.
//!
//! ```sh
//! WEBHOOK_SECRETS="whsec_..." WEBHOOK_LISTEN=127.0.0.1:3000 \
//!     cargo run --features axum,serde,redis --example idempotent_receiver
//! ```
//!
//! The same variables as the other examples: `WEBHOOK_SECRETS` (the endpoint's secret; during a
//! rotation the new one and the old one with its expiry, `whsec_NEW whsec_OLD@2026-11-27T01:00:00Z`)
//! and `WEBHOOK_LISTEN` (`127.0.0.1:3000` by default). Ids are kept in Redis when `REDIS_URL`
//! is set (every instance of the receiver shares them), in memory otherwise. With
//! `WEBHOOK_EXAMPLE_SELF_TEST=1` it signs deliveries itself, sends one event several times at
//! once and again later, as a sender retrying would, checks that the handler ran once, and
//! exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::{Json, Router, http::StatusCode, routing::post};
use standard_webhooks::axum::IdempotencyLayer;
use standard_webhooks::{
    Delivery, Event, EventRoutes, Idempotency, IdempotencyStore, MemoryStore, Secret, Signer,
    Verifier,
};

#[derive(Debug, Clone, Copy)]
enum Route {
    Loans,
    Activation,
    Ignore,
}

fn app<S: IdempotencyStore>(
    verifier: Verifier,
    once: Idempotency<S>,
    routes: Arc<EventRoutes<Route>>,
    runs: Arc<AtomicUsize>,
) -> Router {
    // Behind the layer, the extractor takes the delivery the layer verified: the handler's
    // type still says "verified", and it runs once per `webhook-id`.
    let handler = move |Delivery {
                            id,
                            payload: Json(event),
                            ..
                        }: Delivery<Json<Event<serde_json::Value>>>| {
        let (routes, runs) = (routes.clone(), runs.clone());
        async move {
            let kind = event.event_type.as_str();
            match routes.find(kind) {
                Some(Route::Loans) => println!("loan event {kind} ({id}): {}", event.data),
                Some(Route::Activation) => println!("customer active ({id})"),
                Some(Route::Ignore) | None => return StatusCode::NO_CONTENT,
            }
            runs.fetch_add(1, Ordering::SeqCst);
            // Slow work: duplicates arriving now are answered 409, later ones 200.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            StatusCode::NO_CONTENT // a 2xx records the id as done
        }
    };
    Router::new()
        .route("/webhooks/dinie", post(handler))
        .layer(IdempotencyLayer::new(verifier, once))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::var("WEBHOOK_EXAMPLE_SELF_TEST").is_ok_and(|v| v == "1");
    // The self-test signs with this demo secret.
    const DEMO: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let (config, listen) = if self_test {
        (DEMO.to_owned(), "127.0.0.1:0".to_owned())
    } else {
        let config = std::env::var("WEBHOOK_SECRETS").map_err(|_| {
            "set WEBHOOK_SECRETS to the endpoint's secret (whsec_...), or several separated by spaces"
        })?;
        let listen = std::env::var("WEBHOOK_LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
        (config, listen)
    };
    // Errors name what is wrong with an entry, never the secret itself.
    let verifier = Verifier::builder()
        .secrets_from_config(&config)
        .and_then(|keys| keys.build())
        .map_err(|e| format!("WEBHOOK_SECRETS: {e}"))?;
    println!("verifier: {verifier:?}");
    let runs = Arc::new(AtomicUsize::new(0));
    // The same patterns a sender's subscription uses; the most specific one wins.
    let routes = Arc::new(
        EventRoutes::new()
            .route("loan.*", Route::Loans)?
            .route("customer.active", Route::Activation)?
            .route("*", Route::Ignore)?,
    );

    let app = match std::env::var("REDIS_URL") {
        #[cfg(feature = "redis")]
        Ok(url) => {
            let store = standard_webhooks::RedisStore::connect(&url).await?;
            println!("ids kept in Redis");
            app(verifier, Idempotency::new(store), routes, runs.clone())
        }
        _ => {
            println!("ids kept in memory");
            app(
                verifier,
                Idempotency::new(MemoryStore::new()),
                routes,
                runs.clone(),
            )
        }
    };

    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let url = format!("http://{}/webhooks/dinie", listener.local_addr()?);
    println!("listening on {url}");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    if !self_test {
        server.await??;
        return Ok(());
    }

    // The sender: one event, five attempts at once, then one more later.
    let secret: Secret = DEMO.parse()?;
    let id = format!("msg_example_{}", std::process::id());
    let body = r#"{"type":"loan.disbursing","timestamp":"2026-11-26T12:00:00Z","data":{}}"#;
    let client = reqwest::Client::new();
    let request = |attempt: i64| {
        // Each attempt is signed anew, as a sender's retries are.
        let now = time::OffsetDateTime::now_utc().unix_timestamp() + attempt % 2;
        let signed = Signer::new(secret.clone()).headers(&id, now, body.as_bytes());
        let mut req = client
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in signed.iter() {
            req = req.header(name, value);
        }
        req
    };
    let mut at_once = tokio::task::JoinSet::new();
    for attempt in 0..5 {
        at_once.spawn(request(attempt).send());
    }
    let mut statuses = Vec::new();
    while let Some(response) = at_once.join_next().await {
        statuses.push(response??.status().as_u16());
    }
    statuses.push(request(5).send().await?.status().as_u16());
    println!("answers: {statuses:?}");
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "one attempt ran"
    );
    assert!(statuses.iter().all(|s| [200, 204, 409].contains(s)));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the handler ran once");
    println!(
        "self-test passed: the handler ran once for {} attempts",
        statuses.len()
    );
    Ok(())
}
