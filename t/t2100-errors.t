#!/bin/sh
test_description='bad experiments and unusable instances fail fast and say why

Malformed traces and configs, a job that can never fit and a missing trace are
refused by flux-fiction-run with a message naming the file, line and field, and
exit 1. A module loaded into an instance whose scheduler lacks sched.quiescent,
or whose job-manager lacks emu-jobtap, fails promptly with a failure.txt.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run
ff_stage_artifacts
test -x "$FF_EMU_ARTIFACTS/flux-fiction-prepare" ||
	error "flux-fiction-prepare is not in FF_EMU_ARTIFACTS=$FF_EMU_ARTIFACTS"

# Run directories for the module tests live outside the trash directory, whose
# name has a space: these tests load ff-emu by hand with a plain run-dir=DIR, and
# Flux splits module arguments at whitespace (flux-fiction-run percent-encodes).
# ./runs points there; it is removed when every test passed.
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/ff-t2100.XXXXXX") || error "mktemp failed"
ln -s "$RUNS" runs
test "$debug" = t || cleanup 'rm -rf "$RUNS"'

# config NAME TRACE [NNODES [EXTRA-TOML-LINE]]: write NAME.toml (8 cores a node).
config() {
	{
		echo '[flux_fiction]'
		echo "job_traces = \"$2\""
		echo "nnodes = ${3:-1}"
		echo 'ncpus = 8'
		test -z "$4" || printf '%s\n' "$4"
	} >"$1.toml"
}

# refused NAME: flux-fiction-run NAME.toml exits 1 within 120 s; stderr in NAME.err.
refused() {
	rm -rf "$1.run"
	test_expect_code 1 timeout 120 flux-fiction-run "$1.toml" --run-dir "$1.run" --quiet \
		>"$1.out" 2>"$1.err"
	_rc=$?
	test $_rc = 0 || sed "s/^/# $1.err: /" "$1.err" >&5
	return $_rc
}

# says NAME ERE: stderr of NAME has a line matching ERE.
says() {
	grep -E "$2" "$1.err" >/dev/null || {
		echo "# $1.err does not match /$2/:"
		sed 's/^/#   /' "$1.err"
		false
	} >&5
}

# line_of TRACE JOBID: the line number of the row of JOBID in TRACE (t/traces rows
# start with their JobID; the comments above them count as lines).
line_of() {
	grep -n "^$2," "$1" | cut -d: -f1
}

test_expect_success 'malformed Elapsed in the row of job 3: names file:line and Elapsed' '
	line=$(line_of "$FF_TRACES/one-node.csv" 3) &&
	test "$line" -gt 3 &&
	sed "${line}s/00:15:00\$/00:1x:00/" "$FF_TRACES/one-node.csv" >bad-elapsed.csv &&
	grep -n 00:1x: bad-elapsed.csv | grep -q "^$line:3," &&
	config bad-elapsed bad-elapsed.csv &&
	refused bad-elapsed &&
	says bad-elapsed "bad-elapsed\.csv:$line:.*Elapsed"
'
test_expect_success 'unknown config key: names the key and the file' '
	config unknown-key "$FF_TRACES/one-node.csv" 1 "bogus_key = 3" &&
	refused unknown-key &&
	says unknown-key "unknown-key\.toml:5:.*bogus_key"
'
test_expect_success 'wrong type (nnodes = "x"): names the key and the file' '
	config wrong-type "$FF_TRACES/one-node.csv" "\"x\"" &&
	refused wrong-type &&
	says wrong-type "wrong-type\.toml:3:.*nnodes"
'
test_expect_success 'a job that can never fit (NNodes 12 on 8 nodes): names the line' '
	line=$(line_of "$FF_TRACES/several-nodes.csv" 2) &&
	sed "${line}s/^2,3,12,/2,12,48,/" "$FF_TRACES/several-nodes.csv" >too-big.csv &&
	grep -n "^2,12,48," too-big.csv | grep -q "^$line:" &&
	config too-big too-big.csv 8 &&
	refused too-big &&
	says too-big "too-big\.csv:$line:.*nnodes=12"
