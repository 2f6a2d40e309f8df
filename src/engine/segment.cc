#include "engine/segment.h"

#include <cassert>
#include <cstring>

#include "index/distance.h"

namespace quiver::engine {

namespace {

// Blocks of about 4 MiB of vectors: 1,024 rows up to 1,024 dimensions, fewer (down to 16)
// for wider vectors, so a library of 16,384-d vectors does not allocate 64 MiB for its
// first chunk.
uint32_t block_shift_for(uint32_t dim) {
  constexpr std::size_t kTargetBytes = 4u << 20;
  uint32_t shift = 10;  // 1,024 rows
  while (shift > 4 && (std::size_t{1} << shift) * dim * sizeof(float) > kTargetBytes) --shift;
  return shift;
}

}  // namespace

AppendableSegment::Block::Block(uint32_t rows, uint32_t dim)
    : data(new float[static_cast<std::size_t>(rows) * dim]),
      norms(new float[rows]),
      ids(new std::string[rows]),
      deleted_at(new std::atomic<uint64_t>[rows]) {
  for (uint32_t i = 0; i < rows; ++i) deleted_at[i].store(kLive, std::memory_order_relaxed);
}

AppendableSegment::AppendableSegment(uint32_t dim, uint32_t max_blocks)
    : dim_(dim),
      max_blocks_(max_blocks),
      block_shift_(block_shift_for(dim)),
      blocks_(new Block*[max_blocks]()) {}

AppendableSegment::~AppendableSegment() {
  for (uint32_t i = 0; i < allocated_; ++i) delete blocks_[i];
}

uint32_t AppendableSegment::append(const float* v, std::string chunk_id) {
  assert(size_ < capacity());
  const uint32_t r = size_;
  if ((r >> block_shift_) == allocated_) {
    blocks_[allocated_] = new Block(block_rows(), dim_);
    ++allocated_;
  }
  Block& b = block(r);
  float* dst = b.data.get() + static_cast<std::size_t>(slot(r)) * dim_;
  std::memcpy(dst, v, sizeof(float) * dim_);
  b.norms[slot(r)] = index::norm(dst, dim_);
  b.ids[slot(r)] = std::move(chunk_id);
  ++size_;
  return r;
}

index::VectorView AppendableSegment::view(uint32_t first, uint32_t count) const {
  assert(slot(first) + count <= block_rows());
  const Block& b = block(first);
  index::VectorView v;
  v.data = b.data.get() + static_cast<std::size_t>(slot(first)) * dim_;
  v.norms = b.norms.get() + slot(first);
  v.rows = count;
  v.dim = dim_;
  return v;
}

const float* AppendableSegment::row(uint32_t r) const {
  return block(r).data.get() + static_cast<std::size_t>(slot(r)) * dim_;
}

std::size_t AppendableSegment::memory_bytes() const {
  const std::size_t per_row = sizeof(float) * (static_cast<std::size_t>(dim_) + 1) +
                              sizeof(std::string) + sizeof(std::atomic<uint64_t>);
  return static_cast<std::size_t>(allocated_) * (sizeof(Block) + per_row * block_rows());
}

}  // namespace quiver::engine
