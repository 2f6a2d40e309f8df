// HNSW search: greedy descent through the upper layers, then a best-first search of layer 0
// (Algorithm 2 of the paper) with a bounded, sorted candidate pool.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <string_view>

#include "index/flat_index.h"
#include "index/hnsw.h"

namespace quiver::index::hnsw::internal {

namespace {
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr uint32_t kExpanded = 0x80000000u;  // rows < 2^31, so the top bit of a pool entry is free

inline void prefetch_vector(const void* p, std::size_t bytes) {
  const char* c = reinterpret_cast<const char*>(p);
  for (std::size_t off = 0; off < bytes; off += 64) __builtin_prefetch(c + off, 0, 3);
}


// Inserts `c` into the sorted `pool` capped at `ef` entries; returns its position.
// REQUIRES: pool.size() < ef or c.distance < pool.back().distance.
inline std::size_t pool_insert(std::vector<HnswIndex::Candidate>& pool, std::size_t ef,
                               HnswIndex::Candidate c) {
  auto it = std::upper_bound(pool.begin(), pool.end(), c.distance,
                             [](float d, const HnswIndex::Candidate& x) { return d < x.distance; });
  std::size_t pos = static_cast<std::size_t>(it - pool.begin());
  if (pool.size() < ef) {
    pool.insert(it, c);
  } else {
    std::move_backward(pool.begin() + pos, pool.end() - 1, pool.end());
    pool[pos] = c;
  }
  return pos;
}
}  // namespace

// QUIVER_HNSW_NEAR_MISS=0 turns the near-miss re-rank off, for measurements.
bool near_miss_rerank() {
  static const bool on = [] {
    const char* env = std::getenv("QUIVER_HNSW_NEAR_MISS");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return on;
}

bool prefer_exact_scan(uint64_t allowed, uint32_t rows, uint32_t ef, uint32_t m) {
  if (rows == 0) return true;
  const double graph_cost = static_cast<double>(ef) * 2.0 * m * static_cast<double>(rows) / std::max<double>(allowed, 1.0);
  return double(allowed) <= graph_cost;
}

VisitedSet& thread_visited(uint32_t rows) {
  thread_local VisitedSet set;
  set.begin(rows);
  return set;
}

void VisitedSet::begin(uint32_t rows) {
  if (marks_.size() < rows) {
    marks_.assign(rows, 0);
    epoch_ = 0;
  }
  if (++epoch_ == 0) {  // wrapped: old marks could alias the new epoch
    std::fill(marks_.begin(), marks_.end(), 0);
    epoch_ = 1;
  }
}

float HnswIndex::Distance::operator()(uint32_t node) const {
  const float* x = view.row(node);
  switch (metric) {
    case Metric::kL2:
      return l2(q, x, view.dim);
    case Metric::kDot:
      return -dot(q, x, view.dim);
    case Metric::kCosine:
      return finish_distance(Metric::kCosine, dot(q, x, view.dim), q_norm, view.norms[node]);
  }
  return 0.0f;
}

float HnswIndex::Distance::bounded(uint32_t node, float bound) const {
  if (metric == Metric::kL2) return l2_bounded(q, view.row(node), view.dim, bound);
  return (*this)(node);
}

HnswIndex::Distance HnswIndex::distance_to(const float* q, float q_norm) const {
  const Kernels& k = kernels();
  return Distance{metric_, q, q_norm, view_, k.l2_sq, k.dot, bounded_l2()};
}

uint32_t HnswIndex::greedy(const Distance& dist, uint32_t entry, float& entry_distance,
                           uint32_t from_level, uint32_t to_level, std::mutex* locks) const {
  uint32_t cur = entry;
  float cur_d = entry_distance;
  uint32_t buf[kMaxLinks + 1];
  for (uint32_t level = from_level; level > to_level; --level) {
    bool moved = true;
    while (moved) {
      moved = false;
      const uint32_t* l = read_links(cur, level, locks, buf);
      const uint32_t n = l[0];
      for (uint32_t j = 1; j <= n; ++j) {
        const uint32_t nb = l[j];
        const float d = dist.bounded(nb, cur_d);
        if (d < cur_d) {
          cur_d = d;
          cur = nb;
          moved = true;
        }
      }
    }
  }
  entry_distance = cur_d;
  return cur;
}

const uint32_t* HnswIndex::read_links(uint32_t node, uint32_t level, std::mutex* locks,
                                      uint32_t* buf) const {
  const uint32_t* l = links(node, level);
  if (locks == nullptr) return l;
  std::lock_guard<std::mutex> guard(locks[node]);
  std::copy(l, l + 1 + l[0], buf);
  return buf;
}

template <typename Dist>
void HnswIndex::search_layer(const Dist& dist, uint32_t level, std::size_t ef,
                             std::vector<Candidate>& pool, VisitedSet& visited,
                             std::mutex* locks) const {
  uint32_t buf[kMaxLinks + 1];
  uint32_t pending[kMaxLinks];
  const std::size_t vec_bytes = dist.bytes();
  std::size_t cursor = 0;
  while (cursor < pool.size()) {
    const uint32_t node = pool[cursor].node;
    pool[cursor].node |= kExpanded;
    const uint32_t* l = read_links(node, level, locks, buf);
    const uint32_t n = l[0];
    uint32_t count = 0;
    for (uint32_t j = 1; j <= n; ++j) {
      const uint32_t nb = l[j];
      if (visited.test_and_set(nb)) continue;
      pending[count++] = nb;
    }
    for (uint32_t j = 0; j < count; ++j) __builtin_prefetch(dist.address(pending[j]), 0, 3);
    if (count > 0) prefetch_vector(dist.address(pending[0]), vec_bytes);
    // The next node to expand is usually the next pool entry: warm its links now.
    if (cursor + 1 < pool.size() && level == 0 && locks == nullptr) {
      __builtin_prefetch(links0(pool[cursor + 1].node & ~kExpanded), 0, 3);
    }
    std::size_t first_new = pool.size();
    for (uint32_t j = 0; j < count; ++j) {
      if (j + 1 < count) prefetch_vector(dist.address(pending[j + 1]), vec_bytes);
      const float bound = pool.size() >= ef ? pool.back().distance : kInf;
      const float d = dist.bounded(pending[j], bound);
      if (d < bound) {
        if (pool.size() >= ef) {  // pool.back() is about to be evicted
          dist.rejected({pool.back().distance, pool.back().node & ~kExpanded}, bound);
        }
        first_new = std::min(first_new, pool_insert(pool, ef, {d, pending[j]}));
      } else {
        dist.rejected({d, pending[j]}, bound);
      }
    }
    cursor = std::min(cursor + 1, first_new);
    while (cursor < pool.size() && (pool[cursor].node & kExpanded) != 0) ++cursor;
  }
  for (Candidate& c : pool) c.node &= ~kExpanded;
}

template void HnswIndex::search_layer<HnswIndex::Distance>(const Distance&, uint32_t,
                                                           std::size_t, std::vector<Candidate>&,
                                                           VisitedSet&, std::mutex*) const;
template void HnswIndex::search_layer<HnswIndex::CodeDistance>(const CodeDistance&, uint32_t,
                                                               std::size_t,
                                                               std::vector<Candidate>&,
                                                               VisitedSet&, std::mutex*) const;

void HnswIndex::search_layer_filtered(const Distance& dist, std::size_t ef,
                                      const RowFilter& filter, Candidate entry,
                                      VisitedSet& visited, ScratchHeaps& heaps) const {
  // Paper Algorithm 2 with W restricted to allowed rows: excluded rows still become
  // candidates (the graph stays connected through them) but never results, and the stop
  // test uses the ef-th *allowed* distance, so a search through a sparse allowed set keeps
  // going until it has found ef of them or exhausted the reachable candidates.
  auto& cand = heaps.candidates;  // min-heap on distance
  auto& res = heaps.results;      // max-heap on distance, allowed rows only
  cand.clear();
  res.clear();
  auto min_cmp = [](const Candidate& a, const Candidate& b) { return a.distance > b.distance; };
  auto max_cmp = [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; };
  cand.push_back(entry);
  if (filter.allows(entry.node)) res.push_back(entry);
  const std::size_t vec_bytes = std::size_t{view_.dim} * sizeof(float);
  uint32_t pending[kMaxLinks];
  while (!cand.empty()) {
    std::pop_heap(cand.begin(), cand.end(), min_cmp);
    const Candidate c = cand.back();
    cand.pop_back();
    if (res.size() >= ef && c.distance > res.front().distance) break;
    const uint32_t* l = links0(c.node);
    uint32_t count = 0;
    for (uint32_t j = 1; j <= l[0]; ++j) {
      if (!visited.test_and_set(l[j])) pending[count++] = l[j];
    }
    if (count > 0) prefetch_vector(view_.row(pending[0]), vec_bytes);
    for (uint32_t j = 0; j < count; ++j) {
      if (j + 1 < count) prefetch_vector(view_.row(pending[j + 1]), vec_bytes);
      const float bound = res.size() >= ef ? res.front().distance : kInf;
      const float d = dist.bounded(pending[j], bound);
      if (d >= bound) continue;
      cand.push_back({d, pending[j]});
      std::push_heap(cand.begin(), cand.end(), min_cmp);
      if (filter.allows(pending[j])) {
        res.push_back({d, pending[j]});
        std::push_heap(res.begin(), res.end(), max_cmp);
        if (res.size() > ef) {
          std::pop_heap(res.begin(), res.end(), max_cmp);
          res.pop_back();
        }
      }
    }
  }
  std::sort_heap(res.begin(), res.end(), max_cmp);  // ascending distance
}

namespace {
// Pushes the k nearest of `sorted` (ascending) into `out`, plus entries tied with the k-th so
// that TopK's tie handling sees them all.
void emit(const std::vector<HnswIndex::Candidate>& sorted, TopK& out) {
  const std::size_t k = out.k();
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (i >= k && sorted[i].distance > sorted[k - 1].distance) break;
    out.push(sorted[i].distance, sorted[i].node);
  }
}
}  // namespace

void HnswIndex::search_graph(const Query& query, uint32_t ef, const RowFilter* filter,
                             TopK& out) const {
  if (view_.rows == 0 || out.k() == 0) return;
  const Distance dist = distance_to(query.vector, query.norm);
  float entry_d = dist(entry_);
  const uint32_t ep = greedy(dist, entry_, entry_d, max_level_, 0, nullptr);
  VisitedSet& visited = thread_visited(view_.rows);
  thread_local ScratchHeaps scratch;
  visited.test_and_set(ep);
  if (filter == nullptr && !codes_.empty()) {
    // Navigate on the byte codes, then re-rank the ef survivors with exact distances.
    thread_local std::vector<uint8_t> qcode;
    qcode.resize(view_.dim);
    for (uint32_t d = 0; d < view_.dim; ++d) {
      const float c = std::nearbyint((query.vector[d] - code_offset_[d]) / code_scale_);
      qcode[d] = static_cast<uint8_t>(std::clamp(c, 0.0f, 255.0f));
    }
    auto& near = scratch.candidates;
    near.clear();
    const CodeDistance cd{codes_.data(), qcode.data(), view_.dim, code_l2(),
                          near_miss_rerank() ? &near : nullptr};
    auto& pool = scratch.results;
    pool.clear();
    pool.push_back({cd(ep), ep});
    search_layer(cd, 0, ef, pool, visited, nullptr);
    // Near misses that could still beat the k-th code distance join the exact re-rank (when
    // ef >> k none can, and none costs anything). They are disjoint from the pool: the
    // visited set lets a row be scored (and so reported) only once.
    if (pool.size() >= ef) {
      const float kth = pool[std::min(pool.size(), out.k()) - 1].distance;
      const float limit = kth + near_miss_margin(kth);
      for (const Candidate& c : near) {
        if (c.distance <= limit) pool.push_back(c);
      }
    }
    for (Candidate& c : pool) c.distance = dist(c.node);
    std::sort(pool.begin(), pool.end(), [](const Candidate& a, const Candidate& b) {
      return a.distance < b.distance || (a.distance == b.distance && a.node < b.node);
    });
    emit(pool, out);
  } else if (filter == nullptr) {
    auto& pool = scratch.results;
    pool.clear();
    pool.push_back({entry_d, ep});
    search_layer(dist, 0, ef, pool, visited, nullptr);
    emit(pool, out);
  } else {
    search_layer_filtered(dist, ef, *filter, {entry_d, ep}, visited, scratch);
    emit(scratch.results, out);
  }
}

void HnswIndex::search(const Query& query, const SearchParams& params, const RowFilter* filter,
                       TopK& out) const {
  if (view_.rows == 0 || out.k() == 0) return;
  const uint32_t k = static_cast<uint32_t>(std::min<std::size_t>(out.k(), UINT32_MAX));
  const uint32_t ef = std::max(params.ef.value_or(params_.ef_search), k);
  if (filter != nullptr &&
      prefer_exact_scan(filter->estimated_allowed(view_.rows), view_.rows, ef, m_)) {
    scan(query, metric_, view_, 0, filter, out);
    return;
  }
  search_graph(query, ef, filter, out);
}

}  // namespace quiver::index::hnsw::internal
