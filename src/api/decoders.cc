#include "api/decoders.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

namespace quiver::api {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

std::string child(std::string_view path, std::string_view key) {
  std::string out(path);
  if (!out.empty()) out.push_back('.');
  out.append(key);
  return out;
}

std::string item(std::string_view path, std::size_t i) {
  std::string out(path);
  out.push_back('[');
  out += std::to_string(i);
  out.push_back(']');
  return out;
}

const char* type_name(element_type t) {
  switch (t) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE: return "a number";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
  }
  return "a value";
}

// Collects field errors while a decoder walks a body.
class Errors {
 public:
  void add(std::string field, std::string message) {
    if (errors_.size() < kMaxFieldErrors) errors_.push_back({std::move(field), std::move(message)});
  }
  void wrong_type(std::string field, std::string_view expected, element got) {
    add(std::move(field),
        "expected " + std::string(expected) + ", got " + type_name(got.type()));
  }
  bool full() const { return errors_.size() >= kMaxFieldErrors; }
  bool empty() const { return errors_.empty(); }

  Status to_status() && {
    std::string msg;
    if (errors_.size() == 1) {
      const FieldError& e = errors_.front();
      msg = e.field.empty() ? e.message : e.field + ": " + e.message;
    } else {
      msg = "the request body has " + std::to_string(errors_.size()) + " invalid fields";
      if (full()) msg += " (only the first " + std::to_string(kMaxFieldErrors) + " are listed)";
    }
    return Status::invalid(std::move(msg), std::move(errors_));
  }

 private:
  std::vector<FieldError> errors_;
};

// The body (or a nested value) must be an object; otherwise one error and false.
bool as_object(element el, const std::string& path, Errors& errs, object* out) {
  if (el.type() != element_type::OBJECT) {
    errs.wrong_type(path, "a JSON object", el);
    return false;
  }
  *out = el.get_object().value_unsafe();
  return true;
}

bool known_key(std::string_view key, std::initializer_list<std::string_view> allowed) {
  for (std::string_view a : allowed) {
    if (a == key) return true;
  }
  return false;
}

void reject_unknown(object obj, const std::string& path,
                    std::initializer_list<std::string_view> allowed, Errors& errs) {
  for (auto field : obj) {
    if (!known_key(field.key, allowed)) errs.add(child(path, field.key), "unknown field");
  }
}

std::optional<element> find(object obj, std::string_view key) {
  element el;
  if (obj.at_key(key).get(el) != simdjson::SUCCESS) return std::nullopt;
  return el;
}

