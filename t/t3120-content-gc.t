#!/bin/sh
test_description='the content store is garbage-collected during a replay

flux-core keeps every version of the KVS in its content store, a few hundred kB per
replayed job. flux-fiction-run runs `flux gc` every content_gc_interval seconds, which
reclaims the versions older than the last KVS checkpoint. A replay with a 1-second
interval and checkpoint period reclaims blobs several times, and its schedule is the
same as without collection; content_gc_interval = 0 runs none.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate jq
flux gc --help >/dev/null 2>&1 && test_set_prereq FLUX_GC

# starts RUN: trace_idx,START,FINISH,NODELIST of every job.
starts() {
	cut -d, -f1,5,6,10 "$FF_RUNS/$1/output/job_transitions.csv" >"$1.starts"
}

test_expect_success 'setup: a 600-job workload, checkpoints every second' '
	FF_RUNS=$PWD/runs && export FF_RUNS &&
	flux-fiction-generate --model uniform --jobs 600 --nodes 8 --max-nodes 4 --load 0.9 --seed 5 \
		-o w.swf &&
	json="{\"sched-fluxion-qmanager\": {\"queue-policy\": \"fcfs\"}, \"kvs\": {\"checkpoint-period\": \"1s\"}}" &&
	ff_experiment gc w.swf 8 1 "$json" "content_gc_interval = 1" &&
	ff_experiment nogc w.swf 8 1 "$json" "content_gc_interval = 0"
'

test_expect_success FLUX_GC 'a replay collects the content store several times' '
	ff_replay gc gc &&
	grep "gc complete" "$FF_RUNS/gc/content-gc.log" >collections &&
	test "$(wc -l <collections)" -ge 3 &&
	sed -n "s/.*reclaimed \([0-9]*\) blobs.*/\1/p" collections >reclaimed &&
	test "$(awk "{ n += \$1 } END { print n + 0 }" reclaimed)" -gt 0 &&
	jq -e ".jobs_completed == 600" "$FF_RUNS/gc/output/summary.json"
'

test_expect_success FLUX_GC 'content_gc_interval = 0: no collection, the same schedule' '
	ff_replay nogc nogc &&
	! test -e "$FF_RUNS/nogc/content-gc.log" &&
	starts gc && starts nogc &&
	test_cmp gc.starts nogc.starts
'

test_done
