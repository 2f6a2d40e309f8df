// Loader for the Fashion-MNIST vectors shipped by Debian's dataset-fashion-mnist package
// (gzipped IDX files under /usr/share/datasets/fashion-mnist), as float32 rows of 784 pixel
// values (0..255, not rescaled), plus exact ground truth for L2 k-NN.
//
// Shared by every benchmark in bench/ so that all tables use the same data and truth.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quiver::bench {

struct Dataset {
  uint32_t rows = 0;
  uint32_t dim = 0;
  std::vector<float> data;  // rows * dim, row-major
  const float* row(uint32_t r) const { return data.data() + static_cast<std::size_t>(r) * dim; }
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads an IDX3 image file (gzipped). `limit` caps the rows read (0 = all).
// Exits the process with a message when the file is missing or malformed: a benchmark
// without its data has nothing to say.
Dataset load_idx_images(const std::string& path, uint32_t limit = 0);

// The 60,000 training images.
Dataset fashion_mnist_train();
// The first `n` test images (the benchmark queries).
Dataset fashion_mnist_queries(uint32_t n = 1000);

// Exact L2 k nearest rows of `base` for each query, nearest first (ties by row), computed
// with a straightforward scan in double precision (run once per benchmark; ~1 minute
// single-threaded at 60k x 1k; uses all cores).
std::vector<std::vector<uint32_t>> exact_knn_l2(const Dataset& base, const Dataset& queries,
                                                uint32_t k);

// Mean over queries of |found ∩ truth[:k]| / k.
double recall_at_k(const std::vector<std::vector<uint32_t>>& found,
                   const std::vector<std::vector<uint32_t>>& truth, uint32_t k);

}  // namespace quiver::bench
