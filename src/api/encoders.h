// Engine values -> response JSON, in the shapes fixed by the wire decisions: every field is
// always present (absent optional values are null), timestamps are rendered into
// `metadata` as created_at / updated_at (RFC 3339 UTC, milliseconds).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "api/json_writer.h"
#include "engine/types.h"

namespace quiver::api {

void write_library(JsonWriter& w, const engine::LibraryView& v);
void write_document(JsonWriter& w, const engine::Document& d);
// The chunk; "embedding" only when the chunk carries one (GET with ?include=embedding).
void write_chunk(JsonWriter& w, const engine::Chunk& c);
// {"type","state","indexed_chunks","pending_chunks","params":{...}}
void write_index_info(JsonWriter& w, const engine::IndexStatus& s,
                      const engine::IndexConfig& config);
void write_search_response(JsonWriter& w, const engine::SearchResponse& r);
void write_metadata(JsonWriter& w, const engine::Metadata& m, engine::TimestampMs created_at,
                    engine::TimestampMs updated_at);

// {"items":[...],"next_cursor":...} with `write_item` rendering each element.
template <typename T, typename F>
void write_page(JsonWriter& w, const engine::Page<T>& page, F write_item) {
  w.begin_object();
  w.key("items");
  w.begin_array();
  for (const T& item : page.items) write_item(w, item);
  w.end_array();
  w.key("next_cursor");
  if (page.next_cursor) w.string(*page.next_cursor); else w.null();
  w.end_object();
}

const char* metric_to_string(engine::Metric m);

}  // namespace quiver::api
