// Database: the engine's public entry point. Libraries, documents and chunks with the
// contract's CRUD, validation, versions, If-Match, pagination and cascades, plus kNN search.
//
// Usable without HTTP: tests and tools link quiver_engine directly.
//
// Durability: every mutating call is one RocksDB WriteBatch (all-or-nothing; fsynced when
// Options::durability is kFsync) and is applied to the in-memory search state only after
// it commits. open() rebuilds the in-memory state from RocksDB.
//
// Thread-safety: every method may be called from any number of threads at once. Writes to
// one library are serialized; searches never wait for writers (see docs/concurrency.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/types.h"

namespace quiver::engine {

enum class Durability {
  kFsync,  // a write is acknowledged after it is fsynced: survives power loss
  kOs,     // acknowledged once in the OS page cache: survives a process crash, not power loss
};

struct Options {
  std::string data_dir = "./data";
  Durability durability = Durability::kFsync;
  // Rows in a library's appendable segment before the optimizer seals it and builds the
  // library's index over it.
  uint32_t seal_threshold = 20000;
  // Threads an index build may use.
  unsigned build_threads = 2;
  // A sealed segment whose deleted rows exceed this fraction is rewritten without them
  // (and its index rebuilt). See docs/segments.md for every optimizer policy.
  double vacuum_deleted_fraction = 0.2;
  // The optimizer also looks at every library this often, besides being woken by writes.
  uint32_t optimizer_tick_ms = 1000;
  // Block cache for chunk text/metadata point lookups.
  std::size_t block_cache_bytes = 256u << 20;
};

// Counters of the background optimizer since open() (tests and diagnostics).
struct EngineStats {
  uint64_t index_builds = 0;         // indexes built (each sealed segment output, each rebuild)
  uint64_t index_loads = 0;          // index files loaded at open()
  uint64_t index_load_failures = 0;  // index files missing or corrupt at open() (rebuilt)
  uint64_t seals = 0;                // appendable segments sealed
  uint64_t merges = 0;               // merges of small sealed segments
  uint64_t vacuums = 0;              // rewrites of sealed segments with many deleted rows
  uint64_t rebuilds = 0;             // rewrites for a changed (or missing) index config
  uint64_t rewrites_abandoned = 0;   // cancelled or failed before install
};

// `If-Match` precondition: the version the client last saw, or nullopt for none.
using IfMatch = std::optional<uint64_t>;

class Database {
 public:
  // Opens (creating if needed) the database in options.data_dir and recovers its state.
  static Result<std::unique_ptr<Database>> open(const Options& options);

  // Flushes and closes RocksDB; waits for background builds to stop.
  virtual ~Database() = default;

  // ---- Libraries
  virtual Result<LibraryView> create_library(const LibraryCreate& in) = 0;
  virtual Result<Page<LibraryView>> list_libraries(const PageRequest& page) = 0;
  virtual Result<LibraryView> get_library(std::string_view library_id) = 0;
  virtual Result<LibraryView> update_library(std::string_view library_id, const LibraryPatch& in,
                                             IfMatch if_match) = 0;
  // Deletes the library with its documents, chunks and index files.
  virtual Status delete_library(std::string_view library_id, IfMatch if_match) = 0;

  // ---- Documents
  virtual Result<Document> create_document(std::string_view library_id,
                                           const DocumentCreate& in) = 0;
  virtual Result<Page<Document>> list_documents(std::string_view library_id,
                                                const PageRequest& page) = 0;
  virtual Result<Document> get_document(std::string_view library_id,
                                        std::string_view document_id) = 0;
  virtual Result<Document> update_document(std::string_view library_id,
                                           std::string_view document_id, const DocumentPatch& in,
                                           IfMatch if_match) = 0;
  // Deletes the document and its chunks in one atomic step: no search that starts after
  // this returns sees any of them.
  virtual Status delete_document(std::string_view library_id, std::string_view document_id,
                                 IfMatch if_match) = 0;

  // ---- Chunks
  virtual Result<std::vector<Chunk>> create_chunks(std::string_view library_id,
                                                   std::string_view document_id,
                                                   const std::vector<ChunkInput>& in) = 0;
  // Ordered by metadata.position, then creation.
  virtual Result<Page<Chunk>> list_chunks(std::string_view library_id,
                                          std::string_view document_id,
                                          const PageRequest& page) = 0;
  virtual Result<Chunk> get_chunk(std::string_view library_id, std::string_view chunk_id,
                                  bool with_embedding) = 0;
  virtual Result<Chunk> update_chunk(std::string_view library_id, std::string_view chunk_id,
                                     const ChunkPatch& in, IfMatch if_match) = 0;
  virtual Status delete_chunk(std::string_view library_id, std::string_view chunk_id,
                              IfMatch if_match) = 0;

  // ---- Search and index
  virtual Result<SearchResponse> search(std::string_view library_id,
                                        const SearchRequest& request) = 0;
  virtual Result<IndexStatus> index_status(std::string_view library_id) = 0;
  // Rebuilds the library's index now (with a new config when given). With `wait`, returns
  // once the build is published; otherwise as soon as it is scheduled.
  virtual Result<IndexStatus> rebuild_index(std::string_view library_id,
                                            const std::optional<IndexConfig>& config,
                                            bool wait) = 0;

  // Optimizer counters. (Not pure: test doubles of Database need not implement it.)
  virtual EngineStats engine_stats() const { return {}; }
};

}  // namespace quiver::engine
