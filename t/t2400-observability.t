#!/bin/sh
test_description='following a run: status.json, progress lines, --tag, reproduce.sh, eventlog.csv

A generated workload is replayed with its output going to a file: status.json says
running while it runs and succeeded at the end, with the progress and return code; the
progress lines are few (one per --progress-interval, not one per poll); eventlog.csv
holds submit, alloc, start, finish, release and clean for every job. reproduce.sh,
started from another directory, replays the run into a new directory beside it with the
same schedule. A run that fails, and one stopped with SIGTERM, end as failed and
interrupted (the latter with every finished job in its outputs and no process left).
Under a terminal (script(1)) one progress line is redrawn in place; with the default
interval a run of seconds prints no more than two.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
command -v script >/dev/null 2>&1 && test_set_prereq SCRIPT

FF_RUNS=$PWD/runs
mkdir -p "$FF_RUNS"

# status RUN FILTER: status.json of RUN satisfies the jq FILTER (shown when it does not).
status() {
	jq -e "$2" "$FF_RUNS/$1/status.json" >/dev/null || {
		echo "# $1/status.json does not satisfy $2:" >&5
		sed 's/^/#   /' "$FF_RUNS/$1/status.json" >&5
		false
	}
}

# schedule RUN: trace_idx,START,FINISH of every job, in trace order.
schedule() {
	cut -d, -f1,4,5 "$FF_RUNS/$1/output/job_transitions.csv" >"$1.schedule"
}

test_expect_success 'setup: a generated workload of 150 jobs on 4 nodes' '
	flux-fiction-generate --model uniform --jobs 150 --nodes 4 --seed 3 --mean-interarrival 60 \
		--max-runtime 600 -o obs.swf &&
	ff_experiment obs obs.swf 4 1 "$(ff_queue_policy easy)"
'

test_expect_success 'a replay with its output in a file: status.json says running while it runs' '
	flux-fiction-run obs.toml --run-dir "$FF_RUNS/obs" --progress-interval 2 >obs.out 2>obs.err &
	pid=$! &&
	ff_wait_until 120 jq -e ".state == \"running\"" "$FF_RUNS/obs/status.json" &&
	status obs ".pid == $pid and .progress.jobs_total == 150 and .return_code == null" &&
	wait $pid
'
test_expect_success 'after it: succeeded, with its return code, progress, config and trace' '
	status obs ".state == \"succeeded\" and .return_code == 0 and .failure_reason == null" &&
	status obs ".progress.finished == 150 and .progress.started == 150 and .progress.step > 0" &&
	status obs ".progress.wall_seconds > 0 and (.progress.sim_time_iso | test(\"Z$\"))" &&
	status obs ".config == \"$PWD/obs.toml\" and .trace == \"$PWD/obs.swf\" and .run_dir == \"$FF_RUNS/obs\"" &&
	! test -e "$FF_RUNS/obs/status.json.tmp"
'
test_expect_success 'progress lines are few: one per interval and one at the end, none redrawn' '
	grep -E "^(running|done): jobs " obs.out >obs.progress &&
	lines=$(wc -l <obs.progress) &&
	wall=$(jq ".progress.wall_seconds | floor" "$FF_RUNS/obs/status.json") &&
	echo "# $lines progress lines in a run of $wall s" >&5 &&
	test "$lines" -ge 2 &&
	test "$lines" -le $((wall / 2 + 2)) &&
	grep -q "^done: jobs 150/150 done" obs.progress &&
	! grep -q "$(printf "\r")" obs.out &&
	test_cmp obs.progress "$FF_RUNS/obs/run.log"
'
test_expect_success 'eventlog.csv: submit, alloc, start, finish, release, clean for every job' '
	log=$FF_RUNS/obs/output/eventlog.csv &&
	test "$(head -n1 "$log")" = "jobid,name,timestamp,context" &&
	for ev in submit alloc start finish release clean; do
		n=$(awk -F, -v ev=$ev "\$2 == ev { seen[\$1] = 1 } END { print length(seen) }" "$log") &&
		test "$n" = 150 || { echo "# $ev: $n jobs" >&5; return 1; }
	done &&
	tail -n +2 "$FF_RUNS/obs/output/job_transitions.csv" | cut -d, -f2 | sort >jobids.transitions &&
	awk -F, "NR > 1 && \$2 == \"clean\" { print \$1 }" "$log" | sort >jobids.eventlog &&
	test_cmp jobids.transitions jobids.eventlog
'
test_expect_success 'eventlog.csv: contexts are JSON, finish carries the wait status' '
	python3 - "$FF_RUNS/obs/output/eventlog.csv" <<-\EOF
	import csv, json, sys
	rows = list(csv.DictReader(open(sys.argv[1])))
	for r in rows:
	    json.loads(r["context"])
	    float(r["timestamp"])
	finish = [json.loads(r["context"]) for r in rows if r["name"] == "finish"]
	assert len(finish) == 150 and all(f["status"] == 0 for f in finish), finish[:3]
	EOF
