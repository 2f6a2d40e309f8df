// DatabaseImpl: the engine's implementation of Database (database.h). Private to engine/.
//
// Split by responsibility: database_impl.cc (open, shared helpers), recovery.cc,
// libraries.cc, documents.cc, chunks.cc, search.cc, optimizer.cc (segments: seal, merge,
// vacuum, rebuild; docs/segments.md). Locking is described in docs/concurrency.md; in
// short, lock order is
//   catalog_mu_  ->  LibraryState::writer_mu  ->  mu_  ->  LibraryState snapshot mutex
// (plus the leaf opt_mu_, and done_mu_ -> mu_ -> snapshot mutex for rebuild waiters),
// no lock but catalog_mu_ / writer_mu is ever held across RocksDB I/O, and none across an
// index build or an index file write.
//
// Thread-safety: as Database.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/codec.h"
#include "engine/database.h"
#include "engine/library_state.h"
#include "storage/db.h"

namespace quiver::engine {

// Column families, in the order given to storage::Db.
enum CfId : storage::Cf {
  kCfLibraries = 0,
  kCfLibraryOrder,
  kCfDocuments,
  kCfDocumentOrder,
  kCfChunks,
  kCfChunkOrder,
  kCfMeta,
};

// Blocks per appendable segment (x its block_rows() rows). When one fills up
// the writer starts another, so this only bounds the block table allocated up front.
inline constexpr uint32_t kSegmentBlocks = 4096;

class DatabaseImpl final : public Database {
 public:
  static Result<std::unique_ptr<Database>> open_impl(const Options& options);
  ~DatabaseImpl() override;

  Result<LibraryView> create_library(const LibraryCreate& in) override;
  Result<Page<LibraryView>> list_libraries(const PageRequest& page) override;
  Result<LibraryView> get_library(std::string_view library_id) override;
  Result<LibraryView> update_library(std::string_view library_id, const LibraryPatch& in,
                                     IfMatch if_match) override;
  Status delete_library(std::string_view library_id, IfMatch if_match) override;

  Result<Document> create_document(std::string_view library_id, const DocumentCreate& in) override;
  Result<Page<Document>> list_documents(std::string_view library_id,
                                        const PageRequest& page) override;
  Result<Document> get_document(std::string_view library_id,
                                std::string_view document_id) override;
  Result<Document> update_document(std::string_view library_id, std::string_view document_id,
                                   const DocumentPatch& in, IfMatch if_match) override;
  Status delete_document(std::string_view library_id, std::string_view document_id,
                         IfMatch if_match) override;

  Result<std::vector<Chunk>> create_chunks(std::string_view library_id,
                                           std::string_view document_id,
                                           const std::vector<ChunkInput>& in) override;
  Result<Page<Chunk>> list_chunks(std::string_view library_id, std::string_view document_id,
                                  const PageRequest& page) override;
  Result<Chunk> get_chunk(std::string_view library_id, std::string_view chunk_id,
                          bool with_embedding) override;
  Result<Chunk> update_chunk(std::string_view library_id, std::string_view chunk_id,
                             const ChunkPatch& in, IfMatch if_match) override;
  Status delete_chunk(std::string_view library_id, std::string_view chunk_id,
                      IfMatch if_match) override;

  Result<SearchResponse> search(std::string_view library_id,
                                const SearchRequest& request) override;
  Result<IndexStatus> index_status(std::string_view library_id) override;
  Result<IndexStatus> rebuild_index(std::string_view library_id,
                                    const std::optional<IndexConfig>& config, bool wait) override;
  EngineStats engine_stats() const override;

 private:
  explicit DatabaseImpl(const Options& options) : options_(options) {}

  // ---- shared helpers (database_impl.cc)
  Status recover();
  // The library's state, or kNotFound.
  Result<std::shared_ptr<LibraryState>> find(std::string_view library_id) const;
  // Its published snapshot, or kNotFound.
  Result<std::shared_ptr<const Snapshot>> find_snapshot(std::string_view library_id) const;
  // Builds and publishes the next snapshot of `st` with write number `seq` and a fresh
  // RocksDB snapshot. REQUIRES: st.writer_mu held; the write it reflects has committed.
  void publish(LibraryState& st, uint64_t seq);
  // Appends one vector to the library's current appendable segment (starting a new one
  // when full). REQUIRES: st.writer_mu held.
  ChunkLoc append_row(LibraryState& st, const float* v, std::string chunk_id);
  void mark_deleted(LibraryState& st, const ChunkLoc& loc, uint64_t seq);
  uint64_t next_seq() { return next_seq_.fetch_add(1, std::memory_order_relaxed); }
  // Commits `batch` (every engine write goes through here). Under ThreadSanitizer only,
  // commits are serialized by a process-wide mutex: RocksDB merges concurrent writers'
  // batches into one write group whose leader reads the followers' batches and appends to
  // the WAL, with the hand-off made by atomics inside the uninstrumented librocksdb, so TSan
  // would report every pair of concurrent writes (two libraries, or a write and the
  // optimizer's install) as a race in std::string / the WAL buffer. Release builds keep
  // RocksDB's group commit.
  Status commit(storage::Batch& batch);

  // Reads a record at `snap` (latest when null); kNotFound when absent.
  Result<codec::DocumentRecord> read_document(std::string_view lib_id, std::string_view doc_id,
                                              const storage::ReadSnapshot* snap) const;
  Result<codec::ChunkRecord> read_chunk(std::string_view lib_id, std::string_view chunk_id,
                                        const storage::ReadSnapshot* snap,
                                        std::string& buffer) const;

