// Test-only oracle: libprotobuf-c unpacking OTLP requests, for differential tests and the
// benchmark's peer. No product links this target.
#ifndef OTLP_ORACLE_H
#define OTLP_ORACLE_H

#include <stddef.h>
#include <stdint.h>

enum { OTLP_ORACLE_TRACES = 1, OTLP_ORACLE_LOGS = 2 };

/// Unpacks an Export{Trace,Logs}ServiceRequest and renders every known field in a canonical
/// text form (fields in number order, proto3 scalars always shown, absent messages omitted).
/// Returns 0 and a malloc'd NUL-terminated text in *out (free with otlp_oracle_free), or -1 when
/// libprotobuf-c rejects the bytes. Message fields met more than once are merged on the wire
/// first, as protobuf specifies (libprotobuf-c's own merge differs; see otlp_oracle.c).
int otlp_oracle_dump(int signal, const uint8_t *bytes, size_t length, char **out);

/// Unpacks and frees the request; returns the number of spans or log records, or -1 on reject.
/// The benchmark's peer: exactly the work libprotobuf-c does to decode the bytes.
long otlp_oracle_unpack_count(int signal, const uint8_t *bytes, size_t length);

/// Re-packs what libprotobuf-c unpacked; returns 0 and a malloc'd buffer, or -1.
int otlp_oracle_repack(int signal, const uint8_t *bytes, size_t length, uint8_t **out, size_t *out_length);

void otlp_oracle_free(void *pointer);

#endif
