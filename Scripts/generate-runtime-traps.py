#!/usr/bin/env python3
"""Deterministic fixture for the runtime trap pack (`Pipelines/traps/runtime.yaml`): real captures
plus generated spans, with known traps injected and near misses beside them.

  generate-runtime-traps.py OUT_DIR

Writes OUT_DIR/spans.otlp (ExportTraceServiceRequests, 4-byte big-endian length before each, as
the Collector's file exporter writes with `format: proto`) and OUT_DIR/expected.tsv (span id,
class, whether the pack blocks it) for every injected trap, in input order.

The pack's latency and probe rules keep baselines per service and span name, so the fixture has
steady traffic for them: a catalog endpoint every 2 s and a synthetic probe every 15 s, one
request per minute of it after the main generated request, with outliers against their own
recent past injected.

The spans of two real captures (otlp2parquet's trace.pb and opentelemetry-proto's trace.json,
see Fixtures/corpus/otlp/SOURCES.md) are kept as they are but for their timestamps, which move
into the fixture's event-time window: exactly 600 s, from the first span's start to the last
span's end, so TER can be computed by hand. Encoded with PyPI's opentelemetry-proto, independent
of Trapline's encoder.
"""
import base64
import json
import random
import struct
import sys
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

BASE = 1_764_000_000 * 10**9  # 2025-11-24T16:00:00Z
WINDOW = 600 * 10**9
SECOND = 10**9
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "Fixtures" / "corpus" / "otlp"


def kv(key, value):
    item = KeyValue(key=key)
    if isinstance(value, int):
        item.value.int_value = value
    else:
        item.value.string_value = value
    return item


