#include "index/flat_index.h"

#include "index/distance.h"
#include "index/index_file.h"

namespace quiver::index {

namespace {

// One loop per metric so the branch on the metric and the kernel lookup stay outside the
// per-row work. `Filtered` is a compile-time switch so unfiltered scans test nothing.
template <Metric M, bool Filtered>
void scan_rows(DistanceFn fn, const Query& q, const VectorView& v, uint32_t row_offset,
               const RowFilter* filter, TopK& out) {
  const std::size_t dim = v.dim;
  const float* row = v.data;
  for (uint32_t r = 0; r < v.rows; ++r, row += dim) {
    if constexpr (Filtered) {
      if (!filter->allows(row_offset + r)) continue;
    }
    const float raw = fn(q.vector, row, dim);
    const float d = finish_distance(M, raw, q.norm, M == Metric::kCosine ? v.norms[r] : 0.0f);
    // Most rows lose against the current k-th; skipping the call keeps the heap cold.
    if (d <= out.threshold()) out.push(d, row_offset + r);
  }
}

template <Metric M>
void scan_metric(DistanceFn fn, const Query& q, const VectorView& v, uint32_t row_offset,
                 const RowFilter* filter, TopK& out) {
  if (filter != nullptr) {
    scan_rows<M, true>(fn, q, v, row_offset, filter, out);
  } else {
    scan_rows<M, false>(fn, q, v, row_offset, filter, out);
  }
}

}  // namespace

void scan(const Query& query, Metric metric, const VectorView& view, uint32_t row_offset,
          const RowFilter* filter, TopK& out) {
  scan(query, metric, view, row_offset, filter, out, kernels());
}

void scan(const Query& query, Metric metric, const VectorView& view, uint32_t row_offset,
          const RowFilter* filter, TopK& out, const Kernels& kernels) {
  if (view.rows == 0 || out.k() == 0) return;
  const DistanceFn fn = metric_kernel(metric, kernels);
  switch (metric) {
    case Metric::kL2:
      scan_metric<Metric::kL2>(fn, query, view, row_offset, filter, out);
      break;
    case Metric::kDot:
      scan_metric<Metric::kDot>(fn, query, view, row_offset, filter, out);
      break;
    case Metric::kCosine:
      scan_metric<Metric::kCosine>(fn, query, view, row_offset, filter, out);
      break;
  }
}

void FlatIndex::search(const Query& query, const SearchParams& /*params*/,
                       const RowFilter* filter, TopK& out) const {
  scan(query, metric_, view_, 0, filter, out);
}

Status FlatIndex::save(const std::string& path) const {
  IndexFileWriter w({std::string(kFlatIndexType), metric_, view_.rows, view_.dim});
  return w.commit(path);
}

std::unique_ptr<VectorIndex> make_flat_index(Metric metric, VectorView view) {
  return std::make_unique<FlatIndex>(metric, view);
}

Result<std::unique_ptr<VectorIndex>> load_flat_index(Metric metric, VectorView view,
                                                     const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(
      auto reader,
      IndexFileReader::open(path, {std::string(kFlatIndexType), metric, view.rows, view.dim}));
  QUIVER_RETURN_IF_ERROR(reader.expect_end());
  return make_flat_index(metric, view);
}

}  // namespace quiver::index
