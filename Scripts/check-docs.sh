#!/usr/bin/env bash
# Builds the DocC documentation of the library targets (swift-docc-plugin) and fails on any
# documentation warning: an undocumented parameter, a broken symbol link. Warnings SwiftPM prints
# about dependencies' own packaging are not ours and are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# All the targets in one run of the plugin (one per target cost 20 s more in CI).
targets=(Trapline TraplineStages TraplineRules TraplineCore TraplineServer TraplineTLS TraplineGRPC)
swift package generate-documentation "${targets[@]/#/--target=}" >"$log" 2>&1 || { cat "$log"; exit 1; }
if grep -E "^warning:" "$log" | grep -vE "^warning: '[^']+': found [0-9]+ file\(s\) which are unhandled"; then
    echo "documentation warnings (in ${targets[*]})" >&2
    exit 1
fi
echo "documentation: no warnings"
# Every public symbol documented, every public function saying whether it allocates.
bash Scripts/check-public-api.sh
