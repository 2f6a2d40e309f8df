// Segments: where a library's vectors live in memory.
//
// A library has one appendable segment taking inserts (this file) and any number of sealed,
// indexed ones (sealed_segment.h) with the same small interface: rows, dim, views, norms,
// row -> chunk id, deletion stamps. See docs/segments.md.
//
// AppendableSegment stores rows in fixed-size blocks (block_rows() rows each: 1,024, fewer
// for very wide vectors so that a block stays near 4 MiB) allocated on demand and referenced from a block table whose capacity is fixed at construction, so an
// append NEVER moves memory that a reader may be reading. A writer fills rows [n, n+m) and
// only then publishes a Snapshot that makes them visible (rows < visible count).
//
// Deletion is versioned: each row has `deleted_at` (UINT64_MAX while live). A delete or
// update in library write number S stores S before snapshot S is published; a reader holding
// snapshot s treats the row as deleted iff deleted_at <= s. So a document delete (many rows)
// or an update (old row deleted, new row appended) appears atomically, without copying.
//
// Thread-safety: ONE writer (the library's writer mutex holder) may call append() and
// mark_deleted() while any number of readers call the const accessors on rows that a
// published snapshot made visible. The happens-before edge from writer to readers is the
// snapshot publication (a mutex), except deleted_at, which is atomic because it changes
// on rows that are already visible.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "index/vector_index.h"

namespace quiver::engine {

class AppendableSegment {
 public:
  static constexpr uint32_t kMaxBlockRows = 1024;
  static constexpr uint64_t kLive = UINT64_MAX;

  // A segment of at most max_blocks * block_rows() rows of `dim` floats.
  AppendableSegment(uint32_t dim, uint32_t max_blocks);
  ~AppendableSegment();
  AppendableSegment(const AppendableSegment&) = delete;
  AppendableSegment& operator=(const AppendableSegment&) = delete;

  uint32_t dim() const { return dim_; }
  // Rows per block: a power of two in [16, kMaxBlockRows]. Views never cross blocks.
  uint32_t block_rows() const { return 1u << block_shift_; }
  uint32_t capacity() const { return max_blocks_ << block_shift_; }

  // ---- Writer side (REQUIRES: the owning library's writer mutex).
  // Rows appended so far (visible or not).
  uint32_t size() const { return size_; }
  // Appends one row (`dim` floats copied from `v`, its Euclidean norm and chunk id) and
  // returns its row number. REQUIRES: size() < capacity().
  uint32_t append(const float* v, std::string chunk_id);
  // Marks `row` deleted as of library write number `seq`.
  void mark_deleted(uint32_t row, uint64_t seq) {
    deleted_at(row).store(seq, std::memory_order_release);
  }

  // ---- Reader side (rows below a published snapshot's visible count).
  // Rows [first, first + count) as one contiguous view. REQUIRES: the range lies in one
  // block (first % block_rows() + count <= block_rows()).
  index::VectorView view(uint32_t first, uint32_t count) const;
  const float* row(uint32_t r) const;
  float norm(uint32_t r) const { return block(r).norms[slot(r)]; }
  const std::string& chunk_id(uint32_t r) const { return block(r).ids[slot(r)]; }
  // The write number that deleted row `r`, or kLive.
  uint64_t deleted_seq(uint32_t r) const { return deleted_at(r).load(std::memory_order_acquire); }
  // True when row `r` is deleted as seen by a snapshot with sequence `snapshot_seq`.
  bool is_deleted(uint32_t r, uint64_t snapshot_seq) const {
    return deleted_at(r).load(std::memory_order_acquire) <= snapshot_seq;
  }

  // Bytes held by allocated blocks (excluding the ids' heap strings). REQUIRES: writer.
  std::size_t memory_bytes() const;

 private:
  struct Block {
    Block(uint32_t rows, uint32_t dim);
    std::unique_ptr<float[]> data;  // rows * dim
    std::unique_ptr<float[]> norms;
    std::unique_ptr<std::string[]> ids;
    std::unique_ptr<std::atomic<uint64_t>[]> deleted_at;
  };
  Block& block(uint32_t r) const { return *blocks_[r >> block_shift_]; }
  uint32_t slot(uint32_t r) const { return r & (block_rows() - 1); }
  std::atomic<uint64_t>& deleted_at(uint32_t r) const { return block(r).deleted_at[slot(r)]; }

  const uint32_t dim_;
  const uint32_t max_blocks_;
  const uint32_t block_shift_;
  // Allocated once with max_blocks_ entries; entry i is set (by the writer) before any row
  // of block i is published, and never changes afterwards.
  std::unique_ptr<Block*[]> blocks_;
  uint32_t size_ = 0;        // writer-only
  uint32_t allocated_ = 0;   // writer-only: blocks allocated
};

}  // namespace quiver::engine
