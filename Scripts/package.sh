#!/usr/bin/env bash
# The release artifact (issue 28): `trapline` with the Swift runtime and Foundation linked
# statically (it needs only glibc, libstdc++, libgcc_s, zlib and libzstd, which every Debian
# has, even a debootstrap minbase), stripped, its commit appended as a trailer that
# `trapline --version` reads; and a tarball with it, the example pipelines, the licenses of
# what is linked in, and a usage text.
#
#   Scripts/package.sh [--configuration release|debug] [--output DIR] [--scratch-path DIR] [--pie]
#
# Prints the tarball's path. `debug` relinks the debug build (what the tests use: seconds, not
# the minutes of a release build). `--scratch-path` builds elsewhere than `.build` (the
# benchmarks measure the shipped binary without turning the dynamic release build static).
#
# The executable is linked at a fixed address (not position-independent), as Go links the
# Collector's: a position-independent one has 143,000 relocations for the loader to apply at
# every start, writing pointers across 1.3 MB of metadata and witness tables, which doubled its
# page faults (990 against 450) and took 2.5 of the 11 ms `trapline replay` needed to start on an
# empty input. The price is that the executable's own code and data are not randomised by ASLR
# (its libraries, heap and stacks still are); `--pie` builds it position-independent instead,
# for hosts whose policy asks for that.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=release
output=.build-package
scratch=()
pie=
while [ $# -gt 0 ]; do
    case "$1" in
        --configuration) configuration=$2; shift 2 ;;
        --output) output=$2; shift 2 ;;
        --scratch-path) scratch=(--scratch-path "$2"); shift 2 ;;
        --pie) pie=1; shift ;;
        *) echo "usage: Scripts/package.sh [--configuration release|debug] [--output DIR] [--scratch-path DIR] [--pie]" >&2
           exit 64 ;;
    esac
done
if ! dpkg -s libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev >/dev/null
fi
# With the runtime static, the archives must come after everything that uses them: the objects'
# autolinked order puts CoreFoundation and FoundationEssentials' helpers before Foundation, and
# the link fails on their symbols. Naming them again at the end, users first, resolves them.
link=()
for library in Foundation FoundationInternationalization FoundationEssentials CoreFoundation _FoundationICU \
    _FoundationCollections _FoundationCShims swiftSynchronization swiftDispatch dispatch BlocksRuntime \
    swift_Concurrency swiftCore; do
    link+=(-Xlinker "-l$library")
done
# The driver links with -pie; the linker takes the last of -pie and -no-pie.
[ -n "$pie" ] || link+=(-Xlinker -no-pie)
swift build -c "$configuration" "${scratch[@]}" --static-swift-stdlib --product trapline "${link[@]}" >&2
binary=$(swift build -c "$configuration" "${scratch[@]}" --show-bin-path)/trapline
version=$("$binary" --version | awk '{print $2}')
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
name="trapline-$version-linux-$(uname -m)"
stage="$output/$name"
rm -rf "$stage" "$output/$name.tar.gz"
mkdir -p "$stage/bin" "$stage/LICENSES"
strip -o "$stage/bin/trapline" "$binary"
# The trailer last: strip rewrites the file and would drop it.
printf '\nTRAPLINE_BUILD commit=%s\n' "$commit" >> "$stage/bin/trapline"
cp -R Pipelines "$stage/Pipelines"
# The pipelines' tests read fixtures of the repository: they stay there.
rm -f "$stage"/Pipelines/*.test.yaml
cp /opt/swift/usr/share/swift/LICENSE.txt "$stage/LICENSES/swift-runtime.txt" 2>/dev/null \
    || cp "$(dirname "$(readlink -f "$(command -v swift)")")/../share/swift/LICENSE.txt" "$stage/LICENSES/swift-runtime.txt"
for checkout in .build/checkouts/*; do
    license=$(ls "$checkout" | grep -iE '^(license|copying)' | head -1 || true)
    [ -n "$license" ] && cp "$checkout/$license" "$stage/LICENSES/$(basename "$checkout").txt"
done
cat > "$stage/USAGE.txt" <<USAGE
trapline $version (commit $commit), built $(date -u +%Y-%m-%d) for Linux $(uname -m).

The Swift runtime and Foundation are linked in; the binary needs glibc, libstdc++, libgcc_s,
zlib and libzstd (present on every Debian and Ubuntu, a minimal debootstrap included).

  bin/trapline replay --config Pipelines/default.yaml CAPTURE.otlp   replay a capture, report at the end
  bin/trapline run --config PIPELINE.yaml                            a sidecar or gateway (OTLP/HTTP 4318,
                                                                     OTLP/gRPC 4317, /metrics, /healthz, /readyz)
  bin/trapline gate --help                                           catch traps in Go build logs
  bin/trapline validate --config PIPELINE.yaml                       check a pipeline file
  bin/trapline components                                            what a pipeline may use

Pipelines/ holds the example pipelines. LICENSES/ holds the licenses of the Swift runtime and of
the packages linked into the binary.
USAGE
tar -C "$output" -czf "$output/$name.tar.gz" "$name"
echo "$output/$name.tar.gz"
