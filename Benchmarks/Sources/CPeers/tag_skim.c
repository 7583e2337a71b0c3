// The tag skim peer (see peers.h). A table per message type says which field numbers hold a
// nested message and of which type; every other field is skipped by its wire type.
#include "peers.h"

enum message_type {
    LEAF = 0, REQUEST, RESOURCE_SPANS, RESOURCE, SCOPE_SPANS, SCOPE, SPAN, EVENT, LINK, STATUS,
    KEY_VALUE, ANY_VALUE, ARRAY_VALUE, KEY_VALUE_LIST, TYPE_COUNT
};

enum { MAX_FIELD = 17, MAX_DEPTH = 64 };

// children[type][field] is the message type of that field, LEAF for scalars, strings and bytes.
static const unsigned char children[TYPE_COUNT][MAX_FIELD] = {
    [REQUEST] = {[1] = RESOURCE_SPANS},
    [RESOURCE_SPANS] = {[1] = RESOURCE, [2] = SCOPE_SPANS},
    [RESOURCE] = {[1] = KEY_VALUE},
    [SCOPE_SPANS] = {[1] = SCOPE, [2] = SPAN},
    [SCOPE] = {[3] = KEY_VALUE},
    [SPAN] = {[9] = KEY_VALUE, [11] = EVENT, [13] = LINK, [15] = STATUS},
    [EVENT] = {[3] = KEY_VALUE},
    [LINK] = {[4] = KEY_VALUE},
    [KEY_VALUE] = {[2] = ANY_VALUE},
    [ANY_VALUE] = {[5] = ARRAY_VALUE, [6] = KEY_VALUE_LIST},
    [ARRAY_VALUE] = {[1] = ANY_VALUE},
    [KEY_VALUE_LIST] = {[1] = KEY_VALUE},
};

static int read_varint(const uint8_t **cursor, const uint8_t *end, uint64_t *value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*cursor >= end) return -1;
        uint8_t byte = *(*cursor)++;
        result |= (uint64_t)(byte & 0x7F) << shift;
        if (byte < 0x80) {
            *value = result;
            return 0;
        }
    }
    return -1;
}

static long skim(const uint8_t *cursor, const uint8_t *end, enum message_type type, int depth) {
    if (depth > MAX_DEPTH) return -1;
    long spans = type == SPAN ? 1 : 0;
    while (cursor < end) {
        uint64_t tag, value;
        if (read_varint(&cursor, end, &tag) != 0) return -1;
        uint64_t field = tag >> 3;
        switch (tag & 7) {
        case 0:
            if (read_varint(&cursor, end, &value) != 0) return -1;
            break;
        case 1:
            if (end - cursor < 8) return -1;
            cursor += 8;
            break;
        case 5:
            if (end - cursor < 4) return -1;
            cursor += 4;
            break;
        case 2: {
            if (read_varint(&cursor, end, &value) != 0 || value > (uint64_t)(end - cursor)) return -1;
            enum message_type child = field < MAX_FIELD ? (enum message_type)children[type][field] : LEAF;
            if (child != LEAF) {
                long nested = skim(cursor, cursor + value, child, depth + 1);
                if (nested < 0) return -1;
                spans += nested;
            }
            cursor += value;
            break;
        }
        default:
            return -1;
        }
    }
    return spans;
}

long peer_tag_skim_traces(const uint8_t *bytes, size_t length) {
    return skim(bytes, bytes + length, REQUEST, 0);
}
