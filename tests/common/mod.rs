//! Shared by the extractor tests: signed deliveries, a raw HTTP/1.1 client for hostile bodies,
//! and the load driver. Everything talks to 127.0.0.1 only.
#![allow(dead_code)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use standard_webhooks::{Secret, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The body limit every test server is configured with (DefaultBodyLimit / PayloadConfig).
pub const LIMIT: usize = 16 * 1024;

pub fn old_secret() -> Secret {
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
}

pub fn new_secret() -> Secret {
    "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD".parse().unwrap()
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn event(kind: &str, n: usize) -> String {
    format!(
        r#"{{"type":"{kind}","timestamp":"2026-11-26T12:00:00Z","data":{{"loan_id":"ln_{n}","amount":"15000.00"}}}}"#
    )
}

/// Counts handler calls and remembers which message ids and bodies reached a handler.
#[derive(Default)]
pub struct Seen {
    pub calls: AtomicUsize,
    pub ids: std::sync::Mutex<Vec<String>>,
    pub peers: std::sync::Mutex<HashSet<std::net::SocketAddr>>,
}

impl Seen {
    pub fn record(&self, id: Option<&str>, peer: Option<std::net::SocketAddr>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(id) = id {
            self.ids.lock().unwrap().push(id.to_owned());
        }
        if let Some(peer) = peer {
            self.peers.lock().unwrap().insert(peer);
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

/// Serves actix-web on an ephemeral port of 127.0.0.1, on a thread of its own with its own
/// actix system: `serve` builds the server on the listener (`HttpServer::new(..).listen(l)`).
/// Returns the address once the server is up; the server runs until the test process exits.
/// (Stopping servers at the end of each test occasionally panicked inside actix-server 2.9: an
/// overflow in a worker's connection counter, in debug builds.)
pub fn spawn_actix(
    serve: impl FnOnce(std::net::TcpListener) -> actix_web::dev::Server + Send + 'static,
) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = serve(listener);
            tx.send(()).unwrap();
            server.await.unwrap();
        });
    });
    rx.recv().unwrap();
    addr
}

/// A POST with the given headers and body through reqwest.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
    body: impl Into<reqwest::Body>,
) -> (u16, String) {
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    for (n, v) in headers {
        req = req.header(*n, v);
    }
    let res = req.send().await.expect("request failed");
    let status = res.status().as_u16();
    (status, res.text().await.expect("body"))
}

pub fn signed(signer: &Signer, id: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    signer
        .headers(id, ts, body)
        .iter()
        .map(|(n, v)| (n, v.to_owned()))
        .collect()
}

/// Sends raw bytes on a fresh connection, optionally pausing between pieces, then (if
/// `half_close`) shuts its writing side, as a client that gives up mid-body does. Returns the
/// status line's code if the server answered within 10 s (None: closed or silent).
pub async fn raw(
    addr: std::net::SocketAddr,
    pieces: &[&[u8]],
    pause: Duration,
    half_close: bool,
) -> Option<u16> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    for (i, p) in pieces.iter().enumerate() {
        if i > 0 && !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        if s.write_all(p).await.is_err() {
            break;
        }
    }
    if half_close {
        let _ = s.shutdown().await;
    }
    // Read until the end of the response head, the end of the stream, or 10 s.
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        while !out.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&out);
    let code = text.strip_prefix("HTTP/1.1 ")?.get(..3)?;
    code.parse().ok()
}

/// The head of a POST to `path` with the signed headers of `body` and extra header lines.
pub fn head(path: &str, headers: &[(&str, String)], extra: &str) -> Vec<u8> {
    let mut h = format!(
        "POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n{extra}"
    );
    for (n, v) in headers {
        h.push_str(&format!("{n}: {v}\r\n"));
    }
    h.push_str("\r\n");
    h.into_bytes()
}

/// What a load-test delivery is and what the server must answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Valid,
    Rotation,
    Forged,
    Stale,
    Unsigned,
    Oversized,
    BadJson,
}

impl Kind {
    pub fn of(i: usize) -> Self {
        match i % 10 {
            0..=3 => Kind::Valid,
            4 => Kind::Rotation,
            5 => Kind::Forged,
            6 => Kind::Stale,
            7 => Kind::Unsigned,
            8 => Kind::Oversized,
            _ => Kind::BadJson,
        }
    }

    pub fn expected_status(self) -> u16 {
        match self {
            Kind::Valid | Kind::Rotation => 200,
            Kind::Forged | Kind::Stale => 401,
            Kind::Unsigned | Kind::BadJson => 400,
            Kind::Oversized => 413,
        }
    }

    pub fn reaches_handler(self) -> bool {
        matches!(self, Kind::Valid | Kind::Rotation)
    }
}

