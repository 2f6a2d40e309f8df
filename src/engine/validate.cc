#include "engine/validate.h"

#include <cmath>
#include <string>
#include <unordered_map>

#include "common/ids.h"
#include "embed/embedder.h"
#include "engine/schema.h"
#include "index/registry.h"

namespace quiver::engine {
namespace {

constexpr std::size_t kMaxListedErrors = 5;

std::string too_long(std::size_t max_bytes, std::size_t got) {
  return "must be at most " + std::to_string(max_bytes) + " bytes, got " + std::to_string(got);
}

std::string out_of_range(uint64_t lo, uint64_t hi, uint64_t got) {
  return "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " +
         std::to_string(got);
}

std::string element(std::string_view array, std::size_t i) {
  std::string path(array);
  path += '[';
  path += std::to_string(i);
  path += ']';
  return path;
}

std::string member(std::string_view object, std::string_view field) {
  std::string path(object);
  path += '.';
  path.append(field);
  return path;
}

// Folds another module's verdict into `errors`. A failure without field errors (which a
// well-behaved validator should not produce) is still reported, under `field`.
void merge(const Status& s, std::string_view field, std::vector<FieldError>& errors) {
  if (s.is_ok()) return;
  if (s.field_errors().empty()) {
    errors.push_back({std::string(field), s.message()});
    return;
  }
  errors.insert(errors.end(), s.field_errors().begin(), s.field_errors().end());
}

void check_id(const std::optional<std::string>& id, const std::string& path,
              std::vector<FieldError>& errors) {
  if (id.has_value() && !is_valid_id(*id)) {
    errors.push_back({path, "must match ^[A-Za-z0-9_.:-]{1,128}$"});
  }
}

void check_name(const std::string& name, std::vector<FieldError>& errors) {
  if (name.empty()) {
    errors.push_back({"name", "must not be empty"});
  } else if (!is_valid_library_name(name)) {
    errors.push_back({"name", "must match ^[A-Za-z0-9_.-]{1,128}$"});
  }
}

void check_short_string(const std::string& s, const std::string& path,
                        std::vector<FieldError>& errors) {
  if (s.size() > kMaxStringFieldBytes) {
    errors.push_back({path, too_long(kMaxStringFieldBytes, s.size())});
  }
}

void check_dimension(uint32_t dimension, std::vector<FieldError>& errors) {
  if (dimension < 1 || dimension > kMaxDimension) {
    errors.push_back({"dimension", out_of_range(1, kMaxDimension, dimension)});
  }
}

void check_index(const IndexConfig& config, std::vector<FieldError>& errors) {
  merge(index::normalize_index_config(config, "index").status(), "index", errors);
}

void check_text_size(const std::string& text, const std::string& path,
                     std::vector<FieldError>& errors) {
  if (text.size() > kMaxTextBytes) errors.push_back({path, too_long(kMaxTextBytes, text.size())});
}

void check_chunk(const ChunkInput& c, const Library& lib, const std::string& path,
                 std::vector<FieldError>& errors) {
  check_id(c.id, member(path, "id"), errors);
  if (!c.text.has_value()) {
    errors.push_back({member(path, "text"), "required"});
  } else if (c.text->empty() && !c.embedding.has_value()) {
    // An empty text has nothing to embed and nothing to show in a hit.
    errors.push_back({member(path, "text"), "must not be empty unless an embedding is given"});
  } else {
    check_text_size(*c.text, member(path, "text"), errors);
  }
  if (c.embedding.has_value()) {
    validate_vector(*c.embedding, lib, member(path, "embedding"), errors);
  } else if (!lib.embedder.has_value()) {
    errors.push_back({member(path, "embedding"), "required (the library has no embedder)"});
  }
  validate_metadata(ResourceKind::kChunk, c.metadata, member(path, "metadata"), errors);
}

}  // namespace

void validate_vector(const std::vector<float>& v, const Library& lib, std::string_view field,
                     std::vector<FieldError>& errors) {
  if (v.size() != lib.dimension) {
    errors.push_back({std::string(field), "expected " + std::to_string(lib.dimension) +
                                              " numbers, got " + std::to_string(v.size())});
    return;
  }
  // Summed in float, as the distance kernels do, so "overflows" means what they will see.
  float sum_sq = 0.0f;
  bool all_zero = true;
  for (std::size_t j = 0; j < v.size(); ++j) {
    if (!std::isfinite(v[j])) {
      // Name only the first bad element: a vector of 16384 NaNs is one mistake, not 16384.
      errors.push_back({element(field, j), "must be a finite number"});
      return;
    }
    if (v[j] != 0.0f) all_zero = false;
    sum_sq += v[j] * v[j];
  }
  if (lib.metric == Metric::kCosine && all_zero) {
    errors.push_back(
        {std::string(field), "a zero vector has no direction under the cosine metric"});
  } else if (!std::isfinite(sum_sq)) {
    errors.push_back(
        {std::string(field), "values too large: the squared length overflows float32"});
  } else if (lib.metric == Metric::kCosine && sum_sq == 0.0f) {
    errors.push_back({std::string(field),
                      "values too small: the length underflows to zero in float32, which gives "
                      "no direction under the cosine metric"});
  }
}

void validate_library_create(const LibraryCreate& in, std::vector<FieldError>& errors) {
  check_id(in.id, "id", errors);
  check_name(in.name, errors);
  if (in.description.has_value()) check_short_string(*in.description, "description", errors);
  if (in.dimension.has_value()) {
    check_dimension(*in.dimension, errors);
    if (in.embedder.has_value() && in.embedder->dimension != *in.dimension) {
      errors.push_back({"dimension", "must equal embedder.dimension (" +
                                         std::to_string(in.embedder->dimension) + "), got " +
                                         std::to_string(*in.dimension)});
    }
  } else if (!in.embedder.has_value()) {
    errors.push_back({"dimension", "required unless an embedder gives it"});
  }
  if (in.index.has_value()) check_index(*in.index, errors);
  if (in.embedder.has_value())
    merge(embed::validate_config(*in.embedder, "embedder"), "embedder", errors);
  validate_metadata(ResourceKind::kLibrary, in.metadata, "metadata", errors);
}

void validate_library_patch(const LibraryPatch& in, std::vector<FieldError>& errors) {
  if (in.name.has_value()) check_name(*in.name, errors);
  if (in.description.has_value() && in.description->has_value()) {
    check_short_string(**in.description, "description", errors);
  }
  if (in.dimension.has_value()) check_dimension(*in.dimension, errors);
  if (in.index.has_value()) check_index(*in.index, errors);
  if (in.metadata.has_value()) {
    validate_metadata_patch(ResourceKind::kLibrary, *in.metadata, "metadata", errors);
  }
}

void validate_document_create(const DocumentCreate& in, const Library& lib,
                              std::vector<FieldError>& errors) {
  check_id(in.id, "id", errors);
  if (in.title.has_value()) check_short_string(*in.title, "title", errors);
  validate_metadata(ResourceKind::kDocument, in.metadata, "metadata", errors);
  validate_chunk_inputs(in.chunks, lib, "chunks", errors, ChunkCount::kZeroOrMore);
}

void validate_document_patch(const DocumentPatch& in, std::vector<FieldError>& errors) {
  if (in.title.has_value() && in.title->has_value()) {
    check_short_string(**in.title, "title", errors);
  }
  if (in.metadata.has_value()) {
    validate_metadata_patch(ResourceKind::kDocument, *in.metadata, "metadata", errors);
  }
}

void validate_chunk_inputs(const std::vector<ChunkInput>& in, const Library& lib,
                           std::string_view prefix, std::vector<FieldError>& errors,
                           ChunkCount count) {
  const std::size_t min = count == ChunkCount::kOneOrMore ? 1 : 0;
  if (in.size() < min || in.size() > kMaxChunksPerRequest) {
    errors.push_back({std::string(prefix), "must hold " + std::to_string(min) + " to " +
                                               std::to_string(kMaxChunksPerRequest) +
                                               " chunks, got " + std::to_string(in.size())});
    return;
  }
  // id -> index of its first occurrence; views into `in`, which outlives the map.
  std::unordered_map<std::string_view, std::size_t> first_seen;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string path = element(prefix, i);
    check_chunk(in[i], lib, path, errors);
    if (!in[i].id.has_value()) continue;
    auto [it, inserted] = first_seen.emplace(*in[i].id, i);
    if (!inserted) {
      errors.push_back(
          {member(path, "id"), "duplicates " + member(element(prefix, it->second), "id")});
    }
  }
}

