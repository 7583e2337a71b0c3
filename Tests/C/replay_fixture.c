/*
 * Loads Trapline through its C ABI (include/trapline.h) and replays a fixture of length-prefixed
 * OTLP protobuf trace requests (4-byte big-endian lengths, as the Collector's file exporter writes
 * them) through a pipeline with a filter. Prints the counters and exits non-zero when the
 * accounting does not hold.
 *
 *   replay_fixture FIXTURE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trapline.h"

static const char *pipeline_yaml =
    "receivers: {stdin: }\n"
    "processors:\n"
    "  filter:\n"
    "    trace_conditions: ['attributes[\"http.request.method\"] == \"DELETE\"']\n"
    "exporters: {stdout: }\n"
    "service: {pipelines: {traces: {receivers: [stdin], processors: [filter], exporters: [stdout]}}}\n";

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    char error[512];
    trapline_pipeline *bad = trapline_pipeline_new("receivers: {nope: }\n", error, sizeof error);
    if (bad != NULL || strstr(error, "receiver type 'nope' is not supported") == NULL) {
        fprintf(stderr, "a bad pipeline was not refused: %s\n", error);
        return 1;
    }
    trapline_pipeline *pipeline = trapline_pipeline_new(pipeline_yaml, error, sizeof error);
    if (pipeline == NULL) {
        fprintf(stderr, "pipeline: %s\n", error);
        return 1;
    }
    FILE *file = fopen(argv[1], "rb");
    if (file == NULL) return 1;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)size);
    if (fread(bytes, 1, (size_t)size, file) != (size_t)size) return 1;
    fclose(file);
    size_t output_bytes = 0;
    long requests = 0;
    for (long offset = 0; offset + 4 <= size; requests++) {
        size_t length = ((size_t)bytes[offset] << 24) | ((size_t)bytes[offset + 1] << 16) |
                        ((size_t)bytes[offset + 2] << 8) | bytes[offset + 3];
        uint8_t *output = NULL;
        size_t output_size = 0;
        int status = trapline_process(pipeline, bytes + offset + 4, length, TRAPLINE_FORMAT_PROTOBUF_TRACES, &output,
                                      &output_size, error, sizeof error);
        if (status != TRAPLINE_OK) {
            fprintf(stderr, "process: %d %s\n", status, error);
            return 1;
        }
        output_bytes += output_size;
        trapline_buffer_free(output);
        offset += 4 + (long)length;
    }
    uint8_t garbage[] = {0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2};
    uint8_t *output = NULL;
    size_t output_size = 0;
    int status = trapline_process(pipeline, garbage, sizeof garbage, TRAPLINE_FORMAT_PROTOBUF_TRACES, &output,
                                  &output_size, error, sizeof error);
    if (status != TRAPLINE_ERROR_UNDECODABLE || output != NULL) {
        fprintf(stderr, "garbage was not refused: %d\n", status);
        return 1;
    }
    if (trapline_process(pipeline, garbage, sizeof garbage, 9, &output, &output_size, error, sizeof error) !=
        TRAPLINE_ERROR_ARGUMENT) {
        return 1;
    }
    trapline_counters counters;
    trapline_counters_read(pipeline, &counters);
    printf("requests %ld received %llu forwarded %llu filtered %llu blocked %llu rejected %llu output %zu\n", requests,
           (unsigned long long)counters.received, (unsigned long long)counters.forwarded,
           (unsigned long long)counters.filtered, (unsigned long long)counters.blocked,
           (unsigned long long)counters.rejected, output_bytes);
    trapline_pipeline_free(pipeline);
    free(bytes);
    int balanced = counters.received == counters.forwarded + counters.filtered + counters.blocked + counters.rejected;
    return balanced && output_bytes > 0 ? 0 : 1;
}
