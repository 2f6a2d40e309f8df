// The persisted description of a library's sealed segments (spec: docs/storage_format.md,
// "Segment manifest"): for each segment its id, the index config its index file was built
// with, and its rows as chunk ids in row order with a 64-bit hash of each row's embedding
// bytes (so start-up can tell whether a chunk's current embedding is the one the index was
// built over without storing the vectors twice).
//
// Key: meta CF, "segments\0" lib_id "\0" BE64(segment_id). One key per segment, so an
// install rewrites only the segments it adds or removes, in the same WriteBatch.
//
// Thread-safety: pure functions over plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/registry.h"

namespace quiver::engine::manifest {

inline constexpr uint8_t kManifestFormat = 1;

struct SegmentManifest {
  uint64_t segment_id = 0;
  index::IndexConfig index;          // the config the segment's index file was built with
  std::vector<std::string> chunk_ids;  // row order
  std::vector<uint64_t> hashes;      // embedding_hash of each row, same length
};

// "segments\0": the prefix of every manifest key.
std::string all_prefix();
// "segments\0" lib_id "\0": one library's manifest keys.
std::string library_prefix(std::string_view lib_id);
std::string key(std::string_view lib_id, uint64_t segment_id);
// Splits a key into its library id and segment id; false when it is not a manifest key.
bool parse_key(std::string_view key, std::string_view& lib_id, uint64_t& segment_id);

std::string encode(const SegmentManifest& m);
// kCorruption on truncation, unknown format, trailing bytes or length mismatches.
// out.segment_id is left untouched (it lives in the key).
Status decode(std::string_view in, SegmentManifest& out);

// 64-bit FNV-1a over `dim` floats' bytes: equal embeddings hash equal, and a changed
// embedding is detected except with probability ~2^-64.
uint64_t embedding_hash(const void* bytes, std::size_t n);

}  // namespace quiver::engine::manifest
