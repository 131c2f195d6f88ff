#!/usr/bin/python3
"""Turns a Trainer log (CSV or JSON lines, see docs/training.md) into PNG charts with gnuplot.

    scripts/plot_log.py run/log.csv                    # writes run/log_loss.png, ...
    scripts/plot_log.py run/log.jsonl --out docs/quickstart --monitor delta_m

Charts (each only when the log holds its data):
  PREFIX_loss.png     per-task loss: training (solid) and validation (dashed)
  PREFIX_metrics.png  per-task validation metrics, one panel per task
  PREFIX_weights.png  the task weights the balancer chose
  PREFIX_lr.png       the learning rate
  PREFIX_delta_m.png  delta m in percent: a "delta_m" column / key, or, with --monitor delta_m,
                      the JSON lines' "monitor" (what the Trainer monitored)
  PREFIX_monitor.png  with --monitor NAME (another name): the JSON lines' "monitor"

Needs only python3 and gnuplot (Debian: gnuplot-nox); without gnuplot it says so and exits 3.
ONESTONE_GNUPLOT names the gnuplot program to run (default: gnuplot on PATH). --script FILE
writes the gnuplot script (with the data inline) so that it can be run elsewhere.
"""

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys

EXIT_USAGE, EXIT_NO_GNUPLOT, EXIT_GNUPLOT_FAILED = 2, 3, 4


def fail(msg, code=EXIT_USAGE):
    print("plot_log: " + msg, file=sys.stderr)
    sys.exit(code)


def number(v):
    """A float from a CSV cell or JSON value; None for missing (empty, null, NaN, inf)."""
    if v is None or v == "" or isinstance(v, bool):
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def empty_record():
    return {"kind": "epoch", "epoch": None, "step": None, "elapsed_s": None, "lr": None,
            "train_loss": None, "train_losses": {}, "weights": {}, "val": {}, "monitor": None,
            "delta_m": None}


def read_jsonl(path, lines):
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except ValueError as e:
            fail("%s:%d: not a JSON line (%s)" % (path, n, e))
        if not isinstance(o, dict):
            fail("%s:%d: not a JSON object" % (path, n))
        r = empty_record()
        r["kind"] = o.get("kind", "epoch")
        for k in ("epoch", "step", "elapsed_s", "lr", "train_loss", "monitor", "delta_m"):
            r[k] = number(o.get(k))
        for k in ("train_losses", "weights"):
            if isinstance(o.get(k), dict):
                r[k] = {t: number(v) for t, v in o[k].items()}
        if isinstance(o.get("val"), dict):
            for t, m in o["val"].items():
                if isinstance(m, dict):
                    r["val"][t] = {name: number(v) for name, v in m.items()}
        records.append(r)
    return records


def read_csv(path, lines):
    rows = list(csv.reader(lines))
    if not rows or "epoch" not in rows[0]:
        fail("%s: no CSV header with an 'epoch' column (is it a Trainer log?)" % path)
    header, records = rows[0], []
    for row in rows[1:]:
        if not row or row == header:   # blank, or a repeated header
            continue
        r = empty_record()
        for col, cell in zip(header, row):
            if col == "kind":
                r["kind"] = cell
            elif col in ("epoch", "step", "elapsed_s", "lr", "train_loss", "monitor", "delta_m"):
                r[col] = number(cell)
            elif col == "val/delta_m":
                r["delta_m"] = number(cell)
            elif col.startswith("train_loss/"):
                r["train_losses"][col[len("train_loss/"):]] = number(cell)
            elif col.startswith("weight/"):
                r["weights"][col[len("weight/"):]] = number(cell)
            elif col.startswith("val/") and "/" in col[4:]:
                task, metric = col[4:].rsplit("/", 1)
                r["val"].setdefault(task, {})[metric] = number(cell)
        records.append(r)
    return records


