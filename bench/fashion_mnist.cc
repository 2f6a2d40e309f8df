#include "fashion_mnist.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <unordered_set>
#include <utility>

namespace quiver::bench {
namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "fashion_mnist: %s\n", msg.c_str());
  std::exit(2);
}

uint32_t read_be32(gzFile f, const std::string& path) {
  unsigned char b[4];
  if (gzread(f, b, 4) != 4) die("short read in " + path);
  return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | uint32_t(b[3]);
}

}  // namespace

Dataset load_idx_images(const std::string& path, uint32_t limit) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) die("cannot open " + path + " (install dataset-fashion-mnist: scripts/bootstrap.sh)");
  if (read_be32(f, path) != 0x00000803) die(path + " is not an IDX3 ubyte file");
  const uint32_t n = read_be32(f, path), h = read_be32(f, path), w = read_be32(f, path);
  Dataset d;
  d.rows = limit ? std::min(limit, n) : n;
  d.dim = h * w;
  std::vector<unsigned char> bytes(static_cast<std::size_t>(d.rows) * d.dim);
  if (gzread(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size()))
    die("short read in " + path);
  gzclose(f);
  d.data.assign(bytes.begin(), bytes.end());
  return d;
}

Dataset fashion_mnist_train() {
  return load_idx_images(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz");
}

Dataset fashion_mnist_queries(uint32_t n) {
  return load_idx_images(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz", n);
}

std::vector<std::vector<uint32_t>> exact_knn_l2(const Dataset& base, const Dataset& queries,
                                                uint32_t k) {
  std::vector<std::vector<uint32_t>> out(queries.rows);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  auto work = [&](unsigned t) {
    std::vector<std::pair<double, uint32_t>> d(base.rows);
    for (uint32_t q = t; q < queries.rows; q += threads) {
      const float* qv = queries.row(q);
      for (uint32_t r = 0; r < base.rows; ++r) {
        const float* x = base.row(r);
        double s = 0;
        for (uint32_t i = 0; i < base.dim; ++i) {
          const double diff = double(qv[i]) - double(x[i]);
          s += diff * diff;
        }
        d[r] = {s, r};
      }
      const uint32_t kk = std::min<uint32_t>(k, base.rows);
      std::partial_sort(d.begin(), d.begin() + kk, d.end());
      for (uint32_t i = 0; i < kk; ++i) out[q].push_back(d[i].second);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& th : pool) th.join();
  return out;
}

double recall_at_k(const std::vector<std::vector<uint32_t>>& found,
                   const std::vector<std::vector<uint32_t>>& truth, uint32_t k) {
  double sum = 0;
  for (std::size_t q = 0; q < truth.size(); ++q) {
    std::unordered_set<uint32_t> t(truth[q].begin(),
                                   truth[q].begin() + std::min<std::size_t>(k, truth[q].size()));
    uint32_t hit = 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(k, found[q].size()); ++i)
      hit += t.count(found[q][i]);
    sum += double(hit) / k;
  }
  return truth.empty() ? 0 : sum / truth.size();
}

}  // namespace quiver::bench
