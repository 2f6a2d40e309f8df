// HNSW construction: Algorithm 1 (INSERT) with the neighbour-selection heuristic of
// Algorithm 4, parallelised over nodes with one mutex per node.
//
// Locking: `locks_[v]` guards the link lists of node v on every layer; no thread ever holds
// two node locks at once, so there is no lock order to respect. `entry_mu_` guards
// (max_level_, entry_); a node whose level exceeds the current top keeps it for its whole
// insertion (rare: about log_m(rows) times per build) so that no other insertion starts from
// an entry point whose upper layers are still being linked.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <random>
#include <thread>

#include "index/hnsw.h"

namespace quiver::index::hnsw::internal {

using Candidate = HnswIndex::Candidate;

class Builder {
 public:
  Builder(HnswIndex& index, const BuildOptions& options)
      : ix_(index), options_(options), locks_(new std::mutex[index.view_.rows]) {}

  Status run() {
    const uint32_t rows = ix_.view_.rows;
    ix_.max_level_ = ix_.levels_[0];
    ix_.entry_ = 0;
    report(1);
    next_.store(1, std::memory_order_relaxed);
    const unsigned threads = std::max(1u, std::min<unsigned>(options_.threads, rows));
    if (threads == 1) {
      work();
    } else {
      std::vector<std::thread> pool;
      try {
        for (unsigned t = 1; t < threads; ++t) pool.emplace_back([this] { work(); });
      } catch (const std::exception&) {
        // Fewer threads than asked for: the ones that started (and this one) finish the job.
      }
      work();
      for (std::thread& t : pool) t.join();
    }
    if (cancelled_.load()) return Status::unavailable("hnsw build cancelled");
    return Status::ok();
  }

 private:
  void report(uint64_t n) {
    if (options_.progress != nullptr) options_.progress->fetch_add(n, std::memory_order_relaxed);
  }

  void work() {
    std::vector<Candidate> pool;
    std::vector<Candidate> scratch;
    pool.reserve(ix_.params_.ef_construction + 1);
    const uint32_t rows = ix_.view_.rows;
    while (true) {
      if (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed)) {
        cancelled_.store(true);
        return;
      }
      const uint32_t node = next_.fetch_add(1, std::memory_order_relaxed);
      if (node >= rows) return;
      insert(node, pool, scratch);
      report(1);
    }
  }

  // Algorithm 4 over `cands` (sorted ascending by distance to the base node): keep a
  // candidate only if it is nearer to the base than to every neighbour kept so far, which
  // spreads links over directions instead of spending them all on one cluster.
  void select(const std::vector<Candidate>& cands, uint32_t m, std::vector<Candidate>& out) {
    out.clear();
    std::size_t discarded[kMaxLinks + 1];
    std::size_t n_discarded = 0;
    for (std::size_t i = 0; i < cands.size() && out.size() < m; ++i) {
      const Candidate& c = cands[i];
      const HnswIndex::Distance from_c =
          ix_.distance_to(ix_.view_.row(c.node), row_norm(c.node));
      bool keep = true;
      for (const Candidate& r : out) {
        if (from_c.bounded(r.node, c.distance) < c.distance) {
          keep = false;
          break;
        }
      }
      if (keep) {
        out.push_back(c);
      } else if (n_discarded <= kMaxLinks) {
        discarded[n_discarded++] = i;
      }
    }
    if constexpr (kKeepPrunedConnections) {
      for (std::size_t j = 0; j < n_discarded && out.size() < m; ++j) {
        out.push_back(cands[discarded[j]]);
      }
    }
  }

  float row_norm(uint32_t node) const {
    return ix_.view_.norms != nullptr ? ix_.view_.norms[node] : 0.0f;
  }

