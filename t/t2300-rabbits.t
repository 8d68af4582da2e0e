#!/bin/sh
test_description='rabbit storage: jobs with near-node SSD storage on racks, against Fluxion

The scenario t/traces/rabbits.csv (2 racks of 2 nodes and 3 shares of 100 GiB) is
replayed on the synthetic system of the rabbit_* keys: storage, not nodes, holds a job
back while another fits beside the first, and a job larger than a rack gets storage in
both racks; the schedule, what each job was given and the storage utilization are the
ones derived in the trace. The same system given as a JGF resource_file replays the same.
Replayed by hand in an instance, the submitted jobspec carries the #DW directive and the
job R written by Fluxion lists shares of both racks. A workload of one-rack storage
jobs from flux-fiction-generate --storage-gib matches the per-rack FCFS model
(t/scripts/storage-model.py) job by job.
Bad storage inputs (negative, not a number, GB columns, a JGF ssd without a size, a job
no rack can hold) are refused naming file, line and field.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
ff_stage_artifacts
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

MODEL=$SHARNESS_TEST_SRCDIR/scripts/storage-model.py
TRACE=$FF_TRACES/rabbits.csv

# Run directories live outside the trash directory, whose name has a space: one test
# loads ff-emu by hand with a plain run-dir=DIR (Flux splits module arguments at
# whitespace). ./runs points there; it is removed when every test passed.
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/ff-t2300.XXXXXX") || error "mktemp failed"
ln -s "$RUNS" runs
test "$debug" = t || cleanup 'rm -rf "$RUNS"'

# rack_config NAME TRACE [EXTRA-TOML-LINE...]: NAME.toml, the 2-rack system of
# t/traces/rabbits.csv (its own lines first: a test may replace the system).
rack_config() {
	_name=$1 _trace=$2
	shift 2
	{
		echo '[flux_fiction]'
		echo "job_traces = \"$_trace\""
		for _line in "$@"; do printf '%s\n' "$_line"; done
		case "$*" in
		*resource_file*) ;;
		*)
			echo 'nnodes = 4'
			echo 'ncpus = 1'
			echo 'rabbit_nodes_per_rack = 2'
			echo 'rabbit_shares_per_rack = 3'
			echo 'rabbit_share_gib = 100'
			;;
		esac
	} >"$_name.toml"
}

# replay NAME: flux-fiction-run NAME.toml into runs/NAME.run, which must exit 0.
replay() {
	rm -rf "$RUNS/$1.run" &&
	timeout 300 flux-fiction-run "$1.toml" --run-dir "$RUNS/$1.run" --quiet >"$1.out" 2>"$1.err" || {
		echo "# $1: flux-fiction-run failed:"
		sed 's/^/#   /' "$1.err" "$RUNS/$1.run/output/failure.txt" 2>/dev/null
		false
	} >&5
}

# refused NAME ERE: flux-fiction-run NAME.toml exits 1 and its stderr matches ERE.
refused() {
	rm -rf "$RUNS/$1.run"
	test_expect_code 1 timeout 120 flux-fiction-run "$1.toml" --run-dir "$RUNS/$1.run" --quiet \
		>"$1.out" 2>"$1.err" &&
	grep -E "$2" "$1.err" >/dev/null || {
		echo "# $1.err does not match /$2/:"
		sed 's/^/#   /' "$1.err"
		false
	} >&5
}

# given RUN: TRACE_JOBID STORAGE_GIB STORAGE_GIVEN of every job, in trace order.
given() {
	awk -F, '
		{ gsub(/"[^"]*"/, "L") }
		NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ print $c["TRACE_JOBID"], $c["STORAGE_GIB"], $c["STORAGE_GIVEN"] }' \
		"$RUNS/$1.run/output/job_transitions.csv"
}

test_expect_success 'rabbits: replay on 2 racks with storage (fcfs) exits 0' '
	rack_config rabbits "$TRACE" &&
	replay rabbits &&
	grep "^flux-fiction: system: 4 nodes x 1 cores x 0 GPUs (node > cores, GPUs); rabbit storage in 2 racks, 2 nodes and 3 SSD shares of 100 GiB (300 GiB) each, 600 GiB in all" rabbits.err