def real_captures():
    """The real requests, with OTLP JSON's hex ids turned into what protobuf JSON expects."""
    binary = ExportTraceServiceRequest()
    binary.ParseFromString((CORPUS / "otlp2parquet" / "trace.pb").read_bytes())
    document = json.loads((CORPUS / "otel-proto" / "trace.json").read_text())
    for resource in document["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
                for link in span.get("links", []):
                    for key in ("traceId", "spanId"):
                        if link.get(key):
                            link[key] = base64.b64encode(bytes.fromhex(link[key])).decode()
    textual = json_format.ParseDict(document, ExportTraceServiceRequest())
    return [binary, textual]


def retime(request, start):
    """Moves every span of `request` so the earliest starts at `start`, durations kept."""
    spans = [s for r in request.resource_spans for sc in r.scope_spans for s in sc.spans]
    earliest = min(s.start_time_unix_nano for s in spans)
    for span in spans:
        duration = span.end_time_unix_nano - span.start_time_unix_nano
        span.start_time_unix_nano = start + (span.start_time_unix_nano - earliest)
        span.end_time_unix_nano = span.start_time_unix_nano + duration
        for event in span.events:
            event.time_unix_nano = start + (event.time_unix_nano - earliest) if event.time_unix_nano else 0


class Builder:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.request = ExportTraceServiceRequest()
        self.requests = [self.request]
        self.expected = []

    def next_request(self):
        self.request = ExportTraceServiceRequest()
        self.requests.append(self.request)

    def scope(self, service):
        resource = self.request.resource_spans.add()
        resource.resource.attributes.extend([kv("service.name", service), kv("deployment.environment", "prod")])
        scope = resource.scope_spans.add()
        scope.scope.name = "fixture.runtime-traps"
        return scope

    def span(self, scope, name, start, seconds, kind=Span.SPAN_KIND_SERVER, attributes=(), status=None,
             trace_state="", trap=None):
        span = scope.spans.add()
        span.trace_id = self.rng.randbytes(16)
        span.span_id = self.rng.randbytes(8)
        span.name = name
        span.kind = kind
        span.start_time_unix_nano = start
        span.end_time_unix_nano = start + int(seconds * SECOND)
        span.trace_state = trace_state
        span.attributes.extend(kv(k, v) for k, v in attributes)
        if status:
            span.status.code, span.status.message = status
        if trap:
            self.expected.append((span.span_id.hex(), trap[0], trap[1]))
        return span


def generated(builder):
    """Ordinary traffic with near misses, and the injected traps, second by second."""
    rng = builder.rng
    checkout = builder.scope("checkout")
    gateway = builder.scope("gateway")
    collector = builder.scope("otelcol")
    # Ordinary traffic: fast server spans, client calls, a few plain errors.
    for second in range(2, 590, 7):
        start = BASE + second * SECOND
        builder.span(checkout, "POST /api/v1/orders", start, rng.uniform(0.01, 0.9),
                     attributes=[("http.request.method", "POST"), ("http.response.status_code", 200)],
                     trace_state="ot=th:8")
        builder.span(checkout, "SELECT orders", start + SECOND // 10, rng.uniform(0.001, 0.05),
                     kind=Span.SPAN_KIND_CLIENT)
        if second % 5 == 0:
            builder.span(gateway, "GET /api/v2/search", start, 0.2,
                         attributes=[("http.response.status_code", 503)],
                         status=(Status.STATUS_CODE_ERROR, "upstream connect error: connection refused"))
    # Near misses: each misses one rule by a little.
    near = BASE + 100 * SECOND
    builder.span(checkout, "GET /api/v1/cart/{id}", near, 1.999)  # server span just under 2 s
    builder.span(checkout, "call payment", near, 5.0, kind=Span.SPAN_KIND_CLIENT)  # slow, but a client span
    builder.span(gateway, "GET /admin", near, 0.01, attributes=[("http.response.status_code", 403)])  # anonymous
    builder.span(gateway, "GET /account", near, 0.01,
                 attributes=[("http.response.status_code", 200), ("enduser.id", "u-1")])
    builder.span(gateway, "connect db", near, 0.01, kind=Span.SPAN_KIND_CLIENT,
                 status=(Status.STATUS_CODE_ERROR, "connection reset by peer"))
    builder.span(checkout, "GET /health", near, 0.001, trace_state="ot=th:fd70a3")  # p = 0.0100000
    builder.span(checkout, "GET /ready", near, 0.001, trace_state="ot=th:f;rv:abcdefabcdefab")  # p = 1/16
    builder.span(collector, "exporter/otlp/traces", near, 0.05, kind=Span.SPAN_KIND_CLIENT,
                 attributes=[("sent_spans", 100), ("send_failed_spans", 5)])  # 4.8% failed
    # Injected traps.
    at = lambda second: BASE + second * SECOND  # noqa: E731
    # Slow, but their series have too few spans for a baseline, and the pack sets no objective.
    builder.span(checkout, "POST /api/v1/payments", at(120), 2.5)
    builder.span(checkout, "GET /api/v1/orders", at(300), 7.25)
    builder.span(gateway, "call bank", at(150), 0.03, kind=Span.SPAN_KIND_CLIENT,
                 status=(Status.STATUS_CODE_ERROR, "remote error: tls: handshake failure"),
                 trap=("tls_handshake_failure", "true"))
    builder.span(gateway, "call ledger", at(151), 0.02, kind=Span.SPAN_KIND_CLIENT,
                 status=(Status.STATUS_CODE_ERROR, "x509: certificate has expired or is not yet valid"),
                 trap=("tls_handshake_failure", "true"))
    builder.span(gateway, "GET https://partner.example/api", at(400), 0.02, kind=Span.SPAN_KIND_CLIENT,
                 attributes=[("error.type", "TLSHandshakeError")], trap=("tls_handshake_failure", "true"))
    builder.span(gateway, "POST /api/v1/orders", at(200), 0.004,
                 attributes=[("http.response.status_code", 403), ("enduser.id", "u-42")],
                 trap=("waf_block_legitimate", "true"))
    builder.span(gateway, "PUT /api/v1/cart/{id}", at(420), 0.004,
                 attributes=[("http.response.status_code", 403), ("enduser.id", "u-7")],
                 trap=("waf_block_legitimate", "true"))
    builder.span(checkout, "GET /api/v1/orders", at(250), 0.01, trace_state="ot=th:fd70a4",
                 trap=("sampling_below_floor", "false"))
    builder.span(checkout, "GET /api/v1/orders", at(500), 0.01, trace_state="congo=t61rcWkgMzE,ot=rv:0123456789abcd;th:ffc",
                 trap=("sampling_below_floor", "false"))
    builder.span(collector, "exporter/otlp/traces", at(450), 0.05, kind=Span.SPAN_KIND_CLIENT,
                 attributes=[("sent_spans", 100), ("send_failed_spans", 6)], trap=("export_success_below_floor", "true"))
    # The window: the first span starts at BASE, the last ends at BASE + 600 s.
    builder.span(checkout, "GET /first", BASE, 0.5)
    builder.span(checkout, "GET /last", BASE + WINDOW - SECOND, 1.0)


def steady(builder):
    """A minute of traffic per request: the catalog every 2 s (20-80 ms, a p99 near 80 ms) and a
    probe every 15 s; the latency outliers are 5x and more the catalog's p99 (far below any 2 s
    objective), with a 2.5x near miss; three probes fail in a row, and the third takes the
    recent success rate below 90%."""
    rng = builder.rng
    for minute in range(10):
        builder.next_request()
        catalog = builder.scope("catalog")
        probes = builder.scope("storefront")
        for step in range(30):
            second = minute * 60 + step * 2 + 1
            start = BASE + second * SECOND
            if second == 421:
                builder.span(catalog, "GET /api/v1/products", start, 0.6, trap=("latency_slo_breach", "false"))
            elif second == 481:
                builder.span(catalog, "GET /api/v1/products", start, 0.2)  # 2.5x the p99: a near miss
            elif second == 541:
                builder.span(catalog, "GET /api/v1/products", start, 0.9, trap=("latency_slo_breach", "false"))
            else:
                builder.span(catalog, "GET /api/v1/products", start, rng.uniform(0.02, 0.08))
        for step in range(4):
            second = minute * 60 + step * 15 + 5
            failing = second in (455, 470, 485)
            builder.span(probes, "GET /healthz", BASE + second * SECOND, 0.003,
                         attributes=[("user_agent.synthetic.type", "test"),
                                     ("http.response.status_code", 503 if failing else 200)],
                         trap=("probe_success_below_floor", "false") if second == 485 else None)


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    captures = real_captures()
    for index, capture in enumerate(captures):
        retime(capture, BASE + (10 + 60 * index) * SECOND)
    builder = Builder(seed=20261203)
    generated(builder)
    steady(builder)
    requests = [captures[0], *builder.requests, captures[1]]
    with open(out / "spans.otlp", "wb") as stream:
        for request in requests:
            body = request.SerializeToString()
            stream.write(struct.pack(">I", len(body)))
            stream.write(body)
    # Expected events in input order: the generated request's spans in the order written.
    order = {span.span_id.hex(): index
             for index, span in enumerate(s for request in builder.requests for r in request.resource_spans
                                          for sc in r.scope_spans for s in sc.spans)}
    rows = sorted(builder.expected, key=lambda row: order[row[0]])
    with open(out / "expected.tsv", "w") as stream:
        stream.write("span_id\tclass\tblocked\n")
        for row in rows:
            stream.write("\t".join(row) + "\n")


if __name__ == "__main__":
    main()
