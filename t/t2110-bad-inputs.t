#!/bin/sh
test_description='bad inputs by the dozen: each is refused with exit 1 within 30 s, names its file and line or key, and leaves no process behind

One table of cases covers every input: each column of sacct-style traces, each used
field of SWF logs and their headers, empty and header-only traces, huge and negative
numbers, every config key (type and range), missing and unusable files, malformed and
mismatched resource files, Flux configs that Fluxion rejects, and ff-emu module
arguments. Most are refused by flux-fiction-prepare before any broker starts. A UTF-8
BOM, CRLF line ends, SWF comments and unknown SWF header keys are not errors: those
inputs replay as their plain versions do. (t2100-errors.t has the first few cases.)'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run jq
ff_stage_artifacts
PREPARE=$FF_EMU_ARTIFACTS/flux-fiction-prepare
test -x "$PREPARE" || error "flux-fiction-prepare is not in FF_EMU_ARTIFACTS=$FF_EMU_ARTIFACTS"

# Run directories live outside the trash directory, whose name has a space (module
# arguments are split at spaces); every broker a case starts runs with a path under
# it, which is how leftover processes are found. Removed when every test passed.
RUNS=$(mktemp -d "${TMPDIR:-/tmp}/ff-t2110.XXXXXX") || error "mktemp failed"
ln -s "$RUNS" runs
test "$debug" = t || cleanup 'rm -rf "$RUNS"'

# The trace every config case replays: two one-node jobs (header on line 1).
HEADER=JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed
ROW1=1,1,8,00:15:00,2022-03-14T00:00:00,00:10:00
NUMERIC=JobID,NNodes,NCPUS,Timelimit,t_submit,elapsed_s
NROW1=1,1,8,00:15:00,1647216000,600
printf '%s\n%s\n2,1,8,00:05:00,2022-03-14T00:01:00,00:02:00\n' "$HEADER" "$ROW1" >good.csv
# An SWF record: job 1 submitted at 0, runs 100 s on 1 processor, asked for 3600 s.
RECORD='1 0 -1 100 1 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1'

# conf NAME TRACE [LINE...]: NAME.toml replaying TRACE on 2 nodes of 8 cores; the
# keys are on lines 2 (job_traces), 3 (nnodes), 4 (ncpus), then each LINE from 5 on.
conf() {
	_name=$1 _trace=$2
	shift 2
	{
		echo '[flux_fiction]'
		echo "job_traces = \"$_trace\""
		echo 'nnodes = 2'
		echo 'ncpus = 8'
		for _line in "$@"; do printf '%s\n' "$_line"; done
	} >"$_name.toml"
}
# csv NAME LINE...: NAME.csv holds the LINEs (a header first), NAME.toml replays it.
csv() {
	_name=$1
	shift
	printf '%s\n' "$@" >"$_name.csv" && conf "$_name" "$_name.csv"
}
# swf NAME LINE...: NAME.swf holds the LINEs, NAME.toml replays it.
swf() {
	_name=$1
	shift
	printf '%s\n' "$@" >"$_name.swf" && conf "$_name" "$_name.swf"
}
# key NAME LINE...: NAME.toml replays good.csv with the LINEs from line 5.
key() {
	_name=$1
	shift
	conf "$_name" good.csv "$@"
}
# flux_json NAME JSON: NAME.json holds JSON, NAME.toml is run with it as config_json.
flux_json() {
	printf '%s\n' "$2" >"$1.json" && key "$1" "config_json = \"$1.json\""
}
# resource NAME JSON [LINE...]: NAME.json is the resource_file (line 5) of NAME.toml,
# which names no nodes or cores itself; each LINE follows it.
resource() {
	_name=$1
	printf '%s\n' "$2" >"$_name.json"
	shift 2
	{
		echo '[flux_fiction]'
		echo 'job_traces = "good.csv"'
		echo '# the resource file says how many nodes'
		echo '#'
		echo "resource_file = \"$_name.json\""
		for _line in "$@"; do printf '%s\n' "$_line"; done
	} >"$_name.toml"
}
rv1() {
	echo "{\"version\": 1, \"execution\": {\"R_lite\": [{\"rank\": \"$1\", \"children\": {\"core\": \"0-7\"}}]$2}}"
}

