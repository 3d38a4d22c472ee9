//! Processing each event once across a fleet: receiver instances sharing a real Redis.
//!
//! Needs `REDIS_URL` (scripts/test starts a private redis-server and sets it) and, for the
//! outage test, a `redis-server` binary of its own to start and kill. Without them these tests
//! fail with a message saying so: they never skip. Built only with the `redis` feature, so a
//! plain `cargo test` does not need Redis.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod idempotency_support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use idempotency_support::*;
use standard_webhooks::RedisStore;
use standard_webhooks::{Claim, Idempotency, IdempotencyStore, Outcome};
use tokio::sync::Notify;

fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| {
        panic!(
            "REDIS_URL is not set. These tests need a real Redis: run `scripts/test`, which \
             installs redis-server if missing, starts a private one on a free 127.0.0.1 port and \
             sets REDIS_URL (or set REDIS_URL=redis://127.0.0.1:PORT/ yourself; keys are written \
             under a per-test prefix and expire within 10 minutes)."
        )
    })
}

/// Done ids expire 10 minutes after a test, not 3 days: REDIS_URL may be a Redis of yours.
fn once(store: RedisStore) -> Idempotency<RedisStore> {
    Idempotency::new(store).retention(Duration::from_secs(600))
}

/// A prefix no other test or run shares.
fn prefix(test: &str) -> String {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    format!("test:{test}:{}:{nanos}:", std::process::id())
}