  // Adds `node` to the list of `nb` on `level`, re-selecting nb's links when full.
  void link_back(uint32_t nb, uint32_t node, float distance, uint32_t level,
                 std::vector<Candidate>& cands, std::vector<Candidate>& kept) {
    const uint32_t cap = ix_.cap(level);
    std::lock_guard<std::mutex> guard(locks_[nb]);
    uint32_t* l = ix_.links(nb, level);
    for (uint32_t j = 1; j <= l[0]; ++j) {
      if (l[j] == node) return;
    }
    if (l[0] < cap) {
      l[1 + l[0]] = node;
      ++l[0];
      return;
    }
    const HnswIndex::Distance from_nb = ix_.distance_to(ix_.view_.row(nb), row_norm(nb));
    cands.clear();
    cands.push_back({distance, node});
    for (uint32_t j = 1; j <= l[0]; ++j) cands.push_back({from_nb(l[j]), l[j]});
    std::sort(cands.begin(), cands.end(),
              [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
    select(cands, cap, kept);
    l[0] = static_cast<uint32_t>(kept.size());
    for (std::size_t j = 0; j < kept.size(); ++j) l[1 + j] = kept[j].node;
  }

  void insert(uint32_t node, std::vector<Candidate>& pool, std::vector<Candidate>& scratch) {
    const uint32_t level = ix_.levels_[node];
    const HnswIndex::Distance dist = ix_.distance_to(ix_.view_.row(node), row_norm(node));
    std::unique_lock<std::mutex> entry_lock(entry_mu_);
    const uint32_t top = ix_.max_level_;
    uint32_t ep = ix_.entry_;
    if (level <= top) entry_lock.unlock();

    float ep_d = dist(ep);
    if (top > level) ep = ix_.greedy(dist, ep, ep_d, top, level, locks_.get());
    pool.clear();
    pool.push_back({ep_d, ep});
    std::vector<Candidate> selected;
    std::vector<Candidate> kept;
    for (uint32_t l = std::min(level, top) + 1; l-- > 0;) {
      VisitedSet& visited = thread_visited(ix_.view_.rows);
      visited.test_and_set(node);  // never link a node to itself
      for (const Candidate& c : pool) visited.test_and_set(c.node);
      ix_.search_layer(dist, l, ix_.params_.ef_construction, pool, visited, locks_.get());
      select(pool, ix_.m_, selected);
      {
        std::lock_guard<std::mutex> guard(locks_[node]);
        uint32_t* own = ix_.links(node, l);
        own[0] = static_cast<uint32_t>(selected.size());
        for (std::size_t j = 0; j < selected.size(); ++j) own[1 + j] = selected[j].node;
      }
      for (const Candidate& c : selected) link_back(c.node, node, c.distance, l, scratch, kept);
    }
    if (level > top) {
      ix_.max_level_ = level;
      ix_.entry_ = node;
    }
  }

  HnswIndex& ix_;
  const BuildOptions& options_;
  std::unique_ptr<std::mutex[]> locks_;
  std::mutex entry_mu_;
  std::atomic<uint32_t> next_{0};
  std::atomic<bool> cancelled_{false};
};

HnswIndex::HnswIndex(const Params& params, Metric metric, VectorView view)
    : params_(params), metric_(metric), view_(view), m_(params.m), m0_(2 * params.m) {}

void HnswIndex::allocate(std::vector<uint8_t> levels) {
  levels_ = std::move(levels);
  const std::size_t rows = levels_.size();
  layer0_.assign(rows * (m0_ + 1), 0);
  upper_offset_.assign(rows, 0);
  std::size_t total = 0;
  for (std::size_t v = 0; v < rows; ++v) {
    upper_offset_[v] = total;
    total += std::size_t{levels_[v]} * (m_ + 1);
  }
  upper_links_.assign(total, 0);
}

std::size_t HnswIndex::memory_bytes() const {
  return sizeof(*this) + levels_.capacity() + layer0_.capacity() * sizeof(uint32_t) +
         upper_offset_.capacity() * sizeof(uint64_t) + upper_links_.capacity() * sizeof(uint32_t) +
         codes_.capacity() + code_offset_.capacity() * sizeof(float);
}

Status HnswIndex::build_graph(const BuildOptions& options) {
  const uint32_t rows = view_.rows;
  // Level of each node: floor(-ln(U) * mL) with mL = 1 / ln(m) (paper section 4), drawn in
  // node order from one seeded generator so the levels do not depend on the thread count.
  std::mt19937_64 rng(params_.seed);
  const double ml = 1.0 / std::log(static_cast<double>(m_));
  std::vector<uint8_t> levels(rows);
  for (uint32_t v = 0; v < rows; ++v) {
    const double u = double((rng() >> 11) + 1) * 0x1.0p-53;  // (0, 1]
    const double lv = std::floor(-std::log(u) * ml);
    levels[v] = static_cast<uint8_t>(std::min<double>(lv, kMaxLevel));
  }
  allocate(std::move(levels));
  if (rows == 0) return Status::ok();
  Builder builder(*this, options);
  QUIVER_RETURN_IF_ERROR(builder.run());
  encode_codes();
  return Status::ok();
}

void HnswIndex::encode_codes() {
  codes_.clear();
  code_offset_.clear();
  if (metric_ != Metric::kL2 || view_.rows == 0 || view_.dim > kMaxCodeDim) return;
  const uint32_t dim = view_.dim;
  std::vector<float> hi(dim, -std::numeric_limits<float>::infinity());
  code_offset_.assign(dim, std::numeric_limits<float>::infinity());
  for (uint32_t r = 0; r < view_.rows; ++r) {
    const float* x = view_.row(r);
    for (uint32_t d = 0; d < dim; ++d) {
      code_offset_[d] = std::min(code_offset_[d], x[d]);
      hi[d] = std::max(hi[d], x[d]);
    }
  }
  float range = 0.0f;
  for (uint32_t d = 0; d < dim; ++d) range = std::max(range, hi[d] - code_offset_[d]);
  if (!std::isfinite(range)) {  // inf/NaN in the data: navigate on floats instead
    code_offset_.clear();
    return;
  }
  code_scale_ = range > 0.0f ? range / 255.0f : 1.0f;
  codes_.resize(std::size_t{view_.rows} * dim);
  for (uint32_t r = 0; r < view_.rows; ++r) {
    const float* x = view_.row(r);
    uint8_t* c = codes_.data() + std::size_t{r} * dim;
    for (uint32_t d = 0; d < dim; ++d) {
      const float v = std::nearbyint((x[d] - code_offset_[d]) / code_scale_);
      c[d] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
    }
  }
}

}  // namespace quiver::index::hnsw::internal

namespace quiver::index::hnsw {

using internal::HnswIndex;
using internal::kMaxM;

Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options) {
  if (params.m < 2 || params.m > kMaxM) {
    return Status::invalid_field("m", "must be between 2 and " + std::to_string(kMaxM));
  }
  if (params.ef_construction < 1) return Status::invalid_field("ef_construction", "must be >= 1");
  if (view.rows >= (1u << 31)) return Status::invalid("hnsw: at most 2^31 - 1 rows");
  if (view.rows > 0 && (view.data == nullptr || view.dim == 0)) {
    return Status::invalid("hnsw: empty vector view");
  }
  if (metric == Metric::kCosine && view.rows > 0 && view.norms == nullptr) {
    return Status::invalid("hnsw: cosine needs stored norms");
  }
  try {
    auto index = std::make_unique<HnswIndex>(params, metric, view);
    QUIVER_RETURN_IF_ERROR(index->build_graph(options));
    return std::unique_ptr<VectorIndex>(std::move(index));
  } catch (const std::exception& e) {
    // Allocation failure or thread creation failure: keep exceptions inside the module.
    return Status::internal(std::string("hnsw build failed: ") + e.what());
  }
}

}  // namespace quiver::index::hnsw
