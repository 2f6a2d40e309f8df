// KD-tree: an exact k-NN index by branch and bound over axis-aligned cells.
//
// Built once over a sealed segment (static; never updated). Each internal node splits its
// rows at the median of the dimension of largest spread; leaves hold <= leaf_size rows.
// Nodes live in one contiguous array in pre-order and the rows are kept as a permutation
// into leaf order, so by default the index holds no copy of the vectors (memory: 4 bytes
// per row plus 24 bytes per node, roughly 4 + 48/leaf_size bytes per row).
//
// Metrics (see docs/indexes/kdtree.md):
//   l2     : the tree bounds squared Euclidean distance directly.
//   cosine : the tree is built over the unit vectors x/|x| (computed on the fly from the
//            stored norms, never copied); on unit vectors |q-x|^2 = 2 + 2*cos_distance, so
//            the L2 cell bound converts exactly into a cosine-distance bound.
//   dot    : no valid bound exists over raw coordinates (a far cell may hold a longer
//            vector with a larger dot product), so the index answers with an exact scan.
// Results are exactly those of the flat scan (same set; ties may differ in row order).
//
// Thread-safety: search() is const and safe to call from any number of threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "index/registry.h"
#include "index/vector_index.h"

namespace quiver::index::kdtree {

struct Params {
  uint32_t leaf_size = 32;  // max rows per leaf; >= 1
  // Keep a private copy of the vectors in leaf order (rows * dim floats more memory) so leaf
  // scans read memory sequentially. Off by default and not a registry knob: see the study in
  // docs/indexes/kdtree.md for what it buys. Not saved; load() rebuilds it from the view.
  bool copy_vectors = false;
};

// Builds a KD-tree over `view` (which must outlive the index). Returns kInvalidArgument for
// leaf_size 0 or a cosine view without norms, kUnavailable when options.cancel is set.
Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options);

// Loads a tree saved by save() over the same `view`. kCorruption when the file is damaged,
// truncated, or does not match the view (rows, dim, metric) — never a crash or wrong rows.
Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path);

// Debug counters for the dimensionality study (bench/kdtree_dims.cc). Updated once per
// search with relaxed atomics, so reading them while searches run is safe but approximate.
struct SearchStats {
  uint64_t searches = 0;
  uint64_t distance_computations = 0;  // rows whose distance to the query was computed
  uint64_t leaves_visited = 0;
};

// The counters of `index`, which must be a kdtree (returns zeros for any other type).
SearchStats search_stats(const VectorIndex& index);
// Resets the counters of `index` (a kdtree; no-op otherwise).
void reset_search_stats(const VectorIndex& index);

}  // namespace quiver::index::kdtree
