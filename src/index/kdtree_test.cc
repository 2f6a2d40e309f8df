#include "index/kdtree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index/distance.h"
#include "index/flat_index.h"
#include "index/index_file.h"
#include "index/kdtree_io.h"

namespace quiver::index {
namespace {

enum class Shape { kUniform, kClustered, kGrid };

// Rows plus their stored norms, owning the memory a VectorView points into.
struct Data {
  uint32_t rows = 0;
  uint32_t dim = 0;
  std::vector<float> v;
  std::vector<float> norms;
  VectorView view() const { return {v.data(), norms.data(), rows, dim}; }
};

Data make_data(Shape shape, uint32_t rows, uint32_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::normal_distribution<float> gauss(0.0f, 0.05f);
  std::uniform_int_distribution<int> grid(0, 3);
  std::vector<float> centers(10 * dim);
  for (float& c : centers) c = uni(rng);
  Data d{rows, dim, std::vector<float>(std::size_t{rows} * dim), std::vector<float>(rows)};
  for (uint32_t r = 0; r < rows; ++r) {
    const uint32_t c = static_cast<uint32_t>(rng() % 10);
    for (uint32_t j = 0; j < dim; ++j) {
      float x = 0.0f;
      switch (shape) {
        case Shape::kUniform:
          x = uni(rng);
          break;
        case Shape::kClustered:
          x = centers[c * dim + j] + gauss(rng);
          break;
        // Few distinct values: many exact duplicates and distance ties.
        case Shape::kGrid:
          x = static_cast<float>(grid(rng));
          break;
      }
      d.v[std::size_t{r} * dim + j] = x;
    }
    d.norms[r] = norm(d.v.data() + std::size_t{r} * dim, dim);
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
                          const RowFilter* filter = nullptr) {
  TopK top(k);
  index.search(Query{q, norm(q, dim)}, SearchParams{}, filter, top);
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

std::unique_ptr<VectorIndex> must_build(Metric m, const Data& d, uint32_t leaf = 8,
                                        bool copy = false) {
  auto r = kdtree::build(kdtree::Params{leaf, copy}, m, d.view(), BuildOptions{});
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return std::move(r).value();
}

constexpr Metric kMetrics[] = {Metric::kL2, Metric::kCosine, Metric::kDot};

TEST(KdTreeTest, EqualsFlatScanForEveryMetricShapeAndDim) {
  for (Shape shape : {Shape::kUniform, Shape::kClustered, Shape::kGrid}) {
    for (uint32_t dim : {2u, 3u, 16u, 100u}) {
      const Data d = make_data(shape, 1500, dim, 7 + dim);
      const Data queries = make_data(shape, 25, dim, 99 + dim);
      for (Metric m : kMetrics) {
        // Alternate the leaf layout: a permutation, or copies of the rows in leaf order.
        auto index = must_build(m, d, 8, dim % 2 == 0 && shape != Shape::kGrid);
        for (uint32_t qi = 0; qi < queries.rows; ++qi) {
          const float* q = queries.v.data() + std::size_t{qi} * dim;
          // Also query with a stored row: its own distance is the minimum, tied by duplicates.
          const float* own = d.v.data() + std::size_t{qi * 37} * dim;
          for (const float* query : {q, own}) {
            expect_same(run(*index, query, dim, 10), reference(m, d, query, 10),
                        "shape " + std::to_string(int(shape)) + " dim " + std::to_string(dim) +
                            " metric " + std::string(metric_name(m)));
          }
        }
      }
    }
  }
}

TEST(KdTreeTest, PrunesInLowDimensionsAndCountsDistances) {
  const Data d = make_data(Shape::kUniform, 4000, 2, 3);
  auto index = must_build(Metric::kL2, d, 16);
  kdtree::reset_search_stats(*index);
  const float q[2] = {0.1f, -0.2f};
  run(*index, q, 2, 10);
  const kdtree::SearchStats s = kdtree::search_stats(*index);
  EXPECT_EQ(s.searches, 1u);
  EXPECT_GE(s.distance_computations, 10u);
  // A 2-d tree should look at a few leaves, not at the 4000 rows.
  EXPECT_LT(s.distance_computations, 400u);
  EXPECT_GE(s.leaves_visited, 1u);
}

TEST(KdTreeTest, FilterIsRespected) {
  const ModFilter filter(3);
  for (Metric m : kMetrics) {
    const Data d = make_data(Shape::kClustered, 2000, 8, 5);
    auto index = must_build(m, d);
    for (uint32_t qi = 0; qi < 20; ++qi) {
      const float* q = d.v.data() + std::size_t{qi * 11 + 1} * d.dim;
      const auto got = run(*index, q, d.dim, 10, &filter);
      for (const Neighbor& n : got) EXPECT_EQ(n.row % 3, 0u);
      expect_same(got, reference(m, d, q, 10, &filter), "filtered");
    }
  }
}

TEST(KdTreeTest, SmallAndEdgeCases) {
  for (Metric m : kMetrics) {
    // rows = 0
    const Data empty = make_data(Shape::kUniform, 0, 4, 1);
    auto e = must_build(m, empty);
    const float q[4] = {1, 2, 3, 4};
    EXPECT_TRUE(run(*e, q, 4, 5).empty());
    EXPECT_EQ(e->rows(), 0u);
    // rows = 1
    const Data one = make_data(Shape::kUniform, 1, 4, 2);
    auto o = must_build(m, one);
    expect_same(run(*o, q, 4, 5), reference(m, one, q, 5), "one row");
    ASSERT_EQ(run(*o, q, 4, 5).size(), 1u);
    // k > rows returns every row
    const Data few = make_data(Shape::kClustered, 50, 3, 3);
    auto f = must_build(m, few, 4);
    const auto all = run(*f, q, 3, 80);
    EXPECT_EQ(all.size(), 50u);
    EXPECT_TRUE(run(*f, q, 3, 0).empty());
    expect_same(all, reference(m, few, q, 80), "k > rows");
    // a zero query (cosine has no direction: every distance is 0)
    const float zero[3] = {0, 0, 0};
    expect_same(run(*f, zero, 3, 7), reference(m, few, zero, 7), "zero query");
  }
  // Identical rows cannot be split: one leaf, still exact.
  Data same = make_data(Shape::kUniform, 300, 2, 4);
  for (uint32_t r = 0; r < same.rows; ++r) {
    same.v[2 * r] = 0.5f;
    same.v[2 * r + 1] = 0.5f;
    same.norms[r] = norm(same.v.data() + 2 * r, 2);
  }
  auto s = must_build(Metric::kL2, same, 4);
  const float q[2] = {0, 0};
  EXPECT_EQ(run(*s, q, 2, 3).size(), 300u);  // all tie with the 3rd
}

TEST(KdTreeTest, RejectsBadParamsAndHonoursCancel) {
  const Data d = make_data(Shape::kUniform, 100, 4, 1);
  EXPECT_EQ(kdtree::build(kdtree::Params{0}, Metric::kL2, d.view(), {}).status().code(),
            StatusCode::kInvalidArgument);
  VectorView no_norms = d.view();
  no_norms.norms = nullptr;
  EXPECT_EQ(kdtree::build({}, Metric::kCosine, no_norms, {}).status().code(),
            StatusCode::kInvalidArgument);
  std::atomic<bool> cancel{true};
  std::atomic<uint64_t> progress{0};
  BuildOptions opts;
  opts.cancel = &cancel;
  EXPECT_EQ(kdtree::build({}, Metric::kL2, d.view(), opts).status().code(),
            StatusCode::kUnavailable);
  cancel = false;
  opts.progress = &progress;
  ASSERT_TRUE(kdtree::build({}, Metric::kL2, d.view(), opts).is_ok());
  EXPECT_EQ(progress.load(), 100u);
}

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "kdtree_test_" + name + "_" + std::to_string(::getpid());
}

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST(KdTreeTest, SaveLoadGivesIdenticalResults) {
  for (Metric m : kMetrics) {
    const Data d = make_data(Shape::kClustered, 1200, 6, 8);
    auto index = must_build(m, d);
    const std::string path = temp_path("roundtrip");
    ASSERT_TRUE(index->save(path).is_ok());
    auto loaded = kdtree::load({}, m, d.view(), path);
    ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
    EXPECT_EQ((*loaded)->type(), "kdtree");
    EXPECT_EQ((*loaded)->memory_bytes(), index->memory_bytes());
    // The same file serves the copying layout, which rebuilds its copy from the view.
    auto copied = kdtree::load(kdtree::Params{32, true}, m, d.view(), path);
    ASSERT_TRUE(copied.is_ok()) << copied.status().to_string();
    if (m != Metric::kDot) {
      EXPECT_EQ((*copied)->memory_bytes(), index->memory_bytes() + 4u * d.rows * d.dim);
    }
    for (uint32_t qi = 0; qi < 10; ++qi) {
      const float* q = d.v.data() + std::size_t{qi * 5} * d.dim;
      expect_same(run(**loaded, q, d.dim, 10), run(*index, q, d.dim, 10), "loaded");
      expect_same(run(**copied, q, d.dim, 10), run(*index, q, d.dim, 10), "loaded copy");
    }
    // Another view (other rows) must not accept the file.
    const Data other = make_data(Shape::kClustered, 1199, 6, 8);
    EXPECT_EQ(kdtree::load({}, m, other.view(), path).status().code(), StatusCode::kCorruption);
    std::remove(path.c_str());
  }
}

TEST(KdTreeTest, DamagedFilesAreCorruption) {
  const Data d = make_data(Shape::kUniform, 600, 5, 9);
  auto index = must_build(Metric::kL2, d);
  const std::string path = temp_path("damaged");
  ASSERT_TRUE(index->save(path).is_ok());
  const std::vector<char> good = read_all(path);
  ASSERT_GT(good.size(), 100u);
  for (std::size_t pos = 0; pos < good.size(); pos += 13) {
    std::vector<char> bad = good;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    write_all(path, bad);
    EXPECT_EQ(kdtree::load({}, Metric::kL2, d.view(), path).status().code(),
              StatusCode::kCorruption)
        << "flipped byte " << pos;
  }
  for (std::size_t len : {std::size_t{0}, std::size_t{10}, good.size() / 2, good.size() - 1}) {
    write_all(path, std::vector<char>(good.begin(), good.begin() + long(len)));
    EXPECT_EQ(kdtree::load({}, Metric::kL2, d.view(), path).status().code(),
              StatusCode::kCorruption)
        << "truncated to " << len;
  }
  std::remove(path.c_str());
}

// Files that pass the checksum but describe an impossible tree: the structural checks
// must catch them (a writer bug must not become an out-of-bounds read).
TEST(KdTreeTest, WellFormedButInvalidTreesAreCorruption) {
  const Data d = make_data(Shape::kUniform, 100, 3, 2);
  const VectorView view = d.view();
  const std::string path = temp_path("crafted");
  auto write = [&](const kdtree::TreeData& t) {
    if (!kdtree::save_tree(path, Metric::kL2, view, t).is_ok()) return StatusCode::kIOError;
    return kdtree::load({}, Metric::kL2, view, path).status().code();
  };
  kdtree::TreeData ok;
  ok.order.resize(100);
  for (uint32_t i = 0; i < 100; ++i) ok.order[i] = i;
  ok.nodes = {{0, 100, 1, 2, 0, 0.0f}, {0, 50, 0, 0, 0, 0.0f}, {50, 100, 0, 0, 0, 0.0f}};
  EXPECT_EQ(write(ok), StatusCode::kOk);

  auto bad = ok;
  bad.order[5] = 7;  // a duplicate row
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.order[5] = 100;  // out of range
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes[0].right = 0;  // a cycle back to the root
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes[0].right = 3;  // past the end
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes[0].split_dim = 3;  // dim is 3
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes[2].end = 101;
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes[1].end = 40;  // children leave rows 40..50 unowned
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  bad = ok;
  bad.nodes.clear();
  EXPECT_EQ(write(bad), StatusCode::kCorruption);
  std::remove(path.c_str());
}

TEST(KdTreeTest, ConcurrentSearchesAgree) {
  const Data d = make_data(Shape::kClustered, 3000, 8, 12);
  auto index = must_build(Metric::kCosine, d);
  std::vector<std::vector<Neighbor>> want(40);
  for (uint32_t i = 0; i < 40; ++i) want[i] = run(*index, d.v.data() + i * 8 * 8, 8, 5);
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      for (uint32_t i = 0; i < 40; ++i) {
        const auto got = run(*index, d.v.data() + i * 8 * 8, 8, 5);
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
