// HNSW: hierarchical navigable small-world graph (Malkov & Yashunin, arXiv:1603.09320).
//
// The public surface is `build()` and `load()`; both return a VectorIndex. The rest of this
// header (namespace `internal`) is shared by the implementation files hnsw_build.cc,
// hnsw_search.cc, hnsw_io.cc and hnsw_distance.cc, and by the unit test; the engine must not
// depend on it.
//
// Thread-safety: a built index is immutable; search() is const and safe for any number of
// concurrent callers (each thread uses its own thread-local visited set and buffers).
// build() may use several threads internally (per-node locks); it is not re-entrant on one
// index object, which is never visible to callers before build() returns.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "index/distance.h"
#include "index/metric.h"
#include "index/registry.h"
#include "index/vector_index.h"

namespace quiver::index::hnsw {

struct Params {
  uint32_t m = 16;                 // links per node on layers >= 1; layer 0 keeps 2 * m
  uint32_t ef_construction = 200;  // candidate list size while inserting
  uint32_t ef_search = 64;         // default candidate list size per query (SearchParams::ef)
  uint64_t seed = 42;              // level assignment RNG
};

// Builds an index over `view` (which must outlive the index). Requires 2 <= m <= 256 and
// ef_construction >= 1. Deterministic for a given seed when options.threads <= 1.
// Returns kUnavailable when options.cancel becomes true, kInvalidArgument for bad params.
Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options);

// Loads the graph written by save() and attaches it to `view` (the same rows it was built
// on). Returns kCorruption when the file is damaged, truncated, of another version, or does
// not match `view` / `params.m`.
Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path);

namespace internal {

// Filtered searches switch to an exact scan of the allowed rows when the estimated cost of a
// graph search (about ef * 2m / f distance computations, f = allowed fraction, because only
// f of the visited nodes can enter the result list) exceeds the cost of scanning them
// (f * rows). Exposed for tests.
bool prefer_exact_scan(uint64_t allowed, uint32_t rows, uint32_t ef, uint32_t m);

// Whether layer-0 searches on byte codes re-rank the near misses of the pool boundary too
// (see CodeDistance); on unless QUIVER_HNSW_NEAR_MISS=0 (for measurements). Read once.
bool near_miss_rerank();

// Squared L2 distance that may stop early: returns the exact value when it is <= bound,
// otherwise any value > bound (a partial sum). Reads `dim` floats from each pointer.
using BoundedL2Fn = float (*)(const float* a, const float* b, std::size_t dim, float bound);
// The best bounded kernel for this CPU (AVX-512, AVX2+FMA or scalar), chosen once.
// Honours QUIVER_SIMD=scalar|avx2|avx512 like distance.h.
BoundedL2Fn bounded_l2();

// Links per list are capped by m <= 256, so layer 0 holds at most 512.
inline constexpr uint32_t kMaxM = 256;
inline constexpr uint32_t kMaxLinks = 2 * kMaxM;

// Marks of the nodes a search has visited; reset in O(1) by bumping an epoch (a full clear
// only every 65,535 searches). One per thread (thread_visited), so concurrent searches never
// share one and no search allocates once the set has grown to the largest index searched.
class VisitedSet {
 public:
  // Starts a new search over `rows` nodes.
  void begin(uint32_t rows);
  // Marks `node`; returns whether it was already marked in this search.
  bool test_and_set(uint32_t node) {
    if (marks_[node] == epoch_) return true;
    marks_[node] = epoch_;
    return false;
  }

 private:
  std::vector<uint16_t> marks_;
  uint16_t epoch_ = 0;
};
// This thread's visited set, begun for a search over `rows` nodes.
VisitedSet& thread_visited(uint32_t rows);

// Squared L2 distance between two byte codes of `dim` entries (exact integer arithmetic;
// REQUIRES dim <= kMaxCodeDim so the 32-bit sums cannot overflow).
using CodeL2Fn = uint32_t (*)(const uint8_t* a, const uint8_t* b, std::size_t dim);
CodeL2Fn code_l2();
inline constexpr uint32_t kMaxCodeDim = 32768;

// Whether the graph layout uses the paper's keepPrunedConnections (Algorithm 4).
inline constexpr bool kKeepPrunedConnections = false;

// The graph. Layer-0 links live in one flat array with a fixed stride of (m0 + 1) uint32:
// [count, id_0 .. id_{m0-1}]; a node's upper-layer lists (stride m + 1) are contiguous in
// `upper_links_` starting at `upper_offset_[node]`.
class HnswIndex final : public VectorIndex {
 public:
  HnswIndex(const Params& params, Metric metric, VectorView view);

