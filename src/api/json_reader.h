// Parsing request bodies: simdjson's DOM parser for speed (ingest bodies are mostly big
// float arrays), with precise diagnostics on the error path only.
//
// Thread-safety: parse_json uses one parser per thread; the returned element points into
// that parser and stays valid until the next parse_json call on the same thread. Handlers
// decode the element completely before returning, so this never crosses a request.
#pragma once

#include <cstddef>
#include <string>

#include <simdjson.h>

#include "common/status.h"

namespace quiver::api {

// Deepest nesting of arrays/objects a request body may have.
inline constexpr std::size_t kMaxJsonDepth = 64;

// Parses `body` as exactly one JSON document. Errors (all kMalformed, one FieldError on
// field ""): syntax errors and invalid UTF-8 report the byte offset ("... at byte 17");
// nesting deeper than kMaxJsonDepth says so. Bodies whose capacity leaves
// SIMDJSON_PADDING spare bytes are parsed in place; others are copied once.
Result<simdjson::dom::element> parse_json(const std::string& body);

// Frees this thread's parser buffers when a big body grew them past a few MiB (the DOM
// parser needs several bytes per input byte), so one 64 MiB upload does not pin hundreds
// of MiB per worker thread. REQUIRES: no element from parse_json on this thread is in use.
void trim_thread_parser();

// The byte offset and a reason for the first syntax or encoding error in `text`, found by
// a second, slower validating pass; used only after the fast parser rejected `text`.
// Returns false when the validating pass finds no error.
bool locate_json_error(std::string_view text, std::size_t* offset, std::string* reason);

}  // namespace quiver::api
