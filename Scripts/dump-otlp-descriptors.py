#!/usr/bin/env python3
"""Write the OTLP trace/logs/collector schema as a FileDescriptorSet.

The schema comes from PyPI's opentelemetry-proto (its generated modules carry the
serialized descriptors), so the oracle is generated from the same schema version the
upb reference decoder uses. Usage: dump-otlp-descriptors.py OUT.pb
"""
import sys

from google.protobuf import descriptor_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def add(file_descriptor, files, seen):
    if file_descriptor.name in seen:
        return
    for dependency in file_descriptor.dependencies:
        add(dependency, files, seen)
    seen.add(file_descriptor.name)
    proto = descriptor_pb2.FileDescriptorProto()
    file_descriptor.CopyToProto(proto)
    files.file.append(proto)


files = descriptor_pb2.FileDescriptorSet()
seen = set()
add(trace_service_pb2.DESCRIPTOR, files, seen)
add(logs_service_pb2.DESCRIPTOR, files, seen)
with open(sys.argv[1], "wb") as out:
    out.write(files.SerializeToString())
print(" ".join(sorted(seen)))
