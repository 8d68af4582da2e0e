#!/bin/sh
test_description='ff-emu.so and emu-jobtap.so load, answer, unload and fail cleanly

Both plugins load and unload 50 times in one instance without a crash or
growth in broker memory; the module answers stats while idle; the jobtap
counts transitions of real jobs run with flux-core test execution
(attributes.system.exec.test) and streams them to a watcher; a watcher that
goes away without watch-cancel is dropped; guests get EPERM from both plugins;
bad module arguments and a jobtap conf fail cleanly and leave the broker
healthy; an instance shuts down without an abort with the module still loaded.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_stage_artifacts
test_under_flux_instance

EMU_SO=$FF_EMU_ARTIFACTS/ff-emu.so
JOBTAP_SO=$FF_EMU_ARTIFACTS/emu-jobtap.so
TEST_EXEC=--setattr=system.exec.test.run_duration

# A TAP comment, printed even without --verbose.
note() {
	echo "# $*" >&5
}

# jobtap_status: the plugin's status, as compact JSON with sorted keys.
jobtap_status() {
	flux python -c '
import json, flux
print(json.dumps(flux.Flux().rpc("job-manager.emu-jobtap.status", {}).get(), sort_keys=True, separators=(",", ":")))
'
}

# expect_counts NEW SCHED ALLOC START INACTIVE WATCHERS: the status JSON.
expect_counts() {
	printf '{"counts":{"alloc":%d,"inactive":%d,"new":%d,"sched":%d,"start":%d},"watchers":%d}\n' \
		"$3" "$5" "$1" "$2" "$4" "$6"
}

# no_watchers: the plugin has no open watch stream.
no_watchers() {
	jobtap_status >watchers.status &&
	jq -e ".watchers == 0" watchers.status
}

# module_stats: `flux module stats ff-emu`, compact with sorted keys.
module_stats() {
	flux module stats ff-emu >stats.raw && jq -c -S . stats.raw
}

# job_has_event ID EVENT: ID's eventlog has an EVENT entry.
job_has_event() {
	flux job eventlog "$1" | awk -v e="$2" '$2 == e { found = 1 } END { exit !found }'
}

# bad_module_load PATTERN ARG...: `flux module load ff-emu.so ARG...` fails
# (non-zero, not a signal) with EINVAL, and the broker log has an ff-emu.err
# line matching PATTERN (which names the bad argument).
bad_module_load() {
	_pattern=$1
	shift
	flux dmesg -C &&
	test_must_fail flux module load "$EMU_SO" "$@" 2>load.err &&
	flux dmesg >load.dmesg &&
	grep -E "ff-emu\.err\[0\]: .*$_pattern" load.dmesg &&
	grep -x "flux-module: load $EMU_SO: Invalid argument" load.err &&
	! flux module list | grep -q "^ff-emu "
}

idle_stats='{"error":null,"exit_code":null,"failed_jobs":0,"finished":0,"jobs_total":0,"pause":"running","run_dir":null,"sim_time":null,"started":0,"state":"idle","steps":0,"submitted":0}'

# watch.py MODE: open a job-manager.emu-jobtap.watch stream and check it.
#   jobs    submit job A (completes) and job B (held, so it never gets an
#           allocation; canceled after its sched transition), print every
#           transition for A and B (in order, per job), then end the stream
#           with watch-cancel;
#   remove  remove the plugin while the stream is open;
#   disconnect  another client opens a stream and exits without watch-cancel; this
#           one's stream stays open, then ends with watch-cancel.
# Either way the stream must end with ENODATA.
cat >watch.py <<'EOF'
import errno, json, sys
import flux, flux.job
from flux.job import JobspecV1

h = flux.Flux()
mode = sys.argv[1]
f = h.rpc("job-manager.emu-jobtap.watch", {}, flags=flux.constants.FLUX_RPC_STREAMING)
print("handshake", json.dumps(f.wait_for(10).get(), sort_keys=True))
f.reset()
status = h.rpc("job-manager.emu-jobtap.status", {}).get()
print("watchers", status["watchers"])

