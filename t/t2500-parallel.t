#!/bin/sh
test_description='flux-fiction-run-parallel: many replays from one manifest

Three runs of the backfill scenario (fcfs, easy, conservative) two at a time: each
succeeds with the schedule a single flux-fiction-run gives, and comparison.csv holds
each run'"'"'s summary.json numbers. The same manifest with --flux inside a two-broker
instance runs as jobs of it, with the same schedules. A 2 x 2 sweep plans four named
runs; two shards cover a manifest once; a generated sweep replays its own traces;
--fail-fast and SIGINT stop the rest; a wrong manifest is refused with exit 2.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-run-parallel jq python3

FF_RUNS=$PWD/runs
mkdir -p "$FF_RUNS"

# study ROOT: the one study directory under the output root ROOT.
study() {
	set -- "$1"/*/
	test $# = 1 && test -d "$1" || { echo "# expected one study directory, found: $*" >&5; return 1; }
	echo "${1%/}"
}

# runs_in STUDY STATE: the names of the runs of STUDY in STATE, one per line, sorted.
runs_in() {
	jq -r --arg s "$2" '.runs[] | select(.state == $s) | .name' "$1/parallel_summary.json" | sort
}

# csv_column FILE NAME: the column NAME of the CSV FILE, header included.
csv_column() {
	python3 -c "import csv, sys; [print(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))]" "$1" "$2" |
		sed "1i $2"
}

# child_running ROOT RUN: the run RUN of the study under ROOT has started replaying.
child_running() {
	jq -e ".state == \"running\"" "$1"/*/runs/"$2"/child/status.json >/dev/null
}

# parallel LOG [options]: flux-fiction-run-parallel with a time limit; output in LOG.
parallel() {
	_log=$1
	shift
	timeout 300 flux-fiction-run-parallel "$@" >"$_log" 2>&1
}

test_expect_success 'setup: the backfill scenario and a manifest of three policies' '
	ff_experiment base "$FF_TRACES/backfill.csv" 6 4 "$(ff_queue_policy fcfs)" &&
	cat >study.toml <<-EOF
	version = 1
	[parallel]
	max_concurrent = 2
	summary_interval = 2
	[[run]]
	name = "fcfs"
	config_file = "base.toml"
	policy = "fcfs"
	[[run]]
	name = "easy"
	config_file = "base.toml"
	policy = "easy"
	[[run]]
	name = "conservative"
	config_file = "base.toml"
	policy = "conservative"
	[run.metadata]
	note = "reserves for every job"
	EOF
'

test_expect_success 'three runs, two at a time: all succeed' '
	parallel local.out study.toml --output-root "$PWD/local" ||
		{ sed "s/^/#   /" local.out >&5; false; } &&
	S=$(study local) &&
	grep "^Return code: 0$" local.out &&
	jq -e ".state == \"succeeded\" and .counts.succeeded == 3 and .total_runs == 3" "$S/parallel_summary.json" &&
	jq -e ".state == \"succeeded\"" "$S/parallel_status.json" &&
	cmp study.toml "$S/manifest.snapshot.toml"
'

test_expect_success 'never more than two ran at once: the run intervals overlap two deep at most' '
	S=$(study local) &&
	jq -r ".runs[] | \"\(.started_at) \(.finished_at)\"" "$S/parallel_summary.json" >intervals &&
	python3 - intervals <<-\EOF
	import sys
	spans = [line.split() for line in open(sys.argv[1])]
	points = sorted([(s, 1) for s, _ in spans] + [(f, -1) for _, f in spans], key=lambda p: (p[0], p[1]))
	depth = peak = 0
	for _, step in points:
	    depth += step
	    peak = max(peak, depth)
	assert peak <= 2, peak
	EOF
'

test_expect_success 'each run has its own directory, effective config, instance and faketime file' '
	S=$(study local) &&
	for r in 0001_fcfs 0002_easy 0003_conservative; do
		test -f "$S/runs/$r/launch_config.toml" &&
		test -f "$S/runs/$r/launcher.log" &&
		test -f "$S/runs/$r/child/faketime" &&
		test -f "$S/runs/$r/child/broker.log" || return 1
	done &&
	jq -e ".[\"sched-fluxion-qmanager\"][\"queue-policy\"] == \"conservative\"" \
		"$S/runs/0003_conservative/flux-config.json" &&
	grep "^job_traces = \"$FF_TRACES/backfill.csv\"$" "$S/runs/0001_fcfs/launch_config.toml" &&
	jq -e ".runs[2].state == \"succeeded\"" "$S/parallel_summary.json"
