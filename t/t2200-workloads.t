#!/bin/sh
test_description='workloads: generated traces, gzip-compressed traces and schedule.swf

flux-fiction-generate makes the traces (fixed seeds). A 2,000-job uniform trace on
32 nodes x 1 core replayed under fcfs starts every job when t/scripts/sched-model.py
says. A small trace replayed plain and gzip-compressed gives the same schedule, and
the model reads the compressed one too; a truncated gzip trace is refused, naming the
file. With output_compression = "gzip", pernode.json.gz and eventlog.csv.gz hold what
the plain files hold. Every replay writes output/schedule.swf: its records agree, field by field, with
job_transitions.csv, and replaying a schedule.swf as a trace reproduces the schedule.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3
command -v gzip >/dev/null 2>&1 && test_set_prereq GZIP
ff_stage_artifacts
PREPARE=$FF_EMU_ARTIFACTS/flux-fiction-prepare
test -x "$PREPARE" || error "flux-fiction-prepare is not in FF_EMU_ARTIFACTS=$FF_EMU_ARTIFACTS"

MODEL=$SHARNESS_TEST_SRCDIR/scripts/sched-model.py

# Runs live in the trash directory, as in t2000.
FF_RUNS=$PWD/runs



# run_times RUN: the columns a replay must reproduce exactly (trace_idx,SUBMIT,START,FINISH).
same_times() {
	cut -d, -f1,4-6 "$FF_RUNS/$1/output/job_transitions.csv" >"$1.times" &&
	cut -d, -f1,4-6 "$FF_RUNS/$2/output/job_transitions.csv" >"$2.times" &&
	test_cmp "$1.times" "$2.times"
}

# swf_agrees RUN: every record of RUN's output/schedule.swf is what
# flux-module/report/src/swf_schedule.rs makes of the job's job_transitions.csv row:
# job number trace_idx + 1; submit, wait and run time from SUBMIT, START, FINISH rounded
# to the nearest second (halves up) as instants after the header's UnixStartTime;
# allocated and requested processors NCORES; requested time TIMELIMIT (-1 if none);
# status from RESULT; every other field -1. Records in trace order, one per job.
swf_agrees() {
	python3 - "$FF_RUNS/$1" >"$1.swfcheck" <<-\EOF || { sed 's/^/# /' "$1.swfcheck" >&5; false; }
	import csv, sys
	from decimal import Decimal, ROUND_FLOOR
	run = sys.argv[1]
	origin, records = None, []
	for line in open(run + "/output/schedule.swf"):
	    if line.startswith(";"):
	        if line.startswith("; UnixStartTime:"):
	            origin = Decimal(line.split(":", 1)[1].strip())
	        continue
	    records.append([int(f) for f in line.split()])
	rows = list(csv.DictReader(open(run + "/output/job_transitions.csv")))
	def seconds(text):  # nearest second, halves up
	    return int((Decimal(text) + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR))
	def at(col, r):
	    return seconds(Decimal(r[col]) - origin) if r[col] else None
	status = {"completed": 1, "timeout": 0, "failed": 0, "canceled": 5, "not-run": -1}
	bad = []
	if origin is None:
	    bad.append("no UnixStartTime in the header")
	if len(records) != len(rows):
	    bad.append(f"{len(records)} records for {len(rows)} jobs")
	for r, rec in zip(rows, records):
	    submit, start, finish = at("SUBMIT", r), at("START", r), at("FINISH", r)
	    cores = int(r["NCORES"])
	    want = [int(r["trace_idx"]) + 1, submit,
	            -1 if start is None else start - submit,
	            -1 if start is None or finish is None else finish - start,
	            -1 if start is None else cores, -1, -1, cores,
	            seconds(r["TIMELIMIT"]) if r["TIMELIMIT"] else -1, -1,
	            status[r["RESULT"]]] + [-1] * 7
	    if rec != want:
	        bad.append(f"trace_idx {r['trace_idx']}: record {rec}, expected {want}")
	print("\n".join(bad[:10]) or f"schedule.swf: {len(records)} records agree with job_transitions.csv")
	sys.exit(1 if bad else 0)
	EOF
	sed 's/^/# /' "$1.swfcheck" >&5
}

# The generated workloads: a uniform trace of 2,000 jobs of 1..8 nodes on a 32-node
# machine, offered load 0.85 (under strict fcfs, jobs queue: a mean wait of about 25
# minutes); and a small one of 40 jobs of 1..8 nodes on 8 nodes x 2 cores, as sacct CSV.
BIG="--model uniform --jobs 2000 --nodes 32 --max-nodes 8 --load 0.85 --seed 11"
SMALL="--model uniform --jobs 40 --nodes 8 --cores-per-node 2 --load 0.9 --seed 5"

test_expect_success 'setup: generate the traces' '
	flux-fiction-generate $BIG -o big.swf &&
	test "$(grep -vc "^;" big.swf)" = 2000 &&
	flux-fiction-generate $SMALL -o small.csv &&
	test "$(grep -v "^#" small.csv | wc -l)" = 41 &&
	ff_experiment big big.swf 32 1 "$(ff_queue_policy fcfs)" &&
	ff_experiment small small.csv 8 2 "$(ff_queue_policy easy)"
