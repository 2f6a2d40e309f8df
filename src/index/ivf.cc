#include "index/ivf.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/index_file.h"
#include "index/kmeans.h"

namespace quiver::index::ivf {
namespace {

// File payload (inside index_file.h's checksummed container), little-endian:
//   u32 payload version (1), u32 nlist, centroids (u64 count + f32[nlist*dim]),
//   offsets (u64 count + u32[nlist+1]), rows (u64 count + u32[rows], a permutation).
constexpr uint32_t kPayloadVersion = 1;

struct Lists {
  uint32_t nlist = 0;
  std::vector<float> centroids;   // nlist * dim
  std::vector<uint32_t> offsets;  // nlist + 1; list c is rows[offsets[c], offsets[c+1])
  std::vector<uint32_t> rows;     // every row once, grouped by list
};

class IvfIndex final : public VectorIndex {
 public:
  IvfIndex(Metric metric, VectorView view, Lists lists, uint32_t default_nprobe)
      : metric_(metric),
        view_(view),
        lists_(std::move(lists)),
        default_nprobe_(default_nprobe),
        kernels_(&kernels()),
        fn_(metric_kernel(metric, kernels())) {}

  std::string_view type() const override { return "ivf"; }
  Metric metric() const override { return metric_; }
  uint32_t rows() const override { return view_.rows; }
  uint32_t nlist() const { return lists_.nlist; }

  void search(const Query& query, const SearchParams& params, const RowFilter* filter,
              TopK& out) const override;

  std::size_t memory_bytes() const override {
    return sizeof(*this) + lists_.centroids.capacity() * sizeof(float) +
           (lists_.offsets.capacity() + lists_.rows.capacity()) * sizeof(uint32_t);
  }

  Status save(const std::string& path) const override;

