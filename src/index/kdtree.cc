#include "index/kdtree.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/kdtree_io.h"

namespace quiver::index::kdtree {
namespace {

constexpr uint32_t kNoChild = 0;  // the root is node 0 and is nobody's child

// Rows are compared against the k-th distance with a little slack: the cell bound and the
// kernel's distance round differently, and pruning a cell whose best row *ties* the k-th
// distance would change the result set (TopK keeps ties). The slack only costs a few
// extra cells.
constexpr float kRelativeSlack = 1e-5f;
constexpr float kCosineAbsoluteSlack = 1e-4f;  // unit-sphere L2 distances live in [0, 4]

// Leaf scans prefetch the row this many positions ahead, up to kPrefetchBytes of it (longer
// rows are streamed by the hardware prefetcher once their first lines are requested).
constexpr uint32_t kPrefetchAhead = 6;
constexpr std::size_t kPrefetchBytes = 512;

struct Ctx {
  const float* q = nullptr;  // query coordinates in tree space (normalised for cosine)
  const Query* query = nullptr;
  const RowFilter* filter = nullptr;
  TopK* out = nullptr;
  std::vector<float> offsets;  // per dimension: distance from q to the current cell's side
  uint64_t distances = 0;
  uint64_t leaves = 0;
};

class KdTree final : public VectorIndex {
 public:
  KdTree(Metric metric, VectorView view, TreeData data, bool copy_vectors)
      : metric_(metric),
        view_(view),
        data_(std::move(data)),
        fn_(metric_kernel(metric, kernels())) {
    if (copy_vectors && !data_.order.empty()) {
      leaf_vectors_.resize(data_.order.size() * std::size_t{view_.dim});
      for (std::size_t i = 0; i < data_.order.size(); ++i) {
        std::copy_n(view_.row(data_.order[i]), view_.dim, leaf_vectors_.data() + i * view_.dim);
      }
    }
  }

  std::string_view type() const override { return "kdtree"; }
  Metric metric() const override { return metric_; }
  uint32_t rows() const override { return view_.rows; }

  void search(const Query& query, const SearchParams& params, const RowFilter* filter,
              TopK& out) const override;

  std::size_t memory_bytes() const override {
    return sizeof(*this) + data_.nodes.capacity() * sizeof(Node) +
           data_.order.capacity() * sizeof(uint32_t) + leaf_vectors_.capacity() * sizeof(float);
  }

  Status save(const std::string& path) const override {
    return save_tree(path, metric_, view_, data_);
  }

  SearchStats stats() const {
    return {searches_.load(std::memory_order_relaxed), distances_.load(std::memory_order_relaxed),
            leaves_.load(std::memory_order_relaxed)};
  }
  void reset_stats() const {
    searches_.store(0, std::memory_order_relaxed);
    distances_.store(0, std::memory_order_relaxed);
    leaves_.store(0, std::memory_order_relaxed);
  }

 private:
  float row_distance(const Query& query, uint32_t r) const {
    return finish_distance(metric_, fn_(query.vector, view_.row(r), view_.dim), query.norm,
                           metric_ == Metric::kCosine ? view_.norms[r] : 0.0f);
  }
  // The squared tree-space distance a cell must not exceed to be worth visiting.
  float bound(const TopK& out) const {
    const float t = out.threshold();
    if (std::isinf(t)) return t;
    if (metric_ == Metric::kCosine) return 2.0f + 2.0f * t + kCosineAbsoluteSlack;
    return t + kRelativeSlack * std::fabs(t) + std::numeric_limits<float>::min();
  }
  void descend(uint32_t node_id, float rd, Ctx& c) const;
  void scan_leaf_copy(const Node& n, Ctx& c) const;
  // Pulls the first cache lines of row `r` towards L1 (a hint; never faults).
  void prefetch_row(uint32_t r) const {
    const char* p = reinterpret_cast<const char*>(view_.row(r));
    const std::size_t bytes = std::size_t{view_.dim} * sizeof(float);
    for (std::size_t off = 0; off < bytes && off < kPrefetchBytes; off += 64) {
      __builtin_prefetch(p + off);
    }
  }

