#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, checks formatting, packages
# the binary (Scripts/package.sh) for the deployment tests, runs swift test (Swift Testing) and the
# pipelines' own tests (trapline test Pipelines/*.test.yaml), checks that the DocC documentation
# builds without warnings, then
# builds and runs the embedding example (Examples/), which uses Trapline as a library the way
# another collector would, and ends with a 30-second fuzz smoke of each of the six libFuzzer
# targets, two at a time, one per core (Fuzz/run.sh; a finding fails the run and its input lands
# in fuzz-artifacts/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift format lint --strict --recursive Sources Tests Benchmarks/Sources Examples/EmbeddingExample/Sources Package.swift \
    Fuzz/Sources Fuzz/Package.swift Fuzz/*.swift
swift build --build-tests
# The release artifact from this build (the debug one, relinked with the Swift runtime static:
# seconds, where a release build takes minutes), for the deployment tests: made before the suite
# because packaging relinks the binary the other tests run.
TRAPLINE_PACKAGE=$(bash Scripts/package.sh --configuration debug --output .build-package | tail -n 1)
export TRAPLINE_PACKAGE
swift test --skip-build
# The pipelines' own tests (`trapline test`), as a user runs them.
.build/debug/trapline test --quiet Pipelines/*.test.yaml
bash Scripts/check-docs.sh
swift build --package-path Examples/EmbeddingExample
example=$(Examples/EmbeddingExample/.build/debug/EmbeddingExample Fixtures/generated/shop-traces.otlp)
echo "embedding example: $example"
# 2,000 spans: 514 DELETE spans filtered by the file's filter, 45 more by the example's own stage.
case "$example" in
    "requests 20 received 2000 forwarded 1441 filtered 559 blocked 0 rejected 0 traps 88 output "*) ;;
    *) echo "embedding example: unexpected result" >&2; exit 1 ;;
esac
fuzz_smoke() {
    local log="${TMPDIR:-/tmp}/trapline-fuzz-$1.log"
    # 30 s each keeps the whole run near 20 minutes on two cores (FUZZ_SMOKE_SECONDS to change it).
    if ! bash Fuzz/run.sh "${FUZZ_SMOKE_SECONDS:-30}" "$1" > "$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "fuzz smoke: $1 found a crash or failed a check (input in fuzz-artifacts/)" >&2
        return 1
    fi
    echo "fuzz smoke: $1 $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")"
}
# The package targets are built first, one at a time (they share Fuzz/.build, and two builds at
# once made the second rebuild everything); decode and rules are compiled by their own runs.
bash Fuzz/run.sh build config text http differential > "${TMPDIR:-/tmp}/trapline-fuzz-build.log" 2>&1 \
    || { tail -n 40 "${TMPDIR:-/tmp}/trapline-fuzz-build.log" >&2; exit 1; }
for pair in "decode rules" "config text" "http differential"; do
    pids=()
    for target in $pair; do
        fuzz_smoke "$target" &
        pids+=($!)
    done
    failed=0
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    [ "$failed" = 0 ] || exit 1
done
