// Whole-process protobuf peers over a stream framed as the Collector's file exporter writes
// (a 4-byte big-endian length before each ExportTraceServiceRequest):
//   protobuf-peer unpack-free|unpack-pack|skim FILE
// unpack-free: libprotobuf-c unpacks each request and frees it; unpack-pack: unpacks, packs it
// again into a new buffer, frees both; skim: the tag skim of peers.h. Prints the span count
// (the request count for unpack-pack, which counts nothing inside).
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "otlp_oracle.h"
#include "peers.h"

static uint8_t *read_file(const char *path, size_t *length) {
    int descriptor = open(path, O_RDONLY);
    struct stat status;
    if (descriptor < 0 || fstat(descriptor, &status) != 0) return NULL;
    uint8_t *bytes = malloc((size_t)status.st_size + 1);
    size_t done = 0;
    while (bytes && done < (size_t)status.st_size) {
        ssize_t got = read(descriptor, bytes + done, (size_t)status.st_size - done);
        if (got <= 0) return NULL;
        done += (size_t)got;
    }
    close(descriptor);
    *length = done;
    return bytes;
}

int main(int argc, char **argv) {
    size_t length = 0;
    uint8_t *bytes = argc == 3 ? read_file(argv[2], &length) : NULL;
    if (bytes == NULL) {
        fprintf(stderr, "usage: protobuf-peer unpack-free|unpack-pack|skim FILE (a readable file)\n");
        return 64;
    }
    long spans = 0;
    for (size_t position = 0; position + 4 <= length;) {
        size_t frame = (size_t)bytes[position] << 24 | (size_t)bytes[position + 1] << 16 |
                       (size_t)bytes[position + 2] << 8 | bytes[position + 3];
        const uint8_t *request = bytes + position + 4;
        if (frame > length - position - 4) {
            fprintf(stderr, "frame at byte %zu runs past the end\n", position);
            return 65;
        }
        long found;
        if (strcmp(argv[1], "skim") == 0) {
            found = peer_tag_skim_traces(request, frame);
        } else if (strcmp(argv[1], "unpack-free") == 0) {
            found = otlp_oracle_unpack_count(OTLP_ORACLE_TRACES, request, frame);
        } else if (strcmp(argv[1], "unpack-pack") == 0) {
            uint8_t *packed = NULL;
            size_t packed_length = 0;
            found = otlp_oracle_repack(OTLP_ORACLE_TRACES, request, frame, &packed, &packed_length) == 0 ? 1 : -1;
            if (found == 1 && packed_length != frame) found = -1;
            free(packed);
        } else {
            fprintf(stderr, "unknown mode %s\n", argv[1]);
            return 64;
        }
        if (found < 0) {
            fprintf(stderr, "request at byte %zu does not decode\n", position);
            return 65;
        }
        spans += found;
        position += 4 + frame;
    }
    printf("%ld %s\n", spans, strcmp(argv[1], "unpack-pack") == 0 ? "requests" : "spans");
    free(bytes);
    return 0;
}
