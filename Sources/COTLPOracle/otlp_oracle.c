// Reflection-based dump over protobuf-c descriptors, so the oracle needs no hand-written walk
// per OTLP message and follows the schema the generated code was made from.
#include "otlp_oracle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} Text;

static void text_append(Text *text, const char *format, ...) {
    for (;;) {
        va_list arguments;
        va_start(arguments, format);
        size_t room = text->capacity - text->length;
        int written = vsnprintf(text->data + text->length, room, format, arguments);
        va_end(arguments);
        if (written >= 0 && (size_t)written < room) {
            text->length += (size_t)written;
            return;
        }
        text->capacity = text->capacity * 2 + (size_t)(written > 0 ? written : 64) + 1;
        text->data = realloc(text->data, text->capacity);
    }
}

static void indent(Text *text, int depth) {
    for (int i = 0; i < depth; i++) text_append(text, "  ");
}

static void dump_bytes(Text *text, const uint8_t *data, size_t length, int quoted) {
    if (!quoted) {
        for (size_t i = 0; i < length; i++) text_append(text, "%02x", data[i]);
        return;
    }
    text_append(text, "\"");
    for (size_t i = 0; i < length; i++) {
        uint8_t byte = data[i];
        if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
            text_append(text, "\\x%02x", byte);
        } else {
            text_append(text, "%c", byte);
        }
    }
    text_append(text, "\"");
}

static void dump_message(Text *text, const ProtobufCMessage *message, int depth);

static void dump_value(Text *text, const ProtobufCFieldDescriptor *field, const void *slot, int depth) {
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        text_append(text, "%" PRId32, *(const int32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        text_append(text, "%" PRIu32, *(const uint32_t *)slot);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        text_append(text, "%" PRId64, *(const int64_t *)slot);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        text_append(text, "%" PRIu64, *(const uint64_t *)slot);
        break;
    case PROTOBUF_C_TYPE_DOUBLE: {
        uint64_t bits;
        memcpy(&bits, slot, 8);
        text_append(text, "double:%016" PRIx64, bits);
        break;
    }
    case PROTOBUF_C_TYPE_FLOAT: {
        uint32_t bits;
        memcpy(&bits, slot, 4);
        text_append(text, "float:%08" PRIx32, bits);
        break;
    }
    case PROTOBUF_C_TYPE_BOOL:
        text_append(text, "%s", *(const protobuf_c_boolean *)slot ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *string = *(char *const *)slot;
        dump_bytes(text, (const uint8_t *)string, string ? strlen(string) : 0, 1);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *binary = slot;
        dump_bytes(text, binary->data, binary->len, 0);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        text_append(text, "{\n");
        dump_message(text, *(ProtobufCMessage *const *)slot, depth + 1);
        indent(text, depth);
        text_append(text, "}");
        break;
    }
}

static size_t slot_size(const ProtobufCFieldDescriptor *field) {
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4;
    }
}

static void dump_message(Text *text, const ProtobufCMessage *message, int depth) {
    const ProtobufCMessageDescriptor *descriptor = message->descriptor;
    for (unsigned i = 0; i < descriptor->n_fields; i++) {
        const ProtobufCFieldDescriptor *field = &descriptor->fields[i];
        const char *base = (const char *)message;
        const void *slot = base + field->offset;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t count = *(const size_t *)(base + field->quantifier_offset);
            const char *items = *(char *const *)slot;
            for (size_t j = 0; j < count; j++) {
                indent(text, depth);
                text_append(text, "%s: ", field->name);
                dump_value(text, field, items + j * slot_size(field), depth);
                text_append(text, "\n");
            }
            continue;
        }
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t chosen = *(const uint32_t *)(base + field->quantifier_offset);
            if (chosen != field->id) continue;
        } else if (field->type == PROTOBUF_C_TYPE_MESSAGE && *(void *const *)slot == NULL) {
            continue;
        }
        indent(text, depth);
        text_append(text, "%s: ", field->name);
        dump_value(text, field, slot, depth);
        text_append(text, "\n");
    }
}

static ProtobufCMessage *unpack(int signal, const uint8_t *bytes, size_t length) {
    if (signal == OTLP_ORACLE_TRACES) {
        return (ProtobufCMessage *)opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, length, bytes);
    }
    return (ProtobufCMessage *)opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
        NULL, length, bytes);
}

// ---- Merging on the wire --------------------------------------------------------------------
// Protobuf merges a singular message field met more than once, and a oneof's message member met
// again while it is the set case: repeated fields add up, the later scalars that are present
// win. libprotobuf-c 1.4 merges too, but lets the later occurrence's proto3 numbers win even
// where it left them out (the earlier `dropped_attributes_count: 3` becomes 0; upb keeps 3), and
// restarts a oneof's message member instead of merging it. So the dump merges on the wire
// first: each such field is written once, holding its occurrences' contents joined, which is
// how the wire format spells a merge, and libprotobuf-c never has to. Input that does not walk
// cleanly (damage, groups, a known field with the wrong wire type) is left as it is, for
// libprotobuf-c to judge.

