// The fixed metadata schema per resource kind (API.md "Metadata (fixed schema)").
//
//   library  : tags (string[]), owner (string)
//   document : source, author, language (string), tags (string[])
//   chunk    : position, page (integer >= 0), section (string), tags (string[])
//
// `created_at` / `updated_at` belong to every kind but are set by the server, so a client
// that sends them is told so. Integers must arrive as int64: a JSON number with a fraction
// part (3.5) or written as a float (3.0) arrives as double and is rejected, because stored
// metadata must round-trip with the same JSON type it will be filtered and sorted by.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/types.h"

namespace quiver::engine {

enum class ResourceKind { kLibrary, kDocument, kChunk };

// Longest accepted tag, in bytes. Tags are short labels; the cap keeps a full tag list
// (kMaxTagsPerList entries) to at most 64 KiB per record.
inline constexpr std::size_t kMaxTagBytes = 256;

// The user-settable field names of `kind`, sorted (used in "allowed: ..." messages).
const std::vector<std::string_view>& metadata_fields(ResourceKind kind);

// Checks a full metadata object (create bodies). Appends one FieldError per problem to
// `errors`, each named "<prefix>.<field>" (prefix e.g. "metadata" or "chunks[3].metadata");
// a tag is named "<prefix>.tags[i]". Never clears `errors`.
void validate_metadata(ResourceKind kind, const Metadata& m, std::string_view prefix,
                       std::vector<FieldError>& errors);

// Checks a metadata merge patch: values as validate_metadata; null (std::nullopt) removes a
// field and is allowed for every user field except a chunk's `position`, which always exists.
void validate_metadata_patch(ResourceKind kind, const MetadataPatch& p, std::string_view prefix,
                             std::vector<FieldError>& errors);

// JSON Merge Patch (RFC 7396) at field level: a value replaces the field, std::nullopt
// removes it, fields absent from `patch` are kept. Returns the new metadata; `base` is
// untouched. Does not validate: call validate_metadata_patch first.
Metadata apply_metadata_patch(const Metadata& base, const MetadataPatch& patch);

}  // namespace quiver::engine
