#!/usr/bin/env python3
"""Benchmark traces with the shape of production traffic, written with PyPI's opentelemetry-proto
(independent of Trapline's encoder and of Scripts/generate-otlp.py, which the tests use).

  generate-traces.py --requests 2000 --spans-per-request 100 --seed 27 OUT_PREFIX

writes OUT_PREFIX.otlp (requests framed as the Collector's file exporter writes `format: proto`:
a 4-byte big-endian length before each) and OUT_PREFIX.jsonl (the same requests as OTLP JSON,
one a line, ids in hex), and prints the span count and bytes per span.

The shape is what the independent harness of issue 27 measured with (about 530 bytes a span):
16 resource attributes, 1-3 scopes a resource, HTTP-server, DB-client, RPC-client and messaging
spans with 8-13 attributes including string arrays, trace state on some spans, exception and
other events on about 18% of spans, links on about 8%.
"""
import argparse
import base64
import json
import random
import struct

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

SERVICES = ["checkout", "cart", "payment", "shipping", "frontend", "inventory", "recommendation", "ad",
            "currency", "email", "quote", "fraud-detection"]
SCOPES = [("io.opentelemetry.instrumentation.http", "2.4.0"), ("io.opentelemetry.jdbc", "2.4.0-alpha"),
          ("io.opentelemetry.grpc-1.6", "2.4.0-alpha"), ("io.opentelemetry.kafka-clients-2.6", "2.4.0-alpha"),
          ("opentelemetry.instrumentation.flask", "0.47b0")]
ROUTES = ["/api/v1/orders", "/api/v1/cart/{id}", "/health", "/api/v1/payments", "/api/v2/search",
          "/api/v1/products/{productId}", "/api/v1/recommendations"]
METHODS = ["GET", "POST", "PUT", "DELETE"]
STATEMENTS = ["SELECT id, status, total FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 20",
              "UPDATE cart_items SET quantity = $1 WHERE cart_id = $2 AND sku = $3",
              "INSERT INTO payments (id, order_id, amount, currency) VALUES ($1, $2, $3, $4)"]
RPCS = [("oteldemo.CurrencyService", "Convert"), ("oteldemo.ProductCatalogService", "GetProduct"),
        ("oteldemo.ShippingService", "GetQuote"), ("oteldemo.PaymentService", "Charge")]
TOPICS = ["orders", "payments.completed", "inventory.reserved"]


def kv(key, value):
    item = KeyValue(key=key)
    if isinstance(value, bool):
        item.value.bool_value = value
    elif isinstance(value, int):
        item.value.int_value = value
    elif isinstance(value, float):
        item.value.double_value = value
    elif isinstance(value, list):
        item.value.array_value.values.add().string_value = value[0]
        for element in value[1:]:
            item.value.array_value.values.add().string_value = element
    else:
        item.value.string_value = value
    return item


def resource_attributes(rng, service):
    pod = f"{service}-{rng.randrange(16**6):06x}-{rng.randrange(16**5):05x}"
    return [kv("service.name", service), kv("service.namespace", "opentelemetry-demo"),
            kv("service.version", f"1.{rng.randrange(20)}.{rng.randrange(10)}"),
            kv("service.instance.id", f"{rng.randrange(16**8):08x}-{rng.randrange(16**4):04x}"),
            kv("deployment.environment", rng.choice(["production", "staging"])),
            kv("host.name", f"ip-10-0-{rng.randrange(8)}-{rng.randrange(250)}.ec2.internal"),
            kv("host.arch", "amd64"), kv("os.type", "linux"),
            kv("k8s.namespace.name", "shop"), kv("k8s.pod.name", pod),
            kv("k8s.pod.uid", f"{rng.randrange(16**8):08x}-{rng.randrange(16**4):04x}-4f1e-9a3b-{rng.randrange(16**12):012x}"),
            kv("k8s.node.name", f"node-{rng.randrange(40):02d}"), kv("k8s.deployment.name", service),
            kv("container.id", f"{rng.randrange(16**16):016x}{rng.randrange(16**16):016x}"),
            kv("telemetry.sdk.language", rng.choice(["go", "java", "python", "nodejs", "dotnet"])),
            kv("telemetry.sdk.version", "1.26.0")]


