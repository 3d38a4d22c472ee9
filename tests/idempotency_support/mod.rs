//! Shared by the idempotency tests: receiver instances (axum servers behind the idempotency
//! layer) with a handler that records every run, a sender, and a private redis-server.
//! Everything talks to 127.0.0.1 only; every loop is bounded.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, body::Bytes};
use standard_webhooks::axum::IdempotencyLayer;
use standard_webhooks::{
    Claim, ClaimToken, Delivery, Idempotency, IdempotencyStore, MAX_TTL, Secret, SignedHeaders,
    Signer, StoreError, Verifier,
};
use tokio::sync::Notify;

pub fn secret() -> Secret {
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
}

pub fn verifier() -> Verifier {
    Verifier::builder().secret(secret()).build().unwrap()
}

/// What the handler does, chosen by the id's prefix:
/// - `fail-…`: answers 500 on its first run, 204 after;
/// - `panic-…`: panics on its first run, 204 after;
/// - `gate-…`: waits until [`Handler::gate`] is notified, then 204;
/// - anything else: sleeps [`Handler::delay`], then 204.
#[derive(Clone, Default)]
pub struct Handler {
    runs: Arc<Mutex<HashMap<String, usize>>>,
    pub delay: Duration,
    pub gate: Arc<Notify>,
}

impl Handler {
    pub fn with_delay(delay: Duration) -> Self {
        Self {
            delay,
            ..Self::default()
        }
    }

    /// How many times the handler started for `id`, on any instance sharing this handler.
    pub fn runs(&self, id: &str) -> usize {
        self.runs.lock().unwrap().get(id).copied().unwrap_or(0)
    }

    pub fn total_runs(&self) -> usize {
        self.runs.lock().unwrap().values().sum()
    }

    async fn handle(&self, delivery: Delivery, body: Bytes) -> StatusCode {
        assert!(
            body.starts_with(b"{\"type\""),
            "the route sees the verified body"
        );
        let id = delivery.id.clone();
        let run = {
            let mut runs = self.runs.lock().unwrap();
            let n = runs.entry(id.clone()).or_default();
            *n += 1;
            *n
        };
        if id.starts_with("fail-") && run == 1 {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        if id.starts_with("panic-") && run == 1 {
            panic!("handler bug on the first run of {id}");
        }
        if id.starts_with("gate-") {
            self.gate.notified().await;
        } else {
            tokio::time::sleep(self.delay).await;
        }
        StatusCode::NO_CONTENT
    }
}

/// One receiver instance: an axum server on 127.0.0.1 with the idempotency layer in front of
/// one route. Dropping it does not stop it; [`Instance::stop`] does (and drops in-flight work,
/// as a killed process would not: use a raw claim to model a crash).
pub struct Instance {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Instance {
    pub async fn start<S: IdempotencyStore>(once: Idempotency<S>, handler: Handler) -> Self {
        Self::start_with_timeout(once, handler, None).await
    }