'

# The schedules a single flux-fiction-run gives for this scenario (t2000-scenarios checks
# them, and backfill.csv's header explains them).
test_expect_success 'schedules are those of single runs: easy backfills 3 and 5, fcfs does not' '
	S=$(study local) &&
	{
		ff_expect_jobs 1 1 0 0 1000 &&
		ff_expect_jobs 2 2 10 1000 1300 &&
		ff_expect_jobs 3 3 20 1300 1800 &&
		ff_expect_jobs 4 4 30 1300 1900 &&
		ff_expect_jobs 5 5 40 1300 1400
	} >fcfs.expected &&
	ff_check_schedule "$S/runs/0001_fcfs/child" fcfs.expected &&
	{
		ff_expect_jobs 1 1 0 0 1000 &&
		ff_expect_jobs 2 2 10 1000 1300 &&
		ff_expect_jobs 3 3 20 20 520 &&
		ff_expect_jobs 4 4 30 1300 1900 &&
		ff_expect_jobs 5 5 40 520 620
	} >easy.expected &&
	ff_check_schedule "$S/runs/0002_easy/child" easy.expected
'

test_expect_success 'comparison.csv: one row per run, the numbers of its summary.json' '
	S=$(study local) &&
	test "$(wc -l <"$S/comparison.csv")" = 4 &&
	python3 - "$S" <<-\EOF
	import csv, json, math, sys, os
	study = sys.argv[1]
	rows = list(csv.DictReader(open(os.path.join(study, "comparison.csv"))))
	assert [r["name"] for r in rows] == ["fcfs", "easy", "conservative"], rows
	for row in rows:
	    out = os.path.join(row["run_dir"], "output")
	    s = json.load(open(os.path.join(out, "summary.json")))
	    want = {"makespan_seconds": s["makespan_seconds"], "node_utilization_pct": s["node_utilization_pct"],
	            "wait_mean_seconds": s["wait_seconds"]["mean"], "bounded_slowdown_mean": s["bounded_slowdown"]["mean"],
	            "bounded_slowdown_max": s["bounded_slowdown"]["max"], "wall_seconds": s["wall_seconds"]}
	    for key, value in want.items():
	        assert math.isclose(float(row[key]), value, abs_tol=1e-6), (row["name"], key, row[key], value)
	    waits = sorted(float(j["WAIT"]) for j in csv.DictReader(open(os.path.join(out, "job_transitions.csv"))))
	    p95 = waits[math.ceil(0.95 * len(waits)) - 1]
	    assert math.isclose(float(row["wait_p95_seconds"]), p95), (row["name"], row["wait_p95_seconds"], p95)
	    assert row["policy"] == row["queue_policy"] == s["policy"], row
	assert rows[0]["wait_mean_seconds"] != rows[1]["wait_mean_seconds"], "fcfs and easy should differ"
	EOF
'

test_expect_success 'comparison.html and .svg: self-contained, the SVG inline and well formed' '
	S=$(study local) &&
	python3 -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" "$S/comparison.svg" &&
	grep -q "<svg" "$S/comparison.html" &&
	grep -q "mean bounded slowdown" "$S/comparison.html" &&
	! grep -Eq "<script|src=|href=" "$S/comparison.html"
'

test_expect_success '--flux inside a two-broker instance: every run is a job of it' '
	timeout 300 flux start --test-size=2 sh -c "
		flux-fiction-run-parallel study.toml --flux --max-concurrent 3 --output-root \"$PWD/flux\" >flux.out 2>&1
		echo \$? >flux.rc
		flux jobs -a --no-header --format=\"{name} {state} {returncode}\" >flux.jobs
	" &&
	test "$(cat flux.rc)" = 0 || { sed "s/^/#   /" flux.out >&5; false; } &&
	sort flux.jobs >flux.jobs.sorted &&
	printf "%s INACTIVE 0\n" conservative easy fcfs >flux.jobs.expected &&
	test_cmp flux.jobs.expected flux.jobs.sorted &&
	S=$(study flux) &&
	jq -e "[.runs[] | .flux_jobid | strings] | length == 3" "$S/parallel_summary.json" &&
	jq -e ".settings.mode == \"flux\"" "$S/parallel_summary.json"
'

test_expect_success '--flux: each replay started an instance of its own, nested in the job' '
	S=$(study flux) &&
	for r in 0001_fcfs 0002_easy 0003_conservative; do
		# A child instance takes its hardware description from its parent (the job).
		grep -q "resource.info.*from parent" "$S/runs/$r/child/broker.log" || return 1
		! grep -q "from parent" "$(study local)/runs/$r/child/broker.log" || return 1
	done
