#!/usr/bin/env bash
# Instructions per request of each route of the extractor benches, counted by callgrind
# (BENCHMARKS.md, "Instructions per request"). Needs valgrind (Debian: `apt-get install valgrind`).
#
#   bash benches/callgrind.sh
#
# Each route of `benches/extractors.rs` runs in process twice, with 1,000 and with 3,000
# requests (`--count`); the difference divided by 2,000 is one request, without start-up.
# valgrind does not offer the CPU's SHA extensions, so sha2 falls back to its portable
# compression function there: that function's own instructions are shown apart, and "the rest"
# is everything else a request executes, which is the same code as on real hardware.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh needs valgrind" >&2; exit 1; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/tmp/bench-target}"
bin=$(cargo bench --all-features --bench extractors --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
few=1000
many=3000

# Self instructions of the functions matching $2 in the callgrind output $1 (the program's
# total when $2 is `PROGRAM TOTALS`).
self_cost() {
    callgrind_annotate --auto=no --threshold=100 --show-percs=no "$1" |
        awk -v pat="$2" '$1 ~ /^[0-9,]+$/ && $0 ~ pat { gsub(",", "", $1); s += $1 }
            END { print s + 0 }'
}

# Inclusive instructions of the verifier's work in the callgrind output $1: for the extractor
# its two steps, reading the headers (`begin`, or `prepare` where `begin` is inlined) and
# deciding on the body (`finish`, or `decide` where `finish` is inlined); for the hand-written
# route, `verify`. The clock readings are not included.
verifier_cost() {
    callgrind_annotate --inclusive=yes --auto=no --threshold=100 --show-percs=no "$1" |
        awk '$1 ~ /^[0-9,]+$/ && /standard_webhooks::verifier::(Verifier::)?(begin|prepare|finish|decide|verify) / {
            gsub(",", "", $1); name = $0; sub(/ \[.*/, "", name); sub(/^.*::/, "", name)
            if ($1 > best[name]) best[name] = $1 }
            END {
                if ("verify" in best) { print best["verify"] + 0; exit }
                headers = ("begin" in best) ? best["begin"] : best["prepare"]
                body = ("finish" in best) ? best["finish"] : best["decide"]
                print headers + body + 0 }'
}

echo "| framework | route | instructions/request | SHA-256 compression (portable) | the rest | the rest, over \`/plain\` | in the verifier, less compression |"
echo "|---|---|---|---|---|---|---|"
for framework in axum actix; do
    plain_rest=""
    for route in /plain /verified /floor /twice /direct; do
        name=${route#/}
        for n in $few $many; do
            valgrind --tool=callgrind --callgrind-out-file="$out/$framework.$name.$n" \
                "$bin" --count "$framework" "$route" "$n" >/dev/null 2>&1
        done
        per() { echo $(( ($1 - $2) / (many - few) )); }
        a="$out/$framework.$name.$many" b="$out/$framework.$name.$few"
        total=$(per "$(self_cost "$a" 'PROGRAM TOTALS')" "$(self_cost "$b" 'PROGRAM TOTALS')")
        sha=$(per "$(self_cost "$a" 'sha256::soft')" "$(self_cost "$b" 'sha256::soft')")
        verifier=$(per "$(verifier_cost "$a")" "$(verifier_cost "$b")")
        rest=$((total - sha))
        plain_rest=${plain_rest:-$rest}
        in_verifier="-"
        if [ "$verifier" -gt 0 ]; then in_verifier=$((verifier - sha)); fi
        echo "| $framework | \`$route\` | $total | $sha | $rest | $((rest - plain_rest)) | $in_verifier |"
    done
done