    /// With a server-side request timeout outside the idempotency layer (as `tower-http`'s
    /// `TimeoutLayer` would be): a request that takes longer is answered 504 and its handler's
    /// future dropped, a cancellation.
    pub async fn start_with_timeout<S: IdempotencyStore>(
        once: Idempotency<S>,
        handler: Handler,
        timeout: Option<Duration>,
    ) -> Self {
        let app = Router::new()
            .route(
                "/webhooks",
                post(
                    move |Extension(delivery): Extension<Delivery>, req: Request| async move {
                        let body = axum::body::to_bytes(req.into_body(), usize::MAX)
                            .await
                            .unwrap();
                        handler.handle(delivery, body).await
                    },
                ),
            )
            .layer(IdempotencyLayer::new(verifier(), once))
            .layer(axum::middleware::from_fn(
                move |req: Request, next: axum::middleware::Next| async move {
                    match timeout {
                        None => next.run(req).await,
                        Some(limit) => match tokio::time::timeout(limit, next.run(req)).await {
                            Ok(response) => response,
                            Err(_) => StatusCode::GATEWAY_TIMEOUT.into_response(),
                        },
                    }
                },
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            url: format!("http://{addr}/webhooks"),
            task,
        }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

/// The answer to one delivery: its status (`None` if the connection failed, as when the handler
/// panicked) and `Retry-After` in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: Option<u16>,
    pub retry_after: Option<u64>,
}

pub fn body(id: &str) -> String {
    format!(r#"{{"type":"loan.signed","timestamp":"2026-11-26T12:00:00Z","data":{{"id":"{id}"}}}}"#)
}

/// The headers and body of one attempt of event `id`, signed now, for [`Idempotency::run`]
/// (`verifier().verify(&headers, body.as_bytes())`).
pub fn signed(id: &str) -> (SignedHeaders, String) {
    let body = body(id);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    (
        Signer::new(secret()).headers(id, now, body.as_bytes()),
        body,
    )
}

/// Sends one attempt of event `id`, signed now, as the sender would (a retry is the same call
/// again: same id, new timestamp and signature).
pub async fn deliver(client: &reqwest::Client, url: &str, id: &str) -> Answer {
    let body = body(id);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let signed = Signer::new(secret()).headers(id, now, body.as_bytes());
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in signed.iter() {
        req = req.header(name, value);
    }
    match req.send().await {
        Ok(response) => Answer {
            status: Some(response.status().as_u16()),
            retry_after: response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        },
        Err(_) => Answer {
            status: None,
            retry_after: None,
        },
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// The exactly-once check shared by the memory and Redis tests: `copies` concurrent attempts
/// of each of `ids` events, spread over the instances. Returns every answer per id.
pub async fn storm(
    instances: &[&Instance],
    ids: &[String],
    copies: usize,
) -> HashMap<String, Vec<Answer>> {
    let client = client();
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        for copy in 0..copies {
            let url = instances[copy % instances.len()].url.clone();
            let (client, id) = (client.clone(), id.clone());
            tasks.spawn(async move { (id.clone(), deliver(&client, &url, &id).await) });
        }
    }
    let mut answers: HashMap<String, Vec<Answer>> = HashMap::new();
    while let Some(result) = tasks.join_next().await {
        let (id, answer) = result.unwrap();
        answers.entry(id).or_default().push(answer);
    }
    answers
}

/// Asserts the documented answers of a storm: for each id exactly one 204 (the run), every
/// other answer 200 (done) or 409 with a `Retry-After` of at least one second; the handler ran
/// exactly once per id. Returns how many 409s were seen.
pub fn assert_exactly_once(
    handler: &Handler,
    answers: &HashMap<String, Vec<Answer>>,
    copies: usize,
) -> usize {
    let mut conflicts = 0;
    for (id, answers) in answers {
        assert_eq!(answers.len(), copies, "{id}");
        assert_eq!(handler.runs(id), 1, "the handler ran once for {id}");
        let ran = answers.iter().filter(|a| a.status == Some(204)).count();
        assert_eq!(ran, 1, "one attempt of {id} ran the handler: {answers:?}");
        for a in answers.iter().filter(|a| a.status != Some(204)) {
            match a.status {
                Some(200) => assert_eq!(a.retry_after, None),
                Some(409) => {
                    conflicts += 1;
                    assert!(a.retry_after.is_some_and(|s| s >= 1), "{a:?}");
                }
                _ => panic!("unexpected answer for {id}: {a:?}"),
            }
        }
    }
    conflicts
}

/// A redis-server of the test's own, on a free loopback port, without persistence; killed on
/// drop. The binary is `$REDIS_SERVER` or `redis-server` on the PATH (scripts/test installs it).
pub struct RedisProcess {
    child: std::process::Child,
    pub port: u16,
}

impl RedisProcess {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port).await
    }

    pub async fn start_on(port: u16) -> Self {
        let bin = std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into());
        let child = std::process::Command::new(&bin)
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start `{bin}` ({e}): these tests need a real redis-server; run \
                     scripts/test, which installs it from Debian's packages"
                )
            });
        let process = Self { child, port };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server did not listen on 127.0.0.1:{port} within 5 s");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: connections stay open, nothing answers.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// Kills the server at once (SIGKILL): every key is lost, as no persistence is configured.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The takeover of a claim that a dead instance left behind, shared by the memory and Redis
/// tests: `once` runs over a store in which the id `msg_orphan` is already claimed for `lease`
/// and never completed. A delivery of it is answered 409, with a `Retry-After` capped by the
/// lease left, and does not run the handler; once the lease is over, the next delivery runs it.
pub async fn orphaned_claim_is_taken_over<S: IdempotencyStore>(
    once: Idempotency<S>,
    lease: Duration,
) {
    let handler = Handler::default();
    let server = Instance::start(once.lease(lease), handler.clone()).await;
    let client = client();
    let answer = deliver(&client, &server.url, "msg_orphan").await;
    assert_eq!(answer.status, Some(409));
    // Capped by the lease left, rounded up: never the default 5 s.
    let cap = lease.as_secs() + u64::from(lease.subsec_nanos() > 0);
    assert!(
        answer.retry_after.is_some_and(|s| (1..=cap).contains(&s)),
        "{:?}, lease {lease:?}",
        answer.retry_after
    );
    assert_eq!(handler.runs("msg_orphan"), 0);

    tokio::time::sleep(lease).await;
    assert_eq!(
        deliver(&client, &server.url, "msg_orphan").await.status,
        Some(204)
    );
    assert_eq!(handler.runs("msg_orphan"), 1);
}

/// Five storms over `instances` (20 new ids each, 8 concurrent copies of every id), each checked
/// by [`assert_exactly_once`]; the handler ran 100 times in all, and some attempts found an id
/// in progress (the attempts did overlap, not only found it done).
pub async fn storms_run_each_event_once(instances: &[&Instance], handler: &Handler) {
    let mut conflicts = 0;
    for round in 0..5 {
        let ids: Vec<String> = (0..20).map(|i| format!("msg_{round}_{i}")).collect();
        let answers = storm(instances, &ids, 8).await;
        conflicts += assert_exactly_once(handler, &answers, 8);
    }
    assert_eq!(handler.total_runs(), 100);
    assert!(conflicts > 0, "no attempt overlapped a running handler");
}

/// A store whose `complete` waits `delay` before it asks `inner` (a slow network, a busy
/// database): a request dropped meanwhile leaves the recording to be finished by someone else.
pub struct SlowComplete<S> {
    pub inner: S,
    pub delay: Duration,
}

impl<S: IdempotencyStore> IdempotencyStore for SlowComplete<S> {
    async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, StoreError> {
        self.inner.claim(id, lease).await
    }

