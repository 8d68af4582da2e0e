#!/bin/sh
test_description='harness sanity: a Flux instance with Fluxion runs jobs

Checks what every broker test relies on: test_under_flux_instance gives a
working single-broker instance, Fluxion (the TauferLab fork) is its scheduler
and answers sched.quiescent, and the helper functions behave.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

test_under_flux_instance

test_expect_success 'the test runs inside its own instance' '
	test -n "$FF_UNDER_FLUX_INSTANCE" &&
	test "$(flux getattr size)" = 1 &&
	test -s "$SHARNESS_TEST_DIRECTORY/$this_test.broker.log"
'
test_expect_success 'a job runs to completion' '
	flux run -n1 true
'
test_expect_success 'a job under the test exec service reaches clean' '
	id=$(flux submit -n1 --setattr=system.exec.test.run_duration=0.1s true) &&
	flux job wait-event -t 30 $id clean &&
	flux job eventlog $id | grep -q "finish status=0"
'
test_expect_success 'Fluxion is the scheduler' '
	flux module list >modules &&
	grep -q "^sched-fluxion-qmanager " modules &&
	grep -q "^sched-fluxion-resource " modules
'
test_expect_success 'sched.quiescent answers status 0 (the TauferLab fork)' '
	flux python -c "
import flux
resp = flux.Flux().rpc(\"sched.quiescent\").get()
assert resp[\"status\"] == 0, resp
print(resp)
" >quiescent.out &&
	grep -q alloc_current quiescent.out
'
test_expect_success 'ff_broker_rss prints a size in kB' '
	rss=$(ff_broker_rss) &&
	test "$rss" -gt 1000
'
test_expect_success 'ff_wait_until polls until the command succeeds' '
	(sleep 1 && touch ready) &
	ff_wait_until 10 test -f ready
'
test_expect_success 'ff_wait_until fails after its timeout' '
	test_must_fail ff_wait_until 1 test -f never
'
if command -v flux-fiction-run >/dev/null 2>&1; then
	test_set_prereq FF_RUN
fi
test_expect_success FF_RUN 'flux-fiction-run finds the staged artifacts' '
	flux-fiction-run --print-paths >paths &&
	for var in FF_EMU_SO FF_JOBTAP_SO FF_PREPARE FF_RPC FF_OTEL_EXPORT; do
		test -f "$(sed -n "s/^$var=//p" paths)" || return 1
	done
'
test_done
