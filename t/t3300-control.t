#!/bin/sh
test_description='pausing, stepping and resuming a replay; flux cancel during a pause

t/traces/backfill.csv (6 nodes, easy; steps at 0 10 20 30 40 520 620 1000 1300 1900 s)
is replayed with simulated time and a 4 s step timeout, three times at once (an
uninterrupted replay, one paused at 20 and one paused at 40), beside a generated
150-job workload that is paused while it runs (the instance then holds the jobs ff-emu
counts) and resumed to the end. With --pause-at 20 the replay
stops after its third step and the instance, seen through the URI in status.json, holds
what the schedule says at 20 (jobs 1 and 3 running on all 6 nodes, job 2 pending); the
step count and simulated time do not move for longer than both the step timeout and
flux-fiction-run'"'"'s no-progress watchdog; step and step 3 advance exactly that many
steps; resume finishes with the schedule of an uninterrupted replay, and the instance
clock (REAL_* columns) stayed with simulated time across the pause. Paused at 40, a pending job (2) and a running one (3)
are canceled with flux cancel: both are recorded as canceled, and every job starts when
and where t/scripts/sched-model.py --cancel says. flux-fiction-ctl and ff-emu refuse
what they cannot do with a message and a non-zero exit.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-ctl
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

MODEL=$SHARNESS_TEST_SRCDIR/scripts/sched-model.py
T0=1647216000
FF_RUNS=$PWD/runs

# start_replay RUN EXPERIMENT [flux-fiction-run options]: in the background (pid in RUN.pid).
start_replay() {
	_run=$1 _exp=$2
	shift 2
	mkdir -p "$FF_RUNS" && rm -rf "${FF_RUNS:?}/$_run" || return 1
	timeout 300 flux-fiction-run "$_exp.toml" --run-dir "$FF_RUNS/$_run" --quiet "$@" \
		>"$_run.out" 2>"$_run.err" &
	echo $! >"$_run.pid"
}

# finish_replay RUN: wait for it; fails (showing its errors) unless it exited 0 or 2.
finish_replay() {
	wait "$(cat "$1.pid")"
	_rc=$?
	echo "# $1: flux-fiction-run exit $_rc" >&5
	test "$_rc" = 0 || test "$_rc" = 2 || {
		sed 's/^/#   /' "$1.err" "$FF_RUNS/$1/output/failure.txt" 2>/dev/null
		false
	} >&5
}

ctl() {
	_run=$1
	shift
	flux-fiction-ctl --run-dir "$FF_RUNS/$_run" --timeout 60 "$@"
}

# in_run RUN CMD...: a command against RUN's instance.
in_run() {
	_run=$1
	shift
	FLUX_URI=$(jq -r .uri "$FF_RUNS/$_run/status.json") "$@"
}

# status_is RUN JQ_EXPR: ff-emu's status object satisfies JQ_EXPR.
status_is() {
	ctl "$1" status --json | jq -e "$2" >/dev/null
}

# running RUN: flux-fiction-run has recorded the instance's URI and the replay runs.
running() {
	jq -e ".uri and .state == \"running\"" "$FF_RUNS/$1/status.json" >/dev/null
}

# paused RUN STEPS SIM_OFFSET: ff-emu is paused after STEPS steps at t0 + SIM_OFFSET.
paused() {
	ctl "$1" status --json >"$1.status" &&
	jq -e --argjson steps "$2" --argjson sim "$(($T0 + $3))" \
		'.pause == "paused" and .steps == $steps and .sim_time == $sim' "$1.status" >/dev/null
}

# job_states RUN: "N STATE" lines for the instance's active jobs.
job_states() {
	in_run "$1" flux jobs -n -o "{state}" | sort | uniq -c | awk '{ print $1, $2 }'
}

# jobid RUN TRACE_IDX: the Flux job id of the emulated job of that trace row.
jobid() {
	for _id in $(in_run "$1" flux jobs -a -n -o "{id}"); do
		_idx=$(in_run "$1" flux job info "$_id" jobspec | jq .attributes.user.ff_trace_idx)
		test "$_idx" = "$2" && echo "$_id" && return 0
	done
	return 1
}

# schedule RUN: trace_idx|START|FINISH|NODELIST|RESULT of every job.
schedule() {
	python3 -c 'import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print("|".join(r[c] for c in ("trace_idx", "START", "FINISH", "NODELIST", "RESULT")))' \
		"$FF_RUNS/$1/output/job_transitions.csv"
}