  Metric metric_;
  VectorView view_;
  TreeData data_;
  DistanceFn fn_;  // resolved once: the per-row work should not branch on the CPU
  std::vector<float> leaf_vectors_;  // Params::copy_vectors: rows in leaf order, else empty
  mutable std::atomic<uint64_t> searches_{0};
  mutable std::atomic<uint64_t> distances_{0};
  mutable std::atomic<uint64_t> leaves_{0};
};

void KdTree::scan_leaf_copy(const Node& n, Ctx& c) const {
  const bool cosine = metric_ == Metric::kCosine;
  const float* x = leaf_vectors_.data() + std::size_t{n.begin} * view_.dim;
  for (uint32_t i = n.begin; i < n.end; ++i, x += view_.dim) {
    const uint32_t r = data_.order[i];
    if (c.filter != nullptr && !c.filter->allows(r)) continue;
    const float d = finish_distance(metric_, fn_(c.query->vector, x, view_.dim), c.query->norm,
                                    cosine ? view_.norms[r] : 0.0f);
    ++c.distances;
    if (d <= c.out->threshold()) c.out->push(d, r);
  }
}

void KdTree::descend(uint32_t node_id, float rd, Ctx& c) const {
  const Node& n = data_.nodes[node_id];
  if (n.left == kNoChild) {
    ++c.leaves;
    if (!leaf_vectors_.empty()) {
      scan_leaf_copy(n, c);
      return;
    }
    for (uint32_t i = n.begin; i < n.end; ++i) {
      const uint32_t r = data_.order[i];
      // Rows of a leaf are scattered over the view (we keep a permutation, not copies), so
      // the hardware prefetcher cannot guess the next one: ask for it explicitly.
      if (i + kPrefetchAhead < n.end) prefetch_row(data_.order[i + kPrefetchAhead]);
      if (c.filter != nullptr && !c.filter->allows(r)) continue;
      const float d = row_distance(*c.query, r);
      ++c.distances;
      if (d <= c.out->threshold()) c.out->push(d, r);
    }
    return;
  }
  const float diff = c.q[n.split_dim] - n.split;
  const uint32_t near = diff <= 0.0f ? n.left : n.right;
  const uint32_t far = diff <= 0.0f ? n.right : n.left;
  descend(near, rd, c);
  // Arya & Mount's incremental bound: the far cell differs from this one only along
  // split_dim, so its squared distance lower bound swaps that one coordinate's offset.
  const float old = c.offsets[n.split_dim];
  const float far_rd = rd - old * old + diff * diff;
  if (far_rd <= bound(*c.out)) {
    c.offsets[n.split_dim] = diff;
    descend(far, far_rd, c);
    c.offsets[n.split_dim] = old;
  }
}

void KdTree::search(const Query& query, const SearchParams& /*params*/, const RowFilter* filter,
                    TopK& out) const {
  uint64_t distances = 0;
  uint64_t leaves = 0;
  const bool bad_cosine_query =
      metric_ == Metric::kCosine && !(query.norm > 0.0f && std::isfinite(query.norm));
  if (view_.rows == 0 || out.k() == 0) {
    // nothing to search (k == 0 keeps nothing, and its threshold would prune nothing)
  } else if (metric_ == Metric::kDot || bad_cosine_query) {
    scan(query, metric_, view_, 0, filter, out);
    distances = filter == nullptr ? view_.rows : filter->estimated_allowed(view_.rows);
  } else {
    Ctx c;
    std::vector<float> normalised;
    if (metric_ == Metric::kCosine) {
      normalised.resize(view_.dim);
      const float inv = 1.0f / query.norm;
      for (uint32_t j = 0; j < view_.dim; ++j) normalised[j] = query.vector[j] * inv;
      c.q = normalised.data();
    } else {
      c.q = query.vector;
    }
    c.query = &query;
    c.filter = filter;
    c.out = &out;
    c.offsets.assign(view_.dim, 0.0f);
    descend(0, 0.0f, c);
    distances = c.distances;
    leaves = c.leaves;
  }
  searches_.fetch_add(1, std::memory_order_relaxed);
  distances_.fetch_add(distances, std::memory_order_relaxed);
  leaves_.fetch_add(leaves, std::memory_order_relaxed);
}

// Builds the tree in pre-order so that children always have larger indices than their
// parent (load() relies on that to rule out cycles).
class Builder {
 public:
  Builder(const Params& params, Metric metric, VectorView view, const BuildOptions& options)
      : params_(params), metric_(metric), view_(view), options_(options) {}

  Result<TreeData> run() {
    TreeData data;
    data.order.resize(view_.rows);
    std::iota(data.order.begin(), data.order.end(), 0u);
    if (metric_ == Metric::kCosine) {
      inv_norm_.resize(view_.rows);
      for (uint32_t r = 0; r < view_.rows; ++r) {
        const float n = view_.norms[r];
        inv_norm_[r] = (n > 0.0f && std::isfinite(n)) ? 1.0f / n : 0.0f;
      }
    }
    lo_.resize(view_.dim);
    hi_.resize(view_.dim);
    data_ = &data;
    if (view_.rows == 0) return data;
    QUIVER_RETURN_IF_ERROR(build_node(0, view_.rows));
    data.nodes.shrink_to_fit();
    return data;
  }

