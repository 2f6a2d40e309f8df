// A library's in-memory state: the published Snapshot that readers use, and the writer-only
// maps that writes consult. See docs/concurrency.md for the locks and their order.
//
// Thread-safety: Snapshot is immutable once published and may be shared freely.
// LibraryState: `writer_mu` serializes writers; fields marked "writer" are only touched with
// it held; the published snapshot pointer is guarded by a small mutex of its own (held only
// to copy or swap the pointer).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/segment.h"
#include "engine/types.h"
#include "storage/db.h"

namespace quiver::engine {

struct SegmentRef {
  std::shared_ptr<const AppendableSegment> segment;
  uint32_t rows = 0;  // rows visible in this snapshot
};

// What a reader sees of a library: consistent, immutable, never waits for writers.
struct Snapshot {
  Library library;
  LibraryStats stats;
  uint64_t library_seq = 0;   // the library's creation sequence (library_order key)
  uint64_t seq = 0;           // library write number: rows with deleted_at <= seq are gone
  std::vector<SegmentRef> segments;
  // RocksDB as of right after the write that produced this snapshot committed, so record
  // reads agree with the vectors searched.
  storage::ReadSnapshotPtr read;
};

// Where a live chunk's vector is.
struct ChunkLoc {
  uint32_t segment = 0;  // index into LibraryState::segments
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

struct LibraryState {
  std::mutex writer_mu;  // serializes writes of this library

  // ---- writer (REQUIRES writer_mu)
  bool dropped = false;  // deleted: writers that raced the delete must report 404
  Library library;
  uint64_t library_seq = 0;
  uint64_t seq = 0;  // last published write number
  std::vector<std::shared_ptr<AppendableSegment>> segments;  // last one takes appends
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
