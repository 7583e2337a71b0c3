#!/usr/bin/env python3
"""Interleaves the traces of an OTLP JSON capture, for the whole-trace filter tests: the spans
are dealt out round by round (the first span of every trace, then the second of every trace,
...) into requests of --per-request spans, each span with its own resource and scope, so the
spans of one trace sit many requests apart. With --pace, the requests are written to stdout one
line at a time, --pace seconds apart, as a live writer would.

  interleave_traces.py --input CAPTURE.jsonl --output OUT.jsonl [--per-request N]
  interleave_traces.py --pace SECONDS OUT.jsonl
"""
import argparse
import json
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--input")
parser.add_argument("--output")
parser.add_argument("--per-request", type=int, default=20)
parser.add_argument("--pace", type=float)
parser.add_argument("paced", nargs="?")
args = parser.parse_args()

if args.pace is not None:
    with open(args.paced) as lines:
        for line in lines:
            sys.stdout.write(line)
            sys.stdout.flush()
            time.sleep(args.pace)
    sys.exit(0)

traces = {}
order = []
with open(args.input) as lines:
    for line in lines:
        request = json.loads(line)
        for resource in request.get("resourceSpans", []):
            for scope in resource.get("scopeSpans", []):
                for span in scope.get("spans", []):
                    trace = span.get("traceId", "")
                    if trace not in traces:
                        traces[trace] = []
                        order.append(trace)
                    traces[trace].append((resource.get("resource", {}), scope.get("scope", {}), span))

dealt = []
round_number = 0
while len(dealt) < sum(len(spans) for spans in traces.values()):
    for trace in order:
        if round_number < len(traces[trace]):
            dealt.append(traces[trace][round_number])
    round_number += 1

with open(args.output, "w") as out:
    for start in range(0, len(dealt), args.per_request):
        chunk = dealt[start:start + args.per_request]
        request = {"resourceSpans": [
            {"resource": resource, "scopeSpans": [{"scope": scope, "spans": [span]}]} for resource, scope, span in chunk
        ]}
        out.write(json.dumps(request, separators=(",", ":")) + "\n")
