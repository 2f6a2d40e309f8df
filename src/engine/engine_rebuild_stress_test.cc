// Concurrency stress with the optimizer running flat out: a tiny seal threshold makes every
// few writes seal a segment, merges and vacuums follow, and a reconfigurer thread keeps
// switching the index type (flat, hnsw, kdtree, ivf), so rewrites are cancelled, rebuilt and
// installed while writers create/add/update/delete and readers search, list and get.
// Bounded iteration counts (not wall time); run under ThreadSanitizer in CI.
//
// Invariants checked while running:
//   - a search never returns a chunk (or a chunk of a document) whose delete completed
//     before the search began;
//   - results are sorted nearest first (ties by chunk id) and at most k;
//   - a document no writer touches any more ("frozen") lists exactly chunk_count chunks.
// And at the end: library stats equal the sums over documents and lists, and a search with
// k >= chunk_count returns every live chunk exactly once.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine_test_util.h"

namespace quiver::engine {
namespace {

using testing::EngineFixture;

constexpr uint32_t kDim = 8;
constexpr int kWriters = 4;
constexpr int kReaders = 5;
constexpr int kWriterOps = 300;
constexpr int kReaderOps = 400;
constexpr int kReconfigurations = 24;

class EngineRebuildStressTest : public EngineFixture {
 public:
  void configure(Options& o) override {
    o.seal_threshold = 16;
    o.optimizer_tick_ms = 2;
    o.build_threads = 2;
  }
  std::mutex mu_;
  std::set<std::string> deleted_docs_;    // deletes that have completed
  std::set<std::string> deleted_chunks_;
  std::vector<std::string> frozen_docs_;  // never written again
  std::atomic<int> failures_{0};