 private:
  float coord(uint32_t r, uint32_t j) const {
    const float v = view_.data[static_cast<std::size_t>(r) * view_.dim + j];
    return metric_ == Metric::kCosine ? v * inv_norm_[r] : v;
  }

  Status build_node(uint32_t begin, uint32_t end) {
    if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
      return Status::unavailable("kdtree build cancelled");
    }
    const uint32_t id = static_cast<uint32_t>(data_->nodes.size());
    data_->nodes.push_back(Node{begin, end, kNoChild, kNoChild, 0, 0.0f});
    const uint32_t count = end - begin;
    uint32_t dim = 0;
    float spread = 0.0f;
    if (count > params_.leaf_size && view_.dim > 0) {
      std::fill(lo_.begin(), lo_.end(), std::numeric_limits<float>::infinity());
      std::fill(hi_.begin(), hi_.end(), -std::numeric_limits<float>::infinity());
      for (uint32_t i = begin; i < end; ++i) {
        const uint32_t r = data_->order[i];
        for (uint32_t j = 0; j < view_.dim; ++j) {
          const float v = coord(r, j);
          lo_[j] = std::min(lo_[j], v);
          hi_[j] = std::max(hi_[j], v);
        }
      }
      for (uint32_t j = 0; j < view_.dim; ++j) {
        if (hi_[j] - lo_[j] > spread) {
          spread = hi_[j] - lo_[j];
          dim = j;
        }
      }
    }
    // A cell whose rows all coincide cannot be split usefully: keep it as one leaf.
    if (count <= params_.leaf_size || !(spread > 0.0f)) {
      if (options_.progress != nullptr) {
        options_.progress->fetch_add(count, std::memory_order_relaxed);
      }
      return Status::ok();
    }
    // Split by position, not by value, so that duplicates can never stall the recursion:
    // the depth stays log2(rows / leaf_size).
    const uint32_t mid = begin + count / 2;
    auto first = data_->order.begin() + begin;
    std::nth_element(first, data_->order.begin() + mid, data_->order.begin() + end,
                     [&](uint32_t a, uint32_t b) { return coord(a, dim) < coord(b, dim); });
    const float split = coord(data_->order[mid], dim);
    QUIVER_RETURN_IF_ERROR(build_node(begin, mid));
    const uint32_t right = static_cast<uint32_t>(data_->nodes.size());
    QUIVER_RETURN_IF_ERROR(build_node(mid, end));
    Node& n = data_->nodes[id];
    n.left = id + 1;
    n.right = right;
    n.split_dim = dim;
    n.split = split;
    return Status::ok();
  }

  const Params& params_;
  Metric metric_;
  VectorView view_;
  const BuildOptions& options_;
  TreeData* data_ = nullptr;
  std::vector<float> inv_norm_;
  std::vector<float> lo_, hi_;
};

Status check_view(const Params& params, Metric metric, VectorView view) {
  if (params.leaf_size == 0) return Status::invalid_field("leaf_size", "must be at least 1");
  if (view.rows > 0 && view.data == nullptr) return Status::invalid("kdtree: view has no data");
  if (metric == Metric::kCosine && view.rows > 0 && view.norms == nullptr) {
    return Status::invalid("kdtree: cosine view has no norms");
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options) {
  QUIVER_RETURN_IF_ERROR(check_view(params, metric, view));
  TreeData data;
  if (metric == Metric::kDot) {
    // No tree: dot is answered by an exact scan (see the header), so store nothing.
    if (options.progress != nullptr) options.progress->fetch_add(view.rows);
  } else {
    Builder builder(params, metric, view, options);
    QUIVER_ASSIGN_OR_RETURN(data, builder.run());
  }
  return std::unique_ptr<VectorIndex>(
      new KdTree(metric, view, std::move(data), params.copy_vectors));
}

Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path) {
  QUIVER_RETURN_IF_ERROR(check_view(params, metric, view));
  QUIVER_ASSIGN_OR_RETURN(TreeData data, load_tree(path, metric, view));
  // The copy is not saved: it is the view's rows in `order`, rebuilt here.
  return std::unique_ptr<VectorIndex>(
      new KdTree(metric, view, std::move(data), params.copy_vectors));
}

SearchStats search_stats(const VectorIndex& index) {
  const auto* tree = dynamic_cast<const KdTree*>(&index);
  return tree != nullptr ? tree->stats() : SearchStats{};
}

void reset_search_stats(const VectorIndex& index) {
  const auto* tree = dynamic_cast<const KdTree*>(&index);
  if (tree != nullptr) tree->reset_stats();
}

}  // namespace quiver::index::kdtree
