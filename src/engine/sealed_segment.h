// SealedSegment: an immutable run of rows that an index is built over.
//
// Unlike AppendableSegment (blocks, so appends never move memory), a sealed segment's
// vectors are ONE contiguous rows x dim float32 allocation, because index::VectorView and
// every index algorithm need contiguous rows. It is filled once by the optimizer (outside
// any lock, before any reader can see it) and then never changes, except the per-row
// `deleted_at` stamps, which follow exactly the appendable segment's rules so that a delete
// or update of a sealed row is atomic per library write (see segment.h).
//
// Thread-safety: fill_row() only before the segment is published. After that, any number
// of readers may use the const accessors while ONE writer (the library's writer mutex
// holder) calls mark_deleted(); deleted_at is atomic (release store / acquire load).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "index/vector_index.h"

namespace quiver::engine {

class SealedSegment {
 public:
  static constexpr uint64_t kLive = UINT64_MAX;

  // Allocates `rows` rows of `dim` floats, every row live. REQUIRES: rows > 0.
  SealedSegment(uint32_t dim, uint32_t rows);
  SealedSegment(const SealedSegment&) = delete;
  SealedSegment& operator=(const SealedSegment&) = delete;

  uint32_t dim() const { return dim_; }
  uint32_t rows() const { return rows_; }

  // ---- Filling (REQUIRES: not yet visible to any other thread).
  // Copies `dim` floats from `v` into row `r` with its precomputed Euclidean `norm`.
  void fill_row(uint32_t r, const float* v, float norm, std::string chunk_id);
  // Row `r` holds no vector (its chunk is gone): zeros, deleted as of write number 0.
  void fill_missing(uint32_t r, std::string chunk_id);

  // ---- Writer (REQUIRES: the owning library's writer mutex).
  void mark_deleted(uint32_t r, uint64_t seq) {
    deleted_at_[r].store(seq, std::memory_order_release);
  }

  // ---- Readers.
  // All rows: the view indexes are built over. Valid while the segment lives.
  index::VectorView view() const { return {data_.get(), norms_.get(), rows_, dim_}; }
  const float* row(uint32_t r) const { return data_.get() + static_cast<std::size_t>(r) * dim_; }
  float norm(uint32_t r) const { return norms_[r]; }
  const std::string& chunk_id(uint32_t r) const { return ids_[r]; }
  // The write number that deleted row `r`, or kLive.
  uint64_t deleted_at(uint32_t r) const { return deleted_at_[r].load(std::memory_order_acquire); }
  bool is_deleted(uint32_t r, uint64_t snapshot_seq) const {
    return deleted_at(r) <= snapshot_seq;
  }

  std::size_t memory_bytes() const;

 private:
  const uint32_t dim_;
  const uint32_t rows_;
  std::unique_ptr<float[]> data_;  // rows * dim
  std::unique_ptr<float[]> norms_;
  std::unique_ptr<std::string[]> ids_;
  std::unique_ptr<std::atomic<uint64_t>[]> deleted_at_;
};

}  // namespace quiver::engine
