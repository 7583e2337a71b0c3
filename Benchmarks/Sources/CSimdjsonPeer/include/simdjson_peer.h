// simdjson On-Demand (Debian libsimdjson-dev) reading OTLP JSON lines: the JSON decode peer.
#ifndef TRAPLINE_SIMDJSON_PEER_H
#define TRAPLINE_SIMDJSON_PEER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes a buffer handed to `peer_simdjson_traces` must have readable past its length.
size_t peer_simdjson_padding(void);

/// Reads JSON lines of ExportTraceServiceRequest with simdjson On-Demand, touching every value:
/// it walks resourceSpans, scopeSpans and spans, and within each resource, scope and span reads
/// every key (unescaped), every string (unescaped), every number and boolean, down through
/// attributes, events, links and status. `capacity` is the readable size of `bytes`, at least
/// `length + peer_simdjson_padding()`.
/// Returns the number of spans, or -1 on a JSON error.
long peer_simdjson_traces(const char *bytes, size_t length, size_t capacity);

#ifdef __cplusplus
}
#endif

#endif
