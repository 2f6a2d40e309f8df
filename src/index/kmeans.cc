#include "index/kmeans.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <thread>

#include "index/distance.h"

namespace quiver::index::kmeans {
namespace {

// Runs fn(begin, end) over [0, n) split into `threads` contiguous chunks.
template <typename Fn>
void parallel_for(uint32_t n, unsigned threads, Fn fn) {
  const unsigned t = std::max(1u, std::min<unsigned>(threads, n / 64 + 1));
  if (t == 1) {
    fn(0u, n);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(t - 1);
  const uint32_t chunk = (n + t - 1) / t;
  for (unsigned i = 1; i < t; ++i) {
    const uint32_t b = std::min<uint32_t>(n, i * chunk);
    const uint32_t e = std::min<uint32_t>(n, b + chunk);
    workers.emplace_back([=] { fn(b, e); });
  }
  fn(0u, std::min<uint32_t>(n, chunk));
  for (auto& w : workers) w.join();
}

// A double in [0, 1) from the top 53 bits: portable, unlike std::uniform_real_distribution.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

bool cancelled(const Options& o) {
  return o.cancel != nullptr && o.cancel->load(std::memory_order_relaxed);
}

void normalise(float* v, uint32_t dim) {
  const float n = norm(v, dim);
  if (n > 0.0f && std::isfinite(n)) {
    const float inv = 1.0f / n;
    for (uint32_t j = 0; j < dim; ++j) v[j] *= inv;
  }
}

// The training set: a seeded sample of at most k * max_points_per_centroid rows (the
// quantizer's quality saturates long before all rows are used), normalised when spherical.
// Points at `data` directly when it can, else at `storage`.
const float* training_set(const float* data, const float* norms, uint32_t rows, uint32_t dim,
                          const Options& o, std::mt19937_64& rng, std::vector<float>& storage,
                          uint32_t& n) {
  const uint64_t cap = static_cast<uint64_t>(o.k) * std::max(1u, o.max_points_per_centroid);
  std::vector<uint32_t> picked;
  if (rows > cap) {
    // Partial Fisher-Yates: the first `cap` entries become a uniform sample.
    picked.resize(rows);
    std::iota(picked.begin(), picked.end(), 0u);
    for (uint32_t i = 0; i < cap; ++i) {
      const uint32_t j = i + static_cast<uint32_t>(rng() % (rows - i));
      std::swap(picked[i], picked[j]);
    }
    picked.resize(cap);
    std::sort(picked.begin(), picked.end());  // row order: friendlier to the cache
  }
  n = picked.empty() ? rows : static_cast<uint32_t>(picked.size());
  if (picked.empty() && !o.spherical) return data;
  storage.resize(static_cast<std::size_t>(n) * dim);
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t r = picked.empty() ? i : picked[i];
    float* dst = storage.data() + static_cast<std::size_t>(i) * dim;
    std::copy_n(data + static_cast<std::size_t>(r) * dim, dim, dst);
    if (o.spherical) {
      const float nr = norms != nullptr ? norms[r] : norm(dst, dim);
      if (nr > 0.0f && std::isfinite(nr)) {
        const float inv = 1.0f / nr;
        for (uint32_t j = 0; j < dim; ++j) dst[j] *= inv;
      }
    }
  }
  return storage.data();
}

// k-means++ (Arthur & Vassilvitskii 2007): each next seed is drawn with probability
// proportional to its squared distance to the nearest seed so far.
Status seed_plus_plus(const float* x, uint32_t n, uint32_t dim, const Options& o,
                      std::mt19937_64& rng, std::vector<float>& centroids) {
  const Kernels& kern = kernels();
  centroids.assign(static_cast<std::size_t>(o.k) * dim, 0.0f);
  std::vector<float> d2(n, std::numeric_limits<float>::infinity());
  uint32_t chosen = static_cast<uint32_t>(rng() % n);
  for (uint32_t c = 0; c < o.k; ++c) {
    if (cancelled(o)) return Status::unavailable("ivf build cancelled");
    float* cen = centroids.data() + static_cast<std::size_t>(c) * dim;
    std::copy_n(x + static_cast<std::size_t>(chosen) * dim, dim, cen);
    if (c + 1 == o.k) break;
    parallel_for(n, o.threads, [&](uint32_t b, uint32_t e) {
      for (uint32_t i = b; i < e; ++i) {
        d2[i] = std::min(d2[i], kern.l2_sq(x + static_cast<std::size_t>(i) * dim, cen, dim));
      }
    });
    double total = 0.0;
    for (uint32_t i = 0; i < n; ++i) total += d2[i];
    if (!(total > 0.0)) {
      // Fewer distinct points than clusters: any row will do; repair handles duplicates.
      chosen = static_cast<uint32_t>(rng() % n);
      continue;
    }
    double target = uniform01(rng) * total;
    chosen = n - 1;
    for (uint32_t i = 0; i < n; ++i) {
      target -= d2[i];
      if (target < 0.0 && d2[i] > 0.0f) {
        chosen = i;
        break;
      }
    }
  }
  return Status::ok();
}

// An empty cluster takes over the row farthest from its centroid within the largest cluster,
// which splits the cluster that most needs it and keeps every list non-empty.
void repair_empty(const float* x, uint32_t n, uint32_t dim, uint32_t k,
                  std::vector<uint32_t>& assignment, std::vector<uint32_t>& counts,
                  std::vector<float>& centroids) {
  const Kernels& kern = kernels();
  for (uint32_t c = 0; c < k; ++c) {
    if (counts[c] != 0) continue;
    const uint32_t big =
        static_cast<uint32_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
    if (counts[big] < 2) return;  // fewer rows than clusters: nothing to split
    const float* bc = centroids.data() + static_cast<std::size_t>(big) * dim;
    uint32_t far = n;
    float far_d = -1.0f;
    for (uint32_t i = 0; i < n; ++i) {
      if (assignment[i] != big) continue;
      const float d = kern.l2_sq(x + static_cast<std::size_t>(i) * dim, bc, dim);
      if (d > far_d) {
        far_d = d;
        far = i;
      }
    }
    std::copy_n(x + static_cast<std::size_t>(far) * dim, dim,
                centroids.data() + static_cast<std::size_t>(c) * dim);
    assignment[far] = c;
    --counts[big];
    counts[c] = 1;
  }
}

}  // namespace

void assign(const float* data, uint32_t rows, uint32_t dim, const float* centroids, uint32_t k,
            bool spherical, unsigned threads, uint32_t* out) {
  const Kernels& kern = kernels();
  parallel_for(rows, threads, [&](uint32_t b, uint32_t e) {
    for (uint32_t i = b; i < e; ++i) {
      const float* x = data + static_cast<std::size_t>(i) * dim;
      uint32_t best = 0;
      float best_d = std::numeric_limits<float>::infinity();
      for (uint32_t c = 0; c < k; ++c) {
        const float* cen = centroids + static_cast<std::size_t>(c) * dim;
        const float d = spherical ? -kern.dot(x, cen, dim) : kern.l2_sq(x, cen, dim);
        if (d < best_d) {
          best_d = d;
          best = c;
        }
      }
      out[i] = best;
    }
  });
}

Result<std::vector<float>> train(const float* data, const float* norms, uint32_t rows, uint32_t dim,
                                 const Options& options) {
  if (options.k == 0 || options.k > rows) {
    return Status::invalid("kmeans: k must be in [1, rows]");
  }
  std::mt19937_64 rng(options.seed);
  std::vector<float> storage;
  uint32_t n = 0;
  const float* x = training_set(data, norms, rows, dim, options, rng, storage, n);
  const uint32_t k = options.k;

  std::vector<float> centroids;
  QUIVER_RETURN_IF_ERROR(seed_plus_plus(x, n, dim, options, rng, centroids));

  std::vector<uint32_t> assignment(n, UINT32_MAX);
  std::vector<uint32_t> next(n);
  std::vector<uint32_t> counts(k);
  std::vector<double> sums(static_cast<std::size_t>(k) * dim);
  for (uint32_t it = 0; it < options.iterations; ++it) {
    if (cancelled(options)) return Status::unavailable("ivf build cancelled");
    assign(x, n, dim, centroids.data(), k, options.spherical, options.threads, next.data());
    const bool changed = next != assignment;
    assignment.swap(next);
    if (!changed) break;  // converged: another round would compute the same centroids
    // Update: mean of each cluster, accumulated in double in row order (deterministic).
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0u);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t c = assignment[i];
      ++counts[c];
      double* s = sums.data() + static_cast<std::size_t>(c) * dim;
      const float* xi = x + static_cast<std::size_t>(i) * dim;
      for (uint32_t j = 0; j < dim; ++j) s[j] += xi[j];
    }
    for (uint32_t c = 0; c < k; ++c) {
      if (counts[c] == 0) continue;
      float* cen = centroids.data() + static_cast<std::size_t>(c) * dim;
      const double* s = sums.data() + static_cast<std::size_t>(c) * dim;
      for (uint32_t j = 0; j < dim; ++j) cen[j] = static_cast<float>(s[j] / counts[c]);
      if (options.spherical) normalise(cen, dim);
    }
    repair_empty(x, n, dim, k, assignment, counts, centroids);
  }
  return centroids;
}

}  // namespace quiver::index::kmeans
