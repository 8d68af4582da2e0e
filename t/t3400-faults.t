#!/bin/sh
test_description='faults during a replay: SIGINT, the scheduler or ff-emu removed, a full disk

SIGINT to flux-fiction-run stops the replay within seconds and exits 130; the jobs
finished so far are in job_transitions.csv and summary.json (the rest not-run), the run
is marked interrupted, and no process of it is left (SIGTERM: t2400). With the scheduler
modules removed mid-replay the step times out, failure.txt names the phase it waited in,
the exit status is 1 and the partial outputs are kept. `flux module remove ff-emu`
mid-replay writes the outputs and ends the replay'\''s jobs; the module then loads again
for a new replay in the same instance (whose exec service refuses guests). A run
directory on a full filesystem (a small tmpfs, or a file-size limit where mounting is not
permitted) gives an error naming the file, exit 1, and no hang.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
ff_stage_artifacts
. "$FF_PATHS"

FF_RUNS=$PWD/runs
mkdir -p "$FF_RUNS"

# A TAP comment, printed even without --verbose.
note() {
	echo "# $*" >&5
}

# status RUN FILTER: status.json of RUN satisfies the jq FILTER (shown when it does not).
status() {
	jq -e "$2" "$FF_RUNS/$1/status.json" >/dev/null || {
		echo "# $1/status.json does not satisfy $2:" >&5
		sed 's/^/#   /' "$FF_RUNS/$1/status.json" >&5
		false
	}
}

# start_run RUN EXPERIMENT: flux-fiction-run in the background ($run_pid), with SIGINT at
# its default (a background command of a non-interactive shell starts with it ignored);
# returns once the replay has finished a job.
start_run() {
	env --default-signal=INT flux-fiction-run "$2.toml" --run-dir "$FF_RUNS/$1" --quiet \
		>"$1.out" 2>"$1.err" &
	run_pid=$!
	ff_wait_until 120 jq -e '.state == "running" and .progress.finished > 0' "$FF_RUNS/$1/status.json"
}

# exited PID: the process is gone or a zombie.
exited() {
	case $(ps -o stat= -p "$1") in
	Z* | '') return 0 ;;
	esac
	return 1
}

# end_of_run SECONDS: waits for flux-fiction-run to exit (at most SECONDS); its exit status
# is $run_rc, and $run_seconds how long it took since $run_stopped (date +%s).
end_of_run() {
	ff_wait_until "$1" exited $run_pid || return 1
	wait $run_pid
	run_rc=$?
	run_seconds=$(($(date +%s) - run_stopped))
}

# Module arguments are split at spaces (the trash directory has one): percent-encode.
encode() {
	printf '%s' "$1" | sed 's/%/%25/g; s/ /%20/g'
}

# flux-core's testing support: the instance owner's connection may claim another user
# and role (FLUX_HANDLE_USERID, FLUX_HANDLE_ROLEMASK; 0x2 is FLUX_ROLE_USER).
as_guest() {
	FLUX_HANDLE_ROLEMASK=0x2 FLUX_HANDLE_USERID=$(($(id -u) + 1)) "$@"
}
# guest.py TOPIC...: send each TOPIC a request ({}), print how it was answered.
cat >guest.py <<'EOF'
import errno, sys
import flux

h = flux.Flux()
for topic in sys.argv[1:]:
    try:
        h.rpc(topic, {}).wait_for(10).get()
        print(topic, "answered")
    except OSError as e:
        print(topic, errno.errorcode.get(e.errno, e.errno), e.strerror)
EOF

test_expect_success 'setup: 3000 jobs on 4 nodes (minutes of replay), 400 jobs, 20 jobs' '
	flux-fiction-generate --model uniform --jobs 3000 --nodes 4 --seed 3 --mean-interarrival 60 \
		--max-runtime 600 -o long.swf &&
	ff_experiment long long.swf 4 1 "$(ff_queue_policy fcfs)" &&
	ff_experiment nosched long.swf 4 1 "$(ff_queue_policy fcfs)" "step_timeout = 3" &&
	flux-fiction-generate --model uniform --jobs 400 --nodes 4 --seed 5 --mean-interarrival 60 \
		--max-runtime 600 -o full.swf &&
	ff_experiment full full.swf 4 1 "$(ff_queue_policy fcfs)" &&
	flux-fiction-generate --model uniform --jobs 20 --nodes 4 --seed 4 --mean-interarrival 60 \
		--max-runtime 600 -o short.swf &&
	ff_experiment short short.swf 4 1 "$(ff_queue_policy fcfs)"