test_expect_success 'setup: four replays start' '
	flux-fiction-generate --model uniform --jobs 150 --nodes 8 --seed 3 -o uniform.swf &&
	ff_experiment uni uniform.swf 8 1 "$(ff_queue_policy fcfs)" &&
	start_replay uni uni &&
	ff_experiment bf "$FF_TRACES/backfill.csv" 6 4 "$(ff_queue_policy easy)" "step_timeout = 4" &&
	start_replay plain bf &&
	start_replay canceled bf --pause-at 40 &&
	start_replay stepped bf --pause-at 2022-03-14T00:00:20
'

test_expect_success 'pause stops a running replay between steps; the instance holds its jobs' '
	ff_wait_until 90 running uni &&
	ff_wait_until 60 status_is uni ".steps >= 20" &&
	ctl uni pause >uni.pause &&
	sed "s/^/# /" uni.pause >&5 &&
	ctl uni status --json >uni.status1 &&
	jq -e ".state == \"running\" and .pause == \"paused\" and .finished < 150" uni.status1 &&
	active=$(jq ".submitted - .finished" uni.status1) &&
	test "$(in_run uni flux jobs -n | wc -l)" = "$active" &&
	sleep 2 &&
	ctl uni status --json >uni.status2 &&
	test_cmp uni.status1 uni.status2
'

test_expect_success 'resume runs it on' '
	ctl uni resume
'

test_expect_success '--pause-at 2022-03-14T00:00:20 pauses after the step at 20 s' '
	ff_wait_until 90 paused stepped 3 20 &&
	# flux-fiction-run shows it in status.json at its next poll.
	ff_wait_until 10 jq -e ".state == \"running\" and .pause == \"paused\"" "$FF_RUNS/stepped/status.json"
'

test_expect_success 'while paused the instance holds jobs 1 and 3 on all 6 nodes, job 2 pending' '
	printf "%s\n" "2 RUN" "1 SCHED" >states.expected &&
	job_states stepped >states &&
	test_cmp states.expected states &&
	test "$(in_run stepped flux resource list -n -s allocated -o "{nnodes}")" = 6
'

test_expect_success 'nothing moves while paused, past the step timeout and the watchdog' '
	# flux-fiction-run calls ff-emu stuck after 2 x 4 s / 0.5 + 10 = 26 polls (13 s).
	sleep 14 &&
	paused stepped 3 20 &&
	kill -0 "$(cat stepped.pid)" &&
	job_states stepped >states &&
	test_cmp states.expected states
'

test_expect_success 'step runs one step, step 3 three more, each then paused' '
	ctl stepped step >step1.out &&
	paused stepped 4 30 &&
	grep "paused: step 4, simulated 2022-03-14T00:00:30Z" step1.out &&
	ctl stepped step 3 &&
	paused stepped 7 620
'

test_expect_success PYTHON3 'resume finishes with the schedule of the uninterrupted replay' '
	ctl stepped resume &&
	finish_replay stepped &&
	finish_replay plain &&
	finish_replay uni &&
	jq -e ".jobs_completed == 150" "$FF_RUNS/uni/output/summary.json" &&
	schedule plain >plain.schedule &&
	schedule stepped >stepped.schedule &&
	test_cmp plain.schedule stepped.schedule &&
	jq -e ".steps == 10 and .jobs_completed == 5" "$FF_RUNS/stepped/output/summary.json"
'

test_expect_success PYTHON3 'after the pause, the instance clock went on from where it stood' '
	python3 -c "import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
