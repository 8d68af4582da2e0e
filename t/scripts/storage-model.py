#!/usr/bin/env python3
"""Independent FCFS model of rabbit storage per rack, for checking emulated schedules.

The machine is R racks, each holding N nodes of one core and S SSD shares of G GiB
(the synthetic system of the rabbit_nodes_per_rack, rabbit_shares_per_rack and
rabbit_share_gib keys). Every job of the trace takes whole nodes (NCPUS = NNodes) and asks
for storage (a GiB column, RabbitGiB or its spellings) that one rack can hold, so it is one
bundle (README, "Rabbit storage"; spec 4.3): its n nodes and ceil(g / G) whole shares
(SSDs are allocated exclusively), all in one rack, the rack of the bundle's slot.

Policy: strict FCFS, as Fluxion's qmanager runs it. At each event time, the jobs that end
are freed one at a time in trace order, each followed by a scheduling pass, then the jobs
submitted at that time join the queue and one pass runs (the order the emulator gives the
scheduler). A pass starts queued jobs from the head while the head fits; the first that
does not fit blocks the rest.

Which rack a job gets matters for later jobs. Fluxion's default match policy, "first"
(flux-config-sched-fluxion-resource(5)), is high-ID-first and stops at the first match:
it walks a vertex's children in the order of their edge weights, largest first, then the
larger unique id first, and the first rack that can hold the bundle is taken. Every edge
starts with the largest weight; when a job is allocated in a rack, that rack's edge gets
the number of nodes free in it at that moment (dfu_impl_update.cpp, upd_by_outedges, the
resource module's last pruning filter type, node). Frees do not change weights. So
untouched racks go first (the last rack first), then racks by how many nodes they had free
when they were last allocated. Nodes within a rack are not modelled: a bundle needs only
its count of free nodes there.

With --compare CSV it reads the emulator's job_transitions.csv and prints how many start
times and racks agree (STORAGE_GIVEN names the rack), exiting non-zero on any
disagreement. Standard library only.
"""
import argparse
import csv
import datetime
import heapq
import math
import re
import sys

GIB_COLUMNS = ("rabbitstoragegib", "rabbitgib", "rabbit_storage_gib", "rabbit_gib", "ssd_gib")


def parse_duration(text):
    m = re.fullmatch(r"(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", text.strip())
    if not m:
        raise SystemExit(f"bad duration {text!r}")
    days, hours, minutes, seconds = m.groups()
    return int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)


