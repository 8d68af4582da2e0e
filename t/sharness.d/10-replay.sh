# Replays for the broker tests: experiment configs and flux-fiction-run with a
# diagnostic on failure. Runs live under $FF_RUNS (default: the trash directory's runs/).

# ff_require_commands CMD...: skip the whole script unless every CMD is on PATH.
ff_require_commands() {
	for _ff_cmd in "$@"; do
		command -v "$_ff_cmd" >/dev/null 2>&1 && continue
		skip_all="$_ff_cmd is not on PATH (run through meson test, or set SHARNESS_BUILD_DIRECTORY to the meson build dir)"
		test_done
	done
}

# ff_queue_policy POLICY: the Flux config (JSON) that selects Fluxion's queue policy.
ff_queue_policy() {
	echo "{\"sched-fluxion-qmanager\": {\"queue-policy\": \"$1\"}}"
}

# ff_experiment NAME TRACE NNODES CORES FLUX_CONFIG_JSON [KEY = VALUE...]: write NAME.json
# (the instance's Flux config) and NAME.toml (the experiment), extra lines appended.
ff_experiment() {
	_ff_name=$1 _ff_trace=$2 _ff_nodes=$3 _ff_cores=$4 _ff_json=$5
	shift 5
	echo "$_ff_json" >"$_ff_name.json" &&
	{
		echo '[flux_fiction]'
		echo "job_traces = \"$_ff_trace\""
		echo "nnodes = $_ff_nodes"
		echo "ncpus = $_ff_cores"
		echo "config_json = \"$_ff_name.json\""
		for _ff_line in "$@"; do test -z "$_ff_line" || echo "$_ff_line"; done
	} >"$_ff_name.toml"
}

# ff_replay RUN EXPERIMENT [flux-fiction-run options]: replay EXPERIMENT.toml into
# $FF_RUNS/RUN (replacing it). RUN.out and RUN.err hold its output, RUN.wall the wall
# clock (epoch s) before and after; the time it took is shown as a TAP comment, and on a
# failure its error output and failure.txt.
ff_replay() {
	_ff_run=$1 _ff_exp=$2
	shift 2
	: "${FF_RUNS:=$PWD/runs}"
	mkdir -p "$FF_RUNS" && rm -rf "${FF_RUNS:?}/$_ff_run" || return 1
	_ff_from=$(date +%s)
	timeout 600 flux-fiction-run "$_ff_exp.toml" --run-dir "$FF_RUNS/$_ff_run" --quiet "$@" \
		>"$_ff_run.out" 2>"$_ff_run.err"
	_ff_rc=$?
	_ff_to=$(date +%s)
	echo "$_ff_from $_ff_to" >"$_ff_run.wall"
	echo "# $_ff_run: flux-fiction-run $_ff_exp.toml${*:+ $*} took $((_ff_to - _ff_from)) s, exit $_ff_rc" >&5
	test "$_ff_rc" = 0 || {
		sed 's/^/#   /' "$_ff_run.err" "$FF_RUNS/$_ff_run/output/failure.txt" 2>/dev/null
		false
	} >&5
}

# ff_holds_finished_jobs RUN_DIR TOTAL: for a run stopped part-way, job_transitions.csv
# has a row for every job the replay finished (some, not all TOTAL), and summary.json
# counts them by result and the rest as not-run.
ff_holds_finished_jobs() {
	_ff_rows=$(($(wc -l <"$1/output/job_transitions.csv") - 1)) &&
	echo "# $(basename "$1"): $_ff_rows of $2 jobs finished" >&5 &&
	test "$_ff_rows" -gt 0 && test "$_ff_rows" -lt "$2" &&
	jq -e ".jobs_total == $2 and .jobs_not_run == $2 - $_ff_rows
		and .jobs_completed + .jobs_timeout + .jobs_canceled + .jobs_failed == $_ff_rows" \
		"$1/output/summary.json" >/dev/null
}
