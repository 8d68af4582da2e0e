#!/usr/bin/env python3
"""Independent textbook schedulers for checking emulated schedules.

Reads the same trace the emulator replays (sacct-style CSV or SWF) and computes, for
every job, its start time on a machine of N identical nodes where each job takes whole
nodes, under one of two policies:
  fcfs  strict first-come first-served: the first job that does not fit blocks the rest;
  easy  EASY backfilling: the first job that does not fit gets a reservation at the
        earliest time enough nodes are free, judged from the running jobs' time limits;
        a later job may start now only if it ends (by its limit) before that reservation,
        or uses no more nodes than the reservation leaves spare.
At each event time, jobs that end are freed first, then arrivals join the queue, then
one scheduling pass runs (the emulator gives the scheduler the same order).

With --node-aware the machine is a row of nodes 0..N-1 (broker ranks) and the model
places every allocation and reservation on specific nodes the way Fluxion does with its
default match policy; see simulate_nodes() for what that means for EASY.

With --cancel IDX@TIME (repeatable) the job with that trace_idx is canceled at epoch
time TIME, as `flux cancel` during a paused replay does: cancels at one time are applied
after that time's frees and arrivals, in the order given, each followed by a scheduling
pass (Fluxion's qmanager makes the queue schedulable when a pending job is removed, and
a free always calls for a pass). A pending job leaves the queue and never runs; a running
job ends at TIME and frees its nodes then.

With --compare CSV it reads the emulator's job_transitions.csv and prints how many start
times agree (and the first disagreements), exiting non-zero below --min-agreement; in
node-aware mode it also counts the jobs whose NODELIST is the model's node set.
Standard library only, so that it runs wherever the tests run.
"""
import argparse
import csv
import datetime
import gzip
import heapq
import io
import math
import re
import sys

DEFAULT_SWF_EPOCH = 1546300800  # 2019-01-01T00:00:00Z, as the emulator's default


def parse_duration(text):
    text = text.strip()
    if text.upper() in ("UNLIMITED", "PARTITION_LIMIT"):
        return None
    m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", text)
    if not m:
        raise ValueError(f"bad duration {text!r}")
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def parse_submit(text):
    stamp = datetime.datetime.fromisoformat(text.strip()).replace(tzinfo=datetime.timezone.utc)
    return stamp.timestamp()


def read_csv_trace(path):
    with open(path, "rb") as raw, io.TextIOWrapper(gzip.GzipFile(fileobj=raw) if raw.peek(2).startswith(b"\x1f\x8b") else raw) as f:
        lines = [l for l in f if l.strip() and not l.lstrip().startswith("#")]
    delim = "|" if "|" in lines[0] else ","
    jobs = []
    for idx, row in enumerate(csv.DictReader(lines, delimiter=delim, skipinitialspace=True)):
        row = {k.strip(): v.strip() for k, v in row.items()}
        submit = float(row["t_submit"]) if row.get("t_submit") else parse_submit(row["Submit"])
        run = float(row["elapsed_s"]) if row.get("elapsed_s") else parse_duration(row["Elapsed"])
        jobs.append(dict(idx=idx, submit=submit, run=run, limit=parse_duration(row["Timelimit"]),
                         nodes=int(row["NNodes"])))
    return jobs


def read_swf_trace(path, procs_per_node, max_jobs, epoch):
    jobs = []
    with open(path, "rb") as raw, io.TextIOWrapper(gzip.GzipFile(fileobj=raw) if raw.peek(2).startswith(b"\x1f\x8b") else raw) as f:
        for line in f:
            if line.startswith(";"):
                m = re.match(r";\s*UnixStartTime:\s*(\d+)", line)
                if m and epoch is None:
                    epoch = int(m.group(1))
                continue
            fields = line.split()
            if not fields:
                continue
            submit, run = float(fields[1]), float(fields[3])
            procs = int(fields[4]) if int(fields[4]) > 0 else int(fields[7])
            requested = float(fields[8])
            if run < 0 or procs <= 0:
                continue
            limit = requested if requested >= run else math.ceil(run / 60) * 60
            jobs.append(dict(idx=len(jobs), submit=submit, run=run, limit=limit,
                             nodes=math.ceil(procs / procs_per_node)))
            if max_jobs and len(jobs) >= max_jobs:
                break
    base = DEFAULT_SWF_EPOCH if epoch is None else epoch
    for j in jobs:
        j["submit"] += base
    return jobs


