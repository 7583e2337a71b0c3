#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs, checks formatting, runs
# swift test (Swift Testing), checks that the DocC documentation builds without warnings, then
# builds and runs the embedding example (Examples/), which uses Trapline as a library the way
# another collector would.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift format lint --strict --recursive Sources Tests Benchmarks/Sources Examples/EmbeddingExample/Sources Package.swift
swift build --build-tests
swift test --skip-build
bash Scripts/check-docs.sh
swift build --package-path Examples/EmbeddingExample
example=$(Examples/EmbeddingExample/.build/debug/EmbeddingExample Fixtures/generated/shop-traces.otlp)
echo "embedding example: $example"
# 2,000 spans: 514 DELETE spans filtered by the file's filter, 45 more by the example's own stage.
case "$example" in
    "requests 20 received 2000 forwarded 1441 filtered 559 blocked 0 rejected 0 traps 88 output "*) ;;
    *) echo "embedding example: unexpected result" >&2; exit 1 ;;
esac
