#!/usr/bin/env bash
# Builds the libFuzzer targets with clang++ and runs each for a bounded time.
#
#   fuzz/run.sh                         # every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=30 fuzz/run.sh idx     # one target
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 60)
#   FUZZ_BUILD_DIR  build folder (default ${TMPDIR:-/tmp}/onestone-fuzz-build); it also holds
#                   the working corpus (corpus/<target>) and crash artifacts (artifacts/)
#   FUZZ_ARGS       extra libFuzzer flags, e.g. "-fork=1 -ignore_ooms=1"
#   FUZZ_JOBS       compiler jobs, and fuzzers run side by side (default 2)
#
# The committed seeds in fuzz/corpus/<target>/ are read but never modified. Exits non-zero if
# any target found a crash; the reproducer is printed (and kept under artifacts/).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${FUZZ_SECONDS:-60}"
build="${FUZZ_BUILD_DIR:-${TMPDIR:-/tmp}/onestone-fuzz-build}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(safetensors json idx csv text); fi

if ! command -v clang++ >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "fuzz/run.sh: installing clang" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
  else
    echo "fuzz/run.sh: clang++ not found (install the 'clang' package)" >&2
    exit 2
  fi
fi

cmake -S "$here" -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DONESTONE_BUILD_FUZZERS=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target $(printf 'fuzz_%s ' "${targets[@]}")

status=0
mkdir -p "$build/artifacts" "$build/logs"
# One fuzzer per core (FUZZ_JOBS, default 2) at a time: each runs single-threaded for its
# FUZZ_SECONDS; its output is printed when it ends.
run_one() {
  local t=$1 work="$build/corpus/$1" dict=()
  mkdir -p "$work"
  if [ "$t" != idx ]; then dict=(-dict="$here/safetensors.dict"); fi
  if [ "$t" = text ]; then dict=(-dict="$here/text.dict"); fi
  # shellcheck disable=SC2086
  "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$work" "$here/corpus/$t" > "$build/logs/$t.log" 2>&1
}
finish() {  # waits for target $1 (pid $2), prints its log
  local t=$1 pid=$2
  if wait "$pid"; then
    echo "=== fuzz_$t for ${seconds}s: no crash ==="
    tail -n 20 "$build/logs/$t.log"
  else
    echo "=== fuzz_$t for ${seconds}s ==="
    cat "$build/logs/$t.log"
    echo "fuzz_$t: FOUND A CRASH (see $build/artifacts/)" >&2
    status=1
  fi
}
jobs_max="${FUZZ_JOBS:-2}"
running_t=()
running_p=()
for t in "${targets[@]}"; do
  if [ ${#running_p[@]} -ge "$jobs_max" ]; then
    finish "${running_t[0]}" "${running_p[0]}"
    running_t=("${running_t[@]:1}")
    running_p=("${running_p[@]:1}")
  fi
  run_one "$t" &
  running_t+=("$t")
  running_p+=($!)
done
for k in "${!running_p[@]}"; do finish "${running_t[$k]}" "${running_p[$k]}"; done
exit $status
