#!/bin/sh
test_description='flux-fiction-run replays the scenario traces of t/traces (simulated time)

Each trace in t/traces is replayed by flux-fiction-run in its own instance, and the
schedule it writes is compared with the one Fluxion must produce, derived by hand in the
comment at the top of the trace: job by job (offsets from t0 = 2022-03-14T00:00:00Z),
plus the utilization figures of summary.json and the layout of the run directory. The
independent model (t/scripts/sched-model.py) confirms every schedule it can express
(whole nodes, no GPUs). Where the project shared directory is present, its scenario
traces are replayed too (prereq SHARED).'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

MODEL=$SHARNESS_TEST_SRCDIR/scripts/sched-model.py

# The run directories live in the trash directory (whose name has a space, which
# flux-fiction-run must cope with: Flux splits module arguments at whitespace).
FF_RUNS=$PWD/runs
mkdir -p "$FF_RUNS"

# run_scenario NAME TRACE NNODES NCPUS POLICY [EXTRA-TOML-LINES]: write NAME.toml (and
# NAME.json, the Fluxion config selecting POLICY) and replay TRACE (a path) into
# $FF_RUNS/NAME.run; NAME.out/NAME.err hold the output.
run_scenario() {
	ff_experiment "$1" "$2" "$3" "$4" "$(ff_queue_policy "$5")" "$6" &&
	ff_replay "$1.run" "$1"
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

# check_layout RUN TRACE NJOBS POLICY: the run directory has its artifacts, the trace
# (a path) is copied into inputs/, every job completed under POLICY and the summary agrees.
check_layout() {
	_name=$(basename "$2")
	test -s "$1/config.toml" &&
	test -s "$1/broker.log" &&
	test_cmp "$2" "$1/inputs/$_name" &&
	for f in job_transitions.csv summary.json utilization.csv utilization.svg pernode.json schedule.swf; do
		test -s "$1/output/$f" || { echo "# $1/output/$f missing or empty" >&5; return 1; }
	done &&
	! test -e "$1/output/failure.txt" &&
	test "$(head -n1 "$1/output/job_transitions.csv")" = \
		"trace_idx,jobid,nnodes,SUBMIT,START,FINISH,REAL_SUBMIT,REAL_START,REAL_FINISH,NODELIST,RESULT,TRACE_JOBID,NCORES,NGPUS,TIMELIMIT,ELAPSED,WAIT" &&
	test "$(($(wc -l <"$1/output/job_transitions.csv") - 1))" = "$3" &&
	jq -e --argjson n "$3" --arg p "$4" \
		".jobs_total == \$n and .jobs_completed == \$n and .exit_code == 0 and .policy == \$p" \
		"$1/output/summary.json" >/dev/null &&
	jq -e --arg t "/inputs/$_name" \
		"(.config_file | endswith(\"/config.toml\")) and (.trace_file | endswith(\$t))" \
		"$1/output/summary.json" >/dev/null
}

# column RUN COLUMN: COLUMN of job_transitions.csv, one value a line, in trace order.
column() {
	awk -F, -v col="$2" '
		{ gsub(/"[^"]*"/, "L") }
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		{ print $c }' "$1/output/job_transitions.csv"
}

test_expect_success 'one-node: replay on 1 x 8 (fcfs) exits 0' '
	run_scenario one "$FF_TRACES/one-node.csv" 1 8 fcfs
'
test_expect_success 'one-node: run directory and all jobs completed' '
	check_layout runs/one.run "$FF_TRACES/one-node.csv" 5 fcfs
'
test_expect_success 'one-node: one job at a time; 5, submitted as 4 ends, starts at once' '
	{
		ff_expect_jobs 1 1 0 0 600 &&
		ff_expect_jobs 2 2 0 600 720 &&
		ff_expect_jobs 3 3 60 720 1620 &&
		ff_expect_jobs 4 4 700 1620 1650 &&
		ff_expect_jobs 5 5 1650 1650 1950
	} >one.expected &&
	ff_check_schedule runs/one.run one.expected
'
test_expect_success 'one-node: node and core utilization 100' '
	near runs/one.run node_utilization_pct 100 1e-6 &&
	near runs/one.run core_utilization_pct 100 1e-6
'

test_expect_success 'several-nodes: replay on 8 x 4 (fcfs) exits 0' '
	run_scenario several "$FF_TRACES/several-nodes.csv" 8 4 fcfs
'
test_expect_success 'several-nodes: run directory and all jobs completed' '
	check_layout runs/several.run "$FF_TRACES/several-nodes.csv" 6 fcfs
'
test_expect_success 'several-nodes: 3 and 4 wait for 1; the 1-node job 6 waits behind the 8-node job 5' '
	{
		ff_expect_jobs 1 1 0 0 400 &&
		ff_expect_jobs 2 2 0 0 200 &&
		ff_expect_jobs 3 3 0 400 700 &&
		ff_expect_jobs 4 4 0 400 500 &&
		ff_expect_jobs 5 5 100 700 760 &&
		ff_expect_jobs 6 6 150 760 790
	} >several.expected &&
	ff_check_schedule runs/several.run several.expected
'
test_expect_success 'several-nodes: node utilization 74.525316, NCORES = 4 x nnodes' '
	near runs/several.run node_utilization_pct 74.525316 1e-3 &&
	printf "%s\n" 20 12 16 16 32 4 >several.ncores &&
	column runs/several.run NCORES >several.ncores.actual &&
	test_cmp several.ncores several.ncores.actual
'

test_expect_success 'gaps: replay on 4 x 2 (fcfs, epoch-second columns) exits 0' '
	run_scenario gaps "$FF_TRACES/gaps.csv" 4 2 fcfs
'
test_expect_success 'gaps: run directory and all jobs completed' '
	check_layout runs/gaps.run "$FF_TRACES/gaps.csv" 5 fcfs
'
test_expect_success 'gaps: idle hours and a day are skipped; only 3 waits (for 2)' '
	{
		ff_expect_jobs 1 1 0 0 1800 &&
		ff_expect_jobs 2 2 7200 7200 7800 &&
		ff_expect_jobs 3 3 7500 7800 7860 &&
		ff_expect_jobs 4 4 86400 86400 86445 &&
		ff_expect_jobs 5 5 86430 86430 86730
	} >gaps.expected &&
	ff_check_schedule runs/gaps.run gaps.expected
'

test_expect_success 'gpu: replay on 2 x 4 x 2 GPUs (fcfs) exits 0' '
	run_scenario gpu "$FF_TRACES/gpu.csv" 2 4 fcfs "ngpus = 2"
'
test_expect_success 'gpu: run directory and all jobs completed' '
	check_layout runs/gpu.run "$FF_TRACES/gpu.csv" 5 fcfs
'
test_expect_success 'gpu: 3 waits for a GPU though cores are free; 5 for a core on both nodes' '
	{
		ff_expect_jobs 1 1 0 0 600 &&
		ff_expect_jobs 2 2 0 0 300 &&
		ff_expect_jobs 3 4 0 300 600 &&
		ff_expect_jobs 5 5 0 600 720
	} >gpu.expected &&
	ff_check_schedule runs/gpu.run gpu.expected
'
# Nodes shared by jobs count once: node A is busy 0-720 s, node B 0-600 s and 600-720 s.
test_expect_success 'gpu: GPU utilization 83.333333, core 77.083333, node 100 (shared nodes once), NGPUS as asked' '
	near runs/gpu.run gpu_utilization_pct 83.333333 1e-3 &&
	near runs/gpu.run core_utilization_pct 77.083333 1e-3 &&
	near runs/gpu.run node_utilization_pct 100 1e-6 &&
	test "$(cut -d, -f4 runs/gpu.run/output/utilization.csv | sort -n | tail -1)" = 2 &&
	printf "%s\n" 2 2 1 1 0 >gpu.ngpus &&
	column runs/gpu.run NGPUS >gpu.ngpus.actual &&
	test_cmp gpu.ngpus gpu.ngpus.actual
'

test_expect_success 'backfill, fcfs: replay on 6 x 4 exits 0' '
	run_scenario fcfs "$FF_TRACES/backfill.csv" 6 4 fcfs
'
test_expect_success 'backfill, fcfs: run directory, policy and all jobs completed' '
	check_layout runs/fcfs.run "$FF_TRACES/backfill.csv" 5 fcfs
'
test_expect_success 'backfill, fcfs: everything after the whole-machine job 2 waits for it' '
	{
		ff_expect_jobs 1 1 0 0 1000 &&
		ff_expect_jobs 2 2 10 1000 1300 &&
		ff_expect_jobs 3 3 20 1300 1800 &&
		ff_expect_jobs 4 4 30 1300 1900 &&
		ff_expect_jobs 5 5 40 1300 1400
	} >fcfs.expected &&
	ff_check_schedule runs/fcfs.run fcfs.expected
'

test_expect_success 'backfill, easy: replay on 6 x 4 exits 0' '
	run_scenario easy "$FF_TRACES/backfill.csv" 6 4 easy
'
test_expect_success 'backfill, easy: run directory, policy and all jobs completed' '
	check_layout runs/easy.run "$FF_TRACES/backfill.csv" 5 easy
'
test_expect_success 'backfill, easy: 3 and 5 backfill ahead of 2, which keeps +1000; 4 does not' '
	{
		ff_expect_jobs 1 1 0 0 1000 &&
		ff_expect_jobs 2 2 10 1000 1300 &&
		ff_expect_jobs 3 3 20 20 520 &&
		ff_expect_jobs 4 4 30 1300 1900 &&
		ff_expect_jobs 5 5 40 520 620
	} >easy.expected &&
	ff_check_schedule runs/easy.run easy.expected
'

test_expect_success 'exclusive, shared nodes: replay on 3 x 4 (fcfs) exits 0' '
	run_scenario nonexclusive "$FF_TRACES/exclusive.csv" 3 4 fcfs
'
test_expect_success 'exclusive, shared nodes: two 2-core jobs a node, all six at t0' '
	check_layout runs/nonexclusive.run "$FF_TRACES/exclusive.csv" 7 fcfs &&
	{
		ff_expect_jobs 1 6 0 0 300 &&
		ff_expect_jobs 7 7 0 300 360
	} >nonexclusive.expected &&
	ff_check_schedule runs/nonexclusive.run nonexclusive.expected &&
	near runs/nonexclusive.run core_utilization_pct 87.5 1e-6
'
test_expect_success 'exclusive, exclusive = true: replay on 3 x 4 (fcfs) exits 0' '
	run_scenario exclusive "$FF_TRACES/exclusive.csv" 3 4 fcfs "exclusive = true"
'
test_expect_success 'exclusive, exclusive = true: one job a node, in waves; each holds every core of its nodes' '
	check_layout runs/exclusive.run "$FF_TRACES/exclusive.csv" 7 fcfs &&
	{
		ff_expect_jobs 1 3 0 0 300 &&
		ff_expect_jobs 4 6 0 300 600 &&
		ff_expect_jobs 7 7 0 600 660
	} >exclusive.expected &&
	ff_check_schedule runs/exclusive.run exclusive.expected &&
	printf "%s\n" 4 4 4 4 4 4 12 >exclusive.ncores &&
	column runs/exclusive.run NCORES >exclusive.ncores.actual &&
	test_cmp exclusive.ncores exclusive.ncores.actual &&
	near runs/exclusive.run node_utilization_pct 100 1e-6 &&
	near runs/exclusive.run core_utilization_pct 100 1e-6
'

# model RUN TRACE NNODES POLICY: sched-model.py, counts only and node-aware, agrees with
# every start time of RUN (and, node-aware, every node list).
model() {
	for _mode in "" --node-aware; do
		python3 "$MODEL" "$2" --nodes "$3" --policy "$4" $_mode \
			--compare "runs/$1.run/output/job_transitions.csv" >"$1.model$_mode" || {
			sed "s/^/# $1$_mode: /" "$1.model$_mode" >&5
			return 1
		}
	done
}
test_expect_success PYTHON3 'the model agrees with every whole-node scenario' '
	model one "$FF_TRACES/one-node.csv" 1 fcfs &&
	model several "$FF_TRACES/several-nodes.csv" 8 fcfs &&
	model gaps "$FF_TRACES/gaps.csv" 4 fcfs &&
	model fcfs "$FF_TRACES/backfill.csv" 6 fcfs &&
	model easy "$FF_TRACES/backfill.csv" 6 easy &&
	model exclusive "$FF_TRACES/exclusive.csv" 3 fcfs
'

# flux-fiction-run passes paths to ff-emu percent-encoded, since Flux splits
# module arguments at whitespace.
test_expect_success 'a run directory whose path has a space' '
	rm -rf "$FF_RUNS/with space.run" &&
	timeout 120 flux-fiction-run one.toml --run-dir "$FF_RUNS/with space.run" --quiet \
		>space.out 2>space.err &&
	cut -d, -f4-6 runs/one.run/output/job_transitions.csv >one.times &&
	cut -d, -f4-6 "$FF_RUNS/with space.run/output/job_transitions.csv" >space.times &&
	test_cmp one.times space.times
'

# Cross-checks against the scenario traces of the project's shared directory, which a
# clone of the repository does not have: one test, so that without it one line says so.
# Only a SHARED test may name that directory (.ci/run checks).
# shared_scenario NAME TRACE NNODES NCPUS POLICY EXTRA NJOBS: replay and check against
# shared-NAME.expected.
shared_scenario() {
	run_scenario "shared-$1" "$2" $3 $4 $5 "$6" &&
	check_layout "runs/shared-$1.run" "$2" $7 $5 &&
	ff_check_schedule "runs/shared-$1.run" "shared-$1.expected"
}
test_expect_success SHARED 'shared directory (FF_SHARED_DIR): its 10-* scenarios get their known schedules' '
	S=$FF_SHARED_DIR/traces &&
	FF_T0=1546300800 &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ff_expect_jobs $i $i 0 $(((i - 1) * 360)) $((i * 360)) || return 1
	done >shared-single.expected &&
	cp shared-single.expected shared-gpu.expected &&
	for i in 1 2 3 4 5 6 7 8 9 10; do
		ff_expect_jobs $i $i $(((i - 1) * 3600)) $(((i - 1) * 3600)) $(((i - 1) * 3600 + 360)) ||
			return 1
	done >shared-gaps.expected &&
	{
		ff_expect_jobs 1 3 0 0 360 &&
		ff_expect_jobs 4 6 0 360 720 &&
		ff_expect_jobs 7 9 0 720 1080 &&
		ff_expect_jobs 10 10 0 1080 1440
	} >shared-multi.expected &&
	{
		ff_expect_jobs 1 1 0 0 480 &&
		ff_expect_jobs 2 2 0 480 840 &&
		ff_expect_jobs 3 11 0 840 1020
	} >shared-fcfs.expected &&
	{
		ff_expect_jobs 1 1 0 0 480 &&
		ff_expect_jobs 2 2 0 480 840 &&
		ff_expect_jobs 3 8 0 0 180 &&
		ff_expect_jobs 9 11 0 180 360
	} >shared-easy.expected &&
	shared_scenario single "$S/10-single-node.csv" 1 16 fcfs "" 10 &&
	shared_scenario gpu "$S/10-gpu.csv" 1 36 fcfs "ngpus = 2" 10 &&
	shared_scenario multi "$S/10-multi-node.csv" 30 16 fcfs "" 10 &&
	shared_scenario gaps "$S/10-gaps.csv" 1 16 fcfs "" 10 &&
	shared_scenario fcfs "$S/10-backfill.csv" 30 16 fcfs "" 11 &&
	shared_scenario easy "$S/10-backfill.csv" 30 16 easy "" 11 &&
	near runs/shared-multi.run node_utilization_pct 83.333333 1e-3 &&
	near runs/shared-gpu.run gpu_utilization_pct 100 1e-6
	rc=$?
	unset FF_T0
	test $rc = 0
'

test_done
