#include "engine/sealed_segment.h"

#include <cstring>

namespace quiver::engine {

SealedSegment::SealedSegment(uint32_t dim, uint32_t rows)
    : dim_(dim),
      rows_(rows),
      data_(new float[static_cast<std::size_t>(rows) * dim]),
      norms_(new float[rows]),
      ids_(new std::string[rows]),
      deleted_at_(new std::atomic<uint64_t>[rows]) {
  for (uint32_t i = 0; i < rows; ++i) deleted_at_[i].store(kLive, std::memory_order_relaxed);
}

void SealedSegment::fill_row(uint32_t r, const float* v, float norm, std::string chunk_id) {
  std::memcpy(data_.get() + static_cast<std::size_t>(r) * dim_, v, sizeof(float) * dim_);
  norms_[r] = norm;
  ids_[r] = std::move(chunk_id);
}

void SealedSegment::fill_missing(uint32_t r, std::string chunk_id) {
  std::memset(data_.get() + static_cast<std::size_t>(r) * dim_, 0, sizeof(float) * dim_);
  norms_[r] = 0.0f;
  ids_[r] = std::move(chunk_id);
  deleted_at_[r].store(0, std::memory_order_relaxed);
}

std::size_t SealedSegment::memory_bytes() const {
  const std::size_t per_row = sizeof(float) * (static_cast<std::size_t>(dim_) + 1) +
                              sizeof(std::string) + sizeof(std::atomic<uint64_t>);
  return sizeof(*this) + per_row * rows_;
}

}  // namespace quiver::engine
