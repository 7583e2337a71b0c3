#!/usr/bin/env bash
# Builds a libFuzzer target (with AddressSanitizer) and fuzzes it.
#   Fuzz/run.sh [SECONDS] [TARGET]   (default 60 s of decode; the CI smoke runs 30 s of each; use 1800 for a real run)
#   Fuzz/run.sh build TARGET...      (builds package targets one after another, fuzzes nothing)
# Targets compiled here with swiftc, from the sources they need:
#   decode:       detection, framing, gzip, both decoders, text, re-encoding (Fuzz/DecodeFuzzTarget.swift)
#   rules:        OTTL parser/compiler/evaluator and the regex engine (Fuzz/RulesFuzzTarget.swift)
# Targets of the fuzz package (Fuzz/Package.swift, `swift build --sanitize fuzzer`):
#   config:       the YAML -> pipeline builder (Fuzz/Sources/FuzzConfig)
#   http:         the sidecar's OTLP/HTTP request handler, in process (Fuzz/Sources/FuzzHTTP)
#   text:         the text-log splitter against a reference splitter (Fuzz/Sources/FuzzText)
#   differential: the protobuf decoder and encoders against libprotobuf-c (Fuzz/Sources/FuzzDifferential)
# Seeds come from Fixtures/ and Pipelines/; findings land in fuzz-artifacts/ and belong in
# Fixtures/regressions/ (replayed by `swift test`, RegressionTests).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-decode}"
work="${FUZZ_WORK:-.build-fuzz}/$target"
mkdir -p "$work/corpus" fuzz-artifacts
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"

# Small fixtures matching a pattern, one seed each, prefixed with the bytes given (printf format).
seed_fixtures() {
    local prefix="$1"
    shift
    find Fixtures -type f "$@" -size -64k -print0 | while IFS= read -r -d '' file; do
        { printf "$prefix"; cat "$file"; } > "$seeds/$(echo "$file" | tr '/' '_')"
    done
}

build_package_target() {
    command -v protoc-c >/dev/null || apt-get install -y protobuf-c-compiler libprotobuf-c-dev >/dev/null
    # The Swift driver keeps only the last -sanitize flag it is given, and SwiftPM gives one per
    # --sanitize: without the combined flag the Swift code would be built without libFuzzer's
    # coverage (only the C targets would have it). -enable-testing: the http target reaches the
    # receiver's internal request handler.
    swift build --package-path Fuzz -c release --sanitize fuzzer --sanitize address \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing --product "$1" >&2
    program="Fuzz/.build/release/$1"
}

# Two builds at once on Fuzz/.build spoil each other's build plan (the second recompiled every
# module the first had just built, 137 s in CI): builds of several targets go one at a time.
if [ "$1" = build ]; then
    shift
    # Resolved before the first build: in a fresh clone the first build writes Package.resolved,
    # and the next product's release build then recompiled every module again (99 s in CI).
    swift package --package-path Fuzz resolve >&2
    for name in "$@"; do
        case "$name" in
            config) build_package_target FuzzConfig ;;
            http) build_package_target FuzzHTTP ;;
            text) build_package_target FuzzText ;;
            differential) build_package_target FuzzDifferential ;;
            *) echo "not a package target: $name (config, http, text or differential)" >&2; exit 64 ;;
        esac
    done
    exit 0
fi

case "$target" in
    decode | rules)
        sources=$(find Sources/TraplineCore -name '*.swift' | sort)
        entry=Fuzz/DecodeFuzzTarget.swift
        if [ "$target" = rules ]; then
            entry=Fuzz/RulesFuzzTarget.swift
            # One module: the Rules sources with their imports of Core taken out.
            mkdir -p "$work/rules"
            for file in $(find Sources/TraplineRules -name '*.swift' | sort); do
                sed -E 's/^(public )?import TraplineCore$//' "$file" > "$work/rules/$(basename "$file")"
            done
            sources="$sources $(find "$work/rules" -name '*.swift' | sort)"
            # Every rule and pattern of the shipped pipelines, one per file.
            grep -hoE "^ *- .*" Pipelines/*.yaml | sed -E 's/^ *- //' | awk '{ print > "'"$seeds"'/rule-" NR }'
        else
            seed_fixtures "" ! -name '*.md'
        fi
        # TraplineCore's C part (the mapped files' SIGBUS guard), built beside it.
        clang -O1 -g -fsanitize=address -I Sources/CMappingGuard/include -c Sources/CMappingGuard/mapping_guard.c \
            -o "$work/mapping_guard.o"
        # shellcheck disable=SC2086
        swiftc -sanitize=fuzzer,address -parse-as-library -O -g -package-name Trapline \
            -module-name TraplineFuzz -I Sources/CZlib -I Sources/CMappingGuard/include -lz $sources \
            "$work/mapping_guard.o" "$entry" -o "$work/trapline-fuzz"
        program="$work/trapline-fuzz"
        ;;
    config)
        build_package_target FuzzConfig
        for file in Pipelines/*.yaml Fixtures/k8s/*.yaml Fixtures/corpus/otlp/collector-configs/*.yaml; do
            cp "$file" "$seeds/$(echo "$file" | tr '/' '_')"
        done
        # The trap rules' baselines written inline (the shipped pipelines name the built-in pack).
        cat > "$seeds/baselines.yaml" <<'YAML'
receivers: {stdin: }
processors:
  traps:
    rules:
      - class: latency_slo_breach
        when: 'kind == SPAN_KIND_SERVER'
        baseline:
          latency: {window: 15m, percentile: 99, factor: 3, min_samples: 100, objective: 2s, max_series: 10}
      - class: probe_success_below_floor
        when: 'attributes["user_agent.synthetic.type"] == "test"'
        baseline:
          success:
            failed_when: 'status.code == STATUS_CODE_ERROR'
            window: 1h
            recent: 5m
            max_drop: 0.1
            floor: 0.9
            min_samples: 20
      - class: export_success_below_floor
        when: 'IsMatch(name, "^exporter/")'
        baseline:
          success: {counts: {ok: sent_spans, failed: send_failed_spans}, max_drop: 0.01}
exporters: {stdout: }
service: {pipelines: {traces: {receivers: [stdin], processors: [traps], exporters: [stdout]}}}
YAML
        ;;
    http)
        build_package_target FuzzHTTP
        python3 Fuzz/http-seeds.py "$seeds"
        ;;
    text)
        build_package_target FuzzText
        # First byte: the line limit (here 16 or 32 bytes); second: how the stream trickles.
        seed_fixtures '\x0f\x03' -name '*.log'
        seed_fixtures '\x1f\x05' -name '*.go'
        printf '\x04\x01one\r\ntwo\rthree\n\n\xe2\x82\xacuro \xff bad\n' > "$seeds/terminators"
        ;;
    differential)
        build_package_target FuzzDifferential
        seed_fixtures "" \( -name '*.pb' -o -name '*.bin' \)
        ;;
    *)
        echo "unknown target $target (decode, rules, config, http, text or differential)" >&2
        exit 64
        ;;
esac
# The Swift runtime's own crash handler would read the process's memory under ASan and report
# that instead of the failure: leave crashes to libFuzzer.
SWIFT_BACKTRACE=enable=no "$program" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 "$work/corpus" "$seeds"
