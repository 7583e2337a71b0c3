#!/usr/bin/env bash
# Checks the library's public API from the symbol graphs of the debug build (run `swift build`
# first): every public symbol is documented, and every public function and initializer says
# whether it allocates. Prints the public symbol count per module. What `@_spi(Plumbing)` or
# `package` access hides is not API and is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
flags=(-I .build/debug/Modules)
# The system libraries' module maps (zlib, libzstd), and the C targets' own (CMappingGuard).
for map in Sources/C*/module.modulemap Sources/C*/include/module.modulemap; do
    [ -f "$map" ] && flags+=(-Xcc "-fmodule-map-file=$map")
done
for include in .build/checkouts/*/Sources/*/include; do [ -d "$include" ] && flags+=(-Xcc "-I$include"); done
for map in .build/debug/C*.build/module.modulemap; do [ -f "$map" ] && flags+=(-Xcc "-fmodule-map-file=$map"); done
for module in TraplineCore TraplineRules TraplineStages Trapline TraplineServer TraplineTLS TraplineGRPC; do
    swift symbolgraph-extract -module-name "$module" -target "$(uname -m)-unknown-linux-gnu" "${flags[@]}" \
        -minimum-access-level public -skip-synthesized-members -output-dir "$out" >"$out/$module.log" 2>&1 || {
        cat "$out/$module.log"
        exit 1
    }
done
python3 - "$out" <<'PY'
import glob, json, os, sys
functions = {"swift.func", "swift.method", "swift.init", "swift.type.method", "swift.func.op", "swift.subscript"}
problems, total = [], 0
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.symbols.json"))):
    symbols = json.load(open(path))["symbols"]
    total += len(symbols)
    print(f"{os.path.basename(path).split('.')[0]}: {len(symbols)} public symbols")
    for symbol in symbols:
        location = symbol.get("location")
        if location is None:
            continue  # synthesized by the compiler (a raw-value enum's init)
        doc = " ".join(line["text"] for line in symbol.get("docComment", {}).get("lines", []))
        where = f"{location['uri'].split('/Sources/')[-1]}:{location['position']['line'] + 1}"
        name = ".".join(symbol["pathComponents"])
        if not doc.strip():
            problems.append(f"{where}: {name} is not documented")
        elif symbol["kind"]["identifier"] in functions and "alloc" not in doc.lower():
            problems.append(f"{where}: {name} does not say whether it allocates")
print(f"public symbols: {total}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