  // Marks an index config change / POST index on `st`: cancels running rewrites, seals the
  // appendable segment even below the threshold and (re)builds every sealed segment whose
  // index is not current (`force`: every one). REQUIRES: st.writer_mu held.
  void request_reindex(LibraryState& st, bool force);

  // ---- optimizer (optimizer.cc): one thread, policies over one rewrite mechanism.
  struct RewriteInput {
    uint64_t id = 0;
    std::shared_ptr<const AppendableSegment> appendable;
    std::shared_ptr<const SealedSegment> sealed;
    uint32_t rows = 0;
  };
  enum class Policy { kSeal, kRebuild, kVacuum, kMerge };
  struct RewriteJob {
    std::shared_ptr<LibraryState> st;
    std::string library_id;
    Policy policy = Policy::kSeal;
    std::vector<RewriteInput> inputs;
    IndexConfig config;
    Metric metric = Metric::kL2;
    uint32_t dim = 0;
    uint64_t s0 = 0;  // the library's write number when the inputs were captured
    std::shared_ptr<std::atomic<bool>> cancel;
  };
  void start_optimizer();
  void stop_optimizer();
  void optimizer_loop();
  void wake_optimizer();
  // Chooses the next rewrite for `st` (seal > rebuild > vacuum > merge), marks its inputs
  // busy and publishes; nullopt when nothing is due. Takes st.writer_mu.
  bool vacuum_due(const SegmentEntry& e, const IndexConfig& config) const;
  // Inputs of the next merge (>= 2 small sealed segments), or none. REQUIRES: writer_mu.
  std::vector<uint64_t> merge_candidates(const LibraryState& st) const;
  std::optional<RewriteJob> plan_rewrite(const std::shared_ptr<LibraryState>& st);
  // Copies, builds and saves outside any lock, then installs under st.writer_mu.
  void run_rewrite(RewriteJob& job);
  // Blocks until `st` is fully indexed with `config`, deleted, reconfigured or shut down.
  void wait_indexed(const std::shared_ptr<LibraryState>& st, const IndexConfig& config);
  void notify_progress();
  std::string index_dir(std::string_view lib_id) const;
  std::string index_path(std::string_view lib_id, uint64_t segment_id) const;
  // Deletes index files and directories no manifest references (start-up).
  void remove_unreferenced_index_files();

  static LibraryView make_view(const Snapshot& s);
  static IndexStatus make_index_status(const Snapshot& s);

  // Embeds the texts of chunks lacking an embedding (outside any lock). `out[i]` is the
  // vector of in[i] (empty when in[i] had its own embedding).
  Status embed_missing(const Library& lib, const std::vector<ChunkInput>& in,
                       std::vector<std::vector<float>>& out) const;

  struct PreparedChunk {
    codec::ChunkRecord rec;
    std::vector<float> embedding;
  };
  using PreparedChunks = std::vector<PreparedChunk>;
  // Checks ids and assigns positions for new chunks of document `doc_id` (whose current
  // state is `doc`), adding their records to `batch`. REQUIRES: st.writer_mu held.
  Status prepare_chunks(LibraryState& st, const std::string& doc_id, const DocState& doc,
                        const std::vector<ChunkInput>& in,
                        std::vector<std::vector<float>>& embedded, std::string_view prefix,
                        TimestampMs now, storage::Batch& batch, PreparedChunks& out);
  // Applies prepared chunks to memory after the batch committed. REQUIRES: writer_mu.
  void apply_chunks(LibraryState& st, const std::string& doc_id, PreparedChunks& prepared);

  Options options_;
  std::unique_ptr<storage::Db> db_;

  // Serializes library create / rename / delete, so name uniqueness can be checked and the
  // record committed without holding mu_ across the RocksDB write.
  std::mutex catalog_mu_;
  // Guards libs_ and names_; held only to look up or change the maps, never across I/O.
  mutable std::shared_mutex mu_;
  std::map<std::string, std::shared_ptr<LibraryState>, std::less<>> libs_;
  std::map<std::string, std::string, std::less<>> names_;  // name -> id

  // Creation sequence of libraries, documents and chunks (order keys); recovered as max + 1.
  std::atomic<uint64_t> next_seq_{1};
  // Segment ids, unique across libraries (and so are index file names); recovered as max + 1.
  std::atomic<uint64_t> next_segment_id_{1};

  // The optimizer thread. opt_mu_ guards opt_wake_ / opt_stop_ only (leaf lock).
  std::thread optimizer_;
  std::mutex opt_mu_;
  std::condition_variable opt_cv_;
  bool opt_wake_ = false;
  bool opt_stop_ = false;
  std::atomic<bool> stopping_{false};
  // Waiters of rebuild_index(wait) sleep here; notified after every install or abandon.
  // Leaf lock apart from the snapshot look-up done under it (mu_ shared, snap_mu_).
  std::mutex done_mu_;
  std::condition_variable done_cv_;

  struct Counters {
    std::atomic<uint64_t> index_builds{0}, index_loads{0}, index_load_failures{0}, seals{0},
        merges{0}, vacuums{0}, rebuilds{0}, abandoned{0};
  };
  Counters counters_;
};

// Cursor helpers (database_impl.cc): a cursor is base64url(last order key returned) and
// must start with `prefix` and be `prefix.size() + suffix_len` bytes long.
Result<std::string> decode_cursor(std::string_view cursor, std::string_view prefix,
                                  std::size_t suffix_len);
std::string encode_cursor(std::string_view order_key);

// kPreconditionFailed when `if_match` is set and differs from `version` (libraries.cc).
Status check_version(IfMatch if_match, uint64_t version, std::string_view what);

}  // namespace quiver::engine