def next_batch():
    try:
        batch = f.wait_for(30).get()
    except OSError as e:
        return e.errno
    f.reset()
    return batch

if mode == "jobs":
    js = JobspecV1.from_command(["true"])
    js.setattr("system.exec.test.run_duration", "0.01s")
    a = flux.job.submit(h, js)
    b = flux.job.submit(h, js, urgency=flux.constants.FLUX_JOB_URGENCY_HOLD)
    name = {int(a): "A", int(b): "B"}
    seen = {"A": [], "B": []}
    inactive = set()
    while len(inactive) < 2:
        batch = next_batch()
        if not isinstance(batch, dict):
            sys.exit("stream ended early: errno %d" % batch)
        for t in batch["transitions"]:
            job = name.get(t["id"])
            if job is None:
                sys.exit("transition for an unexpected job: %s" % t)
            if not isinstance(t["t"], (int, float)) or t["t"] <= 0:
                sys.exit("bad timestamp: %s" % t)
            seen[job].append(t)
            if t["state"] == "sched" and job == "B":
                flux.job.cancel(h, b)
            if t["state"] == "inactive":
                inactive.add(job)
    for job in ("A", "B"):
        ts = seen[job]
        for t in ts:
            print(job, t["state"], t.get("result", "-"))
        if len(ts) == 2 and ts[1]["t"] < ts[0]["t"]:
            sys.exit("%s: inactive before sched: %s" % (job, ts))
    # As ff-emu sends it: a request without a response.
    h.rpc("job-manager.emu-jobtap.watch-cancel", {}, flags=flux.constants.FLUX_RPC_NORESPONSE)
elif mode == "remove":
    h.rpc("job-manager.jobtap", {"remove": "emu-jobtap.so"}).get()
elif mode == "disconnect":
    import subprocess, time
    other = "import flux; flux.Flux().rpc('job-manager.emu-jobtap.watch', {}, flags=%d).wait_for(10).get()"
    subprocess.run(["flux", "python", "-c", other % flux.constants.FLUX_RPC_STREAMING], check=True)
    deadline = time.time() + 10
    while h.rpc("job-manager.emu-jobtap.status", {}).get()["watchers"] != 1 and time.time() < deadline:
        time.sleep(0.1)
    print("other client gone: watchers", h.rpc("job-manager.emu-jobtap.status", {}).get()["watchers"])
    h.rpc("job-manager.emu-jobtap.watch-cancel", {}, flags=flux.constants.FLUX_RPC_NORESPONSE)
end = next_batch()
print("end", errno.errorcode.get(end, end) if isinstance(end, int) else end)
EOF

test_expect_success 'ff-emu loads idle and its stats answer' '
	flux module load "$EMU_SO" &&
	flux module list >modules &&
	grep "^ff-emu " modules &&
	module_stats >stats &&
	echo "$idle_stats" >stats.expected &&
	test_cmp stats.expected stats
'
test_expect_success 'ff-emu refuses a second load while loaded; the first stays' '
	test_must_fail flux module load "$EMU_SO" 2>second.err &&
	grep "File exists" second.err &&
	module_stats >stats &&
	test_cmp stats.expected stats
'
test_expect_success 'emu-jobtap loads (no active jobs) and answers zero counts' '
	test "$(flux jobs -n -o "{id}" | wc -l)" -eq 0 &&
	flux jobtap load "$JOBTAP_SO" &&
	flux jobtap list >jobtap.list &&
	grep -x emu-jobtap.so jobtap.list &&
	jobtap_status >status &&
	expect_counts 0 0 0 0 0 0 >status.expected &&
	test_cmp status.expected status
