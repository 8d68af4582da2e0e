#!/bin/sh
test_description='simulated time: the instance lives on the simulated clock, Fluxion
schedules what the node-aware model predicts, and replays are deterministic

t/traces/backfill.csv (easy) is replayed with simulated time and with --no-faketime: the
same known schedule, and the instance clock (REAL_* columns, broker.log stamps) follows
simulated time in the first and the wall clock in the second. A Lublin-Feitelson trace
made by flux-fiction-generate with a fixed seed (600 jobs, 64 nodes, offered load 0.9)
replayed under easy agrees with t/scripts/sched-model.py --node-aware (the agreement is
printed as a TAP comment); its first 150 jobs under conservative run to completion;
backfill.csv (easy) and its first 300 jobs (fcfs) give byte-identical schedules when
replayed twice, in either clock mode.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

MODEL=$SHARNESS_TEST_SRCDIR/scripts/sched-model.py
T0=1647216000

# The generated workload: a Lublin-Feitelson trace for a 64-node machine (one SWF
# processor = one node), seeded, so every run replays the same bytes.
LUBLIN="--model lublin --jobs 600 --nodes 64 --load 0.9 --seed 7"

# Runs live in the trash directory, as in t2000.
FF_RUNS=$PWD/runs




# The schedule backfill.csv must get under easy on 6 nodes (derived in the trace's
# comment; as in t2000).
backfill_expected() {
	ff_expect_jobs 1 1 0 0 1000 &&
	ff_expect_jobs 2 2 10 1000 1300 &&
	ff_expect_jobs 3 3 20 20 520 &&
	ff_expect_jobs 4 4 30 1300 1900 &&
	ff_expect_jobs 5 5 40 520 620
}


# check_clock RUN sim|real: where the instance's clock was during RUN.
#   sim:  REAL_SUBMIT/REAL_START/REAL_FINISH (the instance's clock when the emulator
#         saw the submit, acknowledged the start, sent the finish) lie within 1 s of
#         SUBMIT/START/FINISH, and every broker.log stamp lies in the simulated span
#         (first SUBMIT - 1 h .. last FINISH + 1 h);
#   real: those columns and stamps lie within the wall-clock span of the replay, more
#         than a year after the simulated times (2019).
check_clock() {
	python3 - "$FF_RUNS/$1" "$2" $(cat "$1.wall") >"$1.clock" <<-\EOF || { sed 's/^/# /' "$1.clock" >&5; false; }
	import csv, datetime, sys
	run, mode, wall_from, wall_to = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
	rows = list(csv.DictReader(open(run + "/output/job_transitions.csv")))
	bad = []
	for r in rows:
	    for col in ("SUBMIT", "START", "FINISH"):
	        sim, real = float(r[col]), float(r["REAL_" + col])
	        ok = (abs(real - sim) <= 1.0 if mode == "sim" else
	              wall_from - 1 <= real <= wall_to + 1 and real - sim > 365 * 86400)
	        if not ok:
	            bad.append(f"trace_idx {r['trace_idx']}: {col} {sim:.6f} REAL_{col} {real:.6f}")
	if mode == "sim":
	    lo = min(float(r["SUBMIT"]) for r in rows) - 3600
	    hi = max(float(r["FINISH"]) for r in rows) + 3600
	else:
	    lo, hi = wall_from - 1, wall_to + 1
	stamps = 0
	for line in open(run + "/broker.log", errors="replace"):
	    try:
	        t = datetime.datetime.strptime(line[:31], "%b %d %H:%M:%S.%f UTC %Y")
	    except ValueError:
	        continue
	    stamps += 1
	    t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
	    if not lo <= t <= hi:
	        bad.append(f"broker.log stamp {t:.6f} outside {lo:.0f}..{hi:.0f}: {line.strip()[:120]}")
	if not rows or not stamps:
	    bad.append(f"{len(rows)} jobs, {stamps} broker.log stamps")
	print("\n".join(bad[:20]))
	sys.exit(1 if bad else 0)
	EOF
}

# run_times RUN: the columns a replay must reproduce exactly (trace_idx,SUBMIT,START,FINISH).
run_times() {
	cut -d, -f1,4-6 "$FF_RUNS/$1/output/job_transitions.csv"
}

same_times() {
	run_times "$1" >"$1.times" &&
	run_times "$2" >"$2.times" &&
	test_cmp "$1.times" "$2.times"
}

completed() {
	jq -e --argjson n "$2" --arg p "$3" \
		'.jobs_total == $n and .jobs_completed == $n and .exit_code == 0 and .policy == $p' \
		"$FF_RUNS/$1/output/summary.json" >/dev/null || {
		echo "# $1: summary.json: $(jq -c '{jobs_total, jobs_completed, exit_code, policy}' \
			"$FF_RUNS/$1/output/summary.json")"
		false
	} >&5
}

