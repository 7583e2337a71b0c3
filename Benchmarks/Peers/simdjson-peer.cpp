// Whole-process simdjson On-Demand peer over OTLP JSON lines: simdjson-peer FILE. Prints the
// span count (see simdjson_peer.h for what it touches).
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simdjson_peer.h"

int main(int argc, char **argv) {
    int descriptor = argc == 2 ? open(argv[1], O_RDONLY) : -1;
    struct stat status;
    if (descriptor < 0 || fstat(descriptor, &status) != 0) {
        std::fprintf(stderr, "usage: simdjson-peer FILE (a readable file)\n");
        return 64;
    }
    size_t length = static_cast<size_t>(status.st_size);
    size_t capacity = length + peer_simdjson_padding();
    char *bytes = static_cast<char *>(std::calloc(capacity, 1));
    for (size_t done = 0; done < length;) {
        ssize_t got = read(descriptor, bytes + done, length - done);
        if (got <= 0) return 74;
        done += static_cast<size_t>(got);
    }
    long spans = peer_simdjson_traces(bytes, length, capacity);
    if (spans < 0) {
        std::fprintf(stderr, "the JSON lines do not parse\n");
        return 65;
    }
    std::printf("%ld\n", spans);
    std::free(bytes);
    return 0;
}
