#!/usr/bin/python3
"""Prints the cost table of docs/weighting.md (or docs/sharing.md) from bench_weighting's (or
bench_sharing's) Google Benchmark JSON: time per step and its ratio to a reference row at the
same argument. Standard library only.

  usage: benchmarks/cost_table.py results.json [reference-name]   (default reference: equal)
"""
import json
import re
import sys


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    ref = sys.argv[2] if len(sys.argv) > 2 else "equal"
    times, allocs, order, args = {}, {}, [], []
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, "median"):
            continue
        m = re.match(r"BM_\w+?/([\w+]+)/(.*?)(_median)?$", b["name"])
        if not m:
            continue
        name, arg = m.group(1), m.group(2)
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3}[b.get("time_unit", "us")]
        times[(name, arg)] = b["real_time"] * scale
        allocs[(name, arg)] = b.get("allocs/step")
        if name not in order:
            order.append(name)
        if arg not in args:
            args.append(arg)
    head = "| method |" + "".join(" %s (µs) | ×%s |" % (a, ref) for a in args) + " allocs/step |"
    print(head)
    print("|---|" + "---|---|" * len(args) + "---|")
    for name in order:
        cells = []
        for a in args:
            t, r = times.get((name, a)), times.get((ref, a))
            cells.append("%.0f | %s" % (t, "%.2f" % (t / r) if r else "—") if t else "— | —")
        al = max((allocs.get((name, a)) or 0) for a in args)
        print("| %s | %s | %g |" % (name, " | ".join(cells), al))


main()
