#include "index/ivf.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/index_file.h"
#include "index/kmeans.h"

namespace quiver::index {
namespace {

// Rows plus their stored norms, owning the memory a VectorView points into.
struct Data {
  uint32_t rows = 0;
  uint32_t dim = 0;
  std::vector<float> v;
  std::vector<float> norms;
  VectorView view() const { return {v.data(), norms.data(), rows, dim}; }
  const float* row(uint32_t r) const { return v.data() + std::size_t{r} * dim; }
};

// Uniform data, or `clusters` Gaussian blobs around uniform centres.
Data make_data(uint32_t rows, uint32_t dim, uint32_t clusters, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::normal_distribution<float> gauss(0.0f, 0.08f);
  std::vector<float> centers(std::size_t{std::max(clusters, 1u)} * dim);
  std::mt19937_64 crng(1234);  // the same centres for base rows and queries
  for (float& c : centers) c = uni(crng);
  Data d{rows, dim, std::vector<float>(std::size_t{rows} * dim), std::vector<float>(rows)};
  for (uint32_t r = 0; r < rows; ++r) {
    const uint32_t c = clusters > 0 ? static_cast<uint32_t>(rng() % clusters) : 0;
    for (uint32_t j = 0; j < dim; ++j) {
      d.v[std::size_t{r} * dim + j] = clusters > 0 ? centers[c * dim + j] + gauss(rng) : uni(rng);
    }
    d.norms[r] = norm(d.row(r), dim);
  }
  return d;
}

class ModFilter : public RowFilter {
 public:
  explicit ModFilter(uint32_t mod) : mod_(mod) {}
  bool allows(uint32_t row) const override { return row % mod_ == 0; }
  uint64_t estimated_allowed(uint32_t rows) const override { return rows / mod_; }

 private:
  uint32_t mod_;
};

std::vector<Neighbor> run(const VectorIndex& index, const float* q, uint32_t dim, std::size_t k,
                          std::optional<uint32_t> nprobe, const RowFilter* filter = nullptr) {
  TopK top(k);
  SearchParams p;
  p.nprobe = nprobe;
  index.search(Query{q, norm(q, dim)}, p, filter, top);
  return top.take_sorted();
}

std::vector<Neighbor> reference(Metric m, const Data& d, const float* q, std::size_t k,
                                const RowFilter* filter = nullptr) {
  TopK top(k);
  scan(Query{q, norm(q, d.dim)}, m, d.view(), 0, filter, top);
  return top.take_sorted();
}

void expect_same(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].distance, want[i].distance) << what << " at " << i;
    EXPECT_EQ(got[i].row, want[i].row) << what << " at " << i;
  }
}

double recall(const std::vector<Neighbor>& got, const std::vector<Neighbor>& want) {
  std::set<uint32_t> truth;
  for (const Neighbor& n : want) truth.insert(n.row);
  std::size_t hit = 0;
  for (const Neighbor& n : got) hit += truth.count(n.row);
  return want.empty() ? 1.0 : double(hit) / double(want.size());
}

