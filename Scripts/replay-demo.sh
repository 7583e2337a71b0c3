#!/usr/bin/env bash
# The main job: replay the bundled capture (2,000 spans of a shop's services, gzip-compressed,
# in the Collector's file-exporter framing) through the default pipeline, then print the report
# and Trapline's metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f /usr/include/zlib.h ] || { apt-get update -qq && apt-get install -y -qq zlib1g-dev >/dev/null; }
swift build -c release --product trapline >/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
.build/release/trapline replay --output "$out/replayed.otlp" --report-file "$out/report.json" \
    --metrics-file "$out/trapline.prom" Fixtures/generated/shop-traces.otlp.gz
echo "--- report ($out/report.json)"
python3 -m json.tool "$out/report.json"
echo "--- metrics ($out/trapline.prom, Prometheus text format)"
grep -v ' 0$' "$out/trapline.prom" | grep -v '^# ' || true
echo "--- output: $(wc -c <"$out/replayed.otlp") bytes of length-prefixed OTLP protobuf"
