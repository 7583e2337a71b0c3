#!/usr/bin/env bash
# Builds the libFuzzer target (TraplineCore compiled in, with AddressSanitizer) and fuzzes it.
#   Fuzz/run.sh [SECONDS]   (default 60: the CI smoke; use 600+ for a real run)
# Seeds come from Fixtures/; findings land in fuzz-artifacts/ and belong in Fixtures/regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
work="${FUZZ_WORK:-.build-fuzz}"
mkdir -p "$work/corpus" fuzz-artifacts
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
    -module-name TraplineFuzz -I Sources/CZlib -lz \
    $(find Sources/TraplineCore -name '*.swift' | sort) Fuzz/DecodeFuzzTarget.swift \
    -o "$work/trapline-fuzz"
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
find Fixtures -type f ! -name '*.md' -size -64k -print0 | while IFS= read -r -d '' file; do
    cp "$file" "$seeds/$(echo "$file" | tr '/' '_')"
done
"$work/trapline-fuzz" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 "$work/corpus" "$seeds"
# Every input that ever crashed is replayed by the test suite from Fixtures/regressions/.
