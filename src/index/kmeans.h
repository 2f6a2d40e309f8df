// k-means clustering for the IVF coarse quantizer: k-means++ seeding, then Lloyd rounds with
// a parallel assignment step and empty-cluster repair.
//
// Two geometries:
//   euclidean : minimises sum |x - c|^2 (the textbook algorithm).
//   spherical : clusters the directions x/|x|; centroids are renormalised to unit length
//               after each update and rows go to the centroid of largest dot product
//               (for unit vectors the same as the nearest in L2, and scale-free, so raw
//               rows can be assigned without normalising them).
// Deterministic for a given seed and input, whatever the thread count (every reduction
// runs in row order on one thread).
//
// Thread-safety: free functions without shared state; each call may use `threads` threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "common/status.h"

namespace quiver::index::kmeans {

struct Options {
  uint32_t k = 1;            // clusters; 1 <= k <= rows
  uint32_t iterations = 20;  // Lloyd rounds after seeding (stops early at convergence)
  uint64_t seed = 42;        // drives sampling and k-means++
  bool spherical = false;    // see the top of this header
  uint32_t max_points_per_centroid = 256;  // training sample cap: k * this rows
  unsigned threads = 1;
  const std::atomic<bool>* cancel = nullptr;  // polled between steps
};

// Trains on `rows` vectors of `dim` floats at `data` (row-major); `norms` (rows floats, may
// be null: computed when needed) are only read in spherical mode. Returns k * dim centroid
// floats, or kInvalidArgument for k == 0 or k > rows, kUnavailable when cancelled.
Result<std::vector<float>> train(const float* data, const float* norms, uint32_t rows, uint32_t dim,
                                 const Options& options);

// Writes to out[i] (rows entries) the centroid nearest to row i: smallest L2 distance, or
// in spherical mode the largest dot product. Ties go to the lower centroid index.
void assign(const float* data, uint32_t rows, uint32_t dim, const float* centroids, uint32_t k,
            bool spherical, unsigned threads, uint32_t* out);

}  // namespace quiver::index::kmeans
