#!/usr/bin/env bash
# Following a growing file (issue 24) against replaying the same file, whole processes, in the
# same script: the release `trapline run` follows a directory with a `filelog` receiver
# (start_at: beginning, checkpoints in a file_storage directory) while `cat` appends the whole
# input at disk speed; the follow is done when the checkpoint reaches the end of the file.
# The peer is `trapline replay` of the same file through the same exporter, alone, and while
# `cat` writes a copy of the input (the writer's load, which following while appending meets
# too), and the limit the cores set: the replay's CPU seconds and cat's together, over the cores.
# Two inputs:
# 400,000 spans as OTLP JSON lines (4,000 requests, 390 MB), and 2,000,000 text log lines.
# Each case runs FOLLOW_ROUNDS (default 5) interleaved rounds and reports medians;
# FOLLOW_BASELINE=PATH runs an earlier build in the same rounds.
# Then the latency from write to next hop, alone and under load: a steady writer (Tests/Scripts/steady_writer.py)
# appends timestamped lines while `trapline run` follows them into a loopback OTLP/HTTP next hop
# (Tests/Scripts/otlp_next_hop.py, which notes when each record arrived): p50, p99 and max.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
[ -x /usr/bin/time ] || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
swift build -c release --product trapline >/dev/null
trapline=.build/release/trapline
work=$(mktemp -d)
pid=""
hop=""
watcher=""
trap 'kill $pid $hop $watcher 2>/dev/null || true; rm -rf "$work"' EXIT
python3 Scripts/generate-otlp.py --signal traces --requests 4000 --records-per-request 100 --seed 7 "$work/stream.otlp"
$trapline replay -q --output-format otlp-json -o "$work/spans.jsonl" "$work/stream.otlp"
python3 - "$work/app.log" <<'PY'
import random, sys
random.seed(3)
levels = ["INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"]
paths = ["/api/orders", "/api/cart", "/healthz", "/api/users/42", "/static/app.js"]
with open(sys.argv[1], "w") as out:
    for number in range(2_000_000):
        out.write(f"2026-12-06T10:{number // 60000 % 60:02d}:{number // 1000 % 60:02d}.{number % 1000:03d}Z "
                  f"{random.choice(levels)} http request method=GET path={random.choice(paths)} "
                  f"status={random.choice([200, 200, 200, 404, 500])} duration_ms={random.randint(1, 900)} seq={number}\n")
