/*
 * Trapline's C ABI: embed a Trapline pipeline in a collector written in C or Go (cgo).
 *
 * Link with -lTraplineC (the shared library `swift build` makes as libTraplineC.so). No Swift type
 * crosses the boundary: handles are opaque pointers, buffers are malloc'd bytes the caller frees
 * with trapline_buffer_free, errors are return codes plus a message written into the caller's
 * buffer. Distinct pipeline handles may be used from distinct threads at once; one handle may be
 * used from several threads too (calls are serialised where they must be).
 */
#ifndef TRAPLINE_H
#define TRAPLINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Return codes. */
#define TRAPLINE_OK 0
/* A null pointer or an unknown format. */
#define TRAPLINE_ERROR_ARGUMENT (-1)
/* The pipeline file has problems; the message lists each with its line and column. */
#define TRAPLINE_ERROR_CONFIGURATION (-2)
/* Nothing in the body could be read (it was counted as rejected); the message says why. */
#define TRAPLINE_ERROR_UNDECODABLE (-3)

/* What a body holds. */
#define TRAPLINE_FORMAT_PROTOBUF_TRACES 0
#define TRAPLINE_FORMAT_PROTOBUF_LOGS 1
#define TRAPLINE_FORMAT_JSON_TRACES 2
#define TRAPLINE_FORMAT_JSON_LOGS 3
#define TRAPLINE_FORMAT_PROTOBUF_METRICS 4
#define TRAPLINE_FORMAT_JSON_METRICS 5

typedef struct trapline_pipeline trapline_pipeline;

/* The accounting: received = forwarded + filtered + blocked + rejected. */
typedef struct trapline_counters {
    uint64_t received;
    uint64_t forwarded;
    uint64_t filtered;
    uint64_t blocked;
    uint64_t rejected;
} trapline_counters;

/* Builds a pipeline from the text of a pipeline file (NUL-terminated UTF-8). Returns NULL on
 * failure and writes why into `error` (at most `error_size` bytes, NUL-terminated). */
trapline_pipeline *trapline_pipeline_new(const char *yaml, char *error, size_t error_size);

/* Frees a pipeline. */
void trapline_pipeline_free(trapline_pipeline *pipeline);

/* Runs one export request body through the pipeline. On TRAPLINE_OK, `*output` holds the records
 * that go on as one OTLP protobuf export request (`*output_size` bytes; NULL and 0 when none do),
 * to be freed with trapline_buffer_free. Bad records are counted, never silently lost. */
int trapline_process(
    trapline_pipeline *pipeline, const uint8_t *input, size_t input_size, int format, uint8_t **output,
    size_t *output_size, char *error, size_t error_size);

/* Frees a buffer trapline_process returned. */
void trapline_buffer_free(uint8_t *buffer);

/* The accounting of every body so far. */
int trapline_counters_read(trapline_pipeline *pipeline, trapline_counters *counters);

/* Trap events identified and blocked so far, and TER (the blocked share; NaN when no trap was
 * identified). */
int trapline_ter_read(trapline_pipeline *pipeline, uint64_t *identified, uint64_t *blocked, double *ter);

#ifdef __cplusplus
}
#endif

#endif
