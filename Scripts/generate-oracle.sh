#!/usr/bin/env bash
# Regenerates Sources/COTLPOracle/generated/ (protoc-c output for the OTLP trace, logs and
# collector protos) from the schema in PyPI's opentelemetry-proto. The output is committed;
# run this only when the schema version changes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v protoc-c >/dev/null || apt-get install -y protobuf-c-compiler libprotobuf-c-dev
python3 -c 'import opentelemetry.proto' 2>/dev/null || pip install opentelemetry-proto
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
files="$(python3 Scripts/dump-otlp-descriptors.py "$work/otlp.pb")"
out=Sources/COTLPOracle/generated
rm -rf "$out"
mkdir -p "$out"
# shellcheck disable=SC2086
protoc-c --descriptor_set_in="$work/otlp.pb" --c_out="$out" $files
echo "generated from opentelemetry-proto $(python3 -c 'import importlib.metadata as m; print(m.version("opentelemetry-proto"))')" > "$out/VERSION"