std::unique_ptr<VectorIndex> must_build(Metric m, const Data& d, ivf::Params p = {},
                                        unsigned threads = 2) {
  BuildOptions o;
  o.threads = threads;
  auto r = ivf::build(p, m, d.view(), o);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

constexpr Metric kMetrics[] = {Metric::kL2, Metric::kCosine, Metric::kDot};

TEST(KMeansTest, SeparatesWellSeparatedBlobsAndIsDeterministic) {
  // Four tight blobs far apart: every cluster must be exactly one blob.
  const uint32_t dim = 3;
  std::vector<float> x;
  const float centres[4][3] = {{0, 0, 0}, {10, 0, 0}, {0, 10, 0}, {0, 0, 10}};
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0.0f, 0.1f);
  for (uint32_t i = 0; i < 400; ++i) {
    for (uint32_t j = 0; j < dim; ++j) x.push_back(centres[i % 4][j] + g(rng));
  }
  kmeans::Options o;
  o.k = 4;
  o.threads = 2;
  auto c1 = kmeans::train(x.data(), nullptr, 400, dim, o);
  ASSERT_TRUE(c1.is_ok());
  std::vector<uint32_t> a(400);
  kmeans::assign(x.data(), 400, dim, c1->data(), 4, false, 2, a.data());
  for (uint32_t i = 4; i < 400; ++i) EXPECT_EQ(a[i], a[i % 4]) << i;
  std::set<uint32_t> distinct(a.begin(), a.begin() + 4);
  EXPECT_EQ(distinct.size(), 4u);
  o.threads = 1;
  auto c2 = kmeans::train(x.data(), nullptr, 400, dim, o);
  ASSERT_TRUE(c2.is_ok());
  EXPECT_EQ(*c1, *c2);  // independent of the thread count
  o.k = 401;
  EXPECT_EQ(kmeans::train(x.data(), nullptr, 400, dim, o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KMeansTest, DuplicatesDoNotLeaveEmptyClustersUnhandled) {
  // 3 distinct points, 3 clusters, heavy duplication: every cluster gets a distinct point.
  std::vector<float> x;
  for (uint32_t i = 0; i < 90; ++i) x.push_back(static_cast<float>(i % 3));
  kmeans::Options o;
  o.k = 3;
  auto c = kmeans::train(x.data(), nullptr, 90, 1, o);
  ASSERT_TRUE(c.is_ok());
  std::vector<float> sorted = *c;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, (std::vector<float>{0, 1, 2}));
}

TEST(IvfTest, FullProbeEqualsFlatScan) {
  for (uint32_t clusters : {0u, 12u}) {
    for (uint32_t dim : {2u, 3u, 16u, 100u}) {
      const Data d = make_data(1500, dim, clusters, 7 + dim);
      const Data queries = make_data(20, dim, clusters, 99 + dim);
      for (Metric m : kMetrics) {
        auto index = must_build(m, d, ivf::Params{20, 4, 10, 42});
        const uint32_t nlist = ivf::list_count(*index);
        ASSERT_EQ(nlist, 20u);
        for (uint32_t qi = 0; qi < queries.rows; ++qi) {
          expect_same(run(*index, queries.row(qi), dim, 10, nlist),
                      reference(m, d, queries.row(qi), 10),
                      "dim " + std::to_string(dim) + " metric " + std::string(metric_name(m)));
        }
        // nprobe above nlist is clamped, not an error.
        expect_same(run(*index, queries.row(0), dim, 10, 100000),
                    reference(m, d, queries.row(0), 10), "clamped");
      }
    }
  }
}

TEST(IvfTest, RecallIsReasonableAndGrowsWithNprobe) {
  const uint32_t dim = 16;
  const Data d = make_data(4000, dim, 40, 3);
  const Data queries = make_data(50, dim, 40, 4);
  for (Metric m : {Metric::kL2, Metric::kCosine}) {
    auto index = must_build(m, d, ivf::Params{0, 8, 20, 42});
    const uint32_t nlist = ivf::list_count(*index);
    EXPECT_EQ(nlist, 63u);  // round(sqrt(4000))
    double previous = 0.0;
    for (uint32_t nprobe : {1u, 2u, 4u, 8u, 16u, 32u, nlist}) {
      double sum = 0.0;
      for (uint32_t qi = 0; qi < queries.rows; ++qi) {
        sum += recall(run(*index, queries.row(qi), dim, 10, nprobe),
                      reference(m, d, queries.row(qi), 10));
      }
      const double r = sum / queries.rows;
      // Probing a superset of lists can only find more of the true neighbours.
      EXPECT_GE(r, previous - 1e-12) << "nprobe " << nprobe;
      if (nprobe == 4) {
        EXPECT_GT(r, 0.6) << metric_name(m);
      }
      if (nprobe == nlist) {
        EXPECT_EQ(r, 1.0);
      }
      previous = r;
    }
  }
}

TEST(IvfTest, FilterIsRespectedAndFewAllowedRowsScanExactly) {
  const Data d = make_data(2000, 8, 10, 5);
  for (Metric m : kMetrics) {
    auto index = must_build(m, d);
    const uint32_t nlist = ivf::list_count(*index);
    const ModFilter third(3);
    const ModFilter rare(500);  // 4 rows allowed: fewer than k, so the exact scan answers
    for (uint32_t qi = 0; qi < 10; ++qi) {
      const float* q = d.row(qi * 17 + 1);
      const auto got = run(*index, q, d.dim, 10, 2, &third);
      for (const Neighbor& n : got) EXPECT_EQ(n.row % 3, 0u);
      expect_same(run(*index, q, d.dim, 10, nlist, &third), reference(m, d, q, 10, &third),
                  "filtered full probe");
      expect_same(run(*index, q, d.dim, 10, 1, &rare), reference(m, d, q, 10, &rare), "rare");
    }
  }
}

TEST(IvfTest, SmallAndEdgeCases) {
  for (Metric m : kMetrics) {
    const float q[4] = {1, -2, 3, 0.5f};
    const Data empty = make_data(0, 4, 0, 1);
    auto e = must_build(m, empty);
    EXPECT_TRUE(run(*e, q, 4, 5, std::nullopt).empty());
    const Data one = make_data(1, 4, 0, 2);
    auto o = must_build(m, one, ivf::Params{10, 8, 5, 1});
    EXPECT_EQ(ivf::list_count(*o), 1u);  // nlist clamped to rows
    expect_same(run(*o, q, 4, 5, std::nullopt), reference(m, one, q, 5), "one row");
    const Data few = make_data(60, 4, 3, 3);
    auto f = must_build(m, few);
    const auto all = run(*f, q, 4, 100, ivf::list_count(*f));
    EXPECT_EQ(all.size(), 60u);
    EXPECT_TRUE(run(*f, q, 4, 0, std::nullopt).empty());
    expect_same(all, reference(m, few, q, 100), "k > rows");
  }
}

TEST(IvfTest, RejectsBadParamsHonoursCancelAndIsDeterministic) {
  const Data d = make_data(800, 6, 5, 1);
  EXPECT_EQ(ivf::build(ivf::Params{0, 0, 5, 1}, Metric::kL2, d.view(), {}).status().code(),
            StatusCode::kInvalidArgument);
  std::atomic<bool> cancel{true};
  BuildOptions opts;
  opts.cancel = &cancel;
  EXPECT_EQ(ivf::build({}, Metric::kL2, d.view(), opts).status().code(), StatusCode::kUnavailable);
  cancel = false;
  std::atomic<uint64_t> progress{0};
  opts.progress = &progress;
  ASSERT_TRUE(ivf::build({}, Metric::kL2, d.view(), opts).is_ok());
  EXPECT_EQ(progress.load(), 800u);
  // One or two threads, same seed: the same index, so the same approximate answers.
  auto a = must_build(Metric::kL2, d, {}, 1);
  auto b = must_build(Metric::kL2, d, {}, 2);
  for (uint32_t qi = 0; qi < 20; ++qi) {
    expect_same(run(*a, d.row(qi), d.dim, 10, 2), run(*b, d.row(qi), d.dim, 10, 2), "threads");
  }
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "ivf_test_" + name + "_" + std::to_string(::getpid());
}

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(IvfTest, SaveLoadGivesIdenticalResults) {
  const Data d = make_data(1500, 10, 8, 8);
  for (Metric m : kMetrics) {
    auto index = must_build(m, d);
    const std::string path = temp_path("roundtrip");
    ASSERT_TRUE(index->save(path).is_ok());
    auto loaded = ivf::load(ivf::Params{0, 8, 20, 42}, m, d.view(), path);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    EXPECT_EQ(ivf::list_count(**loaded), ivf::list_count(*index));
    for (uint32_t qi = 0; qi < 10; ++qi) {
      for (std::optional<uint32_t> np : {std::optional<uint32_t>{}, std::optional<uint32_t>{3}}) {
        expect_same(run(**loaded, d.row(qi * 3), d.dim, 10, np),
                    run(*index, d.row(qi * 3), d.dim, 10, np), "loaded");
      }
    }
    std::remove(path.c_str());
  }
}

TEST(IvfTest, DamagedFilesAreCorruption) {
  const Data d = make_data(500, 4, 5, 9);
  auto index = must_build(Metric::kL2, d);
  const std::string path = temp_path("damaged");
  ASSERT_TRUE(index->save(path).is_ok());
  const std::vector<char> good = read_all(path);
  ASSERT_GT(good.size(), 100u);
  for (std::size_t pos = 0; pos < good.size(); pos += 11) {
    std::vector<char> bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x21);
    write_all(path, bad);
    EXPECT_EQ(ivf::load({}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption)
        << "flipped byte " << pos;
  }
  for (std::size_t len : {std::size_t{0}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
    write_all(path, std::vector<char>(good.begin(), good.begin() + long(len)));
    EXPECT_EQ(ivf::load({}, Metric::kL2, d.view(), path).status().code(), StatusCode::kCorruption)
        << "truncated to " << len;
  }
  std::remove(path.c_str());
}

// Files that pass the checksum but describe impossible lists: the structural checks must
// catch them (a writer bug must not become an out-of-bounds read or a duplicated row).
TEST(IvfTest, WellFormedButInvalidListsAreCorruption) {
  const Data d = make_data(10, 2, 0, 2);
  const std::string path = temp_path("crafted");
  struct Payload {
    uint32_t version = 1;
    uint32_t nlist = 2;
    std::vector<float> centroids = std::vector<float>(4, 0.5f);
    std::vector<uint32_t> offsets = {0, 4, 10};
    std::vector<uint32_t> rows = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  };
  auto load = [&](const Payload& p) {
    IndexFileWriter w(IndexFileIdentity{"ivf", Metric::kL2, d.rows, d.dim});
    w.write(p.version);
    w.write(p.nlist);
    w.write_vector(p.centroids);
    w.write_vector(p.offsets);
    w.write_vector(p.rows);
    if (!w.commit(path).is_ok()) return StatusCode::kIOError;
    return ivf::load({}, Metric::kL2, d.view(), path).status().code();
  };
  const Payload ok;
  EXPECT_EQ(load(ok), StatusCode::kOk);
  Payload bad = ok;
  bad.version = 2;
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nlist = 3;  // centroids and offsets describe 2 lists
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.offsets = {0, 11, 10};  // decreasing, and past the rows
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.offsets = {0, 4, 9};  // a row left out
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.rows[3] = 2;  // a row twice
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.rows[3] = 10;  // out of range
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  bad = ok;
  bad.centroids.pop_back();
  EXPECT_EQ(load(bad), StatusCode::kCorruption);
  std::remove(path.c_str());
}

TEST(IvfTest, ConcurrentSearchesAgree) {
  const Data d = make_data(3000, 8, 10, 12);
  auto index = must_build(Metric::kCosine, d);
  std::vector<std::vector<Neighbor>> want(40);
  for (uint32_t i = 0; i < 40; ++i) want[i] = run(*index, d.row(i), 8, 5, 3);
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (uint32_t i = 0; i < 40; ++i) {
        const auto got = run(*index, d.row(i), 8, 5, 3);
        if (got.size() != want[i].size()) ++mismatches;
        for (std::size_t j = 0; j < got.size() && j < want[i].size(); ++j) {
          if (got[j].row != want[i][j].row) ++mismatches;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace quiver::index