  std::string_view type() const override { return "hnsw"; }
  Metric metric() const override { return metric_; }
  uint32_t rows() const override { return view_.rows; }
  void search(const Query& query, const SearchParams& params, const RowFilter* filter,
              TopK& out) const override;
  std::size_t memory_bytes() const override;
  Status save(const std::string& path) const override;

  // Builds the graph (hnsw_build.cc).
  Status build_graph(const BuildOptions& options);
  // Reads and validates a saved graph (hnsw_io.cc).
  Status load_graph(const std::string& path);

  // Introspection for tests and the benchmark.
  uint32_t max_level() const { return max_level_; }
  uint32_t entry_point() const { return entry_; }
  uint32_t level_of(uint32_t node) const { return levels_[node]; }

  // Graph-only search ignoring the exact-scan fallback (tests exercise the filtered graph
  // path with it). Appends the k best allowed rows to `out`.
  void search_graph(const Query& query, uint32_t ef, const RowFilter* filter, TopK& out) const;

  // ---- shared by the implementation files -------------------------------------------------
  struct Candidate {
    float distance;
    uint32_t node;
  };

  // How far above `bound` (a squared code distance) a code distance may lie and still belong
  // to a row that is truly nearer. Rounding each coordinate of the query and of the row
  // adds e_d with variance 1/12 + 1/12, so D_code - D ~ 2 sum(delta_d e_d) has standard
  // deviation 2 sqrt(D / 6) ~= 0.82 sqrt(D); the difference of two such distances about
  // 1.15 sqrt(D). Three of those cover all but ~0.1 % of swaps. It only adds exact
  // distances for rows near the boundary (none are needed when the codes are exact, e.g.
  // integer data, but then the margin costs only a few re-ranked rows). Query coordinates
  // outside the rows' range are clamped, which the model ignores: the re-rank stays exact,
  // only the chance of a lost neighbour grows.
  static float near_miss_margin(float bound) { return 3.5f * std::sqrt(bound); }

  // Distance from one query (or stored row) to stored rows, with the metric resolved once.
  struct Distance {
    Metric metric;
    const float* q;
    float q_norm;
    VectorView view;
    DistanceFn l2;
    DistanceFn dot;
    BoundedL2Fn l2_bounded;
    float operator()(uint32_t node) const;
    // Exact when <= bound, otherwise some value > bound (only L2 stops early).
    float bounded(uint32_t node, float bound) const;
    void rejected(Candidate, float) const {}
    const void* address(uint32_t node) const { return view.row(node); }
    std::size_t bytes() const { return std::size_t{view.dim} * sizeof(float); }
  };

  // L2 over the 8-bit codes (see codes_): approximate, used to navigate layer 0.
  //
  // A row whose code distance lands just above the pool's bound may truly be nearer than
  // one inside it (rounding moves a code distance D by about +-0.8 sqrt(D), see
  // near_miss_margin). search_layer reports every row it rejects or evicts through
  // `rejected`; rows within the margin of the bound are kept in `near_misses`, and those
  // within the margin of the k-th code distance at the end join the exact re-rank. They are
  // never expanded, so navigation is unchanged.
  struct CodeDistance {
    const uint8_t* codes;
    const uint8_t* q;
    uint32_t dim;
    CodeL2Fn fn;
    std::vector<Candidate>* near_misses;  // may be null: then nothing is kept
    float operator()(uint32_t node) const {
      return static_cast<float>(fn(q, codes + std::size_t{node} * dim, dim));
    }
    float bounded(uint32_t node, float /*bound*/) const { return (*this)(node); }
    void rejected(Candidate c, float bound) const {
      if (near_misses != nullptr && c.distance <= bound + near_miss_margin(bound)) {
        near_misses->push_back(c);
      }
    }
    const void* address(uint32_t node) const { return codes + std::size_t{node} * dim; }
    std::size_t bytes() const { return dim; }
  };
  Distance distance_to(const float* q, float q_norm) const;