  void fail(const std::string& what) {
    ADD_FAILURE() << what;
    failures_.fetch_add(1);
  }
};

TEST_F(EngineRebuildStressTest, WritesAndSearchesDuringSealMergeAndRebuild) {
  auto lib = make_library("stress", kDim, Metric::kL2);
  const std::string L = lib.library.id;

  auto writer = [&](int w) {
    std::mt19937 rng(1000 + w);
    std::vector<std::string> mine;                     // live documents of this writer
    std::map<std::string, std::vector<std::string>> chunks_of;
    int next_doc = 0, next_chunk = 0;
    for (int op = 0; op < kWriterOps && failures_.load() == 0; ++op) {
      // Pace the writers so that the optimizer interleaves many small rewrites with them
      // (otherwise one seal swallows everything written meanwhile).
      if (op % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const int kind = mine.empty() ? 0 : static_cast<int>(rng() % 6);
      auto new_chunk = [&] {
        std::string id = "w" + std::to_string(w) + "c" + std::to_string(next_chunk++);
        return std::make_pair(id, chunk(id, random_vector(rng, kDim)));
      };
      if (kind == 0) {  // create a document with chunks
        DocumentCreate in;
        in.id = "w" + std::to_string(w) + "d" + std::to_string(next_doc++);
        std::vector<std::string> ids;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 12); i < n; ++i) {
          auto [id, c] = new_chunk();
          ids.push_back(id);
          in.chunks.push_back(std::move(c));
        }
        auto r = db_->create_document(L, in);
        if (!r.is_ok()) return fail("create_document: " + r.status().to_string());
        mine.push_back(*in.id);
        chunks_of[*in.id] = ids;
        continue;
      }
      const std::string doc = mine[rng() % mine.size()];
      auto& ids = chunks_of[doc];
      if (kind == 1) {  // add chunks
        std::vector<ChunkInput> in;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 4); i < n; ++i) {
          auto [id, c] = new_chunk();
          ids.push_back(id);
          in.push_back(std::move(c));
        }
        auto r = db_->create_chunks(L, doc, in);
        if (!r.is_ok()) return fail("create_chunks: " + r.status().to_string());
      } else if (kind == 2 && !ids.empty()) {  // update an embedding
        ChunkPatch p;
        p.embedding = random_vector(rng, kDim);
        auto r = db_->update_chunk(L, ids[rng() % ids.size()], p, std::nullopt);
        if (!r.is_ok()) return fail("update_chunk: " + r.status().to_string());
      } else if (kind == 3 && !ids.empty()) {  // delete a chunk
        const std::size_t i = rng() % ids.size();
        const std::string id = ids[i];
        Status s = db_->delete_chunk(L, id, std::nullopt);
        if (!s.is_ok()) return fail("delete_chunk: " + s.to_string());
        ids.erase(ids.begin() + static_cast<long>(i));
        std::lock_guard lock(mu_);
        deleted_chunks_.insert(id);
      } else if (kind == 4) {  // delete a document
        Status s = db_->delete_document(L, doc, std::nullopt);
        if (!s.is_ok()) return fail("delete_document: " + s.to_string());
        mine.erase(std::find(mine.begin(), mine.end(), doc));
        std::lock_guard lock(mu_);
        deleted_docs_.insert(doc);
      } else {  // freeze a document: no writer touches it again
        mine.erase(std::find(mine.begin(), mine.end(), doc));
        std::lock_guard lock(mu_);
        frozen_docs_.push_back(doc);
      }
    }
  };

  auto reader = [&](int rd) {
    std::mt19937 rng(2000 + rd);
    for (int op = 0; op < kReaderOps && failures_.load() == 0; ++op) {
      const int kind = static_cast<int>(rng() % 3);
      if (kind == 0) {
        std::set<std::string> gone_docs, gone_chunks;
        {
          std::lock_guard lock(mu_);
          gone_docs = deleted_docs_;
          gone_chunks = deleted_chunks_;
        }
        SearchRequest s;
        s.vector = random_vector(rng, kDim);
        s.k = 1 + rng() % 20;
        auto r = db_->search(L, s);
        if (!r.is_ok()) return fail("search: " + r.status().to_string());
        if (r->results.size() > s.k) return fail("more than k results");
        for (std::size_t i = 0; i < r->results.size(); ++i) {
          const auto& h = r->results[i];
          if (gone_docs.count(h.document_id) || gone_chunks.count(h.chunk_id)) {
            return fail("search returned deleted " + h.chunk_id + " of " + h.document_id);
          }
          if (i > 0) {
            const auto& p = r->results[i - 1];
            if (p.score > h.score || (p.score == h.score && p.chunk_id >= h.chunk_id)) {
              return fail("results out of order");
            }
          }
        }
      } else if (kind == 1) {
        std::string doc;
        {
          std::lock_guard lock(mu_);
          if (frozen_docs_.empty()) continue;
          doc = frozen_docs_[rng() % frozen_docs_.size()];
        }
        auto d = db_->get_document(L, doc);
        if (!d.is_ok()) return fail("get_document: " + d.status().to_string());
        uint64_t listed = 0;
        PageRequest p;
        p.limit = 3;
        for (;;) {
          auto page = db_->list_chunks(L, doc, p);
          if (!page.is_ok()) return fail("list_chunks: " + page.status().to_string());
          listed += page->items.size();
          for (const auto& c : page->items) {
            auto g = db_->get_chunk(L, c.id, rd % 2 == 0);
            if (!g.is_ok()) return fail("get_chunk: " + g.status().to_string());
          }
          if (!page->next_cursor) break;
          p.cursor = *page->next_cursor;
        }
        if (listed != d->chunk_count) {
          return fail("frozen " + doc + ": chunk_count " + std::to_string(d->chunk_count) +
                      " but " + std::to_string(listed) + " listed");
        }
      } else {
        PageRequest p;
        p.limit = 7;
        auto page = db_->list_documents(L, p);
        if (!page.is_ok()) return fail("list_documents: " + page.status().to_string());
        auto v = db_->get_library(L);
        if (!v.is_ok()) return fail("get_library: " + v.status().to_string());
      }
    }
  };

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
      writer(w);
      writers_done.fetch_add(1);
    });
  }
  threads.emplace_back(reconfigurer);
  for (int r = 0; r < kReaders; ++r) threads.emplace_back(reader, r);
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures_.load(), 0);

  // Quiescent checks, once the optimizer has caught up.
  auto idx = db_->rebuild_index(L, IndexConfig{"kdtree", {}}, /*wait=*/true);
  ASSERT_TRUE(idx.is_ok());
  EXPECT_EQ(idx->state, "ready");
  EXPECT_EQ(idx->pending_chunks, 0u);
  const auto stats = db_->engine_stats();
  EXPECT_GT(stats.seals, 0u);
  auto v = db_->get_library(L);
  ASSERT_TRUE(v.is_ok());
  uint64_t docs = 0, chunk_sum = 0, listed_sum = 0;
  std::set<std::string> live;
  PageRequest p;
  p.limit = 1000;
  for (;;) {
    auto page = db_->list_documents(L, p);
    ASSERT_TRUE(page.is_ok());
    for (const auto& d : page->items) {
      ++docs;
      chunk_sum += d.chunk_count;
      PageRequest cp;
      cp.limit = 1000;
      auto cs = db_->list_chunks(L, d.id, cp);
      ASSERT_TRUE(cs.is_ok());
      ASSERT_FALSE(cs->next_cursor.has_value());
      EXPECT_EQ(cs->items.size(), d.chunk_count) << d.id;
      listed_sum += cs->items.size();
      for (const auto& c : cs->items) live.insert(c.id);
    }
    if (!page->next_cursor) break;
    p.cursor = *page->next_cursor;
  }
  EXPECT_GT(docs, 0u);
  EXPECT_EQ(v->stats.document_count, docs);
  EXPECT_EQ(v->stats.chunk_count, chunk_sum);
  EXPECT_EQ(listed_sum, chunk_sum);
  EXPECT_EQ(idx->indexed_chunks, chunk_sum);
  {
    // Every live chunk once, each old row of an updated chunk gone.
    SearchRequest s;
    s.vector = std::vector<float>(kDim, 0.0f);
    s.k = kMaxK;
    auto r = db_->search(L, s);
    ASSERT_TRUE(r.is_ok());
    EXPECT_TRUE(r->exact);  // kdtree everywhere
    std::set<std::string> found;
    for (const auto& h : r->results) found.insert(h.chunk_id);
    EXPECT_EQ(r->results.size(), found.size());
    EXPECT_EQ(found.size(), std::min<std::size_t>(kMaxK, live.size()));
    EXPECT_TRUE(std::includes(live.begin(), live.end(), found.begin(), found.end()));
    if (live.size() <= kMaxK) {
      EXPECT_EQ(found, live);
    }
  }
  std::printf("[ stress ] %llu documents, %llu chunks live at the end; seals %llu, merges %llu, "
              "vacuums %llu, rebuilds %llu, abandoned %llu\n",
              static_cast<unsigned long long>(docs), static_cast<unsigned long long>(chunk_sum),
              static_cast<unsigned long long>(stats.seals),
              static_cast<unsigned long long>(stats.merges),
              static_cast<unsigned long long>(stats.vacuums),
              static_cast<unsigned long long>(stats.rebuilds),
              static_cast<unsigned long long>(stats.rewrites_abandoned));
}

}  // namespace
}  // namespace quiver::engine
