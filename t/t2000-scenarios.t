#!/bin/sh
test_description='flux-fiction-run replays the five scenario traces (simulated time)

Each trace in $FF_SHARED_DIR/traces is replayed by flux-fiction-run in its own
instance, and the schedule it writes is compared with the one Fluxion must
produce: job by job (offsets from t0 = 2019-01-01T00:00:00Z), plus the
utilization figures of summary.json and the layout of the run directory.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
if ! command -v flux-fiction-run >/dev/null 2>&1; then
	skip_all='flux-fiction-run is not on PATH (run through meson test, or set SHARNESS_BUILD_DIRECTORY to the meson build dir)'
	test_done
fi

TRACES=$FF_SHARED_DIR/traces

# The run directories live in the trash directory (whose name has a space, which
# flux-fiction-run must cope with: Flux splits module arguments at whitespace).
RUNS=$PWD/runs
mkdir -p "$RUNS"

# run_scenario NAME TRACE NNODES NCPUS [EXTRA-TOML-LINES]: write NAME.toml and
# replay it into $RUNS/NAME.run; NAME.out/NAME.err hold the output, NAME.rc the status.
run_scenario() {
	{
		echo '[flux_fiction]'
		echo "job_traces = \"$TRACES/$2\""
		echo "nnodes = $3"
		echo "ncpus = $4"
		test -z "$5" || printf '%s\n' "$5"
	} >"$1.toml" &&
	rm -rf "$RUNS/$1.run" &&
	timeout 120 flux-fiction-run "$1.toml" --run-dir "$RUNS/$1.run" --quiet \
		>"$1.out" 2>"$1.err"
	echo $? >"$1.rc"
	test "$(cat "$1.rc")" = 0 || {
		echo "# $1: flux-fiction-run exited $(cat "$1.rc")"
		sed 's/^/#   /' "$1.err" "$RUNS/$1.run/output/failure.txt" 2>/dev/null
	} >&5
	test "$(cat "$1.rc")" = 0
}


# near RUN KEY VALUE TOL: summary.json's KEY is a number within TOL of VALUE.
near() {
	jq -e --argjson v "$3" --argjson tol "$4" \
		".$2 | type == \"number\" and (. - \$v | fabs) <= \$tol" \
		"$1/output/summary.json" >/dev/null || {
		echo "# $1: summary.json $2 = $(jq -c ".$2" "$1/output/summary.json"), expected $3 +- $4" >&5
		false
	}
}

# check_layout RUN TRACE NJOBS: the run directory has its artifacts, the trace
# is copied into inputs/, every job completed and the summary agrees.
check_layout() {
	test -s "$1/config.toml" &&
	test -s "$1/broker.log" &&
	test_cmp "$TRACES/$2" "$1/inputs/$2" &&
	for f in job_transitions.csv summary.json utilization.csv utilization.svg pernode.json; do
		test -s "$1/output/$f" || { echo "# $1/output/$f missing or empty" >&5; return 1; }
	done &&
	! test -e "$1/output/failure.txt" &&
	test "$(head -n1 "$1/output/job_transitions.csv")" = \
		"trace_idx,jobid,nnodes,SUBMIT,START,FINISH,REAL_SUBMIT,REAL_START,REAL_FINISH,NODELIST,RESULT,TRACE_JOBID,NCORES,NGPUS,TIMELIMIT,ELAPSED,WAIT" &&
	test "$(($(wc -l <"$1/output/job_transitions.csv") - 1))" = "$3" &&
	jq -e --argjson n "$3" \
		".jobs_total == \$n and .jobs_completed == \$n and .exit_code == 0" \
		"$1/output/summary.json" >/dev/null &&
	jq -e "(.config_file | endswith(\"/config.toml\")) and (.trace_file | endswith(\"/inputs/$2\"))" \
		"$1/output/summary.json" >/dev/null
}

test_expect_success '10-single-node: replay on 1 x 16 exits 0' '
	run_scenario single 10-single-node.csv 1 16
'
test_expect_success '10-single-node: run directory and all jobs completed' '
	check_layout runs/single.run 10-single-node.csv 10
'
test_expect_success '10-single-node: one job at a time, each START = previous FINISH' '
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ff_expect_jobs $i $i 0 $(((i - 1) * 360)) $((i * 360)) || return 1
	done >single.expected &&
	ff_check_schedule runs/single.run single.expected
'
test_expect_success '10-single-node: node and core utilization 100' '
	near runs/single.run node_utilization_pct 100 1e-6 &&
	near runs/single.run core_utilization_pct 100 1e-6
'

test_expect_success '10-gpu: replay on 1 x 36 x 2 GPUs exits 0' '
	run_scenario gpu 10-gpu.csv 1 36 "ngpus = 2"
