#!/usr/bin/env bash
# Builds a libFuzzer target (the sources it needs compiled in, with AddressSanitizer) and fuzzes it.
#   Fuzz/run.sh [SECONDS] [decode|rules]   (default 60 s of decode: the CI smoke; use 600+ for a real run)
#   decode: detection, framing, gzip, both decoders, text, re-encoding (Fuzz/DecodeFuzzTarget.swift)
#   rules:  OTTL parser/compiler/evaluator and the regex engine (Fuzz/RulesFuzzTarget.swift)
# Seeds come from Fixtures/; findings land in fuzz-artifacts/ and belong in Fixtures/regressions/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${2:-decode}"
work="${FUZZ_WORK:-.build-fuzz}/$target"
mkdir -p "$work/corpus" fuzz-artifacts
sources=$(find Sources/TraplineCore -name '*.swift' | sort)
case "$target" in
    decode) entry=Fuzz/DecodeFuzzTarget.swift ;;
    rules)
        entry=Fuzz/RulesFuzzTarget.swift
        # One module: the Rules sources with their imports of Core taken out.
        mkdir -p "$work/rules"
        for file in $(find Sources/TraplineRules -name '*.swift' | sort); do
            sed -E 's/^(public )?import TraplineCore$//' "$file" > "$work/rules/$(basename "$file")"
        done
        sources="$sources $(find "$work/rules" -name '*.swift' | sort)"
        ;;
    *) echo "unknown target $target (decode or rules)" >&2; exit 64 ;;
esac
swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
    -module-name TraplineFuzz -I Sources/CZlib -lz $sources "$entry" -o "$work/trapline-fuzz"
seeds="$work/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
if [ "$target" = rules ]; then
    # Seeds: every rule and pattern of the shipped pipelines, one per file.
    grep -hoE "^ *- .*" Pipelines/*.yaml | sed -E 's/^ *- //' | awk '{ print > "'"$seeds"'/rule-" NR }'
else
    find Fixtures -type f ! -name '*.md' -size -64k -print0 | while IFS= read -r -d '' file; do
        cp "$file" "$seeds/$(echo "$file" | tr '/' '_')"
    done
fi
"$work/trapline-fuzz" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix=fuzz-artifacts/ -print_final_stats=1 "$work/corpus" "$seeds"
# Every input that ever crashed is replayed by the test suite from Fixtures/regressions/.
