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
// --data fashion|fashion-rotated|gaussian picks the data set (bench/ann_datasets.h): raw
// Fashion-MNIST is integer data on which 8-bit codes are exact, so "fashion-rotated" (the
// same rows times a random orthogonal matrix: same neighbours, float coordinates) is the
// honest test of our byte-code navigation.
//
// --ab: only ours vs hnswlib, measured alternately in the same process over the same
// queries (`--passes` passes per ef; within a pass they take turns on blocks of 50 queries;
// best and median QPS), so that load swings on a shared machine hit both alike. Prints the load average at start and
// end. --cache DIR saves/loads both graphs there (keyed by data set and seed) so that
// re-runs measure search only.
//
// Usage: ann_bench [--data NAME] [--seed N] [--ab] [--passes N] [--cache DIR] [--reps N]
//                  [--queries N] [--csv PATH] [--no-faiss] [--no-others]
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

#include "ann_datasets.h"
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
constexpr uint32_t kAbBlock = 50;  // queries per turn in --ab mode
constexpr const char* kHnswlib = "hnswlib HierarchicalNSW";

struct Options {
  std::string data = "fashion";
  uint64_t seed = 7;
  bool ab = false;
  int passes = 5;
  std::string cache;  // empty: always build
  int reps = 3;
  uint32_t queries = 1000;
  std::string csv;  // default bench/results/ann[-ab]-<data>.csv
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
                Results& found, const qi::RowFilter* filter = nullptr) {
  for (uint32_t q = 0; q < found.size(); ++q) {
    qi::TopK top(kK);
    index.search(qi::Query{queries.row(q), 0.0f}, sp, filter, top);
    keep_top(found, q, top.take_sorted());
  }
}

// Allows every row. Passing it sends our hnsw down its filtered layer-0 search, which
// navigates on the float vectors instead of the byte codes: the A/B mode uses it to show
// what the quantised navigation costs in recall on the same graph.
class AllowAll final : public qi::RowFilter {
 public:
  bool allows(uint32_t) const override { return true; }
  uint64_t estimated_allowed(uint32_t rows) const override { return rows; }
};

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

void write_csv(const std::string& path, const std::string& data, const std::vector<Curve>& curves) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path);
  out << "data,index,knob,value,recall,qps\n";
  for (const Curve& c : curves) {
    for (const Point& p : c.points) {
      out << data << ",\"" << c.name << "\"," << p.knob << ',' << p.value << ',' << p.recall
          << ',' << p.qps << '\n';
    }
  }
}

std::string load_average() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

void run_hnswlib(const hnswlib::HierarchicalNSW<float>& h, const Dataset& queries, Results& f) {
  for (uint32_t q = 0; q < f.size(); ++q) {
    auto pq = h.searchKnn(queries.row(q), kK);
    f[q].assign(pq.size(), 0);
    for (std::size_t i = pq.size(); i-- > 0; pq.pop()) f[q][i] = static_cast<uint32_t>(pq.top().second);
  }
}

std::string cache_path(const Options& opt, const char* what) {
  if (opt.cache.empty()) return {};
  std::filesystem::create_directories(opt.cache);
  return opt.cache + "/" + opt.data + "-seed" + std::to_string(opt.seed) + "-m" +
         std::to_string(kM) + "-efc" + std::to_string(kEfConstruction) + "." + what;
}

// Our 1-thread graph: loaded from the cache when present, else built (and saved). Sets
// `build_s` to the build time or NaN when loaded.
std::unique_ptr<qi::VectorIndex> ours_1thread(const Options& opt, qi::VectorView view, double& build_s) {
  const std::string path = cache_path(opt, "quiver");
  build_s = NAN;
  if (!path.empty() && std::filesystem::exists(path)) {
    auto r = qi::hnsw::load(qi::hnsw::Params{kM, kEfConstruction, 64, 42}, qi::Metric::kL2, view, path);
    if (r.is_ok()) return std::move(r).value();
    std::fprintf(stderr, "cache %s unusable (%s); rebuilding\n", path.c_str(), r.status().to_string().c_str());
  }
  std::fprintf(stderr, "building %s with 1 thread...\n", kOurs);
  qi::BuildOptions bo;
  bo.threads = 1;
  const auto t0 = Clock::now();
  auto r = qi::hnsw::build(qi::hnsw::Params{kM, kEfConstruction, 64, 42}, qi::Metric::kL2, view, bo);
  build_s = seconds_since(t0);
  if (!r.is_ok()) {
    std::fprintf(stderr, "hnsw build failed: %s\n", r.status().to_string().c_str());
    std::exit(1);
  }
  if (!path.empty()) {
    const quiver::Status st = (*r)->save(path);
    if (!st.is_ok()) std::fprintf(stderr, "saving %s failed: %s\n", path.c_str(), st.to_string().c_str());
  }
  return std::move(r).value();
}