void validate_chunk_patch(const ChunkPatch& in, const Library& lib,
                          std::vector<FieldError>& errors) {
  if (in.text.has_value()) {
    if (in.text->empty() && !in.embedding.has_value()) {
      errors.push_back({"text", "must not be empty unless an embedding is given"});
    } else {
      check_text_size(*in.text, "text", errors);
    }
    if (!in.embedding.has_value() && !lib.embedder.has_value()) {
      // The stored embedding would no longer describe the text.
      errors.push_back({"embedding", "required when text changes and the library has no embedder"});
    }
  }
  if (in.embedding.has_value()) validate_vector(*in.embedding, lib, "embedding", errors);
  if (in.metadata.has_value()) {
    validate_metadata_patch(ResourceKind::kChunk, *in.metadata, "metadata", errors);
  }
}

void validate_search(const SearchRequest& in, const Library& lib, std::vector<FieldError>& errors) {
  if (in.vector.has_value() && in.text.has_value()) {
    errors.push_back({"text", "give either vector or text, not both"});
  } else if (!in.vector.has_value() && !in.text.has_value()) {
    errors.push_back({"vector", "required (or text)"});
  } else if (in.vector.has_value()) {
    validate_vector(*in.vector, lib, "vector", errors);
  } else if (!lib.embedder.has_value()) {
    errors.push_back({"text", "the library has no embedder; send a vector instead"});
  } else if (in.text->empty()) {
    errors.push_back({"text", "must not be empty"});
  } else {
    check_text_size(*in.text, "text", errors);
  }
  if (in.k < 1 || in.k > kMaxK) errors.push_back({"k", out_of_range(1, kMaxK, in.k)});
  merge(index::validate_search_params(in.params, "params"), "params", errors);
}

void validate_page(const PageRequest& in, std::vector<FieldError>& errors) {
  if (in.limit < 1 || in.limit > kMaxPageLimit) {
    errors.push_back({"limit", out_of_range(1, kMaxPageLimit, in.limit)});
  }
}

Status errors_to_status(std::vector<FieldError> errors) {
  if (errors.empty()) return Status::ok();
  std::string detail = std::to_string(errors.size()) + " invalid field(s): ";
  for (std::size_t i = 0; i < errors.size() && i < kMaxListedErrors; ++i) {
    if (i > 0) detail += "; ";
    if (!errors[i].field.empty()) {
      detail += errors[i].field;
      detail += ": ";
    }
    detail += errors[i].message;
  }
  return Status::invalid(std::move(detail), std::move(errors));
}

}  // namespace quiver::engine
