// Data sets for ann_bench (bench only; not thread-safe to share a Dataset being written).
//
// "fashion": Fashion-MNIST as shipped (integer pixel values 0..255 stored as floats). On this
//   data an 8-bit scalar quantiser with one shared scale is lossless, so it flatters any index
//   that navigates on byte codes.
// "fashion-rotated": the same rows (base and queries) multiplied by one seeded random
//   orthogonal 784 x 784 matrix. Every L2 distance is preserved (so the neighbours are the
//   same), but the coordinates become arbitrary floats of mixed sign and scale, as real
//   embeddings are.
// "gaussian": 100,000 x 128 seeded clustered floats whose dimensions have scales spread
//   over a factor of ~50 (the hard case for one shared quantisation scale).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fashion_mnist.h"

namespace quiver::bench {

struct AnnData {
  std::string name;         // "fashion", "fashion-rotated" or "gaussian"
  std::string description;  // one line for the report title
  Dataset base;
  Dataset queries;
  std::vector<std::vector<uint32_t>> truth;  // exact L2 k nearest, nearest first
};

// Loads or generates data set `name` with `queries` queries (capped by what exists) and its
// exact top-`k` ground truth. `seed` drives the rotation / generator. Returns false and sets
// `error` for an unknown name. Exits the process if Fashion-MNIST is missing (as the loader).
bool load_ann_data(const std::string& name, uint32_t queries, uint32_t k, uint64_t seed,
                   AnnData& out, std::string& error);

// A random orthogonal n x n matrix (row-major, double): Gram-Schmidt (modified, applied
// twice for orthogonality to ~1e-15) on the rows of an i.i.d. Gaussian matrix, which gives
// the Haar distribution up to the signs fixed by the procedure.
std::vector<double> random_orthogonal(uint32_t n, uint64_t seed);

// Replaces every row x of `data` by Q x (Q row-major dim x dim). Uses up to 2 threads.
void rotate_rows(const std::vector<double>& q, Dataset& data);

}  // namespace quiver::bench
