#!/usr/bin/env bash
# Runs benches/examples/large_sessions.rs for every store at every session size, one process per
# store and size, and appends its lines (after a `#` line naming the machine and the date) to
# benches/results/large_sessions.txt, or to the file given as the first argument. benches/charts.py
# draws them (for each store, the runs of the last block that measured it).
#
# Nothing is pinned. Each run's servers have 2 workers (the axum runtime, the actix-web servers),
# the load driver 2 more, and Redis, PostgreSQL or SQLite's threads run beside them: on a 2-core
# machine, pinning the servers to one core would halve their workers, and pinning everything to
# both cores is no pinning. Instead every store and size is run SESSION_BENCH_REPEATS times
# (default 3), the repeats spread over the whole run (each repeat goes through every size and
# store before the next begins), and charts.py takes the median. Within one process the
# contenders of a store run back to back with the same load: the comparison of ours with its peer
# is that process's.
#
# About 13 minutes on the 2-core development machine with the defaults: SESSION_BENCH_SECS=3 of
# measurement (after 1 s of warm-up) per contender, 13 contenders per size. SESSION_BENCH_SIZES
# (default "1x0 10x500 100x500 10x5000"; COUNTxBYTES, 1x0 = the counter alone) and
# SESSION_BENCH_STORES (default "memory moka file redis pg sqlite") choose what runs;
# SESSION_BENCH_FILL=x fills the values with `x`s instead of pseudo-random text (see
# session_benches::filler: PostgreSQL compresses a blob of `x`s some fiftyfold);
# SESSION_BENCH_CONNECTIONS (default 32) sets the load. The file store and SQLite write under the
# current directory (the workspace) unless SESSION_BENCH_DIR names another.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benches/results/large_sessions.txt}
sizes=${SESSION_BENCH_SIZES:-1x0 10x500 100x500 10x5000}
stores=${SESSION_BENCH_STORES:-memory moka file redis pg sqlite}
repeats=${SESSION_BENCH_REPEATS:-3}
export SESSION_BENCH_SECS=${SESSION_BENCH_SECS:-3}
# The example refuses to run pinned (see above).
unset SESSION_BENCH_PIN

cargo build --release -p session-benches --example large_sessions
bin=target/release/examples/large_sessions
mkdir -p "$(dirname "$out")"
{
    echo "# benches/large_sessions.sh, $(date -u +%Y-%m-%d): $(nproc) cores," \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Redis" \
        "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), PostgreSQL" \
        "$(initdb --version | grep -o '[0-9][0-9.]*' | head -1), ${SESSION_BENCH_CONNECTIONS:-32} connections," \
        "${SESSION_BENCH_SECS} s measured, values of $([[ ${SESSION_BENCH_FILL:-} == x ]] \
            && echo "repeated x" || echo "pseudo-random text")"
    for repeat in $(seq "$repeats"); do
        for size in $sizes; do
            for store in $stores; do
                "$bin" "$store" "$size"
            done
        done
    done
} | tee -a "$out"
