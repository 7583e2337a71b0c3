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

int otlp_oracle_dump(int signal, const uint8_t *bytes, size_t length, char **out) {
    ProtobufCMessage *message = unpack(signal, bytes, length);
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