def parse_gib(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(?:gib)?", text.strip(), re.IGNORECASE)
    if not m:
        raise SystemExit(f"bad storage value {text!r}")
    return math.ceil(float(m.group(1)))


def read_trace(path):
    with open(path) as f:
        lines = [l for l in f if l.strip() and not l.lstrip().startswith("#")]
    jobs = []
    for idx, row in enumerate(csv.DictReader(lines, skipinitialspace=True)):
        row = {k.strip().lower(): v.strip() for k, v in row.items()}
        if row.get("t_submit"):
            submit = float(row["t_submit"])
        else:
            stamp = datetime.datetime.fromisoformat(row["submit"]).replace(tzinfo=datetime.timezone.utc)
            submit = stamp.timestamp()
        run = float(row["elapsed_s"]) if row.get("elapsed_s") else parse_duration(row["elapsed"])
        limit = parse_duration(row["timelimit"])
        gib = next((parse_gib(row[c]) for c in GIB_COLUMNS if row.get(c)), 0)
        jobs.append(dict(idx=idx, submit=submit, run=min(run, limit) if limit > 0 else run,
                         nodes=int(row["nnodes"]), gib=gib))
    return jobs


def simulate(jobs, racks, nodes_per_rack, shares_per_rack, share_gib):
    """Returns {trace_idx: (start, rack)}."""
    for j in jobs:
        j["shares"] = math.ceil(j["gib"] / share_gib)
        if j["gib"] <= 0 or j["nodes"] > nodes_per_rack or j["shares"] > shares_per_rack:
            raise SystemExit(f"job {j['idx']}: the model takes jobs of one bundle with storage "
                             f"(nodes <= {nodes_per_rack}, 0 < GiB <= {shares_per_rack * share_gib})")
    free_nodes = [nodes_per_rack] * racks
    free_shares = [shares_per_rack] * racks
    weight = [math.inf] * racks
    placed = {}
    running = []  # heap of (end, trace_idx)
    queue = []
    arrivals = sorted(jobs, key=lambda j: (j["submit"], j["idx"]))
    by_idx = {j["idx"]: j for j in jobs}

    def search_order():
        return sorted(range(racks), key=lambda r: (weight[r], r), reverse=True)

    def one_pass(now):
        while queue:
            j = queue[0]
            rack = next((r for r in search_order()
                         if free_nodes[r] >= j["nodes"] and free_shares[r] >= j["shares"]), None)
            if rack is None:
                return
            queue.pop(0)
            free_nodes[rack] -= j["nodes"]
            free_shares[rack] -= j["shares"]
            weight[rack] = free_nodes[rack]
            placed[j["idx"]] = (now, rack)
            heapq.heappush(running, (now + j["run"], j["idx"]))

    ai = 0
    while ai < len(arrivals) or running:
        times = [running[0][0]] if running else []
        if ai < len(arrivals):
            times.append(arrivals[ai]["submit"])
        now = min(times)
        ending = []
        while running and running[0][0] <= now:
            ending.append(heapq.heappop(running)[1])
        for idx in sorted(ending):
            _, rack = placed[idx]
            free_nodes[rack] += by_idx[idx]["nodes"]
            free_shares[rack] += by_idx[idx]["shares"]
            if queue:
                one_pass(now)
        arrived = False
        while ai < len(arrivals) and arrivals[ai]["submit"] <= now:
            queue.append(arrivals[ai])
            ai += 1
            arrived = True
        if arrived:
            one_pass(now)
    if queue:
        raise SystemExit(f"{len(queue)} jobs never started")
    return placed


def compare(placed, emulated_csv, show):
    with open(emulated_csv) as f:
        emulated = {int(r["trace_idx"]): r for r in csv.DictReader(f)}
    bad_start, bad_rack = [], []
    for idx, (start, rack) in sorted(placed.items()):
        row = emulated.get(idx)
        got = float(row["START"]) if row and row["START"] else None
        if got is None or abs(got - start) > 1e-6:
            bad_start.append((idx, start, got))
        given = row["STORAGE_GIVEN"] if row else ""
        if given.split(":")[0] != f"rack{rack}" or ";" in given:
            bad_rack.append((idx, rack, given))
    for idx, want, got in bad_start[:show]:
        print(f"trace_idx={idx} model_start={want:.6f} emulated_start={got}")
    for idx, want, got in bad_rack[:show]:
        print(f"trace_idx={idx} model_rack=rack{want} emulated_storage={got!r}")
    n = len(placed)
    print(f"agreement: {n - len(bad_start)}/{n} start times, {n - len(bad_rack)}/{n} racks")
    return not bad_start and not bad_rack


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--racks", type=int, required=True)
    ap.add_argument("--nodes-per-rack", type=int, required=True)
    ap.add_argument("--shares-per-rack", type=int, required=True)
    ap.add_argument("--share-gib", type=int, required=True)
    ap.add_argument("--compare", metavar="JOB_TRANSITIONS_CSV")
    ap.add_argument("--show", type=int, default=10)
    a = ap.parse_args()
    placed = simulate(read_trace(a.trace), a.racks, a.nodes_per_rack, a.shares_per_rack, a.share_gib)
    if a.compare:
        sys.exit(0 if compare(placed, a.compare, a.show) else 1)
    out = csv.writer(sys.stdout)
    out.writerow(["trace_idx", "start", "rack"])
    for idx, (start, rack) in sorted(placed.items()):
        out.writerow([idx, f"{start:.6f}", f"rack{rack}"])


if __name__ == "__main__":
    main()
