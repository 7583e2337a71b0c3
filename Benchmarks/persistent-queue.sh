#!/usr/bin/env bash
# The `otlphttp` exporter with its queue on disk (`sending_queue.storage`, a write-ahead log on a
# `file_storage` extension) against the same exporter with its queue in memory (issue 29: >= 0.5
# of it), whole processes, in the same script: the release `trapline replay` sends 200,000 spans
# (2,000 requests of 100, Scripts/generate-otlp.py) over OTLP/HTTP to a loopback gateway (a
# `trapline run` with an OTLP/HTTP receiver writing protobuf to /dev/null) and waits for every
# send to be acknowledged. Three exporters: memory, storage, storage with `fsync: true` (a disk
# flush per request). PQ_ROUNDS (default 5) interleaved rounds, medians of wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift build -c release --product trapline >/dev/null
trapline=.build/release/trapline
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 11 "$work/capture.otlp"
cat > "$work/gateway.yaml" <<YAML
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0"}
exporters:
  stdout: {format: proto}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [stdout]}
YAML
$trapline run --config "$work/gateway.yaml" > /dev/null 2> "$work/gateway.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening:" "$work/gateway.log" && break; sleep 0.05; done
port=$(grep -o 'otlp on port [0-9]*' "$work/gateway.log" | grep -o '[0-9]*$')
for mode in memory storage fsync; do
    storage=""
    extension=""
    if [ "$mode" != memory ]; then
        storage="sending_queue: {storage: file_storage}"
        extension="extensions: {file_storage: {directory: \"$work/storage-$mode\", create_directory: true, fsync: $([ "$mode" = fsync ] && echo true || echo false)}}"
    fi
    cat > "$work/$mode.yaml" <<YAML
receivers:
  file: {include: ["$work/capture.otlp"]}
$extension
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$port
    compression: none
    $storage
service:
  $([ "$mode" != memory ] && echo "extensions: [file_storage]")
  pipelines:
    traces: {receivers: [file], exporters: [otlphttp]}
YAML
done
now() { date +%s%N; }
: > "$work/rounds"
for round in $(seq "${PQ_ROUNDS:-5}"); do
    line=""
    for mode in memory storage fsync; do
        start=$(now); $trapline replay -q --config "$work/$mode.yaml" "$work/capture.otlp"; end=$(now)
        line="$line $((end - start))"
    done
    echo "$line" >> "$work/rounds"
done
python3 - "$work/rounds" <<'PY'
import statistics, sys
rounds = [[int(value) for value in line.split()] for line in open(sys.argv[1])]
names = ["memory", "storage", "storage+fsync"]
medians = [statistics.median(r[i] for r in rounds) / 1e9 for i in range(3)]
parts = [f"{name}: {200000 / m:,.0f} spans/s ({m:.2f} s)" for name, m in zip(names, medians)]
ratios = [sorted(r[0] / r[i] for r in rounds) for i in (1, 2)]
print("; ".join(parts) + f"; storage/memory {medians[0] / medians[1]:.2f}x (rounds {ratios[0][0]:.2f}-{ratios[0][-1]:.2f}), "
      f"fsync/memory {medians[0] / medians[2]:.2f}x (rounds {ratios[1][0]:.2f}-{ratios[1][-1]:.2f}), median of {len(rounds)}")
PY
