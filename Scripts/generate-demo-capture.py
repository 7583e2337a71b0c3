#!/usr/bin/env python3
"""The main job's capture: ten minutes of a shop's traces, as a sidecar would have captured them.

  generate-demo-capture.py OUT_FILE

Writes OUT_FILE, gzip-compressed ExportTraceServiceRequests each after a 4-byte big-endian
length (the Collector's file exporter with `format: proto`), encoded with PyPI's
opentelemetry-proto (independent of Trapline's encoder). Deterministic (seeded).

What is in it, so the default demo shows each stage doing its job:
- six services running in pods of the real kind cluster whose kubelet `/pods` answer is
  Fixtures/k8s/kubelet-pods.json (resource attribute `k8s.pod.ip`), and one batch job whose pod
  is gone (its IP is in no pod list: an association miss);
- Kubernetes probes (`GET /healthz`, `GET /readyz`) that the demo's filter drops;
- database spans whose `db.statement` holds literal values, and `user.email` attributes, that
  the demo's transform masks and removes;
- the runtime traps of Pipelines/traps/runtime.yaml on a few spans: a server span far above its
  own recent p99, TLS
  handshake failures, a WAF block of a signed-in user, a head sampler below 1%, and an exporter
  whose sends fail, beside near misses that must not fire.
"""
import gzip
import random
import struct
import sys
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

BASE = 1_764_590_400 * 10**9  # 2025-12-01T12:00:00Z
SECOND = 10**9
MINUTES = 10

# service → (pod IP from Fixtures/k8s/kubelet-pods.json, scope, routes)
SERVICES = {
    "frontend": ("10.244.0.8", "io.opentelemetry.instrumentation.http", ["GET /", "GET /product/{id}", "POST /cart"]),
    "checkout": ("10.244.0.9", "io.opentelemetry.instrumentation.http", ["POST /api/v1/checkout"]),
    "cart": ("10.244.0.12", "io.opentelemetry.instrumentation.grpc", ["POST /api/v1/cart/{id}"]),
    "payment": ("10.244.0.15", "io.opentelemetry.instrumentation.http", ["POST /api/v1/payments"]),
    "search": ("10.244.0.6", "io.opentelemetry.instrumentation.http", ["GET /api/v2/search"]),
    "otelcol": ("10.244.0.7", "go.opentelemetry.io/collector/exporter", []),
    # A nightly job whose pod was deleted before the pod list was taken: no pod matches.
    "reindex": ("10.244.0.99", "io.opentelemetry.instrumentation.jdbc", []),
}


def kv(key, value):
    item = KeyValue(key=key)
    if isinstance(value, bool):
        item.value.bool_value = value
    elif isinstance(value, int):
        item.value.int_value = value
    else:
        item.value.string_value = value
    return item


class Capture:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.requests = []

    def request(self):
        """One export request: a resource per service, one scope each."""
        request = ExportTraceServiceRequest()
        scopes = {}
        for service, (ip, scope_name, _) in SERVICES.items():
            resource = request.resource_spans.add()
            resource.resource.attributes.extend([
                kv("service.name", service), kv("service.version", "2.3.%d" % (len(service) % 4)),
                kv("deployment.environment.name", "prod"), kv("k8s.pod.ip", ip),
                kv("telemetry.sdk.language", "go" if service != "reindex" else "java"),
                kv("telemetry.sdk.name", "opentelemetry"),
            ])
            scope = resource.scope_spans.add()
            scope.scope.name = scope_name
            scope.scope.version = "1.31.0"
            scopes[service] = scope
        self.requests.append(request)
        return scopes

    def span(self, scope, name, start, seconds, kind=Span.SPAN_KIND_SERVER, attributes=(), status=None,
             trace_id=None, parent=None, trace_state="ot=th:c"):
        span = scope.spans.add()
        span.trace_id = trace_id or self.rng.randbytes(16)
        span.span_id = self.rng.randbytes(8)
        if parent is not None:
            span.parent_span_id = parent.span_id
        span.name = name
        span.kind = kind
        span.flags = 0x101
        span.start_time_unix_nano = start
        span.end_time_unix_nano = start + int(seconds * SECOND)
        span.trace_state = trace_state
        span.attributes.extend(kv(k, v) for k, v in attributes)
        if status:
            span.status.code, span.status.message = status
        return span


def http_server(capture, scope, route, start, seconds, status_code=200, user=None, **extra):
    method, path = route.split(" ", 1)
    attributes = [("http.request.method", method), ("http.route", path), ("url.scheme", "https"),
                  ("http.response.status_code", status_code), ("network.protocol.version", "1.1")]
    if user:
        attributes += [("enduser.id", user), ("user.email", user + "@example.com")]
    return capture.span(scope, route, start, seconds, attributes=attributes, **extra)


