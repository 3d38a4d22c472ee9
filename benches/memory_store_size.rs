//! Memory held by a `MemoryStore` per id: fills a store with 1 000 000 done ids and reads the
//! process's resident memory (Linux `/proc/self/statm`) before and after.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/bench-target cargo bench --bench memory_store_size
//! ```
//!
//! Ids are 31 characters (`msg_` and 27 more), the shape of Svix-style message ids. Each is
//! claimed and completed, as a delivery would, so the store holds what it holds in service.
//! Resident memory includes the allocator's own overhead and the hash table's spare capacity,
//! which is the honest figure for sizing a receiver.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use standard_webhooks::{Claim, IdempotencyStore, MemoryStore};

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc/self/statm");
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: both just run.
    const IDS: usize = 1_000_000;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryStore::with_capacity(IDS);
    let lease = Duration::from_secs(300);
    let retention = Duration::from_secs(3 * 24 * 3600);

    let before = resident_bytes();
    rt.block_on(async {
        for i in 0..IDS {
            let id = format!("msg_2Kq8dG3xVb7pQ9rLmN4{i:08}");
            assert_eq!(id.len(), 31);
            let Claim::Claimed(token) = store.claim(&id, lease).await.unwrap() else {
                panic!("fresh id {id} not claimed");
            };
            store.complete(&id, &token, retention).await.unwrap();
        }
    });
    let after = resident_bytes();
    assert_eq!(store.len(), IDS);

    let per_id = (after - before) as f64 / IDS as f64;
    println!("memory_store_size: {IDS} done ids of 31 characters");
    println!("  resident before: {:.1} MiB", before as f64 / 1048576.0);
    println!("  resident after:  {:.1} MiB", after as f64 / 1048576.0);
    println!(
        "  per id:          {per_id:.0} bytes ({:.0} MB per million ids)",
        per_id
    );
}
