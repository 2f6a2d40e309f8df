// ann_bench: approximate k-NN on Fashion-MNIST (60,000 x 784 train rows, the first 1,000
// test images as queries, L2, k = 10, one search thread). Recall@10 vs QPS for Quiver's
// hnsw (ef sweep), hnswlib's HierarchicalNSW (same M / ef_construction / ef sweep, compiled
// into this binary with -O3 -march=native), FAISS IndexHNSWFlat and IndexIVFFlat as Debian
// ships them (generic build, no SIMD), and Quiver's ivf / kdtree / flat through the index
// registry. Each QPS point is the median of `--reps` passes over all queries.
//
// Prints markdown tables (build time and memory, recall vs QPS, our QPS / hnswlib QPS at
// recall 0.95 and 0.99 interpolated along each curve) and writes the points as CSV
// (default bench/results/ann.csv; draw with bench/plot_recall_qps.py).
//
// Usage: ann_bench [--reps N] [--queries N] [--csv PATH] [--no-faiss] [--no-others]
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <hnswlib/hnswlib.h>

#include "fashion_mnist.h"
#include "index/hnsw.h"
#include "index/registry.h"

namespace {

using quiver::bench::Dataset;
using Results = std::vector<std::vector<uint32_t>>;
using Clock = std::chrono::steady_clock;
namespace qi = quiver::index;

constexpr uint32_t kK = 10;
constexpr uint32_t kM = 16;
constexpr uint32_t kEfConstruction = 200;
const std::vector<uint32_t> kEfs = {10, 16, 24, 32, 48, 64, 96, 128, 200, 300, 400};
const std::vector<uint32_t> kNprobes = {1, 2, 4, 8, 16, 32, 64};
constexpr const char* kOurs = "quiver hnsw";
constexpr const char* kHnswlib = "hnswlib HierarchicalNSW";

struct Options {
  int reps = 3;
  uint32_t queries = 1000;
  std::string csv = std::string(QUIVER_SOURCE_DIR) + "/bench/results/ann.csv";
  bool faiss = true;
  bool others = true;
};

struct Point {
  std::string knob;
  uint32_t value = 0;
  double recall = 0;
  double qps = 0;
};

struct Curve {
  std::string name;
  std::vector<Point> points;
};

struct BuildRow {
  std::string name;
  unsigned threads;
  double seconds;
  double graph_mb;  // index structure without the vectors (NaN when not separable)
  double total_mb;  // including the vectors the index reads
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Runs `search_all` `reps` times; QPS is the median, recall from the last pass.
Point measure(const Options& opt, const std::string& knob, uint32_t value,
              const std::function<void(Results&)>& search_all, const Results& truth) {
  Results found(opt.queries);
  std::vector<double> qps;
  for (int r = 0; r < opt.reps; ++r) {
    const auto t0 = Clock::now();
    search_all(found);
    qps.push_back(opt.queries / seconds_since(t0));
  }
  return {knob, value, quiver::bench::recall_at_k(found, truth, kK), median(qps)};
}

// QPS at `target` recall, interpolated linearly in recall vs log(QPS) between the two points
// that bracket it; NaN when the curve never reaches it. A curve whose first point already
// exceeds the target reports that point's QPS (a lower bound).
double qps_at(const Curve& c, double target) {
  std::vector<Point> p = c.points;
  std::sort(p.begin(), p.end(), [](const Point& a, const Point& b) { return a.recall < b.recall; });
  if (p.empty() || p.back().recall < target) return NAN;
  if (p.front().recall >= target) return p.front().qps;
  for (std::size_t i = 1; i < p.size(); ++i) {
    if (p[i].recall >= target) {
      const double t = (target - p[i - 1].recall) / (p[i].recall - p[i - 1].recall);
      return std::exp(std::log(p[i - 1].qps) + t * (std::log(p[i].qps) - std::log(p[i - 1].qps)));
    }
  }
  return NAN;
}

void keep_top(Results& found, std::size_t q, std::vector<qi::Neighbor> nn) {
  found[q].clear();
  for (std::size_t i = 0; i < std::min<std::size_t>(kK, nn.size()); ++i) found[q].push_back(nn[i].row);
}

// ---- Quiver indexes -------------------------------------------------------------------------
void run_quiver(const qi::VectorIndex& index, const Dataset& queries, const qi::SearchParams& sp,
                Results& found) {
  for (uint32_t q = 0; q < found.size(); ++q) {
    qi::TopK top(kK);
    index.search(qi::Query{queries.row(q), 0.0f}, sp, nullptr, top);
    keep_top(found, q, top.take_sorted());
  }
}

// ---- hnswlib --------------------------------------------------------------------------------
std::unique_ptr<hnswlib::HierarchicalNSW<float>> build_hnswlib(hnswlib::L2Space& space,
                                                               const Dataset& base,
                                                               unsigned threads) {
  auto h = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, base.rows, kM,
                                                             kEfConstruction, 100);
  std::atomic<uint32_t> next{0};
  auto work = [&] {
    for (uint32_t i; (i = next.fetch_add(1)) < base.rows;) h->addPoint(base.row(i), i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return h;
}

double hnswlib_bytes(const hnswlib::HierarchicalNSW<float>& h) {
  double bytes = double(h.max_elements_) * double(h.size_data_per_element_);
  for (std::size_t i = 0; i < h.cur_element_count; ++i) {
    bytes += double(h.element_levels_[i]) * double(h.size_links_per_element_);
  }
  return bytes;
}

void write_csv(const std::string& path, const std::vector<Curve>& curves) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path);
  out << "index,knob,value,recall,qps\n";
  for (const Curve& c : curves) {
    for (const Point& p : c.points) {
      out << '"' << c.name << "\"," << p.knob << ',' << p.value << ',' << p.recall << ','
          << p.qps << '\n';
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) opt.reps = std::atoi(argv[++i]);
    else if (a == "--queries" && i + 1 < argc) opt.queries = static_cast<uint32_t>(std::atoi(argv[++i]));
    else if (a == "--csv" && i + 1 < argc) opt.csv = argv[++i];
    else if (a == "--no-faiss") opt.faiss = false;
    else if (a == "--no-others") opt.others = false;
    else {
      std::fprintf(stderr, "usage: ann_bench [--reps N] [--queries N] [--csv PATH] [--no-faiss] [--no-others]\n");
      return 2;
    }
  }
  const Dataset base = quiver::bench::fashion_mnist_train();
  const Dataset queries = quiver::bench::fashion_mnist_queries(opt.queries);
  opt.queries = queries.rows;
  std::fprintf(stderr, "computing exact ground truth...\n");
  const Results truth = quiver::bench::exact_knn_l2(base, queries, kK);
  const double vectors_mb = double(base.rows) * base.dim * sizeof(float) / 1e6;
  const qi::VectorView view{base.data.data(), nullptr, base.rows, base.dim};

