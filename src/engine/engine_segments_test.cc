// Segments, the optimizer and index persistence, through the public Database API:
// exact indexes agree with a brute-force scan after sealing; HNSW recall holds across
// deletes, updates, vacuums, merges and a reopen; index files round-trip without rebuilds
// and damaged or missing ones are rebuilt; rebuild_index changes the type and waits.
// First: it disables GCC's false -Wrestrict before <string> is seen.
#include "engine/engine_test_util.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

namespace quiver::engine {
namespace {

namespace fs = std::filesystem;
using testing::EngineFixture;

class SegmentsTest : public EngineFixture {
 public:
  uint32_t seal_threshold_ = 200;
  void configure(Options& o) override {
    o.seal_threshold = seal_threshold_;
    o.optimizer_tick_ms = 20;
    o.build_threads = 2;
  }

  std::string make_lib(const std::string& name, uint32_t dim, IndexConfig index,
                       Metric metric = Metric::kL2) {
    LibraryCreate in;
    in.name = name;
    in.dimension = dim;
    in.metric = metric;
    in.index = std::move(index);
    auto r = db_->create_library(in);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    return r.is_ok() ? r->library.id : "";
  }

  // Adds `vectors` as documents of `per_doc` chunks: chunk i is "c<first + i>" in document
  // "d<(first + i) / per_doc>".
  // With `settle`, waits for the optimizer after each document, so that seals cut the data
  // into segments of about the threshold (otherwise a seal takes whatever accumulated).
  void add(const std::string& lib, const std::vector<std::vector<float>>& vectors,
           std::size_t first = 0, std::size_t per_doc = 100, bool settle = false) {
    for (std::size_t i = 0; i < vectors.size(); i += per_doc) {
      DocumentCreate in;
      in.id = "d" + std::to_string((first + i) / per_doc);
      for (std::size_t j = i; j < std::min(vectors.size(), i + per_doc); ++j) {
        in.chunks.push_back(chunk("c" + std::to_string(first + j), vectors[j]));
      }
      auto r = db_->create_document(lib, in);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      if (settle) {
        ASSERT_TRUE(wait_ready(lib));
      }
    }
  }

  fs::path index_dir(const std::string& lib) const { return dir_ / "indexes" / lib; }
  std::vector<fs::path> index_files(const std::string& lib) const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& f : fs::directory_iterator(index_dir(lib), ec)) out.push_back(f.path());
    std::sort(out.begin(), out.end());
    return out;
  }
};

