// The engine's value types: what callers send in and get back. No JSON, no HTTP.
//
// Field names follow the REST contract (../shared/API.md) so that validation errors can
// name fields by their JSON path ("chunks[3].embedding") without a translation table.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "embed/embedder.h"
#include "index/metric.h"
#include "index/registry.h"

namespace quiver::engine {

using index::IndexConfig;
using index::Metric;

// ---- Metadata -----------------------------------------------------------------------------
// A metadata value as sent by a client. The schema (engine/schema.h) says which fields a
// resource kind accepts and of which type; the api layer only maps JSON shapes onto these.
using StringList = std::vector<std::string>;
using MetaValue = std::variant<std::string, int64_t, double, bool, StringList>;
// User metadata fields, sorted by name. Never contains created_at / updated_at: those are
// the record's own timestamps, rendered into `metadata` by the api layer.
using Metadata = std::map<std::string, MetaValue>;
// A PATCH of metadata: JSON Merge Patch semantics (RFC 7396): a field set to a value
// replaces it, a field set to null (std::nullopt) removes it, absent fields stay.
using MetadataPatch = std::map<std::string, std::optional<MetaValue>>;

// Milliseconds since the Unix epoch, UTC.
using TimestampMs = int64_t;

// ---- Embedders (configured per library; see embed/embedder.h) -------------------------------
using embed::EmbedderConfig;

// ---- Libraries ------------------------------------------------------------------------------
struct Library {
  std::string id;
  std::string name;
  std::optional<std::string> description;
  uint32_t dimension = 0;
  Metric metric = Metric::kCosine;
  IndexConfig index;  // normalized: every param present
  std::optional<EmbedderConfig> embedder;
  Metadata metadata;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  uint64_t version = 1;
};

struct LibraryStats {
  uint64_t document_count = 0;
  uint64_t chunk_count = 0;
};

struct IndexStatus {
  std::string type;             // the configured index type
  std::string state;            // "ready" or "building"
  uint64_t indexed_chunks = 0;  // live chunks served by a built index of `type`
  uint64_t pending_chunks = 0;  // live chunks served by exact scan until indexed
};

// GET of one library: the record plus live numbers.
struct LibraryView {
  Library library;
  LibraryStats stats;
  IndexStatus index_status;
};

struct LibraryCreate {
  std::optional<std::string> id;
  std::string name;  // required (the api layer reports a missing one)
  std::optional<std::string> description;
  std::optional<uint32_t> dimension;  // required unless `embedder` gives it
  std::optional<Metric> metric;       // default kCosine
  std::optional<IndexConfig> index;   // default index::default_index_config()
  std::optional<EmbedderConfig> embedder;
  Metadata metadata;
};

struct LibraryPatch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> description;  // set, or clear with nullopt inside
  std::optional<uint32_t> dimension;  // only while the library holds no chunk
  std::optional<Metric> metric;       // only while the library holds no chunk
  std::optional<IndexConfig> index;   // triggers a rebuild
  std::optional<MetadataPatch> metadata;
};

// ---- Documents -------------------------------------------------------------------------------
struct Document {
  std::string id;
  std::string library_id;
  std::optional<std::string> title;
  Metadata metadata;
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  uint64_t version = 1;
  uint64_t chunk_count = 0;
};

// ---- Chunks ----------------------------------------------------------------------------------
struct ChunkInput {
  std::optional<std::string> id;
  std::optional<std::string> text;  // required; may be empty only when embedding is given
  std::optional<std::vector<float>> embedding;  // required unless the library has an embedder
  Metadata metadata;                             // `position` assigned when absent
};

struct Chunk {
  std::string id;
  std::string library_id;
  std::string document_id;
  std::string text;
  Metadata metadata;  // always holds `position`
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  uint64_t version = 1;
  std::optional<std::vector<float>> embedding;  // only when asked for
};

struct DocumentCreate {
  std::optional<std::string> id;
  std::optional<std::string> title;
  Metadata metadata;
  std::vector<ChunkInput> chunks;  // created in the same atomic write
};

struct DocumentPatch {
  std::optional<std::optional<std::string>> title;  // set, or clear with nullopt inside
  std::optional<MetadataPatch> metadata;
};

struct ChunkPatch {
  std::optional<std::string> text;
  std::optional<std::vector<float>> embedding;
  std::optional<MetadataPatch> metadata;
};

// ---- Lists -----------------------------------------------------------------------------------
struct PageRequest {
  uint32_t limit = 100;  // 1..1000 (validated by the engine)
  std::string cursor;    // "" for the first page; else an opaque next_cursor
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<std::string> next_cursor;  // nullopt on the last page
};

// ---- Search ----------------------------------------------------------------------------------
struct SearchRequest {
  std::optional<std::vector<float>> vector;  // exactly one of vector / text
  std::optional<std::string> text;
  uint32_t k = 10;  // 1..1000
  bool include_text = true;
  bool include_metadata = true;
  bool include_embedding = false;
  index::SearchParams params;
  bool exact = false;  // force an exact scan
};

struct SearchHit {
  std::string chunk_id;
  std::string document_id;
  float score = 0;  // see index/metric.h
  std::optional<std::string> text;
  std::optional<Metadata> metadata;  // with created_at/updated_at below when included
  TimestampMs created_at = 0;
  TimestampMs updated_at = 0;
  std::optional<std::vector<float>> embedding;
};

struct SearchResponse {
  std::vector<SearchHit> results;  // nearest first, ties by chunk id
  std::string index;               // the index type that served the query
  bool exact = false;              // true when every row was compared exactly
};

// ---- Limits (documented in docs/limits.md) -----------------------------------------------------
inline constexpr uint32_t kMaxDimension = 16384;
inline constexpr uint32_t kMaxK = 1000;
inline constexpr uint32_t kMaxPageLimit = 1000;
inline constexpr uint32_t kDefaultPageLimit = 100;
inline constexpr std::size_t kMaxChunksPerRequest = 10000;
inline constexpr std::size_t kMaxIdLength = 128;
inline constexpr std::size_t kMaxNameLength = 128;
inline constexpr std::size_t kMaxTextBytes = 1 << 20;        // one chunk's text
inline constexpr std::size_t kMaxStringFieldBytes = 4096;    // title, description, metadata strings
inline constexpr std::size_t kMaxTagsPerList = 256;

}  // namespace quiver::engine