# leftovers: fails, listing them, if processes still run whose command line names a
# run directory of this test or a file in its trash directory (brokers,
# flux-fiction-run, prepare); they are then stopped, so that one case's leftovers are
# not blamed on the next.
leftovers() {
	ps -eo pid=,args= >ps.now &&
	grep -F -e "$RUNS" -e "$PWD/" ps.now >ps.left
	test -s ps.left || return 0
	echo "# processes left behind:" >&5
	sed 's/^/#   /' ps.left >&5
	for _pid in $(awk '{ print $1 }' ps.left); do kill "$_pid" 2>/dev/null; done
	return 1
}

# refused NAME ERE [BROKER]: flux-fiction-run NAME.toml exits 1 within 30 s, its
# standard error has a line matching NAME.ERE (ERE names the file's extension and the
# line or key: "csv:3: NNodes"), and no process is left behind. Unless BROKER is given
# the run was refused before any instance started: no run directory was made.
refused() {
	_from=$(date +%s)
	test_expect_code 1 timeout 30 flux-fiction-run "$1.toml" --run-dir "$RUNS/$1.run" --quiet \
		>"$1.out" 2>"$1.err"
	_rc=$?
	echo "# $1: $(($(date +%s) - _from)) s" >&5
	sed "s/^/# $1.err: /" "$1.err" >&5
	_ok=$_rc
	grep -E "$1\\.$2" "$1.err" >/dev/null || {
		echo "# $1.err does not match /$1\\.$2/" >&5
		_ok=1
	}
	leftovers || _ok=1
	if test -z "$3" && test -e "$RUNS/$1.run"; then
		echo "# $1: refused, yet $RUNS/$1.run was made" >&5
		_ok=1
	fi
	test "$_ok" = 0
}

