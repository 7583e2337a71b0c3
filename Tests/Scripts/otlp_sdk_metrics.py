#!/usr/bin/env python3
"""Metrics from the real OpenTelemetry Python SDK: every instrument kind, with attributes.

  otlp_sdk_metrics.py file OUT
      Writes the SDK's ExportMetricsServiceRequest (as its OTLP exporters encode it) to OUT,
      4-byte big-endian length-prefixed; prints `points <data points>`.
  otlp_sdk_metrics.py http URL OUT
  otlp_sdk_metrics.py grpc HOST:PORT OUT
      Sends the same metrics with the SDK's OTLP/HTTP or OTLP/gRPC metric exporter, writes the
      request it sent to OUT as above; prints `exported <data points> <SUCCESS|FAILURE>`.
"""
import sys

from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.metrics import Observation


def collect():
    reader = InMemoryMetricReader()
    views = [View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation())]
    provider = MeterProvider(
        resource=Resource.create({"service.name": "sdk-metrics", "k8s.pod.ip": "10.1.2.3"}),
        metric_readers=[reader], views=views)
    meter = provider.get_meter("trapline.tests", "1.0")
    requests = meter.create_counter("http.server.requests", unit="1", description="requests served")
    in_flight = meter.create_up_down_counter("http.server.active_requests")
    duration = meter.create_histogram("http.server.duration", unit="ms")
    size = meter.create_histogram("payload.size", unit="By")
    meter.create_observable_gauge(
        "process.cpu.utilization", callbacks=[lambda options: [Observation(0.25, {"cpu": "0"}),
                                                               Observation(0.75, {"cpu": "1"})]])
    meter.create_observable_counter(
        "process.cpu.time", unit="s", callbacks=[lambda options: [Observation(12.5, {"state": "user"})]])
    for index in range(60):
        attributes = {"http.route": f"/api/{index % 3}", "http.status_code": 500 if index % 10 == 0 else 200,
                      "test.drop": index % 3 == 2}
        requests.add(1, attributes)
        in_flight.add(1 if index % 2 == 0 else -1, {"http.route": f"/api/{index % 3}"})
        duration.record(3.5 * (index + 1), attributes)
        size.record(100 + index * 37, {"direction": "in" if index % 2 else "out"})
    data = reader.get_metrics_data()
    provider.shutdown()
    return data


def points(request):
    total = 0
    for resource in request.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                kind = metric.WhichOneof("data")
                total += len(getattr(metric, kind).data_points)
    return total


def write(path, request):
    body = request.SerializeToString()
    with open(path, "wb") as out:
        out.write(len(body).to_bytes(4, "big") + body)


if __name__ == "__main__":
    mode = sys.argv[1]
    data = collect()
    request = encode_metrics(data)
    if mode == "file":
        write(sys.argv[2], request)
        print(f"points {points(request)}", flush=True)
        sys.exit(0)
    target, out = sys.argv[2], sys.argv[3]
    if mode == "http":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        exporter = OTLPMetricExporter(endpoint=target)
    else:
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        exporter = OTLPMetricExporter(endpoint=target, insecure=True)
    result = exporter.export(data)
    write(out, request)
    ok = result == MetricExportResult.SUCCESS
    print(f"exported {points(request)} {'SUCCESS' if ok else 'FAILURE'}", flush=True)
    sys.exit(0 if ok else 1)
