#!/usr/bin/env python3
"""Sends spans with the real OpenTelemetry Python SDK and its OTLP/HTTP (protobuf) exporter.

  otlp_sdk_send.py URL SPANS [--gzip] [--drop-every K]

Every K-th span gets attribute `test.drop = true` (for a filter to drop). Prints
`exported <n> <result>` once the exporter has flushed.
"""
import argparse
import sys

from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult

parser = argparse.ArgumentParser()
parser.add_argument("url")
parser.add_argument("spans", type=int)
parser.add_argument("--gzip", action="store_true")
parser.add_argument("--drop-every", type=int, default=0)
args = parser.parse_args()


class Counting(OTLPSpanExporter):
    results = []

    def export(self, spans):
        result = super().export(spans)
        Counting.results.append((len(spans), result))
        return result


exporter = Counting(endpoint=args.url, compression=Compression.Gzip if args.gzip else Compression.NoCompression)
provider = TracerProvider(resource=Resource.create({"service.name": "sdk-client"}))
# Batches of 50: one request each, so the test counts requests, not single spans.
spans = []
tracer = provider.get_tracer("trapline.tests")
for index in range(args.spans):
    with tracer.start_as_current_span(f"operation {index % 7}") as span:
        span.set_attribute("index", index)
        if args.drop_every and index % args.drop_every == 0:
            span.set_attribute("test.drop", True)
        spans.append(span)
for start in range(0, len(spans), 50):
    exporter.export(spans[start:start + 50])
ok = sum(count for count, result in Counting.results if result == SpanExportResult.SUCCESS)
print(f"exported {ok} {'SUCCESS' if ok == args.spans else 'FAILURE'}")
sys.exit(0 if ok == args.spans else 1)
