#!/bin/sh
test_description='profiling a replay with OpenTelemetry (--otel)

A generated workload of 20 jobs is replayed with --otel while a stand-in collector
(t/scripts/otlp-receiver.py, OTLP/HTTP with JSON bodies, stdlib Python) listens on a
local port named by OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. It receives exactly the lines
of output/otel_spans.jsonl: spans of the run, the start-up, every step and its parts,
every barrier phase and every job, each under the right parent, jobs linked to the
steps they were submitted, started and finished in, under the service name given;
otel_summary.csv counts the same spans. With otel_enabled in the config and an endpoint
where nothing listens, the replay succeeds with one warning and the same local files.
--no-otel writes no OpenTelemetry file; a bad endpoint and the earlier bridge options
are refused.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate
command -v python3 >/dev/null 2>&1 && test_set_prereq PYTHON3

FF_RUNS=$PWD/runs
RECEIVER=$SHARNESS_TEST_SRCDIR/scripts/otlp-receiver.py
PHASES="barrier.alloc_query barrier.inactive barrier.ingest barrier.quiescent barrier.sched
	barrier.scheduler_sync barrier.starts"

# spans RUN: every span of RUN's otel_spans.jsonl, as one JSON array in RUN.spans.
spans() {
	jq -s "[.[].resourceSpans[].scopeSpans[].spans[]]" "$FF_RUNS/$1/output/otel_spans.jsonl" >"$1.spans"
}

# check RUN JQ_FILTER: RUN.spans satisfies the filter (shown with the spans' names if not).
check() {
	jq -e "$2" "$1.spans" >/dev/null || {
		echo "$1.spans does not satisfy: $2" | sed "s/^/# /" >&5
		jq -c "group_by(.name) | map({(.[0].name): length}) | add" "$1.spans" | sed "s/^/#   /" >&5
		false
	}
}

test_expect_success 'setup: a generated workload of 20 jobs on 2 nodes' '
	flux-fiction-generate --model uniform --jobs 20 --nodes 2 --seed 3 --mean-interarrival 60 \
		--max-runtime 600 -o otel.swf &&
	ff_experiment otel otel.swf 2 1 "$(ff_queue_policy easy)" &&
	ff_experiment otelcfg otel.swf 2 1 "$(ff_queue_policy easy)" "otel_enabled = true" &&
	FF_OTEL_EXPORT=$(flux-fiction-run --print-paths | sed -n "s/^FF_OTEL_EXPORT=//p") &&
	test -x "$FF_OTEL_EXPORT"
'

test_expect_success PYTHON3 'a local OTLP/HTTP receiver listens' '
	python3 "$RECEIVER" port received.jsonl 120 &
	echo $! >receiver.pid &&
	ff_wait_until 20 test -s port &&
	ENDPOINT=http://127.0.0.1:$(cat port)/v1/traces
'

test_expect_success PYTHON3 'a replay with --otel sends its spans to the endpoint of the environment' '
	OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=$ENDPOINT ff_replay sent otel --otel --otel-service-name ff-t2410 &&
	! grep -i warning sent.err &&
	grep -E "^flux-fiction-otel-export: [0-9]+ spans in [0-9]+ requests sent to $ENDPOINT$" sent.err
'

test_expect_success PYTHON3 'the receiver got exactly the lines of otel_spans.jsonl' '
	test_cmp "$FF_RUNS/sent/output/otel_spans.jsonl" received.jsonl &&
	spans sent &&
	n=$(jq length sent.spans) &&
	grep -q "^flux-fiction-otel-export: $n spans in " sent.err
'