 private:
  Metric metric_;
  VectorView view_;
  Lists lists_;
  uint32_t default_nprobe_;
  const Kernels* kernels_;
  DistanceFn fn_;
};

IndexFileIdentity identity(Metric metric, const VectorView& view) {
  return IndexFileIdentity{"ivf", metric, view.rows, view.dim};
}

void IvfIndex::search(const Query& query, const SearchParams& params, const RowFilter* filter,
                      TopK& out) const {
  const uint32_t nlist = lists_.nlist;
  if (view_.rows == 0 || nlist == 0 || out.k() == 0) return;
  const uint32_t nprobe = std::clamp<uint32_t>(params.nprobe.value_or(default_nprobe_), 1, nlist);
  if (filter != nullptr) {
    // The probed lists hold about allowed * nprobe / nlist admissible rows; when that is
    // fewer than k the probe would return too few results, and an exact scan of the few
    // allowed rows is both cheaper and exact.
    const uint64_t allowed = filter->estimated_allowed(view_.rows);
    if (allowed * nprobe < static_cast<uint64_t>(out.k()) * nlist) {
      scan(query, metric_, view_, 0, filter, out);
      return;
    }
  }
  // Rank the centroids under the convention of the header (smaller is nearer).
  std::vector<std::pair<float, uint32_t>> order(nlist);
  const std::size_t dim = view_.dim;
  for (uint32_t c = 0; c < nlist; ++c) {
    const float* cen = lists_.centroids.data() + c * dim;
    const float d = metric_ == Metric::kL2 ? kernels_->l2_sq(query.vector, cen, dim)
                                           : -kernels_->dot(query.vector, cen, dim);
    order[c] = {d, c};
  }
  if (nprobe < nlist) {
    std::partial_sort(order.begin(), order.begin() + nprobe, order.end());
  }
  const bool cosine = metric_ == Metric::kCosine;
  for (uint32_t p = 0; p < nprobe; ++p) {
    const uint32_t c = order[p].second;
    for (uint32_t i = lists_.offsets[c]; i < lists_.offsets[c + 1]; ++i) {
      const uint32_t r = lists_.rows[i];
      if (filter != nullptr && !filter->allows(r)) continue;
      const float d = finish_distance(metric_, fn_(query.vector, view_.row(r), dim), query.norm,
                                      cosine ? view_.norms[r] : 0.0f);
      if (d <= out.threshold()) out.push(d, r);
    }
  }
}

Status IvfIndex::save(const std::string& path) const {
  IndexFileWriter w(identity(metric_, view_));
  w.write<uint32_t>(kPayloadVersion);
  w.write<uint32_t>(lists_.nlist);
  w.write_vector(lists_.centroids);
  w.write_vector(lists_.offsets);
  w.write_vector(lists_.rows);
  return w.commit(path);
}

Status corrupt(const std::string& why) { return Status::corruption("ivf file: " + why); }

// The checksum rejects random damage; these checks keep a file that checksums but is wrong
// (a bug, or crafted) from sending search() out of bounds or returning a row twice.
Status validate(const Lists& l, const VectorView& view) {
  const uint32_t rows = view.rows;
  if (rows == 0) {
    if (l.nlist != 0 || !l.centroids.empty() || !l.offsets.empty() || !l.rows.empty()) {
      return corrupt("lists for an empty view");
    }
    return Status::ok();
  }
  if (l.nlist == 0 || l.nlist > rows) return corrupt("nlist out of range");
  if (l.centroids.size() != static_cast<std::size_t>(l.nlist) * view.dim) {
    return corrupt("centroid count does not match nlist");
  }
  if (l.offsets.size() != static_cast<std::size_t>(l.nlist) + 1 || l.offsets.front() != 0 ||
      l.offsets.back() != rows) {
    return corrupt("offsets do not cover the rows");
  }
  for (uint32_t c = 0; c < l.nlist; ++c) {
    if (l.offsets[c] > l.offsets[c + 1]) return corrupt("offsets not increasing");
  }
  if (l.rows.size() != rows) return corrupt("row count mismatch");
  std::vector<bool> seen(rows, false);
  for (uint32_t r : l.rows) {
    if (r >= rows || seen[r]) return corrupt("rows are not a permutation");
    seen[r] = true;
  }
  return Status::ok();
}

Status check(const Params& params, Metric metric, const VectorView& view) {
  if (params.nprobe == 0) return Status::invalid_field("nprobe", "must be at least 1");
  if (view.rows > 0 && view.data == nullptr) return Status::invalid("ivf: view has no data");
  if (metric == Metric::kCosine && view.rows > 0 && view.norms == nullptr) {
    return Status::invalid("ivf: cosine view has no norms");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options) {
  QUIVER_RETURN_IF_ERROR(check(params, metric, view));
  Lists lists;
  if (view.rows > 0) {
    uint32_t nlist = params.nlist;
    if (nlist == 0) nlist = static_cast<uint32_t>(std::lround(std::sqrt(double(view.rows))));
    nlist = std::clamp<uint32_t>(nlist, 1, view.rows);
    const bool spherical = metric == Metric::kCosine;
    kmeans::Options ko;
    ko.k = nlist;
    ko.iterations = params.iterations;
    ko.seed = params.seed;
    ko.spherical = spherical;
    ko.threads = std::max(1u, options.threads);
    ko.cancel = options.cancel;
    QUIVER_ASSIGN_OR_RETURN(lists.centroids,
                            kmeans::train(view.data, view.norms, view.rows, view.dim, ko));
    if (options.cancel != nullptr && options.cancel->load(std::memory_order_relaxed)) {
      return Status::unavailable("ivf build cancelled");
    }
    // Spherical assignment is scale-free, so raw rows get the same cell as x/|x| would.
    std::vector<uint32_t> cell(view.rows);
    kmeans::assign(view.data, view.rows, view.dim, lists.centroids.data(), nlist, spherical,
                   ko.threads, cell.data());
    // Counting sort into one contiguous array: rows stay in ascending order within a list.
    lists.nlist = nlist;
    lists.offsets.assign(nlist + 1, 0);
    for (uint32_t c : cell) ++lists.offsets[c + 1];
    for (uint32_t c = 0; c < nlist; ++c) lists.offsets[c + 1] += lists.offsets[c];
    lists.rows.resize(view.rows);
    std::vector<uint32_t> fill(lists.offsets.begin(), lists.offsets.end() - 1);
    for (uint32_t r = 0; r < view.rows; ++r) lists.rows[fill[cell[r]]++] = r;
  }
  if (options.progress != nullptr) options.progress->fetch_add(view.rows);
  return std::unique_ptr<VectorIndex>(new IvfIndex(metric, view, std::move(lists), params.nprobe));
}

Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path) {
  QUIVER_RETURN_IF_ERROR(check(params, metric, view));
  QUIVER_ASSIGN_OR_RETURN(IndexFileReader r, IndexFileReader::open(path, identity(metric, view)));
  uint32_t version = 0;
  QUIVER_RETURN_IF_ERROR(r.read(version));
  if (version != kPayloadVersion) return corrupt("unknown payload version");
  Lists lists;
  QUIVER_RETURN_IF_ERROR(r.read(lists.nlist));
  if (lists.nlist > view.rows) return corrupt("nlist out of range");
  QUIVER_RETURN_IF_ERROR(
      r.read_vector(lists.centroids, static_cast<uint64_t>(lists.nlist) * view.dim));
  QUIVER_RETURN_IF_ERROR(r.read_vector(lists.offsets, uint64_t{lists.nlist} + 1));
  QUIVER_RETURN_IF_ERROR(r.read_vector(lists.rows, view.rows));
  QUIVER_RETURN_IF_ERROR(r.expect_end());
  QUIVER_RETURN_IF_ERROR(validate(lists, view));
  return std::unique_ptr<VectorIndex>(new IvfIndex(metric, view, std::move(lists), params.nprobe));
}

uint32_t list_count(const VectorIndex& index) {
  const auto* ivf = dynamic_cast<const IvfIndex*>(&index);
  return ivf != nullptr ? ivf->nlist() : 0;
}

}  // namespace quiver::index::ivf