float l2(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// The k nearest live chunk ids by squared L2 (ties by id), computed by brute force.
std::vector<std::string> brute_force(const std::map<std::string, std::vector<float>>& live,
                                     const std::vector<float>& q, std::size_t k) {
  std::vector<std::pair<float, std::string>> all;
  all.reserve(live.size());
  for (const auto& [id, v] : live) all.emplace_back(l2(q, v), id);
  k = std::min(k, all.size());
  std::partial_sort(all.begin(), all.begin() + static_cast<long>(k), all.end());
  std::vector<std::string> out;
  for (std::size_t i = 0; i < k; ++i) out.push_back(all[i].second);
  return out;
}

std::vector<std::string> ids_of(const SearchResponse& r) {
  std::vector<std::string> out;
  for (const auto& h : r.results) out.push_back(h.chunk_id);
  return out;
}

SearchRequest query(std::vector<float> v, uint32_t k = 10) {
  SearchRequest s;
  s.vector = std::move(v);
  s.k = k;
  s.include_text = false;
  s.include_metadata = false;
  return s;
}

TEST_F(SegmentsTest, ExactIndexesMatchBruteForceAcrossSegments) {
  const uint32_t dim = 8;
  const std::string flat = make_lib("flat", dim, {"flat", {}});
  const std::string kd = make_lib("kd", dim, {"kdtree", {{"leaf_size", 8}}});
  const std::string ivf = make_lib("ivf", dim, {"ivf", {{"nlist", 8}, {"nprobe", 8}}});
  std::mt19937 rng(7);
  std::vector<std::vector<float>> vs;
  for (int i = 0; i < 1150; ++i) vs.push_back(random_vector(rng, dim));
  std::map<std::string, std::vector<float>> live;
  for (std::size_t i = 0; i < vs.size(); ++i) live["c" + std::to_string(i)] = vs[i];
  for (const auto& L : {flat, kd, ivf}) add(L, vs, 0, 100, true);
  for (const auto& L : {flat, kd, ivf}) ASSERT_TRUE(wait_ready(L));

  // Deletes and updates that hit sealed rows.
  for (const auto& L : {flat, kd, ivf}) {
    ASSERT_TRUE(db_->delete_document(L, "d2", std::nullopt).is_ok());
    ASSERT_TRUE(db_->delete_chunk(L, "c5", std::nullopt).is_ok());
  }
  for (int i = 200; i < 300; ++i) live.erase("c" + std::to_string(i));
  live.erase("c5");
  for (int i = 0; i < 40; ++i) {
    const std::string id = "c" + std::to_string(600 + 7 * i);
    live[id] = random_vector(rng, dim);
    ChunkPatch p;
    p.embedding = live[id];
    for (const auto& L : {flat, kd, ivf}) ASSERT_TRUE(db_->update_chunk(L, id, p, std::nullopt).is_ok());
  }
  for (const auto& L : {flat, kd, ivf}) ASSERT_TRUE(wait_ready(L));
  EXPECT_GE(db_->engine_stats().seals, 9u);  // at least 3 seals per library

  for (const auto& L : {kd, ivf}) {
    auto st = db_->index_status(L);
    ASSERT_TRUE(st.is_ok());
    EXPECT_EQ(st->indexed_chunks + st->pending_chunks, live.size());
    EXPECT_GE(st->indexed_chunks, 600u);  // sealed and indexed
    EXPECT_GT(st->pending_chunks, 0u);    // and rows still in the appendable segment
  }
  for (int q = 0; q < 60; ++q) {
    const auto v = random_vector(rng, dim);
    const auto expect = brute_force(live, v, 10);
    auto rf = db_->search(flat, query(v));
    auto rk = db_->search(kd, query(v));
    auto ri = db_->search(ivf, query(v));
    ASSERT_TRUE(rf.is_ok() && rk.is_ok() && ri.is_ok());
    EXPECT_EQ(ids_of(*rf), expect);
    EXPECT_EQ(ids_of(*rk), expect);
    EXPECT_EQ(ids_of(*ri), expect);
    EXPECT_TRUE(rk->exact);
    EXPECT_TRUE(ri->exact);  // nprobe == nlist
    EXPECT_EQ(rk->index, "kdtree");
    for (std::size_t i = 0; i < rf->results.size() && i < rk->results.size(); ++i) {
      EXPECT_NEAR(rf->results[i].score, rk->results[i].score, 1e-4f);
    }
  }
  // A probe of fewer lists than exist is not exact.
  auto partial = query(random_vector(rng, dim));
  partial.params.nprobe = 2;
  auto rp = db_->search(ivf, partial);
  ASSERT_TRUE(rp.is_ok());
  EXPECT_FALSE(rp->exact);
}

// Clustered data: `centers` Gaussian blobs.
std::vector<std::vector<float>> clustered(std::mt19937& rng, std::size_t n, uint32_t dim,
                                          int centers) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<std::vector<float>> c(centers, std::vector<float>(dim));
  for (auto& v : c) for (auto& x : v) x = 4.0f * g(rng);
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& v : out) {
    const auto& cc = c[rng() % centers];
    for (uint32_t d = 0; d < dim; ++d) v[d] = cc[d] + g(rng);
  }
  return out;
}

