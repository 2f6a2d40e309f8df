// HNSW tests: recall against brute force computed here, filters, persistence and damage,
// concurrency, determinism, cancellation.
//
// QUIVER_HNSW_TEST_ROWS overrides the data set size (default 20,000) for slow builds such
// as the sanitizer runs; the recall thresholds hold for any size >= 2,000.
#include "index/hnsw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <unistd.h>

#include "index/distance.h"
#include "index/index_file.h"
#include "index/registry.h"

namespace quiver::index::hnsw {
namespace {

constexpr uint32_t kDim = 64;
constexpr uint32_t kQueries = 200;
constexpr uint32_t kK = 10;

uint32_t test_rows() {
  const char* env = std::getenv("QUIVER_HNSW_TEST_ROWS");
  return env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10)) : 20000;
}

// Gaussian clusters: 256 centres ~ N(0, 1), points = centre + N(0, 0.9^2) per coordinate.
struct Data {
  std::vector<float> base, norms, queries, query_norms;
  uint32_t rows = 0;
  VectorView view() const { return {base.data(), norms.data(), rows, kDim}; }
  Query query(uint32_t i) const { return {queries.data() + std::size_t{i} * kDim, query_norms[i]}; }
};

Data make_data(uint32_t rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> unit(0.0f, 1.0f);
  constexpr uint32_t kClusters = 256;
  std::vector<float> centres(kClusters * kDim);
  for (float& c : centres) c = unit(rng);
  Data d;
  d.rows = rows;
  auto sample = [&](std::vector<float>& out, std::vector<float>& norms, uint32_t n) {
    out.resize(std::size_t{n} * kDim);
    norms.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t c = static_cast<uint32_t>(rng() % kClusters);
      for (uint32_t j = 0; j < kDim; ++j) {
        out[std::size_t{i} * kDim + j] = centres[c * kDim + j] + 0.9f * unit(rng);
      }
      norms[i] = norm(out.data() + std::size_t{i} * kDim, kDim);
    }
  };
  sample(d.base, d.norms, rows);
  sample(d.queries, d.query_norms, kQueries);
  return d;
}

class BitmapFilter final : public RowFilter {
 public:
  explicit BitmapFilter(std::vector<uint8_t> allow) : allow_(std::move(allow)) {
    allowed_ = static_cast<uint64_t>(std::count(allow_.begin(), allow_.end(), uint8_t{1}));
  }
  bool allows(uint32_t row) const override { return allow_[row] != 0; }
  uint64_t estimated_allowed(uint32_t) const override { return allowed_; }

 private:
  std::vector<uint8_t> allow_;
  uint64_t allowed_ = 0;
};

BitmapFilter random_filter(uint32_t rows, double excluded_fraction, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution excluded(excluded_fraction);
  std::vector<uint8_t> allow(rows);
  for (auto& a : allow) a = excluded(rng) ? 0 : 1;
  return BitmapFilter(std::move(allow));
}

// Exact k nearest allowed rows under the metric.h convention, by plain scalar loops.
std::vector<uint32_t> brute_force(const Data& d, Metric metric, const Query& q,
                                  const RowFilter* filter) {
  std::vector<std::pair<float, uint32_t>> all;
  for (uint32_t r = 0; r < d.rows; ++r) {
    if (filter != nullptr && !filter->allows(r)) continue;
    const float* x = d.base.data() + std::size_t{r} * kDim;
    const float raw = metric == Metric::kL2 ? l2_sq_reference(q.vector, x, kDim)
                                            : dot_reference(q.vector, x, kDim);
    all.push_back({finish_distance(metric, raw, q.norm, d.norms[r]), r});
  }
  const std::size_t n = std::min<std::size_t>(kK, all.size());
  std::partial_sort(all.begin(), all.begin() + n, all.end());
  std::vector<uint32_t> rows;
  for (std::size_t i = 0; i < n; ++i) rows.push_back(all[i].second);
  return rows;
}

std::vector<Neighbor> run(const VectorIndex& index, const Query& q, const RowFilter* filter,
                          SearchParams params = {}) {
  TopK top(kK);
  index.search(q, params, filter, top);
  return top.take_sorted();
}

double recall(const Data& d, Metric metric, const VectorIndex& index, const RowFilter* filter) {
  double hits = 0, total = 0;
  for (uint32_t i = 0; i < kQueries; ++i) {
    const auto truth = brute_force(d, metric, d.query(i), filter);
    const auto got = run(index, d.query(i), filter);
    std::set<uint32_t> found;
    for (std::size_t j = 0; j < std::min<std::size_t>(kK, got.size()); ++j) found.insert(got[j].row);
    for (uint32_t t : truth) hits += found.count(t);
    total += static_cast<double>(truth.size());
  }
  return hits / total;
}

