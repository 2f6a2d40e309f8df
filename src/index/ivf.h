// IVF: an inverted-file index. A k-means coarse quantizer (index/kmeans.h) splits the rows
// into `nlist` cells; a query ranks the centroids and scans only the rows of the `nprobe`
// nearest cells. Approximate for nprobe < nlist, exact (the flat results) for nprobe = nlist.
//
// Layout: centroids (nlist * dim floats), one array of row ids in list order and nlist + 1
// offsets into it. No copy of the vectors (memory: 4 bytes per row + 4 * dim per list);
// rows are read from the VectorView.
//
// Metric convention (see docs/indexes/ivf.md):
//   l2     : euclidean k-means; rows go to, and queries probe, the nearest centroids in L2.
//   cosine : spherical k-means on x/|x| with unit centroids; rows go to, and queries probe,
//            the centroids of largest cosine similarity.
//   dot    : euclidean k-means (a cluster mean minimises L2, not -dot, so Lloyd needs L2);
//            queries probe the centroids of largest dot product q.c, the best estimate of
//            the dot products inside a cell (q.x = q.c + q.(x - c)).
//
// Thread-safety: search() is const and safe to call from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "index/registry.h"
#include "index/vector_index.h"

namespace quiver::index::ivf {

struct Params {
  uint32_t nlist = 0;        // lists; 0 = round(sqrt(rows)); clamped to [1, rows]
  uint32_t nprobe = 8;       // lists scanned when the query gives no SearchParams::nprobe
  uint32_t iterations = 20;  // Lloyd rounds
  uint64_t seed = 42;        // k-means sampling and seeding
};

// Builds an IVF index over `view` (which must outlive the index), training k-means with
// options.threads threads. kInvalidArgument for a cosine view without norms or nprobe 0,
// kUnavailable when options.cancel is set.
Result<std::unique_ptr<VectorIndex>> build(const Params& params, Metric metric, VectorView view,
                                           const BuildOptions& options);

// Loads an index saved by save() over the same `view`; params.nprobe becomes the default.
// kCorruption when the file is damaged, truncated, or does not match the view.
Result<std::unique_ptr<VectorIndex>> load(const Params& params, Metric metric, VectorView view,
                                          const std::string& path);

// The number of lists of `index`, which must be an IVF index (0 otherwise); for tests and
// benchmarks that sweep nprobe up to nlist.
uint32_t list_count(const VectorIndex& index);

}  // namespace quiver::index::ivf