class HnswSegmentsTest : public SegmentsTest {
 public:
  HnswSegmentsTest() { seal_threshold_ = 5000; }
  double recall(const std::string& lib, const std::map<std::string, std::vector<float>>& live,
                const std::vector<std::vector<float>>& queries) {
    std::size_t hit = 0, total = 0;
    for (const auto& q : queries) {
      const auto expect = brute_force(live, q, 10);
      auto r = db_->search(lib, query(q));
      EXPECT_TRUE(r.is_ok());
      if (!r.is_ok()) return 0;
      EXPECT_FALSE(r->exact);
      const auto ids = ids_of(*r);
      const std::set<std::string> got(ids.begin(), ids.end());
      for (const auto& id : expect) hit += got.count(id);
      total += expect.size();
      for (const auto& id : got) EXPECT_TRUE(live.count(id)) << "deleted chunk " << id;
    }
    return static_cast<double>(hit) / static_cast<double>(total);
  }
};

TEST_F(HnswSegmentsTest, RecallHoldsThroughDeletesUpdatesVacuumMergeAndReopen) {
  const uint32_t dim = 32;
  const std::string L = make_lib("hnsw", dim, {"hnsw", {}});
  std::mt19937 rng(11);
  auto vs = clustered(rng, 20000, dim, 64);
  const auto queries = clustered(rng, 150, dim, 64);
  std::map<std::string, std::vector<float>> live;
  for (std::size_t i = 0; i < vs.size(); ++i) live["c" + std::to_string(i)] = vs[i];
  add(L, vs, 0, 100, true);
  ASSERT_TRUE(wait_ready(L));
  const double r0 = recall(L, live, queries);
  std::printf("[ recall ] after sealing: %.4f\n", r0);
  EXPECT_GE(r0, 0.95);

  // Delete 10% (documents d0, d10, d20, ...): below the vacuum threshold.
  for (int d = 0; d < 200; d += 10) {
    ASSERT_TRUE(db_->delete_document(L, "d" + std::to_string(d), std::nullopt).is_ok());
    for (int i = 0; i < 100; ++i) live.erase("c" + std::to_string(d * 100 + i));
  }
  ASSERT_TRUE(wait_ready(L));
  const double r1 = recall(L, live, queries);
  std::printf("[ recall ] after deletes: %.4f\n", r1);
  EXPECT_GE(r1, 0.95);

  // Update 1000 embeddings (old rows deleted in sealed segments, new ones appended).
  for (int i = 1; i < 20000 && live.size() > 0; i += 20) {
    const std::string id = "c" + std::to_string(i);
    if (!live.count(id)) continue;
    auto v = clustered(rng, 1, dim, 64)[0];
    ChunkPatch p;
    p.embedding = v;
    ASSERT_TRUE(db_->update_chunk(L, id, p, std::nullopt).is_ok());
    live[id] = v;
  }
  ASSERT_TRUE(wait_ready(L));
  const double r2 = recall(L, live, queries);
  std::printf("[ recall ] after updates: %.4f\n", r2);
  EXPECT_GE(r2, 0.95);

  // Delete half of what is left: every sealed segment passes the vacuum threshold, and
  // the vacuumed segments are small enough to be merged.
  for (int d = 1; d < 200; d += 2) {
    if (d % 10 == 0) continue;
    ASSERT_TRUE(db_->delete_document(L, "d" + std::to_string(d), std::nullopt).is_ok());
    for (int i = 0; i < 100; ++i) live.erase("c" + std::to_string(d * 100 + i));
  }
  ASSERT_TRUE(wait_ready(L));
  const auto stats = db_->engine_stats();
  EXPECT_GT(stats.vacuums, 0u);
  EXPECT_GT(stats.merges, 0u);
  const double r3 = recall(L, live, queries);
  std::printf("[ recall ] after vacuum + merge: %.4f (seals %llu, vacuums %llu, merges %llu)\n",
              r3, static_cast<unsigned long long>(stats.seals),
              static_cast<unsigned long long>(stats.vacuums),
              static_cast<unsigned long long>(stats.merges));
  EXPECT_GE(r3, 0.95);

  reopen();
  ASSERT_TRUE(wait_ready(L));
  EXPECT_EQ(db_->engine_stats().index_builds, 0u);  // loaded, not rebuilt
  EXPECT_GT(db_->engine_stats().index_loads, 0u);
  const double r4 = recall(L, live, queries);
  std::printf("[ recall ] after reopen: %.4f\n", r4);
  EXPECT_GE(r4, 0.95);
  auto st = db_->index_status(L);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->indexed_chunks + st->pending_chunks, live.size());
}

