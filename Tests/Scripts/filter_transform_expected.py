#!/usr/bin/env python3
"""Apply Pipelines/filter-transform.yaml's rules to OTLP input with PyPI's protobuf, written
independently of Trapline, and compare with what Trapline wrote.

Usage: filter_transform_expected.py SIGNAL INPUT INPUT_FRAMING ACTUAL ACTUAL_FRAMING
Prints "equal N dropped D" and exits 0, or what differs and exits 1.
"""
import re
import sys

from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from otlp_equal import KINDS, differences, frames, parse

STATEMENT = re.compile(r"\b(VALUES|values) \(.*\)")


def filter_traces(request):
    dropped = 0
    for resource in request.resource_spans:
        kept_attrs = [kv for kv in resource.resource.attributes if kv.key != "telemetry.sdk.name"]
        del resource.resource.attributes[:]
        resource.resource.attributes.extend(kept_attrs)
        for scope in resource.scope_spans:
            kept = []
            for span in scope.spans:
                attrs = {kv.key: kv.value for kv in span.attributes}
                route = attrs.get("http.route")
                if route is not None and route.string_value == "/health":
                    dropped += 1
                    continue
                if span.name == "redis GET" and span.end_time_unix_nano - span.start_time_unix_nano < 1_000_000 \
                        and span.status.code != 2:
                    dropped += 1
                    continue
                duration = KeyValue(key="duration_ms")
                duration.value.int_value = (span.end_time_unix_nano - span.start_time_unix_nano) // 1_000_000
                span.attributes.append(duration)
                for kv in span.attributes:
                    if kv.key == "db.statement":
                        kv.value.string_value = STATEMENT.sub(r"\1 (…)", kv.value.string_value)
                    if kv.value.WhichOneof("value") == "string_value" and len(kv.value.string_value.encode()) > 256:
                        kv.value.string_value = kv.value.string_value.encode()[:256].decode(errors="ignore")
                kept.append(span)
            del scope.spans[:]
            scope.spans.extend(kept)
    return prune(request, "resource_spans", "scope_spans", "spans"), dropped


def filter_logs(request):
    dropped = 0
    for resource in request.resource_logs:
        for scope in resource.scope_logs:
            kept = []
            for record in scope.log_records:
                body = record.body.string_value if record.body.WhichOneof("value") == "string_value" else None
                if record.severity_number < 9 or (body is not None and body.startswith("cache miss")):
                    dropped += 1
                    continue
                if record.severity_number >= 17:
                    alert = KeyValue(key="alert")
                    alert.value.bool_value = True
                    record.attributes.append(alert)
                    record.severity_text = record.severity_text.upper()
                kept.append(record)
            del scope.log_records[:]
            scope.log_records.extend(kept)
    return prune(request, "resource_logs", "scope_logs", "log_records"), dropped


def filter_metrics(request):
    dropped = 0
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            kept_metrics = []
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                points = getattr(metric, kind).data_points if kind else []
                if metric.name == "process.cpu.time":
                    dropped += len(points)
                    continue
                kept = []
                for point in points:
                    attrs = {kv.key: kv.value for kv in point.attributes}
                    drop = attrs.get("test.drop")
                    if drop is not None and drop.WhichOneof("value") == "bool_value" and drop.bool_value:
                        dropped += 1
                        continue
                    kept.append(point)
                if kind and len(points) > 0 and not kept:
                    continue  # a metric whose every point was dropped goes too
                if metric.name == "http.server.requests":
                    metric.description = "requests served, by route"
                for point in kept:
                    route = {kv.key: kv.value for kv in point.attributes}.get("http.route")
                    if route is not None and re.match("^/api/", route.string_value):
                        tag = KeyValue(key="route.class")
                        tag.value.string_value = "api"
                        point.attributes.append(tag)
                    if kind == "histogram":
                        remaining = [kv for kv in point.attributes if kv.key != "http.status_code"]
                        del point.attributes[:]
                        point.attributes.extend(remaining)
                if kind:
                    copies = [type(point)() for point in kept]
                    for copy, point in zip(copies, kept):
                        copy.CopyFrom(point)
                    del points[:]
                    points.extend(copies)
                kept_metrics.append(metric)
            del scope.metrics[:]
            scope.metrics.extend(kept_metrics)
    return prune(request, "resource_metrics", "scope_metrics", "metrics"), dropped


def prune(request, resources, scopes, records):
    """Scopes and resources left without records are not written (as the Collector does)."""
    for resource in getattr(request, resources):
        kept = [scope for scope in getattr(resource, scopes) if len(getattr(scope, records)) > 0]
        del getattr(resource, scopes)[:]
        getattr(resource, scopes).extend(kept)
    kept = [resource for resource in getattr(request, resources) if len(getattr(resource, scopes)) > 0]
    del getattr(request, resources)[:]
    getattr(request, resources).extend(kept)
    return request


def main():
    signal, expected_path, expected_framing, actual_path, actual_framing = sys.argv[1:6]
    kind = KINDS[signal]
    expected, dropped = [], 0
    with open(expected_path, "rb") as handle:
        for blob in frames(handle.read(), expected_framing):
            rules = {"traces": filter_traces, "logs": filter_logs, "metrics": filter_metrics}[signal]
            request, count = rules(parse(kind, blob))
            dropped += count
            # A request whose every record was dropped is not written at all.
            if count == 0 or request.ByteSize() > 0:
                expected.append(request)
    with open(actual_path, "rb") as handle:
        actual = [parse(kind, blob) for blob in frames(handle.read(), actual_framing)]
    problem = differences(expected, actual)
    if problem:
        print(problem[:6000])
        return 1
    print(f"equal {len(actual)} dropped {dropped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