def simulate(jobs, nnodes, policy, cancels=(), canceled=None):
    for j in jobs:
        if j["nodes"] > nnodes:
            raise SystemExit(f"job {j['idx']} needs {j['nodes']} nodes; the machine has {nnodes}")
    arrivals = sorted(jobs, key=lambda j: (j["submit"], j["idx"]))
    running = []  # heap of (end, idx, nodes, limit_end)
    queue = []
    free = nnodes
    start = {}
    ai = 0

    def launch(j, now):
        nonlocal free
        free -= j["nodes"]
        start[j["idx"]] = now
        end = now + (j["run"] if j["limit"] is None else min(j["run"], j["limit"]))
        limit_end = math.inf if j["limit"] is None else now + j["limit"]
        heapq.heappush(running, (end, j["idx"], j["nodes"], limit_end))

    def schedule(now):
        waiting = []
        reservation = None  # (shadow time, spare nodes at shadow)
        for j in queue:
            if reservation is None:
                if j["nodes"] <= free:
                    launch(j, now)
                    continue
                if policy == "fcfs":
                    waiting.append(j)
                    reservation = (now, 0)  # blocks everything behind it
                    continue
                avail, shadow = free, now
                for limit_end, nodes in sorted((r[3], r[2]) for r in running):
                    if avail >= j["nodes"]:
                        break
                    avail, shadow = avail + nodes, limit_end
                reservation = (shadow, avail - j["nodes"])
                waiting.append(j)
                continue
            shadow, spare = reservation
            if policy == "easy" and j["nodes"] <= free:
                ends_in_time = j["limit"] is not None and now + j["limit"] <= shadow
                if ends_in_time or j["nodes"] <= spare:
                    if not ends_in_time:
                        reservation = (shadow, spare - j["nodes"])
                    launch(j, now)
                    continue
            waiting.append(j)
        queue[:] = waiting

    ci = 0
    while ai < len(arrivals) or running or ci < len(cancels):
        times = [running[0][0]] if running else []
        if ai < len(arrivals):
            times.append(arrivals[ai]["submit"])
        if ci < len(cancels):
            times.append(cancels[ci][1])
        now = min(times)
        freed = False
        while running and running[0][0] <= now:
            free += heapq.heappop(running)[2]
            freed = True
        if freed and queue:
            schedule(now)
        arrived = False
        while ai < len(arrivals) and arrivals[ai]["submit"] <= now:
            queue.append(arrivals[ai])
            ai += 1
            arrived = True
        if arrived:
            schedule(now)
        while ci < len(cancels) and cancels[ci][1] <= now:
            idx = cancels[ci][0]
            ci += 1
            entry = next((r for r in running if r[1] == idx), None)
            if entry is not None:
                running.remove(entry)
                heapq.heapify(running)
                free += entry[2]
            queue[:] = [j for j in queue if j["idx"] != idx]
            canceled[idx] = now if entry is not None else None
            schedule(now)
    if queue:
        raise SystemExit(f"{len(queue)} jobs never started")
    return start


# Node ranks in Fluxion's search order: a node's weight is fixed when it is last taken
# into an allocation or reservation (see simulate_nodes).
UNTOUCHED, TAKEN_WHILE_IDLE, TAKEN_WHILE_BUSY = 2, 1, 0


