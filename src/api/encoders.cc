#include "api/encoders.h"

#include <type_traits>
#include <variant>

#include "common/time.h"

namespace quiver::api {
namespace {

void write_meta_value(JsonWriter& w, const engine::MetaValue& v) {
  std::visit(
      [&w](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string>) {
          w.string(x);
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.int64(x);
        } else if constexpr (std::is_same_v<T, double>) {
          w.float64(x);
        } else if constexpr (std::is_same_v<T, bool>) {
          w.boolean(x);
        } else {
          w.begin_array();
          for (const std::string& s : x) w.string(s);
          w.end_array();
        }
      },
      v);
}

void write_optional_string(JsonWriter& w, const std::optional<std::string>& s) {
  if (s) w.string(*s); else w.null();
}

void write_params(JsonWriter& w, const engine::IndexConfig& config) {
  w.begin_object();
  for (const auto& [name, value] : config.params) {
    w.key(name);
    w.int64(value);
  }
  w.end_object();
}

void write_floats(JsonWriter& w, const std::vector<float>& v) {
  w.begin_array();
  for (float f : v) w.float32(f);
  w.end_array();
}

void write_index_status_fields(JsonWriter& w, const engine::IndexStatus& s) {
  w.key("type");
  w.string(s.type);
  w.key("state");
  w.string(s.state);
  w.key("indexed_chunks");
  w.uint64(s.indexed_chunks);
  w.key("pending_chunks");
  w.uint64(s.pending_chunks);
}

}  // namespace

const char* metric_to_string(engine::Metric m) {
  switch (m) {
    case engine::Metric::kCosine: return "cosine";
    case engine::Metric::kL2: return "l2";
    case engine::Metric::kDot: return "dot";
  }
  return "cosine";
}

void write_metadata(JsonWriter& w, const engine::Metadata& m, engine::TimestampMs created_at,
                    engine::TimestampMs updated_at) {
  w.begin_object();
  for (const auto& [name, value] : m) {
    w.key(name);
    write_meta_value(w, value);
  }
  w.key("created_at");
  w.string(format_rfc3339_ms(created_at));
  w.key("updated_at");
  w.string(format_rfc3339_ms(updated_at));
  w.end_object();
}

void write_library(JsonWriter& w, const engine::LibraryView& v) {
  const engine::Library& l = v.library;
  w.begin_object();
  w.key("id");
  w.string(l.id);
  w.key("name");
  w.string(l.name);
  w.key("description");
  write_optional_string(w, l.description);
  w.key("dimension");
  w.uint64(l.dimension);
  w.key("metric");
  w.string(metric_to_string(l.metric));
  w.key("index");
  w.begin_object();
  w.key("type");
  w.string(l.index.type);
  w.key("params");
  write_params(w, l.index);
  w.end_object();
  w.key("embedder");
  if (l.embedder) {
    const engine::EmbedderConfig& e = *l.embedder;
    w.begin_object();
    w.key("provider");
    w.string(e.provider);
    w.key("model");
    w.string(e.model);
    w.key("dimension");
    w.uint64(e.dimension);
    w.key("base_url");
    write_optional_string(w, e.base_url);
    w.key("api_key_env");
    write_optional_string(w, e.api_key_env);
    w.end_object();
  } else {
    w.null();
  }
  w.key("metadata");
  write_metadata(w, l.metadata, l.created_at, l.updated_at);
  w.key("version");
  w.uint64(l.version);
  w.key("stats");
  w.begin_object();
  w.key("document_count");
  w.uint64(v.stats.document_count);
  w.key("chunk_count");
  w.uint64(v.stats.chunk_count);
  w.end_object();
  w.key("index_status");
  w.begin_object();
  write_index_status_fields(w, v.index_status);
  w.end_object();
  w.end_object();
}

void write_document(JsonWriter& w, const engine::Document& d) {
  w.begin_object();
  w.key("id");
  w.string(d.id);
  w.key("library_id");
  w.string(d.library_id);
  w.key("title");
  write_optional_string(w, d.title);
  w.key("metadata");
  write_metadata(w, d.metadata, d.created_at, d.updated_at);
  w.key("chunk_count");
  w.uint64(d.chunk_count);
  w.key("version");
  w.uint64(d.version);
  w.end_object();
}

void write_chunk(JsonWriter& w, const engine::Chunk& c) {
  w.begin_object();
  w.key("id");
  w.string(c.id);
  w.key("library_id");
  w.string(c.library_id);
  w.key("document_id");
  w.string(c.document_id);
  w.key("text");
  w.string(c.text);
  w.key("metadata");
  write_metadata(w, c.metadata, c.created_at, c.updated_at);
  w.key("version");
  w.uint64(c.version);
  if (c.embedding) {
    w.key("embedding");
    write_floats(w, *c.embedding);
  }
  w.end_object();
}

void write_index_info(JsonWriter& w, const engine::IndexStatus& s,
                      const engine::IndexConfig& config) {
  w.begin_object();
  write_index_status_fields(w, s);
  w.key("params");
  write_params(w, config);
  w.end_object();
}

void write_search_response(JsonWriter& w, const engine::SearchResponse& r) {
  w.begin_object();
  w.key("results");
  w.begin_array();
  for (const engine::SearchHit& h : r.results) {
    w.begin_object();
    w.key("chunk_id");
    w.string(h.chunk_id);
    w.key("document_id");
    w.string(h.document_id);
    w.key("score");
    w.float32(h.score);
    if (h.text) {
      w.key("text");
      w.string(*h.text);
    }
    if (h.metadata) {
      w.key("metadata");
      write_metadata(w, *h.metadata, h.created_at, h.updated_at);
    }
    if (h.embedding) {
      w.key("embedding");
      write_floats(w, *h.embedding);
    }
    w.end_object();
  }
  w.end_array();
  w.key("index");
  w.string(r.index);
  w.key("exact");
  w.boolean(r.exact);
  w.end_object();
}

}  // namespace quiver::api
