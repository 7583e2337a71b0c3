#!/usr/bin/env bash
# The `loadbalancing` exporter against a direct `otlp` export (issue 28), whole processes, in
# the same script: the release `trapline replay` sends 200,000 spans (2,000 requests of 100,
# Scripts/generate-otlp.py) over OTLP/gRPC either to one gateway through an `otlp` exporter, or
# split by trace id over three gateways through `loadbalancing` (static resolver). Each gateway
# is a `trapline run` with an OTLP/gRPC receiver writing protobuf to /dev/null. The replay waits
# for every send to be acknowledged, so its wall time is the delivery time. LB_ROUNDS (default 5)
# interleaved rounds, medians; the gateways' spans are counted from their /metrics, and each
# gateway's share of the balanced spans is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift build -c release --product trapline >/dev/null
trapline=.build/release/trapline
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
python3 Scripts/generate-otlp.py --signal traces --requests 2000 --records-per-request 100 --seed 9 "$work/capture.otlp"
ports=()
for index in 0 1 2; do
    cat > "$work/gateway-$index.yaml" <<YAML
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:0"}
      http: {endpoint: "127.0.0.1:0"}
exporters:
  stdout: {format: proto}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [stdout]}
YAML
    $trapline run --config "$work/gateway-$index.yaml" > /dev/null 2> "$work/gateway-$index.log" &
    pids+=($!)
done
for index in 0 1 2; do
    for _ in $(seq 100); do grep -q "listening:" "$work/gateway-$index.log" && break; sleep 0.05; done
    grpc=$(grep -o 'otlp grpc on port [0-9]*' "$work/gateway-$index.log" | grep -o '[0-9]*$')
    http=$(grep -o 'otlp on port [0-9]*' "$work/gateway-$index.log" | grep -o '[0-9]*$')
    ports+=("$grpc:$http")
done
grpc_port() { echo "${ports[$1]%%:*}"; }
http_port() { echo "${ports[$1]##*:}"; }
received() { curl -s "127.0.0.1:$(http_port "$1")/metrics" | awk '$1 == "trapline_records_received_total" {print $2}'; }
cat > "$work/direct.yaml" <<YAML
receivers:
  file: {include: ["$work/capture.otlp"]}
exporters:
  otlp:
    endpoint: 127.0.0.1:$(grpc_port 0)
    tls: {insecure: true}
    compression: none
service:
  pipelines:
    traces: {receivers: [file], exporters: [otlp]}
YAML
cat > "$work/balanced.yaml" <<YAML
receivers:
  file: {include: ["$work/capture.otlp"]}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls: {insecure: true}
        compression: none
    resolver:
      static:
        hostnames: [127.0.0.1:$(grpc_port 0), 127.0.0.1:$(grpc_port 1), 127.0.0.1:$(grpc_port 2)]
service:
  pipelines:
    traces: {receivers: [file], exporters: [loadbalancing]}
YAML
now() { date +%s%N; }
: > "$work/rounds"
for round in $(seq "${LB_ROUNDS:-5}"); do
    start=$(now); $trapline replay -q --config "$work/direct.yaml" "$work/capture.otlp"; end=$(now)
    direct=$((end - start))
    before=($(received 0) $(received 1) $(received 2))
    start=$(now); $trapline replay -q --config "$work/balanced.yaml" "$work/capture.otlp"; end=$(now)
    balanced=$((end - start))
    after=($(received 0) $(received 1) $(received 2))
    echo "$direct $balanced $((after[0] - before[0])) $((after[1] - before[1])) $((after[2] - before[2]))" >> "$work/rounds"
done
python3 - "$work/rounds" <<'PY'
import statistics, sys
rounds = [[int(value) for value in line.split()] for line in open(sys.argv[1])]
direct = statistics.median(r[0] for r in rounds) / 1e9
balanced = statistics.median(r[1] for r in rounds) / 1e9
ratios = sorted(r[0] / r[1] for r in rounds)
shares = [sum(r[2 + i] for r in rounds) for i in range(3)]
total = sum(shares)
print(f"direct otlp to one gateway: {200000 / direct:,.0f} spans/s ({direct:.2f} s); loadbalancing over three: "
      f"{200000 / balanced:,.0f} spans/s ({balanced:.2f} s); balanced/direct {direct / balanced:.2f}x "
      f"(rounds {ratios[0]:.2f}-{ratios[-1]:.2f}, median of {len(rounds)}); gateway shares "
      + ", ".join(f"{3 * s / total:.3f}" for s in shares) + f" of even ({total:,} spans, every round delivered "
      + ("all" if all(sum(r[2:]) == 200000 for r in rounds) else "NOT all") + ")")
PY