'
test_expect_success '10-gpu: run directory and all jobs completed' '
	check_layout runs/gpu.run 10-gpu.csv 10
'
test_expect_success '10-gpu: one job at a time, each START = previous FINISH' '
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ff_expect_jobs $i $i 0 $(((i - 1) * 360)) $((i * 360)) || return 1
	done >gpu.expected &&
	ff_check_schedule runs/gpu.run gpu.expected
'
test_expect_success '10-gpu: node, core and GPU utilization 100' '
	near runs/gpu.run node_utilization_pct 100 1e-6 &&
	near runs/gpu.run core_utilization_pct 100 1e-6 &&
	near runs/gpu.run gpu_utilization_pct 100 1e-6
'

test_expect_success '10-multi-node: replay on 30 x 16 exits 0' '
	run_scenario multi 10-multi-node.csv 30 16
'
test_expect_success '10-multi-node: run directory and all jobs completed' '
	check_layout runs/multi.run 10-multi-node.csv 10
'
test_expect_success '10-multi-node: starts in waves of 3 at t0, +360, +720, +1080' '
	{
		ff_expect_jobs 1 3 0 0 360 &&
		ff_expect_jobs 4 6 0 360 720 &&
		ff_expect_jobs 7 9 0 720 1080 &&
		ff_expect_jobs 10 10 0 1080 1440
	} >multi.expected &&
	ff_check_schedule runs/multi.run multi.expected
'
test_expect_success '10-multi-node: node utilization 83.333333' '
	near runs/multi.run node_utilization_pct 83.333333 1e-3
'

test_expect_success '10-gaps: replay on 1 x 16 exits 0' '
	run_scenario gaps 10-gaps.csv 1 16
'
test_expect_success '10-gaps: run directory and all jobs completed' '
	check_layout runs/gaps.run 10-gaps.csv 10
'
test_expect_success '10-gaps: no job waits (START = SUBMIT, hourly)' '
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ff_expect_jobs $i $i $(((i - 1) * 3600)) $(((i - 1) * 3600)) $(((i - 1) * 3600 + 360)) ||
			return 1
	done >gaps.expected &&
	ff_check_schedule runs/gaps.run gaps.expected
'

test_expect_success '10-backfill, fcfs: replay on 30 x 16 exits 0' '
	echo "{\"sched-fluxion-qmanager\": {\"queue-policy\": \"fcfs\"}}" >fcfs.json &&
	run_scenario fcfs 10-backfill.csv 30 16 "config_json = \"fcfs.json\""
'
test_expect_success '10-backfill, fcfs: run directory, policy and all jobs completed' '
	check_layout runs/fcfs.run 10-backfill.csv 11 &&
	test "$(jq -r .policy runs/fcfs.run/output/summary.json)" = fcfs
'
test_expect_success '10-backfill, fcfs: 1 at t0, 2 at +480, 3-11 at +840' '
	{
		ff_expect_jobs 1 1 0 0 480 &&
		ff_expect_jobs 2 2 0 480 840 &&
		ff_expect_jobs 3 11 0 840 1020
	} >fcfs.expected &&
	ff_check_schedule runs/fcfs.run fcfs.expected
'

test_expect_success '10-backfill, easy: replay on 30 x 16 exits 0' '
	echo "{\"sched-fluxion-qmanager\": {\"queue-policy\": \"easy\"}}" >easy.json &&
	run_scenario easy 10-backfill.csv 30 16 "config_json = \"easy.json\""
'
test_expect_success '10-backfill, easy: run directory, policy and all jobs completed' '
	check_layout runs/easy.run 10-backfill.csv 11 &&
	test "$(jq -r .policy runs/easy.run/output/summary.json)" = easy
'
test_expect_success '10-backfill, easy: 3-8 backfill at t0, 9-11 at +180, 2 keeps +480' '
	{
		ff_expect_jobs 1 1 0 0 480 &&
		ff_expect_jobs 2 2 0 480 840 &&
		ff_expect_jobs 3 8 0 0 180 &&
		ff_expect_jobs 9 11 0 180 360
	} >easy.expected &&
	ff_check_schedule runs/easy.run easy.expected
'

# flux-fiction-run passes paths to ff-emu percent-encoded, since Flux splits
# module arguments at whitespace.
test_expect_success 'a run directory whose path has a space' '
	rm -rf "$RUNS/with space.run" &&
	timeout 120 flux-fiction-run single.toml --run-dir "$RUNS/with space.run" --quiet \
		>space.out 2>space.err &&
	cut -d, -f4-6 runs/single.run/output/job_transitions.csv >single.times &&
	cut -d, -f4-6 "$RUNS/with space.run/output/job_transitions.csv" >space.times &&
	test_cmp single.times space.times
'

test_done