'

test_expect_success 'generated 2,000 jobs, fcfs: replay exits 0, every job completed' '
	ff_replay big big &&
	jq -e ".jobs_total == 2000 and .jobs_completed == 2000 and .policy == \"fcfs\"" \
		"$FF_RUNS/big/output/summary.json" >/dev/null
'
test_expect_success PYTHON3 'generated 2,000 jobs, fcfs: the model agrees on every start time' '
	python3 "$MODEL" big.swf --nodes 32 --policy fcfs \
		--compare "$FF_RUNS/big/output/job_transitions.csv" >big.model
	rc=$?
	sed "s/^/# /" big.model >&5
	test $rc = 0
'
test_expect_success PYTHON3 'generated 2,000 jobs: schedule.swf agrees with job_transitions.csv' '
	swf_agrees big
'
test_expect_success 'generated 2,000 jobs: its schedule.swf passes the pre-flight checks as a trace' '
	cp "$FF_RUNS/big/output/schedule.swf" big-schedule.swf &&
	ff_experiment big-schedule big-schedule.swf 32 1 "$(ff_queue_policy fcfs)" &&
	rm -rf big-schedule.run &&
	"$PREPARE" big-schedule.toml --run-dir "$PWD/big-schedule.run" \
		>big-schedule.out 2>big-schedule.err &&
	test_cmp big-schedule.swf big-schedule.run/inputs/big-schedule.swf
'

test_expect_success 'small trace, plain: replay exits 0' '
	ff_replay small.plain small
'
test_expect_success GZIP 'small trace, gzip -k: the same schedule as plain' '
	gzip -k small.csv &&
	ff_experiment small-gz small.csv.gz 8 2 "$(ff_queue_policy easy)" "output_compression = \"gzip\"" &&
	ff_replay small.gz small-gz &&
	same_times small.plain small.gz &&
	jq -e ".trace_file | endswith(\"/inputs/small.csv.gz\")" \
		"$FF_RUNS/small.gz/output/summary.json" >/dev/null
'
# slices DIR: pernode.json[.gz] of a run as "trace_idx node start duration" lines, sorted.
slices() {
	for f in "$1/pernode.json" "$1/pernode.json.gz"; do test -f "$f" && zcat -f "$f"; done |
	jq -r ".traceEvents[] | select(.ph == \"X\") | \"\(.args.trace_idx) \(.tid) \(.ts) \(.dur)\"" | sort
}
# events DIR: eventlog.csv[.gz] of a run as "name count" lines.
events() {
	for f in "$1/eventlog.csv" "$1/eventlog.csv.gz"; do test -f "$f" && zcat -f "$f"; done |
	awk -F, "NR > 1 { n[\$2]++ } END { for (e in n) print e, n[e] }" | sort
}
test_expect_success GZIP 'output_compression = "gzip": pernode.json.gz and eventlog.csv.gz hold what the plain files hold' '
	plain=$FF_RUNS/small.plain/output gz=$FF_RUNS/small.gz/output &&
	! test -e "$gz/pernode.json" && ! test -e "$gz/eventlog.csv" && ! test -e "$plain/pernode.json.gz" &&
	gzip -t "$gz/pernode.json.gz" "$gz/eventlog.csv.gz" &&
	slices "$plain" >slices.plain && slices "$gz" >slices.gz &&
	test -s slices.plain && test_cmp slices.plain slices.gz &&
	events "$plain" >events.plain && events "$gz" >events.gz &&
	grep -q "^clean " events.plain && test_cmp events.plain events.gz
'
test_expect_success GZIP,PYTHON3 'small trace, gzip: the node-aware model reads it and agrees' '
	python3 "$MODEL" small.csv.gz --nodes 8 --policy easy --node-aware \
		--compare "$FF_RUNS/small.gz/output/job_transitions.csv" >small.model || {
		sed "s/^/# /" small.model >&5
		false
	}
'
test_expect_success GZIP 'a truncated gzip trace: exit 1 within 30 s, naming the file' '
	head -c $(($(wc -c <small.csv.gz) / 2)) small.csv.gz >cut.csv.gz &&
	ff_experiment cut cut.csv.gz 8 2 "$(ff_queue_policy easy)" &&
	rm -rf "$FF_RUNS/cut" &&
	from=$(date +%s) &&
	test_expect_code 1 timeout 60 flux-fiction-run cut.toml --run-dir "$FF_RUNS/cut" --quiet \
		>cut.out 2>cut.err &&
	took=$(($(date +%s) - from)) &&
	sed "s/^/# cut.err: /" cut.err >&5 &&
	test $took -le 30 &&
	grep "cut\.csv\.gz" cut.err | grep -i "trunc"
'

test_expect_success PYTHON3 'small trace: schedule.swf agrees with job_transitions.csv' '
	swf_agrees small.plain
'
test_expect_success 'small trace: schedule.swf replayed as a trace reproduces the schedule' '
	cp "$FF_RUNS/small.plain/output/schedule.swf" small-schedule.swf &&
	ff_experiment small-schedule small-schedule.swf 8 2 "$(ff_queue_policy easy)" "swf_procs_per_node = 2" &&
	ff_replay small.swf small-schedule &&
	same_times small.plain small.swf
'

test_done
