#!/bin/bash
# Benchmark: replay the first N jobs of the Lublin SWF log (256 nodes x 16 cores, one SWF
# processor = one node) and report wall time, throughput, simulated-time speed-up and the
# broker's peak memory, from each run's summary.json. Not a test: numbers depend on the
# machine. The FCFS start times are checked against the independent model as a sanity check.
#
# usage: t/scripts/benchmark.sh [--jobs 1000,10000] [--policy fcfs] [--no-faketime] [--keep DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
shared=${FF_SHARED_DIR:-$repo/../shared}
run=${FLUX_FICTION_RUN:-$repo/build/flux-fiction-run}
jobs=1000,10000 policy=fcfs extra=() keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) jobs=$2; shift ;;
        --policy) policy=$2; shift ;;
        --no-faketime) extra+=(--no-faketime) ;;
        --keep) keep=$2; shift ;;
        *) echo "usage: $0 [--jobs N,M] [--policy fcfs|easy|conservative] [--no-faketime] [--keep DIR]" >&2; exit 2 ;;
    esac
    shift
done
[ -x "$run" ] || { echo "$run not found: build first (meson compile -C build)" >&2; exit 1; }
trace=$shared/traces/lublin_256.swf
[ -f "$trace" ] || { echo "$trace not found (set FF_SHARED_DIR)" >&2; exit 1; }
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

echo "| jobs | policy | wall s | jobs/s | ms/job | steps | sim speed-up | broker peak RSS MiB | FCFS model agreement |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---|"
for n in ${jobs//,/ }; do
    cfg=$work/l$n-$policy.toml
    printf '{"sched-fluxion-qmanager": {"queue-policy": "%s"}}\n' "$policy" >"$work/$policy.json"
    cat >"$cfg" <<EOT
[flux_fiction]
job_traces = "$trace"
nnodes = 256
ncpus = 16
max_jobs = $n
config_json = "$policy.json"
EOT
    dir=$work/run-$n-$policy
    rm -rf "$dir"
    "$run" "$cfg" --run-dir "$dir" --quiet "${extra[@]}" >"$work/run-$n.log" 2>&1 || {
        echo "replay of $n jobs failed; see $work/run-$n.log" >&2; keep=1; exit 1; }
    agreement=-
    if [ "$policy" = fcfs ]; then
        agreement=$(python3 "$here/sched-model.py" "$trace" --nodes 256 --max-jobs "$n" --policy fcfs \
            --compare "$dir/output/job_transitions.csv" --min-agreement 0 | tail -1 | sed 's/agreement: //')
    fi
    jq -r --arg n "$n" --arg p "$policy" --arg a "$agreement" \
        '"| \($n) | \($p) | \(.wall_seconds*100|round/100) | \(($n|tonumber)/.wall_seconds|round) | \(.wall_seconds*1000/($n|tonumber)*100|round/100) | \(.steps) | \(.speedup|round) | \((.broker_peak_rss_kb // 0)/1024|round) | \($a) |"' \
        "$dir/output/summary.json"
done
