#!/usr/bin/env python3
"""A next hop for the sidecar tests: an OTLP/HTTP (or, with --grpc, OTLP/gRPC) server on
loopback that counts the spans, log records and metric data points it accepts.

  otlp_next_hop.py --count FILE [--grpc] [--tls CERT KEY [CLIENT_CA]] [--delay SECONDS]
                   [--unavailable N] [--flaky K] [--reject-all] [--bodies FILE]

Prints its port on the first line of stdout, then keeps `received <spans> <log records>
<requests> <data points>` current in the file named by --count (requests accepted). --delay sleeps before
answering each request (a slow hop); --unavailable answers the first N requests 503 with
Retry-After: 1 (gRPC: UNAVAILABLE with a RetryInfo of 1 s), --flaky K every K-th request (without
a delay: the client backs off); --reject-all answers 400 (gRPC: INVALID_ARGUMENT). --tls serves
over TLS with CERT and KEY, and with CLIENT_CA requires client certificates signed by it.
--expect-encoding answers 415 to an HTTP request with another Content-Encoding.
--require-token answers 401 (gRPC: UNAUTHENTICATED) unless `Authorization: Bearer TOKEN` came.
--bodies appends a line per accepted log record: the time it arrived (seconds since the epoch)
and its body. --save appends each accepted metrics request to FILE, 4-byte big-endian
length-prefixed (to compare what arrived with what was sent). --port listens on that port (HTTP)
instead of one the system picks (a next hop that comes back where it was).
"""
import argparse
import gzip
import http.server
import subprocess
import threading
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

parser = argparse.ArgumentParser()
parser.add_argument("--count", required=True)
parser.add_argument("--grpc", action="store_true")
parser.add_argument("--tls", nargs="+")
parser.add_argument("--require-token")
parser.add_argument("--expect-encoding")
parser.add_argument("--delay", type=float, default=0)
parser.add_argument("--unavailable", type=int, default=0)
parser.add_argument("--reject-all", action="store_true")
parser.add_argument("--flaky", type=int, default=0)
parser.add_argument("--bodies")
parser.add_argument("--save")
parser.add_argument("--port", type=int, default=0)
args = parser.parse_args()

lock = threading.Lock()
state = {"spans": 0, "logs": 0, "points": 0, "requests": 0, "refused": 0, "accepted": 0}


def decide():
    """What to answer a request: 'ok', 'retry-after' (with a delay), 'retry' or 'reject'."""
    if args.delay:
        time.sleep(args.delay)
    with lock:
        state["requests"] += 1
        if state["refused"] < args.unavailable:
            state["refused"] += 1
            return "retry-after"
        if args.flaky and state["requests"] % args.flaky == 0:
            state["refused"] += 1
            return "retry"
    return "reject" if args.reject_all else "ok"


def data_points(metric):
    kind = metric.WhichOneof("data")
    return len(getattr(metric, kind).data_points) if kind else 0


def count(body, signal):
    """Counts an accepted request's records (and notes log bodies, saves metrics requests)."""
    points = 0
    if signal == "metrics":
        request = ExportMetricsServiceRequest()
        request.ParseFromString(body)
        points = sum(data_points(metric) for resource in request.resource_metrics
                     for scope in resource.scope_metrics for metric in scope.metrics)
        spans = logs = 0
        if args.save:
            with lock, open(args.save, "ab") as out:
                out.write(len(body).to_bytes(4, "big") + body)
    elif signal == "traces":
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
        state["points"] += points
        state["accepted"] += 1
        with open(args.count, "w") as out:
            out.write(f"received {state['spans']} {state['logs']} {state['accepted']} {state['points']}\n")


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
        if args.require_token and self.headers.get("Authorization") != f"Bearer {args.require_token}":
            return self.answer(401)
        if args.expect_encoding and self.headers.get("Content-Encoding") != args.expect_encoding:
            return self.answer(415)
        decision = decide()
        if decision == "retry-after":
            return self.answer(503, [("Retry-After", "1")])
        if decision == "retry":
            return self.answer(503)
        if decision == "reject":
            return self.answer(400)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "zstd":
            body = subprocess.run(["zstd", "-d", "-c"], input=body, capture_output=True, check=True).stdout
        signal = "traces" if self.path.endswith("/v1/traces") else \
            "metrics" if self.path.endswith("/v1/metrics") else "logs"
        count(body, signal)
        self.answer(200, [("Content-Type", "application/x-protobuf")])

    def log_message(self, *_):
        pass


def retry_info_status(code, message, seconds):
    """`grpc-status-details-bin`: a google.rpc.Status with a RetryInfo, encoded by hand."""
    from google.protobuf import any_pb2, duration_pb2
    from google.rpc import error_details_pb2, status_pb2
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=seconds)))
    return status_pb2.Status(code=code, message=message, details=[detail]).SerializeToString()


def serve_grpc():
    from concurrent import futures
    import grpc

    def handler(signal):
        def export(body, context):
            if args.require_token and \
                    dict(context.invocation_metadata()).get("authorization") != f"Bearer {args.require_token}":
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "wrong token")
            decision = decide()
            if decision == "retry-after":
                context.set_trailing_metadata(
                    [("grpc-status-details-bin", retry_info_status(14, "next hop unavailable", 1))])
                context.abort(grpc.StatusCode.UNAVAILABLE, "next hop unavailable")
            if decision == "retry":
                context.abort(grpc.StatusCode.UNAVAILABLE, "next hop unavailable")
            if decision == "reject":
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, "rejected by the test next hop")
            count(body, signal)
            return b""
        return grpc.unary_unary_rpc_method_handler(export)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService", {"Export": handler("traces")}),
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.logs.v1.LogsService", {"Export": handler("logs")}),
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.metrics.v1.MetricsService", {"Export": handler("metrics")}),
    ])
    if args.tls:
        read = lambda path: open(path, "rb").read()
        client_ca = read(args.tls[2]) if len(args.tls) > 2 else None
        credentials = grpc.ssl_server_credentials(
            [(read(args.tls[1]), read(args.tls[0]))], root_certificates=client_ca,
            require_client_auth=client_ca is not None)
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return port, server


with open(args.count, "w") as out:
    out.write("received 0 0 0 0\n")
if args.grpc:
    grpc_port, grpc_server = serve_grpc()
    print(grpc_port, flush=True)
    grpc_server.wait_for_termination()
else:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        if len(args.tls) > 2:
            context.load_verify_locations(args.tls[2])
            context.verify_mode = ssl.CERT_REQUIRED
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()