'

test_expect_success '--flux gives the same schedules and comparison as local mode' '
	L=$(study local) && F=$(study flux) &&
	for r in 0001_fcfs 0002_easy 0003_conservative; do
		ff_schedule "$L/runs/$r/child" >"local-$r.schedule" &&
		ff_check_schedule "$F/runs/$r/child" "local-$r.schedule" || return 1
	done &&
	cut -d, -f1-12 "$L/comparison.csv" >local.cmp &&
	cut -d, -f1-12 "$F/comparison.csv" >flux.cmp &&
	test_cmp local.cmp flux.cmp
'

test_expect_success '--flux outside a Flux instance is refused' '
	test_expect_code 2 env -u FLUX_URI flux-fiction-run-parallel study.toml --flux --dry-run 2>noflux.err &&
	grep "not inside a Flux instance" noflux.err
'

test_expect_success 'setup: a sweep of 2 policies x 2 loads over generated workloads' '
	cat >sweep.toml <<-EOF
	version = 1
	[[sweep]]
	name = "study"
	config_file = "base.toml"
	generate = { model = "uniform", jobs = 8, nodes = 6, max-nodes = 3, max-runtime = 600 }
	policy = ["fcfs", "easy"]
	load = [0.5, 0.9]
	EOF
'

test_expect_success 'the sweep plans four named runs; --dry-run --json runs nothing' '
	flux-fiction-run-parallel sweep.toml --dry-run --json --output-root "$PWD/sweep" >plan.json 2>plan.err &&
	jq -r ".runs[].name" plan.json >names &&
	printf "%s\n" study_policy-fcfs_load-0.5 study_policy-fcfs_load-0.9 \
		study_policy-easy_load-0.5 study_policy-easy_load-0.9 >names.expected &&
	test_cmp names.expected names &&
	jq -e ".runs[3].generate.load == 0.9 and .runs[3].params.policy == \"easy\"" plan.json &&
	jq -e ".runs[3].flux_config_overrides[\"sched-fluxion-qmanager\"][\"queue-policy\"] == \"easy\"" plan.json &&
	grep "^Dry run requested" plan.err &&
	! test -e sweep
'

test_expect_success 'the text plan shows each run with its values' '
	flux-fiction-run-parallel sweep.toml --dry-run >plan.txt &&
	grep "^\[0004\] study_policy-easy_load-0.9 .* policy=easy load=0.9$" plan.txt &&
	grep "^Runs: 4 of 4" plan.txt
'

test_expect_success 'the bundled example study plans its 7 runs' '
	flux-fiction-run-parallel "$FF_REPO/cli-scripts/example/policy-study.toml" --dry-run --json >example.json &&
	jq -e "[.runs[].name] == [\"fcfs\", \"easy\", \"conservative\", \"lublin_policy-fcfs_load-0.6\",
		\"lublin_policy-fcfs_load-0.9\", \"lublin_policy-easy_load-0.6\", \"lublin_policy-easy_load-0.9\"]" example.json
'

test_expect_success 'two shards cover every run exactly once' '
	for i in 0 1; do
		flux-fiction-run-parallel sweep.toml --dry-run --json --shard-index $i --shard-count 2 >shard$i.json ||
			return 1
	done &&
	jq -r ".runs[].name" shard0.json shard1.json | sort >sharded &&
	sort names.expected >all &&
	test_cmp all sharded &&
	jq -e ".output_root | endswith(\"_shard-2-of-2\")" shard1.json &&
	test_expect_code 2 flux-fiction-run-parallel sweep.toml --dry-run --shard-index 2 --shard-count 2
'

test_expect_success 'a generated sweep replays a trace of its own per seed' '
	cat >seeds.toml <<-EOF &&
	version = 1
	[parallel]
	max_concurrent = 2
	progress_mode = "quiet"
	[[sweep]]
	name = "gen"
	config_file = "base.toml"
	generate = { model = "uniform", jobs = 6, nodes = 6, max-nodes = 3, max-runtime = 600 }
	seed = [1, 2]
	EOF
	parallel seeds.out seeds.toml --output-root "$PWD/seeds" || { sed "s/^/#   /" seeds.out >&5; false; } &&
	S=$(study seeds) &&
	! cmp -s "$S/runs/0001_gen_seed-1/trace.swf" "$S/runs/0002_gen_seed-2/trace.swf" &&
	jq -e ".jobs_completed == 6" "$S/runs/0002_gen_seed-2/child/output/summary.json" &&
	csv_column "$S/comparison.csv" seed >seeds.column &&
	printf "%s\n" seed 1 2 >seeds.expected &&
	test_cmp seeds.expected seeds.column &&
	! grep -q "^Progress:" seeds.out
