#!/usr/bin/env bash
# OTLP ingest in sidecar mode: one 100-span protobuf request (made by Scripts/generate-otlp.py)
# sent over and over to `trapline run` (otlp receiver -> filter -> stdout exporter to /dev/null)
# for 16 s per protocol with 16 connections, one request in flight on each: over HTTP/1.1 by wrk, then over
# gRPC (HTTP/2) by h2load with the same message in a gRPC frame, and over HTTP/1.1 by h2load too (wrk
# is the lighter client, and on these 2 cores the client's CPU is taken from Trapline's, so the
# ratio from one client is the server's alone; both are printed). Spans are counted by Trapline
# itself (`trapline_records_received_total` before and after each phase, so a refused request
# counts nothing). Reports spans/s, CPU seconds per million spans (Trapline's, and the client's: on
# these 2 cores what one client costs more is taken from Trapline) and peak RSS, gRPC beside HTTP,
# and, as the peer in the same script, the same binary replaying 2,000 such requests from a file
# through the same pipeline (the ratio is what the network receiver costs). Trapline's CPU is
# split into user and system time, and callgrind counts its instructions a request over each
# protocol (same client, start-up subtracted), a figure that does not drift.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
command -v wrk >/dev/null && command -v h2load >/dev/null && [ -x /usr/bin/time ] \
    || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nghttp2-client time >/dev/null; }
swift build -c release --product trapline >/dev/null
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
# INGEST_SPANS_PER_REQUEST changes the request size (default 100; SDKs often send 512).
per_request=${INGEST_SPANS_PER_REQUEST:-100}
python3 Scripts/generate-otlp.py --signal traces --requests 1 --records-per-request "$per_request" --seed 5 --framing single "$work/request.pb"
python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 5 "$work/stream.otlp"
port=$((20000 + RANDOM % 20000))
grpc_port=$((port + 1))
cat > "$work/sidecar.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:$grpc_port
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
sed '/^  otlp:/,/endpoint: 127.0.0.1:'"$port"'/d; s/receivers: \[otlp\]/receivers: [stdin]/' "$work/sidecar.yaml" > "$work/replay.yaml"
# The same message as a gRPC frame: uncompressed flag, 4-byte big-endian length, the bytes.
python3 -c 'import sys, struct; b = open(sys.argv[1], "rb").read(); open(sys.argv[2], "wb").write(b"\0" + struct.pack(">I", len(b)) + b)' \
    "$work/request.pb" "$work/request.grpc"
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
system_cpu() { awk '{print $15}' "/proc/$pid/stat"; }
received() { curl -s "127.0.0.1:$port/metrics" | awk '$1 == "trapline_records_received_total" {print $2}'; }
# phase NAME COMMAND...: spans Trapline received and CPU ticks it used while COMMAND ran.
phase() {
    local name=$1; shift
    local spans_before cpu_before system_before start end
    spans_before=$(received); cpu_before=$(cpu); system_before=$(system_cpu); start=$(date +%s%N)
    /usr/bin/time -f '%U %S' -o "$work/$name.client" "$@" > "$work/$name.txt"
    end=$(date +%s%N)
    echo "$name $(( $(received) - spans_before )) $(( $(cpu) - cpu_before )) $(( end - start ))" \
        "$(awk '{print $1 + $2}' "$work/$name.client") $(( $(system_cpu) - system_before ))" >> "$work/phases"
}
# Interleaved, two rounds of 8 s each, so no phase gets the warmer or quieter half.
for round in 1 2; do
    phase http wrk -t2 -c16 -d8s -s "$work/post.lua" "http://127.0.0.1:$port/v1/traces"
    phase grpc h2load -t2 -c16 -m1 -D 8 -d "$work/request.grpc" \
        -H 'content-type: application/grpc' -H 'te: trailers' \
        "http://127.0.0.1:$grpc_port/opentelemetry.proto.collector.trace.v1.TraceService/Export"
    phase http-h2load h2load --h1 -t2 -c16 -m1 -D 8 -d "$work/request.pb" -H 'content-type: application/x-protobuf' \
        "http://127.0.0.1:$port/v1/traces"
