#!/usr/bin/env bash
# The release `trapline` against its peers, whole processes on the same bytes (issue 27): 2,000
# requests of 100 spans with the shape of production traces (Benchmarks/generate-traces.py, about
# 560 bytes a span), framed as the Collector's file exporter writes, and the same requests as
# OTLP JSON lines. Peers, built here from Benchmarks/Peers and Benchmarks/Sources: libprotobuf-c
# (unpack + free, unpack + pack), a C tag skim that walks every nested message and builds
# nothing, and simdjson On-Demand (Debian libsimdjson-dev) touching every value of every span.
# Prints wall and CPU seconds, peak RSS and callgrind instructions a span (60 minus 10 requests)
# for each, the ratios the issue sets goals for, the start-up of `trapline replay` on an empty
# file, and checks Thresholds/peers.json (instruction ratios and counts, which do not drift like
# the clock).
#   PEERS_REQUESTS (2000) and PEERS_ROUNDS (9) change the size and the rounds; PEERS_BASELINE=PATH
#   (an earlier release build of trapline) runs its commands in the same rounds, for before and after;
#   PEERS_DYNAMIC=1 measures the dynamic release build instead of the packaged (static) one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
missing=()
[ -f /usr/include/simdjson.h ] || missing+=(libsimdjson-dev)
command -v valgrind >/dev/null || missing+=(valgrind)
command -v c++ >/dev/null || missing+=(g++)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
work=${PEERS_WORK:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${PEERS_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
# The binary users run: the release artifact of Scripts/package.sh (runtime and Foundation
# linked in, stripped, at a fixed address; built in .build-static so the dynamic release build
# stays as it is). It starts in 8-9 ms where the dynamic build takes 12-20, and calls the runtime
# directly rather than through the PLT. PEERS_DYNAMIC=1 measures the dynamic `.build/release/trapline` instead
# (valgrind cannot read the debug information of the release build; it needs none).
if [ -n "${PEERS_DYNAMIC:-}" ]; then
    swift build -c release --product trapline >/dev/null
    strip --strip-debug -o "$work/trapline" .build/release/trapline
else
    rm -rf "$work/package"
    bash Scripts/package.sh --scratch-path .build-static --output "$work/package" >/dev/null
    cp "$work"/package/trapline-*/bin/trapline "$work/trapline"
fi
baseline=()
if [ -n "${PEERS_BASELINE:-}" ]; then
    strip --strip-debug -o "$work/baseline-trapline" "$PEERS_BASELINE"
    baseline=(--baseline "$work/baseline-trapline")
fi
oracle=Sources/COTLPOracle
cc -O2 -o "$work/protobuf-peer" -IBenchmarks/Sources/CPeers/include -I$oracle/include -I$oracle/generated \
    Benchmarks/Peers/protobuf-peer.c Benchmarks/Sources/CPeers/tag_skim.c $oracle/otlp_oracle.c \
    $(find $oracle/generated -name '*.c') -lprotobuf-c
# haswell (AVX2): simdjson's On-Demand is compiled for the target named at build time, and valgrind
# does not run AVX-512.
c++ -O2 -march=haswell -std=c++17 -o "$work/simdjson-peer" -IBenchmarks/Sources/CSimdjsonPeer/include \
    Benchmarks/Peers/simdjson-peer.cpp Benchmarks/Sources/CSimdjsonPeer/simdjson_peer.cpp -lsimdjson
python3 Benchmarks/peers.py --trapline "$work/trapline" --peers "$work" --work "$work" \
    --requests "${PEERS_REQUESTS:-2000}" --rounds "${PEERS_ROUNDS:-9}" --thresholds Benchmarks/Thresholds/peers.json \
    "${baseline[@]}"
