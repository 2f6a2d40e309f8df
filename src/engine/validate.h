// Request validation: every rule of the REST contract (../shared/API.md) that can be checked
// from the request alone (plus, where the rule depends on it, the target library's record).
//
// Every function APPENDS FieldErrors to `errors` (never clears it), one per problem, named by
// the JSON path of the contract ("chunks[3].embedding[17]"), so one response can list every
// mistake of a request. None touches storage: existence, uniqueness of ids and names,
// If-Match and "dimension change with data present" are the engine core's checks.
// errors_to_status() turns the collected list into a Status.
//
// Index and embedder configs are checked by their own modules (index::normalize_index_config,
// embed::validate_config), whose field errors are merged in under "index" / "embedder".
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/types.h"

namespace quiver::engine {

// How many chunks a request may carry: POST .../chunks needs at least one, while a
// document may be created with none.
enum class ChunkCount {
  kOneOrMore,   // 1..kMaxChunksPerRequest (POST .../documents/{id}/chunks)
  kZeroOrMore,  // 0..kMaxChunksPerRequest (the `chunks` of POST .../documents)
};

// POST /v1/libraries. `dimension` is required unless `embedder` gives it; when both are
// given they must agree. Does not fill defaults (the engine does, with the normalized
// index config it gets from index::normalize_index_config).
void validate_library_create(const LibraryCreate& in, std::vector<FieldError>& errors);

// PATCH /v1/libraries/{id}: the rules of create, for the fields present.
void validate_library_patch(const LibraryPatch& in, std::vector<FieldError>& errors);

// POST .../documents. `lib` is the target library (its dimension, metric and embedder decide
// the embedding rules). Chunk errors are named "chunks[i]...".
void validate_document_create(const DocumentCreate& in, const Library& lib,
                              std::vector<FieldError>& errors);

// PATCH .../documents/{id}.
void validate_document_patch(const DocumentPatch& in, std::vector<FieldError>& errors);

// ChunkInputs of either POST body; `prefix` names the array ("chunks" -> "chunks[3].text").
// Also reports ids repeated within the request ("duplicates chunks[1].id"). When the count
// is out of range only that one error is reported (the elements are not inspected).
void validate_chunk_inputs(const std::vector<ChunkInput>& in, const Library& lib,
                           std::string_view prefix, std::vector<FieldError>& errors,
                           ChunkCount count = ChunkCount::kOneOrMore);

// PATCH .../chunks/{id}. An empty patch (no field present) is valid: it changes nothing.
// A new `text` without a new `embedding` needs the library's embedder to re-embed it.
void validate_chunk_patch(const ChunkPatch& in, const Library& lib,
                          std::vector<FieldError>& errors);

// POST .../search: exactly one of vector / text; k in 1..kMaxK; per-query index params.
void validate_search(const SearchRequest& in, const Library& lib, std::vector<FieldError>& errors);

// ?limit= of every list (1..kMaxPageLimit). The cursor is checked by whoever decodes it.
void validate_page(const PageRequest& in, std::vector<FieldError>& errors);

// Checks one embedding or query vector against `lib`: length == lib.dimension, every value
// finite (the first bad element is named "<field>[j]"), not all zeros under kCosine, and a
// squared length that fits in float32 (else distances and scores become infinite).
void validate_vector(const std::vector<float>& v, const Library& lib, std::string_view field,
                     std::vector<FieldError>& errors);

// OK when `errors` is empty; else Status::invalid with the detail
// "N invalid field(s): <field>: <message>; ..." (at most 5 listed) and every error attached.
Status errors_to_status(std::vector<FieldError> errors);

}  // namespace quiver::engine
