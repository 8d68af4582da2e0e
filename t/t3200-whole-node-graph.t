#!/bin/sh
test_description='whole_node_graph: the same schedule from a graph of one core per node

A generated Lublin workload, every job taking whole nodes of 16 cores (SWF processors
are nodes x cores), is replayed on 24 nodes with the full graph and with
whole_node_graph = true, under fcfs and easy: start, finish and nodes of every job are
the same, and so are the NCORES column and the utilization, which stay in the
emulated machine units. A trace with a job that takes part of a node is refused by the
pre-flight check, naming its line.'

. "${SHARNESS_SH:-/usr/share/sharness/sharness.sh}"

ff_require_flux
ff_require_commands flux-fiction-run flux-fiction-generate

NODES=24

# outcome RUN: what must not depend on the graph: trace_idx,START,FINISH,NODELIST,NCORES
# of every job, and the utilization figures of summary.json.
outcome() {
	cut -d, -f1,5,6,10,13 "$FF_RUNS/$1/output/job_transitions.csv" >"$1.outcome" &&
	jq -c "{node_utilization_pct, core_utilization_pct, jobs_completed}" \
		"$FF_RUNS/$1/output/summary.json" >>"$1.outcome"
}

same_outcome() {
	outcome "$1" && outcome "$2" && test_cmp "$1.outcome" "$2.outcome"
}

test_expect_success 'setup: a whole-node workload and its experiments' '
	FF_RUNS=$PWD/runs && export FF_RUNS &&
	flux-fiction-generate --model lublin --jobs 200 --nodes $NODES --cores-per-node 16 \
		--seed 11 --load 1.2 -o whole.swf &&
	for policy in fcfs easy; do
		json=$(ff_queue_policy $policy) &&
		ff_experiment $policy whole.swf $NODES 16 "$json" "swf_procs_per_node = 16" &&
		ff_experiment $policy.coarse whole.swf $NODES 16 "$json" "swf_procs_per_node = 16" \
			"whole_node_graph = true" || return 1
	done
'

for policy in fcfs easy; do
	test_expect_success "$policy: the same schedule with whole_node_graph" "
		ff_replay $policy $policy &&
		ff_replay $policy.coarse $policy.coarse &&
		same_outcome $policy $policy.coarse
	"
done

test_expect_success 'the scheduler sees one core per node' '
	jq -e ".execution.R_lite[0].children == {\"core\": \"0\"}" "$FF_RUNS/easy.coarse/instance/R.json" &&
	jq -e ".execution.R_lite[0].children == {\"core\": \"0-15\"}" "$FF_RUNS/easy/instance/R.json"
'

test_expect_success 'a job that takes part of a node is refused, naming its line' '
	cat >part.csv <<-\EOF &&
	JobID,NNodes,NCPUS,Timelimit,Submit,Elapsed
	1,2,32,00:10:00,2019-01-01T00:00:00,00:06:00
	2,1,4,00:10:00,2019-01-01T00:01:00,00:06:00
	EOF
	ff_experiment part part.csv 4 16 "{}" "whole_node_graph = true" &&
	test_expect_code 1 timeout 30 flux-fiction-run part.toml --run-dir "$PWD/part.run" 2>part.err &&
	grep "part.csv:3: job 2 asks for nnodes=1 cores_per_node=4" part.err &&
	grep "whole_node_graph needs jobs that take whole nodes" part.err
'

test_done