PY
now() { date +%s%N; }
# watch_offset CHECKPOINT SIZE OUT: one process that reads the checkpoint file every 5 ms and
# writes to OUT the time (ns) it first showed SIZE, then exits (a grep spawned every 10 ms took
# CPU from the follower on these 2 cores, and from replay not at all). Started before the timing.
watch_offset() {
    python3 - "$1" "$2" "$3" <<'PY' &
import re, sys, time
path, size, out = sys.argv[1], sys.argv[2], sys.argv[3]
pattern = re.compile(r'"offset":' + size + r'[,}]')
while True:
    try:
        with open(path) as checkpoint:
            if pattern.search(checkpoint.read()):
                break
    except OSError:
        pass
    time.sleep(0.005)
with open(out, "w") as stream:
    stream.write(str(time.time_ns()))
PY
    watcher=$!
    sleep 0.2
}

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
    local size start end round build trapline
    size=$(stat -c %s "$input")
    for build in "${builds[@]}"; do : > "$dir/rounds-${build//\//_}"; done
    # Interleaved rounds (replay, follow while appending, follow of the written file), medians
    # reported: one run takes under a second here, where a single round drifted from 0.44x to
    # 0.84x between sessions.
    for round in $(seq "$rounds"); do
      for build in "${builds[@]}"; do
        trapline=$build
        start=$(now)
        /usr/bin/time -f '%U %S' -o "$dir/replay.cpu" $trapline replay -q --config "$dir/replay.yaml" "$input"
        end=$(now)
        local replay_ns=$((end - start))
        # The same replay while `cat` writes the same bytes to another file: the load the
        # follower meets while the file grows (cat alone takes most of a core for its run), so
        # following while appending is compared with replay under the same writer.
        rm -f "$dir/scratch"
        start=$(now)
        cat "$input" > "$dir/scratch" &
        local writer=$!
        $trapline replay -q --config "$dir/replay.yaml" "$input"
        end=$(now)
        wait $writer
        rm -f "$dir/scratch"
        local loaded_ns=$((end - start))
        rm -rf "$dir/logs" "$dir/storage"
        mkdir -p "$dir/logs" "$dir/storage"
        $trapline run -q --config "$dir/follow.yaml" 2>"$dir/stderr" &
        pid=$!
        watch_offset "$dir/storage/receiver_filelog" "$size" "$dir/end"
        sleep 0.3
        start=$(now)
        /usr/bin/time -f '%U %S' -o "$dir/cat.cpu" cat "$input" >> "$dir/logs/followed.log"
        local written=$(now)
        wait $watcher
        end=$(cat "$dir/end")
        local follow_ns=$((end - start))
        local lag_ns=$((end - written))
        # The follower's CPU seconds, start-up and the idle wait before cat included.
        local follow_cpu_ns
        follow_cpu_ns=$(awk -v tick="$(getconf CLK_TCK)" '{printf "%d", ($14 + $15) / tick * 1e9}' "/proc/$pid/stat")
        kill -TERM $pid; wait $pid || true
        pid=""
        # Catching up: the same file already written when `run` starts (no writer competing for
        # the two cores), from the process start to the checkpoint at the end.
        rm -f "$dir/storage/"*
        watch_offset "$dir/storage/receiver_filelog" "$size" "$dir/end"
        start=$(now)
        $trapline run -q --config "$dir/follow.yaml" 2>>"$dir/stderr" &
        pid=$!
        wait $watcher
        end=$(cat "$dir/end")
        local catchup_ns=$((end - start))
        kill -TERM $pid; wait $pid || true
        pid=""
        # CPU seconds of the replay alone and of the appending cat, for the two cores' limit.
        echo "$replay_ns $follow_ns $catchup_ns $loaded_ns $lag_ns" \
            "$(awk '{printf "%d", ($1 + $2) * 1e9}' "$dir/replay.cpu")" \
            "$(awk '{printf "%d", ($1 + $2) * 1e9}' "$dir/cat.cpu")" "$follow_cpu_ns" >> "$dir/rounds-${build//\//_}"
      done
    done
    for build in "${builds[@]}"; do
    python3 - "$name" "$records" "$unit" "$dir/rounds-${build//\//_}" "$([ "$build" = "${builds[0]}" ] || echo "baseline $build")" \
        "$(nproc)" <<'PY'
import statistics, sys
name, records, unit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if sys.argv[5]:
    name += f" ({sys.argv[5]}, same rounds)"
rounds = [[int(value) / 1e9 for value in line.split()] for line in open(sys.argv[4])]
replay, follow, catchup, loaded, lag, replay_cpu, cat_cpu, follow_cpu = (
    statistics.median(column) for column in zip(*rounds))
appending = sorted(row[3] / row[1] for row in rounds)
written = sorted(row[0] / row[2] for row in rounds)
# The cores' limit for following while cat appends: the follower needs the CPU a replay needs
# and cat takes its own from the same cores, so no follower ends before (replay CPU + cat CPU) /
# cores, nor before a replay alone does.
cores = int(sys.argv[6])
limit = max(replay, (replay_cpu + cat_cpu) / cores)
print(f"{name}, median of {len(rounds)} rounds: replay {records / replay:,.0f} {unit}/s ({replay:.2f} s), "
      f"{records / loaded:,.0f} {unit}/s ({loaded:.2f} s) while cat writes a copy; follow while cat appends "
      f"{records / follow:,.0f} {unit}/s ({follow:.2f} s, first byte appended to checkpoint at the end), "
      f"{loaded / follow:.2f}x replay under the same writer (rounds {appending[0]:.2f}-{appending[-1]:.2f}), "
      f"{replay / follow:.2f}x replay alone (the {cores} cores' limit, with cat's {cat_cpu:.2f} CPU s beside the "
      f"replay's {replay_cpu:.2f}: {limit:.2f} s, {replay / limit:.2f}x replay alone; following reached "
      f"{limit / follow:.0%} of it, using {follow_cpu:.2f} CPU s), the checkpoint at the end {lag * 1000:.0f} ms after cat ended "
      f"(how far behind the writer following ends); follow of the file already written {records / catchup:,.0f} {unit}/s "
      f"({catchup:.2f} s from process start), {replay / catchup:.2f}x replay (rounds {written[0]:.2f}-{written[-1]:.2f})")