'

test_expect_success 'SIGINT: the replay stops within seconds; flux-fiction-run exits 130' '
	start_run int long &&
	kill -INT $run_pid &&
	run_stopped=$(date +%s) &&
	ff_wait_until 5 test -f "$FF_RUNS/int/output/summary.json" &&
	note "replay stopped $(($(date +%s) - run_stopped)) s after SIGINT" &&
	end_of_run 60 &&
	note "flux-fiction-run exited $run_rc, $run_seconds s after SIGINT (the instance shuts down)" &&
	test $run_rc -eq 130
'
test_expect_success 'SIGINT: the run is marked interrupted, in status.json and failure.txt' '
	status int ".state == \"interrupted\" and .return_code == 130" &&
	status int ".failure_reason == \"interrupted by SIGINT\" and .progress.finished > 0" &&
	head -n1 "$FF_RUNS/int/output/failure.txt" >int.reason &&
	grep "^interrupted: ff-emu was removed before the replay ended" int.reason
'
test_expect_success 'SIGINT: job_transitions.csv and summary.json hold every finished job, the rest not-run' '
	ff_holds_finished_jobs "$FF_RUNS/int" 3000 &&
	test $(($(wc -l <"$FF_RUNS/int/output/job_transitions.csv") - 1)) -ge \
		$(jq .progress.finished "$FF_RUNS/int/status.json")
'
test_expect_success 'SIGINT: no broker or other process of the run is left' '
	! pgrep -af -- "$FF_RUNS/int"
'

test_expect_success 'the scheduler removed mid-replay: the step fails, exit 1' '
	start_run nosched nosched &&
	pid=$(pgrep -o -f -- "--inner $FF_RUNS/nosched ") &&
	uri=$(flux uri "pid:$pid") &&
	run_stopped=$(date +%s) &&
	FLUX_URI=$uri flux module remove sched-fluxion-qmanager &&
	FLUX_URI=$uri flux module remove sched-fluxion-resource &&
	end_of_run 60 &&
	note "flux-fiction-run exited $run_rc, $run_seconds s after the scheduler was removed" &&
	test $run_rc -eq 1 &&
	status nosched ".state == \"failed\" and .return_code == 1"
'
# The barrier waits in job-manager.alloc-query (the job-manager sends no alloc request
# without a scheduler) until the step times out; a probe that was in flight when the
# scheduler went is answered ENOSYS, which fails the step at once, naming it.
test_expect_success 'the scheduler removed: failure.txt names the phase that was waited in' '
	failure=$FF_RUNS/nosched/output/failure.txt &&
	head -n1 "$failure" >nosched.reason &&
	note "$(cat nosched.reason)" &&
	grep -E "^timed out after 3 s waiting for step [0-9]+ \(waiting for [^)]+\)|^sched.quiescent failed" \
		nosched.reason &&
	grep -E "^step part: (Releases|Arrivals); barrier: waiting for " "$failure"
'
test_expect_success 'the scheduler removed: the partial outputs are kept' '
	ff_holds_finished_jobs "$FF_RUNS/nosched" 3000 &&
	test -s "$FF_RUNS/nosched/output/utilization.csv" &&
	! pgrep -af -- "$FF_RUNS/nosched"
'

test_expect_success 'setup: an instance of the 4 nodes (laid out by flux-fiction-prepare), plugins loaded' '
	"$FF_PREPARE" long.toml --run-dir "$FF_RUNS/removed" >/dev/null &&
	"$FF_PREPARE" short.toml --run-dir "$FF_RUNS/again" >/dev/null &&
	{ flux start -c "$FF_RUNS/removed/instance/conf" sh -c "echo \$FLUX_URI >uri; sleep 120" \
		>instance.log 2>&1 & } &&
	instance_pid=$! &&
	ff_wait_until 60 test -s uri &&
	FLUX_URI=$(cat uri) &&
	export FLUX_URI &&
	flux jobtap load "$FF_JOBTAP_SO" &&
	flux module load "$FF_EMU_SO" "run-dir=$(encode "$FF_RUNS/removed")"
