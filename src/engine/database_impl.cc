// DatabaseImpl: open, recovery and the helpers shared by the CRUD and search files.
#include "engine/database_impl.h"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "engine/embedding.h"

namespace quiver::engine {

Result<std::unique_ptr<Database>> Database::open(const Options& options) {
  return DatabaseImpl::open_impl(options);
}

Result<std::unique_ptr<Database>> DatabaseImpl::open_impl(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Status::io_error("cannot create " + options.data_dir + ": " + ec.message());
  storage::DbOptions dbo;
  dbo.path = (std::filesystem::path(options.data_dir) / "rocksdb").string();
  dbo.column_families = {"libraries", "library_order", "documents", "document_order",
                         "chunks",    "chunk_order",   "meta"};
  dbo.sync = options.durability == Durability::kFsync;
  dbo.block_cache_bytes = options.block_cache_bytes;
  QUIVER_ASSIGN_OR_RETURN(auto db, storage::Db::open(dbo));
  std::unique_ptr<DatabaseImpl> impl(new DatabaseImpl(options));
  impl->db_ = std::move(db);
  QUIVER_RETURN_IF_ERROR(impl->recover());
  impl->start_optimizer();
  return std::unique_ptr<Database>(std::move(impl));
}

DatabaseImpl::~DatabaseImpl() {
  // The optimizer uses libs_, RocksDB and index files: stop it (cancelling any build) first.
  stop_optimizer();
  {
    // Snapshots hold RocksDB snapshots, which must be released before RocksDB closes.
    std::unique_lock lock(mu_);
    libs_.clear();
    names_.clear();
  }
  if (db_) {
    Status s = db_->close();
    if (!s.is_ok()) spdlog::error("closing storage: {}", s.to_string());
  }
}

Result<std::shared_ptr<LibraryState>> DatabaseImpl::find(std::string_view library_id) const {
  std::shared_lock lock(mu_);
  auto it = libs_.find(library_id);
  if (it == libs_.end()) {
    return Status::not_found("library '" + std::string(library_id) + "' does not exist");
  }
  return it->second;
}

Result<std::shared_ptr<const Snapshot>> DatabaseImpl::find_snapshot(
    std::string_view library_id) const {
  QUIVER_ASSIGN_OR_RETURN(auto st, find(library_id));
  return st->load();
}

void DatabaseImpl::publish(LibraryState& st, uint64_t seq) {
  auto snap = std::make_shared<Snapshot>();
  snap->library = st.library;
  snap->stats.document_count = st.documents.size();
  snap->stats.chunk_count = st.chunks.size();
  snap->library_seq = st.library_seq;
  snap->seq = seq;
  snap->segments.reserve(st.segments.size());
  bool optimizing = st.rewrites > 0 || st.seal_requested;
  bool seal_due = false;
  for (const auto& [id, e] : st.segments) {
    SegmentRef ref;
    ref.id = id;
    ref.appendable = e.appendable;
    ref.sealed = e.sealed;
    ref.index = e.index;
    ref.index_config = e.index_config;
    ref.rows = e.rows();
    ref.live = ref.rows - e.deleted;
    if (e.sealed) {
      ref.index_current = e.index && !e.stale && *e.index_config == st.library.index;
      const bool failed = e.build_failed(st.library.index);
      if ((!ref.index_current && !failed) || (!e.busy && vacuum_due(e, st.library.index))) {
        optimizing = true;
      }
    } else if (id != st.active) {
      // A frozen appendable segment waits for (or is in) its seal rewrite.
      if (!e.build_failed(st.library.index)) optimizing = true;
    } else if (ref.rows >= options_.seal_threshold) {
      seal_due = optimizing = true;
    }
    snap->segments.push_back(std::move(ref));
  }
  if (!optimizing && !merge_candidates(st).empty()) optimizing = true;
  snap->optimizing = optimizing;
  snap->read = db_->snapshot();
  st.seq = seq;
  st.publish(std::move(snap));
  if (seal_due || st.optimizer_due) {
    st.optimizer_due = false;
    wake_optimizer();
  }
}

ChunkLoc DatabaseImpl::append_row(LibraryState& st, const float* v, std::string chunk_id) {
  auto it = st.segments.find(st.active);
  if (it == st.segments.end() || it->second.appendable->size() == it->second.appendable->capacity()) {
    SegmentEntry e;
    e.appendable = std::make_shared<AppendableSegment>(st.library.dimension, kSegmentBlocks);
    st.active = next_segment_id_.fetch_add(1);
    it = st.segments.emplace(st.active, std::move(e)).first;
  }
  ChunkLoc loc;
  loc.segment = st.active;
  loc.row = it->second.appendable->append(v, std::move(chunk_id));
  return loc;
}

void DatabaseImpl::mark_deleted(LibraryState& st, const ChunkLoc& loc, uint64_t seq) {
  SegmentEntry& e = st.segments.at(loc.segment);
  e.mark_deleted(loc.row, seq);
  if (vacuum_due(e, st.library.index)) st.optimizer_due = true;
}

Status DatabaseImpl::commit(storage::Batch& batch) {
#if defined(__SANITIZE_THREAD__)
  static std::mutex tsan_commit_mu;  // leaf lock; see database_impl.h
  std::lock_guard lock(tsan_commit_mu);
#endif
  return db_->write(batch);
}

Result<codec::DocumentRecord> DatabaseImpl::read_document(std::string_view lib_id,
                                                          std::string_view doc_id,
                                                          const storage::ReadSnapshot* snap) const {
  QUIVER_ASSIGN_OR_RETURN(auto value, db_->get(kCfDocuments, codec::lib_key(lib_id, doc_id), snap));
  if (!value) {
    return Status::not_found("document '" + std::string(doc_id) + "' does not exist");
  }
  codec::DocumentRecord rec;
  QUIVER_RETURN_IF_ERROR(codec::decode_document(*value, lib_id, rec));
  return rec;
}

Result<codec::ChunkRecord> DatabaseImpl::read_chunk(std::string_view lib_id,
                                                    std::string_view chunk_id,
                                                    const storage::ReadSnapshot* snap,
                                                    std::string& buffer) const {
  QUIVER_ASSIGN_OR_RETURN(auto value, db_->get(kCfChunks, codec::lib_key(lib_id, chunk_id), snap));
  if (!value) return Status::not_found("chunk '" + std::string(chunk_id) + "' does not exist");
  buffer = std::move(*value);
  codec::ChunkRecord rec;
  QUIVER_RETURN_IF_ERROR(codec::decode_chunk(buffer, lib_id, rec));
  return rec;
}

IndexStatus DatabaseImpl::make_index_status(const Snapshot& s) {
  IndexStatus st;
  st.type = s.library.index.type;
  st.state = s.optimizing ? "building" : "ready";
  // The appendable segment is served by an exact scan, which *is* a flat index; for other
  // types its rows are pending until sealed and indexed.
  const bool flat = st.type == "flat";
  for (const SegmentRef& ref : s.segments) {
    const bool indexed = ref.sealed ? ref.index_current : flat;
    (indexed ? st.indexed_chunks : st.pending_chunks) += ref.live;
  }
  return st;
}

LibraryView DatabaseImpl::make_view(const Snapshot& s) {
  return LibraryView{s.library, s.stats, make_index_status(s)};
}

Status DatabaseImpl::embed_missing(const Library& lib, const std::vector<ChunkInput>& in,
                                   std::vector<std::vector<float>>& out) const {
  out.assign(in.size(), {});
  if (!lib.embedder) return Status::ok();
  std::vector<std::string> texts;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!in[i].embedding) {
      texts.push_back(in[i].text.value_or(""));
      which.push_back(i);
    }
  }
  if (texts.empty()) return Status::ok();
  QUIVER_ASSIGN_OR_RETURN(auto vectors,
                          embed_texts(*lib.embedder, texts, embed::InputType::kDocument));
  for (std::size_t j = 0; j < which.size(); ++j) out[which[j]] = std::move(vectors[j]);
  return Status::ok();
}

Result<std::string> decode_cursor(std::string_view cursor, std::string_view prefix,
                                  std::size_t suffix_len) {
  auto bytes = codec::base64url_decode(cursor);
  if (!bytes || bytes->size() != prefix.size() + suffix_len ||
      std::string_view(*bytes).substr(0, prefix.size()) != prefix) {
    return Status::malformed("cursor: not a cursor of this list", {{"cursor", "invalid cursor"}});
  }
  return std::move(*bytes);
}

std::string encode_cursor(std::string_view order_key) { return codec::base64url_encode(order_key); }

}  // namespace quiver::engine
