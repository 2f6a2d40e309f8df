#include "index/flat_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>
#include <vector>

#include "index/distance.h"
#include "index/registry.h"

namespace quiver::index {
namespace {

struct Data {
  uint32_t rows, dim;
  std::vector<float> vecs, norms;
  VectorView view() const { return {vecs.data(), norms.data(), rows, dim}; }
};

Data random_data(uint32_t rows, uint32_t dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0, 1);
  Data d{rows, dim, std::vector<float>(std::size_t{rows} * dim), std::vector<float>(rows)};
  for (float& x : d.vecs) x = g(rng);
  for (uint32_t r = 0; r < rows; ++r) d.norms[r] = norm(d.vecs.data() + std::size_t{r} * dim, dim);
  return d;
}

// Brute force in double precision, independent of the kernels and of TopK.
double true_distance(Metric m, const float* q, const float* x, uint32_t dim) {
  double l2 = 0, dot = 0, qq = 0, xx = 0;
  for (uint32_t i = 0; i < dim; ++i) {
    l2 += (double(q[i]) - x[i]) * (double(q[i]) - x[i]);
    dot += double(q[i]) * x[i];
    qq += double(q[i]) * q[i];
    xx += double(x[i]) * x[i];
  }
  if (m == Metric::kL2) return l2;
  if (m == Metric::kDot) return -dot;
  return -dot / std::sqrt(qq * xx);
}

class ModFilter : public RowFilter {
 public:
  explicit ModFilter(uint32_t mod) : mod_(mod) {}
  bool allows(uint32_t row) const override { return row % mod_ != 0; }
  uint64_t estimated_allowed(uint32_t rows) const override { return rows - rows / mod_; }

 private:
  uint32_t mod_;
};

std::vector<uint32_t> brute_force(const Data& d, Metric m, const float* q, std::size_t k,
                                  uint32_t offset, const RowFilter* f) {
  std::vector<std::pair<double, uint32_t>> all;
  for (uint32_t r = 0; r < d.rows; ++r) {
    if (f != nullptr && !f->allows(offset + r)) continue;
    all.push_back({true_distance(m, q, d.vecs.data() + std::size_t{r} * d.dim, d.dim), offset + r});
  }
  std::sort(all.begin(), all.end());
  std::vector<uint32_t> out;
  for (std::size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
  return out;
}

std::vector<uint32_t> rows_of(const std::vector<Neighbor>& v) {
  std::vector<uint32_t> out;
  for (const auto& n : v) out.push_back(n.row);
  return out;
}

TEST(FlatScanTest, MatchesBruteForceAllMetrics) {
  const Data d = random_data(600, 37, 3);
  const Data queries = random_data(8, 37, 4);
  ModFilter filter(3);
  for (Metric m : {Metric::kL2, Metric::kDot, Metric::kCosine}) {
    for (uint32_t qi = 0; qi < queries.rows; ++qi) {
      const Query q{queries.vecs.data() + std::size_t{qi} * 37, queries.norms[qi]};
      for (std::size_t k : {1u, 10u, 1000u}) {  // 1000 > rows: every allowed row comes back
        for (const RowFilter* f : {static_cast<const RowFilter*>(nullptr),
                                   static_cast<const RowFilter*>(&filter)}) {
          for (uint32_t offset : {0u, 5000u}) {
            TopK top(k);
            scan(q, m, d.view(), offset, f, top);
            const auto got = top.take_sorted();
            const auto want = brute_force(d, m, q.vector, k, offset, f);
            EXPECT_EQ(rows_of(got), want) << metric_name(m) << " k=" << k << " offset=" << offset
                                          << " filtered=" << (f != nullptr);
            for (const auto& n : got) {  // reported distances are the real ones
              const double t = true_distance(m, q.vector, d.vecs.data() +
                                                              std::size_t{n.row - offset} * 37, 37);
              EXPECT_NEAR(n.distance, t, 1e-4 * (1 + std::fabs(t)));
            }
          }
        }
      }
    }
  }
}

TEST(FlatScanTest, BlocksWithOffsetsEqualOneScan) {
  const Data d = random_data(1000, 16, 5);
  const Query q{d.vecs.data() + 16 * 17, d.norms[17]};
  TopK whole(25), blocks(25);
  scan(q, Metric::kCosine, d.view(), 0, nullptr, whole);
  for (uint32_t start = 0; start < d.rows; start += 128) {
    VectorView part{d.vecs.data() + std::size_t{start} * 16, d.norms.data() + start,
                    std::min<uint32_t>(128, d.rows - start), 16};
    scan(q, Metric::kCosine, part, start, nullptr, blocks);
  }
  const auto a = whole.take_sorted(), b = blocks.take_sorted();
  EXPECT_EQ(rows_of(a), rows_of(b));
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0].row, 17u);  // the query itself is its own nearest
}

