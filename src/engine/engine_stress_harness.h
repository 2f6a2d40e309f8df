// Shared harness of the engine concurrency stress tests (engine_stress_test.cc,
// engine_rebuild_stress_test.cc): writers that create, add, update and delete, readers that
// search, list and get, and the invariants both tests check while running and at the end:
//   - a search never returns a chunk (or a chunk of a document) whose delete completed
//     before the search began;
//   - results are sorted nearest first (ties by chunk id) and at most k;
//   - a document no writer touches any more ("frozen") lists exactly chunk_count chunks;
//   - at the end, library stats equal the sums over documents and lists, and a search with
//     k >= chunk_count returns every live chunk exactly once.
// Bounded iteration counts (not wall time): the tests run under ThreadSanitizer in CI.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "engine/engine_test_util.h"

namespace quiver::engine::testing {

inline constexpr uint32_t kStressDim = 8;

class StressFixture : public EngineFixture {
 public:
  std::mutex mu_;
  std::set<std::string> deleted_docs_;  // deletes that have completed
  std::set<std::string> deleted_chunks_;
  std::vector<std::string> frozen_docs_;  // never written again
  std::atomic<int> failures_{0};

  void fail(const std::string& what) {
    ADD_FAILURE() << what;
    failures_.fetch_add(1);
  }

  // One writer thread's work: `ops` random operations on its own documents.
  void run_writer(const std::string& L, int w, int ops, bool paced) {
    std::mt19937 rng(1000 + w);
    std::vector<std::string> mine;  // live documents of this writer
    std::map<std::string, std::vector<std::string>> chunks_of;
    int next_doc = 0, next_chunk = 0;
    for (int op = 0; op < ops && failures_.load() == 0; ++op) {
      // Paced runs let the optimizer interleave many small rewrites with the writes
      // (otherwise one seal swallows everything written meanwhile).
      if (paced && op % 4 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      const int kind = mine.empty() ? 0 : static_cast<int>(rng() % 6);
      auto new_chunk = [&] {
        std::string id = "w" + std::to_string(w) + "c" + std::to_string(next_chunk++);
        return std::make_pair(id, chunk(id, random_vector(rng, kStressDim)));
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
        p.embedding = random_vector(rng, kStressDim);
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
  }

  // One reader thread's work: `ops` searches, lists and gets, checking the invariants.
  void run_reader(const std::string& L, int rd, int ops) {
    std::mt19937 rng(2000 + rd);
    for (int op = 0; op < ops && failures_.load() == 0; ++op) {
      const int kind = static_cast<int>(rng() % 3);
      if (kind == 0) {
        std::set<std::string> gone_docs, gone_chunks;
        {
          std::lock_guard lock(mu_);
          gone_docs = deleted_docs_;
          gone_chunks = deleted_chunks_;
        }
        SearchRequest s;
        s.vector = random_vector(rng, kStressDim);
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
  }

  struct Totals {
    uint64_t documents = 0;
    uint64_t chunks = 0;
  };
  // Once writers have stopped: counts agree with lists, and an exhaustive search returns
  // every live chunk exactly once. `expect_exact` when every segment is searched exactly.
  Totals check_quiescent(const std::string& L, bool expect_exact) {
    Totals t;
    check_quiescent_into(L, expect_exact, t);
    return t;
  }

 private:
  // gtest's ASSERT_* needs a void function.
  void check_quiescent_into(const std::string& L, bool expect_exact, Totals& totals) {
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
    {
      // Every live chunk once, each old row of an updated chunk gone.
      SearchRequest s;
      s.vector = std::vector<float>(kStressDim, 0.0f);
      s.k = kMaxK;
      auto r = db_->search(L, s);
      ASSERT_TRUE(r.is_ok());
      if (expect_exact) {
        EXPECT_TRUE(r->exact);
      }
      std::set<std::string> found;
      for (const auto& h : r->results) found.insert(h.chunk_id);
      EXPECT_EQ(r->results.size(), found.size());
      EXPECT_EQ(found.size(), std::min<std::size_t>(kMaxK, live.size()));
      EXPECT_TRUE(std::includes(live.begin(), live.end(), found.begin(), found.end()));
      if (live.size() <= kMaxK) {
        EXPECT_EQ(found, live);
      }
    }
    totals.documents = docs;
    totals.chunks = chunk_sum;
  }
};

}  // namespace quiver::engine::testing