  std::vector<Curve> curves;
  std::vector<BuildRow> builds;

  // ---- Quiver hnsw ----
  std::unique_ptr<qi::VectorIndex> ours;
  for (unsigned threads : {1u, 2u}) {
    std::fprintf(stderr, "building %s with %u thread(s)...\n", kOurs, threads);
    qi::BuildOptions bo;
    bo.threads = threads;
    const auto t0 = Clock::now();
    auto r = qi::hnsw::build(qi::hnsw::Params{kM, kEfConstruction, 64, 42}, qi::Metric::kL2, view, bo);
    const double s = seconds_since(t0);
    if (!r.is_ok()) {
      std::fprintf(stderr, "hnsw build failed: %s\n", r.status().to_string().c_str());
      return 1;
    }
    const double graph_mb = double((*r)->memory_bytes()) / 1e6;
    builds.push_back({kOurs, threads, s, graph_mb, graph_mb + vectors_mb});
    if (threads == 1) ours = std::move(r).value();  // curves use the deterministic 1-thread graph
  }
  {
    Curve c{kOurs, {}};
    for (uint32_t ef : kEfs) {
      c.points.push_back(measure(opt, "ef", ef, [&](Results& f) {
        run_quiver(*ours, queries, qi::SearchParams{ef, std::nullopt}, f);
      }, truth));
    }
    curves.push_back(std::move(c));
  }

