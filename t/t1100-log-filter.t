#!/bin/sh
test_description='ff-log-filter.so drops log messages above the level where they are made

Fluxion'"'"'s qmanager logs a debug line for each job it holds whenever it answers
sched.quiescent. In an instance whose broker keeps debug messages, with ff-log-filter.so
preloaded at FF_LOG_LEVEL=6, none of those lines reach the broker while info lines
still do; without the library they all do. flux-fiction-run preloads it into the broker
of every replay, at the replay'"'"'s --log-level.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate jq

eval "$(flux-fiction-run --print-paths)"

# probe_log NAME [ENV...]: a new instance (started with ENV) holds one job and queues
# another behind it; a sched.quiescent request is answered; NAME.dmesg gets the broker's
# ring buffer (which keeps every level: log-level 7 is the default).
probe_log() {
	_name=$1
	shift
	cat >probe.sh <<-EOF
	set -e
	flux submit --wait-event=start -N1 --exclusive --setattr=system.exec.test.run_duration=60s true >/dev/null
	flux submit -N1 --exclusive --setattr=system.exec.test.run_duration=1s true >/dev/null
	"$FF_RPC" sched.quiescent "{}" >quiescent.out
	flux dmesg >"$_name.dmesg"
	flux cancel --all >/dev/null 2>&1
	EOF
	timeout 120 env "$@" flux start sh probe.sh
}

test_expect_success 'without the filter the scheduler'"'"'s debug lines reach the broker' '
	probe_log plain &&
	jq -e ".alloc_current == 1" quiescent.out &&
	grep "sched-fluxion-qmanager.debug.*\[quiescent\]" plain.dmesg >lines &&
	test "$(wc -l <lines)" -ge 2
'

test_expect_success 'with the filter at level 6 none do, and info lines still do' '
	probe_log filtered LD_PRELOAD="$FF_LOG_FILTER_SO" FF_LOG_LEVEL=6 &&
	jq -e ".alloc_current == 1" quiescent.out &&
	! grep "sched-fluxion-qmanager.debug" filtered.dmesg &&
	grep "sched-fluxion-resource.info.*version" filtered.dmesg
'

test_expect_success 'with the filter at level 7 nothing is dropped' '
	probe_log all LD_PRELOAD="$FF_LOG_FILTER_SO" FF_LOG_LEVEL=7 &&
	grep "sched-fluxion-qmanager.debug.*\[quiescent\]" all.dmesg
'

test_expect_success 'processes the broker starts inherit it, Python ones too, and still log' '
	cat >py.sh <<-\EOF &&
	LD_PRELOAD="$FF_LOG_FILTER_SO" FF_LOG_LEVEL=6 flux python -c "import flux
	h = flux.Flux()
	h.log(3, \"ff-py-err\")
	h.log(7, \"ff-py-debug\")"
	flux dmesg >py.dmesg
	EOF
	FF_LOG_FILTER_SO=$FF_LOG_FILTER_SO timeout 60 flux start sh py.sh &&
	grep "ff-py-err" py.dmesg &&
	! grep "ff-py-debug" py.dmesg
'

test_expect_success 'a replay'"'"'s broker has the filter loaded' '
	flux-fiction-generate --model uniform --jobs 50 --nodes 4 --seed 2 -o w.swf &&
	ff_experiment filter w.swf 4 1 "{}" &&
	timeout 120 flux-fiction-run filter.toml --run-dir "$PWD/run" --quiet --pause-at 0 >run.out 2>&1 &
	echo $! >run.pid &&
	ff_wait_until 60 jq -e ".pause == \"paused\"" run/status.json &&
	uri=$(jq -r .uri run/status.json) &&
	pid=$(FLUX_URI=$uri flux getattr broker.pid) &&
	grep -q "ff-log-filter.so" "/proc/$pid/maps" &&
	tr "\0" "\n" <"/proc/$pid/environ" | grep -x FF_LOG_LEVEL=6 &&
	flux-fiction-ctl --run-dir run resume &&
	wait "$(cat run.pid)"
'

test_done
