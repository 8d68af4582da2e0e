# Flux Fiction's sharness helper. Debian's sharness.sh sources every
# $SHARNESS_TEST_SRCDIR/sharness.d/*.sh before it enters the trash directory.
#
# It finds Flux, locates the built artifacts, and starts a Flux instance to run
# the test script in. A test script looks like:
#
#   #!/bin/sh
#   test_description='...'
#   . "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"
#   ff_stage_artifacts            # only if it loads ff-emu.so / emu-jobtap.so
#   test_under_flux_instance      # re-runs this script inside `flux start`
#   test_expect_success '...' '...'
#   test_done
#
# Environment (all optional; `meson test` sets them):
#   FLUX_PREFIX          prefix of flux-core + Fluxion (default /opt/flux)
#   FF_EMU_ARTIFACTS     dir with ff-emu.so, emu-jobtap.so, flux-fiction-prepare
#                        (default: <repo>/target/ff-staged, copied from
#                        target/release by ff_stage_artifacts)
#   FF_PATHS             paths.sh the flux-fiction-* scripts source
#   FF_SHARED_DIR        the project's shared/ dir (default <repo>/../shared): not
#                        part of the repository; when it has traces/, the SHARED
#                        prereq is set and the optional cross-checks run
#   FF_INSTANCE_TIMEOUT  seconds before the whole instance is killed (default 540)
# POSIX sh: the scripts run under /bin/sh (dash).

FF_REPO=$(cd "$SHARNESS_TEST_SRCDIR/.." && pwd)

: "${FLUX_PREFIX:=/opt/flux}"
PATH=$FLUX_PREFIX/bin:$PATH
# A developer's own Flux configuration must not leak into the test instance.
unset FLUX_CONFIG FLUX_MODULE_PATH

FF_STAGED_DIR=$FF_REPO/target/ff-staged
: "${FF_EMU_ARTIFACTS:=$FF_STAGED_DIR}"
: "${FF_SHARED_DIR:=$FF_REPO/../shared}"
: "${FF_INSTANCE_TIMEOUT:=540}"
export PATH FLUX_PREFIX FF_REPO FF_EMU_ARTIFACTS FF_SHARED_DIR FF_INSTANCE_TIMEOUT
if test -n "$FF_PATHS"; then export FF_PATHS; fi

# The tests' own traces (t/traces, see the comments at their tops). Anything else a
# test replays it generates with flux-fiction-generate and a fixed seed.
FF_TRACES=$SHARNESS_TEST_SRCDIR/traces
# Only tests with the SHARED prereq may read $FF_SHARED_DIR: a fresh clone has none.
if test -d "$FF_SHARED_DIR/traces"; then test_set_prereq SHARED; fi

# Absolute path of the running script: sharness changes into the trash
# directory before the script calls test_under_flux_instance.
FF_TEST_SCRIPT=$(cd "$(dirname "$SHARNESS_TEST_FILE")" && pwd)/$(basename "$SHARNESS_TEST_FILE")

# ff_require_flux: skip the whole script when there is no usable flux.
ff_require_flux() {
	flux version >/dev/null 2>&1 && return 0
	skip_all="flux not found under FLUX_PREFIX=$FLUX_PREFIX (set FLUX_PREFIX to the flux-core prefix)"
	test_done
}