'
test_expect_success 'a missing trace file: names it' '
	config missing-trace no-such-trace.csv &&
	refused missing-trace &&
	says missing-trace "missing-trace\.toml:2:.*job_traces" &&
	says missing-trace "no-such-trace\.csv"
'
test_expect_success 'a nonexistent config: exit 1 with a message' '
	test_expect_code 1 timeout 120 flux-fiction-run no-such-config.toml --quiet \
		>no-config.out 2>no-config.err &&
	grep "no-such-config\.toml.*not found" no-config.err
'

# The ff-emu module by hand in an instance with the emulated machine's config:
#   sh inner.sh RUN_DIR sched-simple  Fluxion replaced by flux-core's sched-simple
#   sh inner.sh RUN_DIR no-jobtap     Fluxion, but emu-jobtap not loaded
# It polls `flux module stats ff-emu` (at most 30 s) until the state is no longer
# running, into RUN_DIR.stats; RUN_DIR.seconds is how long that took;
# RUN_DIR.modules lists the modules ff-emu was loaded next to (sched-simple mode).
cat >inner.sh <<'EOF'
run_dir=$1 mode=$2
if test "$mode" = sched-simple; then
	flux module remove -f sched-fluxion-feasibility &&
	flux module remove sched-fluxion-qmanager &&
	flux module remove sched-fluxion-resource &&
	flux module load sched-simple &&
	flux module list >"$run_dir.modules" &&
	flux jobtap load "$FF_EMU_ARTIFACTS/emu-jobtap.so" || exit 1
fi
start=$(date +%s)
flux module load "$FF_EMU_ARTIFACTS/ff-emu.so" run-dir="$run_dir" || exit 1
while :; do
	flux module stats ff-emu >"$run_dir.stats" || exit 1
	test "$(jq -r .state "$run_dir.stats")" = running || break
	test $(($(date +%s) - start)) -lt 30 || break
	sleep 0.2
done
echo $(($(date +%s) - start)) >"$run_dir.seconds"
flux module remove ff-emu
EOF

# by_hand NAME MODE: prepare runs/NAME.run from single.toml and run inner.sh in it.
by_hand() {
	rm -rf "$RUNS/$1.run" &&
	"$FF_EMU_ARTIFACTS/flux-fiction-prepare" single.toml --run-dir "$RUNS/$1.run" >"$1.facts" &&
	timeout 120 flux start -c "$RUNS/$1.run/instance/conf" -Slog-filename="$1.broker.log" \
		sh inner.sh "$RUNS/$1.run" "$2" || {
		echo "# $1: flux start failed; $1.broker.log:"
		grep -E "\.(emerg|alert|crit|err|warning)\[" "$1.broker.log" | tail -n 20 | sed "s/^/#   /"
		false
	} >&5
}

# failed_with NAME ERE: the module failed, its error (stats and failure.txt)
# matches ERE, within 30 s.
failed_with() {
	_r=$RUNS/$1.run
	jq -c . "$_r.stats" | sed "s/^/# $1 stats: /" >&5
	test "$(jq -r .state "$_r.stats")" = failed &&
	jq -r .error "$_r.stats" | grep -E "$2" >/dev/null &&
	test -s "$_r/output/failure.txt" &&
	grep -E "$2" "$_r/output/failure.txt" >/dev/null &&
	test "$(cat "$_r.seconds")" -le 30
}

test_expect_success 'prepare a small experiment for the modules' '
	config single "$FF_TRACES/one-node.csv"
'
test_expect_success 'scheduler without sched.quiescent: ff-emu fails within 30 s' '
	by_hand simple sched-simple &&
	grep -q "^sched-simple " runs/simple.run.modules &&
	! grep -q "^sched-fluxion" runs/simple.run.modules &&
	failed_with simple "sched\.quiescent"
'
test_expect_success 'emu-jobtap not loaded: ff-emu fails naming emu-jobtap' '
	by_hand nojobtap no-jobtap &&
	failed_with nojobtap "emu-jobtap"
'

test_done