typedef struct {
    uint8_t *data;
    size_t length;
    size_t capacity;
} Bytes;

static void bytes_append(Bytes *bytes, const uint8_t *data, size_t length) {
    if (bytes->length + length > bytes->capacity) {
        size_t capacity = bytes->capacity ? bytes->capacity : 64;
        while (capacity < bytes->length + length) capacity *= 2;
        bytes->data = realloc(bytes->data, capacity);
        bytes->capacity = capacity;
    }
    if (length) memcpy(bytes->data + bytes->length, data, length);
    bytes->length += length;
}

static void bytes_varint(Bytes *bytes, uint64_t value) {
    uint8_t buffer[10];
    size_t length = 0;
    do {
        buffer[length++] = (uint8_t)((value & 0x7F) | (value >= 0x80 ? 0x80 : 0));
        value >>= 7;
    } while (value);
    bytes_append(bytes, buffer, length);
}

static int read_varint(const uint8_t *data, size_t length, size_t *position, uint64_t *value) {
    *value = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (*position >= length) return -1;
        uint8_t byte = data[(*position)++];
        *value |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return 0;
    }
    return -1;
}

// Whether `wire_type` is the one `field` is written with (repeated numbers may come packed).
static int wire_type_fits(const ProtobufCFieldDescriptor *field, uint64_t wire_type) {
    switch (field->type) {
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_BYTES:
    case PROTOBUF_C_TYPE_MESSAGE: return wire_type == 2;
    default: break;
    }
    if (wire_type == 2 && field->label == PROTOBUF_C_LABEL_REPEATED) return 1;
    switch (field->type) {
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return wire_type == 1;
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT: return wire_type == 5;
    default: return wire_type == 0;
    }
}

// What one field of the message being walked has collected.
typedef struct {
    Bytes content;      // joined contents of a merged message field
    size_t last_start;  // the last occurrence of a oneof scalar member: where it starts
    size_t last_end;    // … and ends (tag included)
    int present;
} Pending;

static int merged(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length, Bytes *out,
                  int depth);

static int write_merged_field(const ProtobufCMessageDescriptor *descriptor, unsigned index, Pending *pending,
                              const uint8_t *data, Bytes *out, int depth) {
    const ProtobufCFieldDescriptor *field = &descriptor->fields[index];
    if (field->type != PROTOBUF_C_TYPE_MESSAGE) {
        bytes_append(out, data + pending->last_start, pending->last_end - pending->last_start);
        return 0;
    }
    Bytes inner = {0};
    int status = merged(field->descriptor, pending->content.data, pending->content.length, &inner, depth + 1);
    if (status == 0) {
        bytes_varint(out, (uint64_t)field->id << 3 | 2);
        bytes_varint(out, inner.length);
        bytes_append(out, inner.data, inner.length);
    }
    free(inner.data);
    return status;
}

