// flat_bench: exact k-NN (k=10, L2, one thread) over Fashion-MNIST (60,000 x 784 train rows,
// the first 1,000 test images as queries). Compares Quiver's flat scan (best and scalar
// kernels), a plain in-order scalar loop, and FAISS IndexFlatL2 as Debian ships it (generic
// build, no SIMD) one query at a time and as one batch. Prints a markdown table of medians.
//
// Usage: flat_bench [--reps N] [--queries N]   (defaults 5 and 1000)
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <queue>
#include <string>
#include <vector>

#include <faiss/IndexFlat.h>

#include "fashion_mnist.h"
#include "index/distance.h"
#include "index/flat_index.h"

namespace {

using quiver::bench::Dataset;
using Results = std::vector<std::vector<uint32_t>>;
using FaissId = faiss::Index::idx_t;
constexpr uint32_t kK = 10;
constexpr const char* kFaissLabel = "FAISS IndexFlatL2 (Debian generic build, no SIMD)";

struct Method {
  std::string name;
  bool ours;
  std::function<void(Results&)> run;  // fills one result row list per query
  std::vector<double> qps;
  double recall = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void quiver_scan(const Dataset& base, const Dataset& queries,
                 const quiver::index::Kernels& kernels, Results& out) {
  using namespace quiver::index;
  const VectorView view{base.data.data(), nullptr, base.rows, base.dim};
  for (uint32_t q = 0; q < queries.rows; ++q) {
    TopK top(kK);
    scan(Query{queries.row(q), 0.0f}, Metric::kL2, view, 0, nullptr, top, kernels);
    auto nn = top.take_sorted();
    out[q].clear();
    for (std::size_t i = 0; i < std::min<std::size_t>(kK, nn.size()); ++i) out[q].push_back(nn[i].row);
  }
}

// What one would write without thinking about SIMD: in-order float sum and a heap.
void plain_scan(const Dataset& base, const Dataset& queries, Results& out) {
  for (uint32_t q = 0; q < queries.rows; ++q) {
    const float* qv = queries.row(q);
    std::priority_queue<std::pair<float, uint32_t>> heap;
    for (uint32_t r = 0; r < base.rows; ++r) {
      const float* x = base.row(r);
      float s = 0;
      for (uint32_t i = 0; i < base.dim; ++i) {
        const float d = qv[i] - x[i];
        s += d * d;
      }
      if (heap.size() < kK) {
        heap.push({s, r});
      } else if (s < heap.top().first) {
        heap.pop();
        heap.push({s, r});
      }
    }
    out[q].assign(heap.size(), 0);
    for (std::size_t i = heap.size(); i-- > 0;) {
      out[q][i] = heap.top().second;
      heap.pop();
    }
  }
}

void faiss_search(const faiss::IndexFlatL2& index, const Dataset& queries, bool batch,
                  Results& out) {
  const uint32_t nq = queries.rows;
  std::vector<float> dist(std::size_t{nq} * kK);
  std::vector<FaissId> ids(std::size_t{nq} * kK);
  if (batch) {
    index.search(nq, queries.data.data(), kK, dist.data(), ids.data());
  } else {
    for (uint32_t q = 0; q < nq; ++q) {
      index.search(1, queries.row(q), kK, dist.data() + std::size_t{q} * kK,
                   ids.data() + std::size_t{q} * kK);
    }
  }
  for (uint32_t q = 0; q < nq; ++q) {
    out[q].clear();
    for (uint32_t i = 0; i < kK; ++i) {
      const FaissId id = ids[std::size_t{q} * kK + i];
      if (id >= 0) out[q].push_back(static_cast<uint32_t>(id));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  uint32_t nq = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::max(1, std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--queries") == 0) nq = static_cast<uint32_t>(std::atoi(argv[i + 1]));
  }
  omp_set_num_threads(1);  // single-threaded comparison: FAISS would otherwise use every core

  const Dataset base = quiver::bench::fashion_mnist_train();
  const Dataset queries = quiver::bench::fashion_mnist_queries(nq);
  std::fprintf(stderr, "computing exact ground truth for %u queries...\n", queries.rows);
  const Results truth = quiver::bench::exact_knn_l2(base, queries, kK);

  const auto& best = quiver::index::kernels();
  const auto* scalar = quiver::index::kernels_by_name("scalar");
  faiss::IndexFlatL2 faiss_index(static_cast<FaissId>(base.dim));
  faiss_index.add(base.rows, base.data.data());

  std::vector<Method> methods;
  methods.push_back({"Quiver flat scan (" + std::string(best.name) + " kernels)", true,
                     [&](Results& r) { quiver_scan(base, queries, best, r); }});
  methods.push_back({"Quiver flat scan (scalar kernels)", true,
                     [&](Results& r) { quiver_scan(base, queries, *scalar, r); }});
  methods.push_back({"Plain scalar loop (inline in bench)", false,
                     [&](Results& r) { plain_scan(base, queries, r); }});
  methods.push_back({std::string(kFaissLabel) + ", one query at a time", false,
                     [&](Results& r) { faiss_search(faiss_index, queries, false, r); }});
  methods.push_back({std::string(kFaissLabel) + ", " + std::to_string(queries.rows) +
                         "-query batch (reference BLAS)", false,
                     [&](Results& r) { faiss_search(faiss_index, queries, true, r); }});

  Results found(queries.rows);
  for (int rep = 0; rep < reps; ++rep) {
    // Interleave methods across repetitions so that drift in machine load hits all alike.
    for (Method& m : methods) {
      const auto t0 = std::chrono::steady_clock::now();
      m.run(found);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      m.qps.push_back(queries.rows / secs);
      if (rep == 0) m.recall = quiver::bench::recall_at_k(found, truth, kK);
      std::fprintf(stderr, "rep %d  %-80s %10.1f QPS\n", rep + 1, m.name.c_str(), m.qps.back());
    }
  }

  const double ours = median(methods[0].qps);
  std::printf("\n### Flat (exact) search, Fashion-MNIST 60,000 x 784, %u queries, k=%u, L2, "
              "1 thread, median of %d runs\n\n",
              queries.rows, kK, reps);
  std::printf("| Method | QPS (median) | ms / query | recall@10 | %s QPS / this |\n",
              methods[0].name.c_str());
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const Method& m : methods) {
    const double q = median(m.qps);
    std::printf("| %s | %.1f | %.3f | %.4f | %.2fx |\n", m.name.c_str(), q, 1000.0 / q, m.recall,
                ours / q);
  }
  return 0;
}