def simulate_nodes(jobs, nnodes, policy, queue_depth=None, cancels=(), canceled=None):
    """Node-aware model of Fluxion (qmanager fcfs/easy, resource match policy "first").

    What decides start times beyond node counts:
    * Node choice. "first" (the default match-policy, flux-config-sched-fluxion-resource(5))
      is high-ID-first, node-centric, stop at the first match: the resource graph walks
      the cluster's nodes in an order kept per edge, (weight, node id) descending, and
      takes the first N nodes that are free over the job's whole span. Every node starts
      with the largest weight; whenever a node is taken into an allocation or a
      reservation its weight becomes what is free on it at that moment: nothing for an
      allocation now, everything for a reservation of a node idle now. Frees do not
      change weights. So untouched nodes go first (high ranks first), then nodes last
      reserved while idle, then the rest; a freed node is not preferred.
    * Planned spans. A running job holds its nodes over [start, start + limit) until it
      is freed; a job is placed now only on nodes free over [now, now + limit).
    * EASY is backfilling with reservation depth 1: each pass drops the previous pass's
      reservation and walks the queue in submit order. A job is allocated now if N nodes
      are free; the first job that is not gets a reservation at the earliest time T > now
      when N nodes are free over its span (judged from the running jobs' limits), on the
      first N such nodes in search order. A later job is allocated now on free nodes,
      leaving out the reserved ones unless its limit ends by T. So a backfill job must
      fit on specific spare nodes, not on a spare count, and may find none.
      (A job with no finite T would be "blocked" by Fluxion and not hold the reservation;
      here it is skipped the same way.)
    * Pass boundaries. The emulator releases the jobs ending at one time one by one, each
      followed by a barrier that waits until the scheduler is quiescent, so a full pass
      runs after each free, in trace order. Arrivals of a step make one pass.
    * Queue depth. A pass walks at most `queue_depth` jobs (qmanager's queue-depth,
      default 32): allocated, reserved or not placed, each counts. When it stops at that
      depth with more jobs waiting, it is continued only if it "scheduled something"
      (queue_policy_bf_base_impl.hpp, next_match_iter: is_scheduled()), and another pass
      then follows at once, starting again from the head of the queue. That flag is set
      by an allocation or a reservation and cleared by post_sched_loop, which the
      qmanager's check watcher runs in every reactor iteration after one that scheduled
      something. Each job's match is its own request to the resource module, answered
      (with the stream's ENODATA after it) in later iterations, so the flag is cleared
      between any two jobs' answers: at the end of a pass it says whether the *last* job
      walked was allocated or reserved, and that is the rule here. (Taking "any job of
      the pass" instead disagrees with Fluxion on deep queues, and counting reservations
      that way would make every pass that reserves continue forever.) FCFS passes send
      the first queue-depth jobs in one request and are continued when all of them
      were allocated (queue_policy_fcfs_impl.hpp), which is the same rule.
    Returns (start time by trace_idx, node list by trace_idx).
    """
    for j in jobs:
        if j["nodes"] > nnodes:
            raise SystemExit(f"job {j['idx']} needs {j['nodes']} nodes; the machine has {nnodes}")
    arrivals = sorted(jobs, key=lambda j: (j["submit"], j["idx"]))
    weight = [UNTOUCHED] * nnodes
    holder = [None] * nnodes  # trace_idx of the job running on each node
    planned_end = {}          # trace_idx -> start + limit (Fluxion's span)
    running = []              # heap of (actual end, trace_idx)
    start, placed = {}, {}
    queue = []
    ai = 0

    def search_order(candidates):
        return sorted(candidates, key=lambda n: (weight[n], n), reverse=True)

    def launch(j, nodes, now):
        for n in nodes:
            holder[n] = j["idx"]
            weight[n] = TAKEN_WHILE_BUSY
        start[j["idx"]] = now
        placed[j["idx"]] = sorted(nodes)
        end = now + (j["run"] if j["limit"] is None else min(j["run"], j["limit"]))
        planned_end[j["idx"]] = math.inf if j["limit"] is None else now + j["limit"]
        heapq.heappush(running, (end, j["idx"]))

    def reserve(j):
        """(T, reserved nodes) for a job that does not fit now, or None."""
        for t in sorted({planned_end[h] for h in holder if h is not None}):
            if t == math.inf:
                break
            usable = [n for n in range(nnodes) if holder[n] is None or planned_end[holder[n]] <= t]
            if len(usable) >= j["nodes"]:
                nodes = search_order(usable)[: j["nodes"]]
                for n in nodes:
                    weight[n] = TAKEN_WHILE_IDLE if holder[n] is None else TAKEN_WHILE_BUSY
                return t, set(nodes)
        return None

    def one_pass(now, depth):
        """Walks at most `depth` queued jobs; True if another pass is due."""
        waiting = []
        reservation = None  # (T, nodes)
        blocked = False     # fcfs: the first misfit stops the pass
        seen, last_took, more = 0, False, False
        for j in queue:
            if blocked or seen >= depth:
                more = more or not blocked
                waiting.append(j)
                continue
            free = [n for n in range(nnodes) if holder[n] is None]
            if reservation is not None:
                T, reserved = reservation
                ends_by_t = j["limit"] is not None and now + j["limit"] <= T
                free = [n for n in free if ends_by_t or n not in reserved]
            if len(free) >= j["nodes"]:
                launch(j, search_order(free)[: j["nodes"]], now)
                seen, last_took = seen + 1, True
                continue
            waiting.append(j)
            if policy == "fcfs":
                blocked = True
                seen, last_took = seen + 1, False
            elif reservation is None:
                reservation = reserve(j)
                if reservation is not None:
                    seen, last_took = seen + 1, True
            else:
                seen, last_took = seen + 1, False
        queue[:] = waiting
        return last_took and more

    def schedule(now):
        while one_pass(now, queue_depth or math.inf):
            pass

    ci = 0
    while ai < len(arrivals) or running or ci < len(cancels):
        times = [running[0][0]] if running else []
        if ai < len(arrivals):
            times.append(arrivals[ai]["submit"])
        if ci < len(cancels):
            times.append(cancels[ci][1])
        now = min(times)
        while running and running[0][0] <= now:
            _, idx = heapq.heappop(running)
            for n in placed[idx]:
                holder[n] = None
            if queue:
                schedule(now)
        arrived = False
        while ai < len(arrivals) and arrivals[ai]["submit"] <= now:
            queue.append(arrivals[ai])
            ai += 1
            arrived = True
        if arrived:
            schedule(now)
        while ci < len(cancels) and cancels[ci][1] <= now:
            idx = cancels[ci][0]
            ci += 1
            was_running = any(i == idx for _, i in running)
            if was_running:
                running[:] = [r for r in running if r[1] != idx]
                heapq.heapify(running)
                for n in placed[idx]:
                    holder[n] = None
            queue[:] = [j for j in queue if j["idx"] != idx]
            canceled[idx] = now if was_running else None
            schedule(now)
    if queue:
        raise SystemExit(f"{len(queue)} jobs never started")
    return start, placed


