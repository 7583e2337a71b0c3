#!/usr/bin/env bash
# Builds the benchmarks in release mode, generates traces with the shape of production traffic
# (Benchmarks/generate-traces.py: 2,000 requests of 100 spans, about 560 bytes a span,
# deterministic) and prints, in one process, throughput and ratios against libprotobuf-c, the C
# tag skim, simdjson On-Demand and a byte scan of the same bytes; then peers.sh runs the same
# comparison as whole processes, as a user runs them, with callgrind instruction counts.
# In-process figures are the decoder's own speed on bytes already in memory; the whole-process
# ones add reading the file, start-up and the replay's accounting, and are the ones users see.
set -euo pipefail
cd "$(dirname "$0")"
bash ../Scripts/install-test-deps.sh
[ -f /usr/include/simdjson.h ] || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsimdjson-dev >/dev/null; }
prefix="${TMPDIR:-/tmp}/trapline-bench-traces-2000x100"
[ -f "$prefix.otlp" ] || python3 generate-traces.py --requests 2000 --spans-per-request 100 "$prefix"
swift build -c release >/dev/null
.build/release/TraplineBenchmarks "$prefix.otlp" --thresholds Thresholds/decode.json
bash peers.sh
