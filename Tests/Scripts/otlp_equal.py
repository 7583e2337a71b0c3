#!/usr/bin/env python3
"""Compare OTLP requests as messages with PyPI's protobuf (upb), the reference decoder.

Usage: otlp_equal.py SIGNAL EXPECTED EXPECTED_FRAMING ACTUAL ACTUAL_FRAMING
  SIGNAL: traces | logs | metrics
  FRAMING: single | length-prefixed | varint
Prints "equal N" (N requests) and exits 0, or says what differs and exits 1; exits 2 when a
file does not parse.
"""
import sys

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def frames(data, framing):
    if framing == "single":
        return [data]
    out, pos = [], 0
    while pos < len(data):
        if framing == "length-prefixed":
            length = int.from_bytes(data[pos:pos + 4], "big")
            pos += 4
        else:
            length, shift = 0, 0
            while True:
                byte = data[pos]
                pos += 1
                length |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
        out.append(data[pos:pos + length])
        pos += length
    return out


def parse(kind, blob):
    message = kind()
    message.ParseFromString(blob)
    return message


KINDS = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest, "metrics": ExportMetricsServiceRequest}


def differences(expected, actual):
    """None when the request lists are equal as messages, else what differs."""
    if len(expected) != len(actual):
        return f"request count differs: expected {len(expected)}, got {len(actual)}"
    for index, (left, right) in enumerate(zip(expected, actual)):
        if left != right:
            return f"request {index} differs:\n--- expected\n{left}\n--- actual\n{right}"
    return None


def main():
    signal, expected_path, expected_framing, actual_path, actual_framing = sys.argv[1:6]
    kind = KINDS[signal]
    try:
        expected = [parse(kind, b) for b in frames(open(expected_path, "rb").read(), expected_framing)]
        actual = [parse(kind, b) for b in frames(open(actual_path, "rb").read(), actual_framing)]
    except Exception as error:  # the reference decoder rejected the bytes
        print(f"parse error: {error}")
        return 2
    problem = differences(expected, actual)
    if problem:
        print(problem)
        return 1
    print(f"equal {len(expected)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
