//! The measuring helpers of the ratio benches (`benches/verify.rs` and
//! `benches/compare/benches/compare.rs`): interleaved A/B batches, and criterion's medians read
//! back from its `estimates.json` files.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// Time per call of `f`, run `n` times in a row.
pub fn batch(f: &dyn Fn() -> bool, n: u32) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        black_box(f());
    }
    start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
}

/// Interleaved A/B measurement of `b` against `a`: rounds of one batch of `a` then one batch of
/// `b`, about 0.6 s in all. Returns the median of the per-round ratios `b / a` (load that
/// changes slower than a round cancels out) and the ratio of the two fastest batches.
pub fn paired(a: &dyn Fn() -> bool, b: &dyn Fn() -> bool) -> (f64, f64) {
    let once = batch(a, 1).max(batch(b, 1)).max(1.0);
    let n = ((200_000.0 / once) as u32).clamp(1, 100_000); // ~0.2 ms per batch
    let per_round = 2.0 * f64::from(n) * once;
    let rounds = ((600e6 / per_round) as usize).clamp(15, 1_500);
    let (mut ratios, mut min_a, mut min_b) = (Vec::with_capacity(rounds), f64::MAX, f64::MAX);
    for _ in 0..rounds {
        let ta = batch(a, n);
        let tb = batch(b, n);
        ratios.push(tb / ta);
        min_a = min_a.min(ta);
        min_b = min_b.min(tb);
    }
    ratios.sort_by(f64::total_cmp);
    (ratios[ratios.len() / 2], min_b / min_a)
}

/// Where criterion writes its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `criterion/` in the target directory that holds this bench executable.
pub fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("criterion");
    }
    // target/release/deps/<bench>-<hash>
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// Median (ns) of `group/function` from criterion's `estimates.json`, if written by this run.
pub fn median(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(function).join("new/estimates.json");
    let modified = std::fs::metadata(&path).ok()?.modified().ok()?;
    if modified < since {
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    json["median"]["point_estimate"].as_f64()
}

pub fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