/// A store (one instance's connection) on `REDIS_URL` under `prefix`.
async fn store_on(prefix: &str) -> RedisStore {
    let url = redis_url();
    RedisStore::connect(&url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach Redis at {url}: {e}"))
        .prefix(prefix)
}

async fn store(test: &str) -> RedisStore {
    store_on(&prefix(test)).await
}

/// Two instances' connections, sharing one prefix.
async fn two_stores(test: &str) -> (RedisStore, RedisStore) {
    let prefix = prefix(test);
    (store_on(&prefix).await, store_on(&prefix).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sharing_redis_run_each_event_exactly_once() {
    let (store_a, store_b) = two_stores("storm").await;
    let handler = Handler::with_delay(Duration::from_millis(40));
    let a = Instance::start(once(store_a), handler.clone()).await;
    let b = Instance::start(once(store_b), handler.clone()).await;

    storms_run_each_event_once(&[&a, &b], &handler).await;

    // A retry days later (here: now) on either instance: 200, nothing runs.
    let client = client();
    for server in [&a, &b] {
        let answer = deliver(&client, &server.url, "msg_4_19").await;
        assert_eq!((answer.status, answer.retry_after), (Some(200), None));
    }
    assert_eq!(handler.runs("msg_4_19"), 1);
}

#[tokio::test]
async fn a_failed_handler_runs_again_on_the_retry() {
    let (store_a, store_b) = two_stores("retry").await;
    let handler = Handler::default();
    let a = Instance::start(once(store_a), handler.clone()).await;
    let b = Instance::start(once(store_b), handler.clone()).await;
    let client = client();
    assert_eq!(deliver(&client, &a.url, "fail-1").await.status, Some(500));
    // The retry lands on the other instance: the claim was released in Redis.
    assert_eq!(deliver(&client, &b.url, "fail-1").await.status, Some(204));
    assert_eq!(deliver(&client, &a.url, "fail-1").await.status, Some(200));
    assert_eq!(handler.runs("fail-1"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_or_cancelled_handler_releases_its_claim() {
    let handler = Handler::default();
    let idem = once(store("cancel").await);
    let server =
        Instance::start_with_timeout(idem, handler.clone(), Some(Duration::from_secs(1))).await;
    let client = client();

    assert_eq!(deliver(&client, &server.url, "panic-1").await.status, None);
    assert_eq!(
        deliver(&client, &server.url, "gate-1").await.status,
        Some(504)
    );
    handler.gate.notify_one();
    // The release runs in a spawned task: the first retries may still see the claim (409).
    for id in ["panic-1", "gate-1"] {
        let mut status = None;
        for _ in 0..50 {
            status = deliver(&client, &server.url, id).await.status;
            if status != Some(409) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, Some(204), "{id}");
        assert_eq!(handler.runs(id), 2, "{id}");
    }
}

#[tokio::test]
async fn a_claim_left_by_a_killed_instance_expires_after_the_lease() {
    let (dead, live) = two_stores("lease").await;
    let lease = Duration::from_millis(1500);
    // What a killed instance leaves in Redis: a claim nobody will complete or release, under
    // the key of `msg_orphan` in the empty namespace (`:` then the id).
    assert!(matches!(
        dead.claim(":msg_orphan", lease).await.unwrap(),
        Claim::Claimed(_)
    ));

    orphaned_claim_is_taken_over(once(live), lease).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_gives_a_clear_503_never_a_double_run_or_a_lost_event() {
    let mut redis = RedisProcess::start().await;
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let handler = Handler::default();
    let server = Instance::start(once(store), handler.clone()).await;
    let client = client();

    assert_eq!(
        deliver(&client, &server.url, "msg_done").await.status,
        Some(204)
    );

    // Redis dies while a handler runs: the handler's own answer stands (it did run; a 5xx
    // would make the sender deliver it again).
    let in_flight = tokio::spawn({
        let (client, url) = (client.clone(), server.url.clone());
        async move { deliver(&client, &url, "gate-mid").await }
    });
    for _ in 0..200 {
        if handler.runs("gate-mid") == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(handler.runs("gate-mid"), 1);
    redis.kill();
    handler.gate.notify_one();
    assert_eq!(in_flight.await.unwrap().status, Some(204));

    // Redis is down: nothing runs, every delivery is answered 503 with Retry-After, so the
    // sender retries. A done event is not run again behind Redis's back.
    for id in ["msg_done", "msg_new"] {
        let started = std::time::Instant::now();
        let response = {
            let body = body(id);
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            let signed = standard_webhooks::Signer::new(secret()).headers(id, now, body.as_bytes());
            let mut req = client.post(&server.url).body(body);
            for (name, value) in signed.iter() {
                req = req.header(name, value);
            }
            req.send().await.unwrap()
        };
        assert_eq!(response.status(), 503, "{id}");
        assert_eq!(response.headers()["retry-after"], "5");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a dead Redis is noticed quickly: {:?}",
            started.elapsed()
        );
        assert_eq!(
            response.text().await.unwrap(),
            "webhook not processed: the idempotency store is unavailable; retry later"
        );
    }
    assert_eq!(handler.runs("msg_done"), 1);
    assert_eq!(handler.runs("msg_new"), 0);

    // Redis comes back (empty: no persistence): the sender's retry of the new event runs it.
    let _redis = RedisProcess::start_on(redis.port).await;
    let mut status = None;
    for _ in 0..50 {
        status = deliver(&client, &server.url, "msg_new").await.status;
        if status != Some(503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, Some(204), "the event is not lost");
    assert_eq!(handler.runs("msg_new"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_hangs_turns_into_a_503_not_a_hung_request() {
    let redis = RedisProcess::start().await;
    let store = RedisStore::connect(&redis.url()).await.unwrap();
    let handler = Handler::default();
    let server = Instance::start(once(store), handler.clone()).await;
    let client = client();

    redis.signal("STOP");
    let started = std::time::Instant::now();
    let answer = deliver(&client, &server.url, "msg_frozen").await;
    let waited = started.elapsed();
    redis.signal("CONT");
    assert_eq!(answer.status, Some(503));
    assert_eq!(answer.retry_after, Some(5));
    assert!(waited < Duration::from_secs(5), "answered after {waited:?}");
    assert_eq!(handler.runs("msg_frozen"), 0);

    // Thawed, the retry runs the event.
    let mut status = None;
    for _ in 0..50 {
        status = deliver(&client, &server.url, "msg_frozen").await.status;
        if status != Some(503) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, Some(204));
    assert_eq!(handler.runs("msg_frozen"), 1);
}

#[tokio::test]
async fn release_and_complete_only_touch_their_own_claim() {
    let (a, b) = two_stores("tokens").await;
    // Long enough that no pause of a loaded machine between two calls outlasts it.
    let lease = Duration::from_millis(500);
    let retention = Duration::from_secs(600);
    let Claim::Claimed(first) = a.claim("id", lease).await.unwrap() else {
        panic!("first claim")
    };
    assert!(
        matches!(b.claim("id", lease).await.unwrap(), Claim::InProgress { expires_in: Some(d) } if d <= lease)
    );
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    // The first lease ran out; another instance took the id over.
    let Claim::Claimed(second) = b.claim("id", Duration::from_secs(60)).await.unwrap() else {
        panic!("takeover")
    };
    // The slow first instance fails and releases: the second's claim stays.
    a.release("id", &first).await.unwrap();
    assert!(matches!(
        a.claim("id", lease).await.unwrap(),
        Claim::InProgress { .. }
    ));
    // The second completes; neither token's release removes a done record.
    b.complete("id", &second, retention).await.unwrap();
    a.release("id", &first).await.unwrap();
    b.release("id", &second).await.unwrap();
    assert_eq!(a.claim("id", lease).await.unwrap(), Claim::Done);
    // Retention ends: the id is free again.
    let Claim::Claimed(t) = a.claim("short", lease).await.unwrap() else {
        panic!()
    };
    a.complete("short", &t, lease).await.unwrap();
    assert_eq!(a.claim("short", lease).await.unwrap(), Claim::Done);
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    assert!(matches!(
        a.claim("short", lease).await.unwrap(),
        Claim::Claimed(_)
    ));
}

/// Issue 14: the handler succeeded, and the run is dropped (a `select!`, a timeout) while its
/// `complete` waits in the connection's queue: redis-rs does not send a command whose caller is
/// gone. The id must be recorded as done all the same: the retry is `Done`, not `InProgress`,
/// and after the lease it is still `Done`, never a second run.
#[tokio::test]
async fn a_run_dropped_while_recording_done_is_still_recorded() {
    let lease = Duration::from_secs(1);
    let once = once(store("drop-complete").await).lease(lease);
    let verifier = verifier();
    // A first delivery loads the scripts into Redis, so that each store call below is one
    // command (no NOSCRIPT round trip), and they reach Redis in the order they were sent.
    let (headers, body) = signed("msg_warm");
    let msg = verifier.verify(&headers, body.as_bytes()).unwrap();
    let warm = once.run(&msg, async { true }).await.unwrap();
    assert!(matches!(warm, Outcome::Ran { output: true, .. }));

    let (headers, body) = signed("msg_1");
    let msg = verifier.verify(&headers, body.as_bytes()).unwrap();
    let runs = AtomicUsize::new(0);
    let handled = Notify::new();
    let handler = || async {
        runs.fetch_add(1, SeqCst);
        handled.notify_one();
        true
    };
    tokio::select! {
        biased;
        outcome = once.run(&msg, handler()) => panic!("the run ended before the drop: {outcome:?}"),
        // The handler returned and `complete` was sent to the connection: drop the run.
        () = handled.notified() => {}
    }
    let retry = once.run(&msg, handler()).await.unwrap();
    assert!(matches!(retry, Outcome::Done), "{retry:?}");
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let later = once.run(&msg, handler()).await.unwrap();
    assert!(matches!(later, Outcome::Done), "{later:?}");
    assert_eq!(runs.load(SeqCst), 1);
}

/// Issue 14: the run is dropped after its claim was sent, before the answer came back (Redis is
/// frozen for that moment, as a slow network would be). Redis takes the claim all the same, for
/// a request that is gone: unless it is released, the id is answered 409 for the whole lease
/// (5 minutes here) and the event waits that long.
#[tokio::test]
async fn a_run_dropped_before_its_claim_was_answered_does_not_block_the_id() {
    let redis = RedisProcess::start().await;
    let once = once(RedisStore::connect(&redis.url()).await.unwrap());
    let verifier = verifier();
    let (headers, body) = signed("msg_warm");
    let msg = verifier.verify(&headers, body.as_bytes()).unwrap();
    let warm = once.run(&msg, async { true }).await.unwrap();
    assert!(matches!(warm, Outcome::Ran { output: true, .. }));

    let (headers, body) = signed("msg_1");
    let msg = verifier.verify(&headers, body.as_bytes()).unwrap();
    let runs = AtomicUsize::new(0);
    let handler = || async {
        runs.fetch_add(1, SeqCst);
        true
    };
    redis.signal("STOP");
    let cut = tokio::time::timeout(Duration::from_millis(200), once.run(&msg, handler())).await;
    redis.signal("CONT");
    assert!(
        cut.is_err(),
        "the run was dropped while its claim waited for Redis"
    );
    assert_eq!(runs.load(SeqCst), 0);

    // Redis now grants the claim to the dropped run. A retry may find it while it is being
    // released (InProgress), not for the lease.
    let mut outcome = None;
    for _ in 0..100 {
        let answer = once.run(&msg, handler()).await.unwrap();
        if !matches!(answer, Outcome::InProgress { .. }) {
            outcome = Some(answer);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        matches!(
            outcome,
            Some(Outcome::Ran {
                output: true,
                record_error: None
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(runs.load(SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_timeout_while_recording_done_does_not_run_the_handler_twice() {
    a_timeout_while_recording_done_does_not_run_the_handler_twice(store("slow-complete").await)
        .await;
}

/// On a Redis of the test's own: keys kept for "as long as possible" stay out of `REDIS_URL`.
#[tokio::test]
async fn a_lease_and_retention_of_duration_max_work() {
    let redis = RedisProcess::start().await;
    the_longest_lease_and_retention_work(RedisStore::connect(&redis.url()).await.unwrap()).await;
}
