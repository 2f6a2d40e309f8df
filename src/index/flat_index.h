// Flat (exact) search: a linear scan over contiguous rows with the SIMD distance kernels.
//
// `scan` is the building block: the engine calls it over blocks of its appendable segment,
// and FlatIndex uses it over a sealed segment. O(rows * dim) per query, no extra memory.
//
// Thread-safety: scan is reentrant; FlatIndex is immutable, so search() may run from any
// number of threads at once (each with its own TopK).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "index/distance.h"
#include "index/vector_index.h"

namespace quiver::index {

// Pushes (distance, row_offset + r) into `out` for every row r of `view` for which
// `filter` (may be null = all rows) allows `row_offset + r`. REQUIRES: query.vector holds
// view.dim floats; for kCosine, view.norms holds view.rows norms and query.norm is set.
void scan(const Query& query, Metric metric, const VectorView& view, uint32_t row_offset,
          const RowFilter* filter, TopK& out);

// The same with explicit kernels instead of kernels() (benchmarks compare instruction sets
// in one process; tests pin one). `kernels` must outlive the call.
void scan(const Query& query, Metric metric, const VectorView& view, uint32_t row_offset,
          const RowFilter* filter, TopK& out, const Kernels& kernels);

inline constexpr std::string_view kFlatIndexType = "flat";

class FlatIndex final : public VectorIndex {
 public:
  // `view` must outlive the index (it is not copied).
  FlatIndex(Metric metric, VectorView view) : metric_(metric), view_(view) {}

  std::string_view type() const override { return kFlatIndexType; }
  Metric metric() const override { return metric_; }
  uint32_t rows() const override { return view_.rows; }
  void search(const Query& query, const SearchParams& params, const RowFilter* filter,
              TopK& out) const override;
  std::size_t memory_bytes() const override { return sizeof(*this); }
  // No payload: the file only records type/metric/rows/dim so that load() can verify it.
  Status save(const std::string& path) const override;

 private:
  Metric metric_;
  VectorView view_;
};

// Builds a flat index over `view` (nothing to compute). `view` must outlive the index.
std::unique_ptr<VectorIndex> make_flat_index(Metric metric, VectorView view);

// Loads a flat index saved at `path` for the same metric and view; kCorruption when the
// file is damaged or was written for another type/metric/rows/dim.
Result<std::unique_ptr<VectorIndex>> load_flat_index(Metric metric, VectorView view,
                                                     const std::string& path);

}  // namespace quiver::index