def traffic(capture):
    rng = capture.rng
    for minute in range(MINUTES):
        scopes = capture.request()
        for second in range(0, 60, 2):
            start = BASE + (minute * 60 + second) * SECOND + rng.randrange(SECOND // 2)
            user = "u-%04d" % rng.randrange(5000) if rng.random() < 0.6 else None
            # A page view: frontend → checkout → cart, payment; the database under the cart.
            trace = rng.randbytes(16)
            root = http_server(capture, scopes["frontend"], rng.choice(SERVICES["frontend"][2]), start,
                               rng.uniform(0.02, 0.4), user=user, trace_id=trace)
            order = http_server(capture, scopes["checkout"], "POST /api/v1/checkout", start + SECOND // 50,
                                rng.uniform(0.01, 0.3), user=user, trace_id=trace, parent=root)
            cart = http_server(capture, scopes["cart"], "POST /api/v1/cart/{id}", start + SECOND // 40,
                               rng.uniform(0.005, 0.1), trace_id=trace, parent=order)
            capture.span(scopes["cart"], "INSERT cart_items", start + SECOND // 30, rng.uniform(0.001, 0.02),
                         kind=Span.SPAN_KIND_CLIENT, trace_id=trace, parent=cart,
                         attributes=[("db.system.name", "postgresql"),
                                     ("db.query.text", "INSERT INTO cart_items (cart, sku, qty) VALUES ('c-%d', 'sku-%d', %d)"
                                      % (rng.randrange(10**6), rng.randrange(10**4), rng.randrange(1, 5)))])
            http_server(capture, scopes["payment"], "POST /api/v1/payments", start + SECOND // 20,
                        rng.uniform(0.05, 0.8), trace_id=trace, parent=order)
            if second % 6 == 0:
                http_server(capture, scopes["search"], "GET /api/v2/search", start, rng.uniform(0.01, 0.2))
            # Kubernetes probes every 10 s on each service: noise the filter drops.
            if second % 10 == 0:
                for service in ("frontend", "checkout", "cart", "payment", "search"):
                    http_server(capture, scopes[service], rng.choice(["GET /healthz", "GET /readyz"]), start,
                                0.0005, trace_state="")
        # The collector's own exporter span once a minute; healthy sends.
        capture.span(scopes["otelcol"], "exporter/otlp/traces", BASE + (minute * 60 + 30) * SECOND, 0.05,
                     kind=Span.SPAN_KIND_CLIENT, attributes=[("sent_spans", 2048), ("send_failed_spans", 3)])
        if minute == 3:
            # The nightly reindex job: a long batch span, not a server span (no latency trap).
            capture.span(scopes["reindex"], "reindex products", BASE + (minute * 60 + 5) * SECOND, 42.0,
                         kind=Span.SPAN_KIND_INTERNAL, attributes=[("db.system.name", "postgresql")])
        traps(capture, scopes, minute)


def traps(capture, scopes, minute):
    """The runtime traps, a few a minute at most, and near misses beside them."""
    at = lambda second: BASE + (minute * 60 + second) * SECOND  # noqa: E731
    if minute in (2, 7):
        # 4x the payments' own p99: a latency trap once their baseline holds 100 spans (minute 7).
        http_server(capture, scopes["payment"], "POST /api/v1/payments", at(12), 3.4)
        http_server(capture, scopes["payment"], "POST /api/v1/payments", at(13), 1.98)  # near miss
    if minute == 4:
        capture.span(scopes["payment"], "call bank", at(20), 0.03, kind=Span.SPAN_KIND_CLIENT,
                     status=(Status.STATUS_CODE_ERROR, "remote error: tls: handshake failure"))
        capture.span(scopes["payment"], "call ledger", at(21), 0.02, kind=Span.SPAN_KIND_CLIENT,
                     status=(Status.STATUS_CODE_ERROR, "x509: certificate has expired or is not yet valid"))
        capture.span(scopes["payment"], "call fraud-check", at(22), 0.02, kind=Span.SPAN_KIND_CLIENT,
                     status=(Status.STATUS_CODE_ERROR, "connection reset by peer"))  # near miss
    if minute == 5:
        http_server(capture, scopes["frontend"], "POST /cart", at(40), 0.004, status_code=403, user="u-0042")
        http_server(capture, scopes["frontend"], "POST /cart", at(41), 0.004, status_code=403)  # anonymous: no trap
    if minute == 6:
        http_server(capture, scopes["search"], "GET /api/v2/search", at(7), 0.01, trace_state="ot=th:fd70a4")
    if minute == 8:
        capture.span(scopes["otelcol"], "exporter/otlp/traces", at(45), 0.05, kind=Span.SPAN_KIND_CLIENT,
                     attributes=[("sent_spans", 1800), ("send_failed_spans", 248)])


def main():
    capture = Capture(seed=20261206)
    traffic(capture)
    framed = bytearray()
    for request in capture.requests:
        body = request.SerializeToString()
        framed += struct.pack(">I", len(body)) + body
    Path(sys.argv[1]).write_bytes(gzip.compress(bytes(framed), compresslevel=9, mtime=0))


if __name__ == "__main__":
    main()