TEST_F(SegmentsTest, IndexFilesRoundTripAndDamageIsRebuilt) {
  const uint32_t dim = 8;
  const std::string kd = make_lib("kd", dim, {"kdtree", {}});
  const std::string hn = make_lib("hn", dim, {"hnsw", {}});
  std::mt19937 rng(3);
  std::vector<std::vector<float>> vs;
  for (int i = 0; i < 900; ++i) vs.push_back(random_vector(rng, dim));
  std::map<std::string, std::vector<float>> live;
  for (std::size_t i = 0; i < vs.size(); ++i) live["c" + std::to_string(i)] = vs[i];
  add(kd, vs, 0, 100, true);
  add(hn, vs, 0, 100, true);
  ASSERT_TRUE(db_->delete_chunk(kd, "c3", std::nullopt).is_ok());
  live.erase("c3");
  ASSERT_TRUE(wait_ready(kd));
  ASSERT_TRUE(wait_ready(hn));
  const auto kd_files = index_files(kd);
  const auto hn_files = index_files(hn);
  ASSERT_GE(kd_files.size(), 3u);
  ASSERT_GE(hn_files.size(), 3u);
  std::vector<std::vector<float>> qs;
  for (int i = 0; i < 30; ++i) qs.push_back(random_vector(rng, dim));
  std::vector<std::vector<std::string>> hn_before;
  for (const auto& q : qs) hn_before.push_back(ids_of(*db_->search(hn, query(q))));
  auto check_kd = [&] {
    for (const auto& q : qs) {
      auto r = db_->search(kd, query(q));
      ASSERT_TRUE(r.is_ok());
      EXPECT_EQ(ids_of(*r), brute_force(live, q, 10));
    }
  };
  check_kd();

  // Clean reopen: every file loaded, nothing rebuilt, identical answers.
  fs::create_directories(dir_ / "indexes" / "no-such-library");
  std::ofstream(dir_ / "indexes" / "no-such-library" / "1.qidx") << "junk";
  std::ofstream(index_dir(kd) / "999999.qidx") << "junk";
  reopen();
  EXPECT_FALSE(fs::exists(dir_ / "indexes" / "no-such-library"));
  EXPECT_FALSE(fs::exists(index_dir(kd) / "999999.qidx"));
  ASSERT_TRUE(wait_ready(kd));
  ASSERT_TRUE(wait_ready(hn));
  auto s = db_->engine_stats();
  EXPECT_EQ(s.index_loads, kd_files.size() + hn_files.size());
  EXPECT_EQ(s.index_load_failures, 0u);
  EXPECT_EQ(s.index_builds, 0u);
  EXPECT_EQ(index_files(kd), kd_files);
  for (std::size_t i = 0; i < qs.size(); ++i) EXPECT_EQ(ids_of(*db_->search(hn, query(qs[i]))), hn_before[i]);
  check_kd();

  // A flipped byte: detected, logged, searched exactly meanwhile, rebuilt.
  {
    std::fstream f(kd_files[1], std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(80);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5A);
    f.seekp(80);
    f.write(&c, 1);
  }
  reopen();
  check_kd();
  ASSERT_TRUE(wait_ready(kd));
  s = db_->engine_stats();
  EXPECT_EQ(s.index_load_failures, 1u);
  EXPECT_EQ(s.index_builds, 1u);
  EXPECT_EQ(s.rebuilds, 1u);
  check_kd();

  // A missing file: rebuilt likewise.
  const auto files = index_files(kd);
  ASSERT_EQ(files.size(), kd_files.size());
  fs::remove(files[0]);
  reopen();
  ASSERT_TRUE(wait_ready(kd));
  s = db_->engine_stats();
  EXPECT_EQ(s.index_load_failures, 1u);
  EXPECT_EQ(s.index_builds, 1u);
  check_kd();
  reopen();
  ASSERT_TRUE(wait_ready(kd));
  EXPECT_EQ(db_->engine_stats().index_builds, 0u);
  check_kd();

  // Library delete removes its index directory.
  ASSERT_TRUE(db_->delete_library(kd, std::nullopt).is_ok());
  EXPECT_FALSE(fs::exists(index_dir(kd)));
}

