#!/bin/bash
# Benchmark: replay the first N jobs of a trace and report wall time, throughput,
# simulated-time speed-up and the broker's peak memory, from each run's summary.json. Not a
# test: numbers depend on the machine. The FCFS start times are checked against the
# independent model as a sanity check.
#
# By default the trace is a Lublin-Feitelson workload made by flux-fiction-generate for a
# 256-node machine (fixed seed, as many jobs as the largest N), replayed on 256 nodes x 16
# cores, one SWF processor = one node. --trace replays any trace instead (SWF or sacct
# CSV, plain or gzip), e.g. an archive log such as lublin_256.swf; give its machine with
# --nodes, --cores-per-node and, for SWF, --procs-per-node. --load L generates the
# workload at offered load L (flux-fiction-generate --load); --no-raw skips the raw Flux
# measurement (for very long runs, where it would take as long again).
#
# --whole-node-graph replays with `whole_node_graph = true` (every job of these traces takes
# whole nodes). Besides the wall time, each row gives the broker's CPU seconds (all of the
# instance's threads, from /usr/bin/time: steadier than wall time on a busy machine), the
# scheduler probes (and how many only confirmed a continuation pass) with their mean time,
# the content store's peak size (sampled every second) and the run directory's size. The
# last two columns compare the replay's jobs/s with raw
# Flux in the same run: N test-exec jobs (no process runs) submitted at once to a fresh
# one-node instance with the same Fluxion, and drained; that instance's default resource
# graph is small and its jobs take one core, so it is an upper bound. After the table, the
# wall and CPU seconds of each segment of 1,000 finished jobs (sampled every second), to
# show whether the cost per job stays flat along the run.
#
# usage: t/scripts/benchmark.sh [--jobs 1000,10000] [--policy fcfs] [--no-faketime] [--keep DIR]
#            [--trace FILE] [--nodes 256] [--cores-per-node 16] [--procs-per-node 1] [--seed 1]
#            [--whole-node-graph] [--load L] [--no-raw]
set -euo pipefail
FLUX_PREFIX=${FLUX_PREFIX:-/opt/flux}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run=${FLUX_FICTION_RUN:-$repo/build/flux-fiction-run}
generate=${FLUX_FICTION_GENERATE:-$repo/build/flux-fiction-generate}
jobs=1000,10000 policy=fcfs extra=() keep="" trace="" nodes=256 cores=16 ppn=1 seed=1 whole=false load=() raw_run=true
usage() {
    echo "usage: $0 [--jobs N,M] [--policy fcfs|easy|conservative] [--no-faketime] [--keep DIR]" >&2
    echo "       [--trace FILE] [--nodes N] [--cores-per-node N] [--procs-per-node N] [--seed N] [--whole-node-graph]" >&2
    echo "       [--load L] [--no-raw]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case "$1" in
        --jobs) jobs=$2; shift ;;
        --policy) policy=$2; shift ;;
        --no-faketime) extra+=(--no-faketime) ;;
        --keep) keep=$2; shift ;;
        --trace) trace=$2; shift ;;
        --nodes) nodes=$2; shift ;;
        --cores-per-node) cores=$2; shift ;;
        --procs-per-node) ppn=$2; shift ;;
        --seed) seed=$2; shift ;;
        --whole-node-graph) whole=true ;;
        --load) load=(--load "$2"); shift ;;
        --no-raw) raw_run=false ;;
        *) usage ;;
    esac
    shift
done
[ -x "$run" ] || { echo "$run not found: build first (meson compile -C build)" >&2; exit 1; }
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
if [ -z "$trace" ]; then
    [ -x "$generate" ] || { echo "$generate not found: build first (meson compile -C build)" >&2; exit 1; }
    most=$(tr ',' '\n' <<<"$jobs" | sort -n | tail -1)
    trace=$work/lublin-$nodes-seed$seed.swf
    "$generate" --model lublin --nodes "$nodes" --jobs "$most" --seed "$seed" "${load[@]}" -o "$trace"
    echo "trace: $("$generate" --version) --model lublin --nodes $nodes --jobs $most --seed $seed ${load[*]}" >&2
else
    [ -f "$trace" ] || { echo "$trace not found" >&2; exit 1; }
    trace=$(cd "$(dirname "$trace")" && pwd)/$(basename "$trace")
    echo "trace: $trace" >&2
fi
model_format=()
case "$trace" in *.swf | *.swf.gz) model_format=(--format swf) ;; esac

# raw_jobs_per_second N: N test-exec jobs through a fresh instance, submitted at once and drained.
raw_jobs_per_second() {
    "$FLUX_PREFIX/bin/flux" start sh -c '
        t0=$(date +%s.%N)
        flux submit --cc=1-"$1" --quiet --setattr=system.exec.test.run_duration=0.001s true >/dev/null &&
            flux queue drain && echo "$1 $t0 $(date +%s.%N)"' raw "$1" | awk '{ printf "%.0f", $1 / ($3 - $2) }'
}