test_expect_success PYTHON3 'every line comes from the service named, with the run directory, trace and policy' '
	jq -e -s --arg dir "$FF_RUNS/sent" "map(.resourceSpans[].resource.attributes | from_entries
		| map_values(.stringValue)) | unique == [{\"service.name\": \"ff-t2410\", \"service.version\":
		\"0.1.0\", \"ff.run_dir\": \$dir, \"ff.trace\": (\$dir + \"/inputs/otel.swf\"), \"ff.policy\": \"easy\"}]" \
		received.jsonl
'

test_expect_success PYTHON3 'spans of every kind, in one trace, with distinct ids' '
	names=$(echo replay startup step step.arrivals step.releases job $PHASES | tr " " "\n" | sort | tr "\n" " ") &&
	check sent "map(.name) | unique | join(\" \") + \" \" == \"$names\"" &&
	check sent "map(.traceId) | unique | length == 1" &&
	check sent "map(.spanId) | unique | length == length" &&
	check sent "all(.startTimeUnixNano | tonumber > 1.6e18) and all((.endTimeUnixNano | tonumber)
		>= (.startTimeUnixNano | tonumber))"
'

test_expect_success PYTHON3 'each span is under its parent: run, step, step part' '
	check sent "(map({(.spanId): .name}) | add) as \$name
		| map(select(.name != \"replay\") | {child: .name, parent: \$name[.parentSpanId]})
		| all(if .child == \"startup\" or .child == \"step\" or .child == \"job\" then .parent == \"replay\"
		      elif .child | startswith(\"step.\") then .parent == \"step\"
		      else .parent == \"step.releases\" or .parent == \"step.arrivals\" end)" &&
	check sent "map(select(.name == \"replay\" and .parentSpanId == \"\")) | length == 1" &&
	check sent "map(select(.name == \"barrier.inactive\")) as \$i | (map(select(.name == \"step.releases\")
		| .spanId)) as \$r | \$i | all(.parentSpanId as \$p | \$r | any(. == \$p))"
'

test_expect_success PYTHON3 'steps carry their simulated time, releases, arrivals and starts' '
	steps=$(jq .steps "$FF_RUNS/sent/output/summary.json") &&
	check sent "map(select(.name == \"step\") | .attributes | from_entries | map_values(.intValue // .doubleValue))
		| length == $steps and (map(.\"ff.step\" | tonumber) == [range(1; $steps + 1)])
		and all(.\"ff.sim_time\" > 1.5e9) and (map(.\"ff.arrivals\" | tonumber) | add == 20)
		and (map(.\"ff.releases\" | tonumber) | add == 20) and (map(.\"ff.jobs_started\" | tonumber) | add == 20)
		and all((.\"ff.events\" | tonumber) == (.\"ff.releases\" | tonumber) + (.\"ff.arrivals\" | tonumber))"
'

test_expect_success PYTHON3 'each job: its attributes, and links to the steps it was submitted, started, finished in' '
	check sent "(map(select(.name == \"step\")) | map({(.spanId): true}) | add) as \$step
		| map(select(.name == \"job\")) | length == 20 and all(
			(.attributes | from_entries) as \$a
			| (\$a | has(\"ff.trace_idx\") and has(\"ff.jobid\") and has(\"ff.nodes\") and has(\"ff.storage_gib\"))
			and \$a[\"ff.result\"].stringValue == \"completed\"
			and (.links | map(.attributes[0].value.stringValue) == [\"submitted\", \"started\", \"finished\"])
			and (.links | all(\$step[.spanId])))" &&
	check sent "map(select(.name == \"job\") | .attributes | from_entries | .\"ff.trace_idx\".intValue | tonumber)
		| sort == [range(20)]"
'

test_expect_success PYTHON3 'otel_summary.csv counts the spans of each name' '
	jq -r "group_by(.name) | map([.[0].name, length] | join(\",\")) | .[]" sent.spans >expected.counts &&
	summary=$FF_RUNS/sent/output/otel_summary.csv &&
	test "$(head -n 1 "$summary")" = "span,count,total_ms,mean_ms,p50_ms,p95_ms,max_ms" &&
	tail -n +2 "$summary" | cut -d, -f1,2 >summary.counts &&
	test_cmp expected.counts summary.counts
'

test_expect_success PYTHON3 'a finished run can be sent again, to a collector started later' '
	"$FF_OTEL_EXPORT" "$FF_RUNS/sent/output/otel_spans.jsonl" --endpoint "$ENDPOINT" 2>again.err &&
	cat "$FF_RUNS/sent/output/otel_spans.jsonl" "$FF_RUNS/sent/output/otel_spans.jsonl" >twice.jsonl &&
	test_cmp twice.jsonl received.jsonl
'

test_expect_success PYTHON3 'stop the receiver' '
	kill "$(cat receiver.pid)" &&
	ff_wait_until 20 sh -c "! kill -0 $(cat receiver.pid) 2>/dev/null"
'

test_expect_success 'otel_enabled with no collector: the replay succeeds, with one warning' '
	ff_replay alone otelcfg --otel-endpoint http://127.0.0.1:1/v1/traces &&
	grep -i warning alone.err >warnings &&
	test "$(wc -l <warnings)" = 1 &&
	grep "^flux-fiction-otel-export: warning: spans not exported to http://127.0.0.1:1/v1/traces" warnings
'

test_expect_success 'and the local files are complete all the same' '
	spans alone &&
	check alone "map(select(.name == \"job\")) | length == 20" &&
	check alone "map(select(.name == \"replay\")) | length == 1" &&
	check alone "map(select(.name == \"step\")) | length == $(jq .steps "$FF_RUNS/alone/output/summary.json")" &&
	grep -q "^job,20," "$FF_RUNS/alone/output/otel_summary.csv"
'

test_expect_success '--no-otel overrides the config: no OpenTelemetry files, no exporter' '
	ff_replay off otelcfg --no-otel &&
	! ls "$FF_RUNS/off/output" | grep otel &&
	! grep otel-export off.err
'

test_expect_success 'a bad endpoint, or an option of the datagram bridge, is refused before the run starts' '
	test_must_fail flux-fiction-run otel.toml --run-dir "$FF_RUNS/bad" --otel --otel-endpoint localhost:4318 2>bad.err &&
	grep "needs an http:// URL" bad.err &&
	! test -e "$FF_RUNS/bad" &&
	test_must_fail flux-fiction-run otel.toml --run-dir "$FF_RUNS/bad" --otel-spans-file s.jsonl 2>bad.err &&
	grep "unknown option --otel-spans-file" bad.err &&
	! test -e "$FF_RUNS/bad"
'

test_done
