#!/usr/bin/env bash
# Runs benches/examples/many_sessions.rs for every contender at 1 000, 100 000 and 1 000 000 live
# sessions (the SQL contenders at 1 000 and 100 000 only), one process per run, and keeps its
# lines (with the machine and the date) in benches/results/many_sessions.txt, or in the file given
# as the first argument. benches/charts.py draws them.
#
# Each run is pinned to CPU 0 with taskset, its redis-server or PostgreSQL server with it (a child
# inherits the affinity): a request and Redis then hand over on one core, run after run, where an
# unpinned run moved between 70 and 260 us per Redis request with where the scheduler put the two.
#
# The file store and the SQL stores wait for an fsync on every write (a file's, a commit's): they
# run once per size, with 2 000 requests a round, and the SQL stores' fills (about a millisecond
# a session on that machine, where a million would take an hour of them) stop at 100 000.
#
# About 23 minutes on the 2-core development machine, most of it the file store's million fsynced
# files and the SQL stores' fills (set SESSION_BENCH_SIZES="1000 100000" for a shorter run). The
# file store and the SQLite contenders write under the current directory unless SESSION_BENCH_DIR
# names another (the file store needs about 5 GB at a million). SESSION_BENCH_CONTENDERS names the
# contenders to run (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-benches/results/many_sessions.txt}
sizes=${SESSION_BENCH_SIZES:-1000 100000 1000000}
# Runs of each contender and size (the file and SQL stores': one); charts.py takes their median.
repeats=${SESSION_BENCH_REPEATS:-3}
# SESSION_BENCH_CONTENDERS="ours-pg tower-pg" runs only those.
read -r -a contenders <<< "${SESSION_BENCH_CONTENDERS:-ours-memory tower-memory ours-cache \
tower-moka ours-redis tower-redis ours-file ours-pg tower-pg ours-sqlite tower-sqlite}"

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
                if [[ $contender == ours-file || $contender == *-pg || $contender == *-sqlite ]]
                then
                    # A request to the file store or a SQL store waits for an fsync: fewer of them
                    # measure it as well, and the fill (an fsync per session) is run once.
                    ((repeat == 1)) || continue
                    requests=2000
                fi
                if [[ $contender == *-pg || $contender == *-sqlite ]]; then
                    ((count <= 100000)) || continue
                fi
                taskset -c 0 "$bin" "$contender" "$count" "$requests"
            done
        done
    done
} | tee "$out"