'
test_expect_success 'rabbits: storage, not nodes, holds job 3 back until 1 ends; 2 fits beside 1' '
	{
		ff_expect_jobs 1 1 0 0 600 &&
		ff_expect_jobs 2 2 10 10 910 &&
		ff_expect_jobs 3 3 20 600 700
	} >rabbits.expected &&
	ff_check_schedule runs/rabbits.run rabbits.expected
'
test_expect_success 'rabbits: job 1 has storage in both racks; what each job asked for and got' '
	cat >rabbits.given.expected <<-\EOF &&
	1 400 rack0:200;rack1:200
	2 100 rack1:100
	3 150 rack0:200
	EOF
	given rabbits >rabbits.given &&
	test_cmp rabbits.given.expected rabbits.given
'
test_expect_success 'rabbits: storage utilization in summary.json, utilization.csv and pernode.json' '
	out=runs/rabbits.run/output &&
	jq -e ".storage_utilization_pct == 64.102564 and .system.storage_gib == 600 and .node_utilization_pct == 60.43956" \
		$out/summary.json &&
	head -n1 $out/utilization.csv | grep ",busy_storage_gib,storage_pct\$" &&
	grep "^1647216010.000000,.*,500,83.333333\$" $out/utilization.csv &&
	grep -q "Rabbit storage" $out/utilization.svg &&
	jq -c "[.traceEvents[] | select(.ph == \"C\") | [.ts / 1000000 - 1647216000, .name, .args.GiB]]" \
		$out/pernode.json >rabbits.counters &&
	# A counter is written when a step changes it: at 600, rack0 gives job 3 what job 1
	# gave back in the same step.
	echo "[[0,\"rack0\",200],[0,\"rack1\",200],[10,\"rack1\",300],[600,\"rack1\",100],[700,\"rack0\",0],[910,\"rack1\",0]]" \
		>rabbits.counters.expected &&
	test_cmp rabbits.counters.expected rabbits.counters
'

test_expect_success 'the same racks as a JGF resource_file replay the same' '
	jq .scheduling runs/rabbits.run/instance/R.json >racks.json &&
	rack_config jgf "$TRACE" "resource_file = \"racks.json\"" &&
	replay jgf &&
	grep "rabbit storage in 2 racks, 2 nodes and 3 SSD shares of 100 GiB" jgf.err &&
	ff_check_schedule runs/jgf.run rabbits.expected &&
	given jgf >jgf.given &&
	test_cmp rabbits.given.expected jgf.given
'

# The replay by hand, in an instance started with the run directory's broker config;
# afterwards the instance still knows every job: trace job N's submitted jobspec and
# the R Fluxion wrote go to RUN_DIR.jobspec.N and RUN_DIR.R.N.
cat >inner.sh <<'EOF'
run_dir=$1
flux jobtap load "$FF_EMU_ARTIFACTS/emu-jobtap.so" &&
flux module load "$FF_EMU_ARTIFACTS/ff-emu.so" run-dir="$run_dir" || exit 1
start=$(date +%s)
while :; do
	flux module stats ff-emu >"$run_dir.stats" || exit 1
	test "$(jq -r .state "$run_dir.stats")" = running || break
	test $(($(date +%s) - start)) -lt 60 || break
	sleep 0.2
done
flux module remove ff-emu
for id in $(flux jobs -a -no {id}); do
	flux job info "$id" jobspec >spec.json || exit 1
	n=$(($(jq .attributes.user.ff_trace_idx spec.json) + 1))
	mv spec.json "$run_dir.jobspec.$n" &&
	flux job info "$id" R >"$run_dir.R.$n" || exit 1
done
EOF

