#!/usr/bin/env python3
"""Deterministic generator of realistic OTLP traffic, written with PyPI's opentelemetry-proto
(independent of Trapline's encoder).

Writes a stream of ExportTraceServiceRequest (or ExportLogsServiceRequest) messages framed as
the OpenTelemetry Collector's file exporter does with `format: proto` (4-byte big-endian
length before each), or varint-delimited, or one single message.

  generate-otlp.py --signal traces --requests 200 --records-per-request 100 --seed 7 OUT

The shape follows what HTTP/RPC services emit: a few services and hosts per request, server
spans with client children, HTTP/DB/messaging semantic-convention attributes, some errors,
events (exceptions, retries) and links.
"""
import argparse
import random
import struct

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SERVICES = ["checkout", "cart", "payment", "shipping", "frontend", "inventory", "recommendation"]
ROUTES = ["/api/v1/orders", "/api/v1/cart/{id}", "/health", "/api/v1/payments", "/api/v2/search"]
METHODS = ["GET", "POST", "PUT", "DELETE"]
DB_STATEMENTS = ["SELECT * FROM orders WHERE id = ?", "UPDATE cart SET qty = ? WHERE id = ?",
                 "INSERT INTO payments VALUES (?, ?, ?)"]


def kv(key, value):
    item = KeyValue(key=key)
    if isinstance(value, bool):
        item.value.bool_value = value
    elif isinstance(value, int):
        item.value.int_value = value
    elif isinstance(value, float):
        item.value.double_value = value
    else:
        item.value.string_value = value
    return item


def resource_attributes(rng, service):
    return [kv("service.name", service), kv("service.version", f"1.{rng.randrange(20)}.{rng.randrange(10)}"),
            kv("deployment.environment", rng.choice(["prod", "staging"])),
            kv("host.name", f"node-{rng.randrange(40):02d}"), kv("k8s.namespace.name", "shop"),
            kv("k8s.pod.name", f"{service}-{rng.randrange(16**6):06x}-{rng.randrange(16**5):05x}"),
            kv("telemetry.sdk.language", rng.choice(["go", "java", "python", "nodejs"])),
            kv("telemetry.sdk.name", "opentelemetry")]


def fill_span(rng, span, trace_id, parent, start, service):
    span.trace_id = trace_id
    span.span_id = rng.randbytes(8)
    if parent:
        span.parent_span_id = parent
    server = parent is None or rng.random() < 0.3
    route = rng.choice(ROUTES)
    method = rng.choice(METHODS)
    span.kind = Span.SPAN_KIND_SERVER if server else rng.choice([Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL])
    span.name = f"{method} {route}" if server else rng.choice(["SELECT orders", "redis GET", "publish orders", "grpc.Charge"])
    duration = int(rng.lognormvariate(15.5, 1.2))
    span.start_time_unix_nano = start
    span.end_time_unix_nano = start + duration
    status = rng.choices([200, 201, 404, 500, 503], weights=[80, 8, 6, 4, 2])[0]
    span.attributes.extend([kv("http.request.method", method), kv("http.route", route),
                            kv("http.response.status_code", status), kv("url.scheme", "https"),
                            kv("server.address", f"{service}.shop.svc.cluster.local"), kv("server.port", 8080),
                            kv("network.protocol.version", "1.1"), kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64)")])
    if not server:
        span.attributes.extend([kv("db.system", "postgresql"), kv("db.statement", rng.choice(DB_STATEMENTS)),
                                kv("db.rows_affected", rng.randrange(100))])
    if rng.random() < 0.1:
        span.trace_state = "rojo=00f067aa0ba902b7"
    if status >= 500:
        span.status.code = Status.STATUS_CODE_ERROR
        span.status.message = "upstream failed"
        event = span.events.add(time_unix_nano=start + duration // 2, name="exception")
        event.attributes.extend([kv("exception.type", "TimeoutError"),
                                 kv("exception.message", "deadline exceeded after 2s"),
                                 kv("exception.stacktrace", "Traceback (most recent call last):\n  File \"app.py\", line 42")])
    elif rng.random() < 0.3:
        span.status.code = Status.STATUS_CODE_OK
    if rng.random() < 0.05:
        link = span.links.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
        link.attributes.append(kv("messaging.operation", "process"))
    span.flags = 0x101
    return span.span_id


def trace_request(rng, spans, clock):
    request = ExportTraceServiceRequest()
    made = 0
    while made < spans:
        service = rng.choice(SERVICES)
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(resource_attributes(rng, service))
        resource_spans.schema_url = "https://opentelemetry.io/schemas/1.26.0"
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "io.opentelemetry.instrumentation.http"
        scope_spans.scope.version = "2.4.0"
        batch = min(spans - made, rng.randrange(5, 30))
        trace_id, parent = rng.randbytes(16), None
        for index in range(batch):
            clock[0] += rng.randrange(1000, 2_000_000)
            span_id = fill_span(rng, scope_spans.spans.add(), trace_id, parent, clock[0], service)
            if index % 7 == 6:
                trace_id, parent = rng.randbytes(16), None
            elif parent is None or rng.random() < 0.5:
                parent = span_id
        made += batch
    return request


def logs_request(rng, records, clock):
    request = ExportLogsServiceRequest()
    made = 0
    while made < records:
        service = rng.choice(SERVICES)
        resource_logs = request.resource_logs.add()
        resource_logs.resource.attributes.extend(resource_attributes(rng, service))
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = "app.logger"
        batch = min(records - made, rng.randrange(5, 30))
        for _ in range(batch):
            clock[0] += rng.randrange(1000, 2_000_000)
            record = scope_logs.log_records.add()
            record.time_unix_nano = clock[0]
            record.observed_time_unix_nano = clock[0] + 1500
            record.severity_number = rng.choice([9, 9, 9, 13, 17])
            record.severity_text = {9: "INFO", 13: "WARN", 17: "ERROR"}[record.severity_number]
            record.body.string_value = rng.choice(["request served", "cache miss for key cart:123",
                                                   "payment declined: insufficient funds", "retrying upstream call"])
            record.attributes.extend([kv("http.route", rng.choice(ROUTES)), kv("thread.id", rng.randrange(64))])
            if rng.random() < 0.5:
                record.trace_id = rng.randbytes(16)
                record.span_id = rng.randbytes(8)
        made += batch
    return request


def varint(value):
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--signal", choices=["traces", "logs"], default="traces")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--records-per-request", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--framing", choices=["length-prefixed", "varint", "single"], default="length-prefixed")
    parser.add_argument("output")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    clock = [1_700_000_000_000_000_000]
    make = trace_request if args.signal == "traces" else logs_request
    with open(args.output, "wb") as out:
        for _ in range(1 if args.framing == "single" else args.requests):
            body = make(rng, args.records_per_request, clock).SerializeToString()
            if args.framing == "length-prefixed":
                out.write(struct.pack(">I", len(body)))
            elif args.framing == "varint":
                out.write(varint(len(body)))
            out.write(body)


if __name__ == "__main__":
    main()