def compare(model, emulated_csv, min_agreement, show, nodes=None, canceled=None):
    with open(emulated_csv) as f:
        emulated = {int(r["trace_idx"]): r for r in csv.DictReader(f)}
    if canceled:
        # Canceled while pending: no START; while running: ended at the cancel time.
        right = 0
        for idx, end in sorted(canceled.items()):
            row = emulated.get(idx, {})
            got = (row.get("RESULT"), row.get("START") or None, row.get("FINISH") or None)
            ok = got[0] == "canceled" and (got[1] is None if end is None else abs(float(got[2] or "nan") - end) <= 1e-6)
            right += ok
            if not ok:
                print(f"trace_idx={idx} canceled {'pending' if end is None else f'at {end:.6f}'}: "
                      f"emulated RESULT={got[0]} START={got[1]} FINISH={got[2]}")
        print(f"canceled: {right}/{len(canceled)} jobs as the model says")
        if right < len(canceled):
            return False
    bad = []
    for idx, s in sorted(model.items()):
        row = emulated.get(idx)
        got = float(row["START"]) if row and row["START"] else None
        if got is None or abs(got - s) > 1e-6:
            bad.append((idx, s, got))
    for idx, want, got in bad[:show]:
        print(f"trace_idx={idx} model_start={want:.6f} emulated_start={got}")
    n = len(model)
    agree = (n - len(bad)) / n if n else 1.0
    print(f"agreement: {n - len(bad)}/{n} start times ({100 * agree:.2f}%)")
    if nodes is not None:
        same = sum(1 for idx, want in nodes.items() if idx in emulated
                   and sorted(int(r) for r in emulated[idx]["NODELIST"].split(",") if r) == want)
        print(f"nodes: {same}/{len(nodes)} jobs on the model's nodes")
    return agree >= min_agreement


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--nodes", type=int, required=True)
    ap.add_argument("--policy", choices=("fcfs", "easy"), default="fcfs")
    ap.add_argument("--node-aware", action="store_true",
                    help="place jobs on specific nodes as Fluxion does (default: counts only)")
    ap.add_argument("--queue-depth", type=int, default=32,
                    help="node-aware: jobs one scheduling pass considers, as Fluxion's "
                         "qmanager queue-depth (default 32, Fluxion's default)")
    ap.add_argument("--format", choices=("csv", "swf"), default=None)
    ap.add_argument("--procs-per-node", type=int, default=1)
    ap.add_argument("--max-jobs", type=int, default=0)
    ap.add_argument("--swf-epoch", type=int, default=None)
    ap.add_argument("--compare", metavar="JOB_TRANSITIONS_CSV")
    ap.add_argument("--min-agreement", type=float, default=1.0)
    ap.add_argument("--show", type=int, default=10)
    ap.add_argument("--cancel", action="append", default=[], metavar="IDX@TIME",
                    help="cancel the job with this trace_idx at this epoch time (repeatable, in order)")
    a = ap.parse_args()
    cancels = []
    for c in a.cancel:
        m = re.fullmatch(r"(\d+)@(\d+(?:\.\d+)?)", c)
        if not m:
            ap.error(f"--cancel {c}: expected TRACE_IDX@EPOCH_SECONDS")
        cancels.append((int(m.group(1)), float(m.group(2))))
    cancels.sort(key=lambda c: c[1])  # stable: cancels at one time keep their order
    canceled = {}
    fmt = a.format or ("swf" if a.trace.endswith(".swf") else "csv")
    if fmt == "swf":
        jobs = read_swf_trace(a.trace, a.procs_per_node, a.max_jobs, a.swf_epoch)
    else:
        jobs = read_csv_trace(a.trace)[: a.max_jobs or None]
    nodes = None
    if a.node_aware:
        starts, nodes = simulate_nodes(jobs, a.nodes, a.policy, a.queue_depth, cancels, canceled)
    else:
        starts = simulate(jobs, a.nodes, a.policy, cancels, canceled)
    if a.compare:
        sys.exit(0 if compare(starts, a.compare, a.min_agreement, a.show, nodes, canceled) else 1)
    out = csv.writer(sys.stdout)
    out.writerow(["trace_idx", "start"])
    for j in jobs:
        start = starts.get(j["idx"])
        out.writerow([j["idx"], "" if start is None else f"{start:.6f}"])


if __name__ == "__main__":
    main()
