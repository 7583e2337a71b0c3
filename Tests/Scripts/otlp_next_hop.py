#!/usr/bin/env python3
"""A next hop for the sidecar tests: an OTLP/HTTP server on loopback that counts the spans and
log records it accepts.

  otlp_next_hop.py [--delay SECONDS] [--unavailable N] [--reject-all] [--bodies FILE]

Prints its port on the first line of stdout, then keeps `received <spans> <log records>
<requests>` current in the file named by --count (requests accepted). --delay sleeps before answering each request (a slow hop);
--unavailable answers the first N requests 503 with Retry-After: 1, --flaky K every K-th request
(without Retry-After: the client backs off); --reject-all answers 400.
--bodies appends a line per accepted log record: the time it arrived (seconds since the epoch)
and its body.
"""
import argparse
import gzip
import http.server
import threading
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

parser = argparse.ArgumentParser()
parser.add_argument("--count", required=True)
parser.add_argument("--delay", type=float, default=0)
parser.add_argument("--unavailable", type=int, default=0)
parser.add_argument("--reject-all", action="store_true")
parser.add_argument("--flaky", type=int, default=0)
parser.add_argument("--bodies")
args = parser.parse_args()

lock = threading.Lock()
state = {"spans": 0, "logs": 0, "requests": 0, "refused": 0, "accepted": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self, status, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if args.delay:
            time.sleep(args.delay)
        with lock:
            state["requests"] += 1
            if state["refused"] < args.unavailable:
                state["refused"] += 1
                return self.answer(503, [("Retry-After", "1")])
            if args.flaky and state["requests"] % args.flaky == 0:
                state["refused"] += 1
                return self.answer(503)
        if args.reject_all:
            return self.answer(400)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path.endswith("/v1/traces"):
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            spans = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
            logs = 0
        else:
            request = ExportLogsServiceRequest()
            request.ParseFromString(body)
            records = [record for resource in request.resource_logs for scope in resource.scope_logs
                       for record in scope.log_records]
            logs = len(records)
            spans = 0
            if args.bodies:
                arrived = time.time()
                with lock, open(args.bodies, "a") as out:
                    for record in records:
                        out.write(f"{arrived:.6f} {record.body.string_value}\n")
        with lock:
            state["spans"] += spans
            state["logs"] += logs
            state["accepted"] += 1
            with open(args.count, "w") as out:
                out.write(f"received {state['spans']} {state['logs']} {state['accepted']}\n")
        self.answer(200, [("Content-Type", "application/x-protobuf")])

    def log_message(self, *_):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(args.count, "w") as out:
    out.write("received 0 0 0\n")
print(server.server_address[1], flush=True)
server.serve_forever()
