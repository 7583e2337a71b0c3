#!/usr/bin/env bash
# Builds the benchmarks in release mode, generates the realistic stream (500 requests of 100
# spans, deterministic) and prints throughput and ratios against libprotobuf-c and a byte scan.
set -euo pipefail
cd "$(dirname "$0")"
bash ../Scripts/install-test-deps.sh
stream="${TMPDIR:-/tmp}/trapline-bench-traces.otlp"
[ -f "$stream" ] || python3 ../Scripts/generate-otlp.py --signal traces --requests 500 --records-per-request 100 --seed 42 "$stream"
swift build -c release >/dev/null
.build/release/TraplineBenchmarks "$stream" --thresholds Thresholds/decode.json
