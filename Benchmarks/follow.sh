#!/usr/bin/env bash
# Following a growing file (issue 24) against replaying the same file, whole processes, in the
# same script: the release `trapline run` follows a directory with a `filelog` receiver
# (start_at: beginning, checkpoints in a file_storage directory) while `cat` appends the whole
# input at disk speed; the follow is done when the checkpoint reaches the end of the file.
# The peer is `trapline replay` of the same file through the same exporter. Two inputs:
# 200,000 spans as OTLP JSON lines (2,000 requests), and 1,000,000 text log lines.
# Then the latency from write to next hop: a steady writer (Tests/Scripts/steady_writer.py)
# appends timestamped lines while `trapline run` follows them into a loopback OTLP/HTTP next hop
# (Tests/Scripts/otlp_next_hop.py, which notes when each record arrived): p50, p99 and max.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift build -c release --product trapline >/dev/null
trapline=.build/release/trapline
work=$(mktemp -d)
pid=""
hop=""
trap 'kill $pid $hop 2>/dev/null || true; rm -rf "$work"' EXIT
python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 7 "$work/stream.otlp"
$trapline replay -q --output-format otlp-json -o "$work/spans.jsonl" "$work/stream.otlp"
python3 - "$work/app.log" <<'PY'
import random, sys
random.seed(3)
levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
paths = ["/api/orders", "/api/cart", "/healthz", "/api/users/42", "/static/app.js"]
with open(sys.argv[1], "w") as out:
    for number in range(1_000_000):
        out.write(f"2026-12-06T10:{number // 60000 % 60:02d}:{number // 1000 % 60:02d}.{number % 1000:03d}Z "
                  f"{random.choice(levels)} http request method=GET path={random.choice(paths)} "
                  f"status={random.choice([200, 200, 200, 404, 500])} duration_ms={random.randint(1, 900)} seq={number}\n")
PY
now() { date +%s%N; }

# follow_case NAME INPUT RECORDS UNIT
follow_case() {
    local name=$1 input=$2 records=$3 unit=$4
    local dir="$work/$name"
    mkdir -p "$dir/logs" "$dir/storage"
    cat > "$dir/replay.yaml" <<YAML
receivers: {stdin: null}
exporters: {file: {path: /dev/null, format: proto}}
service: {pipelines: {$5: {receivers: [stdin], exporters: [file]}}}
YAML
    cat > "$dir/follow.yaml" <<YAML
receivers:
  filelog:
    include: ["$dir/logs/*.log"]
    start_at: beginning
    poll_interval: 50ms
    storage: file_storage
extensions: {file_storage: {directory: "$dir/storage"}}
exporters: {file: {path: /dev/null, format: proto}}
service:
  extensions: [file_storage]
  pipelines: {$5: {receivers: [filelog], exporters: [file]}}
YAML
    local start end
    start=$(now)
    $trapline replay -q --config "$dir/replay.yaml" "$input"
    end=$(now)
    local replay_ns=$((end - start))
    $trapline run -q --config "$dir/follow.yaml" 2>"$dir/stderr" &
    pid=$!
    sleep 0.5
    local size
    size=$(stat -c %s "$input")
    start=$(now)
    cat "$input" >> "$dir/logs/followed.log"
    until grep -q "\"offset\":$size[,}]" "$dir/storage/receiver_filelog" 2>/dev/null; do sleep 0.01; done
    end=$(now)
    local follow_ns=$((end - start))
    kill -TERM $pid; wait $pid || true
    pid=""
    # Catching up: the same file already written when `run` starts (no writer competing for
    # the two cores), from the process start to the checkpoint at the end.
    rm -f "$dir/storage/"*
    start=$(now)
    $trapline run -q --config "$dir/follow.yaml" 2>>"$dir/stderr" &
    pid=$!
    until grep -q "\"offset\":$size[,}]" "$dir/storage/receiver_filelog" 2>/dev/null; do sleep 0.01; done
    end=$(now)
    local catchup_ns=$((end - start))
    kill -TERM $pid; wait $pid || true
    pid=""
    python3 - "$name" "$records" "$unit" "$replay_ns" "$follow_ns" "$catchup_ns" <<'PY'
import sys
name, records, unit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
replay, follow, catchup = (int(value) / 1e9 for value in sys.argv[4:7])
print(f"{name}: replay {records / replay:,.0f} {unit}/s ({replay:.2f} s); follow while cat appends "
      f"{records / follow:,.0f} {unit}/s ({follow:.2f} s, first byte appended to checkpoint at the end), "
      f"{replay / follow:.2f}x replay; follow of the file already written {records / catchup:,.0f} {unit}/s "
      f"({catchup:.2f} s from process start), {replay / catchup:.2f}x replay")
PY
}
follow_case "spans (OTLP JSON lines)" "$work/spans.jsonl" 200000 spans traces
follow_case "text log lines" "$work/app.log" 1000000 lines logs

# Latency from write to next hop under a steady writer.
mkdir -p "$work/latency/logs"
python3 Tests/Scripts/otlp_next_hop.py --count "$work/latency/count" --bodies "$work/latency/bodies" > "$work/latency/port" &
hop=$!
for _ in $(seq 100); do [ -s "$work/latency/port" ] && break; sleep 0.05; done
cat > "$work/latency/follow.yaml" <<YAML
receivers:
  filelog: {include: ["$work/latency/logs/*.log"], start_at: beginning, poll_interval: 50ms}
exporters: {otlphttp: {endpoint: "http://127.0.0.1:$(head -1 "$work/latency/port")", compression: none}}
service: {pipelines: {logs: {receivers: [filelog], exporters: [otlphttp]}}}
YAML
$trapline run -q --config "$work/latency/follow.yaml" &
pid=$!
lines=10000
python3 Tests/Scripts/steady_writer.py --path "$work/latency/logs/app.log" --count $lines --interval 0.0005 >/dev/null
for _ in $(seq 300); do [ "$(wc -l < "$work/latency/bodies" 2>/dev/null || echo 0)" -ge $lines ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid || true
pid=""
python3 - "$work/latency/bodies" $lines <<'PY'
import sys
latencies, first, last = [], None, None
for line in open(sys.argv[1]):
    arrived, body = line.split(" ", 1)
    written = float(body.rsplit(" ", 1)[1])
    first = written if first is None else min(first, written)
    last = written if last is None else max(last, written)
    latencies.append(float(arrived) - written)
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
rate = len(latencies) / (last - first) if last > first else 0
print(f"latency write -> next hop ({len(latencies)} of {sys.argv[2]} lines, {rate:,.0f} lines/s, poll_interval 50ms): "
      f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")
PY