test_expect_success 'by hand: the #DW directive is in the submitted jobspec; R lists both racks'"'"' shares' '
	rack_config dw "$TRACE" "rabbit_storage_emit_dw = true" &&
	rm -rf "$RUNS/dw.run" &&
	"$FF_EMU_ARTIFACTS/flux-fiction-prepare" dw.toml --run-dir "$RUNS/dw.run" >dw.facts 2>dw.err &&
	timeout 120 flux start -c "$RUNS/dw.run/instance/conf" -Slog-filename=dw.broker.log \
		sh inner.sh "$RUNS/dw.run" &&
	jq -e ".state == \"done\" and .exit_code == 0" runs/dw.run.stats &&
	jq -r .attributes.system.dw runs/dw.run.jobspec.1 >dw.1 &&
	echo "#DW jobdw type=xfs capacity=200GiB name=rabbit" >dw.1.expected &&
	test_cmp dw.1.expected dw.1 &&
	jq -r .attributes.system.dw runs/dw.run.jobspec.3 | grep -x "#DW jobdw type=xfs capacity=150GiB name=rabbit" &&
	jq -e ".resources[0] | .type == \"slot\" and .label == \"rabbit\" and .count == 2" runs/dw.run.jobspec.1 &&
	jq -r "[.scheduling.graph.nodes[].metadata | select(.type == \"ssd\") | .paths.containment | split(\"/\")[2]] | unique | join(\" \")" \
		runs/dw.run.R.1 >dw.racks &&
	echo "rack0 rack1" >dw.racks.expected &&
	test_cmp dw.racks.expected dw.racks
'

test_expect_success PYTHON3 'a seeded workload of one-rack storage jobs matches the per-rack model (fcfs)' '
	flux-fiction-generate --model uniform --jobs 120 --nodes 12 --max-nodes 4 --min-runtime 60 \
		--max-runtime 1800 --mean-interarrival 90 --storage-gib 1-600 --seed 7 -o workload.csv &&
	{
		echo "[flux_fiction]"
		echo "job_traces = \"workload.csv\""
		echo "nnodes = 12"
		echo "ncpus = 1"
		echo "rabbit_nodes_per_rack = 4"
		echo "rabbit_shares_per_rack = 6"
		echo "rabbit_share_gib = 100"
	} >workload.toml &&
	replay workload &&
	python3 "$MODEL" workload.csv --racks 3 --nodes-per-rack 4 --shares-per-rack 6 --share-gib 100 \
		--compare runs/workload.run/output/job_transitions.csv >workload.agreement &&
	sed "s/^/# /" workload.agreement >&5 &&
	grep -x "agreement: 120/120 start times, 120/120 racks" workload.agreement
'

# bad_row NAME VALUE: the scenario with job 2's storage replaced by VALUE.
bad_row() {
	sed "/^2,/s/,100\$/,$2/" "$TRACE" >"$1.csv" &&
	rack_config "$1" "$1.csv"
}

test_expect_success 'a negative storage request is refused with file, line and column' '
	bad_row negative -5 &&
	refused negative "negative\.csv:23: RabbitGiB: \"-5\": a storage request cannot be negative"
'
test_expect_success 'a storage request that is not a number is refused' '
	bad_row words plenty &&
	refused words "words\.csv:23: RabbitGiB: expected GiB such as 15000 or 15000GiB, found \"plenty\""
'
test_expect_success 'storage in GB is refused: use GiB' '
	bad_row gb 100GB &&
	refused gb "gb\.csv:23: RabbitGiB: .*storage must be given in GiB, not \"GB\"" &&
	sed "s/,RabbitGiB\$/,RabbitGB/" "$TRACE" >legacy.csv &&
	rack_config legacy legacy.csv &&
	refused legacy "legacy\.csv:21: RabbitGB: GB-named storage columns are no longer supported; give the request in GiB in a column such as RabbitGiB"
'
test_expect_success 'a JGF whose ssd has no size is refused, naming the vertex' '
	jq "(.graph.nodes[] | select(.metadata.name == \"ssd4\") | .metadata) |= del(.size)" racks.json >nosize.json &&
	rack_config nosize "$TRACE" "resource_file = \"nosize.json\"" &&
	refused nosize "nosize\.toml:3: \[flux_fiction\] resource_file: .*nosize\.json: resource graph: vertex \"[0-9]+\" \(ssd ssd4\): an ssd without a size"
'
test_expect_success 'a job whose storage no rack can hold is named by the pre-flight check' '
	bad_row huge 700 &&
	refused huge "huge\.csv:23: job 2 asks for nnodes=1 cores_per_node=1 gpus_per_node=0 storage_gib=700 \(needs 3 bundles of 1 node and 234 GiB, each within one rack; of the system.s 2 racks, they hold at most 2\)"
'

test_done
