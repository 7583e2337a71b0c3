#!/usr/bin/env bash
# OTLP/HTTP ingest in sidecar mode: wrk posts one 100-span protobuf request (made by
# Scripts/generate-otlp.py) over and over to `trapline run` (otlp receiver -> filter -> stdout
# exporter to /dev/null) for 15 s with 16 connections. Reports spans/s, CPU seconds per million
# spans and peak RSS, and, as the peer in the same script, the same binary replaying 2,000 such
# requests from a file through the same pipeline (the ratio is what HTTP costs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
command -v wrk >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
swift build -c release --product trapline >/dev/null
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
python3 Scripts/generate-otlp.py --signal traces --requests 1 --records-per-request 100 --seed 5 --framing single "$work/request.pb"
python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 5 "$work/stream.otlp"
port=$((20000 + RANDOM % 20000))
cat > "$work/sidecar.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:$port
  stdin:
processors:
  filter:
    trace_conditions: ['attributes["http.route"] == "/health"']
exporters:
  stdout:
    format: proto
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [filter]
      exporters: [stdout]
YAML
sed '/^  otlp:/,/endpoint/d; s/receivers: \[otlp\]/receivers: [stdin]/' "$work/sidecar.yaml" > "$work/replay.yaml"
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-protobuf"
local file = io.open("$work/request.pb", "rb")
wrk.body = file:read("*a")
file:close()
LUA
.build/release/trapline run -q --config "$work/sidecar.yaml" > /dev/null 2>"$work/stderr" &
pid=$!
for _ in $(seq 100); do grep -q . "$work/stderr" 2>/dev/null && break; curl -s "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
before=$(cpu)
wrk -t2 -c16 -d15s -s "$work/post.lua" "http://127.0.0.1:$port/v1/traces" > "$work/wrk.txt"
after=$(cpu)
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt"); non2xx=${non2xx:-0}
seconds=$(awk '/requests in/ {gsub("s,", "", $4); print $4}' "$work/wrk.txt")
kill -TERM $pid; wait $pid || true
start=$(date +%s%N)
.build/release/trapline replay -q --workers 2 --config "$work/replay.yaml" --output /dev/null "$work/stream.otlp"
end=$(date +%s%N)
python3 - "$requests" "$non2xx" "$seconds" "$before" "$after" "$ticks" "$rss" "$start" "$end" <<'PY'
import sys
requests, non2xx, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
before, after, ticks, rss = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
replay = (int(sys.argv[9]) - int(sys.argv[8])) / 1e9
spans = (requests - non2xx) * 100
rate = spans / seconds
cpu = (after - before) / ticks
print(f"OTLP/HTTP ingest: {rate:,.0f} spans/s ({requests - non2xx} requests of 100 spans in {seconds:.1f} s, {non2xx} non-2xx)")
print(f"CPU: {cpu / spans * 1e6:.2f} CPU seconds per million spans (wrk on the same 2 cores)")
print(f"peak RSS: {rss / 1024:.1f} MiB")
print(f"peer: replay of 200,000 spans from a file: {200000 / replay:,.0f} spans/s; ingest/replay {rate / (200000 / replay):.2f}x")
PY