// One data set and one index per metric, built once for the whole binary.
struct Fixture {
  Data data = make_data(test_rows(), 7);
  std::map<Metric, std::unique_ptr<VectorIndex>> indexes;
  const VectorIndex& get(Metric m) {
    auto& slot = indexes[m];
    if (!slot) {
      BuildOptions opts;
      opts.threads = 2;
      auto r = build(Params{}, m, data.view(), opts);
      EXPECT_TRUE(r.is_ok()) << r.status().to_string();
      slot = std::move(r).value();
    }
    return *slot;
  }
};
Fixture& fixture() {
  static Fixture f;
  return f;
}

class HnswMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswMetricTest, RecallAtDefaultEf) {
  Fixture& f = fixture();
  const double r = recall(f.data, GetParam(), f.get(GetParam()), nullptr);
  std::printf("recall@10 %s: %.4f\n", std::string(metric_name(GetParam())).c_str(), r);
  EXPECT_GE(r, 0.95) << metric_name(GetParam());
}

TEST_P(HnswMetricTest, FilteredRecallAndNoExcludedRows) {
  Fixture& f = fixture();
  const VectorIndex& index = f.get(GetParam());
  for (double excluded : {0.3, 0.9}) {
    BitmapFilter filter = random_filter(f.data.rows, excluded, 11);
    const double r = recall(f.data, GetParam(), index, &filter);
    std::printf("recall@10 %s, %.0f%% excluded: %.4f\n",
                std::string(metric_name(GetParam())).c_str(), excluded * 100, r);
    EXPECT_GE(r, 0.95) << "excluded " << excluded;
    for (uint32_t i = 0; i < kQueries; ++i) {
      for (const Neighbor& n : run(index, f.data.query(i), &filter)) {
        ASSERT_TRUE(filter.allows(n.row)) << "row " << n.row << " is filtered out";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, HnswMetricTest,
                         ::testing::Values(Metric::kL2, Metric::kCosine, Metric::kDot),
                         [](const auto& info) { return std::string(metric_name(info.param)); });

// The graph path itself (no exact-scan fallback) must also skip excluded rows and keep
// finding the allowed neighbours, e.g. after many deletes.
TEST(Hnsw, FilteredGraphPathWithManyDeletes) {
  Fixture& f = fixture();
  const auto& index = static_cast<const internal::HnswIndex&>(f.get(Metric::kL2));
  BitmapFilter filter = random_filter(f.data.rows, 0.9, 13);
  double hits = 0, total = 0;
  for (uint32_t i = 0; i < kQueries; ++i) {
    TopK top(kK);
    index.search_graph(f.data.query(i), 64, &filter, top);
    const auto got = top.take_sorted();
    std::set<uint32_t> found;
    for (const Neighbor& n : got) {
      ASSERT_TRUE(filter.allows(n.row));
      found.insert(n.row);
    }
    for (uint32_t t : brute_force(f.data, Metric::kL2, f.data.query(i), &filter)) {
      hits += found.count(t);
      total += 1;
    }
  }
  std::printf("graph-path recall@10, 90%% excluded, ef 64: %.4f\n", hits / total);
  EXPECT_GE(hits / total, 0.9);
}

TEST(Hnsw, ExactScanThreshold) {
  using internal::prefer_exact_scan;
  EXPECT_FALSE(prefer_exact_scan(1'000'000, 1'000'000, 64, 16));  // everything allowed
  EXPECT_TRUE(prefer_exact_scan(100, 1'000'000, 64, 16));         // a needle in a haystack
  EXPECT_TRUE(prefer_exact_scan(0, 1'000'000, 64, 16));
  EXPECT_TRUE(prefer_exact_scan(0, 0, 64, 16));
}

TEST(Hnsw, LargerEfNeverHurtsMuchAndKBeyondEfWorks) {
  Fixture& f = fixture();
  const VectorIndex& index = f.get(Metric::kL2);
  TopK top(50);  // k > default ef_search: effective ef = max(ef, k)
  index.search(f.data.query(0), SearchParams{16, std::nullopt}, nullptr, top);
  EXPECT_EQ(top.take_sorted().size(), 50u);
}

TEST(Hnsw, ConcurrentSearchesMatchSerial) {
  Fixture& f = fixture();
  const VectorIndex& index = f.get(Metric::kCosine);
  BitmapFilter filter = random_filter(f.data.rows, 0.3, 5);
  std::vector<std::vector<Neighbor>> serial(kQueries);
  for (uint32_t i = 0; i < kQueries; ++i) serial[i] = run(index, f.data.query(i), i % 2 ? &filter : nullptr);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 2; ++rep) {
        for (uint32_t j = 0; j < kQueries; ++j) {
          const uint32_t i = (j + static_cast<uint32_t>(t) * 37) % kQueries;
          auto got = run(index, f.data.query(i), i % 2 ? &filter : nullptr);
          bool same = got.size() == serial[i].size();
          for (std::size_t x = 0; same && x < got.size(); ++x) {
            same = got[x].row == serial[i][x].row && got[x].distance == serial[i][x].distance;
          }
          if (!same) ++mismatches;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("hnsw_test_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_all(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(Hnsw, SaveLoadGivesIdenticalResults) {
  Fixture& f = fixture();
  const VectorIndex& index = f.get(Metric::kL2);
  const std::string path = temp_path("roundtrip");
  ASSERT_TRUE(index.save(path).is_ok());
  auto loaded = load(Params{}, Metric::kL2, f.data.view(), path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ((*loaded)->rows(), f.data.rows);
  BitmapFilter filter = random_filter(f.data.rows, 0.3, 3);
  for (uint32_t i = 0; i < kQueries; ++i) {
    for (const RowFilter* flt : {static_cast<const RowFilter*>(nullptr),
                                 static_cast<const RowFilter*>(&filter)}) {
      auto a = run(index, f.data.query(i), flt);
      auto b = run(**loaded, f.data.query(i), flt);
      ASSERT_EQ(a.size(), b.size());
      for (std::size_t j = 0; j < a.size(); ++j) ASSERT_EQ(a[j].row, b[j].row);
    }
  }
  // Through the registry too.
  IndexConfig cfg{"hnsw", {}};
  auto via_registry = load_index(cfg, Metric::kL2, f.data.view(), path);
  EXPECT_TRUE(via_registry.is_ok()) << via_registry.status().to_string();
  // Another m, metric or row count is a mismatch, reported as corruption.
  EXPECT_EQ(load(Params{8}, Metric::kL2, f.data.view(), path).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(load(Params{}, Metric::kDot, f.data.view(), path).status().code(),
            StatusCode::kCorruption);
  VectorView fewer = f.data.view();
  fewer.rows -= 1;
  EXPECT_EQ(load(Params{}, Metric::kL2, fewer, path).status().code(), StatusCode::kCorruption);
  std::remove(path.c_str());
}

TEST(Hnsw, DamagedFilesAreCorruption) {
  Data d = make_data(2000, 21);
  auto built = build(Params{}, Metric::kL2, d.view(), BuildOptions{});
  ASSERT_TRUE(built.is_ok());
  const std::string path = temp_path("damaged");
  ASSERT_TRUE((*built)->save(path).is_ok());
  const std::vector<char> good = read_all(path);
  ASSERT_GT(good.size(), 200u);
  std::mt19937 rng(1);
  std::vector<std::size_t> positions = {0, 10, 63, 64, 70, good.size() / 2, good.size() - 1,
                                        good.size() - 9};
  for (int i = 0; i < 24; ++i) positions.push_back(rng() % good.size());
  for (std::size_t pos : positions) {
    std::vector<char> bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    write_all(path, bad);
    EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption)
        << "flipped byte " << pos;
  }
  for (std::size_t len : {std::size_t{0}, std::size_t{10}, std::size_t{64}, good.size() / 2,
                          good.size() - 1}) {
    write_all(path, std::vector<char>(good.begin(), good.begin() + static_cast<long>(len)));
    EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption)
        << "truncated to " << len;
  }
  std::remove(path.c_str());
}

// A file whose checksum is right but whose graph is not (a bug or a crafted file) must be
// rejected by the structural checks, not searched.
TEST(Hnsw, ValidChecksumButBadGraphIsCorruption) {
  Data d = make_data(100, 3);
  const std::string path = temp_path("crafted");
  auto write = [&](uint32_t entry, uint8_t level0, uint32_t count0, uint32_t link0) {
    IndexFileWriter w({"hnsw", Metric::kL2, d.rows, kDim});
    w.write<uint32_t>(16);
    w.write<uint32_t>(level0);
    w.write<uint32_t>(entry);
    std::vector<uint8_t> levels(d.rows, 0);
    levels[0] = level0;
    w.write_vector(levels);
    std::vector<uint32_t> layer0(std::size_t{d.rows} * 33, 0);
    layer0[0] = count0;
    layer0[1] = link0;
    w.write_vector(layer0);
    w.write_vector(std::vector<uint32_t>(std::size_t{level0} * 17, 0));
    ASSERT_TRUE(w.commit(path).is_ok());
  };
  write(0, 0, 1, 5);
  EXPECT_TRUE(load(Params{}, Metric::kL2, d.view(), path).is_ok());
  write(0, 0, 1, d.rows);  // link out of range
  EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption);
  write(0, 0, 33, 5);  // more links than the cap
  EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption);
  write(d.rows, 0, 1, 5);  // entry point out of range
  EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption);
  write(0, 200, 1, 5);  // level out of range
  EXPECT_EQ(load(Params{}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption);
  std::remove(path.c_str());
}

TEST(Hnsw, SingleThreadBuildIsDeterministic) {
  Data d = make_data(3000, 9);
  auto a = build(Params{}, Metric::kL2, d.view(), BuildOptions{});
  auto b = build(Params{}, Metric::kL2, d.view(), BuildOptions{});
  ASSERT_TRUE(a.is_ok() && b.is_ok());
  const std::string pa = temp_path("det_a"), pb = temp_path("det_b");
  ASSERT_TRUE((*a)->save(pa).is_ok());
  ASSERT_TRUE((*b)->save(pb).is_ok());
  EXPECT_EQ(read_all(pa), read_all(pb));
  auto c = build(Params{16, 200, 64, 43}, Metric::kL2, d.view(), BuildOptions{});
  ASSERT_TRUE(c.is_ok());
  ASSERT_TRUE((*c)->save(pb).is_ok());
  EXPECT_NE(read_all(pa), read_all(pb)) << "the seed should change the graph";
  std::remove(pa.c_str());
  std::remove(pb.c_str());
}

TEST(Hnsw, CancelAndProgress) {
  Data d = make_data(3000, 9);
  std::atomic<bool> cancel{true};
  std::atomic<uint64_t> progress{0};
  BuildOptions opts;
  opts.cancel = &cancel;
  opts.progress = &progress;
  EXPECT_EQ(build(Params{}, Metric::kL2, d.view(), opts).status().code(), StatusCode::kUnavailable);
  cancel = false;
  progress = 0;
  opts.threads = 2;
  ASSERT_TRUE(build(Params{}, Metric::kL2, d.view(), opts).is_ok());
  EXPECT_EQ(progress.load(), d.rows);
}

TEST(Hnsw, TinyAndEmpty) {
  Data d = make_data(5, 1);
  for (uint32_t rows : {0u, 1u, 5u}) {
    VectorView v = d.view();
    v.rows = rows;
    auto idx = build(Params{}, Metric::kCosine, v, BuildOptions{});
    ASSERT_TRUE(idx.is_ok());
    TopK top(kK);
    (*idx)->search(d.query(0), {}, nullptr, top);
    EXPECT_EQ(top.take_sorted().size(), rows);
  }
  EXPECT_EQ(build(Params{1}, Metric::kL2, d.view(), BuildOptions{}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Hnsw, BoundedKernelIsExactBelowTheBound) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const internal::BoundedL2Fn fn = internal::bounded_l2();
  for (uint32_t dim : {1u, 7u, 16u, 31u, 33u, 64u, 127u, 128u, 129u, 300u, 784u}) {
    std::vector<float> a(dim), b(dim);
    for (auto& x : a) x = u(rng);
    for (auto& x : b) x = u(rng);
    const float exact = l2_sq_reference(a.data(), b.data(), dim);
    const float tol = 1e-4f * (1.0f + exact);
    EXPECT_NEAR(fn(a.data(), b.data(), dim, std::numeric_limits<float>::infinity()), exact, tol);
    EXPECT_NEAR(fn(a.data(), b.data(), dim, exact * 1.01f + 1e-3f), exact, tol);
    EXPECT_GT(fn(a.data(), b.data(), dim, exact * 0.5f), exact * 0.5f) << dim;
  }
}

TEST(Hnsw, CodeKernelMatchesScalar) {
  std::mt19937 rng(8);
  const internal::CodeL2Fn fn = internal::code_l2();
  for (uint32_t dim : {1u, 15u, 16u, 31u, 32u, 33u, 63u, 64u, 65u, 100u, 784u, 1536u}) {
    std::vector<uint8_t> a(dim), b(dim);
    for (auto& x : a) x = static_cast<uint8_t>(rng());
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    a[0] = 0;
    b[0] = 255;  // the largest difference must not overflow a 16-bit lane
    uint64_t expect = 0;
    for (uint32_t i = 0; i < dim; ++i) {
      const int64_t d = int64_t{a[i]} - int64_t{b[i]};
      expect += static_cast<uint64_t>(d * d);
    }
    EXPECT_EQ(fn(a.data(), b.data(), dim), expect) << dim;
  }
}

// Rows on very different scales per dimension: the byte codes are coarse for the small
// dimensions, and the exact re-ranking must still put the true neighbours first.
TEST(Hnsw, QuantisedNavigationKeepsRecallOnSkewedScales) {
  Data d = make_data(3000, 17);
  for (uint32_t r = 0; r < d.rows; ++r) d.base[std::size_t{r} * kDim] *= 50.0f;
  for (uint32_t q = 0; q < kQueries; ++q) d.queries[std::size_t{q} * kDim] *= 50.0f;
  auto idx = build(Params{}, Metric::kL2, d.view(), BuildOptions{});
  ASSERT_TRUE(idx.is_ok());
  const double r = recall(d, Metric::kL2, **idx, nullptr);
  std::printf("recall@10 l2, one dimension x50: %.4f\n", r);
  EXPECT_GE(r, 0.9);
}

class AllowAll final : public RowFilter {
 public:
  bool allows(uint32_t) const override { return true; }
  uint64_t estimated_allowed(uint32_t rows) const override { return rows; }
};

// The data times a random orthogonal matrix (Gram-Schmidt on Gaussian rows): every distance
// is kept, but the coordinates become arbitrary floats on which the byte codes are lossy.
// With filter == nullptr the index navigates on the codes; an allow-all filter sends it down
// the float path on the same graph. At ef = k, where rounding at the pool boundary matters
// most, the codes must lose (almost) nothing.
TEST(Hnsw, CodeNavigationMatchesFloatNavigationOnRotatedData) {
  Data d = make_data(5000, 23);
  std::mt19937_64 rng(5);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> q(kDim * kDim);
  for (double& v : q) v = g(rng);
  for (uint32_t i = 0; i < kDim; ++i) {
    double* qi = &q[i * kDim];
    for (int round = 0; round < 2; ++round) {
      for (uint32_t j = 0; j < i; ++j) {
        double dot = 0;
        for (uint32_t t = 0; t < kDim; ++t) dot += qi[t] * q[j * kDim + t];
        for (uint32_t t = 0; t < kDim; ++t) qi[t] -= dot * q[j * kDim + t];
      }
    }
    double n = 0;
    for (uint32_t t = 0; t < kDim; ++t) n += qi[t] * qi[t];
    for (uint32_t t = 0; t < kDim; ++t) qi[t] /= std::sqrt(n);
  }
  auto rotate = [&](std::vector<float>& rows) {
    std::vector<double> x(kDim);
    for (std::size_t r = 0; r < rows.size() / kDim; ++r) {
      float* row = &rows[r * kDim];
      std::copy(row, row + kDim, x.begin());
      for (uint32_t i = 0; i < kDim; ++i) {
        double s = 0;
        for (uint32_t j = 0; j < kDim; ++j) s += q[i * kDim + j] * x[j];
        row[i] = static_cast<float>(s * 37.0 + 3.0 * i);  // arbitrary scale and offsets
      }
    }
  };
  rotate(d.base);
  rotate(d.queries);
  auto idx = build(Params{}, Metric::kL2, d.view(), BuildOptions{});
  ASSERT_TRUE(idx.is_ok());
  const AllowAll all;
  double code_hits = 0, float_hits = 0;
  for (uint32_t i = 0; i < kQueries; ++i) {
    const auto truth = brute_force(d, Metric::kL2, d.query(i), nullptr);
    const std::set<uint32_t> want(truth.begin(), truth.end());
    for (const Neighbor& n : run(**idx, d.query(i), nullptr, SearchParams{kK, std::nullopt})) {
      code_hits += want.count(n.row);
    }
    for (const Neighbor& n : run(**idx, d.query(i), &all, SearchParams{kK, std::nullopt})) {
      float_hits += want.count(n.row);
    }
  }
  const double code_recall = code_hits / (kQueries * kK), float_recall = float_hits / (kQueries * kK);
  std::printf("rotated data, ef = k: recall navigating on codes %.4f, on floats %.4f\n", code_recall,
              float_recall);
  EXPECT_GE(code_recall, float_recall - 0.005);
  EXPECT_GE(code_recall, 0.8);
}

}  // namespace
}  // namespace quiver::index::hnsw