# sample_segments PID RUNDIR: while PID runs, every second "epoch_seconds jobs_finished
# broker_cpu_seconds content_store_bytes" (the broker's CPU time covers every module, each
# a thread of it; the content store is the sqlite file and its write-ahead log, found among
# the broker's open files).
sample_segments() {
    local pid=$1 dir=$2 broker="" hz finished store="" bytes
    hz=$(getconf CLK_TCK)
    while kill -0 "$pid" 2>/dev/null; do
        [ -n "$broker" ] || broker=$(pgrep -f "flux-broker.*$dir/" | head -1) || true
        [ -z "$broker" ] || [ -n "$store" ] ||
            store=$(find "/proc/$broker/fd" -lname '*/content.sqlite' -printf '%l\n' 2>/dev/null | head -1) || true
        finished=$(jq -r '.progress.finished // 0' "$dir/status.json" 2>/dev/null) || finished=""
        if [ -n "$broker" ] && [ -n "$finished" ]; then
            bytes=$(stat -c %s "$store" "$store-wal" 2>/dev/null | awk '{ n += $1 } END { print n + 0 }') || true
            awk -v t="$EPOCHREALTIME" -v f="$finished" -v hz="$hz" -v b="${bytes:-0}" \
                '{ print t, f, ($14 + $15) / hz, b }' "/proc/$broker/stat" 2>/dev/null || true
        fi
        sleep 1
    done
}

# segment_costs SAMPLES: wall and CPU seconds of each 1,000 finished jobs, from the first
# sample to the first one at or past each multiple of 1,000, and the last segment's cost
# against the first's (a flat run is near 1).
segment_costs() {
    awk '
        NR == 1 { t0 = $1; c0 = $3; next_k = 1000 }
        $2 >= next_k && NR > 1 {
            n++; wall[n] = $1 - t0; cpu[n] = $3 - c0; t0 = $1; c0 = $3
            while ($2 >= next_k) next_k += 1000
        }
        END {
            if (n == 0) { print "fewer than 1,000 jobs"; exit }
            for (i = 1; i <= n; i++) printf "%s%.0f/%.0f", (i > 1 ? ", " : "wall/CPU s per 1,000 jobs: "), wall[i], cpu[i]
            if (n > 1) printf "; last/first %.2fx wall, %.2fx CPU", wall[n] / wall[1], cpu[n] / cpu[1]
            print ""
        }' "$1"
}

segments=()
echo "| jobs | policy | wall s | CPU s | jobs/s | ms/job | steps | probes (confirming) | mean probe ms | sim speed-up | broker peak RSS MiB | content store peak MiB | run dir MiB | FCFS model agreement | raw Flux jobs/s | % of raw |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|"
for n in ${jobs//,/ }; do
    cfg=$work/l$n-$policy.toml
    printf '{"sched-fluxion-qmanager": {"queue-policy": "%s"}}\n' "$policy" >"$work/$policy.json"
    cat >"$cfg" <<EOT
[flux_fiction]
job_traces = "$trace"
nnodes = $nodes
ncpus = $cores
swf_procs_per_node = $ppn
max_jobs = $n
config_json = "$policy.json"
whole_node_graph = $whole
EOT
    dir=$work/run-$n-$policy
    rm -rf "$dir"
    /usr/bin/time -f "%U %S" -o "$work/cpu-$n" "$run" "$cfg" --run-dir "$dir" --quiet "${extra[@]}" \
        >"$work/run-$n.log" 2>&1 &
    sample_segments "$!" "$dir" >"$work/samples-$n"
    wait "$!" || { echo "replay of $n jobs failed; see $work/run-$n.log" >&2; keep=1; exit 1; }
    segments+=("$n jobs, $policy: $(segment_costs "$work/samples-$n")")
    cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$work/cpu-$n")
    mib=$(du -sm "$dir" | cut -f1)
    store=$(awk '$4 > max { max = $4 } END { printf "%.0f", max / 1048576 }' "$work/samples-$n")
    agreement=-
    if [ "$policy" = fcfs ]; then
        agreement=$(python3 "$here/sched-model.py" "$trace" "${model_format[@]}" --nodes "$nodes" \
            --procs-per-node "$ppn" --max-jobs "$n" --policy fcfs \
            --compare "$dir/output/job_transitions.csv" --min-agreement 0 | tail -1 | sed 's/agreement: //')
    fi
    raw=-
    [ "$raw_run" = false ] || raw=$(raw_jobs_per_second "$n")
    jq -r --arg n "$n" --arg p "$policy" --arg a "$agreement" --arg cpu "$cpu" --arg mib "$mib" --arg store "$store" --arg raw "$raw" \
        '(.probes.by_pending | map(.total_ms) | add // 0) as $ms |
        "| \($n) | \($p) | \(.wall_seconds*100|round/100) | \($cpu) | \(($n|tonumber)/.wall_seconds|round) | \(.wall_seconds*1000/($n|tonumber)*100|round/100) | \(.steps) | \(.probes.count) (\(.probes.confirming)) | \(if .probes.count > 0 then $ms/.probes.count*100|round/100 else 0 end) | \(.speedup|round) | \((.broker_peak_rss_kb // 0)/1024|round) | \($store) | \($mib) | \($a) | \($raw) | \(if $raw == "-" then "-" else ($n|tonumber)/.wall_seconds/($raw|tonumber)*100|round end) |"' \
        "$dir/output/summary.json"
done
echo
for line in "${segments[@]}"; do echo "$line"; done