def http_server(rng, span, service):
    method, route = rng.choice(METHODS), rng.choice(ROUTES)
    span.kind = Span.SPAN_KIND_SERVER
    span.name = f"{method} {route}"
    status = rng.choices([200, 201, 404, 500, 503], weights=[80, 8, 6, 4, 2])[0]
    attributes = [kv("http.request.method", method), kv("http.route", route),
                  kv("http.response.status_code", status), kv("url.scheme", "https"),
                  kv("url.path", route.replace("{id}", str(rng.randrange(10**6))).replace("{productId}", "OLJCESPC7Z")),
                  kv("server.address", f"{service}.shop.svc.cluster.local"), kv("server.port", 8080),
                  kv("network.protocol.version", "1.1"), kv("client.address", f"10.0.{rng.randrange(8)}.{rng.randrange(250)}"),
                  kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0")]
    if rng.random() < 0.5:
        attributes.append(kv("http.request.header.accept", ["application/json", "text/plain;q=0.9"]))
    if rng.random() < 0.4:
        attributes.append(kv("http.response.body.size", rng.randrange(100, 50_000)))
    return attributes, status >= 500


def db_client(rng, span, service):
    statement = rng.choice(STATEMENTS)
    span.kind = Span.SPAN_KIND_CLIENT
    span.name = f"{statement.split()[0]} shop.{rng.choice(['orders', 'cart_items', 'payments'])}"
    attributes = [kv("db.system", "postgresql"), kv("db.namespace", "shop"), kv("db.query.text", statement),
                  kv("db.operation.name", statement.split()[0]), kv("server.address", "postgres.shop.svc"),
                  kv("server.port", 5432), kv("network.peer.address", f"10.0.9.{rng.randrange(250)}"),
                  kv("db.response.returned_rows", rng.randrange(100))]
    if rng.random() < 0.3:
        attributes.append(kv("db.collection.name", rng.choice(["orders", "cart_items", "payments"])))
    return attributes, rng.random() < 0.03


def rpc_client(rng, span, service):
    rpc_service, method = rng.choice(RPCS)
    span.kind = Span.SPAN_KIND_CLIENT
    span.name = f"{rpc_service}/{method}"
    code = rng.choices([0, 4, 14], weights=[94, 3, 3])[0]
    attributes = [kv("rpc.system", "grpc"), kv("rpc.service", rpc_service), kv("rpc.method", method),
                  kv("rpc.grpc.status_code", code), kv("server.address", f"{method.lower()}.shop.svc"),
                  kv("server.port", 50051), kv("network.transport", "tcp"), kv("network.type", "ipv4"),
                  kv("rpc.grpc.request.metadata.content-type", ["application/grpc"])]
    for _ in range(rng.randrange(0, 4)):
        attributes.append(kv(f"app.{rng.choice(['user', 'cart', 'order', 'product'])}.id{rng.randrange(9)}",
                             f"{rng.randrange(16**10):010x}"))
    return attributes, code != 0


def messaging(rng, span, service):
    topic = rng.choice(TOPICS)
    producer = rng.random() < 0.5
    span.kind = Span.SPAN_KIND_PRODUCER if producer else Span.SPAN_KIND_CONSUMER
    span.name = f"{'publish' if producer else 'process'} {topic}"
    attributes = [kv("messaging.system", "kafka"), kv("messaging.destination.name", topic),
                  kv("messaging.operation.type", "publish" if producer else "process"),
                  kv("messaging.client.id", f"{service}-{rng.randrange(4)}"),
                  kv("messaging.kafka.message.key", f"{rng.randrange(16**8):08x}"),
                  kv("messaging.destination.partition.id", str(rng.randrange(12))),
                  kv("messaging.kafka.offset", rng.randrange(10**9)), kv("server.address", "kafka.shop.svc"),
                  kv("messaging.batch.message_count", rng.randrange(1, 20))]
    if rng.random() < 0.5:
        attributes.append(kv("messaging.header.tags", ["priority", "eu-west", "v2"]))
    return attributes, rng.random() < 0.02


KINDS = [http_server, db_client, rpc_client, messaging]


def fill_span(rng, span, trace_id, parent, start, service):
    span.trace_id = trace_id
    span.span_id = rng.randbytes(8)
    if parent:
        span.parent_span_id = parent
    make = http_server if parent is None else rng.choices(KINDS, weights=[30, 30, 25, 15])[0]
    attributes, failed = make(rng, span, service)
    span.attributes.extend(attributes)
    duration = int(rng.lognormvariate(15.5, 1.2))
    span.start_time_unix_nano = start
    span.end_time_unix_nano = start + duration
    if rng.random() < 0.12:
        span.trace_state = f"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE{rng.randrange(10)}"
    if failed:
        span.status.code = Status.STATUS_CODE_ERROR
        span.status.message = "upstream failed: deadline exceeded"
        event = span.events.add(time_unix_nano=start + duration // 2, name="exception")
        event.attributes.extend([kv("exception.type", "io.grpc.StatusRuntimeException"),
                                 kv("exception.message", "DEADLINE_EXCEEDED: deadline exceeded after 1.999s"),
                                 kv("exception.stacktrace", "io.grpc.StatusRuntimeException: DEADLINE_EXCEEDED\n"
                                    "\tat io.grpc.stub.ClientCalls.toStatusRuntimeException(ClientCalls.java:271)\n"
                                    "\tat oteldemo.CheckoutService.placeOrder(CheckoutService.java:118)")])
    elif rng.random() < 0.3:
        span.status.code = Status.STATUS_CODE_OK
    if not failed and rng.random() < 0.13:
        event = span.events.add(time_unix_nano=start + duration // 3,
                                name=rng.choice(["message", "cache.miss", "retry"]))
        event.attributes.extend([kv("message.type", rng.choice(["SENT", "RECEIVED"])),
                                 kv("message.id", rng.randrange(1, 100))])
    if rng.random() < 0.08:
        link = span.links.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
        link.attributes.append(kv("messaging.operation.type", "process"))
        if rng.random() < 0.3:
            link.trace_state = "rojo=00f067aa0ba902b7"
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
        trace_id, parent = rng.randbytes(16), None
        for scope, version in rng.sample(SCOPES, rng.randrange(1, 4)):
            if made >= spans:
                break
            scope_spans = resource_spans.scope_spans.add()
            scope_spans.scope.name = scope
            scope_spans.scope.version = version
            batch = min(spans - made, rng.randrange(3, 15))
            for index in range(batch):
                clock[0] += rng.randrange(1000, 2_000_000)
                span_id = fill_span(rng, scope_spans.spans.add(), trace_id, parent, clock[0], service)
                if index % 9 == 8:
                    trace_id, parent = rng.randbytes(16), None
                elif parent is None or rng.random() < 0.5:
                    parent = span_id
            made += batch
    return request


def hex_ids(value):
    """OTLP JSON writes trace and span ids in hex where protobuf's JSON mapping writes base64."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("traceId", "spanId", "parentSpanId") and isinstance(item, str):
                value[key] = base64.b64decode(item).hex()
            else:
                hex_ids(item)
    elif isinstance(value, list):
        for item in value:
            hex_ids(item)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--spans-per-request", type=int, default=100)
    parser.add_argument("--seed", type=int, default=27)
    parser.add_argument("output_prefix")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    clock = [1_700_000_000_000_000_000]
    payload = 0
    with open(args.output_prefix + ".otlp", "wb") as proto, open(args.output_prefix + ".jsonl", "w") as lines:
        for _ in range(args.requests):
            request = trace_request(rng, args.spans_per_request, clock)
            body = request.SerializeToString()
            payload += len(body)
            proto.write(struct.pack(">I", len(body)))
            proto.write(body)
            document = hex_ids(MessageToDict(request, use_integers_for_enums=True))
            lines.write(json.dumps(document, separators=(",", ":")))
            lines.write("\n")
    spans = args.requests * args.spans_per_request
    print(f"{spans} spans, {payload / spans:.0f} protobuf bytes a span")


if __name__ == "__main__":
    main()
