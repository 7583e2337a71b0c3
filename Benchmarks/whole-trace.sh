#!/usr/bin/env bash
# A replay with a whole-trace `filter` against the same replay with the same condition span by
# span (issue 29: whole_trace at >= 0.6 of it), whole processes, in the same script: the release
# `trapline replay` reads 400,000 spans (4,000 requests of 100, Scripts/generate-otlp.py) from a
# file and writes protobuf to /dev/null. The whole-trace replay reads the file twice (a first
# pass finds the traces with an error span, the second decides every span by its trace).
# WT_ROUNDS (default 5) interleaved rounds, medians of wall time and of CPU time (user + system),
# and the ratio of spans/s; the spans each run forwarded are checked against each other.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
swift build -c release --product trapline >/dev/null
trapline=.build/release/trapline
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
spans=400000
python3 Scripts/generate-otlp.py --signal traces --requests 4000 --records-per-request 100 --seed 29 "$work/capture.otlp"
for mode in span whole; do
    whole=""
    [ "$mode" = whole ] && whole="whole_trace: true"
    cat > "$work/$mode.yaml" <<YAML
receivers: {stdin: null}
processors:
  filter:
    $whole
    trace_conditions: ['span.status.code == STATUS_CODE_ERROR']
exporters: {stdout: {format: proto}}
service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}
YAML
done
# One run: wall nanoseconds, CPU seconds (user + system, from GNU time), spans forwarded.
run() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%U %S" -o "$work/time" $trapline replay --config "$work/$1.yaml" --output /dev/null \
        --report-file "$work/report.json" -q "$work/capture.otlp"
    end=$(date +%s%N)
    python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['records']['forwarded'])" "$work/report.json" \
        > "$work/forwarded"
    echo "$((end - start)) $(awk '{print $1 + $2}' "$work/time") $(cat "$work/forwarded")"
}
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
: > "$work/rounds"
for round in $(seq "${WT_ROUNDS:-5}"); do
    echo "$(run span) $(run whole)" >> "$work/rounds"
done
python3 - "$work/rounds" "$spans" <<'PY'
import statistics, sys
rounds = [[float(value) for value in line.split()] for line in open(sys.argv[1])]
spans = int(sys.argv[2])
span_wall = statistics.median(r[0] for r in rounds) / 1e9
whole_wall = statistics.median(r[3] for r in rounds) / 1e9
span_cpu = statistics.median(r[1] for r in rounds)
whole_cpu = statistics.median(r[4] for r in rounds)
ratios = sorted(r[0] / r[3] for r in rounds)
print(f"span by span: {spans / span_wall:,.0f} spans/s ({span_wall:.2f} s, {span_cpu:.2f} CPU s, "
      f"{int(rounds[0][2]):,} forwarded); whole traces: {spans / whole_wall:,.0f} spans/s ({whole_wall:.2f} s, "
      f"{whole_cpu:.2f} CPU s, {int(rounds[0][5]):,} forwarded); whole/span {span_wall / whole_wall:.2f}x by the clock "
      f"(rounds {ratios[0]:.2f}-{ratios[-1]:.2f}, median of {len(rounds)}), {span_cpu / whole_cpu:.2f}x in CPU time")
PY
