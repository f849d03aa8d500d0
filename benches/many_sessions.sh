#!/usr/bin/env bash
# Runs benches/examples/many_sessions.rs for every contender at 1 000, 100 000 and 1 000 000 live
# sessions, one process per run, and keeps its lines (with the machine and the date) in
# benches/results/many_sessions.txt, or in the file given as the first argument. benches/charts.py
# draws them.
#
# Each run is pinned to CPU 0 with taskset, its redis-server with it (a child inherits the
# affinity): a request and Redis then hand over on one core, run after run, where an unpinned run
# moved between 70 and 260 us per Redis request with where the scheduler put the two.
#
# About 15 minutes on the 2-core development machine, most of it the file store's million fsynced
# files (set SESSION_BENCH_SIZES="1000 100000" for a shorter run). The file store writes under the
# current directory unless SESSION_BENCH_DIR names another (it needs about 5 GB at a million).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benches/results/many_sessions.txt}
sizes=${SESSION_BENCH_SIZES:-1000 100000 1000000}
# Runs of each contender and size (the file store's: one); charts.py takes their median.
repeats=${SESSION_BENCH_REPEATS:-3}
contenders=(ours-memory tower-memory ours-cache tower-moka ours-redis tower-redis ours-file)

cargo build --release -p session-benches --example many_sessions
bin=target/release/examples/many_sessions
{
    echo "# benches/many_sessions.sh, $(date -u +%Y-%m-%d): $(nproc) cores," \
        "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Redis" \
        "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
    for count in $sizes; do
        for repeat in $(seq "$repeats"); do
            for contender in "${contenders[@]}"; do
                requests=20000
                if [[ $contender == ours-file ]]; then
                    # A request to the file store waits for an fsync: fewer of them measure it
                    # as well, and the fill (an fsync per session) is run once.
                    ((repeat == 1)) || continue
                    requests=2000
                fi
                taskset -c 0 "$bin" "$contender" "$count" "$requests"
            done
        done
    done
} | tee "$out"