/// One prepared delivery of the load test.
pub struct Prepared {
    pub kind: Kind,
    pub id: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub fn prepare(n: usize) -> Vec<Prepared> {
    let by_new = Signer::new(new_secret());
    let by_both = Signer::new(old_secret()).secret(new_secret());
    let ts = now();
    (0..n)
        .map(|i| {
            let kind = Kind::of(i);
            let id = format!("msg_load_{i}");
            let mut body = event("loan.payment_received", i).into_bytes();
            let headers = match kind {
                Kind::Valid => signed(&by_new, &id, ts, &body),
                Kind::Rotation => signed(&by_both, &id, ts, &body),
                Kind::Forged => {
                    let h = signed(&by_new, &id, ts, &body);
                    body = event("loan.payment_received", i + 1).into_bytes();
                    h
                }
                Kind::Stale => signed(&by_new, &id, ts - 3600, &body),
                Kind::Unsigned => Vec::new(),
                Kind::Oversized => {
                    body = vec![b' '; LIMIT + 1024];
                    signed(&by_new, &id, ts, &body)
                }
                Kind::BadJson => {
                    body = b"{not json".to_vec();
                    signed(&by_new, &id, ts, &body)
                }
            };
            Prepared {
                kind,
                id,
                headers,
                body,
            }
        })
        .collect()
}

/// The load-test figures.
#[derive(Debug)]
pub struct LoadReport {
    pub sent: usize,
    pub answered_as_expected: usize,
    pub handled: usize,
    pub elapsed: Duration,
}

/// Sends every prepared delivery to `url` from `concurrency` workers, each with its own
/// connection (a client whose pool keeps one connection), and checks every answer: status,
/// and for deliveries that reach the handler, a body equal to the message id.
/// `bad_json` is how the framework's own JSON extractor's rejection begins.
pub async fn load(
    url: &str,
    deliveries: Vec<Prepared>,
    concurrency: usize,
    bad_json: &'static str,
) -> LoadReport {
    let deliveries = Arc::new(deliveries);
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (deliveries, next, ok, url) =
            (deliveries.clone(), next.clone(), ok.clone(), url.to_owned());
        workers.spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .unwrap();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(d) = deliveries.get(i) else { break };
                let (status, text) = send(&client, &url, &d.headers, d.body.clone()).await;
                assert_eq!(
                    status,
                    d.kind.expected_status(),
                    "delivery {i} ({:?}): {text}",
                    d.kind
                );
                let prefix = match d.kind {
                    Kind::Valid | Kind::Rotation => d.id.as_str(),
                    // One generic line per status: nothing about keys or which check failed.
                    Kind::Forged | Kind::Stale => "webhook signature verification failed",
                    Kind::Unsigned => "invalid webhook request",
                    Kind::Oversized => "webhook body too large",
                    Kind::BadJson => bad_json,
                };
                assert!(
                    text.starts_with(prefix),
                    "delivery {i} ({:?}): {text}",
                    d.kind
                );
                if d.kind.reaches_handler() {
                    assert_eq!(text, d.id);
                }
                ok.fetch_add(1, Ordering::SeqCst);
            }
        });
    }
    while let Some(r) = workers.join_next().await {
        r.expect("a load worker failed");
    }
    LoadReport {
        sent: deliveries.len(),
        answered_as_expected: ok.load(Ordering::SeqCst),
        handled: deliveries
            .iter()
            .filter(|d| d.kind.reaches_handler())
            .count(),
        elapsed: started.elapsed(),
    }
}

/// Asserts that the handler saw exactly the valid ids, each once.
pub fn assert_exactly_valid_ids_handled(seen: &Seen, deliveries_n: usize) {
    let mut got = seen.ids.lock().unwrap().clone();
    got.sort();
    let mut want: Vec<String> = (0..deliveries_n)
        .filter(|&i| Kind::of(i).reaches_handler())
        .map(|i| format!("msg_load_{i}"))
        .collect();
    want.sort();
    assert_eq!(got.len(), want.len(), "handler calls");
    assert_eq!(got, want);
}

/// A test server on 127.0.0.1 and what its handlers saw.
pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Seen>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Posts `body` to `/json` with `headers`, the body in ten pieces `pause` apart after the head;
/// the status, as [`raw`] gives it.
async fn trickle(
    s: &Server,
    headers: &[(&str, String)],
    body: &str,
    pause: Duration,
) -> Option<u16> {
    let head = head(
        "/json",
        headers,
        &format!("content-length: {}\r\nconnection: close\r\n", body.len()),
    );
    let mut pieces: Vec<&[u8]> = vec![&head];
    pieces.extend(body.as_bytes().chunks(body.len() / 10 + 1));
    raw(s.addr, &pieces, pause, false).await
}