std::optional<std::string> read_string(element el, const std::string& path, Errors& errs) {
  std::string_view s;
  if (el.get_string().get(s) != simdjson::SUCCESS) {
    errs.wrong_type(path, "a string", el);
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<int64_t> read_int(element el, const std::string& path, Errors& errs) {
  switch (el.type()) {
    case element_type::INT64: return el.get_int64().value_unsafe();
    case element_type::UINT64: errs.add(path, "integer out of range"); return std::nullopt;
    default: errs.wrong_type(path, "an integer", el); return std::nullopt;
  }
}

// An integer in [lo, hi].
std::optional<uint32_t> read_uint32(element el, const std::string& path, int64_t lo, int64_t hi,
                                    Errors& errs) {
  std::optional<int64_t> v = read_int(el, path, errs);
  if (!v) return std::nullopt;
  if (*v < lo || *v > hi) {
    errs.add(path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return std::nullopt;
  }
  return static_cast<uint32_t>(*v);
}

std::optional<bool> read_bool(element el, const std::string& path, Errors& errs) {
  bool b = false;
  if (el.get_bool().get(b) != simdjson::SUCCESS) {
    errs.wrong_type(path, "a boolean", el);
    return std::nullopt;
  }
  return b;
}

// An array of finite float32 numbers.
std::optional<std::vector<float>> read_vector(element el, const std::string& path, Errors& errs) {
  array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) {
    errs.wrong_type(path, "an array of numbers", el);
    return std::nullopt;
  }
  std::vector<float> out;
  out.reserve(arr.size());
  bool ok = true;
  std::size_t j = 0;
  for (element v : arr) {
    double d = 0;
    if (v.get_double().get(d) != simdjson::SUCCESS) {
      errs.wrong_type(item(path, j), "a number", v);
      ok = false;
    } else {
      float f = static_cast<float>(d);
      if (!std::isfinite(f)) {
        errs.add(item(path, j), "must be a finite float32 number");
        ok = false;
      }
      out.push_back(f);
    }
    if (errs.full()) return std::nullopt;
    ++j;
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<engine::MetaValue> read_meta_value(element el, const std::string& path,
                                                 Errors& errs) {
  switch (el.type()) {
    case element_type::STRING: return std::string(el.get_string().value_unsafe());
    case element_type::INT64: return el.get_int64().value_unsafe();
    case element_type::UINT64: errs.add(path, "integer out of range"); return std::nullopt;
    case element_type::DOUBLE: return el.get_double().value_unsafe();
    case element_type::BOOL: return el.get_bool().value_unsafe();
    case element_type::ARRAY: {
      engine::StringList list;
      bool ok = true;
      std::size_t i = 0;
      const array arr = el.get_array().value_unsafe();
      for (element v : arr) {
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) {
          errs.add(item(path, i), std::string("expected a string (metadata arrays hold strings only), got ") +
                                      type_name(v.type()));
          ok = false;
        } else {
          list.emplace_back(s);
        }
        ++i;
      }
      if (!ok) return std::nullopt;
      return list;
    }
    case element_type::OBJECT:
      errs.add(path, "expected a string, number, boolean or array of strings, got an object");
      return std::nullopt;
    case element_type::NULL_VALUE:
      errs.add(path, "expected a string, number, boolean or array of strings, got null");
      return std::nullopt;
  }
  return std::nullopt;
}

bool server_owned(std::string_view key) { return key == "created_at" || key == "updated_at"; }

void read_metadata(element el, const std::string& path, Errors& errs, engine::Metadata* out) {
  object obj;
  if (!as_object(el, path, errs, &obj)) return;
  for (auto field : obj) {
    std::string p = child(path, field.key);
    if (server_owned(field.key)) {
      errs.add(std::move(p), "set by the server; it cannot be sent");
      continue;
    }
    if (auto v = read_meta_value(field.value, p, errs)) (*out)[std::string(field.key)] = std::move(*v);
  }
}

std::optional<engine::MetadataPatch> read_metadata_patch(element el, const std::string& path,
                                                         Errors& errs) {
  object obj;
  if (!as_object(el, path, errs, &obj)) return std::nullopt;
  engine::MetadataPatch patch;
  for (auto field : obj) {
    std::string p = child(path, field.key);
    if (server_owned(field.key)) {
      errs.add(std::move(p), "set by the server; it cannot be sent");
      continue;
    }
    if (field.value.is_null()) {
      patch[std::string(field.key)] = std::nullopt;
    } else if (auto v = read_meta_value(field.value, p, errs)) {
      patch[std::string(field.key)] = std::move(*v);
    }
  }
  return patch;
}

std::optional<engine::Metric> read_metric(element el, const std::string& path, Errors& errs) {
  auto s = read_string(el, path, errs);
  if (!s) return std::nullopt;
  if (*s == "cosine") return engine::Metric::kCosine;
  if (*s == "l2") return engine::Metric::kL2;
  if (*s == "dot") return engine::Metric::kDot;
  errs.add(path, "must be one of cosine, l2, dot");
  return std::nullopt;
}

// {"type", "params"}; with `type_required` false an object without type yields nullopt
// (only valid when params is also absent).
std::optional<engine::IndexConfig> read_index_config(object obj, const std::string& path,
                                                     Errors& errs) {
  reject_unknown(obj, path, {"type", "params"}, errs);
  engine::IndexConfig cfg;
  bool ok = true;
  if (auto t = find(obj, "type")) {
    if (auto s = read_string(*t, child(path, "type"), errs)) cfg.type = *s; else ok = false;
  } else {
    errs.add(child(path, "type"), "required");
    ok = false;
  }
  if (auto p = find(obj, "params"); p && !p->is_null()) {
    std::string ppath = child(path, "params");
    object params;
    if (as_object(*p, ppath, errs, &params)) {
      for (auto field : params) {
        if (auto v = read_int(field.value, child(ppath, field.key), errs)) {
          cfg.params[std::string(field.key)] = *v;
        } else {
          ok = false;
        }
      }
    } else {
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return cfg;
}

std::optional<engine::EmbedderConfig> read_embedder(element el, const std::string& path,
                                                    Errors& errs) {
  object obj;
  if (!as_object(el, path, errs, &obj)) return std::nullopt;
  reject_unknown(obj, path, {"provider", "model", "dimension", "base_url", "api_key_env"}, errs);
  engine::EmbedderConfig cfg;
  if (auto v = find(obj, "provider")) {
    if (auto s = read_string(*v, child(path, "provider"), errs)) cfg.provider = *s;
  } else {
    errs.add(child(path, "provider"), "required");
  }
  if (auto v = find(obj, "model"); v && !v->is_null()) {
    if (auto s = read_string(*v, child(path, "model"), errs)) cfg.model = *s;
  }
  if (auto v = find(obj, "dimension"); v && !v->is_null()) {
    if (auto d = read_uint32(*v, child(path, "dimension"), 1, engine::kMaxDimension, errs)) {
      cfg.dimension = *d;
    }
  }
  if (auto v = find(obj, "base_url"); v && !v->is_null()) {
    cfg.base_url = read_string(*v, child(path, "base_url"), errs);
  }
  if (auto v = find(obj, "api_key_env"); v && !v->is_null()) {
    cfg.api_key_env = read_string(*v, child(path, "api_key_env"), errs);
  }
  return cfg;
}

// An optional string field: absent or null -> nullopt.
std::optional<std::string> opt_string(object obj, std::string_view key, const std::string& path,
                                      Errors& errs) {
  auto v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  return read_string(*v, child(path, key), errs);
}

// A nullable string in a PATCH: absent -> nullopt; null -> clear; string -> set.
std::optional<std::optional<std::string>> patch_string(object obj, std::string_view key,
                                                       Errors& errs) {
  auto v = find(obj, key);
  if (!v) return std::nullopt;
  if (v->is_null()) return std::optional<std::string>();
  auto s = read_string(*v, std::string(key), errs);
  if (!s) return std::nullopt;
  return std::optional<std::string>(std::move(*s));
}

void read_chunk_input(element el, const std::string& path, Errors& errs, engine::ChunkInput* out) {
  object obj;
  if (!as_object(el, path, errs, &obj)) return;
  reject_unknown(obj, path, {"id", "text", "embedding", "metadata"}, errs);
  out->id = opt_string(obj, "id", path, errs);
  if (auto v = find(obj, "text")) {
    out->text = read_string(*v, child(path, "text"), errs);
  } else {
    errs.add(child(path, "text"), "required");
  }
  if (auto v = find(obj, "embedding"); v && !v->is_null()) {
    out->embedding = read_vector(*v, child(path, "embedding"), errs);
  }
  if (auto v = find(obj, "metadata"); v && !v->is_null()) {
    read_metadata(*v, child(path, "metadata"), errs, &out->metadata);
  }
}

void read_chunk_list(element el, const std::string& path, Errors& errs,
                     std::vector<engine::ChunkInput>* out) {
  array arr;
  if (el.get_array().get(arr) != simdjson::SUCCESS) {
    errs.wrong_type(path, "an array of chunks", el);
    return;
  }
  out->resize(arr.size());
  std::size_t i = 0;
  for (element c : arr) {
    read_chunk_input(c, item(path, i), errs, &(*out)[i]);
    if (errs.full()) return;
    ++i;
  }
}

template <typename T>
Result<T> finish(Errors& errs, T value) {
  if (!errs.empty()) return std::move(errs).to_status();
  return value;
}

}  // namespace

Result<engine::LibraryCreate> decode_library_create(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "",
                 {"id", "name", "description", "dimension", "metric", "index", "embedder",
                  "metadata"},
                 errs);
  engine::LibraryCreate in;
  in.id = opt_string(obj, "id", "", errs);
  if (auto v = find(obj, "name")) {
    if (auto s = read_string(*v, "name", errs)) in.name = *s;
  } else {
    errs.add("name", "required");
  }
  in.description = opt_string(obj, "description", "", errs);
  if (auto v = find(obj, "dimension"); v && !v->is_null()) {
    in.dimension = read_uint32(*v, "dimension", 1, engine::kMaxDimension, errs);
  }
  if (auto v = find(obj, "metric"); v && !v->is_null()) in.metric = read_metric(*v, "metric", errs);
  if (auto v = find(obj, "index"); v && !v->is_null()) {
    object idx;
    if (as_object(*v, "index", errs, &idx)) in.index = read_index_config(idx, "index", errs);
  }
  if (auto v = find(obj, "embedder"); v && !v->is_null()) {
    in.embedder = read_embedder(*v, "embedder", errs);
  }
  if (auto v = find(obj, "metadata"); v && !v->is_null()) {
    read_metadata(*v, "metadata", errs, &in.metadata);
  }
  return finish(errs, std::move(in));
}

Result<engine::LibraryPatch> decode_library_patch(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"name", "description", "dimension", "metric", "index", "metadata"},
                 errs);
  engine::LibraryPatch in;
  if (auto v = find(obj, "name")) in.name = read_string(*v, "name", errs);
  in.description = patch_string(obj, "description", errs);
  if (auto v = find(obj, "dimension")) {
    in.dimension = read_uint32(*v, "dimension", 1, engine::kMaxDimension, errs);
  }
  if (auto v = find(obj, "metric")) in.metric = read_metric(*v, "metric", errs);
  if (auto v = find(obj, "index")) {
    object idx;
    if (as_object(*v, "index", errs, &idx)) in.index = read_index_config(idx, "index", errs);
  }
  if (auto v = find(obj, "metadata")) in.metadata = read_metadata_patch(*v, "metadata", errs);
  return finish(errs, std::move(in));
}

Result<engine::DocumentCreate> decode_document_create(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"id", "title", "metadata", "chunks"}, errs);
  engine::DocumentCreate in;
  in.id = opt_string(obj, "id", "", errs);
  in.title = opt_string(obj, "title", "", errs);
  if (auto v = find(obj, "metadata"); v && !v->is_null()) {
    read_metadata(*v, "metadata", errs, &in.metadata);
  }
  if (auto v = find(obj, "chunks"); v && !v->is_null()) {
    read_chunk_list(*v, "chunks", errs, &in.chunks);
    if (in.chunks.size() > engine::kMaxChunksPerRequest) {
      errs.add("chunks", "at most " + std::to_string(engine::kMaxChunksPerRequest) +
                             " chunks per request");
    }
  }
  return finish(errs, std::move(in));
}

