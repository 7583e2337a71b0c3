#!/usr/bin/env bash
# End-to-end replay of the realistic stream (2,000 requests of 100 spans, made by
# Scripts/generate-otlp.py) through the default pipeline with 1 and 2 workers: spans/s per
# core and the scaling from 1 to 2 cores, best of 5 runs each, same binary, same input.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
stream="${TMPDIR:-/tmp}/trapline-bench-replay.otlp"
[ -f "$stream" ] || python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 5 "$stream"
swift build -c release --product trapline >/dev/null
spans=200000
best() {
    local workers="$1" format="$2" best=""
    for _ in 1 2 3 4 5; do
        local start end
        start=$(date +%s%N)
        .build/release/trapline replay -q --workers "$workers" --output /dev/null --output-format "$format" "$stream"
        end=$(date +%s%N)
        local took=$(( end - start ))
        if [ -z "$best" ] || [ "$took" -lt "$best" ]; then best=$took; fi
    done
    echo "$best"
}
for format in otlp-proto otlp-json; do
    one=$(best 1 "$format")
    two=$(best 2 "$format")
    python3 - "$format" "$one" "$two" "$spans" "$(stat -c %s "$stream")" <<'PY'
import sys
fmt, one, two, spans, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"{fmt:10s} 1 worker: {spans / (one / 1e9):12.0f} spans/s ({size / one * 1e3:7.1f} MB/s)   "
      f"2 workers: {spans / (two / 1e9):12.0f} spans/s   scaling {one / two:.2f}x")
PY
done