'

test_expect_success 'report.html is written at the end (t2420 renders it in a browser)' '
	grep -q "<td>150 of 150 completed</td>" "$FF_RUNS/obs/output/report.html"
'

test_expect_success 'reproduce.sh, from another directory, replays the run beside it with the same schedule' '
	test -x "$FF_RUNS/obs/reproduce.sh" &&
	md5sum "$FF_RUNS/obs/output/job_transitions.csv" >before.md5 &&
	mkdir -p elsewhere &&
	(cd elsewhere && "$FF_RUNS/obs/reproduce.sh" >../repro.out 2>../repro.err) &&
	test -d "$FF_RUNS/obs_reproduce" &&
	schedule obs && schedule obs_reproduce &&
	test_cmp obs.schedule obs_reproduce.schedule &&
	md5sum -c before.md5 >/dev/null &&
	status obs_reproduce ".state == \"succeeded\" and .config == \"$FF_RUNS/obs/config.toml\""
'
test_expect_success 'at the default interval (30 s) the same replay, its output in a file, prints a handful of lines' '
	grep -E "^(running|done): jobs " repro.out >repro.progress &&
	lines=$(wc -l <repro.progress) &&
	wall=$(jq ".progress.wall_seconds | floor" "$FF_RUNS/obs_reproduce/status.json") &&
	echo "# $lines progress lines in a run of $wall s" >&5 &&
	test "$lines" -le $((wall / 30 + 2)) &&
	tail -n 1 repro.progress | grep -q "^done: jobs 150/150 done"
'

test_expect_success 'a run that fails: state failed, return code 1 and the reason' '
	ff_experiment fail obs.swf 4 1 "$(ff_queue_policy easy)" "step_timeout = 0.001" &&
	test_expect_code 1 flux-fiction-run fail.toml --run-dir "$FF_RUNS/fail" --quiet >fail.out 2>fail.err &&
	status fail ".state == \"failed\" and .return_code == 1" &&
	status fail ".failure_reason | test(\"timed out\")"
'

test_expect_success 'SIGTERM to flux-fiction-run: the run ends as interrupted' '
	flux-fiction-generate --model uniform --jobs 3000 --nodes 4 --seed 3 --mean-interarrival 60 \
		--max-runtime 600 -o long.swf &&
	ff_experiment long long.swf 4 1 "$(ff_queue_policy fcfs)" &&
	flux-fiction-run long.toml --run-dir "$FF_RUNS/long" --quiet >long.out 2>long.err &
	pid=$! &&
	ff_wait_until 120 jq -e ".state == \"running\" and .progress.finished > 0" "$FF_RUNS/long/status.json" &&
	kill -TERM $pid &&
	test_expect_code 143 wait $pid &&
	status long ".state == \"interrupted\" and .return_code == 143" &&
	status long ".failure_reason == \"interrupted by SIGTERM\" and .progress.finished < 3000"
'
test_expect_success 'SIGTERM: the outputs hold every finished job (the rest not-run); nothing is left running' '
	ff_holds_finished_jobs "$FF_RUNS/long" 3000 &&
	grep "^interrupted: ff-emu was removed before the replay ended" "$FF_RUNS/long/output/failure.txt" &&
	! pgrep -af -- "$FF_RUNS/long"
'

test_expect_success SCRIPT 'under a terminal: --tag names the run directory, one line is redrawn' '
	flux-fiction-generate --model uniform --jobs 20 --nodes 4 --seed 3 --mean-interarrival 60 \
		--max-runtime 600 -o tty.swf &&
	ff_experiment tty tty.swf 4 1 "$(ff_queue_policy easy)" &&
	script -qec "flux-fiction-run tty.toml --tag mytag" typescript >/dev/null &&
	run=$(ls -d "$PWD"/runs/*_tty_mytag) &&
	status_file=$run/status.json &&
	jq -e ".state == \"succeeded\" and .tag == \"mytag\"" "$status_file" >/dev/null &&
	bar="$(printf "\r")\[[-#]*] [0-9]*/[0-9]* jobs  simulated [^ ]*  [0-9]*x  elapsed [0-9:]*  ETA [-0-9:]*" &&
	test "$(grep -c "$bar" typescript)" = 1 &&
	test "$(grep -o "$bar" typescript | wc -l)" -ge 2 &&
	grep -q "$(printf "\033")\[K$(printf "\r\033")\[Kdone: jobs 20/20 done" typescript &&
	grep -q "^done: jobs" "$run/run.log" &&
	! grep -q "$(printf "\r")" "$run/run.log"
'

test_done
