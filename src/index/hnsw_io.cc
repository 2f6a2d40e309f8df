// HNSW save/load inside the checksummed index file (index_file.h). Only the graph is stored;
// the vectors come from the VectorView the index is loaded over.
//
// Payload (format version 1 of the container, little-endian):
//   u32 m, u32 max_level, u32 entry
//   vector<u8>  levels        (rows entries)
//   vector<u32> layer0        (rows * (2m + 1): count, then 2m slots)
//   vector<u32> upper_links   (sum of levels * (m + 1): per node, level 1 first)
// The container's CRC catches random damage; the checks below additionally guarantee that
// a file that passes the CRC but is inconsistent (a bug, a crafted file) can never make a
// search read out of bounds or return a row that does not exist.
#include <algorithm>
#include <exception>

#include "index/hnsw.h"
#include "index/index_file.h"

namespace quiver::index::hnsw {
namespace internal {

Status HnswIndex::save(const std::string& path) const {
  IndexFileWriter writer({"hnsw", metric_, view_.rows, view_.dim});
  writer.write<uint32_t>(m_);
  writer.write<uint32_t>(max_level_);
  writer.write<uint32_t>(entry_);
  writer.write_vector(levels_);
  writer.write_vector(layer0_);
  writer.write_vector(upper_links_);
  return writer.commit(path);
}

namespace {
Status check_list(const uint32_t* l, uint32_t cap, uint32_t rows, uint32_t node) {
  if (l[0] > cap) {
    return Status::corruption("hnsw index file: node " + std::to_string(node) +
                              " has too many links");
  }
  for (uint32_t j = 1; j <= l[0]; ++j) {
    if (l[j] >= rows) {
      return Status::corruption("hnsw index file: link to row " + std::to_string(l[j]) +
                                " out of range");
    }
  }
  return Status::ok();
}
}  // namespace

Status HnswIndex::load_graph(const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(IndexFileReader reader,
                          IndexFileReader::open(path, {"hnsw", metric_, view_.rows, view_.dim}));
  uint32_t m = 0, max_level = 0, entry = 0;
  QUIVER_RETURN_IF_ERROR(reader.read(m));
  QUIVER_RETURN_IF_ERROR(reader.read(max_level));
  QUIVER_RETURN_IF_ERROR(reader.read(entry));
  if (m != m_) {
    return Status::corruption("hnsw index file: built with m=" + std::to_string(m) +
                              ", expected m=" + std::to_string(m_));
  }
  const uint32_t rows = view_.rows;
  std::vector<uint8_t> levels;
  QUIVER_RETURN_IF_ERROR(reader.read_vector(levels, rows));
  if (levels.size() != rows) return Status::corruption("hnsw index file: wrong level count");
  uint32_t top = 0;
  for (uint8_t lv : levels) {
    if (lv > kMaxLevel) return Status::corruption("hnsw index file: level out of range");
    top = std::max<uint32_t>(top, lv);
  }
  if (rows > 0 && (entry >= rows || max_level != top || levels[entry] != top)) {
    return Status::corruption("hnsw index file: bad entry point");
  }
  allocate(std::move(levels));
  QUIVER_RETURN_IF_ERROR(reader.read_vector(layer0_, layer0_.size()));
  if (layer0_.size() != std::size_t{rows} * (m0_ + 1)) {
    return Status::corruption("hnsw index file: wrong layer-0 size");
  }
  const std::size_t upper_expected = upper_links_.size();
  QUIVER_RETURN_IF_ERROR(reader.read_vector(upper_links_, upper_expected));
  if (upper_links_.size() != upper_expected) {
    return Status::corruption("hnsw index file: wrong upper-layer size");
  }
  QUIVER_RETURN_IF_ERROR(reader.expect_end());
  for (uint32_t v = 0; v < rows; ++v) {
    for (uint32_t l = 0; l <= levels_[v]; ++l) {
      QUIVER_RETURN_IF_ERROR(check_list(links(v, l), cap(l), rows, v));
    }
  }
  max_level_ = max_level;
  entry_ = entry;
  encode_codes();
  return Status::ok();
}

}  // namespace internal

Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path) {
  if (params.m < 2 || params.m > internal::kMaxM) {
    return Status::invalid_field("m", "must be between 2 and " + std::to_string(internal::kMaxM));
  }
  if (metric == Metric::kCosine && view.rows > 0 && view.norms == nullptr) {
    return Status::invalid("hnsw: cosine needs stored norms");
  }
  try {
    auto index = std::make_unique<internal::HnswIndex>(params, metric, view);
    QUIVER_RETURN_IF_ERROR(index->load_graph(path));
    return std::unique_ptr<VectorIndex>(std::move(index));
  } catch (const std::exception& e) {
    return Status::internal(std::string("hnsw load failed: ") + e.what());
  }
}

}  // namespace quiver::index::hnsw