/// Hostile bodies against a running server (routes `/json` and `/raw`, body limit
/// [`LIMIT`]): every one gets 4xx, the handler runs only for the genuine slow delivery, and the
/// server stays healthy.
pub async fn hostile_bodies_get_4xx(s: &Server) {
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
    assert_eq!(
        trickle(s, &h, &forged, Duration::from_millis(100)).await,
        Some(401)
    );

    // Slow and genuine, complete inside the window: accepted.
    assert_eq!(
        trickle(s, &h, &body, Duration::from_millis(100)).await,
        Some(200)
    );
    assert_eq!(
        s.seen.calls(),
        1,
        "only the genuine slow delivery ran the handler"
    );

    // Genuine, its headers inside the 300 s window (signed 299 s ago) but its body complete
    // after it (trickled in over ~3 s): the timestamp is judged again once the body is there,
    // so a captured delivery cannot outlast the window by a slow upload. 401, no handler.
    let late = signed(&signer, "msg_late", now() - 299, body.as_bytes());
    assert_eq!(
        trickle(s, &late, &body, Duration::from_millis(300)).await,
        Some(401)
    );
    assert_eq!(s.seen.calls(), 1, "the late delivery ran no handler");

    // Still healthy: a normal delivery goes through.
    let client = reqwest::Client::new();
    let h = signed(&signer, "msg_after", now(), body.as_bytes());
    assert_eq!(
        send(&client, &s.url("/json"), &h, body).await,
        (200, "msg_after".to_owned())
    );
    assert_eq!(s.seen.calls(), 2);
}

/// 20,000 deliveries at 64 connections against a running server's `/json` route, a mix of
/// valid and invalid; every answer checked (`json_rejection` starts the framework's answer to
/// JSON that does not parse), each valid id handled exactly once, none lost.
pub async fn load_20000_deliveries(s: &Server, framework: &str, json_rejection: &'static str) {
    const N: usize = 20_000;
    let deliveries = prepare(N);
    let report = tokio::time::timeout(
        Duration::from_secs(240),
        load(&s.url("/json"), deliveries, 64, json_rejection),
    )
    .await
    .expect("load test took longer than its time bound");
    assert_eq!(report.answered_as_expected, N, "{report:?}");
    assert_eq!(s.seen.calls(), report.handled, "{report:?}");
    assert_exactly_valid_ids_handled(&s.seen, N);
    let peers = s.seen.peers.lock().unwrap().len();
    eprintln!(
        "{framework} load: {} deliveries ({} handled) at 64 connections in {:.2?} ({:.0}/s), {} client connections seen by the handler",
        report.sent,
        report.handled,
        report.elapsed,
        report.sent as f64 / report.elapsed.as_secs_f64(),
        peers
    );
}

/// Refused deliveries against a running server (routes `/json`, `/raw` with body limit
/// [`LIMIT`], and `/expired` whose verifier holds only expired keys): forged, untrusted, stale,
/// unsigned, malformed, oversized, not JSON, no key in force. Each gets its status and a body
/// saying why; only the one delivery exactly at the limit runs the handler.
pub async fn refused_deliveries(s: &Server, json_word: &str) {
    let client = reqwest::Client::new();
    let signer = Signer::new(new_secret());
    let body = event("loan.signed", 7);

    // Forged: valid headers, body altered.
    let h = signed(&signer, "msg_f", now(), body.as_bytes());
    let (st, text) = send(&client, &s.url("/json"), &h, body.replace("15000", "95000")).await;
    assert_eq!(
        (st, text == "webhook signature verification failed"),
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
        assert_eq!(text, "webhook signature verification failed");
    }

    // Unsigned, and each header missing in turn: 400, with one generic line (the server's logs
    // name the header).
    let (st, text) = send(&client, &s.url("/json"), &[], body.clone()).await;
    assert_eq!((st, text.as_str()), (400, "invalid webhook request"));
    let full = signed(&signer, "msg_m", now(), body.as_bytes());
    for skip in 0..3 {
        let mut h = full.clone();
        h.remove(skip);
        let (st, text) = send(&client, &s.url("/json"), &h, body.clone()).await;
        assert_eq!((st, text.as_str()), (400, "invalid webhook request"));
    }
    // A malformed timestamp: 400.
    let mut h = full.clone();
    h[1].1 = "12e4".into();
    assert_eq!(
        send(&client, &s.url("/json"), &h, body.clone()).await.0,
        400
    );

    // Oversized: 413 under the framework's body limit, even correctly signed.
    let big = vec![b'x'; LIMIT + 1];
    let h = signed(&signer, "msg_big", now(), &big);
    let (st, text) = send(&client, &s.url("/raw"), &h, big).await;
    assert_eq!((st, text.as_str()), (413, "webhook body too large"));

    // Exactly at the limit is fine.
    let at_limit = vec![b'x'; LIMIT];
    let h = signed(&signer, "msg_limit", now(), &at_limit);
    assert_eq!(send(&client, &s.url("/raw"), &h, at_limit).await.0, 200);
    assert_eq!(
        s.seen.calls(),
        1,
        "only the delivery at the limit ran the handler"
    );

    // The inner extractor's own rejection: verified, but not JSON: the framework's Json answers
    // 400 with a text naming `json_word`.
    let h = signed(&signer, "msg_nj", now(), b"{nope");
    let (st, text) = send(&client, &s.url("/json"), &h, "{nope").await;
    assert_eq!(st, 400);
    assert!(text.contains(json_word), "{text}");

    // A verifier whose keys have all expired: the server is misconfigured, 500, and the answer
    // does not say that the keys expired (a prober would learn when a retiring key ends).
    let h = signed(&signer, "msg_e", now(), body.as_bytes());
    let (st, text) = send(&client, &s.url("/expired"), &h, body.clone()).await;
    assert_eq!((st, text.as_str()), (500, "webhook receiver error"));
}
