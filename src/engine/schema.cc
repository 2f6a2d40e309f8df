#include "engine/schema.h"

#include <algorithm>
#include <string>

namespace quiver::engine {
namespace {

enum class FieldType { kString, kNonNegativeInt, kStringList };

struct FieldSpec {
  std::string_view name;
  FieldType type;
};

// Sorted by name within each kind, so "allowed: ..." lists read alphabetically.
constexpr FieldSpec kLibraryFields[] = {
    {"owner", FieldType::kString},
    {"tags", FieldType::kStringList},
};
constexpr FieldSpec kDocumentFields[] = {
    {"author", FieldType::kString},
    {"language", FieldType::kString},
    {"source", FieldType::kString},
    {"tags", FieldType::kStringList},
};
constexpr FieldSpec kChunkFields[] = {
    {"page", FieldType::kNonNegativeInt},
    {"position", FieldType::kNonNegativeInt},
    {"section", FieldType::kString},
    {"tags", FieldType::kStringList},
};

struct FieldTable {
  const FieldSpec* begin;
  const FieldSpec* end;
};

FieldTable fields_of(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kLibrary:
      return {std::begin(kLibraryFields), std::end(kLibraryFields)};
    case ResourceKind::kDocument:
      return {std::begin(kDocumentFields), std::end(kDocumentFields)};
    case ResourceKind::kChunk:
      return {std::begin(kChunkFields), std::end(kChunkFields)};
  }
  return {nullptr, nullptr};
}

const FieldSpec* find_field(ResourceKind kind, std::string_view name) {
  const FieldTable t = fields_of(kind);
  for (const FieldSpec* f = t.begin; f != t.end; ++f) {
    if (f->name == name) return f;
  }
  return nullptr;
}

std::string join_path(std::string_view prefix, std::string_view field) {
  std::string path;
  path.reserve(prefix.size() + 1 + field.size());
  path.append(prefix);
  if (!prefix.empty()) path.push_back('.');
  path.append(field);
  return path;
}

std::string too_long(std::size_t max_bytes, std::size_t got) {
  return "must be at most " + std::to_string(max_bytes) + " bytes, got " + std::to_string(got);
}

std::string allowed_message(ResourceKind kind) {
  std::string msg = "unknown metadata field; allowed: ";
  bool first = true;
  for (std::string_view name : metadata_fields(kind)) {
    if (!first) msg += ", ";
    msg.append(name);
    first = false;
  }
  return msg;
}

void check_string(const MetaValue& v, const std::string& path, std::vector<FieldError>& errors) {
  const auto* s = std::get_if<std::string>(&v);
  if (s == nullptr) {
    errors.push_back({path, "expected a string"});
  } else if (s->size() > kMaxStringFieldBytes) {
    errors.push_back({path, too_long(kMaxStringFieldBytes, s->size())});
  }
}

void check_non_negative_int(const MetaValue& v, const std::string& path,
                            std::vector<FieldError>& errors) {
  if (std::holds_alternative<double>(v)) {
    // A JSON number with a fraction part or exponent: say "integer" precisely, since the
    // client evidently sent a number and only the kind of number is wrong.
    errors.push_back({path, "expected an integer"});
    return;
  }
  const auto* i = std::get_if<int64_t>(&v);
  if (i == nullptr || *i < 0) errors.push_back({path, "expected an integer >= 0"});
}

void check_string_list(const MetaValue& v, const std::string& path,
                       std::vector<FieldError>& errors) {
  const auto* list = std::get_if<StringList>(&v);
  if (list == nullptr) {
    errors.push_back({path, "expected an array of strings"});
    return;
  }
  if (list->size() > kMaxTagsPerList) {
    errors.push_back({path, "must hold at most " + std::to_string(kMaxTagsPerList) +
                                " entries, got " + std::to_string(list->size())});
    return;  // one error for the list rather than one per surplus tag
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string& tag = (*list)[i];
    if (tag.empty()) {
      errors.push_back({path + "[" + std::to_string(i) + "]", "must not be empty"});
    } else if (tag.size() > kMaxTagBytes) {
      errors.push_back({path + "[" + std::to_string(i) + "]", too_long(kMaxTagBytes, tag.size())});
    }
  }
}

// Checks the name of one field; returns its spec when the name is a user field.
const FieldSpec* check_name(ResourceKind kind, const std::string& name, const std::string& path,
                            std::vector<FieldError>& errors) {
  if (name == "created_at" || name == "updated_at") {
    errors.push_back({path, "set by the server; do not send it"});
    return nullptr;
  }
  const FieldSpec* spec = find_field(kind, name);
  if (spec == nullptr) errors.push_back({path, allowed_message(kind)});
  return spec;
}

void check_value(const FieldSpec& spec, const MetaValue& v, const std::string& path,
                 std::vector<FieldError>& errors) {
  switch (spec.type) {
    case FieldType::kString:
      check_string(v, path, errors);
      break;
    case FieldType::kNonNegativeInt:
      check_non_negative_int(v, path, errors);
      break;
    case FieldType::kStringList:
      check_string_list(v, path, errors);
      break;
  }
}

}  // namespace

const std::vector<std::string_view>& metadata_fields(ResourceKind kind) {
  auto names_of = [](ResourceKind k) {
    std::vector<std::string_view> names;
    const FieldTable t = fields_of(k);
    for (const FieldSpec* f = t.begin; f != t.end; ++f) names.push_back(f->name);
    return names;
  };
  static const std::vector<std::string_view> kLibrary = names_of(ResourceKind::kLibrary);
  static const std::vector<std::string_view> kDocument = names_of(ResourceKind::kDocument);
  static const std::vector<std::string_view> kChunk = names_of(ResourceKind::kChunk);
  switch (kind) {
    case ResourceKind::kLibrary:
      return kLibrary;
    case ResourceKind::kDocument:
      return kDocument;
    case ResourceKind::kChunk:
      break;
  }
  return kChunk;
}

void validate_metadata(ResourceKind kind, const Metadata& m, std::string_view prefix,
                       std::vector<FieldError>& errors) {
  for (const auto& [name, value] : m) {
    const std::string path = join_path(prefix, name);
    if (const FieldSpec* spec = check_name(kind, name, path, errors)) {
      check_value(*spec, value, path, errors);
    }
  }
}

void validate_metadata_patch(ResourceKind kind, const MetadataPatch& p, std::string_view prefix,
                             std::vector<FieldError>& errors) {
  for (const auto& [name, value] : p) {
    const std::string path = join_path(prefix, name);
    const FieldSpec* spec = check_name(kind, name, path, errors);
    if (spec == nullptr) continue;
    if (value.has_value()) {
      check_value(*spec, *value, path, errors);
    } else if (kind == ResourceKind::kChunk && name == "position") {
      // Chunks are listed in position order; a chunk without one would have no place.
      errors.push_back({path, "cannot be removed; a chunk always has a position"});
    }
  }
}

Metadata apply_metadata_patch(const Metadata& base, const MetadataPatch& patch) {
  Metadata out = base;
  for (const auto& [name, value] : patch) {
    if (value.has_value()) {
      out.insert_or_assign(name, *value);
    } else {
      out.erase(name);
    }
  }
  return out;
}

}  // namespace quiver::engine