'
test_expect_success 'jobs under test execution: 4 complete, 1 canceled running, 1 held, 1 in depend' '
	for i in 1 2 3 4; do
		flux submit $TEST_EXEC=0.01s true >>completed.ids || return 1
	done &&
	running=$(flux submit $TEST_EXEC=60s true) &&
	flux job wait-event -t 30 $running start &&
	flux cancel $running &&
	held=$(flux submit --urgency=hold $TEST_EXEC=0.01s true) &&
	flux job wait-event -t 30 $held priority &&
	depend=$(flux submit --begin-time=+1h $TEST_EXEC=0.01s true) &&
	flux job wait-event -t 30 $depend dependency-add &&
	flux cancel $held $depend &&
	for id in $(cat completed.ids) $running $held $depend; do
		flux job wait-event -t 30 $id clean || return 1
	done &&
	echo $running >running.id &&
	echo $held >held.id &&
	echo $depend >depend.id
'
test_expect_success 'the jobs did what the counts below assume' '
	for id in $(cat completed.ids); do
		test "$(flux jobs -n -o "{result}" $id)" = COMPLETED || return 1
	done &&
	for id in $(cat running.id held.id depend.id); do
		test "$(flux jobs -n -o "{result}" $id)" = CANCELED || return 1
	done &&
	job_has_event $(cat running.id) start &&
	job_has_event $(cat held.id) priority &&
	! job_has_event $(cat held.id) alloc &&
	! job_has_event $(cat depend.id) priority
'
# new: all 7; sched: all but the one in depend (6); alloc and start: the 4
# completed and the one canceled while running (5); inactive: all 7.
test_expect_success 'jobtap counts match the jobs exactly' '
	jobtap_status >status &&
	expect_counts 7 6 5 5 7 0 >status.expected &&
	test_cmp status.expected status
'
test_expect_success 'ff-emu loaded idle did not take over exec: its stats are unchanged' '
	module_stats >stats &&
	test_cmp stats.expected stats
'
test_expect_success 'a watcher gets sched and inactive (completed, canceled) for its jobs' '
	flux python watch.py jobs >watch.out &&
	cat >watch.expected <<-\EOF &&
	handshake {"transitions": []}
	watchers 1
	A sched -
	A inactive completed
	B sched -
	B inactive canceled
	end ENODATA
	EOF
	test_cmp watch.expected watch.out
'
# A adds one to every count, B (held, canceled) to new, sched and inactive.
test_expect_success 'watch-cancel dropped the watcher; the counts went on (7+2 jobs)' '
	jobtap_status >status &&
	expect_counts 9 8 6 6 9 0 >status.expected &&
	test_cmp status.expected status
'
test_expect_success 'removing emu-jobtap ends an open watch stream with ENODATA' '
	flux python watch.py remove >remove.out &&
	cat >remove.expected <<-\EOF &&
	handshake {"transitions": []}
	watchers 1
	end ENODATA
	EOF
	test_cmp remove.expected remove.out &&
	! flux jobtap list | grep emu-jobtap
'
test_expect_success 'a reloaded emu-jobtap counts from zero' '
	flux jobtap load "$JOBTAP_SO" &&
	jobtap_status >status &&
	expect_counts 0 0 0 0 0 0 >status.expected &&
	test_cmp status.expected status
'
# The broker tells the plugin when a client goes away: a `disconnect` request with the
# client's route, to job-manager.emu-jobtap.disconnect (its watch topic with the last word
# replaced). The client below opens a stream and exits without watch-cancel.
test_expect_success 'a watcher that disconnects without watch-cancel is dropped' '
	flux python -c "