# The cases: NAME @ ERE @ SETUP. SETUP writes NAME.toml and the files it names; ERE
# follows "NAME." in the error, so it starts with the extension of the file at fault.
cat >cases <<'EOF'
# --- sacct-style traces, column by column (line 3 is the bad row) ---
jobid-twice @ csv:1: JobID: columns 1 and 7 both have this name @ csv jobid-twice "$HEADER,JobID" "$ROW1,9"
nnodes-zero @ csv:3: NNodes: must be at least 1 @ csv nnodes-zero "$HEADER" "$ROW1" 2,0,8,00:15:00,2022-03-14T00:00:00,00:10:00
nnodes-negative @ csv:3: NNodes: expected a non-negative integer, found "-1" @ csv nnodes-negative "$HEADER" "$ROW1" 2,-1,8,00:15:00,2022-03-14T00:00:00,00:10:00
nnodes-huge @ csv:3: NNodes: expected a non-negative integer @ csv nnodes-huge "$HEADER" "$ROW1" 2,99999999999,8,00:15:00,2022-03-14T00:00:00,00:10:00
nnodes-twice @ csv:1: NNodes: columns 2 and 7 @ csv nnodes-twice "$HEADER,nnodes" "$ROW1,4"
ncpus-negative @ csv:3: NCPUS: expected a non-negative integer, found "-8" @ csv ncpus-negative "$HEADER" "$ROW1" 2,1,-8,00:15:00,2022-03-14T00:00:00,00:10:00
ncpus-beyond-u32 @ csv:3: NCPUS: @ csv ncpus-beyond-u32 "$HEADER" "$ROW1" 2,1,4294967296,00:15:00,2022-03-14T00:00:00,00:10:00
ncpus-missing @ csv:1: header has no NCPUS column @ csv ncpus-missing JobID,NNodes,Timelimit,Submit,Elapsed 1,1,00:15:00,2022-03-14T00:00:00,00:10:00
timelimit-word @ csv:3: Timelimit: "soon" @ csv timelimit-word "$HEADER" "$ROW1" 2,1,8,soon,2022-03-14T00:00:00,00:10:00
timelimit-centuries @ csv:3: Timelimit: "99999-00:00:00" is out of range @ csv timelimit-centuries "$HEADER" "$ROW1" 2,1,8,99999-00:00:00,2022-03-14T00:00:00,00:10:00
submit-word @ csv:3: Submit: expected a time like @ csv submit-word "$HEADER" "$ROW1" 2,1,8,00:15:00,yesterday,00:10:00
submit-before-1970 @ csv:3: Submit: "1960-01-01T00:00:00" is out of range @ csv submit-before-1970 "$HEADER" "$ROW1" 2,1,8,00:15:00,1960-01-01T00:00:00,00:10:00
submit-with-zone @ csv:3: Submit: expected a time like @ csv submit-with-zone "$HEADER" "$ROW1" 2,1,8,00:15:00,2022-03-14T00:01:00Z,00:10:00
submit-out-of-order @ csv:3: submit time .* is earlier than .* on line 2 @ csv submit-out-of-order "$HEADER" "$ROW1" 2,1,8,00:15:00,2022-03-13T23:00:00,00:10:00
elapsed-unlimited @ csv:3: Elapsed: "UNLIMITED" is not a run time @ csv elapsed-unlimited "$HEADER" "$ROW1" 2,1,8,00:15:00,2022-03-14T00:00:00,UNLIMITED
t-submit-huge @ csv:3: t_submit: 1e300 is out of range @ csv t-submit-huge "$NUMERIC" "$NROW1" 2,1,8,00:15:00,1e300,600
t-submit-negative @ csv:3: t_submit: expected non-negative seconds @ csv t-submit-negative "$NUMERIC" "$NROW1" 2,1,8,00:15:00,-5,600
elapsed-s-nan @ csv:3: elapsed_s: expected non-negative seconds, found "NaN" @ csv elapsed-s-nan "$NUMERIC" "$NROW1" 2,1,8,00:15:00,1647216000,NaN
elapsed-s-huge @ csv:3: elapsed_s: 1e\+?300 s is out of range @ csv elapsed-s-huge "$NUMERIC" "$NROW1" 2,1,8,00:15:00,1647216000,1e300
ngpus-negative @ csv:3: NGPUS: expected a non-negative integer @ csv ngpus-negative "$HEADER,NGPUS" "$ROW1,0" 2,1,8,00:15:00,2022-03-14T00:00:00,00:10:00,-2
ngpus-missing @ csv:1: header has no NGPUS \(required because the system has GPUs\) @ printf '%s\n' "$HEADER" "$ROW1" >ngpus-missing.csv && conf ngpus-missing ngpus-missing.csv "ngpus = 2"
rabbit-gb @ csv:3: RabbitGiB: .*storage must be given in GiB, not "GB" @ csv rabbit-gb "$HEADER,RabbitGiB" "$ROW1," 2,1,8,00:15:00,2022-03-14T00:00:00,00:10:00,15000GB
fields-missing @ csv:3: 5 fields, but the header has 6 @ csv fields-missing "$HEADER" "$ROW1" 2,1,8,00:15:00,2022-03-14T00:00:00
quote-unclosed @ csv:3: 2 fields, but the header has 6 @ csv quote-unclosed "$HEADER" "$ROW1" '2,"1,8,00:15:00,2022-03-14T00:00:00,00:10:00'
not-utf8 @ csv:3: cannot read the trace: @ printf '%s\n%s\n2,1,8,00:15:00,2022-03-14T00:00:00,00:10:00\377\n' "$HEADER" "$ROW1" >not-utf8.csv && conf not-utf8 not-utf8.csv
empty-trace @ csv:1: the file ends without a header line @ : >empty-trace.csv && conf empty-trace empty-trace.csv
comments-only-trace @ csv:3: the file ends without a header line @ csv comments-only-trace "# a trace" "# to come"
header-only-trace @ csv: no job to replay: the trace has no rows @ csv header-only-trace "$HEADER"
gzip-truncated @ csv.gz:[0-9]+: cannot read the trace: the gzip data ends early @ for i in $(seq 2 400); do echo "$i,1,8,00:15:00,2022-03-14T00:00:00,00:10:00"; done | { echo "$HEADER"; cat; } | gzip -c >whole.gz && head -c $(($(wc -c <whole.gz) / 2)) whole.gz >gzip-truncated.csv.gz && conf gzip-truncated gzip-truncated.csv.gz
gz-name-not-gzip @ csv.gz: cannot read the trace: the name ends in .gz @ cp good.csv gz-name-not-gzip.csv.gz && conf gz-name-not-gzip gz-name-not-gzip.csv.gz
crlf-bad-row @ csv:3: NNodes: must be at least 1 @ printf '%s\r\n%s\r\n2,0,8,00:15:00,2022-03-14T00:00:00,00:10:00\r\n' "$HEADER" "$ROW1" >crlf-bad-row.csv && conf crlf-bad-row crlf-bad-row.csv
bom-comment-bad-row @ csv:4: NNodes: must be at least 1 @ printf '\357\273\277# exported\r\n%s\r\n%s\r\n2,0,8,00:15:00,2022-03-14T00:00:00,00:10:00\r\n' "$HEADER" "$ROW1" >bom-comment-bad-row.csv && conf bom-comment-bad-row bom-comment-bad-row.csv
# --- SWF logs and their headers (records on line 2, after one header line) ---
swf-17-fields @ swf:2: expected 18 fields, found 17 @ swf swf-17-fields "; Version: 2.2" "${RECORD% -1}"
swf-run-time-word @ swf:2: field 4 \(run time\): expected a number, found "ten" @ swf swf-run-time-word "; Version: 2.2" "1 0 -1 ten 1 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-submit-negative @ swf:2: field 2 \(submit time\): must not be negative @ swf swf-submit-negative "; Version: 2.2" "1 -5 -1 100 1 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-submit-huge @ swf:2: field 2 \(submit time\): 1e\+?300 s is out of range @ swf swf-submit-huge "; Version: 2.2" "1 1e300 -1 100 1 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-procs-fraction @ swf:2: field 5 \(allocated processors\): expected an integer, found "1.5" @ swf swf-procs-fraction "; Version: 2.2" "1 0 -1 100 1.5 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-requested-procs-word @ swf:2: field 8 \(requested processors\): expected an integer, found "x" @ swf swf-requested-procs-word "; Version: 2.2" "1 0 -1 100 -1 -1 -1 x 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-procs-huge @ swf:2: field 5 \(allocated processors\): 99999999999 processors is too many @ swf swf-procs-huge "; Version: 2.2" "1 0 -1 100 99999999999 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-requested-time-huge @ swf:2: field 9 \(requested time\): .* out of range @ swf swf-requested-time-huge "; Version: 2.2" "1 0 -1 100 1 -1 -1 1 1e300 -1 1 -1 -1 -1 0 -1 -1 -1"
swf-start-time-word @ swf:1: header UnixStartTime: expected epoch seconds, found "soon" @ swf swf-start-time-word "; UnixStartTime: soon" "$RECORD"
swf-start-time-negative @ swf:2: header UnixStartTime: -5 is out of range @ swf swf-start-time-negative "; Version: 2.2" "; UnixStartTime: -5" "$RECORD"
swf-start-time-inf @ swf:1: header UnixStartTime: inf is out of range @ swf swf-start-time-inf "; UnixStartTime: inf" "$RECORD"
swf-all-cancelled @ swf: no job to replay: all 1 records were skipped @ swf swf-all-cancelled "; Version: 2.2" "1 0 -1 -1 1 -1 -1 1 3600 -1 5 -1 -1 -1 0 -1 -1 -1"
swf-header-only @ swf: no job to replay: the trace has no rows @ swf swf-header-only "; Version: 2.2" "; Computer: none"
swf-too-big @ swf:2: job 1 asks for nnodes=3 @ swf swf-too-big "; Version: 2.2" "1 0 -1 100 3 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1"
# --- config keys: type and range (the key is on line 5 unless said) ---
trace-format-csv @ toml:5: \[flux_fiction\] trace_format: expected "auto", "sacct" or "swf", found "csv" @ key trace-format-csv 'trace_format = "csv"'
max-jobs-zero @ toml:5: \[flux_fiction\] max_jobs: expected a positive integer, found 0 @ key max-jobs-zero 'max_jobs = 0'
swf-procs-per-node-negative @ toml:5: \[flux_fiction\] swf_procs_per_node: expected a positive integer @ key swf-procs-per-node-negative 'swf_procs_per_node = -2'
swf-epoch-huge @ toml:5: \[flux_fiction\] swf_epoch: 1e\+?300 is out of range @ key swf-epoch-huge 'swf_epoch = 1e300'
ngpus-fraction @ toml:5: \[flux_fiction\] ngpus: expected a non-negative integer, found 1.5 @ key ngpus-fraction 'ngpus = 1.5'
exclusive-string @ toml:5: \[flux_fiction\] exclusive: expected true or false, found "yes" @ key exclusive-string 'exclusive = "yes"'
whole-node-graph-int @ toml:5: \[flux_fiction\] whole_node_graph: expected true or false, found 1 @ key whole-node-graph-int 'whole_node_graph = 1'
step-timeout-zero @ toml:5: \[flux_fiction\] step_timeout: expected a positive number, found 0 @ key step-timeout-zero 'step_timeout = 0'
step-timeout-huge @ toml:5: \[flux_fiction\] step_timeout: 1e\+?300 s is too long: at most 86400 s @ key step-timeout-huge 'step_timeout = 1e300'
faketime-lead-negative @ toml:5: \[flux_fiction\] faketime_start_lead: expected a non-negative number @ key faketime-lead-negative 'faketime_start_lead = -1'
content-gc-negative @ toml:5: \[flux_fiction\] content_gc_interval: expected a non-negative number @ key content-gc-negative 'content_gc_interval = -1'
content-gc-huge @ toml:5: \[flux_fiction\] content_gc_interval: 100000 s is too long: at most 86400 s @ key content-gc-huge 'content_gc_interval = 100000'
faketime-string @ toml:5: \[flux_fiction\] faketime: expected true or false @ key faketime-string 'faketime = "no"'
output-dir-empty @ toml:5: \[flux_fiction\] output_dir: expected a path string, found "" @ key output-dir-empty 'output_dir = ""'
backend-other @ toml:5: \[flux_fiction\] backend: expected "flux" @ key backend-other 'backend = "slurm"'
ignored-key-wrong-type @ toml:5: \[flux_fiction\] quiet: expected true or false, found 3 @ key ignored-key-wrong-type 'quiet = 3'
nnodes-beyond-u32 @ toml:3: \[flux_fiction\] nnodes: 4294967296 is too large @ conf nnodes-beyond-u32 good.csv && sed -i 's/^nnodes = 2$/nnodes = 4294967296/' nnodes-beyond-u32.toml
nnodes-graph-too-large @ toml:3: \[flux_fiction\] nnodes: the system .* resource graph of [0-9]+ vertices @ conf nnodes-graph-too-large good.csv && sed -i 's/^nnodes = 2$/nnodes = 4294967295/' nnodes-graph-too-large.toml
rabbit-shares-too-many @ toml:6: \[flux_fiction\] rabbit_shares_per_rack: the system .* SSD shares @ key rabbit-shares-too-many 'rabbit_nodes_per_rack = 1' 'rabbit_shares_per_rack = 4294967295' 'rabbit_share_gib = 1'
rabbit-gib-overflow @ toml:7: \[flux_fiction\] rabbit_share_gib: .* GiB of storage in all @ key rabbit-gib-overflow 'rabbit_nodes_per_rack = 1' 'rabbit_shares_per_rack = 4' 'rabbit_share_gib = 9223372036854775807'
rabbit-keys-partial @ toml:5: \[flux_fiction\] rabbit_shares_per_rack: a synthetic system with rabbit storage also needs @ key rabbit-keys-partial 'rabbit_shares_per_rack = 3'
toml-syntax @ toml: TOML parse error at line 5 @ key toml-syntax 'step_timeout = [1,'
toml-key-twice @ toml: TOML parse error at line 5 @ key toml-key-twice 'nnodes = 3'
key-outside-table @ toml:1: nnodes: unknown top-level key @ { echo 'nnodes = 1'; cat good-config.toml; } >key-outside-table.toml
# --- files: missing, unusable ---
trace-is-directory @ toml:2: \[flux_fiction\] job_traces: .*: cannot read the trace: not a regular file @ mkdir -p trace-is-directory.d && conf trace-is-directory trace-is-directory.d
trace-is-fifo @ toml:2: \[flux_fiction\] job_traces: .*fifo: cannot read the trace: not a regular file @ mkfifo trace-is-fifo.fifo && conf trace-is-fifo trace-is-fifo.fifo
config-json-missing @ toml:5: \[flux_fiction\] config_json: .*config-json-missing.json: cannot read: No such file @ key config-json-missing 'config_json = "config-json-missing.json"'
resource-file-missing @ toml:5: \[flux_fiction\] resource_file: .*resource-file-missing.json: cannot read: No such file @ key resource-file-missing 'resource_file = "resource-file-missing.json"'
config-is-directory @ toml is not a regular file @ mkdir config-is-directory.toml
config-not-utf8 @ toml: cannot read the config file: @ printf '[flux_fiction]\njob_traces = "good.csv\377"\n' >config-not-utf8.toml
# --- Flux configs (config_json) ---
flux-json-syntax @ toml:5: \[flux_fiction\] config_json: .*flux-json-syntax.json: invalid JSON: .* at line [0-9]+ column @ flux_json flux-json-syntax '{"sched-fluxion-qmanager": {'
flux-json-array @ toml:5: \[flux_fiction\] config_json: .*flux-json-array.json: expected a JSON object @ flux_json flux-json-array '[1, 2]'
flux-json-null @ json: queue-params: null has no TOML equivalent @ flux_json flux-json-null '{"queue-params": null}'
flux-json-resource-path @ json: resource.path: set to "/x", but the emulator installs its own R @ flux_json flux-json-resource-path '{"resource": {"path": "/x"}}'
flux-json-queue-policy @ json: sched-fluxion-qmanager.queue-policy: "eays" is not a policy Fluxion knows @ flux_json flux-json-queue-policy '{"sched-fluxion-qmanager": {"queue-policy": "eays"}}'
# --- resource files: malformed or mismatched (resource_file on line 5) ---
r-syntax @ toml:5: \[flux_fiction\] resource_file: .*r-syntax.json: invalid JSON @ resource r-syntax '{"version": 1,'
r-not-rv1 @ toml:5: \[flux_fiction\] resource_file: .*r-not-rv1.json: expected an RV1 R object @ resource r-not-rv1 '{"version": 2, "execution": {}}'
r-bad-idset @ toml:5: \[flux_fiction\] resource_file: .*r-bad-idset.json: R_lite\[0\]/rank: invalid idset "3-1" @ resource r-bad-idset "$(rv1 3-1)"
r-rank-gap @ toml:5: \[flux_fiction\] resource_file: .*r-rank-gap.json: R_lite: ranks must be 0 to N-1 without gaps, but rank 0 is missing @ resource r-rank-gap "$(rv1 5-6)"
r-nodelist-mismatch @ toml:5: \[flux_fiction\] resource_file: .*r-nodelist-mismatch.json: execution.nodelist names 1 hosts, but R_lite has 2 ranks @ resource r-nodelist-mismatch "$(rv1 0-1 ', "nodelist": ["node0"]')"
r-nnodes-mismatch @ toml:6: \[flux_fiction\] nnodes: 3 disagrees with .*r-nnodes-mismatch.json, which has 2 nodes @ resource r-nnodes-mismatch "$(rv1 0-1)" 'nnodes = 3'
r-jgf-no-nodes @ toml:5: \[flux_fiction\] resource_file: .*r-jgf-no-nodes.json: resource graph: the graph has no node vertices @ resource r-jgf-no-nodes '{"graph": {"nodes": [], "edges": []}}'
r-file-and-r @ toml:6: \[flux_fiction\] resource_R: use only one of resource_file or resource_R @ resource r-file-and-r "$(rv1 0-1)" 'resource_R = "r-file-and-r.json"'
EOF

