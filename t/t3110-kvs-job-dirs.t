#!/bin/sh
test_description='the KVS job directories that purging leaves empty are removed

The job-manager keeps a job under job.AAAA.BBBB.CCCC.DDDD, where BBBB changes every
256 ms of wall time, and purging an inactive job removes only its own directory. Without
housekeeping job.AAAA gains an entry per 256 ms for the whole replay, and every commit
rewrites it. A replay that purges all but 10 inactive jobs runs in an instance of the
test'"'"'s own; afterwards job.AAAA holds only the windows of the jobs still there and
those of the last few seconds (not yet closed, or not yet checked), every job still listed has its
jobspec, and ff-emu reports the directories it removed.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate jq
FAKETIME_LIB=/usr/lib/$(uname -m)-linux-gnu/faketime/libfaketimeMT.so.1
test -f "$FAKETIME_LIB" && test_set_prereq FAKETIME

# How many of the last windows (of 256 ms) may remain besides those of the jobs still
# held: a job is purged at the next heartbeat (0.5 s), its window closes 4 windows (1 s)
# after the newest job (ff_engine::job_dirs::CLOSED_AFTER_WINDOWS), and housekeeping
# removes its parent directory, then the window, in two rounds 1 s apart: 3.5 s, with
# half a second to spare.
SLACK=16

# window_numbers: job.AAAA.BBBB lines to "number key" lines (the number is AAAABBBB in hex).
window_numbers() {
	while read -r w; do
		h=${w#job.}
		echo "$(printf %d "0x${h%%.*}${h#*.}") $w"
	done
}

test_expect_success FAKETIME 'setup: a 1000-job workload, purging all but 10 inactive jobs' '
	flux-fiction-generate --model uniform --jobs 1000 --nodes 8 --max-nodes 4 --load 0.5 --seed 3 \
		-o w.swf &&
	ff_experiment dirs w.swf 8 1 \
		"{\"sched-fluxion-qmanager\": {\"queue-policy\": \"fcfs\"}, \"job-manager\": {\"inactive-num-limit\": 10}}" &&
	eval "$(flux-fiction-run --print-paths)" &&
	"$FF_PREPARE" dirs.toml --run-dir "$PWD/run" >prepare.out
'

test_expect_success FAKETIME 'replay, then list the KVS job directories and the jobs still held' '
	cat >inner.sh <<-\EOF &&
	set -e
	flux jobtap load "$FF_JOBTAP_SO"
	flux module load "$FF_EMU_SO" "run-dir=$(echo "$1" | sed "s/%/%25/g; s/ /%20/g")" faketime=1
	n=0
	while test "$(flux module stats ff-emu | jq -r .state)" = running; do
		n=$((n + 1))
		test $n -lt 600 || { echo "the replay did not end within 300 s" >&2; exit 1; }
		sleep 0.5
	done
	flux module stats ff-emu >stats.json
	for a in $(flux kvs ls -1 job); do flux kvs ls -1 job.$a | sed "s/^/job.$a./"; done >windows
	flux jobs -a -n -o "{id.dothex}" >held
	while read -r d; do flux kvs get --raw job.$d.jobspec >/dev/null || echo "$d"; done <held >lost
	flux dmesg | sed -n "s/.*; \([0-9]*\) empty KVS job directories removed.*/\1/p" >removed
	flux module remove ff-emu
	EOF
	eval "$(flux-fiction-run --print-paths)" &&
	export FF_EMU_SO FF_JOBTAP_SO &&
	timeout 400 env TZ=UTC LD_PRELOAD="$FAKETIME_LIB" FAKETIME="$(cat run/faketime)" FAKETIME_NO_CACHE=1 \
		FAKETIME_DONT_FAKE_MONOTONIC=1 FLUX_LOAD_WITH_DEEPBIND=0 \
		flux start -c run/instance/conf sh inner.sh "$PWD/run" &&
	jq -e ".state == \"done\" and .exit_code == 0" stats.json
'

test_expect_success FAKETIME 'no job still held lost its directory' '
	test "$(wc -l <held)" = 10 &&
	test_must_be_empty lost
'

test_expect_success FAKETIME 'job.AAAA holds only the windows of the jobs still held, and the last few' '
	sed "s/^\([0-9a-f]*\)\.\([0-9a-f]*\)\..*/job.\1.\2/" held >held.windows &&
	awk -F, "NR > 1 && \$2 != \"\" { printf \"job.%04x.%04x\\n\", int(\$2 / 2^48), int(\$2 / 2^32) % 65536 }" \
		run/output/job_transitions.csv | sort -u >all.windows &&
	window_numbers <all.windows | sort -n | cut -d" " -f1 >all.numbers &&
	oldest=$(head -1 all.numbers) newest=$(tail -1 all.numbers) &&
	if test $((newest - oldest)) -le $((2 * SLACK)); then
		echo "# its jobs span only $((newest - oldest + 1)) windows: only the removal count is checked" >&5
	fi &&
	sort -u held.windows >held.sorted &&
	window_numbers <windows | awk -v from=$((newest - SLACK)) "\$1 < from { print \$2 }" |
		sort | comm -23 - held.sorted >unexpected &&
	echo "# $(wc -l <windows) of $(wc -l <all.windows) windows left; $(cat removed) directories removed" >&5 &&
	test_must_be_empty unexpected &&
	test "$(cat removed)" -gt 0
'

test_done
