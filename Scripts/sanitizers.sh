#!/usr/bin/env bash
# Runs the whole test suite once under AddressSanitizer and once under ThreadSanitizer (issue 9),
# each in its own build directory. Too slow for every CI run on 2 cores (each sanitizer builds
# everything again), so it is a script to run before a release and after changes to threads,
# buffers or unsafe pointers.
#   Scripts/sanitizers.sh [address|thread]...   (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
bash Scripts/install-test-deps.sh
sanitizers=("$@")
[ ${#sanitizers[@]} -gt 0 ] || sanitizers=(address thread)
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        address) export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" ;;
        thread) export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1" ;;
        *) echo "unknown sanitizer $sanitizer (address or thread)" >&2; exit 64 ;;
    esac
    echo "== swift test --sanitize=$sanitizer"
    swift build --build-tests --sanitize="$sanitizer" --build-path ".build-$sanitizer"
    # CABITests link a C and a Go program against libTraplineC.so; instrumented, the library
    # needs its sanitizer's runtime in those programs too (gcc and cgo have their own, which do
    # not mix with the toolchain's), so they run in the plain suite only.
    swift test --skip-build --sanitize="$sanitizer" --build-path ".build-$sanitizer" --skip CABITests
done
