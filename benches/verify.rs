//! Verification against its floor: a plain, pre-keyed HMAC-SHA256 of the same bytes.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench verify
//! ```
//!
//! Each criterion group holds the floor (`hmac_floor`: one pre-keyed HMAC-SHA256 state, cloned,
//! fed `id.timestamp.body`, finalized) next to the verifications of the same bytes. After
//! criterion has run, the bench prints tables of criterion's medians (read back from its
//! `estimates.json` files, only those written by this run) and, for every case, its ratio to
//! the floor from a second, interleaved measurement made here: rounds of one batch of the floor
//! then one batch of the case, about 0.6 s per case, reporting the median of the per-round
//! ratios (load that changes slower than a round, ~0.4 ms, cancels out; this shared 2-core
//! machine is rarely idle) and the ratio of the fastest batches.
//!
//! Groups:
//! - `size_<len>`: 128 B to 4 MiB; `verify_at` with an `http::HeaderMap` and with a slice of
//!   pairs (both carrying four ordinary request headers besides the three webhook ones), and
//!   `verify` reading the system clock.
//! - `keys_<len>`: 2 and 5 keys, the signature by the first key tried or the last; a forged
//!   signature (every key in force is tried). The rotation cases: a verifier holding a current
//!   and a retiring key, fed deliveries signed by the retiring key only (a sender that has not
//!   switched yet: the key that matched last is tried first, so one HMAC each), by the new key
//!   only, alternately by each (the worst case for that hint), and the same after the keys were
//!   installed on the running verifier with `Verifier::rotate`. Their cost relative to one key
//!   is printed from an interleaved measurement against `1key`.
//! - `reject_<len>`: a missing header and a stale timestamp. Their cost must not grow with the
//!   body: they are rejected before any hashing.
//! - `clock`: `SystemTime::now()` alone, the one thing `verify` does beyond `verify_at`.
//! - `load`: a key's fingerprint, what loading a key costs once (building, rotating, reloading).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use standard_webhooks::{Secret, Signer, Verifier};
use time::OffsetDateTime;

#[path = "support/ratios.rs"]
mod ratios;
use ratios::{fmt_ns, median, output_directory, paired};

const SECRETS: [&str; 5] = [
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
    "whsec_3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "whsec_c2VjcmV0LWtleS1udW1iZXItZm91ci1sb25nIQ==",
    "whsec_a2V5LWZpdmUta2V5LWZpdmUta2V5LWZpdmU=",
];
const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
const TS: i64 = 1_614_265_330;

const SIZES: [(&str, usize); 5] = [
    ("128B", 128),
    ("1KiB", 1024),
    ("16KiB", 16 * 1024),
    ("256KiB", 256 * 1024),
    ("4MiB", 4 * 1024 * 1024),
];

/// Headers a real delivery carries besides the webhook ones.
const OTHER_HEADERS: [(&str, &str); 4] = [
    ("host", "receiver.example.com"),
    ("user-agent", "Svix-Webhooks/1.62"),
    ("content-type", "application/json"),
    ("accept", "*/*"),
];

fn secret(i: usize) -> Secret {
    SECRETS[i].parse().unwrap()
}

fn body(len: usize) -> Vec<u8> {
    // Printable, JSON-ish bytes; the content does not change the cost of hashing.
    (0..len).map(|i| b"{\"a\":1234567890}"[i % 16]).collect()
}

fn pairs(signed: &standard_webhooks::SignedHeaders) -> Vec<(String, String)> {
    OTHER_HEADERS
        .iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .chain(signed.iter().map(|(n, v)| (n.to_owned(), v.to_owned())))
        .collect()
}

fn map(pairs: &[(String, String)]) -> http::HeaderMap {
    let mut map = http::HeaderMap::new();
    for (n, v) in pairs {
        map.append(
            http::HeaderName::try_from(n.as_str()).unwrap(),
            http::HeaderValue::from_str(v).unwrap(),
        );
    }
    map
}

/// One measured function: its criterion group and name, and the work of one iteration.
struct Case {
    group: String,
    name: &'static str,
    run: Box<dyn Fn() -> bool>,
}

fn case(group: &str, name: &'static str, run: impl Fn() -> bool + 'static) -> Case {
    Case {
        group: group.to_owned(),
        name,
        run: Box::new(run),
    }
}