'

test_expect_success '--fail-fast: a bad run stops the one running and skips the rest' '
	cat >failing.toml <<-EOF &&
	version = 1
	[parallel]
	max_concurrent = 2
	[[run]]
	name = "slow"
	config_file = "base.toml"
	[[run]]
	name = "too-small"
	config_file = "base.toml"
	nnodes = 2
	[[run]]
	name = "never"
	config_file = "base.toml"
	EOF
	test_expect_code 1 timeout 300 flux-fiction-run-parallel failing.toml --fail-fast --output-root "$PWD/failing" \
		>failing.out 2>&1 &&
	S=$(study failing) &&
	test "$(runs_in "$S" failed)" = too-small &&
	test "$(runs_in "$S" interrupted)" = slow &&
	test "$(runs_in "$S" skipped)" = never &&
	jq -e ".runs[1].failure_reason | test(\"status 1: flux-fiction: error: .* 2 jobs can never run\")" \
		"$S/parallel_summary.json" &&
	jq -e ".runs[0].failure_reason | startswith(\"Terminated because fail_fast\")" "$S/parallel_summary.json" &&
	jq -e ".state == \"failed\" and .counts.skipped == 1" "$S/parallel_summary.json" &&
	test -f "$S/comparison.csv"
'

test_expect_success 'SIGINT: no more launches, running runs end interrupted, final files written' '
	flux-fiction-run-parallel study.toml --output-root "$PWD/stopped" --max-concurrent 1 >stopped.out 2>&1 &
	pid=$! &&
	ff_wait_until 120 child_running stopped 0001_fcfs &&
	kill -INT $pid &&
	test_expect_code 130 wait $pid &&
	S=$(study stopped) &&
	test "$(runs_in "$S" interrupted)" = fcfs &&
	test "$(runs_in "$S" skipped | wc -l)" = 2 &&
	jq -e ".state == \"interrupted\" and .return_code == 143" "$S/runs/0001_fcfs/child/status.json" &&
	test -f "$S/runs/0001_fcfs/child/output/job_transitions.csv" &&
	jq -e ".state == \"interrupted\"" "$S/parallel_status.json" "$S/parallel_summary.json" &&
	grep "^Return code: 130$" stopped.out
'

# refused MESSAGE MANIFEST_TEXT: the manifest is refused with exit 2 and MESSAGE on stderr.
refused() {
	printf "%s\n" "$2" >bad.toml &&
	test_expect_code 2 flux-fiction-run-parallel bad.toml --dry-run >bad.out 2>bad.err &&
	grep -F "$1" bad.err || { sed "s/^/#   /" bad.err >&5; false; }
}

test_expect_success 'manifest errors: each named, with file and line, exit 2' '
	run="[[run]]
name = \"a\"
config_file = \"base.toml\"" &&
	refused "bad.toml:1: Unsupported manifest version 2; expected 1" "version = 2
$run" &&
	refused "bad.toml:6: Run names must be unique: \"a\" is also the name of the run at line 3" "version = 1
$run
$run" &&
	refused "config_file: Referenced path does not exist: $PWD/nope.toml" "version = 1
[[run]]
name = \"a\"
config_file = \"nope.toml\"" &&
	refused "bad.toml:5: [[run]] \"a\": job_traces: Referenced path does not exist: $PWD/none.csv" "version = 1
$run
job_traces = \"none.csv\"" &&
	refused "bad.toml:5: [[run]] \"a\": nnode: Unsupported run override field: unknown config key (did you mean '"'"'nnodes'"'"'?)" "version = 1
$run
nnode = 4" &&
	refused "bad.toml:3: [parallel] max_concurent: unknown key" "version = 1
[parallel]
max_concurent = 2
$run" &&
	refused "bad.toml:2: unknown top-level key '"'"'runs'"'"'" "version = 1
runs = 2" &&
	refused "At least one [[run]] (or [[sweep]]) entry is required." "version = 1" &&
	test_expect_code 2 flux-fiction-run-parallel missing.toml 2>missing.err &&
	grep "Parallel manifest not found: $PWD/missing.toml" missing.err
'

test_done
