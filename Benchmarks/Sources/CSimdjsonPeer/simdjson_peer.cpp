// The simdjson On-Demand peer (see simdjson_peer.h). Error codes, not exceptions, so it builds
// with or without them.
#include "simdjson_peer.h"

#include <simdjson.h>

using namespace simdjson;

namespace {

// What the walk read, kept so the compiler cannot drop the reads.
volatile uint64_t touched;

// Touches `value` and everything inside it: keys and strings unescaped, numbers parsed.
error_code touch(ondemand::value value, uint64_t &sink) {
    ondemand::json_type type;
    if (auto error = value.type().get(type)) return error;
    switch (type) {
    case ondemand::json_type::object: {
        ondemand::object object;
        if (auto error = value.get_object().get(object)) return error;
        for (auto field : object) {
            std::string_view key;
            if (auto error = field.unescaped_key().get(key)) return error;
            sink += key.size();
            ondemand::value child;
            if (auto error = field.value().get(child)) return error;
            if (auto error = touch(child, sink)) return error;
        }
        return SUCCESS;
    }
    case ondemand::json_type::array: {
        ondemand::array array;
        if (auto error = value.get_array().get(array)) return error;
        for (auto element : array) {
            ondemand::value child;
            if (auto error = element.get(child)) return error;
            if (auto error = touch(child, sink)) return error;
        }
        return SUCCESS;
    }
    case ondemand::json_type::string: {
        std::string_view text;
        if (auto error = value.get_string().get(text)) return error;
        sink += text.size();
        return SUCCESS;
    }
    case ondemand::json_type::number: {
        double number;
        if (auto error = value.get_double().get(number)) return error;
        sink += static_cast<uint64_t>(number);
        return SUCCESS;
    }
    case ondemand::json_type::boolean: {
        bool flag;
        if (auto error = value.get_bool().get(flag)) return error;
        sink += flag;
        return SUCCESS;
    }
    case ondemand::json_type::null:
        return value.is_null() ? SUCCESS : INCORRECT_TYPE;
    }
    return INCORRECT_TYPE;
}

// Walks one request down to its spans, touching each resource, scope and span whole.
error_code walk_request(ondemand::document_reference request, long &spans, uint64_t &sink) {
    ondemand::object root;
    if (auto error = request.get_object().get(root)) return error;
    for (auto field : root) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        if (key != "resourceSpans") continue;
        ondemand::array resources;
        if (auto error = field.value().get_array().get(resources)) return error;
        for (auto resource_element : resources) {
            ondemand::object resource;
            if (auto error = resource_element.get_object().get(resource)) return error;
            for (auto resource_field : resource) {
                std::string_view resource_key;
                if (auto error = resource_field.unescaped_key().get(resource_key)) return error;
                ondemand::value resource_value;
                if (auto error = resource_field.value().get(resource_value)) return error;
                if (resource_key != "scopeSpans") {
                    if (auto error = touch(resource_value, sink)) return error;
                    continue;
                }
                ondemand::array scopes;
                if (auto error = resource_value.get_array().get(scopes)) return error;
                for (auto scope_element : scopes) {
                    ondemand::object scope;
                    if (auto error = scope_element.get_object().get(scope)) return error;
                    for (auto scope_field : scope) {
                        std::string_view scope_key;
                        if (auto error = scope_field.unescaped_key().get(scope_key)) return error;
                        ondemand::value scope_value;
                        if (auto error = scope_field.value().get(scope_value)) return error;
                        if (scope_key != "spans") {
                            if (auto error = touch(scope_value, sink)) return error;
                            continue;
                        }
                        ondemand::array span_array;
                        if (auto error = scope_value.get_array().get(span_array)) return error;
                        for (auto span_element : span_array) {
                            ondemand::value span;
                            if (auto error = span_element.get(span)) return error;
                            if (auto error = touch(span, sink)) return error;
                            spans += 1;
                        }
                    }
                }
            }
        }
    }
    return SUCCESS;
}

}  // namespace

extern "C" size_t peer_simdjson_padding(void) { return SIMDJSON_PADDING; }

extern "C" long peer_simdjson_traces(const char *bytes, size_t length, size_t capacity) {
    thread_local ondemand::parser parser;
    if (capacity < length + SIMDJSON_PADDING) return -1;
    ondemand::document_stream stream;
    // A batch must hold the longest line; 64 MiB holds any request the decoders accept by default.
    if (parser.iterate_many(bytes, length, 64 << 20).get(stream)) return -1;
    long spans = 0;
    uint64_t sink = 0;
    for (auto document : stream) {
        ondemand::document_reference request;
        if (std::move(document).get(request)) return -1;
        if (walk_request(request, spans, sink)) return -1;
    }
    if (stream.truncated_bytes() != 0) return -1;
    touched = sink;
    return spans;
}
