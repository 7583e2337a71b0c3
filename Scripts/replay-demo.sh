#!/usr/bin/env bash
# The main job: replay a shop's captured traces (Fixtures/generated/demo-shop.otlp.gz: ten minutes,
# seven services on a real kind cluster's pods) through Pipelines/demo.yaml — a filter that drops
# Kubernetes probes, a transform that removes personal data, k8sattributes enrichment from the
# cluster's pod list, and the runtime traps — and print the accounting, each stage, the traps with
# their remedies, the Trap Escape Rate and a few metrics; then run the gate on a real Go build log.
set -euo pipefail
cd "$(dirname "$0")/.."
# The C libraries the binary links: zlib, and libzstd (the sidecar's zstd content encoding).
missing=()
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ -f /usr/include/zstd.h ] || missing+=(libzstd-dev)
if [ ${#missing[@]} -gt 0 ]; then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The build's own output (and the dependencies' package warnings) only when it fails.
swift build -c release --product trapline >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
trapline=.build/release/trapline
TRAPLINE_OUTPUT="$out/forwarded.otlp" TRAPLINE_METRICS="$out/trapline.prom" \
    "$trapline" replay -q --config Pipelines/demo.yaml --report-file "$out/report.json" \
    Fixtures/generated/demo-shop.otlp.gz
python3 - "$out/report.json" "$out/trapline.prom" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
r = report["records"]
print("== replay of Fixtures/generated/demo-shop.otlp.gz through Pipelines/demo.yaml")
print(f"records: {r['received']} received = {r['forwarded']} forwarded + {r['filtered']} filtered"
      f" + {r['blocked']} blocked + {r['rejected']} rejected")
for stage in report["stages"]:
    extra = ""
    if "pods" in stage:
        extra = f"  ({stage['pods']} pods, {stage['association_misses']} of {stage['association_lookups']} resources unmatched)"
    print(f"  {stage['id']:<18} in {stage['received']:>5}  out {stage['forwarded']:>5}"
          f"  filtered {stage['filtered']:>4}  blocked {stage['blocked']:>2}{extra}")
print("traps:")
remedies = {}
for event in report["trap_events"]:
    remedies.setdefault(event["class"], event["remedy"])
for trap in report["traps"]:
    action = "blocked" if trap["blocked"] else "observed"
    remedy = remedies[trap["class"]].split(";")[0].split(". ")[0]
    print(f"  {trap['class']:<27} {trap['identified']} {action:<8} remedy: {remedy}")
ter = report["ter"]
print(f"TER: {ter['value']:.3f} = {ter['blocked']} blocked / ({ter['window_seconds']:.0f} s"
      f" × {ter['density_per_second'] * 3600:.0f} expected traps per hour)")
wanted = ("trapline_records_", "trapline_trap_events_blocked_total", "trapline_ter_")
print("metrics (of", sys.argv[2].rsplit("/", 1)[-1] + "):")
shown = 0
for line in open(sys.argv[2]):
    if line.startswith(wanted) and float(line.split()[-1]) != 0 and shown < 10:
        print("  " + line.rstrip())
        shown += 1
PY
echo "== trapline gate Fixtures/corpus/buildlogs/asm-stub-missing.arm64.log (a real arm64 cross build)"
status=0
"$trapline" gate Fixtures/corpus/buildlogs/asm-stub-missing.arm64.log || status=$?
echo "gate exit status: $status (3: a blocking trap fired, the CI job fails)"