  // ---- hnswlib ----
  hnswlib::L2Space space(base.dim);
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> hl;
  for (unsigned threads : {1u, 2u}) {
    std::fprintf(stderr, "building %s with %u thread(s)...\n", kHnswlib, threads);
    const auto t0 = Clock::now();
    auto h = build_hnswlib(space, base, threads);
    const double s = seconds_since(t0);
    const double total_mb = hnswlib_bytes(*h) / 1e6;
    builds.push_back({kHnswlib, threads, s, total_mb - vectors_mb, total_mb});
    if (threads == 1) hl = std::move(h);
  }
  {
    Curve c{kHnswlib, {}};
    for (uint32_t ef : kEfs) {
      hl->setEf(ef);
      c.points.push_back(measure(opt, "ef", ef, [&](Results& f) {
        for (uint32_t q = 0; q < f.size(); ++q) {
          auto pq = hl->searchKnn(queries.row(q), kK);
          f[q].assign(pq.size(), 0);
          for (std::size_t i = pq.size(); i-- > 0; pq.pop()) f[q][i] = static_cast<uint32_t>(pq.top().second);
        }
      }, truth));
    }
    curves.push_back(std::move(c));
  }
  hl.reset();

  // ---- FAISS (built with 2 OpenMP threads to save wall time; searched with 1) ----
  if (opt.faiss) {
    using Idx = faiss::Index::idx_t;
    std::vector<float> dist(std::size_t{opt.queries} * kK);
    std::vector<Idx> ids(std::size_t{opt.queries} * kK);
    auto collect = [&](Results& f) {
      for (uint32_t q = 0; q < f.size(); ++q) {
        f[q].clear();
        for (uint32_t i = 0; i < kK; ++i) {
          const Idx id = ids[std::size_t{q} * kK + i];
          if (id >= 0) f[q].push_back(static_cast<uint32_t>(id));
        }
      }
    };
    {
      const std::string name = "FAISS IndexHNSWFlat (Debian generic build, no SIMD)";
      std::fprintf(stderr, "building %s...\n", name.c_str());
      omp_set_num_threads(2);
      faiss::IndexHNSWFlat fh(static_cast<int>(base.dim), static_cast<int>(kM));
      fh.hnsw.efConstruction = static_cast<int>(kEfConstruction);
      const auto t0 = Clock::now();
      fh.add(base.rows, base.data.data());
      const double s = seconds_since(t0);
      const double graph_mb = (double(fh.hnsw.neighbors.size()) * sizeof(faiss::HNSW::storage_idx_t) +
                               double(fh.hnsw.levels.size()) * sizeof(int) +
                               double(fh.hnsw.offsets.size()) * sizeof(std::size_t)) / 1e6;
      builds.push_back({name, 2, s, graph_mb, graph_mb + vectors_mb});
      omp_set_num_threads(1);
      Curve c{name, {}};
      for (uint32_t ef : kEfs) {
        fh.hnsw.efSearch = static_cast<int>(ef);
        c.points.push_back(measure(opt, "ef", ef, [&](Results& f) {
          fh.search(opt.queries, queries.data.data(), kK, dist.data(), ids.data());
          collect(f);
        }, truth));
      }
      curves.push_back(std::move(c));
    }
    {
      const std::string name = "FAISS IndexIVFFlat nlist=245 (Debian generic build, no SIMD)";
      std::fprintf(stderr, "building %s...\n", name.c_str());
      omp_set_num_threads(2);
      faiss::IndexFlatL2 quantizer(static_cast<int>(base.dim));
      faiss::IndexIVFFlat ivf(&quantizer, base.dim, 245);
      const auto t0 = Clock::now();
      ivf.train(base.rows, base.data.data());
      ivf.add(base.rows, base.data.data());
      const double s = seconds_since(t0);
      const double graph_mb = (double(base.rows) * sizeof(Idx) + 245.0 * base.dim * sizeof(float)) / 1e6;
      builds.push_back({name, 2, s, graph_mb, graph_mb + vectors_mb});
      omp_set_num_threads(1);
      Curve c{name, {}};
      for (uint32_t nprobe : kNprobes) {
        ivf.nprobe = nprobe;
        c.points.push_back(measure(opt, "nprobe", nprobe, [&](Results& f) {
          ivf.search(opt.queries, queries.data.data(), kK, dist.data(), ids.data());
          collect(f);
        }, truth));
      }
      curves.push_back(std::move(c));
    }
  }