/// The floor: a plain HMAC-SHA256 of `id.ts.body` from a pre-keyed state.
fn floor(group: &str, body: Vec<u8>) -> Case {
    let key = [0x31u8; 24];
    let floor = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap();
    case(group, "hmac_floor", move || {
        let mut mac = floor.clone();
        mac.update(black_box(ID.as_bytes()));
        mac.update(b".1614265330.");
        mac.update(black_box(&body));
        black_box(mac.finalize().into_bytes())[0] != 1
    })
}

fn at(ts: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(ts).unwrap()
}

/// `verifier.verify_at(headers, body, now)`, checked once to give `expect`.
fn verify_case<H: standard_webhooks::HeaderSource + 'static>(
    group: &str,
    name: &'static str,
    verifier: &Verifier,
    headers: H,
    body: &[u8],
    now: OffsetDateTime,
    expect: bool,
) -> Case {
    let (verifier, body) = (verifier.clone(), body.to_vec());
    assert_eq!(
        verifier.verify_at(&headers, &body, now).is_ok(),
        expect,
        "{group}/{name}"
    );
    case(group, name, move || {
        verifier
            .verify_at(black_box(&headers), black_box(&body), now)
            .is_ok()
    })
}

fn sizes() -> Vec<Case> {
    let verifier = Verifier::builder().secret(secret(0)).build().unwrap();
    let signer = Signer::new(secret(0));
    let mut cases = Vec::new();
    for (name, len) in SIZES {
        let group = format!("size_{name}");
        let body = body(len);
        let pairs = pairs(&signer.headers(ID, TS, &body));
        let map = map(&pairs);
        cases.push(floor(&group, body.clone()));
        cases.push(verify_case(
            &group,
            "verify_at_map",
            &verifier,
            map,
            &body,
            at(TS),
            true,
        ));
        cases.push(verify_case(
            &group,
            "verify_at_pairs",
            &verifier,
            pairs,
            &body,
            at(TS),
            true,
        ));
        // `verify` reads the system clock and checks the window like `verify_at`; signed now,
        // and a tolerance of a day keeps it valid however long the whole bench runs.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let fresh = self::map(&self::pairs(&signer.headers(ID, now, &body)));
        let v = Verifier::builder()
            .secret(secret(0))
            .tolerance(Duration::from_secs(86_400))
            .build()
            .unwrap();
        assert!(v.verify(&fresh, &body).is_ok());
        cases.push(case(&group, "verify_clock_map", move || {
            v.verify(black_box(&fresh), black_box(&body)).is_ok()
        }));
    }
    cases
}

