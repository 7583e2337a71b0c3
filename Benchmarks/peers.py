#!/usr/bin/env python3
"""Whole-process comparison of the release `trapline` with its peers on the same bytes (issue 27).

  peers.py --trapline PATH --peers DIR --work DIR [--requests 2000] [--rounds 9] [--thresholds FILE]

Benchmarks/peers.sh builds what this needs and calls it. Every command runs as a process of its
own, as a user runs it: the rounds interleave the commands (a slow spell of the machine hits all
of them), and the median of each is reported with its wall and CPU seconds and peak RSS. Then
callgrind counts each command's instructions on a 10- and a 60-request file; the difference,
divided by the spans between them, is the instructions a span with start-up taken out. Those
counts do not drift between runs, so the thresholds are put on their ratios. Start-up is its own
figure: `trapline replay` of an empty file, timed over five runs a round and counted by callgrind.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def generate(work, requests, spans_per_request):
    prefix = os.path.join(work, f"traces-{requests}x{spans_per_request}")
    if not os.path.exists(prefix + ".jsonl"):
        subprocess.run([sys.executable, os.path.join(HERE, "generate-traces.py"), "--requests", str(requests),
                        "--spans-per-request", str(spans_per_request), prefix], check=True, stdout=subprocess.DEVNULL)
    return prefix


def commands(trapline, peers, prefix, json_out):
    """name -> (argv, input file); the input is the last argument of each."""
    replay = [trapline, "replay", "-q", "--progress", "never"]
    proto, lines = prefix + ".otlp", prefix + ".jsonl"
    return {
        "trapline protobuf decode, 1 worker": replay + ["--workers", "1", "--output-format", "none", proto],
        "trapline protobuf decode, 2 workers": replay + ["--workers", "2", "--output-format", "none", proto],
        "trapline protobuf copy-through": replay + ["--workers", "1", "-o", "/dev/null", proto],
        "trapline protobuf in, JSON out": replay + ["--workers", "1", "--output-format", "otlp-json", "-o", json_out,
                                                    proto],
        "trapline JSON lines decode": replay + ["--workers", "1", "--output-format", "none", lines],
        "libprotobuf-c unpack + free": [os.path.join(peers, "protobuf-peer"), "unpack-free", proto],
        "libprotobuf-c unpack + pack": [os.path.join(peers, "protobuf-peer"), "unpack-pack", proto],
        "C tag skim": [os.path.join(peers, "protobuf-peer"), "skim", proto],
        "simdjson On-Demand": [os.path.join(peers, "simdjson-peer"), lines],
    }


def baseline_commands(trapline, peers, prefix, json_out):
    """The trapline commands of `commands` for another binary, named as baseline."""
    return {f"baseline {name.removeprefix('trapline ')}": argv
            for name, argv in commands(trapline, peers, prefix, json_out).items() if name.startswith("trapline ")}


def run_once(argv):
    """Wall seconds, CPU seconds and peak RSS (MiB) of one process."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    errors = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    if process.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {process.returncode}: {errors.strip()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def instructions(argv):
    """Instructions callgrind counts for the whole process (every thread)."""
    result = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.exit(f"callgrind of {' '.join(argv)} exited {result.returncode}: {result.stderr[-2000:]}")
    found = re.search(r"Collected\s*:\s*(\d+)", result.stderr)
    if not found:
        sys.exit(f"callgrind printed no instruction count for {' '.join(argv)}")
    return int(found.group(1))


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--trapline", required=True, help="release trapline, debug info stripped (for valgrind)")
    parser.add_argument("--peers", required=True, help="folder with protobuf-peer and simdjson-peer")
    parser.add_argument("--work", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--spans-per-request", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", help="another trapline (an earlier build): its commands run in the same "
                        "rounds, marked 'baseline', for before-and-after figures from one run")
    parser.add_argument("--thresholds")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    big = generate(args.work, args.requests, args.spans_per_request)
    small = generate(args.work, 10, args.spans_per_request)
    medium = generate(args.work, 60, args.spans_per_request)
    spans = args.requests * args.spans_per_request
    proto_bytes = os.path.getsize(big + ".otlp")
    json_bytes = os.path.getsize(big + ".jsonl")
    json_out = os.path.join(args.work, "out.jsonl")
    runs = commands(args.trapline, args.peers, big, json_out)
    if args.baseline:
        runs.update(baseline_commands(args.baseline, args.peers, big, json_out))
    print(f"input: {spans:,} spans in {args.requests:,} requests; protobuf {proto_bytes / spans:.0f} bytes a span "
          f"({proto_bytes / 1e6:.0f} MB), JSON lines {json_bytes / spans:.0f} bytes a span ({json_bytes / 1e6:.0f} MB)")

    figures = {name: {"wall": [], "cpu": [], "rss": []} for name in runs}
    for name, argv in runs.items():  # warm-up: page cache, and the JSON output's size
        run_once(argv)
    json_written = os.path.getsize(json_out)
    # Timed, the JSON goes to /dev/null as the copy-through's protobuf does: a 220 MB file on
    # these disks adds waits for writeback that are the disk's, not the encoder's.
    runs = {name: [os.devnull if part == json_out else part for part in argv] for name, argv in runs.items()}
    # Trapline's own report says how much of each replay its replaying thread spent alone
    # (reading windows, merging, writing): the serial fraction, read from every timed round.
    serial = {name: [] for name in runs}
    report_path = os.path.join(args.work, "report.json")
    for _ in range(args.rounds):
        for name, argv in runs.items():
            is_replay = len(argv) > 1 and argv[1] == "replay"
            timed = argv[:2] + ["--report-file", report_path] + argv[2:] if is_replay else argv
            wall, cpu, rss = run_once(timed)
            figures[name]["wall"].append(wall)
            figures[name]["cpu"].append(cpu)
            figures[name]["rss"].append(rss)
            if is_replay:
                with open(report_path) as report:
                    part = json.load(report).get("serial")
                if part:
                    serial[name].append(part["fraction"])

    # Start-up: `trapline replay` of an empty file as a whole process (exec, loading, parsing the
    # command line and the default pipeline, the report), many short runs interleaved with the
    # baseline's; and its instructions, which do not drift.
    empty = os.path.join(args.work, "empty.otlp")
    open(empty, "wb").close()
    starts = {"trapline": [args.trapline, "replay", "-q", "--progress", "never", empty]}
    if args.baseline:
        starts["baseline"] = [args.baseline, "replay", "-q", "--progress", "never", empty]
    start_walls = {build: [] for build in starts}
    for _ in range(5 * args.rounds):
        for build, argv in starts.items():
            start_walls[build].append(run_once(argv)[0])
    start_instructions = {build: instructions(argv) for build, argv in starts.items()}

    small_spans = 10 * args.spans_per_request
    medium_spans = 60 * args.spans_per_request
    small_runs = commands(args.trapline, args.peers, small, os.path.join(args.work, "small.jsonl"))
    medium_runs = commands(args.trapline, args.peers, medium, os.path.join(args.work, "medium.jsonl"))
    if args.baseline:
        small_runs.update(baseline_commands(args.baseline, args.peers, small, os.path.join(args.work, "small.jsonl")))
        medium_runs.update(
            baseline_commands(args.baseline, args.peers, medium, os.path.join(args.work, "medium.jsonl")))
    per_span = {}
    for name in runs:
        per_span[name] = (instructions(medium_runs[name]) - instructions(small_runs[name])) / (medium_spans - small_spans)

    result = {}
    print(f"\n{args.rounds} interleaved rounds, medians; callgrind instructions a span from 60 - 10 requests\n")
    print(f"| {'command':38} | {'wall s':>7} | {'M spans/s':>9} | {'MB/s in':>8} | {'CPU s':>6} | "
          f"{'CPU s/M spans':>13} | {'RSS MiB':>7} | {'instr/span':>10} |")
    print(f"|{'-' * 40}|{'-' * 9}|{'-' * 11}|{'-' * 10}|{'-' * 8}|{'-' * 15}|{'-' * 9}|{'-' * 12}|")
    for name, argv in runs.items():
        wall, cpu, rss = (median(figures[name][key]) for key in ("wall", "cpu", "rss"))
        input_bytes = json_bytes if argv[-1].endswith(".jsonl") else proto_bytes
        result[name] = {"wall_seconds": wall, "cpu_seconds": cpu, "peak_rss_mib": rss,
                        "spans_per_second": spans / wall, "instructions_per_span": per_span[name]}
        print(f"| {name:38} | {wall:7.3f} | {spans / wall / 1e6:9.2f} | {input_bytes / wall / 1e6:8.0f} | {cpu:6.3f} | "
              f"{cpu / spans * 1e6:13.3f} | {rss:7.1f} | {per_span[name]:10,.0f} |")

    def wall(name):
        return result[name]["wall_seconds"]

    def instr(name):
        return result[name]["instructions_per_span"]

    def ratios_of(build):
        """The goal ratios for `build`, "trapline" (this build) or "baseline"."""
        decode, skim, protobuf_c = f"{build} protobuf decode, 1 worker", "C tag skim", "libprotobuf-c unpack + free"
        json_decode, simdjson = f"{build} JSON lines decode", "simdjson On-Demand"
        encode, copy = f"{build} protobuf in, JSON out", f"{build} protobuf copy-through"
        two = f"{build} protobuf decode, 2 workers"
        return {
            "protobuf_decode_vs_tag_skim_instructions": instr(skim) / instr(decode),
            "protobuf_decode_vs_tag_skim_time": wall(skim) / wall(decode),
            "protobuf_decode_vs_protobuf_c_time": wall(protobuf_c) / wall(decode),
            "protobuf_decode_vs_protobuf_c_instructions": instr(protobuf_c) / instr(decode),
            "json_decode_vs_simdjson_instructions": instr(simdjson) / instr(json_decode),
            "json_decode_vs_simdjson_time": wall(simdjson) / wall(json_decode),
            "json_decode_vs_protobuf_decode_spans": wall(decode) / wall(json_decode),
            "json_encode_megabytes_per_second": json_written / wall(encode) / 1e6,
            "json_out_vs_copy_through_time": wall(copy) / wall(encode),
            "json_out_vs_copy_through_instructions": instr(copy) / instr(encode),
            "two_workers_cpu_vs_one": result[two]["cpu_seconds"] / result[decode]["cpu_seconds"],
            "two_workers_speedup": wall(decode) / wall(two),
            "two_workers_instructions_vs_one": instr(two) / instr(decode),
            "startup_milliseconds": median(start_walls[build]) * 1000,
            "startup_million_instructions": start_instructions[build] / 1e6,
        }

    ratios = ratios_of("trapline")
    baseline_ratios = ratios_of("baseline") if args.baseline else None
    goals = {
        "protobuf_decode_vs_tag_skim_instructions": (">=", 0.65),
        "protobuf_decode_vs_protobuf_c_time": (">=", 5.0),
        "json_decode_vs_simdjson_instructions": (">=", 0.6),
        "json_decode_vs_protobuf_decode_spans": (">=", 0.5),
        "json_encode_megabytes_per_second": (">=", 1000),
        "json_out_vs_copy_through_time": (">=", 0.5),
        "two_workers_cpu_vs_one": ("<=", 1.05),
        "startup_milliseconds": ("<=", 10),
    }
    print("\nserial part of each replay (its replaying thread alone: reading windows, merging, writing), "
          "median fraction of the replay's wall time:")
    for name, fractions in serial.items():
        if fractions:
            print(f"  {name:44} {median(fractions):6.3f}  (rounds {min(fractions):.3f}-{max(fractions):.3f})")
            result[name]["serial_fraction"] = median(fractions)
    print(f"\nJSON written by `protobuf in, JSON out`: {json_written / spans:.0f} bytes a span")
    print(f"start-up: `trapline replay` of an empty file, median of {5 * args.rounds} runs "
          f"(rounds {min(start_walls['trapline']) * 1000:.1f}-{max(start_walls['trapline']) * 1000:.1f} ms)\n")
    for name, value in ratios.items():
        goal = goals.get(name)
        met = "" if goal is None else (
            f"  (goal {goal[0]} {goal[1]}: {'met' if (value >= goal[1] if goal[0] == '>=' else value <= goal[1]) else 'not met'})")
        before = "" if baseline_ratios is None else f"  (baseline {baseline_ratios[name]:.2f})"
        print(f"{name:44} {value:8.2f}{met}{before}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"commands": result, "ratios": ratios, "baseline_ratios": baseline_ratios}, out, indent=2)

    if args.thresholds:
        with open(args.thresholds) as source:
            thresholds = json.load(source)
        failed = False
        for key, floor in thresholds.items():
            name = key.removeprefix("min_").removeprefix("max_")
            value = ratios[name]
            if (key.startswith("min_") and value < floor) or (key.startswith("max_") and value > floor):
                print(f"THRESHOLD: {name} is {value:.3f}, the threshold {key} is {floor}")
                failed = True
        print("thresholds: FAILED" if failed else "thresholds: ok")
        sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
