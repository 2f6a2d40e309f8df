// DatabaseImpl::recover: rebuilds the in-memory state from RocksDB at open().
//
// Sealed segments come back from their manifests (segment_manifest.h): each manifest row is
// filled from its chunk record when the record's embedding still hashes to what the index was
// built over; every other chunk goes to the appendable segment. Index files are loaded, not
// rebuilt; a missing or damaged one leaves the segment without index (searched exactly) and
// the optimizer rebuilds it.
#include <chrono>
#include <filesystem>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "engine/database_impl.h"
#include "engine/segment_manifest.h"
#include "index/distance.h"

namespace quiver::engine {

namespace {
constexpr std::string_view kFormatKey = "format_version";
constexpr std::string_view kFormatValue = "1";
constexpr std::size_t kRecoveryReadahead = 8u << 20;

// A sealed segment being rebuilt from its manifest.
struct PendingSealed {
  manifest::SegmentManifest m;
  std::shared_ptr<SealedSegment> seg;
  std::vector<bool> filled;
};

struct PendingLibrary {
  std::vector<PendingSealed> sealed;
  // chunk id -> (index into `sealed`, row)
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>> rows;
};
}  // namespace

Status DatabaseImpl::recover() {
  const auto start = std::chrono::steady_clock::now();
  QUIVER_ASSIGN_OR_RETURN(auto format, db_->get(kCfMeta, kFormatKey));
  if (!format) {
    auto batch = db_->batch();
    batch.put(kCfMeta, kFormatKey, kFormatValue);
    QUIVER_RETURN_IF_ERROR(commit(batch));
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

  // Segment manifests. A manifest that does not decode, or of an unknown library, is dropped
  // (its chunks then simply go to the appendable segment): never fatal, never wrong rows.
  std::map<std::string, PendingLibrary, std::less<>> pending;
  std::vector<std::string> bad_keys;
  uint64_t max_segment = 0;
  const std::string mprefix = manifest::all_prefix();
  QUIVER_RETURN_IF_ERROR(db_->scan_prefix(
      kCfMeta, mprefix, nullptr, [&](std::string_view key, std::string_view value) {
        std::string_view lib_id;
        uint64_t seg_id = 0;
        manifest::SegmentManifest m;
        Status s;
        if (!manifest::parse_key(key, lib_id, seg_id)) {
          s = Status::corruption("bad segment manifest key");
        } else if (libs_.count(lib_id) == 0) {
          s = Status::corruption("segment manifest of an unknown library");
        } else {
          s = manifest::decode(value, m);
        }
        if (!s.is_ok() || m.chunk_ids.empty()) {
          spdlog::warn("dropping segment manifest: {}", s.is_ok() ? "no rows" : s.to_string());
          bad_keys.emplace_back(key);
          return true;
        }
        m.segment_id = seg_id;
        max_segment = std::max(max_segment, seg_id);
        PendingLibrary& pl = pending[std::string(lib_id)];
        const auto which = static_cast<uint32_t>(pl.sealed.size());
        for (uint32_t r = 0; r < m.chunk_ids.size(); ++r) pl.rows[m.chunk_ids[r]] = {which, r};
        const uint32_t dim = libs_.find(lib_id)->second->library.dimension;
        PendingSealed ps;
        ps.seg = std::make_shared<SealedSegment>(dim, static_cast<uint32_t>(m.chunk_ids.size()));
        ps.filled.assign(m.chunk_ids.size(), false);
        ps.m = std::move(m);
        pl.sealed.push_back(std::move(ps));
        return true;
      },
      kRecoveryReadahead));
  if (!bad_keys.empty()) {
    auto batch = db_->batch();
    for (const auto& k : bad_keys) batch.del(kCfMeta, k);
    QUIVER_RETURN_IF_ERROR(commit(batch));
  }
  next_segment_id_.store(max_segment + 1);
  for (auto& [id, st] : libs_) {
    // The appendable segment gets an id above every sealed one (map order = age order).
    SegmentEntry e;
    e.appendable = std::make_shared<AppendableSegment>(st->library.dimension, kSegmentBlocks);
    st->active = next_segment_id_.fetch_add(1);
    st->segments.emplace(st->active, std::move(e));
  }

  // Chunks: vectors go straight from the record buffer into the segments.
  uint64_t chunk_count = 0;
  PendingLibrary* pl = nullptr;
  std::string pl_lib;
  std::vector<float> v;
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
        if (pl_lib != st->library.id) {  // keys are grouped by library
          pl_lib = st->library.id;
          auto it = pending.find(pl_lib);
          pl = it == pending.end() ? nullptr : &it->second;
        }
        // Records are not aligned for float access; copy through an aligned buffer.
        v = rec.embedding_floats();
        ChunkLoc loc;
        bool placed = false;
        if (pl != nullptr) {
          auto row = pl->rows.find(std::string(chunk_id));
          if (row != pl->rows.end()) {
            PendingSealed& ps = pl->sealed[row->second.first];
            const uint32_t r = row->second.second;
            // The index was built over the embedding the manifest hashed; a chunk updated
            // since has another one and lives in the appendable segment instead.
            if (!ps.filled[r] &&
                manifest::embedding_hash(rec.embedding_bytes.data(), rec.embedding_bytes.size()) ==
                    ps.m.hashes[r]) {
              ps.seg->fill_row(r, v.data(), index::norm(v.data(), st->library.dimension),
                               std::string(chunk_id));
              ps.filled[r] = true;
              loc.segment = ps.m.segment_id;
              loc.row = r;
              placed = true;
            }
          }
        }
        if (!placed) loc = append_row(*st, v.data(), std::string(chunk_id));
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

  // Sealed segments: rows whose chunk is gone are deleted; indexes are loaded from files.
  uint64_t loaded = 0, failed = 0;
  for (auto& [lib_id, p] : pending) {
    LibraryState& st = *libs_.at(lib_id);
    for (PendingSealed& ps : p.sealed) {
      SegmentEntry e;
      for (uint32_t r = 0; r < ps.seg->rows(); ++r) {
        if (!ps.filled[r]) {
          ps.seg->fill_missing(r, ps.m.chunk_ids[r]);
          ++e.deleted;
        }
      }
      const std::string path = index_path(lib_id, ps.m.segment_id);
      auto idx = index::load_index(ps.m.index, st.library.metric, ps.seg->view(), path);
      if (idx.is_ok()) {
        e.index = std::move(idx).value();
        ++loaded;
      } else {
        spdlog::warn("library {}: index file {} unusable ({}); segment will be rebuilt", lib_id,
                     path, idx.status().to_string());
        ++failed;
      }
      e.index_config = std::make_shared<const IndexConfig>(std::move(ps.m.index));
      e.sealed = std::move(ps.seg);
      st.segments.emplace(ps.m.segment_id, std::move(e));
    }
  }
  counters_.index_loads.store(loaded);
  counters_.index_load_failures.store(failed);
  remove_unreferenced_index_files();

  next_seq_.store(max_seq + 1);
  for (auto& [id, st] : libs_) {
    std::lock_guard lock(st->writer_mu);
    publish(*st, 1);
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  spdlog::info("recovered {} libraries and {} chunks ({} index files loaded, {} to rebuild) in {} ms",
               libs_.size(), chunk_count, loaded, failed, ms);
  return Status::ok();
}

}  // namespace quiver::engine