fn keys() -> Vec<Case> {
    // Rotation as documented: the current key first, the retiring one with `secret_until`.
    let far = at(TS + 86_400);
    let rotation = Verifier::builder()
        .secret(secret(1))
        .secret_until(secret(0), far)
        .build()
        .unwrap();
    // The same two keys, added in the other order (the retiring key first).
    let rotation_old_first = Verifier::builder()
        .secret_until(secret(0), far)
        .secret(secret(1))
        .build()
        .unwrap();
    let five = (0..5)
        .fold(Verifier::builder(), |b, i| b.secret(secret(i)))
        .build()
        .unwrap();
    let one = Verifier::builder().secret(secret(0)).build().unwrap();
    // The same rotation installed on a running verifier: secret 0 current, then rotated to 1.
    let rotated = Verifier::builder().secret(secret(0)).build().unwrap();
    rotated.rotate(secret(1), Duration::from_secs(86_400));

    let mut cases = Vec::new();
    for (name, len) in [SIZES[0], SIZES[1], SIZES[2]] {
        let group = format!("keys_{name}");
        let body = body(len);
        let by = |i: usize| map(&pairs(&Signer::new(secret(i)).headers(ID, TS, &body)));
        // Deliveries signed alternately by the retiring and the current key.
        let alternating = {
            let (a, b) = (by(0), by(1));
            let (v, body) = (rotation.clone(), body.clone());
            let flip = std::cell::Cell::new(false);
            assert!(
                v.verify_at(&a, &body, at(TS)).is_ok() && v.verify_at(&b, &body, at(TS)).is_ok()
            );
            case(&group, "2keys_alternating", move || {
                flip.set(!flip.get());
                let h = if flip.get() { &a } else { &b };
                v.verify_at(black_box(h), black_box(&body), at(TS)).is_ok()
            })
        };
        cases.push(alternating);
        let mut forged = by(0);
        forged.insert(
            "webhook-signature",
            http::HeaderValue::from_static("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
        );
        cases.push(floor(&group, body.clone()));
        for (case, verifier, headers, ok) in [
            ("1key", &one, by(0), true),
            ("2keys_newer", &rotation, by(1), true),
            ("2keys_newer_added_last", &rotation_old_first, by(1), true),
            ("2keys_retiring", &rotation, by(0), true),
            ("rotated_retiring", &rotated, by(0), true),
            ("rotated_newer", &rotated, by(1), true),
            ("5keys_first", &five, by(0), true),
            ("5keys_last", &five, by(4), true),
            ("forged_1key", &one, forged.clone(), false),
            ("forged_5keys", &five, forged.clone(), false),
        ] {
            cases.push(verify_case(
                &group,
                case,
                verifier,
                headers,
                &body,
                at(TS),
                ok,
            ));
        }
    }
    cases
}

fn rejects() -> Vec<Case> {
    let verifier = Verifier::builder().secret(secret(0)).build().unwrap();
    let signer = Signer::new(secret(0));
    let mut cases = Vec::new();
    for (name, len) in SIZES {
        let group = format!("reject_{name}");
        let body = body(len);
        let full = map(&pairs(&signer.headers(ID, TS, &body)));
        let mut missing = full.clone();
        missing.remove("webhook-signature");
        cases.push(verify_case(
            &group,
            "missing_header",
            &verifier,
            missing,
            &body,
            at(TS),
            false,
        ));
        cases.push(verify_case(
            &group,
            "stale_timestamp",
            &verifier,
            full,
            &body,
            at(TS + 3600),
            false,
        ));
    }
    cases
}

/// Reading the system clock alone, as `verify` does once per call (the rest of `verify` is
/// `verify_at`): the difference between the two columns. And what loading a key costs, once per
/// key (building, rotating, reloading): its fingerprint, a PBKDF2 of 10,000 rounds.
fn clock() -> Vec<Case> {
    let key = secret(0);
    vec![
        case("clock", "system_time_now", || {
            black_box(SystemTime::now()) > SystemTime::UNIX_EPOCH
        }),
        case("load", "key_fingerprint", move || {
            black_box(&key).fingerprint().to_bytes()[0] != 1
        }),
    ]
}

/// Runs every case under criterion, group by group.
fn run_criterion(c: &mut Criterion, cases: &[Case]) {
    let mut i = 0;
    while let Some(first) = cases.get(i) {
        let group: Vec<&Case> = cases[i..]
            .iter()
            .take_while(|c| c.group == first.group)
            .collect();
        i += group.len();
        let mut g = c.benchmark_group(first.group.as_str());
        if let Some(len) = SIZES
            .iter()
            .find(|(n, _)| first.group.ends_with(&format!("_{n}")))
            .map(|&(_, len)| len)
        {
            if !first.group.starts_with("reject") {
                g.throughput(Throughput::Bytes(len as u64));
            }
            if len >= 256 * 1024 {
                g.sample_size(10);
            }
        }
        for case in group {
            g.bench_function(case.name, |b| b.iter(|| (case.run)()));
        }
        g.finish();
    }
}

/// Prints the tables: criterion's medians, and for each case with a floor in its group, the
/// ratio to the floor from the interleaved measurement (median of paired rounds).
fn print_tables(cases: &[Case], dir: &Path, since: SystemTime) {
    let mut ratios: BTreeMap<(String, &str), (f64, f64)> = BTreeMap::new();
    for case in cases.iter().filter(|c| c.name != "hmac_floor") {
        let floor = cases
            .iter()
            .find(|c| c.group == case.group && c.name == "hmac_floor");
        let ran = |c: &Case| median(dir, &c.group, c.name, since).is_some();
        if let Some(floor) = floor.filter(|f| ran(f) && ran(case)) {
            let r = paired(&floor.run, &case.run);
            ratios.insert((case.group.clone(), case.name), r);
        }
    }
    let table = |title: &str, prefix: &str, functions: &[&str], sizes: &[(&str, usize)]| {
        let mut rows = Vec::new();
        for (size, _) in sizes {
            let group = format!("{prefix}_{size}");
            let cells: Vec<String> = functions
                .iter()
                .map(|&f| {
                    let t = median(dir, &group, f, since).map_or_else(|| "-".to_owned(), fmt_ns);
                    match ratios.get(&(group.clone(), f)) {
                        Some((r, rmin)) => format!("{t} ({r:.3}×; min {rmin:.3}×)"),
                        None => t,
                    }
                })
                .collect();
            if cells.iter().any(|c| c != "-") {
                rows.push((size, cells));
            }
        }
        if rows.is_empty() {
            return;
        }
        println!("\n{title}");
        println!("| body | {} |", functions.join(" | "));
        println!("|---|{}", "---|".repeat(functions.len()));
        for (size, cells) in rows {
            println!("| {size} | {} |", cells.join(" | "));
        }
    };
    println!(
        "\n=== criterion medians; in brackets the ratio to the plain HMAC-SHA256 floor of the"
    );
    println!(
        "=== same bytes: median of interleaved rounds (floor batch, then verify batch), and the"
    );
    println!("=== ratio of the fastest batches ===");
    table(
        "verify, 1 key",
        "size",
        &[
            "hmac_floor",
            "verify_at_map",
            "verify_at_pairs",
            "verify_clock_map",
        ],
        &SIZES,
    );
    table(
        "several keys, http::HeaderMap",
        "keys",
        &[
            "hmac_floor",
            "1key",
            "2keys_newer",
            "2keys_newer_added_last",
            "2keys_retiring",
            "2keys_alternating",
            "rotated_retiring",
            "rotated_newer",
            "5keys_first",
            "5keys_last",
            "forged_1key",
            "forged_5keys",
        ],
        &SIZES[..3],
    );
    rotation_table(cases, dir, since);
    if let Some(t) = median(dir, "load", "key_fingerprint", since) {
        println!(
            "\nloading a key: its fingerprint (PBKDF2-HMAC-SHA256, 10,000 rounds), once per key: {}",
            fmt_ns(t)
        );
    }
    if let Some(t) = median(dir, "clock", "system_time_now", since) {
        println!(
            "\nreading the system clock (`SystemTime::now`, once per `verify`): {}",
            fmt_ns(t)
        );
    }
    table(
        "rejected before hashing (the cost must be flat across body sizes)",
        "reject",
        &["missing_header", "stale_timestamp"],
        &SIZES,
    );
}

/// The rotation cases against one key, from an interleaved measurement: what a verifier holding
/// a current and a retiring key costs per delivery, relative to a verifier with one key.
fn rotation_table(cases: &[Case], dir: &Path, since: SystemTime) {
    let find = |group: &str, name: &str| {
        cases
            .iter()
            .find(|c| c.group == group && c.name == name)
            .filter(|c| median(dir, &c.group, c.name, since).is_some())
    };
    let names = [
        "2keys_newer",
        "2keys_retiring",
        "2keys_alternating",
        "rotated_retiring",
        "rotated_newer",
    ];
    let mut rows = Vec::new();
    for (size, _) in &SIZES[..3] {
        let group = format!("keys_{size}");
        let Some(one) = find(&group, "1key") else {
            continue;
        };
        let cells: Vec<String> = names
            .iter()
            .map(|name| match find(&group, name) {
                Some(case) => {
                    let (r, rmin) = paired(&one.run, &case.run);
                    format!("{r:.3}× (min {rmin:.3}×)")
                }
                None => "-".to_owned(),
            })
            .collect();
        rows.push((size, cells));
    }
    if rows.is_empty() {
        return;
    }
    println!(
        "\nrotation: a current and a retiring key, relative to one key (interleaved, median of rounds)"
    );
    println!("| body | {} |", names.join(" | "));
    println!("|---|{}", "---|".repeat(names.len()));
    for (size, cells) in rows {
        println!("| {size} | {} |", cells.join(" | "));
    }
}

fn main() {
    let since = SystemTime::now();
    let dir = output_directory();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(400))
        .measurement_time(Duration::from_millis(1200))
        .sample_size(40)
        .output_directory(&dir)
        .configure_from_args();
    let cases: Vec<Case> = [sizes(), keys(), rejects(), clock()]
        .into_iter()
        .flatten()
        .collect();
    run_criterion(&mut c, &cases);
    c.final_summary();
    print_tables(&cases, &dir, since);
}