TEST(FlatScanTest, EveryKernelGivesTheSameAnswer) {
  const Data d = random_data(400, 784, 8);
  const Query q{d.vecs.data() + 784 * 3, d.norms[3]};
  for (const char* name : {"scalar", "avx2", "avx512"}) {
    const Kernels* k = kernels_by_name(name);
    if (k == nullptr) continue;
    for (Metric m : {Metric::kL2, Metric::kDot, Metric::kCosine}) {
      TopK top(10);
      scan(q, m, d.view(), 0, nullptr, top, *k);
      EXPECT_EQ(rows_of(top.take_sorted()), brute_force(d, m, q.vector, 10, 0, nullptr))
          << name << " " << metric_name(m);
    }
  }
}

TEST(FlatScanTest, DuplicateRowsAllReturnedAsTies) {
  Data d = random_data(50, 8, 6);
  for (uint32_t r : {10u, 20u, 30u}) {  // three copies of row 0
    std::copy_n(d.vecs.begin(), 8, d.vecs.begin() + r * 8);
    d.norms[r] = d.norms[0];
  }
  const Query q{d.vecs.data(), d.norms[0]};
  TopK top(2);
  scan(q, Metric::kL2, d.view(), 0, nullptr, top);
  EXPECT_EQ(rows_of(top.take_sorted()), (std::vector<uint32_t>{0, 10, 20, 30}));
}

TEST(FlatIndexTest, SearchSaveLoadAndRegistry) {
  const Data d = random_data(300, 24, 7);
  auto flat = make_flat_index(Metric::kDot, d.view());
  EXPECT_EQ(flat->type(), "flat");
  EXPECT_EQ(flat->metric(), Metric::kDot);
  EXPECT_EQ(flat->rows(), 300u);
  const Query q{d.vecs.data() + 24 * 5, d.norms[5]};
  TopK top(7);
  flat->search(q, {}, nullptr, top);
  EXPECT_EQ(rows_of(top.take_sorted()), brute_force(d, Metric::kDot, q.vector, 7, 0, nullptr));

  const auto dir = std::filesystem::temp_directory_path() /
                   ("quiver_flat_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "flat.idx").string();
  ASSERT_TRUE(flat->save(path).is_ok());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  IndexConfig cfg{"flat", {}};
  auto loaded = load_index(cfg, Metric::kDot, d.view(), path);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ((*loaded)->rows(), 300u);
  // Same file, different view or metric: refused as corruption, not silently accepted.
  VectorView fewer = d.view();
  fewer.rows = 299;
  EXPECT_EQ(load_index(cfg, Metric::kDot, fewer, path).status().code(), StatusCode::kCorruption);
  EXPECT_EQ(load_index(cfg, Metric::kL2, d.view(), path).status().code(),
            StatusCode::kCorruption);
  EXPECT_EQ(load_index(cfg, Metric::kDot, d.view(), (dir / "missing.idx").string())
                .status()
                .code(),
            StatusCode::kNotFound);

  std::atomic<uint64_t> progress{0};
  BuildOptions opts;
  opts.progress = &progress;
  auto built = build_index(cfg, Metric::kL2, d.view(), opts);
  ASSERT_TRUE(built.is_ok());
  EXPECT_EQ((*built)->type(), "flat");
  EXPECT_EQ(progress.load(), 300u);
  std::atomic<bool> cancel{true};
  opts.cancel = &cancel;
  EXPECT_EQ(build_index(cfg, Metric::kL2, d.view(), opts).status().code(),
            StatusCode::kUnavailable);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quiver::index
