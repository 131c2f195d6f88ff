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
mkdir -p "$build/artifacts"
for t in "${targets[@]}"; do
  work="$build/corpus/$t"
  mkdir -p "$work"
  dict=()
  if [ "$t" != idx ]; then dict=(-dict="$here/safetensors.dict"); fi
  if [ "$t" = text ]; then dict=(-dict="$here/text.dict"); fi
  echo "=== fuzz_$t for ${seconds}s ==="
  # shellcheck disable=SC2086
  if ! "$build/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "${dict[@]}" ${FUZZ_ARGS:-} \
       "$work" "$here/corpus/$t"; then
    echo "fuzz_$t: FOUND A CRASH (see $build/artifacts/)" >&2
    status=1
  fi
done
exit $status