Result<engine::DocumentPatch> decode_document_patch(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"title", "metadata"}, errs);
  engine::DocumentPatch in;
  in.title = patch_string(obj, "title", errs);
  if (auto v = find(obj, "metadata")) in.metadata = read_metadata_patch(*v, "metadata", errs);
  return finish(errs, std::move(in));
}

Result<std::vector<engine::ChunkInput>> decode_chunks_create(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"chunks"}, errs);
  std::vector<engine::ChunkInput> chunks;
  if (auto v = find(obj, "chunks")) {
    read_chunk_list(*v, "chunks", errs, &chunks);
    if (errs.empty() && (chunks.empty() || chunks.size() > engine::kMaxChunksPerRequest)) {
      errs.add("chunks", "must hold 1 to " + std::to_string(engine::kMaxChunksPerRequest) +
                             " chunks");
    }
  } else {
    errs.add("chunks", "required");
  }
  return finish(errs, std::move(chunks));
}

Result<engine::ChunkPatch> decode_chunk_patch(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"text", "embedding", "metadata"}, errs);
  engine::ChunkPatch in;
  if (auto v = find(obj, "text")) in.text = read_string(*v, "text", errs);
  if (auto v = find(obj, "embedding")) in.embedding = read_vector(*v, "embedding", errs);
  if (auto v = find(obj, "metadata")) in.metadata = read_metadata_patch(*v, "metadata", errs);
  return finish(errs, std::move(in));
}