  // Reused per-thread buffers of the layer-0 search.
  struct ScratchHeaps {
    std::vector<Candidate> candidates;
    std::vector<Candidate> results;
  };

  // Greedy walk (ef = 1) from `entry` down to level `to_level` + 1; returns the node reached
  // and updates `entry_distance`. `locks` (rows mutexes) is non-null only during the build.
  uint32_t greedy(const Distance& dist, uint32_t entry, float& entry_distance,
                  uint32_t from_level, uint32_t to_level, std::mutex* locks) const;
  // Best-first search of one layer. `pool` holds the entry points (sorted ascending, already
  // marked in `visited`) and receives the ef nearest found, sorted ascending.
  template <typename Dist>
  void search_layer(const Dist& dist, uint32_t level, std::size_t ef,
                    std::vector<Candidate>& pool, VisitedSet& visited, std::mutex* locks) const;
  // Layer-0 search that returns only rows `filter` allows, into heaps.results (ascending).
  void search_layer_filtered(const Distance& dist, std::size_t ef, const RowFilter& filter,
                             Candidate entry, VisitedSet& visited, ScratchHeaps& heaps) const;
  // The links of `node` at `level`: the live list, or (with `locks`) a copy taken under the
  // node's lock into `buf` (kMaxLinks + 1 entries).
  const uint32_t* read_links(uint32_t node, uint32_t level, std::mutex* locks,
                             uint32_t* buf) const;

  uint32_t* links0(uint32_t node) { return layer0_.data() + std::size_t{node} * (m0_ + 1); }
  const uint32_t* links0(uint32_t node) const {
    return layer0_.data() + std::size_t{node} * (m0_ + 1);
  }
  uint32_t* links(uint32_t node, uint32_t level) {
    return level == 0 ? links0(node)
                      : upper_links_.data() + upper_offset_[node] +
                            std::size_t{level - 1} * (m_ + 1);
  }
  const uint32_t* links(uint32_t node, uint32_t level) const {
    return level == 0 ? links0(node)
                      : upper_links_.data() + upper_offset_[node] +
                            std::size_t{level - 1} * (m_ + 1);
  }
  uint32_t cap(uint32_t level) const { return level == 0 ? m0_ : m_; }

  // Lays out link storage for the given levels (all counts zero).
  void allocate(std::vector<uint8_t> levels);
  // Fills codes_ from the view (kL2 only); called after build and load.
  void encode_codes();

 private:
  friend class Builder;

  Params params_;
  Metric metric_;
  VectorView view_;
  uint32_t m_;
  uint32_t m0_;
  uint32_t max_level_ = 0;
  uint32_t entry_ = 0;
  std::vector<uint8_t> levels_;         // rows
  std::vector<uint32_t> layer0_;        // rows * (m0 + 1)
  std::vector<uint64_t> upper_offset_;  // rows; valid when levels_[node] > 0
  std::vector<uint32_t> upper_links_;   // sum over nodes of levels * (m + 1)
  // For kL2: every row scalar-quantised to one byte per dimension, (x_d - code_offset_[d]) /
  // code_scale_ rounded, one scale for all dimensions so that code distances are the float
  // distances times code_scale_^2 up to rounding. Layer-0 navigation reads these (4x less
  // memory traffic than floats); the final candidates are re-ranked with exact distances.
  // rows * dim bytes; empty for other metrics or dim > kMaxCodeDim.
  std::vector<uint8_t> codes_;
  std::vector<float> code_offset_;
  float code_scale_ = 0.0f;
};

// Upper bound on a level; the format stores levels in a byte and a level above this is
// treated as damage (the chance of a genuine one is < 1e-30 for m >= 2).
inline constexpr uint32_t kMaxLevel = 100;

}  // namespace internal
}  // namespace quiver::index::hnsw