std::unique_ptr<hnswlib::HierarchicalNSW<float>> hnswlib_1thread(const Options& opt, hnswlib::L2Space& space,
                                                                 const Dataset& base, double& build_s) {
  const std::string path = cache_path(opt, "hnswlib");
  build_s = NAN;
  if (!path.empty() && std::filesystem::exists(path)) {
    return std::make_unique<hnswlib::HierarchicalNSW<float>>(&space, path);
  }
  std::fprintf(stderr, "building %s with 1 thread...\n", kHnswlib);
  const auto t0 = Clock::now();
  auto h = build_hnswlib(space, base, 1);
  build_s = seconds_since(t0);
  if (!path.empty()) h->saveIndex(path);
  return h;
}

// --ab: ours and hnswlib alternately, pass by pass, on the same queries.
int run_ab(const Options& opt, const quiver::bench::AnnData& d) {
  const std::string load_start = load_average();
  const Dataset& base = d.base;
  const qi::VectorView view{base.data.data(), nullptr, base.rows, base.dim};
  double ours_s = NAN, hl_s = NAN;
  auto ours = ours_1thread(opt, view, ours_s);
  hnswlib::L2Space space(base.dim);
  auto hl = hnswlib_1thread(opt, space, base, hl_s);

  struct Row {
    uint32_t ef;
    double recall[2];
    double float_nav_recall;
    double best[2];
    double med[2];
  };
  std::vector<Row> rows;
  Curve med_curve[2] = {{kOurs, {}}, {kHnswlib, {}}};
  Curve best_curve[2] = {{kOurs, {}}, {kHnswlib, {}}};
  for (uint32_t ef : kEfs) {
    fprintf(stderr, "ef %u...\n", ef);
    hl->setEf(ef);
    std::vector<double> qps[2];
    Results found[2] = {Results(opt.queries), Results(opt.queries)};
    // Within a pass the two indexes take turns on blocks of kAbBlock queries (who goes first
    // alternates per block), so a load swing of a second or more hits both alike.
    const qi::SearchParams sp{ef, std::nullopt};
    for (int pass = 0; pass < opt.passes; ++pass) {
      double seconds[2] = {0, 0};
      for (uint32_t b = 0; b < opt.queries; b += kAbBlock) {
        const uint32_t end = std::min(opt.queries, b + kAbBlock);
        for (int turn = 0; turn < 2; ++turn) {
          const int which = (turn + b / kAbBlock) % 2;
          const auto t0 = Clock::now();
          for (uint32_t q = b; q < end; ++q) {
            if (which == 0) {
              qi::TopK top(kK);
              ours->search(qi::Query{d.queries.row(q), 0.0f}, sp, nullptr, top);
              keep_top(found[0], q, top.take_sorted());
            } else {
              auto pq = hl->searchKnn(d.queries.row(q), kK);
              found[1][q].assign(pq.size(), 0);
              for (std::size_t i = pq.size(); i-- > 0; pq.pop()) {
                found[1][q][i] = static_cast<uint32_t>(pq.top().second);
              }
            }
          }
          seconds[which] += seconds_since(t0);
        }
      }
      for (int w = 0; w < 2; ++w) qps[w].push_back(opt.queries / seconds[w]);
    }
    Row row{ef, {}, 0.0, {}, {}};
    {
      const AllowAll all;
      Results f(opt.queries);
      run_quiver(*ours, d.queries, qi::SearchParams{ef, std::nullopt}, f, &all);
      row.float_nav_recall = quiver::bench::recall_at_k(f, d.truth, kK);
    }
    for (int w = 0; w < 2; ++w) {
      row.recall[w] = quiver::bench::recall_at_k(found[w], d.truth, kK);
      row.best[w] = *std::max_element(qps[w].begin(), qps[w].end());
      row.med[w] = median(qps[w]);
      med_curve[w].points.push_back({"ef", ef, row.recall[w], row.med[w]});
      best_curve[w].points.push_back({"ef", ef, row.recall[w], row.best[w]});
    }
    rows.push_back(row);
  }
  const std::string load_end = load_average();

  std::printf("\n## A/B: %s vs %s on %s\n\n", kOurs, kHnswlib, d.description.c_str());
  std::printf("%u queries, L2, k=%u, m=%u, ef_construction=%u, 1 build and 1 search thread; %d "
              "passes per ef; within a pass the two take turns on blocks of %u queries. Load average (1/5/15 min) at start: "
              "%s; at end: %s.",
              opt.queries, kK, kM, kEfConstruction, opt.passes, kAbBlock, load_start.c_str(),
              load_end.c_str());
  if (!std::isnan(ours_s)) std::printf(" Build: ours %.1f s, hnswlib %.1f s.", ours_s, hl_s);
  std::printf("\n\n\"ours, float nav\" is the recall of the same graph navigated on floats "
              "(not timed).\n\n| ef | ours recall@10 | ours, float nav | hnswlib recall@10 | "
              "ours QPS best / median | hnswlib QPS best / median | ratio best | ratio median |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Row& r : rows) {
    std::printf("| %u | %.4f | %.4f | %.4f | %.0f / %.0f | %.0f / %.0f | %.2fx | %.2fx |\n", r.ef,
                r.recall[0], r.float_nav_recall, r.recall[1], r.best[0], r.med[0], r.best[1], r.med[1],
                r.best[0] / r.best[1], r.med[0] / r.med[1]);
  }
  std::printf("\n| recall@10 | ours QPS (best) | hnswlib QPS (best) | ratio (best) | ratio (median) |\n");
  std::printf("|---:|---:|---:|---:|---:|\n");
  for (double target : {0.90, 0.95, 0.99}) {
    const double a = qps_at(best_curve[0], target), b = qps_at(best_curve[1], target);
    const double am = qps_at(med_curve[0], target), bm = qps_at(med_curve[1], target);
    std::printf("| %.2f | %.0f | %.0f | %.2fx | %.2fx |\n", target, a, b, a / b, am / bm);
  }
  write_csv(opt.csv, d.name, {best_curve[0], best_curve[1]});
  std::printf("\nCSV (best-of-%d QPS): %s\n", opt.passes, opt.csv.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--data" && i + 1 < argc) opt.data = argv[++i];
    else if (a == "--seed" && i + 1 < argc) opt.seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--ab") opt.ab = true;
    else if (a == "--passes" && i + 1 < argc) opt.passes = std::max(1, std::atoi(argv[++i]));
    else if (a == "--cache" && i + 1 < argc) opt.cache = argv[++i];
    else if (a == "--reps" && i + 1 < argc) opt.reps = std::atoi(argv[++i]);
    else if (a == "--queries" && i + 1 < argc) opt.queries = static_cast<uint32_t>(std::atoi(argv[++i]));
    else if (a == "--csv" && i + 1 < argc) opt.csv = argv[++i];
    else if (a == "--no-faiss") opt.faiss = false;
    else if (a == "--no-others") opt.others = false;
    else {
      std::fprintf(stderr, "usage: ann_bench [--data fashion|fashion-rotated|gaussian] [--seed N] [--ab] [--passes N]\n"
                   "                 [--cache DIR] [--reps N] [--queries N] [--csv PATH] [--no-faiss] [--no-others]\n");
      return 2;
    }
  }
  if (opt.csv.empty()) {
    opt.csv = std::string(QUIVER_SOURCE_DIR) + "/bench/results/ann" + (opt.ab ? "-ab-" : "-") +
              opt.data + ".csv";
  }
  quiver::bench::AnnData data;
  std::string error;
  if (!quiver::bench::load_ann_data(opt.data, opt.queries, kK, opt.seed, data, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  opt.queries = data.queries.rows;
  if (opt.ab) return run_ab(opt, data);
  const Dataset& base = data.base;
  const Dataset& queries = data.queries;
  const Results& truth = data.truth;
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
        run_hnswlib(*hl, queries, f);
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
  std::printf("\n## ANN on %s (%u queries, L2, k=%u, 1 search thread)\n\n",
              data.description.c_str(), opt.queries, kK);
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
  write_csv(opt.csv, data.name, curves);
  std::printf("\nCSV: %s\n", opt.csv.c_str());
  return 0;
}
