#!/usr/bin/env python3
"""OTLP/gRPC clients for the sidecar tests.

  otlp_grpc_client.py sdk PORT SPANS LOGS DROPPED COMPRESSION
      The Python SDK's OTLP/gRPC exporters send SPANS spans (DROPPED of them carry
      test.drop=true) and LOGS log records, compressed with COMPRESSION (gzip, deflate or none);
      prints `exported traces=<ok> logs=<ok>`.
  otlp_grpc_client.py raw PORT CASE...
      grpcio sends hand-made requests and prints `<case> <status code name> <detail>` per case:
      valid, partial (one span with a 3-byte trace id), malformed, oversized (5 MiB), bomb (the
      same 5 MiB gzipped to a few kilobytes), metrics,
      twice (two messages streamed to the unary Export),
      retryinfo (prints the RetryInfo delay in the trailing status details, if any).
  otlp_grpc_client.py burst PORT N
      N valid 100-span requests at once; prints one status code name per line.
  otlp_grpc_client.py file PORT SIGNAL PATH
      Sends each request of PATH (4-byte big-endian length-prefixed protobuf) to the SIGNAL
      (traces | logs) service; prints `sent N` or the first status that was not OK.
  otlp_grpc_client.py auth PORT [TOKEN]
      One valid 10-span request with `authorization: Bearer TOKEN` (none without TOKEN); prints
      the status code name.
  otlp_grpc_client.py tls PORT CA [CERT KEY]
      One valid 10-span request over TLS, trusting CA, with the client certificate when given;
      prints the status code name (UNAVAILABLE when the handshake fails).
"""
import sys
import threading

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, \
    ExportTraceServiceResponse
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
METRICS = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"


def spans_request(count, bad_trace_id=False, padding=0):
    spans = []
    for i in range(count):
        trace_id = bytes([1, 2, 3]) if bad_trace_id and i == 0 else bytes(range(1, 17))
        span = Span(trace_id=trace_id, span_id=(i + 1).to_bytes(8, "big"), name=f"span-{i}",
                    start_time_unix_nano=1_700_000_000_000_000_000, end_time_unix_nano=1_700_000_000_100_000_000)
        if padding:
            span.attributes.append(KeyValue(key="padding", value=AnyValue(string_value="x" * padding)))
        spans.append(span)
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="raw-client"))])
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def call(channel, method, body, metadata=None, compression=None):
    rpc = channel.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
    try:
        response, call_ = rpc.with_call(body, timeout=20, metadata=metadata, compression=compression)
        return "OK", response, ()
    except grpc.RpcError as error:
        return error.code().name, error.details(), error.trailing_metadata() or ()


def retry_delay(trailers):
    from google.rpc import error_details_pb2, status_pb2
    for key, value in trailers:
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.RetryInfo()
                if detail.Unpack(info):
                    return info.retry_delay.seconds
    return None


def raw(port, cases):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_send_message_length", 64 << 20)])
    for case in cases:
        if case == "valid":
            code, detail, _ = call(channel, TRACES, spans_request(10))
            if code == "OK":
                response = ExportTraceServiceResponse.FromString(detail)
                detail = f"rejected={response.partial_success.rejected_spans}"
        elif case == "partial":
            code, detail, _ = call(channel, TRACES, spans_request(10, bad_trace_id=True))
            if code == "OK":
                response = ExportTraceServiceResponse.FromString(detail)
                detail = f"rejected={response.partial_success.rejected_spans}"
        elif case == "malformed":
            code, detail, _ = call(channel, TRACES, b"\x0a\xff\xff\xff\x0f\x01")
        elif case == "oversized":
            code, detail, _ = call(channel, TRACES, spans_request(50, padding=100_000))
        elif case == "bomb":
            # Small on the wire (gzip), over the limit once inflated.
            code, detail, _ = call(channel, TRACES, spans_request(50, padding=100_000), compression=grpc.Compression.Gzip)
        elif case == "twice":
            rpc = channel.stream_unary(TRACES, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            try:
                rpc(iter([spans_request(10), spans_request(10)]), timeout=20)
                code, detail = "OK", ""
            except grpc.RpcError as error:
                code, detail = error.code().name, error.details()
        elif case == "metrics":
            code, detail, _ = call(channel, METRICS, b"")
        else:
            raise SystemExit(f"unknown case {case}")
        print(case, code, str(detail).replace("\n", " "), flush=True)


def burst(port, n):
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    results = [None] * n
    body = spans_request(100)

    def one(index):
        code, detail, trailers = call(channel, TRACES, body)
        results[index] = f"{code} {retry_delay(trailers)}"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for line in results:
        print(line, flush=True)


def sdk(port, spans, logs, dropped, compression_name):
    import logging
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.resources import Resource as SDKResource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExportResult

    compression = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate,
                   "none": grpc.Compression.NoCompression}[compression_name]
    resource = SDKResource.create({"service.name": "grpc-sdk-test"})
    span_exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True, compression=compression)
    tracer = TracerProvider(resource=resource).get_tracer("grpc-test")
    finished = []
    for i in range(spans):
        with tracer.start_as_current_span(f"op-{i}", attributes={"test.drop": i < dropped, "index": i}) as span:
            finished.append(span)
    traces_ok = True
    # Batches of 50: one Export each.
    for start in range(0, len(finished), 50):
        traces_ok &= span_exporter.export(finished[start:start + 50]) == SpanExportResult.SUCCESS

    # Logs through the SDK's logging bridge and its batch processor, as an application sends them.
    class Outcome(OTLPLogExporter):
        ok = True

        def export(self, batch):
            result = super().export(batch)
            Outcome.ok &= result.name == "SUCCESS"
            return result

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(
        Outcome(endpoint=f"127.0.0.1:{port}", insecure=True, compression=compression)))
    logger = logging.getLogger("grpc-test")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(LoggingHandler(level=logging.INFO, logger_provider=provider))
    for i in range(logs):
        logger.info("log line %d", i)
    provider.force_flush()
    provider.shutdown()
    print(f"exported traces={traces_ok} logs={Outcome.ok}", flush=True)


def tls(port, ca, cert=None, key=None):
    read = lambda path: open(path, "rb").read() if path else None
    credentials = grpc.ssl_channel_credentials(read(ca), read(key), read(cert))
    channel = grpc.secure_channel(f"127.0.0.1:{port}", credentials)
    code, detail, _ = call(channel, TRACES, spans_request(10))
    print(code, flush=True)


if __name__ == "__main__":
    mode, port = sys.argv[1], int(sys.argv[2])
    if mode == "tls":
        tls(port, *sys.argv[3:])
        sys.exit(0)
    if mode == "file":
        method = TRACES if sys.argv[3] == "traces" else "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
        data, position, sent = open(sys.argv[4], "rb").read(), 0, 0
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        while position < len(data):
            length = int.from_bytes(data[position:position + 4], "big")
            code, detail, _ = call(channel, method, data[position + 4:position + 4 + length])
            if code != "OK":
                print(code, detail, flush=True)
                sys.exit(1)
            position += 4 + length
            sent += 1
        print(f"sent {sent}", flush=True)
        sys.exit(0)
    if mode == "auth":
        token = sys.argv[3] if len(sys.argv) > 3 else None
        metadata = [("authorization", f"Bearer {token}")] if token else None
        print(call(grpc.insecure_channel(f"127.0.0.1:{port}"), TRACES, spans_request(10), metadata)[0], flush=True)
        sys.exit(0)
    if mode == "sdk":
        sdk(port, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif mode == "raw":
        raw(port, sys.argv[3:])
    else:
        burst(port, int(sys.argv[3]))