# A config that is fine, for the cases that build on it.
conf good-config good.csv

while IFS=@ read -r name expect setup; do
	case $name in '' | '#'*) continue ;; esac
	name=$(echo $name) expect=${expect# } expect=${expect% }
	test_expect_success "$name: exit 1 naming /$name.$expect/" '
		rm -rf "$name".* &&
		eval "$setup" &&
		refused "$name" "$expect"
	'
done <cases

test_expect_success 'the table has at least 40 cases, all different' '
	grep -v "^#" cases | cut -d@ -f1 | sort >names &&
	test $(wc -l <names) -ge 40 &&
	test -z "$(uniq -d names)"
'

# Permissions do not stop root: the case runs only where they stop this user.
cp good.csv unreadable.csv && chmod 000 unreadable.csv
cat unreadable.csv >/dev/null 2>&1 || test_set_prereq UNREADABLE
test_expect_success UNREADABLE 'an unreadable trace: exit 1 naming it' '
	conf unreadable unreadable.csv &&
	refused unreadable "toml:2: \\[flux_fiction\\] job_traces: .*unreadable.csv: cannot read the trace: Permission denied"
'
chmod 644 unreadable.csv

# --- Flux configs that Fluxion itself rejects: the instance starts and stops ---
test_expect_success 'Fluxion rejects a match policy: exit 1 naming the module and the Flux config' '
	flux_json fluxion-match-policy "{\"sched-fluxion-resource\": {\"match-policy\": \"bogus\"}}" &&
	refused fluxion-match-policy "json \\(config_json\\)" broker &&
	grep "module sched-fluxion-resource failed: check its table \[sched-fluxion-resource\]" fluxion-match-policy.err &&
	jq -e ".state == \"failed\" and (.failure_reason | test(\"sched-fluxion-resource\"))" \
		runs/fluxion-match-policy.run/status.json
'
test_expect_success 'Fluxion rejects a queue depth: exit 1 naming the module and the Flux config' '
	flux_json fluxion-queue-depth "{\"sched-fluxion-qmanager\": {\"queue-params\": {\"queue-depth\": \"deep\"}}}" &&
	refused fluxion-queue-depth "json \\(config_json\\)" broker &&
	grep "module sched-fluxion-qmanager failed: check its table \[sched-fluxion-qmanager\]" fluxion-queue-depth.err
'

# --- Not errors: a BOM, CRLF line ends, SWF comments and unknown header keys ---
# prepare_facts NAME: flux-fiction-prepare accepts NAME.toml; its facts in NAME.facts.
prepare_facts() {
	rm -rf "$RUNS/$1.run" &&
	timeout 30 "$PREPARE" "$1.toml" --run-dir "$RUNS/$1.run" >"$1.facts" 2>"$1.err" || {
		sed "s/^/# $1.err: /" "$1.err"
		false
	} >&5
}
test_expect_success 'an SWF log with a BOM, CRLF, comments between records and unknown header keys is read' '
	printf "\357\273\277; Version: 2.2\r\n; Frobnication: yes\r\n;\r\n; UnixStartTime: 1647216000\r\n%s\r\n; a note\r\n%s\r\n" \
		"$RECORD" "2 60 -1 100 1 -1 -1 1 3600 -1 1 -1 -1 -1 0 -1 -1 -1" >odd.log &&
	conf odd odd.log &&
	prepare_facts odd &&
	grep -x "jobs=2" odd.facts &&
	grep -x "first_submit=1647216000.000000" odd.facts
'
test_expect_success 'a config with a BOM and CRLF line ends is read' '
	printf "\357\273\277[flux_fiction]\r\njob_traces = \"good.csv\"\r\nnnodes = 2\r\nncpus = 8\r\n" >crlf-config.toml &&
	prepare_facts crlf-config &&
	grep -x "jobs=2" crlf-config.facts
'
# A Windows export of a t/traces scenario (BOM, CRLF) replays as the original does:
# the same schedule, and the JobID column (the first, right after the BOM) is read.
test_expect_success 'a sacct trace with a BOM and CRLF line ends replays as the plain one' '
	grep -v "^#" "$FF_TRACES/one-node.csv" >plain.csv &&
	{ printf "\357\273\277"; sed "s/\$/\r/" plain.csv; } >windows.csv &&
	ff_experiment plain plain.csv 1 8 "$(ff_queue_policy fcfs)" &&
	ff_experiment windows windows.csv 1 8 "$(ff_queue_policy fcfs)" &&
	FF_RUNS=$RUNS ff_replay plain plain &&
	FF_RUNS=$RUNS ff_replay windows windows &&
	ff_schedule runs/plain >plain.schedule &&
	ff_schedule runs/windows >windows.schedule &&
	test_cmp plain.schedule windows.schedule &&
	cut -d" " -f1 windows.schedule | tr "\n" " " >ids &&
	test "$(cat ids)" = "1 2 3 4 5 " &&
	leftovers
'

# --- ff-emu module arguments, in one instance (t1000-plugins.t has the first few) ---
# Each load must fail (exit 1, within 30 s) with the module's error in the log; a
# prepared run directory whose config.toml was damaged afterwards is named by line.
test_expect_success 'module arguments: prepare a run directory, then damage a copy' '
	prepare_facts good-config &&
	cp -R "$RUNS/good-config.run" "$RUNS/damaged.run" &&
	echo "step_timeout = \"long\"" >>"$RUNS/damaged.run/config.toml" &&
	damaged_line=$(wc -l <"$RUNS/damaged.run/config.toml") &&
	echo "$damaged_line" >damaged.line
'
cat >module-cases <<EOF
bad-escape @ argument .run-dir. has a bad %-escape @ run-dir=$RUNS/a%zz
faketime-maybe @ argument .faketime. must be 1 or 0, got .maybe. @ run-dir=$RUNS/good-config.run faketime=maybe
eventlog-yes @ argument .eventlog. must be 1 or 0, got .yes. @ run-dir=$RUNS/good-config.run eventlog=yes
eventlog-alone @ argument .eventlog. needs .run-dir. @ eventlog=1
eventlog-twice @ argument .eventlog. given twice @ run-dir=$RUNS/good-config.run eventlog=1 eventlog=0
damaged-config @ $RUNS/damaged.run/config.toml:LINE: \\[flux_fiction\\] step_timeout: expected a positive number @ run-dir=$RUNS/damaged.run
EOF
# Inside the instance: each case's load, its exit status and time, and the log lines.
cat >module-loads.sh <<'EOF'
while IFS=@ read -r name expect args; do
	name=$(echo $name)
	flux dmesg -C
	start=$(date +%s)
	timeout 30 flux module load "$FF_EMU_ARTIFACTS/ff-emu.so" $args 2>"$name.load-err"
	echo "$? $(($(date +%s) - start))" >"$name.load-rc"
	flux dmesg >"$name.dmesg"
done <module-cases
flux module list >modules.after
EOF
test_expect_success 'module arguments: load each bad set into one instance' '
	timeout 120 flux start -Slog-filename=module-loads.broker.log sh module-loads.sh &&
	leftovers
'
while IFS=@ read -r name expect args; do
	name=$(echo $name) expect=${expect# } expect=${expect% }
	# The line the damaged config was given is known once it was damaged.
	expect=$(echo "$expect" | sed "s/LINE/$(cat damaged.line 2>/dev/null)/")
	test_expect_success "module arguments $name: exit 1 naming /$expect/" '
		sed "s/^/# $name: /" "$name.load-rc" "$name.dmesg" >&5 &&
		read rc seconds <"$name.load-rc" &&
		test "$rc" = 1 && test "$seconds" -le 30 &&
		grep -E "ff-emu\.err\[0\]: ff-emu: setup failed: $expect" "$name.dmesg" &&
		! grep -q "^ff-emu " modules.after
	'
done <module-cases

test_expect_success 'no process of this test is left behind' '
	leftovers
'

test_done