TEST_F(SegmentsTest, RebuildIndexChangesTypeAndWaits) {
  const uint32_t dim = 8;
  const std::string L = make_lib("lib", dim, {"flat", {}});
  std::mt19937 rng(5);
  std::vector<std::vector<float>> vs;
  for (int i = 0; i < 450; ++i) vs.push_back(random_vector(rng, dim));
  std::map<std::string, std::vector<float>> live;
  for (std::size_t i = 0; i < vs.size(); ++i) live["c" + std::to_string(i)] = vs[i];
  add(L, vs);
  const uint64_t v0 = db_->get_library(L)->library.version;

  auto st = db_->rebuild_index(L, IndexConfig{"hnsw", {}}, /*wait=*/true);
  ASSERT_TRUE(st.is_ok()) << st.status().to_string();
  EXPECT_EQ(st->type, "hnsw");
  EXPECT_EQ(st->state, "ready");
  EXPECT_EQ(st->indexed_chunks, live.size());  // the appendable rows were sealed too
  EXPECT_EQ(st->pending_chunks, 0u);
  EXPECT_EQ(db_->get_library(L)->library.version, v0 + 1);
  auto r = db_->search(L, query(vs[17]));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->index, "hnsw");
  EXPECT_FALSE(r->exact);
  EXPECT_EQ(r->results[0].chunk_id, "c17");
  auto ex = query(vs[17]);
  ex.exact = true;
  r = db_->search(L, ex);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(ids_of(*r), brute_force(live, vs[17], 10));

  st = db_->rebuild_index(L, IndexConfig{"ivf", {{"nlist", 4}, {"nprobe", 4}}}, true);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->type, "ivf");
  EXPECT_EQ(st->state, "ready");
  EXPECT_EQ(st->indexed_chunks, live.size());
  r = db_->search(L, query(vs[3]));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->index, "ivf");
  EXPECT_TRUE(r->exact);
  EXPECT_EQ(ids_of(*r), brute_force(live, vs[3], 10));

  // The same config again: a forced rebuild; the version does not change.
  const auto builds = db_->engine_stats().index_builds;
  st = db_->rebuild_index(L, std::nullopt, true);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->state, "ready");
  EXPECT_GT(db_->engine_stats().index_builds, builds);
  EXPECT_EQ(db_->get_library(L)->library.version, v0 + 2);

  // Without wait: returns at once with the new type; the build finishes in the background.
  // PATCH index does the same.
  st = db_->rebuild_index(L, IndexConfig{"kdtree", {}}, false);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->type, "kdtree");
  ASSERT_TRUE(wait_ready(L));
  EXPECT_EQ(db_->index_status(L)->indexed_chunks, live.size());
  LibraryPatch patch;
  patch.index = IndexConfig{"flat", {}};
  ASSERT_TRUE(db_->update_library(L, patch, std::nullopt).is_ok());
  ASSERT_TRUE(wait_ready(L));
  st = db_->index_status(L);
  EXPECT_EQ(st->type, "flat");
  EXPECT_EQ(st->indexed_chunks, live.size());
  r = db_->search(L, query(vs[9]));
  EXPECT_EQ(ids_of(*r), brute_force(live, vs[9], 10));

  // A waiter returns when its library is deleted.
  std::vector<std::vector<float>> more;
  for (int i = 0; i < 4000; ++i) more.push_back(random_vector(rng, dim));
  add(L, more, 1000);
  std::thread waiter([&] { (void)db_->rebuild_index(L, IndexConfig{"hnsw", {}}, true); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(db_->delete_library(L, std::nullopt).is_ok());
  waiter.join();
  EXPECT_EQ(db_->rebuild_index(L, std::nullopt, true).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace quiver::engine