Result<engine::SearchRequest> decode_search(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  reject_unknown(obj, "", {"vector", "text", "k", "filter", "include", "params"}, errs);
  engine::SearchRequest in;
  auto vec = find(obj, "vector");
  auto text = find(obj, "text");
  if (vec && !vec->is_null()) in.vector = read_vector(*vec, "vector", errs);
  if (text && !text->is_null()) in.text = read_string(*text, "text", errs);
  const bool has_vector = vec && !vec->is_null();
  const bool has_text = text && !text->is_null();
  if (has_vector && has_text) errs.add("text", "give exactly one of vector or text, not both");
  if (!has_vector && !has_text) errs.add("vector", "required (or text, with an embedder)");
  if (auto v = find(obj, "k"); v && !v->is_null()) {
    if (auto k = read_uint32(*v, "k", 1, engine::kMaxK, errs)) in.k = *k;
  }
  if (auto v = find(obj, "filter"); v && !v->is_null()) {
    // Metadata filters are a later issue; an empty filter is harmless, any other would
    // silently widen the results, so it is refused.
    object f;
    if (as_object(*v, "filter", errs, &f) && f.size() != 0) {
      errs.add("filter", "metadata filters are not supported yet");
    }
  }
  if (auto v = find(obj, "include"); v && !v->is_null()) {
    array arr;
    if (v->get_array().get(arr) != simdjson::SUCCESS) {
      errs.wrong_type("include", "an array of strings", *v);
    } else {
      in.include_text = in.include_metadata = in.include_embedding = false;
      std::size_t i = 0;
      for (element e : arr) {
        std::string p = item("include", i++);
        auto s = read_string(e, p, errs);
        if (!s) continue;
        if (*s == "text") in.include_text = true;
        else if (*s == "metadata") in.include_metadata = true;
        else if (*s == "embedding") in.include_embedding = true;
        else errs.add(p, "must be one of text, metadata, embedding");
      }
    }
  }
  if (auto v = find(obj, "params"); v && !v->is_null()) {
    object params;
    if (as_object(*v, "params", errs, &params)) {
      reject_unknown(params, "params", {"ef", "nprobe", "exact"}, errs);
      constexpr int64_t kU32Max = std::numeric_limits<uint32_t>::max();
      if (auto e = find(params, "ef"); e && !e->is_null()) {
        in.params.ef = read_uint32(*e, "params.ef", 1, kU32Max, errs);
      }
      if (auto e = find(params, "nprobe"); e && !e->is_null()) {
        in.params.nprobe = read_uint32(*e, "params.nprobe", 1, kU32Max, errs);
      }
      if (auto e = find(params, "exact"); e && !e->is_null()) {
        if (auto b = read_bool(*e, "params.exact", errs)) in.exact = *b;
      }
    }
  }
  return finish(errs, std::move(in));
}

Result<std::optional<engine::IndexConfig>> decode_index_rebuild(element root) {
  Errors errs;
  object obj;
  if (!as_object(root, "", errs, &obj)) return std::move(errs).to_status();
  if (obj.size() == 0) return std::optional<engine::IndexConfig>();
  auto cfg = read_index_config(obj, "", errs);
  if (!errs.empty()) return std::move(errs).to_status();
  return std::optional<engine::IndexConfig>(std::move(cfg));
}

}  // namespace quiver::api
