#!/bin/sh
test_description='deep queues: replays wait out Fluxion continuation passes

A generated Lublin workload overloads 32 nodes, so well over a hundred jobs wait at
once: far more than the qmanager considers in one scheduling pass (queue-depth, 32 by
default). A pass that stops at that depth is continued in a later reactor iteration;
the step barrier must wait for those continuations before the clock moves. Replayed
under easy twice, the second time beside a CPU hog, the schedules (start, finish and
nodes of every job) are identical; t/scripts/sched-model.py --node-aware with the same
queue depth agrees on every job, at the default depth and at 8 and 1024; conservative
backfilling gives the same schedule twice.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

MODEL=$SHARNESS_TEST_SRCDIR/scripts/sched-model.py
NODES=32
JOBS=200
easy_depth() {
	echo "{\"sched-fluxion-qmanager\": {\"queue-policy\": \"easy\", \"queue-params\": {\"queue-depth\": $1}}}"
}

# schedule RUN: what must not change between replays, one line per job:
# trace_idx,START,FINISH,NODELIST.
schedule() {
	python3 - "$FF_RUNS/$1/output/job_transitions.csv" >"$1.schedule" <<-\EOF
	import csv, sys
	for r in csv.DictReader(open(sys.argv[1])):
	    print(",".join((r["trace_idx"], r["START"], r["FINISH"], r["NODELIST"].replace(",", " "))))
	EOF
}

same_schedule() {
	schedule "$1" && schedule "$2" && test_cmp "$1.schedule" "$2.schedule"
}

# model_agrees RUN DEPTH: the node-aware model, told the queue depth, agrees with RUN on
# the start time and the node set of every job.
model_agrees() {
	python3 "$MODEL" deep.swf --nodes $NODES --policy easy --node-aware --queue-depth "$2" \
		--compare "$FF_RUNS/$1/output/job_transitions.csv" >"$1.model" &&
	grep -qx "nodes: $JOBS/$JOBS jobs on the model's nodes" "$1.model" || {
		sed "s/^/# /" "$1.model" >&5
		false
	}
}

test_expect_success 'setup: a generated workload that overloads the machine' '
	FF_RUNS=$PWD/runs && export FF_RUNS &&
	flux-fiction-generate --model lublin --jobs $JOBS --nodes $NODES --seed 7 --load 1.8 -o deep.swf &&
	ff_experiment easy deep.swf $NODES 1 "$(easy_depth 32)" &&
	ff_experiment easy8 deep.swf $NODES 1 "$(easy_depth 8)" &&
	ff_experiment easy1024 deep.swf $NODES 1 "$(easy_depth 1024)" &&
	ff_experiment cons deep.swf $NODES 1 "$(ff_queue_policy conservative)"
'

test_expect_success 'easy, queue-depth 32: the replay completes with many more jobs waiting than the depth' '
	ff_replay easy easy &&
	jq -e ".jobs_completed == $JOBS and .exit_code == 0" "$FF_RUNS/easy/output/summary.json" >/dev/null &&
	deepest=$(awk -F, "NR > 1 && \$3 > m { m = \$3 } END { print m + 0 }" "$FF_RUNS/easy/output/utilization.csv") &&
	echo "# at most $deepest jobs waited at once" >&5 &&
	test "$deepest" -gt 100 &&
	grep -q "confirming" "$FF_RUNS/easy/broker.log"
'
test_expect_success 'easy, queue-depth 32: broker.log holds only messages at the log level' '
	log=$FF_RUNS/easy/broker.log &&
	grep -q "ff-emu.info" "$log" &&
	! grep -q "\.debug\[" "$log" &&
	test "$(wc -c <"$log")" -lt 1000000
'
test_expect_success PYTHON3 'easy, queue-depth 32: the node-aware model agrees on every job' '
	model_agrees easy 32
'
test_expect_success PYTHON3 'easy, queue-depth 32: a model that ignores the depth does not (the test can tell)' '
	! model_agrees easy 1000000 2>/dev/null
'
test_expect_success PYTHON3 'easy, queue-depth 32, beside a CPU hog: the same schedule' '
	timeout 600 sh -c "while :; do :; done" &
	hog=$! &&
	test_when_finished "kill $hog" &&
	ff_replay easy.hog easy &&
	same_schedule easy easy.hog
'
test_expect_success PYTHON3 'easy, queue-depth 8: the model agrees on every job' '
	ff_replay easy8 easy8 &&
	model_agrees easy8 8
'
test_expect_success PYTHON3 'easy, queue-depth 1024: the model agrees on every job' '
	ff_replay easy1024 easy1024 &&
	model_agrees easy1024 1024
'
test_expect_success PYTHON3 'conservative: the same schedule twice' '
	ff_replay cons cons &&
	ff_replay cons2 cons &&
	jq -e ".jobs_completed == $JOBS" "$FF_RUNS/cons/output/summary.json" >/dev/null &&
	same_schedule cons cons2
'

test_done
