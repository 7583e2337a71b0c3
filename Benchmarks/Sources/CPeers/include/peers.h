// Peers the benchmarks compare Trapline's decoders with, callable from Swift and from the
// whole-process programs in Benchmarks/Peers.
#ifndef TRAPLINE_BENCHMARK_PEERS_H
#define TRAPLINE_BENCHMARK_PEERS_H

#include <stddef.h>
#include <stdint.h>

/// Walks one ExportTraceServiceRequest as a protobuf tag skim: every tag is read and every
/// nested message of the OTLP trace schema (resource, scope, span, event, link, status, key-value,
/// any-value, array and key-value list) is entered and walked, lengths are bounds-checked, and
/// nothing is built or validated beyond that (no UTF-8 check, no id length check). This is the
/// lower limit of a decoder that must look at every field.
/// Returns the number of spans, or -1 when a length or tag runs past its message.
long peer_tag_skim_traces(const uint8_t *bytes, size_t length);

#endif