bad = [(r[\"trace_idx\"], c) for r in rows for c in (\"SUBMIT\", \"START\", \"FINISH\")
       if abs(float(r[\"REAL_\" + c]) - float(r[c])) > 1.0]
print(bad)
sys.exit(1 if bad or len(rows) != 5 else 0)" "$FF_RUNS/stepped/output/job_transitions.csv" >clock.out || {
		sed "s/^/# REAL_* more than 1 s from simulated time: /" clock.out >&5
		false
	}
'

test_expect_success 'paused at 40: flux cancel a pending job (2), then a running one (3)' '
	ff_wait_until 60 paused canceled 5 40 &&
	pending=$(jobid canceled 1) &&
	running=$(jobid canceled 2) &&
	test "$(in_run canceled flux jobs -n -o "{state}" "$pending")" = SCHED &&
	test "$(in_run canceled flux jobs -n -o "{state}" "$running")" = RUN &&
	# Pausing a paused replay changes nothing and returns at once.
	ctl canceled pause >again.out &&
	grep "^running, paused: step 5, simulated 2022-03-14T00:00:40Z" again.out &&
	in_run canceled flux cancel "$pending" &&
	ff_wait_until 30 status_is canceled ".finished == 1 and .pause == \"paused\"" &&
	in_run canceled flux cancel "$running" &&
	ff_wait_until 30 status_is canceled ".finished == 2 and .pause == \"paused\"" &&
	paused canceled 5 40
'

test_expect_success 'while paused, ff-emu refuses bad step requests; ctl relays errors' '
	. "$FF_PATHS" &&
	test_must_fail in_run canceled "$FF_RPC" ff-emu.step "{\"n\": 0}" 2>n0.err &&
	grep "ff-emu.step: the number of steps must be at least 1" n0.err &&
	test_must_fail in_run canceled "$FF_RPC" ff-emu.step 2>nopayload.err &&
	grep "needs a payload like" nopayload.err &&
	jq ".uri = \"local:///nonexistent/socket\"" "$FF_RUNS/canceled/status.json" >gone.json &&
	mkdir -p gone && cp gone.json gone/status.json &&
	test_must_fail flux-fiction-ctl --run-dir gone status 2>gone.err &&
	grep "ff-emu at local:///nonexistent/socket does not answer" gone.err &&
	test_must_fail flux-fiction-ctl --run-dir gone resume 2>goneresume.err &&
	grep "^flux-fiction-ctl: error: flux_open local:///nonexistent/socket: " goneresume.err &&
	paused canceled 5 40
'

test_expect_success PYTHON3 'resumed: both recorded as canceled, the pending one never started' '
	ctl canceled resume &&
	finish_replay canceled &&
	schedule canceled >canceled.schedule &&
	sed "s/^/# /" canceled.schedule >&5 &&
	grep "^1|||[^|]*|canceled$" canceled.schedule &&
	grep "^2|$(($T0 + 20)).000000|$(($T0 + 40)).000000|[^|]*|canceled$" canceled.schedule &&
	jq -e ".jobs_canceled == 2 and .jobs_completed == 3" "$FF_RUNS/canceled/output/summary.json"
'

test_expect_success PYTHON3 'the node-aware model with both cancels agrees on every job' '
	python3 "$MODEL" "$FF_TRACES/backfill.csv" --nodes 6 --policy easy --node-aware \
		--cancel 1@$(($T0 + 40)) --cancel 2@$(($T0 + 40)) \
		--compare "$FF_RUNS/canceled/output/job_transitions.csv" >canceled.model || {
		sed "s/^/# /" canceled.model >&5
		false
	} &&
	sed "s/^/# /" canceled.model >&5 &&
	grep "canceled: 2/2" canceled.model &&
	grep "nodes: 4/4" canceled.model &&
	! python3 "$MODEL" "$FF_TRACES/backfill.csv" --nodes 6 --policy easy --node-aware \
		--compare "$FF_RUNS/canceled/output/job_transitions.csv" >uncanceled.model
'

test_expect_success 'flux-fiction-ctl: bad use and no running replay are refused clearly' '
	test_must_fail flux-fiction-ctl --run-dir "$FF_RUNS/plain" pause 2>over.err &&
	grep "no running replay in .*plain (status.json says: succeeded)" over.err &&
	test_must_fail flux-fiction-ctl --run-dir "$PWD/nowhere" status 2>none.err &&
	grep "nowhere/status.json not found" none.err &&
	test_must_fail flux-fiction-ctl --run-dir "$FF_RUNS/plain" step 0 2>zero.err &&
	grep "step: N must be a whole number of steps from 1, got .0." zero.err &&
	test_must_fail flux-fiction-ctl --run-dir "$FF_RUNS/plain" step two 2>two.err &&
	grep "got .two." two.err &&
	test_must_fail flux-fiction-ctl --run-dir "$FF_RUNS/plain" jump 2>jump.err &&
	grep "unknown command .jump." jump.err
'

test_expect_success '--pause-at with a bad time is refused before anything starts' '
	test_must_fail flux-fiction-run bf.toml --run-dir "$FF_RUNS/badpause" --pause-at soon 2>badpause.err &&
	grep "pause-at soon: expected a time like" badpause.err &&
	! test -e "$FF_RUNS/badpause"
'

test_done
