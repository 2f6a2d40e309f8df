// DatabaseImpl: open, recovery and the helpers shared by the CRUD and search files.
#include "engine/database_impl.h"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "engine/embedding.h"

namespace quiver::engine {

namespace {
constexpr std::string_view kFormatKey = "format_version";
constexpr std::string_view kFormatValue = "1";
constexpr std::size_t kRecoveryReadahead = 8u << 20;
}  // namespace

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
  return std::unique_ptr<Database>(std::move(impl));
}

DatabaseImpl::~DatabaseImpl() {
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

Status DatabaseImpl::recover() {
  const auto start = std::chrono::steady_clock::now();
  QUIVER_ASSIGN_OR_RETURN(auto format, db_->get(kCfMeta, kFormatKey));
  if (!format) {
    auto batch = db_->batch();
    batch.put(kCfMeta, kFormatKey, kFormatValue);
    QUIVER_RETURN_IF_ERROR(db_->write(batch));
  } else if (*format != kFormatValue) {
    return Status::corruption("unsupported storage format version '" + *format + "'");
  }

  uint64_t max_seq = 0;
  Status inner;
  // Libraries.
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfLibraries, "", "", nullptr,
      [&](std::string_view key, std::string_view value) {
        codec::LibraryRecord rec;
        inner = codec::decode_library(value, rec);
        if (inner.is_ok() && rec.library.id != key) inner = Status::corruption("library key");
        if (!inner.is_ok()) return false;
        auto st = std::make_shared<LibraryState>();
        st->library = std::move(rec.library);
        st->library_seq = rec.seq;
        max_seq = std::max(max_seq, rec.seq);
        st->segments.push_back(
            std::make_shared<AppendableSegment>(st->library.dimension, kSegmentBlocks));
        names_[st->library.name] = st->library.id;
        libs_[st->library.id] = std::move(st);
        return true;
      },
      kRecoveryReadahead));
  QUIVER_RETURN_IF_ERROR(inner);

  // Splits "lib \0 id" keys; kCorruption when the library is unknown.
  auto owner = [&](std::string_view key, std::string_view& id) -> LibraryState* {
    const auto nul = key.find('\0');
    if (nul == std::string_view::npos) return nullptr;
    auto it = libs_.find(key.substr(0, nul));
    if (it == libs_.end()) return nullptr;
    id = key.substr(nul + 1);
    return it->second.get();
  };

  // Documents.
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfDocuments, "", "", nullptr,
      [&](std::string_view key, std::string_view value) {
        std::string_view doc_id;
        LibraryState* st = owner(key, doc_id);
        if (st == nullptr) {
          inner = Status::corruption("document record of an unknown library");
          return false;
        }
        codec::DocumentRecord rec;
        inner = codec::decode_document(value, st->library.id, rec);
        if (!inner.is_ok()) return false;
        max_seq = std::max(max_seq, rec.seq);
        st->documents.emplace(std::string(doc_id), DocState{});
        return true;
      },
      kRecoveryReadahead));
  QUIVER_RETURN_IF_ERROR(inner);

  // Chunks: vectors go straight from the record buffer into the segment blocks.
  uint64_t chunk_count = 0;
  QUIVER_RETURN_IF_ERROR(db_->scan(
      kCfChunks, "", "", nullptr,
      [&](std::string_view key, std::string_view value) {
        std::string_view chunk_id;
        LibraryState* st = owner(key, chunk_id);
        if (st == nullptr) {
          inner = Status::corruption("chunk record of an unknown library");
          return false;
        }
        codec::ChunkRecord rec;
        inner = codec::decode_chunk(value, st->library.id, rec);
        if (!inner.is_ok()) return false;
        auto doc = st->documents.find(rec.chunk.document_id);
        if (doc == st->documents.end() || rec.dimension() != st->library.dimension) {
          inner = Status::corruption("chunk '" + std::string(chunk_id) +
                                     "' has no document or a wrong dimension");
          return false;
        }
        max_seq = std::max(max_seq, rec.seq);
        // Records are not aligned for float access; copy through an aligned buffer.
        std::vector<float> v = rec.embedding_floats();
        ChunkLoc loc = append_row(*st, v.data(), std::string(chunk_id));
        loc.document_id = rec.chunk.document_id;
        loc.position = rec.position;
        loc.seq = rec.seq;
        doc->second.chunks.emplace(chunk_id);
        doc->second.add_position(rec.position);
        st->chunks.emplace(std::string(chunk_id), std::move(loc));
        ++chunk_count;
        return true;
      },
      kRecoveryReadahead));
  QUIVER_RETURN_IF_ERROR(inner);

  next_seq_.store(max_seq + 1);
  for (auto& [id, st] : libs_) {
    std::lock_guard lock(st->writer_mu);
    publish(*st, 1);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  spdlog::info("recovered {} libraries and {} chunks in {} ms", libs_.size(), chunk_count, ms);
  return Status::ok();
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
  for (const auto& seg : st.segments) snap->segments.push_back({seg, seg->size()});
  snap->read = db_->snapshot();
  st.seq = seq;
  st.publish(std::move(snap));
}

ChunkLoc DatabaseImpl::append_row(LibraryState& st, const float* v, std::string chunk_id) {
  if (st.segments.empty() || st.segments.back()->size() == st.segments.back()->capacity()) {
    st.segments.push_back(
        std::make_shared<AppendableSegment>(st.library.dimension, kSegmentBlocks));
  }
  ChunkLoc loc;
  loc.segment = static_cast<uint32_t>(st.segments.size() - 1);
  loc.row = st.segments.back()->append(v, std::move(chunk_id));
  return loc;
}

void DatabaseImpl::mark_deleted(LibraryState& st, const ChunkLoc& loc, uint64_t seq) {
  st.segments[loc.segment]->mark_deleted(loc.row, seq);
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
  st.state = "ready";
  // Only the appendable segment exists so far: every chunk is served by an exact scan,
  // which *is* the flat index; other types report their chunks as pending until the
  // optimizer (next task) builds them.
  if (st.type == "flat") {
    st.indexed_chunks = s.stats.chunk_count;
  } else {
    st.pending_chunks = s.stats.chunk_count;
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