'
# module_stats FILTER: the module's stats satisfy the jq FILTER.
module_stats() {
	flux module stats ff-emu | jq -e "$1" >/dev/null
}
test_expect_success 'guests: the replay'\''s exec service and stats answer EPERM' '
	ff_wait_until 60 module_stats ".finished > 0" &&
	as_guest flux python guest.py ff-emu.start ff-emu.expiration ff-emu.stats-get >guest.out &&
	cat >guest.expected <<-\EOF &&
	ff-emu.start EPERM Request requires owner credentials
	ff-emu.expiration EPERM Request requires owner credentials
	ff-emu.stats-get EPERM Request requires owner credentials
	EOF
	test_cmp guest.expected guest.out &&
	module_stats ".state == \"running\""
'
test_expect_success 'flux module remove ff-emu mid-replay: the outputs are written, the run interrupted' '
	start=$(date +%s) &&
	flux module remove ff-emu &&
	note "flux module remove took $(($(date +%s) - start)) s" &&
	! flux module list | grep "^ff-emu " &&
	head -n1 "$FF_RUNS/removed/output/failure.txt" >removed.reason &&
	grep "^interrupted: ff-emu was removed before the replay ended" removed.reason &&
	ff_holds_finished_jobs "$FF_RUNS/removed" 3000 &&
	test -s "$FF_RUNS/removed/output/report.html"
'
no_active_jobs() {
	_active=$(flux jobs -n -o "{id} {state} {t_submit}") && test -z "$_active" || {
		echo "$_active"
		for _id in $(echo "$_active" | cut -d" " -f1); do flux job eventlog "$_id"; done
		false
	}
}
test_expect_success 'the replay removed left no job waiting or running in the instance' '
	ff_wait_until 10 no_active_jobs &&
	flux jobs -a -n -o "{result}" | sort | uniq -c >removed.results &&
	note "$(tr -s " \n" " " <removed.results)" &&
	flux jobs -a -n -o "{result}" | grep -qx CANCELED
'
replay_over() {
	module_stats ".state != \"running\""
}
test_expect_success 'ff-emu loads again in the same instance and replays a new run to its end' '
	flux module load "$FF_EMU_SO" "run-dir=$(encode "$FF_RUNS/again")" &&
	ff_wait_until 60 replay_over &&
	module_stats ".state == \"done\" and .exit_code == 0 and .finished == 20 and .jobs_total == 20" &&
	jq -e ".jobs_completed == 20" "$FF_RUNS/again/output/summary.json" &&
	test ! -e "$FF_RUNS/again/output/failure.txt" &&
	flux module remove ff-emu &&
	flux jobtap remove emu-jobtap.so
'
test_expect_success 'the instance shuts down' '
	kill -TERM $instance_pid &&
	ff_wait_until 60 exited $instance_pid &&
	unset FLUX_URI
'

# A file system that fills up: a 200 kB tmpfs holds the run directory (inputs, config,
# logs) with room for the first ~100 jobs of eventlog.csv. Without the right to mount,
# a file-size limit (60 kB) does it, with SIGXFSZ ignored so that writes fail with EFBIG
# instead of killing the broker.
mkdir small
if mount -t tmpfs -o size=200k tmpfs small 2>/dev/null && umount small; then
	test_set_prereq TMPFS
fi
# full_disk_run DIR [WRAPPER...]: replays full.toml into DIR; it must stop at once with a
# clear error naming the file that could not be written, exit 1, status.json failed.
full_disk_run() {
	_dir=$1
	shift
	_start=$(date +%s)
	"$@" timeout 120 flux-fiction-run full.toml --run-dir "$_dir" --quiet >full.out 2>full.err
	_rc=$?
	note "a full disk: exit $_rc after $(($(date +%s) - _start)) s"
	test $_rc -eq 1 &&
	cat full.out full.err | grep -F "flux-fiction-run: replay failed: could not write $_dir/output/" >full.reason &&
	grep -E ": (No space left on device|File too large) \(os error [0-9]+\)$" full.reason &&
	jq -e ".state == \"failed\" and .return_code == 1 and (.failure_reason | contains(\"$_dir/output/\"))" \
		"$_dir/status.json"
}
test_expect_success TMPFS 'a run directory on a full filesystem (200 kB tmpfs): the file is named, exit 1' '
	mount -t tmpfs -o size=200k tmpfs small &&
	test_when_finished "umount small" &&
	full_disk_run "$PWD/small/run"
'
test_expect_success !TMPFS 'a run directory under a 60 kB file-size limit: the file is named, exit 1' '
	full_disk_run "$FF_RUNS/limited" bash -c "trap \"\" XFSZ; ulimit -f 60; exec \"\$@\"" limited
'

test_done