  // ---- Quiver's other indexes, by name through the registry ----
  if (opt.others) {
    for (const char* type : {"ivf", "kdtree", "flat"}) {
      const std::string name = std::string("quiver ") + type;
      std::fprintf(stderr, "building %s...\n", name.c_str());
      qi::BuildOptions bo;
      bo.threads = 1;
      const auto t0 = Clock::now();
      auto r = qi::build_index(qi::IndexConfig{type, {}}, qi::Metric::kL2, view, bo);
      const double s = seconds_since(t0);
      if (!r.is_ok()) {
        std::printf("\n(%s skipped: %s)\n", name.c_str(), r.status().to_string().c_str());
        continue;
      }
      const double graph_mb = double((*r)->memory_bytes()) / 1e6;
      builds.push_back({name, 1, s, graph_mb, graph_mb + vectors_mb});
      Curve c{name, {}};
      const bool is_ivf = std::string(type) == "ivf";
      for (uint32_t v : is_ivf ? kNprobes : std::vector<uint32_t>{0}) {
        qi::SearchParams sp;
        if (is_ivf) sp.nprobe = v;
        c.points.push_back(measure(opt, is_ivf ? "nprobe" : "-", v, [&](Results& f) {
          run_quiver(**r, queries, sp, f);
        }, truth));
      }
      curves.push_back(std::move(c));
    }
  }

  // ---- Report ----
  std::printf("\n## ANN on Fashion-MNIST (60,000 x 784, %u queries, L2, k=%u, 1 search thread)\n\n",
              opt.queries, kK);
  std::printf("Vectors: %.1f MB (float32). Graph MB excludes them; total MB includes them.\n\n",
              vectors_mb);
  std::printf("| index | build threads | build s | index MB (without vectors) | total MB |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  for (const BuildRow& b : builds) {
    std::printf("| %s | %u | %.1f | %.1f | %.1f |\n", b.name.c_str(), b.threads, b.seconds,
                b.graph_mb, b.total_mb);
  }
  std::printf("\n| index | knob | value | recall@10 | QPS (median of %d) |\n", opt.reps);
  std::printf("|---|---|---:|---:|---:|\n");
  for (const Curve& c : curves) {
    for (const Point& p : c.points) {
      std::printf("| %s | %s | %u | %.4f | %.0f |\n", c.name.c_str(), p.knob.c_str(), p.value,
                  p.recall, p.qps);
    }
  }
  std::printf("\n| recall@10 | %s QPS | %s QPS | ratio |\n", kOurs, kHnswlib);
  std::printf("|---:|---:|---:|---:|\n");
  for (double target : {0.90, 0.95, 0.99}) {
    const double a = qps_at(curves[0], target), b = qps_at(curves[1], target);
    std::printf("| %.2f | %.0f | %.0f | %.2fx |\n", target, a, b, a / b);
  }
  write_csv(opt.csv, curves);
  std::printf("\nCSV: %s\n", opt.csv.c_str());
  return 0;
}