    async fn complete(
        &self,
        id: &str,
        token: &ClaimToken,
        retention: Duration,
    ) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        self.inner.complete(id, token, retention).await
    }

    async fn release(&self, id: &str, token: &ClaimToken) -> Result<(), StoreError> {
        self.inner.release(id, token).await
    }

    fn release_in_background(&self, id: &str, token: &ClaimToken) {
        self.inner.release_in_background(id, token);
    }
}

/// Delivers `id` until the answer is not 409 (at most about 4 s), and returns that answer's
/// status: for what a store finishes in the background after a request was dropped.
pub async fn deliver_while_in_progress(
    client: &reqwest::Client,
    url: &str,
    id: &str,
) -> Option<u16> {
    let mut status = None;
    for _ in 0..200 {
        status = deliver(client, url, id).await.status;
        if status != Some(409) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    status
}

/// Issue 14: a request dropped after its handler succeeded, while the store records it as
/// done, must still be recorded as done. `store` takes 1.5 s to record an id as done, behind
/// a server whose requests time out after 1 s: the route answers at once, and the timeout
/// drops the request while `complete` runs. The retry finds the id done (a 409 at most
/// while the recording finishes), and so does a delivery after the lease: the handler never
/// runs twice.
pub async fn a_timeout_while_recording_done_does_not_run_the_handler_twice<S: IdempotencyStore>(
    store: S,
) {
    let lease = Duration::from_secs(3);
    let slow = SlowComplete {
        inner: store,
        delay: Duration::from_millis(1500),
    };
    let once = Idempotency::new(slow)
        .lease(lease)
        .retention(Duration::from_secs(600));
    let handler = Handler::default();
    let timeout = Some(Duration::from_secs(1));
    let server = Instance::start_with_timeout(once, handler.clone(), timeout).await;
    let client = client();

    assert_eq!(
        deliver(&client, &server.url, "msg_slow").await.status,
        Some(504)
    );
    assert_eq!(handler.runs("msg_slow"), 1);
    assert_eq!(
        deliver_while_in_progress(&client, &server.url, "msg_slow").await,
        Some(200),
        "the retry finds the id done"
    );
    tokio::time::sleep(lease).await;
    assert_eq!(
        deliver(&client, &server.url, "msg_slow").await.status,
        Some(200),
        "still done after the lease"
    );
    assert_eq!(handler.runs("msg_slow"), 1);
}

/// Issue 14: a lease and a retention of `Duration::MAX` mean "as long as the store can"
/// ([`MAX_TTL`]), the same for every store: a delivery runs once and its retry is answered
/// 200 (never 503), and the store, asked directly, clamps the same way.
pub async fn the_longest_lease_and_retention_work<S: IdempotencyStore>(store: S) {
    let store = Arc::new(store);
    let once = Idempotency::from_shared(Arc::clone(&store))
        .lease(Duration::MAX)
        .retention(Duration::MAX);
    assert_eq!(once.lease_duration(), MAX_TTL);
    assert_eq!(once.retention_duration(), MAX_TTL);
    let handler = Handler::default();
    let server = Instance::start(once, handler.clone()).await;
    let client = client();
    assert_eq!(
        deliver(&client, &server.url, "msg_long").await.status,
        Some(204)
    );
    assert_eq!(
        deliver(&client, &server.url, "msg_long").await.status,
        Some(200)
    );
    assert_eq!(handler.runs("msg_long"), 1);

    // The store itself, asked directly: a retention of `Duration::MAX`…
    let lease = Duration::from_secs(60);
    let Claim::Claimed(token) = store.claim("retained", lease).await.unwrap() else {
        panic!("the first claim wins")
    };
    store
        .complete("retained", &token, Duration::MAX)
        .await
        .unwrap();
    assert_eq!(store.claim("retained", lease).await.unwrap(), Claim::Done);
    // …and a lease of `Duration::MAX`, which holds for `MAX_TTL`.
    let Claim::Claimed(_) = store.claim("leased", Duration::MAX).await.unwrap() else {
        panic!("the first claim wins")
    };
    match store.claim("leased", lease).await.unwrap() {
        Claim::InProgress {
            expires_in: Some(left),
        } => assert!(
            left <= MAX_TTL && left > MAX_TTL - Duration::from_secs(60),
            "{left:?}"
        ),
        other => panic!("{other:?}"),
    }
}
