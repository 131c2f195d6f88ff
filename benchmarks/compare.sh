#!/usr/bin/env bash
# Runs onestone's benchmarks side by side with their libtorch twins (same process, same shapes,
# same optimizer, same thread counts) and writes docs/benchmarks.md (and a PNG chart when gnuplot
# is installed).
#
# The libtorch side runs in the tuned setup: Debian's default OpenBLAS misdetects this CPU and
# falls back to slow kernels, so we point it at the OpenMP build with the SkylakeX core type; and
# glibc keeps freed memory in the heap (MALLOC_*: libtorch allocates its tensors every step, and
# blocks above glibc's mmap threshold come back as fresh pages whose faults are costly on a
# virtual machine: oneDNN's layout reorders of a 64x32x32 batch took 22 ms instead of 1).
# onestone allocates nothing in steady state, so these settings do not change its times.
#   usage: [REPETITIONS=n] benchmarks/compare.sh [build-dir] [min-time-seconds]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${1:-build-bench}
min_time=${2:-0.5}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DONESTONE_NATIVE=ON -DONESTONE_BUILD_TESTS=OFF \
      -DONESTONE_BUILD_EXAMPLES=OFF -DONESTONE_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" -j2 --target bench_core
export OPENBLAS_CORETYPE=SkylakeX
if [ -d /usr/lib/x86_64-linux-gnu/openblas-openmp ]; then
  export LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
fi
export OMP_NUM_THREADS=2
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=268435456
out="$build/bench_core.json"
"$build/benchmarks/bench_core" --benchmark_min_time="$min_time" --benchmark_repetitions="${REPETITIONS:-3}" \
  --benchmark_report_aggregates_only=true --benchmark_out="$out" --benchmark_out_format=json
/usr/bin/python3 benchmarks/report.py "$out" docs/benchmarks.md
if command -v gnuplot >/dev/null 2>&1; then
  /usr/bin/python3 benchmarks/report.py "$out" --plot "$build/bench_plot.dat" &&
    gnuplot -e "datafile='$build/bench_plot.dat'; outfile='docs/benchmarks.png'" benchmarks/plot.gp &&
    echo "wrote docs/benchmarks.png"
else
  echo "gnuplot not installed: no chart (apt-get install gnuplot-nox)"
fi
