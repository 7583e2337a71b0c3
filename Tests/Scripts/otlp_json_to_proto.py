#!/usr/bin/env python3
"""Read OTLP JSON with PyPI's protobuf (json_format, upb): an independent OTLP JSON reader.

Usage: otlp_json_to_proto.py SIGNAL INPUT OUTPUT
Reads INPUT (JSON lines, or one JSON document), turns OTLP JSON's hex ids into the base64
protobuf's JSON mapping expects (the "hex id shim": OTLP JSON differs from proto3 JSON only
there), parses each document into an Export*ServiceRequest and writes them to OUTPUT as 4-byte
big-endian length-prefixed protobuf. Exits 2 when a document does not parse.
"""
import base64
import json
import struct
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}  # exemplars too


def shim(node):
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ID_KEYS and isinstance(value, str):
                value = base64.b64encode(bytes.fromhex(value)).decode()
            else:
                value = shim(value)
            out[key] = value
        return out
    if isinstance(node, list):
        return [shim(item) for item in node]
    return node


def documents(text):
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= len(text):
            return
        value, position = decoder.raw_decode(text, position)
        yield value


def main():
    signal, source, target = sys.argv[1:4]
    kind = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest, "metrics": ExportMetricsServiceRequest}[signal]
    count = 0
    with open(source, encoding="utf-8") as handle, open(target, "wb") as out:
        for document in documents(handle.read()):
            if isinstance(document, dict) and isinstance(document.get("result"), dict):
                document = document["result"]  # Jaeger's API envelope
            message = kind()
            try:
                json_format.ParseDict(shim(document), message)
            except Exception as error:  # the reference reader rejected the document
                print(f"document {count}: {error}")
                return 2
            body = message.SerializeToString()
            out.write(struct.pack(">I", len(body)) + body)
            count += 1
    print(f"converted {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
