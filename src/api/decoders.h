// JSON request bodies -> engine input types.
//
// The decoders check *shape* only: unknown fields, JSON types, required fields, enum
// spellings and numbers that cannot be represented in the engine's types. Semantic rules
// (id syntax, dimension range, metadata schema, index params) belong to the engine, which
// reports them with the same JSON paths. Every decoder walks the whole body and returns
// ALL shape errors at once (capped at kMaxFieldErrors), each named by its JSON path:
// "chunks[3].embedding[7]", "metadata.tags[2]", "" for the body itself.
//
// Metadata values map as: integer literal -> int64, other number -> double, string,
// bool, array of strings -> string list; anything else is a field error. A null value
// removes the field in PATCH bodies and is an error elsewhere. created_at/updated_at are
// server-owned and rejected.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include <simdjson.h>

#include "common/status.h"
#include "engine/types.h"

namespace quiver::api {

inline constexpr std::size_t kMaxFieldErrors = 100;

Result<engine::LibraryCreate> decode_library_create(simdjson::dom::element root);
Result<engine::LibraryPatch> decode_library_patch(simdjson::dom::element root);
Result<engine::DocumentCreate> decode_document_create(simdjson::dom::element root);
Result<engine::DocumentPatch> decode_document_patch(simdjson::dom::element root);
// {"chunks": [ChunkInput, ...]}
Result<std::vector<engine::ChunkInput>> decode_chunks_create(simdjson::dom::element root);
Result<engine::ChunkPatch> decode_chunk_patch(simdjson::dom::element root);
Result<engine::SearchRequest> decode_search(simdjson::dom::element root);
// {"type"?, "params"?}: nullopt when neither is given (rebuild with the current config).
Result<std::optional<engine::IndexConfig>> decode_index_rebuild(simdjson::dom::element root);

}  // namespace quiver::api
