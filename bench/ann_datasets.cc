#include "ann_datasets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

namespace quiver::bench {
namespace {

// Gaussian clusters with a per-dimension scale: centres ~ N(0, 1) * scale_d, rows = centre +
// N(0, 0.35) * scale_d, scale_d = exp(U(-2, 2)). Queries come from the same mixture with
// another stream of the generator.
Dataset clustered(uint32_t rows, uint32_t dim, const std::vector<float>& scale,
                  const std::vector<float>& centres, uint32_t clusters, std::mt19937_64& rng) {
  Dataset d;
  d.rows = rows;
  d.dim = dim;
  d.data.resize(std::size_t{rows} * dim);
  std::normal_distribution<float> noise(0.0f, 0.35f);
  std::uniform_int_distribution<uint32_t> pick(0, clusters - 1);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* c = centres.data() + std::size_t{pick(rng)} * dim;
    float* x = d.data.data() + std::size_t{r} * dim;
    for (uint32_t j = 0; j < dim; ++j) x[j] = c[j] + noise(rng) * scale[j];
  }
  return d;
}

}  // namespace

std::vector<double> random_orthogonal(uint32_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> q(std::size_t{n} * n);
  for (double& v : q) v = g(rng);
  for (uint32_t i = 0; i < n; ++i) {
    double* qi = q.data() + std::size_t{i} * n;
    // Two rounds of projection: one round of modified Gram-Schmidt loses orthogonality in
    // proportion to the condition number; the second restores it to rounding level.
    for (int round = 0; round < 2; ++round) {
      for (uint32_t j = 0; j < i; ++j) {
        const double* qj = q.data() + std::size_t{j} * n;
        double dot = 0;
        for (uint32_t t = 0; t < n; ++t) dot += qi[t] * qj[t];
        for (uint32_t t = 0; t < n; ++t) qi[t] -= dot * qj[t];
      }
    }
    double norm = 0;
    for (uint32_t t = 0; t < n; ++t) norm += qi[t] * qi[t];
    norm = std::sqrt(norm);
    for (uint32_t t = 0; t < n; ++t) qi[t] /= norm;
  }
  return q;
}

void rotate_rows(const std::vector<double>& q, Dataset& data) {
  const uint32_t dim = data.dim;
  auto work = [&](uint32_t first, uint32_t step) {
    std::vector<double> x(dim);
    for (uint32_t r = first; r < data.rows; r += step) {
      float* row = data.data.data() + std::size_t{r} * dim;
      for (uint32_t j = 0; j < dim; ++j) x[j] = row[j];
      for (uint32_t i = 0; i < dim; ++i) {
        const double* qi = q.data() + std::size_t{i} * dim;
        double s = 0;
        for (uint32_t j = 0; j < dim; ++j) s += qi[j] * x[j];
        row[i] = static_cast<float>(s);
      }
    }
  };
  std::thread helper(work, 1u, 2u);
  work(0, 2);
  helper.join();
}

bool load_ann_data(const std::string& name, uint32_t queries, uint32_t k, uint64_t seed,
                   AnnData& out, std::string& error) {
  out.name = name;
  if (name == "fashion" || name == "fashion-rotated") {
    out.base = fashion_mnist_train();
    out.queries = fashion_mnist_queries(queries);
    std::fprintf(stderr, "computing exact ground truth...\n");
    // Computed on the integer pixels in double precision, i.e. exactly; a rotation preserves
    // every distance, so it is the truth of the rotated rows as well.
    out.truth = exact_knn_l2(out.base, out.queries, k);
    out.description = "Fashion-MNIST (60,000 x 784, integer pixels 0..255)";
    if (name == "fashion-rotated") {
      std::fprintf(stderr, "rotating by a random orthogonal matrix (seed %llu)...\n",
                   static_cast<unsigned long long>(seed));
      const std::vector<double> q = random_orthogonal(out.base.dim, seed);
      rotate_rows(q, out.base);
      rotate_rows(q, out.queries);
      out.description =
          "Fashion-MNIST x random orthogonal 784x784 (60,000 x 784, float coordinates)";
    }
    return true;
  }
  if (name == "gaussian") {
    constexpr uint32_t kDim = 128, kRows = 100000, kClusters = 100;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::normal_distribution<float> g(0.0f, 1.0f);
    std::vector<float> scale(kDim);
    for (float& s : scale) s = std::exp(u(rng));
    std::vector<float> centres(std::size_t{kClusters} * kDim);
    for (uint32_t c = 0; c < kClusters; ++c) {
      for (uint32_t j = 0; j < kDim; ++j) centres[std::size_t{c} * kDim + j] = g(rng) * scale[j];
    }
    out.base = clustered(kRows, kDim, scale, centres, kClusters, rng);
    out.queries = clustered(std::max(queries, 1u), kDim, scale, centres, kClusters, rng);
    std::fprintf(stderr, "computing exact ground truth...\n");
    out.truth = exact_knn_l2(out.base, out.queries, k);
    out.description = "clustered Gaussian (100,000 x 128, 100 clusters, per-dimension scales "
                      "e^U(-2,2))";
    return true;
  }
  error = "unknown data set '" + name + "' (fashion, fashion-rotated, gaussian)";
  return false;
}

}  // namespace quiver::bench