import flux
f = flux.Flux().rpc(\"job-manager.emu-jobtap.watch\", {}, flags=flux.constants.FLUX_RPC_STREAMING)
print(f.wait_for(10).get())
" &&
	flux run -n1 $TEST_EXEC=0.01s true &&
	ff_wait_until 10 no_watchers
'
test_expect_success 'a disconnect drops only the streams of the client that went away' '
	flux python watch.py disconnect >disconnect.out &&
	cat >disconnect.expected <<-\EOF &&
	handshake {"transitions": []}
	watchers 1
	other client gone: watchers 1
	end ENODATA
	EOF
	test_cmp disconnect.expected disconnect.out &&
	no_watchers
'
# flux-core's testing support: the instance owner's connection may claim another user
# and role (FLUX_HANDLE_USERID, FLUX_HANDLE_ROLEMASK; 0x2 is FLUX_ROLE_USER).
guest_uid=$(($(id -u) + 1))
as_guest() {
	FLUX_HANDLE_ROLEMASK=0x2 FLUX_HANDLE_USERID=$guest_uid "$@"
}
# guest.py TOPIC...: send each TOPIC a request ({}), print how it was answered.
cat >guest.py <<'EOF'
import errno, sys
import flux

h = flux.Flux()
for topic in sys.argv[1:]:
    flags = flux.constants.FLUX_RPC_STREAMING if topic.endswith(".watch") else 0
    try:
        h.rpc(topic, {}, flags=flags).wait_for(10).get()
        print(topic, "answered")
    except OSError as e:
        print(topic, errno.errorcode.get(e.errno, e.errno), e.strerror)
EOF
test_expect_success 'guests: every emu-jobtap method answers EPERM and opens no stream' '
	as_guest flux python guest.py job-manager.emu-jobtap.watch job-manager.emu-jobtap.watch-cancel \
		job-manager.emu-jobtap.status >guest.out &&
	cat >guest.expected <<-\EOF &&
	job-manager.emu-jobtap.watch EPERM Request requires owner credentials
	job-manager.emu-jobtap.watch-cancel EPERM Request requires owner credentials
	job-manager.emu-jobtap.status EPERM Request requires owner credentials
	EOF
	test_cmp guest.expected guest.out &&
	no_watchers
'
test_expect_success 'guests: ff-emu stats-get answers EPERM; the owner still gets the stats' '
	as_guest flux python guest.py ff-emu.stats-get >guest.out &&
	echo "ff-emu.stats-get EPERM Request requires owner credentials" >guest.expected &&
	test_cmp guest.expected guest.out &&
	module_stats >stats &&
	test_cmp stats.expected stats
'
test_expect_success 'both plugins unload' '
	flux module remove ff-emu &&
	flux jobtap remove emu-jobtap.so &&
	test_must_fail flux module stats ff-emu &&
	! flux jobtap list | grep emu-jobtap
'
# Measured: the broker RSS grows by ~0.7 MB over the first ~35 module loads,
# then stays flat within a few kB per 50 cycles (and a stock C module, cron
# loaded under another name, shows the same shape, smaller). Each module load
# is a new broker thread that glibc attaches, round-robin, to one of its
# 8 x cores malloc arenas, and each arena grows once. The bound leaves room for
# that warm-up on more cores and catches a leak of ~30 kB or more per cycle.
test_expect_success 'both plugins load and unload 50 times; the broker RSS stays flat' '
	flux module list | awk "NR > 1 { print \$1 }" | sort >modules.before &&
	flux jobtap list >jobtap.before &&
	i=0 &&
	while test $i -lt 50; do
		i=$((i + 1)) &&
		flux module load "$EMU_SO" &&
		module_stats >stats &&
		test_cmp stats.expected stats &&
		flux module remove ff-emu &&
		flux jobtap load "$JOBTAP_SO" &&
		if test $i -eq 1 || test $i -eq 50; then
			jobtap_status >status &&
			test_cmp status.expected status
		fi &&
		flux jobtap remove emu-jobtap.so || return 1
		if test $i -eq 5; then
			rss5=$(ff_broker_rss) || return 1
		fi
	done &&
	rss50=$(ff_broker_rss) &&
	note "broker RSS after 5 cycles: $rss5 kB; after 50: $rss50 kB;" \
		"growth $((rss50 - rss5)) kB (bound 2048 kB)" &&
	test $((rss50 - rss5)) -lt 2048
'
test_expect_success 'after the cycles, the module and jobtap lists are as before' '
	flux module list | awk "NR > 1 { print \$1 }" | sort >modules.after &&
	test_cmp modules.before modules.after &&
	flux jobtap list >jobtap.after &&
	test_cmp jobtap.before jobtap.after &&
	test_must_fail flux module stats ff-emu
'
test_expect_success 'after the cycles, a job still runs' '
	flux run -n1 true
'
test_expect_success 'bad module argument: unknown key' '
	bad_module_load "unknown argument .bogus." bogus=1
'
test_expect_success 'bad module argument: no value' '
	bad_module_load "argument .run-dir. is not key=value" run-dir
'
test_expect_success 'bad module argument: empty value' '
	bad_module_load "argument .run-dir. has an empty value" run-dir=
'
test_expect_success 'bad module argument: run-dir twice' '
	bad_module_load "argument .run-dir. given twice" run-dir=/a run-dir=/b
'
test_expect_success 'bad module argument: faketime without run-dir' '
	bad_module_load "argument .faketime. needs .run-dir." faketime=1
'
test_expect_success 'bad module argument: run-dir without a config file' '
	bad_module_load "/nonexistent/config.toml" run-dir=/nonexistent
'
test_expect_success 'emu-jobtap refuses a conf' '
	flux dmesg -C &&
	test_must_fail flux jobtap load "$JOBTAP_SO" foo=1 &&
	flux dmesg >jobtap.dmesg &&
	grep "job-manager.err\[0\]: emu-jobtap: .*takes no arguments" jobtap.dmesg &&
	! flux jobtap list | grep emu-jobtap
'
test_expect_success 'after the bad loads: ff-emu is not loaded and the broker is healthy' '
	test_must_fail flux module stats ff-emu 2>stats.err &&
	grep "No service matching ff-emu.stats-get" stats.err &&
	flux module list | awk "NR > 1 { print \$1 }" | sort >modules.after &&
	test_cmp modules.before modules.after &&
	flux ping -c 1 broker &&
	flux run -n1 true
'
test_expect_success 'ff-emu still loads and answers after the bad loads' '
	flux module load "$EMU_SO" &&
	module_stats >stats &&
	test_cmp stats.expected stats &&
	flux module remove ff-emu
'
# flux-core unloads the modules its rc3 knows; one it does not know (ff-emu)
# is still loaded when the broker exits, so the broker logs that it "was not
# properly shut down", cancels the module thread (which takes ~10 s in
# flux-core 0.88, with any module) and exits 1. That is the only error allowed.
test_expect_success 'an instance with ff-emu (and emu-jobtap) loaded shuts down without an abort' '
	start=$(date +%s) &&
	rc=0 &&
	{
		timeout --kill-after=10 90 flux start -Slog-filename="$PWD/nested.log" \
			sh -c "flux module load \"$EMU_SO\" &&
				flux jobtap load \"$JOBTAP_SO\" &&
				flux module stats ff-emu >nested.stats" \
			>nested.out 2>&1 || rc=$?
	} &&
	elapsed=$(($(date +%s) - start)) &&
	note "nested instance with ff-emu loaded: exit $rc after ${elapsed}s" &&
	jq -e ".state == \"idle\"" nested.stats &&
	{ test $rc -eq 0 || test $rc -eq 1; } &&
	test $elapsed -lt 60 &&
	! grep -E "SIGABRT|SIGSEGV|[Cc]ore dumped|Aborted|abort\(|panicked|Segmentation" \
		nested.out nested.log &&
	grep -E "\.(emerg|alert|crit|err)\[" nested.log | sed "s/^.* UTC [0-9]* //" >nested.errors &&
	if test $rc -eq 1; then
		echo "broker.err[0]: broker module '\''ff-emu'\'' was not properly shut down" >nested.errors.expected
	else
		: >nested.errors.expected
	fi &&
	test_cmp nested.errors.expected nested.errors
'
test_done