PY
    done
}
rounds=${FOLLOW_ROUNDS:-5}
# FOLLOW_BASELINE=PATH: an earlier build's trapline runs the same cases in the same rounds
# (before-and-after figures from one run; the latency part runs this build only).
builds=("$trapline")
[ -n "${FOLLOW_BASELINE:-}" ] && builds+=("$FOLLOW_BASELINE")
follow_case "spans (OTLP JSON lines)" "$work/spans.jsonl" 400000 spans traces
follow_case "text log lines" "$work/app.log" 2000000 lines logs

# Latency from write to next hop: a steady writer's timestamped lines followed into a loopback
# OTLP/HTTP next hop, first alone, then under the load above: the same process follows, in a
# second pipeline, a file that `cat` appends the 400,000 spans to four times (to /dev/null), and
# the latency counts the lines written while cat was appending.
python3 Tests/Scripts/otlp_next_hop.py --count "$work/latency-count" --bodies "$work/latency-bodies" > "$work/latency-port" &
hop=$!
for _ in $(seq 100); do [ -s "$work/latency-port" ] && break; sleep 0.05; done
hop_port=$(head -1 "$work/latency-port")
# latency_case NAME LINES LOAD_COPIES
latency_case() {
    local dir="$work/latency-$1" lines=$2 copies=$3
    mkdir -p "$dir/logs" "$dir/spans"
    : > "$work/latency-bodies"
    cat > "$dir/follow.yaml" <<YAML
receivers:
  filelog/latency: {include: ["$dir/logs/*.log"], start_at: beginning, poll_interval: 50ms}
  filelog/load: {include: ["$dir/spans/*.log"], start_at: beginning, poll_interval: 50ms}
exporters:
  otlphttp: {endpoint: "http://127.0.0.1:$hop_port", compression: none}
  file: {path: /dev/null, format: proto}
service:
  pipelines:
    logs: {receivers: [filelog/latency], exporters: [otlphttp]}
    traces: {receivers: [filelog/load], exporters: [file]}
YAML
    $trapline run -q --config "$dir/follow.yaml" &
    pid=$!
    sleep 0.5
    python3 Tests/Scripts/steady_writer.py --path "$dir/logs/app.log" --count "$lines" --interval 0.0005 >/dev/null &
    local writer=$!
    local load_start=0 load_end=0
    if [ "$copies" -gt 0 ]; then
        sleep 0.5
        load_start=$(date +%s.%N)
        for _ in $(seq "$copies"); do cat "$work/spans.jsonl" >> "$dir/spans/load.log"; done
        load_end=$(date +%s.%N)
    fi
    wait $writer
    for _ in $(seq 300); do [ "$(wc -l < "$work/latency-bodies" 2>/dev/null || echo 0)" -ge "$lines" ] && break; sleep 0.1; done
    kill -TERM $pid; wait $pid || true
    pid=""
    python3 - "$work/latency-bodies" "$lines" "$load_start" "$load_end" "$copies" <<'PY'
import sys
lines, start, end, copies = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
latencies, first, last, arrived_count = [], None, None, 0
for line in open(sys.argv[1]):
    arrived, body = line.split(" ", 1)
    written = float(body.rsplit(" ", 1)[1])
    arrived_count += 1
    if copies and not start <= written <= end:
        continue
    first = written if first is None else min(first, written)
    last = written if last is None else max(last, written)
    latencies.append(float(arrived) - written)
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000
rate = len(latencies) / (last - first) if last > first else 0
what = (f"while cat appended {copies} x 400,000 spans ({end - start:.2f} s) to a file the same process follows, "
        f"{len(latencies)} lines written then" if copies else f"alone, {len(latencies)} lines")
print(f"latency write -> next hop {what} ({arrived_count} of {lines} lines arrived, {rate:,.0f} lines/s, poll_interval 50ms): "
      f"p50 {pick(0.5):.1f} ms, p99 {pick(0.99):.1f} ms, max {latencies[-1] * 1000:.1f} ms")
PY
}
latency_case alone 10000 0
latency_case loaded 6000 4