def read_log(path):
    try:
        with open(path, newline="", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        fail("cannot read %s: %s" % (path, e.strerror))
    first = next((l for l in lines if l.strip()), "")
    if not first:
        fail("%s is empty" % path)
    records = read_jsonl(path, lines) if first.lstrip().startswith("{") else read_csv(path, lines)
    if not records:
        fail("%s holds no records" % path)
    return records


def ordered_keys(dicts):
    """Keys of a sequence of dicts, in order of first appearance."""
    out = []
    for d in dicts:
        for k in d:
            if k not in out:
                out.append(k)
    return out


def gp_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Chart:
    """One PNG: a datablock (x then one column per series) and its plot command(s)."""

    def __init__(self, name, title, ylabel, robust=False):
        self.name, self.title, self.ylabel = name, title, ylabel
        self.robust = robust   # keep early outliers (e.g. delta m after epoch 1) off scale
        self.panels = []   # (panel title, [(series title, values, style)])

    def yrange(self):
        """A y range for the later three quarters of the points when the early ones would
        squash them (robust charts only), else None."""
        if not self.robust:
            return None
        vals = [v for _, series in self.panels for _, vs, _ in series for v in vs]
        late = [v for _, series in self.panels for _, vs, _ in series
                for v in vs[len(vs) // 4:] if v is not None]
        allv = [v for v in vals if v is not None]
        if len(late) < 2:
            return None
        lo, hi = min(late), max(late)
        span = max(hi - lo, 1e-12)
        if min(allv) >= lo - 2 * span and max(allv) <= hi + 2 * span:
            return None
        return lo - 0.1 * span, hi + 0.1 * span

    def add_panel(self, title, series):
        series = [s for s in series if any(v is not None for v in s[1])]
        if series:
            self.panels.append((title, series))

    def script(self, x, xlabel, out, size, terminal, n):
        lines = ["set terminal %s size %d,%d noenhanced font ',10'" % (terminal, size[0], size[1]),
                 "set output " + gp_string(out)]
        for p, (_, series) in enumerate(self.panels):
            lines.append("$d%d_%d << EOD" % (n, p))
            for i, xv in enumerate(x):
                cells = ["?" if s[1][i] is None else repr(s[1][i]) for s in series]
                lines.append(repr(xv) + " " + " ".join(cells))
            lines.append("EOD")
        lines += ["set datafile missing '?'", "set grid", "set key outside right top",
                  "set xlabel " + gp_string(xlabel)]
        if xlabel == "epoch" and x and max(x) <= 20:
            lines.append("set xtics 1")
        yr = self.yrange()
        title = self.title
        if yr:
            lines.append("set yrange [%r:%r]" % yr)
            title += " (early points off scale)"
        if len(self.panels) > 1:
            cols = 2
            rows = (len(self.panels) + 1) // 2
            lines.append("set multiplot layout %d,%d title %s" % (rows, cols, gp_string(self.title)))
            lines.append("set key outside right top vertical")
        for p, (ptitle, series) in enumerate(self.panels):
            lines.append("set title " + gp_string(ptitle if len(self.panels) > 1 else title))
            lines.append("set ylabel " + gp_string(self.ylabel))
            plots = ["$d%d_%d using 1:%d with linespoints %s title %s"
                     % (n, p, i + 2, style, gp_string(t)) for i, (t, _, style) in enumerate(series)]
            lines.append("plot " + ", \\\n     ".join(plots))
        if len(self.panels) > 1:
            lines.append("unset multiplot")
        lines.append("set output")
        lines.append("reset")
        return "\n".join(lines) + "\n"


def style(i, dashed=False):
    return "lc %d lw 2 pt %d ps 0.6%s" % (i + 1, 7, " dt 2" if dashed else "")


def build_charts(records, monitor_name):
    tasks = ordered_keys([r["train_losses"] for r in records] + [r["weights"] for r in records]
                         + [r["val"] for r in records])
    charts = []

    loss = Chart("loss", "loss per task (solid: training, dashed: validation)", "loss")
    series = []
    for i, t in enumerate(tasks):
        series.append((t + " train", [r["train_losses"].get(t) for r in records], style(i)))
        series.append((t + " val", [r["val"].get(t, {}).get("loss") for r in records],
                       style(i, True)))
    loss.add_panel("loss", series)
    charts.append(loss)

    metrics = Chart("metrics", "validation metrics per task", "value")
    for t in tasks:
        names = [m for m in ordered_keys([r["val"].get(t, {}) for r in records]) if m != "loss"]
        metrics.add_panel(t, [(m, [r["val"].get(t, {}).get(m) for r in records], style(i))
                              for i, m in enumerate(names)])
    charts.append(metrics)

    weights = Chart("weights", "task weights chosen by the balancer", "weight")
    weights.add_panel("weights", [(t, [r["weights"].get(t) for r in records], style(i))
                                  for i, t in enumerate(tasks)])
    charts.append(weights)

    lr = Chart("lr", "learning rate", "learning rate")
    lr.add_panel("lr", [("lr", [r["lr"] for r in records], style(0))])
    charts.append(lr)

    dm = [r["delta_m"] for r in records]
    if monitor_name == "delta_m" and all(v is None for v in dm):
        dm = [r["monitor"] for r in records]
    delta = Chart("delta_m", "Δm against the single-task baselines, higher is better",
                  "Δm (%)", robust=True)
    delta.add_panel("delta_m", [("Δm", dm, style(0))])
    charts.append(delta)

    if monitor_name and monitor_name != "delta_m":
        mon = Chart("monitor", "monitored value: " + monitor_name, monitor_name, robust=True)
        mon.add_panel("monitor", [(monitor_name, [r["monitor"] for r in records], style(0))])
        charts.append(mon)
    return [c for c in charts if c.panels]


def find_gnuplot():
    prog = os.environ.get("ONESTONE_GNUPLOT", "gnuplot")
    return prog if os.sep in prog and os.access(prog, os.X_OK) else shutil.which(prog)


def main():
    ap = argparse.ArgumentParser(
        prog="plot_log.py",
        description="Turns a Trainer log (CSV or JSON lines) into PNG charts with gnuplot: "
                    "per-task losses and metrics, task weights, learning rate, delta m.")
    ap.add_argument("log", help="the log: CSV (log_csv) or JSON lines (log_jsonl)")
    ap.add_argument("--out", metavar="PREFIX",
                    help="output prefix: PREFIX_loss.png, ... (default: the log's path without "
                         "its extension)")
    ap.add_argument("--x", choices=("epoch", "step", "time"), default="epoch",
                    help="x axis: epoch records by epoch (default), or every record (also "
                         "log_every_steps' \"step\" records) by optimizer step or seconds")
    ap.add_argument("--monitor", metavar="NAME",
                    help="also plot the JSON lines' \"monitor\" value under this name; "
                         "delta_m makes it the delta m chart")
    ap.add_argument("--size", metavar="W,H", default="800,500",
                    help="PNG size in pixels (default: 800,500)")
    ap.add_argument("--script", metavar="FILE",
                    help="also write the gnuplot script (data inline) to FILE")
    ap.add_argument("--script-only", action="store_true",
                    help="write the script (--script FILE) and do not run gnuplot")
    a = ap.parse_args()
    try:
        size = tuple(int(v) for v in a.size.split(","))
        if len(size) != 2 or min(size) < 100:
            raise ValueError
    except ValueError:
        fail("--size expects W,H in pixels (each >= 100), got '%s'" % a.size)
    if a.script_only and not a.script:
        fail("--script-only needs --script FILE")

    records = read_log(a.log)
    if a.x == "epoch":
        records = [r for r in records if r["kind"] != "step" and r["epoch"] is not None]
        xs = [r["epoch"] for r in records]
        xlabel = "epoch"
    else:
        key = "step" if a.x == "step" else "elapsed_s"
        records = sorted((r for r in records if r[key] is not None), key=lambda r: r[key])
        xs = [r[key] for r in records]
        xlabel = "optimizer step" if a.x == "step" else "seconds"
    if not records:
        fail("%s has no records to plot by %s" % (a.log, a.x))
    xs = [int(v) if float(v).is_integer() else v for v in xs]

    charts = build_charts(records, a.monitor)
    prefix = a.out or os.path.splitext(a.log)[0]

    gnuplot = None if a.script_only else find_gnuplot()
    if not a.script_only and not gnuplot:
        fail("gnuplot not found (looked for '%s'); install it (Debian: apt-get install "
             "gnuplot-nox) or set ONESTONE_GNUPLOT to its path; --script FILE --script-only "
             "writes the gnuplot script to run elsewhere" % os.environ.get("ONESTONE_GNUPLOT",
                                                                             "gnuplot"),
             EXIT_NO_GNUPLOT)
    terminal = "pngcairo"
    if gnuplot and subprocess.run([gnuplot, "-e", "set terminal pngcairo"],
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL).returncode != 0:
        terminal = "png"
    outputs = [prefix + "_" + c.name + ".png" for c in charts]
    script = "".join(c.script(xs, xlabel, out, size, terminal, n)
                     for n, (c, out) in enumerate(zip(charts, outputs)))
    if a.script:
        with open(a.script, "w", encoding="utf-8") as f:
            f.write(script)
    if a.script_only:
        print("wrote %s (run: gnuplot %s)" % (a.script, a.script))
        return 0
    p = subprocess.run([gnuplot], input=script.encode("utf-8"), stderr=subprocess.PIPE)
    if p.returncode != 0:
        fail("gnuplot failed:\n" + p.stderr.decode("utf-8", "replace"), EXIT_GNUPLOT_FAILED)
    for out in outputs:
        print("wrote " + out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