done
rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
kill -TERM $pid; wait $pid || true
start=$(date +%s%N)
.build/release/trapline replay -q --workers 2 --config "$work/replay.yaml" --output /dev/null "$work/stream.otlp"
end=$(date +%s%N)
python3 - "$work/phases" "$ticks" "$rss" "$start" "$end" <<'PY'
import sys
phases = {}
for line in open(sys.argv[1]):
    name, spans, ticks, nanos, client, system_ticks = line.split()
    before = phases.get(name, (0, 0.0, 0.0, 0.0, 0.0))
    phases[name] = (before[0] + int(spans), before[1] + int(ticks) / float(sys.argv[2]),
                    before[2] + int(nanos) / 1e9, before[3] + float(client),
                    before[4] + int(system_ticks) / float(sys.argv[2]))
rss = int(sys.argv[3])
replay = 200000 / ((int(sys.argv[5]) - int(sys.argv[4])) / 1e9)
rates = {}
for name, label in (("http", "OTLP/HTTP (wrk, HTTP/1.1)"), ("grpc", "OTLP/gRPC (h2load, HTTP/2)"),
                    ("http-h2load", "OTLP/HTTP (h2load, HTTP/1.1)")):
    spans, cpu, seconds, client, system = phases[name]
    rates[name] = spans / seconds
    print(f"{label} ingest: {rates[name]:,.0f} spans/s ({spans:,} spans in {seconds:.1f} s), "
          f"{cpu / max(spans, 1) * 1e6:.2f} CPU seconds per million spans ({(cpu - system) / max(spans, 1) * 1e6:.2f} "
          f"user, {system / max(spans, 1) * 1e6:.2f} system); the client on the same 2 cores "
          f"used {client / max(spans, 1) * 1e6:.2f}")
def cpu_per_span(name):
    return phases[name][1] / phases[name][0]
print(f"gRPC/HTTP against wrk: {rates['grpc'] / rates['http']:.2f}x in spans/s, "
      f"{cpu_per_span('http') / cpu_per_span('grpc'):.2f}x in CPU per span")
print(f"gRPC/HTTP, both from h2load: {rates['grpc'] / rates['http-h2load']:.2f}x in spans/s, "
      f"{cpu_per_span('http-h2load') / cpu_per_span('grpc'):.2f}x in CPU per span")
print(f"peak RSS: {rss / 1024:.1f} MiB")
print(f"peer: replay of 200,000 spans from a file: {replay:,.0f} spans/s; HTTP ingest/replay {rates['http'] / replay:.2f}x")
PY
# Instructions a request, which do not drift as CPU seconds do: `trapline run` under callgrind
# serving no request, then INGEST_CALLGRIND_REQUESTS (300) of the same requests over each
# protocol from one client (h2load, in HTTP/1.1 mode for OTLP/HTTP), start-up subtracted. Only
# user space is counted: the kernel's part (reads, the writes that wake the client) is in the
# system CPU above.
command -v valgrind >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
strip --strip-debug -o "$work/trapline" .build/release/trapline
calls=${INGEST_CALLGRIND_REQUESTS:-300}
# instructions PROTOCOL COUNT: callgrind's total for `run` serving COUNT requests of PROTOCOL.
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.$1.$2" "$work/trapline" run -q \
        --config "$work/sidecar.yaml" > /dev/null 2> "$work/callgrind.$1.$2.err" &
    pid=$!
    for _ in $(seq 600); do curl -s "127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
    if [ "$2" -gt 0 ] && [ "$1" = grpc ]; then
        h2load -t1 -c4 -m1 -n "$2" -d "$work/request.grpc" -H 'content-type: application/grpc' -H 'te: trailers' \
            "http://127.0.0.1:$grpc_port/opentelemetry.proto.collector.trace.v1.TraceService/Export" > /dev/null
    elif [ "$2" -gt 0 ]; then
        h2load --h1 -t1 -c4 -m1 -n "$2" -d "$work/request.pb" -H 'content-type: application/x-protobuf' \
            "http://127.0.0.1:$port/v1/traces" > /dev/null
    fi
    kill -TERM $pid; wait $pid || true
    awk '/^summary:/ {print $2}' "$work/callgrind.$1.$2"
}
idle=$(instructions idle 0)
http=$(instructions http "$calls")
grpc=$(instructions grpc "$calls")
python3 -c "
idle, http, grpc, calls, spans = $idle, $http, $grpc, $calls, $per_request
h, g = (http - idle) / calls, (grpc - idle) / calls
print(f'instructions a request of {spans} spans (callgrind, {calls} requests, start-up subtracted): '
      f'OTLP/HTTP {h:,.0f}, OTLP/gRPC {g:,.0f}; gRPC/HTTP {h / g:.2f}x')
"
