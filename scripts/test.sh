#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what the tests need, builds with
# zero warnings, runs every test project, and ends with one "N passed, N failed, N skipped" line.
# PLATEAU_TEST_FILTER narrows the run (e.g. "Category!=Slow").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v dotnet >/dev/null; then
  echo "test.sh: the .NET 10 SDK (dotnet) is not on PATH; install it first." >&2
  exit 1
fi
scripts/install-test-deps.sh

# A fresh build and run take about 1 GB (libtorch is hard-linked from the NuGet cache where it can
# be, 5 GB where it must be copied). Say so up front when the disk is short, instead of leaving it
# to a hundred lines of MSBuild copy retries.
for dir in . "${TMPDIR:-/tmp}"; do
  free_mb=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
  if [ -n "$free_mb" ] && [ "$free_mb" -lt 2048 ]; then
    echo "test.sh: warning: only $free_mb MB free on the filesystem of $(cd "$dir" && pwd); the build and tests need about 1 GB (5 GB where files cannot be hard-linked)" >&2
  fi
done

dotnet build Orleans.sln -c Release -nologo -v quiet -warnaserror

filter=()
if [ -n "${PLATEAU_TEST_FILTER:-}" ]; then filter=(--filter "$PLATEAU_TEST_FILTER"); fi
results="$(mktemp -d)"
status=0
dotnet test Orleans.sln -c Release --no-build -nologo "${filter[@]}" \
  --logger "trx" --results-directory "$results" || status=$?

passed=0 failed=0 skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  t=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${t:-0} - ${e:-0}))
  # The failed tests' names again at the end, where a log tail shows them.
  grep -o '<UnitTestResult [^>]*outcome="Failed"[^>]*>' "$trx" | sed -n 's/.* testName="\([^"]*\)".*/  failed: \1/p' >>"$results/failed.txt" || true
done
if [ -s "$results/failed.txt" ]; then cat "$results/failed.txt"; fi
rm -rf "$results"
echo "Tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
