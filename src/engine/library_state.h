// A library's in-memory state: the published Snapshot that readers use, and the writer-only
// maps that writes consult, including the segment map (appendable + sealed segments by
// stable id; docs/segments.md). See docs/concurrency.md for the locks and their order.
//
// Thread-safety: Snapshot is immutable once published and may be shared freely.
// LibraryState: `writer_mu` serializes writers; fields marked "writer" are only touched with
// it held; the published snapshot pointer is guarded by a small mutex of its own (held only
// to copy or swap the pointer).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/sealed_segment.h"
#include "engine/segment.h"
#include "engine/types.h"
#include "storage/db.h"

namespace quiver::engine {

// One segment as a snapshot sees it. Exactly one of `appendable` / `sealed` is set.
// Attaching an index to sealed data shares the data (no copy): the SegmentRef just points
// at both.
struct SegmentRef {
  uint64_t id = 0;  // stable segment id (ChunkLoc::segment)
  std::shared_ptr<const AppendableSegment> appendable;
  std::shared_ptr<const SealedSegment> sealed;
  std::shared_ptr<const index::VectorIndex> index;  // sealed only; null until built
  std::shared_ptr<const IndexConfig> index_config;  // what `index` was built with
  bool index_current = false;  // index built with the library's current config
  uint32_t rows = 0;  // rows visible in this snapshot
  uint32_t live = 0;  // of which not deleted (for RowFilter::estimated_allowed)
};

// What a reader sees of a library: consistent, immutable, never waits for writers.
struct Snapshot {
  Library library;
  LibraryStats stats;
  uint64_t library_seq = 0;   // the library's creation sequence (library_order key)
  uint64_t seq = 0;           // library write number: rows with deleted_at <= seq are gone
  std::vector<SegmentRef> segments;
  // The optimizer has work outstanding for this library (a rewrite running, a seal
  // requested, a frozen appendable segment, or a sealed one without a current index):
  // index_status reports "building".
  bool optimizing = false;
  // RocksDB as of right after the write that produced this snapshot committed, so record
  // reads agree with the vectors searched.
  storage::ReadSnapshotPtr read;
};

// Where a live chunk's vector is.
struct ChunkLoc {
  uint64_t segment = 0;  // stable id: key of LibraryState::segments
  uint32_t row = 0;
  std::string document_id;
  uint64_t position = 0;
  uint64_t seq = 0;  // creation sequence (part of the chunk_order key)
};

struct DocState {
  std::set<std::string> chunks;             // live chunk ids
  std::map<uint64_t, uint32_t> positions;   // position -> live chunks holding it
  // The position a chunk without one gets: max existing + 1, or 0 for the first.
  uint64_t next_position() const {
    return positions.empty() ? 0 : positions.rbegin()->first + 1;
  }
  void add_position(uint64_t p) { ++positions[p]; }
  void remove_position(uint64_t p) {
    auto it = positions.find(p);
    if (it != positions.end() && --it->second == 0) positions.erase(it);
  }
};

// A segment as the writer side knows it. Exactly one of appendable / sealed is set.
struct SegmentEntry {
  std::shared_ptr<AppendableSegment> appendable;
  std::shared_ptr<SealedSegment> sealed;
  std::shared_ptr<const index::VectorIndex> index;
  std::shared_ptr<const IndexConfig> index_config;
  uint32_t deleted = 0;      // rows marked deleted
  bool busy = false;         // an input of a running rewrite
  bool stale = false;        // rebuild requested (POST index) although the config matches
  // The config whose build failed on this segment (not cancelled): not retried until the
  // library's config changes, so a failing build cannot spin the optimizer.
  std::shared_ptr<const IndexConfig> failed_config;

  uint32_t rows() const { return sealed ? sealed->rows() : appendable->size(); }
  bool build_failed(const IndexConfig& config) const {
    return failed_config && *failed_config == config;
  }
  void mark_deleted(uint32_t row, uint64_t seq) {
    if (sealed) {
      sealed->mark_deleted(row, seq);
    } else {
      appendable->mark_deleted(row, seq);
    }
    ++deleted;
  }
  // The write number that deleted `row`, or UINT64_MAX.
  uint64_t deleted_at(uint32_t row) const {
    return sealed ? sealed->deleted_at(row) : appendable->deleted_seq(row);
  }
};

struct LibraryState {
  std::mutex writer_mu;  // serializes writes of this library

  // ---- writer (REQUIRES writer_mu)
  bool dropped = false;  // deleted: writers that raced the delete must report 404
  Library library;
  uint64_t library_seq = 0;
  uint64_t seq = 0;  // last published write number
  // Every segment by stable id (ids only grow, so map order is age order).
  std::map<uint64_t, SegmentEntry> segments;
  uint64_t active = 0;       // id of the appendable segment that takes inserts
  uint32_t rewrites = 0;     // rewrites planned and not yet installed or abandoned
  bool seal_requested = false;  // rebuild_index / PATCH index: seal even below threshold
  bool optimizer_due = false;   // a write made work for the optimizer (seal or vacuum)
  // Set (and replaced by a fresh flag) when running rewrites must stop: library deleted,
  // index config or dimension changed, shutdown. Each rewrite keeps the flag it started with.
  std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
  void cancel_rewrites() {
    cancel->store(true);
    cancel = std::make_shared<std::atomic<bool>>(false);
  }
  std::unordered_map<std::string, ChunkLoc> chunks;
  std::unordered_map<std::string, DocState> documents;

  // ---- published snapshot
  std::shared_ptr<const Snapshot> load() const {
    std::lock_guard lock(snap_mu_);
    return snap_;
  }
  void publish(std::shared_ptr<const Snapshot> s) {
    std::shared_ptr<const Snapshot> old;
    {
      std::lock_guard lock(snap_mu_);
      old = std::exchange(snap_, std::move(s));
    }
    // `old` (and possibly its RocksDB snapshot) is released here, outside snap_mu_.
  }

 private:
  mutable std::mutex snap_mu_;  // guards snap_ only; held for a pointer copy
  std::shared_ptr<const Snapshot> snap_;
};

}  // namespace quiver::engine