# ff_stage_artifacts: make sure FF_EMU_ARTIFACTS holds ff-emu.so and
# emu-jobtap.so. In the default staging dir they are (re)copied from cargo's
# target/release; copies, since `flux module load` names a module after the
# real file. Stops the script with instructions when they are missing.
ff_stage_artifacts() {
	if test "$FF_EMU_ARTIFACTS" = "$FF_STAGED_DIR"; then
		_ff_src=$FF_REPO/target/release
		_ff_prepare=$_ff_src/flux-fiction-prepare
		test -f "$_ff_prepare" || _ff_prepare=$_ff_src/ff-prepare
		mkdir -p "$FF_STAGED_DIR" || return 1
		for _ff_pair in "$_ff_src/libff_emu.so:ff-emu.so" \
			"$_ff_src/libemu_jobtap.so:emu-jobtap.so" \
			"$_ff_prepare:flux-fiction-prepare" \
			"$_ff_src/flux-fiction-rpc:flux-fiction-rpc" \
			"$_ff_src/flux-fiction-otel-export:flux-fiction-otel-export"; do
			_ff_from=${_ff_pair%:*}
			_ff_to=$FF_STAGED_DIR/${_ff_pair##*:}
			if test -f "$_ff_from" && ! test "$_ff_to" -nt "$_ff_from"; then
				cp "$_ff_from" "$_ff_to.tmp" && mv -f "$_ff_to.tmp" "$_ff_to" || return 1
			fi
		done
		if test -z "$FF_PATHS"; then
			FF_PATHS=$FF_STAGED_DIR/flux-fiction-paths-staged.sh
			cat >"$FF_PATHS" <<-EOF
			FLUX_PREFIX='$FLUX_PREFIX'
			FF_EMU_SO='$FF_STAGED_DIR/ff-emu.so'
			FF_JOBTAP_SO='$FF_STAGED_DIR/emu-jobtap.so'
			FF_PREPARE='$FF_STAGED_DIR/flux-fiction-prepare'
			FF_RPC='$FF_STAGED_DIR/flux-fiction-rpc'
			FF_OTEL_EXPORT='$FF_STAGED_DIR/flux-fiction-otel-export'
			EOF
			export FF_PATHS
		fi
	fi
	test -f "$FF_EMU_ARTIFACTS/ff-emu.so" && test -f "$FF_EMU_ARTIFACTS/emu-jobtap.so" &&
		return 0
	error "ff-emu.so and emu-jobtap.so are not in FF_EMU_ARTIFACTS=$FF_EMU_ARTIFACTS.
Build them with meson (meson compile -C build; then FF_EMU_ARTIFACTS=\$PWD/build),
or with cargo (FLUX_PREFIX=$FLUX_PREFIX cargo build --release -p ff-emu -p emu-jobtap -p ff-prepare -p ff-rpc
-p ff-otel-export)
and leave FF_EMU_ARTIFACTS unset to stage them from target/release."
}

# test_under_flux_instance [flux start options]: run the rest of this script
# inside a new single-broker Flux instance with the default rc (so Fluxion is
# the scheduler). The first call starts the instance and exits with the inner
# run's status; inside the instance (FF_UNDER_FLUX_INSTANCE set) it returns.
# The broker log is $SHARNESS_TEST_DIRECTORY/<test>.broker.log. The instance is
# killed after FF_INSTANCE_TIMEOUT seconds.
test_under_flux_instance() {
	test -n "$FF_UNDER_FLUX_INSTANCE" && return 0
	ff_require_flux
	_ff_log=$SHARNESS_TEST_DIRECTORY/$this_test.broker.log
	_ff_flags=
	test "$verbose" = t && _ff_flags="$_ff_flags --verbose"
	test "$debug" = t && _ff_flags="$_ff_flags --debug"
	test "$immediate" = t && _ff_flags="$_ff_flags --immediate"
	test -n "$root" && _ff_flags="$_ff_flags --root=$root"
	_ff_shell=
	test -x "$FF_TEST_SCRIPT" || _ff_shell=${SHELL_PATH:-/bin/sh}
	rm -f "$_ff_log"
	# Start from a directory that outlives the trash directory, which the
	# inner run deletes and recreates.
	cd "$SHARNESS_TEST_DIRECTORY" || error "cannot cd to $SHARNESS_TEST_DIRECTORY"
	FF_UNDER_FLUX_INSTANCE=1 timeout --kill-after=30 "$FF_INSTANCE_TIMEOUT" \
		flux start -Slog-filename="$_ff_log" "$@" \
		$_ff_shell "$FF_TEST_SCRIPT" $_ff_flags
	_ff_rc=$?
	if test $_ff_rc -eq 124 || test $_ff_rc -eq 137; then
		echo "Bail out! $this_test: Flux instance killed after ${FF_INSTANCE_TIMEOUT}s (FF_INSTANCE_TIMEOUT); broker log: $_ff_log"
	fi
	if test $_ff_rc -ne 0 && test -s "$_ff_log"; then
		echo "# $this_test: exit $_ff_rc; errors and warnings in $_ff_log:"
		grep -E '\.(emerg|alert|crit|err|warning)\[' "$_ff_log" | tail -n 20 | sed 's/^/#   /'
	fi
	EXIT_OK=t
	exit $_ff_rc
}

# ff_wait_until SECONDS CMD [ARG...]: run CMD every 0.1 s until it succeeds.
# After SECONDS (an integer), print CMD and its last output as TAP comments and
# fail. CMD is an argv (a function is fine); wrap shell code in sh -c '...'.
ff_wait_until() {
	case $1 in
	'' | *[!0-9]*) error "ff_wait_until: SECONDS must be an integer, got '$1'" ;;
	esac
	_ff_deadline=$(($(date +%s) + $1))
	_ff_secs=$1
	shift
	while :; do
		_ff_out=$("$@" 2>&1) && return 0
		test "$(date +%s)" -ge "$_ff_deadline" && break
		sleep 0.1
	done
	{
		echo "ff_wait_until: still failing after ${_ff_secs}s: $*"
		test -z "$_ff_out" || printf '%s\n' "$_ff_out" | tail -n 20
	} | sed 's/^/# /' >&5
	return 1
}