// Writes `data`, a message of type `descriptor`, to `out` with every merge done; -1 when it does
// not walk cleanly.
static int merged(const ProtobufCMessageDescriptor *descriptor, const uint8_t *data, size_t length, Bytes *out,
                  int depth) {
    if (depth > 100) return -1;
    unsigned count = descriptor->n_fields;
    Pending *pending = calloc(count ? count : 1, sizeof(Pending));
    // The oneof member last met, per oneof (keyed by the index of the member that leads its
    // `quantifier_offset`), or -1.
    int *oneof_member = malloc((count ? count : 1) * sizeof(int));
    for (unsigned index = 0; index < count; index++) oneof_member[index] = -1;
    int status = 0;
    size_t position = 0;
    while (status == 0 && position < length) {
        size_t start = position;
        uint64_t tag, value;
        if (read_varint(data, length, &position, &tag) != 0 || (tag >> 3) == 0 || (tag >> 3) > 0x1FFFFFFF) {
            status = -1;
            break;
        }
        size_t content_start = position, content_length = 0;
        switch (tag & 7) {
        case 0: status = read_varint(data, length, &position, &value); break;
        case 1: status = length - position >= 8 ? (position += 8, 0) : -1; break;
        case 5: status = length - position >= 4 ? (position += 4, 0) : -1; break;
        case 2:
            status = read_varint(data, length, &position, &value);
            if (status == 0 && value > length - position) status = -1;
            if (status == 0) {
                content_start = position;
                content_length = (size_t)value;
                position += content_length;
            }
            break;
        default: status = -1;
        }
        if (status != 0) break;
        const ProtobufCFieldDescriptor *field =
            protobuf_c_message_descriptor_get_field(descriptor, (unsigned)(tag >> 3));
        if (field == NULL) {
            bytes_append(out, data + start, position - start);
            continue;
        }
        unsigned index = (unsigned)(field - descriptor->fields);
        int is_message = field->type == PROTOBUF_C_TYPE_MESSAGE;
        if (!wire_type_fits(field, tag & 7)) {
            status = -1;
            break;
        }
        if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            unsigned lead = index;
            for (unsigned other = 0; other < count; other++) {
                if ((descriptor->fields[other].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
                    descriptor->fields[other].quantifier_offset == field->quantifier_offset) {
                    lead = other;
                    break;
                }
            }
            int previous = oneof_member[lead];
            if (previous != (int)index || !is_message) {
                if (previous >= 0) pending[previous].content.length = 0;
            }
            oneof_member[lead] = (int)index;
            if (is_message) {
                bytes_append(&pending[index].content, data + content_start, content_length);
            } else {
                pending[index].last_start = start;
                pending[index].last_end = position;
            }
        } else if (is_message && field->label != PROTOBUF_C_LABEL_REPEATED) {
            pending[index].present = 1;
            bytes_append(&pending[index].content, data + content_start, content_length);
        } else if (is_message) {
            Bytes inner = {0};
            status = merged(field->descriptor, data + content_start, content_length, &inner, depth + 1);
            if (status == 0) {
                bytes_varint(out, tag);
                bytes_varint(out, inner.length);
                bytes_append(out, inner.data, inner.length);
            }
            free(inner.data);
        } else {
            bytes_append(out, data + start, position - start);
        }
    }
    for (unsigned index = 0; status == 0 && index < count; index++) {
        if (pending[index].present) status = write_merged_field(descriptor, index, &pending[index], data, out, depth);
        if (status == 0 && oneof_member[index] >= 0) {
            unsigned member = (unsigned)oneof_member[index];
            status = write_merged_field(descriptor, member, &pending[member], data, out, depth);
        }
    }
    for (unsigned index = 0; index < count; index++) free(pending[index].content.data);
    free(pending);
    free(oneof_member);
    return status;
}

static const ProtobufCMessageDescriptor *request_descriptor(int signal) {
    return signal == OTLP_ORACLE_TRACES
               ? &opentelemetry__proto__collector__trace__v1__export_trace_service_request__descriptor
               : &opentelemetry__proto__collector__logs__v1__export_logs_service_request__descriptor;
}

int otlp_oracle_dump(int signal, const uint8_t *bytes, size_t length, char **out) {
    Bytes canonical = {0};
    ProtobufCMessage *message;
    if (merged(request_descriptor(signal), bytes, length, &canonical, 0) == 0) {
        message = unpack(signal, canonical.data, canonical.length);
    } else {
        message = unpack(signal, bytes, length);
    }
    free(canonical.data);
    if (message == NULL) return -1;
    Text text = {malloc(4096), 0, 4096};
    text.data[0] = 0;
    dump_message(&text, message, 0);
    protobuf_c_message_free_unpacked(message, NULL);
    *out = text.data;
    return 0;
}

long otlp_oracle_unpack_count(int signal, const uint8_t *bytes, size_t length) {
    long records = 0;
    if (signal == OTLP_ORACLE_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *request =
            opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, length, bytes);
        if (request == NULL) return -1;
        for (size_t r = 0; r < request->n_resource_spans; r++)
            for (size_t s = 0; s < request->resource_spans[r]->n_scope_spans; s++)
                records += (long)request->resource_spans[r]->scope_spans[s]->n_spans;
        protobuf_c_message_free_unpacked(&request->base, NULL);
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *request =
            opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL, length, bytes);
        if (request == NULL) return -1;
        for (size_t r = 0; r < request->n_resource_logs; r++)
            for (size_t s = 0; s < request->resource_logs[r]->n_scope_logs; s++)
                records += (long)request->resource_logs[r]->scope_logs[s]->n_log_records;
        protobuf_c_message_free_unpacked(&request->base, NULL);
    }
    return records;
}

int otlp_oracle_repack(int signal, const uint8_t *bytes, size_t length, uint8_t **out, size_t *out_length) {
    ProtobufCMessage *message = unpack(signal, bytes, length);
    if (message == NULL) return -1;
    size_t size = protobuf_c_message_get_packed_size(message);
    *out = malloc(size ? size : 1);
    *out_length = protobuf_c_message_pack(message, *out);
    protobuf_c_message_free_unpacked(message, NULL);
    return 0;
}

void otlp_oracle_free(void *pointer) { free(pointer); }
