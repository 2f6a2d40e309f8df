// Concurrency stress with the optimizer running flat out: a tiny seal threshold makes every
// few writes seal a segment, merges and vacuums follow, and a reconfigurer thread keeps
// switching the index type (flat, hnsw, kdtree, ivf), so rewrites are cancelled, rebuilt and
// installed while writers create/add/update/delete and readers search, list and get
// (invariants in engine_stress_harness.h). Bounded iteration counts; runs under
// ThreadSanitizer in CI.
#include "engine/engine_stress_harness.h"

namespace quiver::engine {
namespace {

constexpr int kWriters = 4;
constexpr int kReaders = 5;
constexpr int kWriterOps = 300;
constexpr int kReaderOps = 400;
constexpr int kReconfigurations = 24;

class EngineRebuildStressTest : public testing::StressFixture {
 public:
  void configure(Options& o) override {
    o.seal_threshold = 16;
    o.optimizer_tick_ms = 2;
    o.build_threads = 2;
  }
};

TEST_F(EngineRebuildStressTest, WritesAndSearchesDuringSealMergeAndRebuild) {
  auto lib = make_library("stress", testing::kStressDim, Metric::kL2);
  const std::string L = lib.library.id;

  std::atomic<int> writers_done{0};
  auto reconfigurer = [&] {
    const IndexConfig configs[] = {{"hnsw", {{"m", 8}, {"ef_construction", 32}}},
                                   {"kdtree", {{"leaf_size", 4}}},
                                   {"ivf", {{"nlist", 4}, {"nprobe", 2}}},
                                   {"flat", {}}};
    for (int i = 0; i < kReconfigurations && failures_.load() == 0; ++i) {
      // Every 4th call waits for the build; the others only schedule it.
      auto r = db_->rebuild_index(L, configs[i % 4], /*wait=*/i % 4 == 3);
      if (!r.is_ok()) return fail("rebuild_index: " + r.status().to_string());
      if (r->type != configs[i % 4].type) return fail("rebuild_index returned another type");
      if (i % 3 == 0) {
        LibraryPatch p;
        p.index = configs[(i + 1) % 4];
        auto u = db_->update_library(L, p, std::nullopt);
        if (!u.is_ok()) return fail("update_library: " + u.status().to_string());
      }
      auto st = db_->index_status(L);
      if (!st.is_ok()) return fail("index_status: " + st.status().to_string());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (writers_done.load() == kWriters) break;
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      run_writer(L, w, kWriterOps, /*paced=*/true);
      writers_done.fetch_add(1);
    });
  }
  threads.emplace_back(reconfigurer);
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] { run_reader(L, r, kReaderOps); });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures_.load(), 0);

  // Once the optimizer has caught up: everything indexed (kdtree: exact everywhere).
  auto idx = db_->rebuild_index(L, IndexConfig{"kdtree", {}}, /*wait=*/true);
  ASSERT_TRUE(idx.is_ok());
  EXPECT_EQ(idx->state, "ready");
  EXPECT_EQ(idx->pending_chunks, 0u);
  const auto stats = db_->engine_stats();
  EXPECT_GT(stats.seals, 0u);
  const Totals t = check_quiescent(L, /*expect_exact=*/true);
  EXPECT_EQ(idx->indexed_chunks, t.chunks);
  std::printf(
      "[ stress ] %llu documents, %llu chunks live at the end; seals %llu, merges %llu, "
      "vacuums %llu, rebuilds %llu, abandoned %llu\n",
      static_cast<unsigned long long>(t.documents), static_cast<unsigned long long>(t.chunks),
      static_cast<unsigned long long>(stats.seals), static_cast<unsigned long long>(stats.merges),
      static_cast<unsigned long long>(stats.vacuums),
      static_cast<unsigned long long>(stats.rebuilds),
      static_cast<unsigned long long>(stats.rewrites_abandoned));
}

}  // namespace
}  // namespace quiver::engine