test_expect_success 'setup: the generated trace (twice: the same bytes) and the experiments' '
	flux-fiction-generate $LUBLIN -o lublin.swf &&
	flux-fiction-generate $LUBLIN -o lublin2.swf &&
	test_cmp lublin.swf lublin2.swf &&
	test "$(grep -vc "^;" lublin.swf)" = 600 &&
	ff_experiment bf "$FF_TRACES/backfill.csv" 6 4 "$(ff_queue_policy easy)" &&
	ff_experiment lub600easy lublin.swf 64 1 "$(ff_queue_policy easy)" &&
	ff_experiment lub150cons lublin.swf 64 1 "$(ff_queue_policy conservative)" "max_jobs = 150" &&
	ff_experiment lub300fcfs lublin.swf 64 1 "$(ff_queue_policy fcfs)" "max_jobs = 300"
'

test_expect_success PYTHON3 'the model (counts only and node-aware) gives backfill.csv its easy schedule' '
	for mode in "" --node-aware; do
		python3 "$MODEL" "$FF_TRACES/backfill.csv" --nodes 6 --policy easy $mode |
			awk -F, -v t0=$T0 "NR > 1 { print \$1 + 1, \$2 - t0 }" >model$mode.starts &&
		printf "%s\n" "1 0" "2 1000" "3 20" "4 1300" "5 520" >model.expected &&
		test_cmp model.expected model$mode.starts || return 1
	done
'

test_expect_success 'backfill, easy, simulated time: the known schedule' '
	ff_replay bf.sim bf &&
	completed bf.sim 5 easy &&
	backfill_expected >bf.expected &&
	ff_check_schedule "$FF_RUNS/bf.sim" bf.expected
'
test_expect_success PYTHON3 'backfill, easy, simulated time: the instance clock is the simulated clock' '
	jq -e ".faketime == true" "$FF_RUNS/bf.sim/output/summary.json" >/dev/null &&
	check_clock bf.sim sim
'
test_expect_success PYTHON3 'backfill, easy, simulated time: the node-aware model agrees on every job' '
	python3 "$MODEL" "$FF_TRACES/backfill.csv" --nodes 6 --policy easy --node-aware \
		--compare "$FF_RUNS/bf.sim/output/job_transitions.csv" >bf.model || {
		sed "s/^/# /" bf.model >&5
		false
	}
'
test_expect_success 'backfill, easy, --no-faketime: the same schedule' '
	ff_replay bf.real bf --no-faketime &&
	completed bf.real 5 easy &&
	ff_check_schedule "$FF_RUNS/bf.real" bf.expected
'
test_expect_success PYTHON3 'backfill, easy, --no-faketime: the instance clock is the wall clock' '
	jq -e ".faketime == false" "$FF_RUNS/bf.real/output/summary.json" >/dev/null &&
	check_clock bf.real real
'

test_expect_success 'determinism: backfill (easy) twice with simulated time' '
	ff_replay bf.sim2 bf &&
	same_times bf.sim bf.sim2
'
test_expect_success 'determinism: backfill (easy) twice with --no-faketime' '
	ff_replay bf.real2 bf --no-faketime &&
	same_times bf.real bf.real2
'
test_expect_success 'determinism: lublin 300 jobs (fcfs) twice with simulated time' '
	ff_replay fcfs.sim lub300fcfs &&
	ff_replay fcfs.sim2 lub300fcfs &&
	completed fcfs.sim 300 fcfs &&
	same_times fcfs.sim fcfs.sim2
'
test_expect_success 'determinism: lublin 300 jobs (fcfs) twice with --no-faketime, as with simulated time' '
	ff_replay fcfs.real lub300fcfs --no-faketime &&
	ff_replay fcfs.real2 lub300fcfs --no-faketime &&
	same_times fcfs.real fcfs.real2 &&
	same_times fcfs.sim fcfs.real
'

test_expect_success 'conservative: lublin 150 jobs run to completion' '
	ff_replay cons lub150cons &&
	completed cons 150 conservative
'

test_expect_success 'lublin 600 jobs, easy: replay exits 0' '
	ff_replay easy lub600easy &&
	completed easy 600 easy
'
# Fluxion with its default queue-depth (32), as the model is told. The textbook model
# (whole-node counts, no node placement) is shown for contrast: Fluxion reserves specific
# nodes, so it backfills less than a spare-node count allows.
test_expect_success PYTHON3 'lublin 600 jobs, easy: the node-aware model agrees on >= 99% of start times' '
	python3 "$MODEL" lublin.swf --nodes 64 --policy easy \
		--min-agreement 0 --compare "$FF_RUNS/easy/output/job_transitions.csv" >easy.textbook &&
	sed -n "s/^agreement: /# textbook EASY (counts only) agreement: /p" easy.textbook >&5 &&
	python3 "$MODEL" lublin.swf --nodes 64 --policy easy \
		--node-aware --queue-depth 32 --min-agreement 0.99 \
		--compare "$FF_RUNS/easy/output/job_transitions.csv" >easy.model
	rc=$?
	sed "s/^/# /" easy.model >&5
	test $rc = 0
'

test_done
