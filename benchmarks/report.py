#!/usr/bin/python3
"""Turns Google Benchmark JSON from bench_core into docs/benchmarks.md (standard library only)."""
import json
import platform
import re
import subprocess
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    allocs = {}
    gflops = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") not in (None, "median"):
            continue
        name = re.sub(r"/manual_time$", "", re.sub(r"_median$", "", b["name"]))
        unit = b.get("time_unit", "ns")
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[unit]
        rows[name] = b["real_time"] * scale  # milliseconds
        if "GFLOPS" in b:
            gflops[name] = b["GFLOPS"] / 1e9
        if "allocs/step" in b:
            allocs[name] = b["allocs/step"]
        if "ratio" in b:
            allocs[name + "#paired"] = (b["onestone_ms"], b["libtorch_ms"], b["ratio"])
    return data.get("context", {}), rows, allocs, gflops


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def main():
    src = sys.argv[1]
    ctx, rows, allocs, gflops = load(src)
    def key(name):
        parts = name.split("/")
        return [parts[0]] + [int(x) if x.isdigit() else 0 for x in parts[1:]]

    pairs = []
    for name, ms in sorted(rows.items(), key=lambda kv: key(kv[0])):
        m = re.match(r"BM_Onestone_(\w+)/(.*)$", name)
        if m:
            twin = rows.get("BM_Torch_%s/%s" % (m.group(1), m.group(2)))
            pairs.append((m.group(1), m.group(2), ms, twin))
    if len(sys.argv) > 3 and sys.argv[2] == "--plot":
        # One row per workload with a twin: its time ratio, from the paired run when there is
        # one (same machine state), else from the separate runs.
        with open(sys.argv[3], "w") as f:
            i = 0
            for w, args, ours, twin in pairs:
                if not twin:
                    continue
                paired = allocs.get("BM_Paired_%s/%s#paired" % (w, args))
                ratio = paired[2] if paired else ours / twin
                f.write('%d "%s/%s" %.4f\n' % (i, w, args, ratio))
                i += 1
        return
    dst = sys.argv[2]
    lines = ["# Benchmarks", "",
             "Measured by `benchmarks/compare.sh`: onestone and its libtorch twin run in the same",
             "process (Google Benchmark, median of 3 repetitions), same shapes, same optimizer (Adam),",
             "same thread count; libtorch in the tuned setup (OpenBLAS's OpenMP build with SkylakeX kernels;",
             "glibc keeping freed memory, `MALLOC_*` in compare.sh: without it libtorch's large tensors",
             "come back as fresh pages every step, whose faults are costly on this virtual machine).",
             "Arguments are `batch/threads`. Ratio = onestone time / libtorch time (lower is better).", "",
             "Machine: %s, %s cores; built with -O3 -march=native." % (cpu_name(), ctx.get("num_cpus", "?")), ""]
    lines += ["| workload | batch/threads | onestone (ms) | libtorch (ms) | ratio | allocs/step |",
              "|---|---|---|---|---|---|"]
    for w, args, ours, twin in pairs:
        ratio = "%.2f" % (ours / twin) if twin else "—"
        a = allocs.get("BM_Onestone_%s/%s" % (w, args))
        lines.append("| %s | %s | %.3f | %s | %s | %s |" % (
            w, args, ours, "%.3f" % twin if twin else "—", ratio, "%g" % a if a is not None else "—"))
    lines += ["", "![onestone time over libtorch time per workload](benchmarks.png)"]
    paired = [(n[:-len("#paired")], v) for n, v in allocs.items() if n.endswith("#paired")]
    if paired:
        lines += ["", "Paired runs (each iteration times one onestone step, then one libtorch step, so both",
                  "see the same machine state; the most trustworthy ratios on a machine whose speed drifts):", "",
                  "| workload | batch/threads | onestone (ms) | libtorch (ms) | ratio |", "|---|---|---|---|---|"]
        for n, (a, b, r) in sorted(paired, key=lambda kv: key(kv[0])):
            m = re.match(r"BM_Paired_(\w+)/(.*)$", n)
            lines.append("| %s | %s | %.3f | %.3f | %.2f |" % (m.group(1), m.group(2), a, b, r))
    floors = []
    for name, ms in sorted(rows.items(), key=lambda kv: key(kv[0])):
        m = re.match(r"BM_EigenFloor_(\w+)/(.*)$", name)
        if not m:
            continue
        ours = rows.get("BM_Onestone_%s/%s" % (m.group(1), m.group(2)))
        kern = rows.get("BM_KernelFloor_%s/%s" % (m.group(1), m.group(2)))
        if ours and kern:
            floors.append("| %s | %s | %.3f | %.3f | %.2fx | %.3f | %.0f%% |" % (
                m.group(1), m.group(2), ms, kern, ms / kern, ours, 100.0 * kern / ours))
    if floors:
        lines += ["", "GEMM floors: the step's matrix products alone (everything else free), done by Eigen",
                  "(`C.noalias() = A*B`, Eigen's threading) and by onestone's own kernels, against our",
                  "whole step. \"kernel speed-up\" = Eigen's time / ours for the same products; \"fraction\"",
                  "= our products' time / our whole step (the share of the step that is matrix products):", "",
                  "| workload | batch/threads | Eigen products (ms) | onestone products (ms) | kernel speed-up "
                  "| onestone step (ms) | fraction |",
                  "|---|---|---|---|---|---|---|"] + floors
    peak = {}
    for name, ms in rows.items():
        m = re.match(r"BM_FmaPeak/(\d+)/real_time$", name) or re.match(r"BM_FmaPeak/(\d+)$", name)
        if m and name in gflops:
            peak[int(m.group(1))] = gflops[name]
    if peak:
        lines += ["", "Arithmetic peak of this machine (independent FMA chains in registers, no memory): " +
                  ", ".join("%.0f GFLOP/s on %d thread%s" % (peak[t], t, "s" if t > 1 else "")
                            for t in sorted(peak)) + ". FMA throughput is per core, so the shares of",
                  "peak below take the one-thread figure times the thread count (a 2-thread run that",
                  "shares its second core with another tenant of this VM reads low)."]
        if 1 in peak:
            peak = {t: peak[1] * t for t in (1, 2, 4, 8)}
    lines += ["", "GEMM alone (`C = A·B`, row-major float, sizes m/k/n/threads); GFLOP/s, onestone's",
              "throughput as a share of Eigen's, and as a share of the peak above:", "",
              "| shape | Eigen (ms) | onestone (ms) | Eigen GFLOP/s | onestone GFLOP/s | onestone / Eigen "
              "| onestone / peak |",
              "|---|---|---|---|---|---|---|"]
    for name, ms in sorted(rows.items(), key=lambda kv: key(kv[0])):
        if name.startswith("BM_EigenGemm/"):
            shape = name.split("/", 1)[1]
            m_, k_, n_ = (int(v) for v in shape.split("/")[:3])
            gf = 2.0 * m_ * k_ * n_ / (ms * 1e-3) / 1e9
            ours = rows.get("BM_OnestoneGemm/" + shape)
            threads = int(shape.split("/")[3])
            pk = "%.0f%%" % (100.0 * 2.0 * m_ * k_ * n_ / ((ours or ms) * 1e-3) / 1e9 / peak[threads]) \
                if threads in peak else "—"
            if ours:
                gf2 = 2.0 * m_ * k_ * n_ / (ours * 1e-3) / 1e9
                lines.append("| %s | %.3f | %.3f | %.0f | %.0f | %.0f%% | %s |" % (
                    shape, ms, ours, gf, gf2, 100.0 * gf2 / gf, pk))
            else:
                lines.append("| %s | %.3f | — | %.0f | — | — | — |" % (shape, ms, gf))
    try:
        with open("benchmarks/notes.md") as f:
            lines += ["", f.read().rstrip()]
    except OSError:
        pass
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", dst)


main()