# ff_broker_rss: print the broker's resident set size in kB.
ff_broker_rss() {
	_ff_pid=$(flux getattr broker.pid) || return 1
	awk '$1 == "VmRSS:" { print $2; found = 1 } END { exit !found }' "/proc/$_ff_pid/status"
}

# Schedules of replays, for comparing with expected ones. Times are offsets from
# FF_T0 (default 1647216000 = 2022-03-14T00:00:00Z, where the t/traces scenarios start).

# ff_schedule RUN_DIR: one line per job in trace order:
#   TRACE_JOBID SUBMIT-t0 START-t0 FINISH-t0 RESULT
# (NODELIST is a quoted field with commas; it is blanked before splitting.)
ff_schedule() {
	awk -F, -v t0="${FF_T0:-1647216000}" '
		{ gsub(/"[^"]*"/, "L") }
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{
			printf "%d %d %.6f %.6f %.6f %s\n", $c["trace_idx"], $c["TRACE_JOBID"],
				$c["SUBMIT"] - t0, $c["START"] - t0, $c["FINISH"] - t0, $c["RESULT"]
		}' "$1/output/job_transitions.csv" | sort -n | cut -d" " -f2-
}

# ff_expect_jobs FIRST LAST SUBMIT START FINISH: expected ff_schedule lines for
# trace JobIDs FIRST..LAST, each completed (offsets in seconds).
ff_expect_jobs() {
	_ff_id=$1
	while test "$_ff_id" -le "$2"; do
		printf '%d %.6f %.6f %.6f completed\n' "$_ff_id" "$3" "$4" "$5"
		_ff_id=$((_ff_id + 1))
	done
}

# ff_check_schedule RUN_DIR EXPECTED: the schedule of RUN_DIR is the file
# EXPECTED; on a mismatch the diff and the job_transitions rows are shown.
ff_check_schedule() {
	ff_schedule "$1" >"$1.schedule" &&
	diff -u "$2" "$1.schedule" >"$1.schedule.diff" || {
		echo "# $1: schedule (TRACE_JOBID SUBMIT START FINISH - t0, RESULT), expected vs actual:"
		sed 's/^/#   /' "$1.schedule.diff"
		echo "# $1/output/job_transitions.csv:"
		sed 's/^/#   /' "$1/output/job_transitions.csv"
		false
	} >&5
}
