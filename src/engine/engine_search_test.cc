// Engine search against brute force: metrics, scores, ties, k > rows, updates, recovery time.
#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/engine_test_util.h"

namespace quiver::engine {
namespace {

using testing::EngineFixture;

class EngineSearchTest : public EngineFixture {};

struct Expected {
  double score;
  std::string id;
};

// Reference scores in double precision, as the contract defines them.
double reference_score(Metric m, const std::vector<float>& q, const std::vector<float>& x) {
  double dot = 0, l2 = 0, qq = 0, xx = 0;
  for (std::size_t i = 0; i < q.size(); ++i) {
    dot += double(q[i]) * x[i];
    l2 += (double(q[i]) - x[i]) * (double(q[i]) - x[i]);
    qq += double(q[i]) * q[i];
    xx += double(x[i]) * x[i];
  }
  switch (m) {
    case Metric::kL2: return std::sqrt(l2);
    case Metric::kDot: return dot;
    case Metric::kCosine: return dot / std::sqrt(qq * xx);
  }
  return 0;
}

void check_against_brute_force(EngineSearchTest& t, Metric metric) {
  constexpr uint32_t kDim = 12;
  constexpr int kRows = 2600;  // more than two blocks
  std::mt19937 rng(static_cast<unsigned>(metric) + 11);
  auto lib = t.make_library("m" + std::to_string(static_cast<int>(metric)), kDim, metric);
  const std::string L = lib.library.id;
  std::vector<std::pair<std::string, std::vector<float>>> rows;
  for (int d = 0; d < 13; ++d) {
    std::vector<ChunkInput> cs;
    for (int c = 0; c < kRows / 13; ++c) {
      std::string id = "c" + std::to_string(d) + "_" + std::to_string(c);
      auto v = EngineFixture::random_vector(rng, kDim);
      rows.emplace_back(id, v);
      cs.push_back(EngineFixture::chunk(id, v, "text of " + id));
    }
    t.make_document(L, "doc" + std::to_string(d), cs);
  }
  const bool lower_is_nearer = metric == Metric::kL2;
  for (int qi = 0; qi < 15; ++qi) {
    const auto q = EngineFixture::random_vector(rng, kDim);
    std::vector<Expected> exp;
    for (const auto& [id, v] : rows) exp.push_back({reference_score(metric, q, v), id});
    std::sort(exp.begin(), exp.end(), [&](const Expected& a, const Expected& b) {
      if (a.score != b.score) return lower_is_nearer ? a.score < b.score : a.score > b.score;
      return a.id < b.id;
    });
    SearchRequest s;
    s.vector = q;
    s.k = 10;
    auto r = t.db_->search(L, s);
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->results.size(), 10u);
    EXPECT_TRUE(r->exact);
    EXPECT_EQ(r->index, "flat");
    for (std::size_t i = 0; i < 10; ++i) {
      EXPECT_EQ(r->results[i].chunk_id, exp[i].id) << "query " << qi << " rank " << i;
      EXPECT_NEAR(r->results[i].score, exp[i].score, 1e-4 * (1 + std::fabs(exp[i].score)));
      ASSERT_TRUE(r->results[i].text.has_value());
      EXPECT_EQ(*r->results[i].text, "text of " + exp[i].id);
      ASSERT_TRUE(r->results[i].metadata.has_value());
      EXPECT_EQ(r->results[i].document_id, exp[i].id.substr(1, exp[i].id.find('_') - 1).insert(0, "doc"));
    }
  }
}

TEST_F(EngineSearchTest, L2MatchesBruteForce) { check_against_brute_force(*this, Metric::kL2); }
TEST_F(EngineSearchTest, CosineMatchesBruteForce) {
  check_against_brute_force(*this, Metric::kCosine);
}
TEST_F(EngineSearchTest, DotMatchesBruteForce) { check_against_brute_force(*this, Metric::kDot); }

TEST_F(EngineSearchTest, TiesBreakByChunkIdAndFewerThanKReturnsAll) {
  auto lib = make_library("ties", 2);
  const std::string L = lib.library.id;
  // Five identical vectors created in reverse id order, one farther away.
  make_document(L, "d", {chunk("e", {1, 1}), chunk("d", {1, 1}), chunk("c", {1, 1}),
                         chunk("b", {1, 1}), chunk("a", {1, 1}), chunk("far", {9, 9})});
  SearchRequest s;
  s.vector = std::vector<float>{1, 1};
  s.k = 3;
  auto r = db_->search(L, s);
  ASSERT_TRUE(r.is_ok());
  ASSERT_EQ(r->results.size(), 3u);
  EXPECT_EQ(r->results[0].chunk_id, "a");
  EXPECT_EQ(r->results[1].chunk_id, "b");
  EXPECT_EQ(r->results[2].chunk_id, "c");
  s.k = 100;
  r = db_->search(L, s);
  ASSERT_EQ(r->results.size(), 6u);
  EXPECT_EQ(r->results.back().chunk_id, "far");
  EXPECT_NEAR(r->results.back().score, std::sqrt(128.0), 1e-4);
  // include flags.
  s.include_text = false;
  s.include_metadata = false;
  s.include_embedding = true;
  r = db_->search(L, s);
  EXPECT_FALSE(r->results[0].text.has_value());
  EXPECT_FALSE(r->results[0].metadata.has_value());
  ASSERT_TRUE(r->results[0].embedding.has_value());
  EXPECT_EQ(*r->results[0].embedding, (std::vector<float>{1, 1}));
  // Empty library: no results; unknown library: 404; invalid request: 422.
  auto empty = make_library("empty", 2);
  EXPECT_TRUE(db_->search(empty.library.id, s)->results.empty());
  EXPECT_EQ(db_->search("nope", s).status().code(), StatusCode::kNotFound);
  s.vector = std::vector<float>{1, 1, 1};
  EXPECT_EQ(db_->search(L, s).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(EngineSearchTest, UpdatesAndDeletesAreVisibleToSearch) {
  auto lib = make_library("upd", 2, Metric::kCosine);
  const std::string L = lib.library.id;
  make_document(L, "d", {chunk("x", {1, 0}, "old"), chunk("y", {0, 1}), chunk("z", {-1, 0})});
  SearchRequest s;
  s.vector = std::vector<float>{0, 1};
  s.k = 1;
  EXPECT_EQ(db_->search(L, s)->results[0].chunk_id, "y");
  ChunkPatch p;
  p.embedding = std::vector<float>{0, 2};
  p.text = "new";
  ASSERT_TRUE(db_->update_chunk(L, "x", p, std::nullopt).is_ok());
  ASSERT_TRUE(db_->delete_chunk(L, "y", std::nullopt).is_ok());
  auto r = db_->search(L, s);
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].chunk_id, "x");
  EXPECT_EQ(*r->results[0].text, "new");
  EXPECT_NEAR(r->results[0].score, 1.0, 1e-6);
  s.k = 10;
  r = db_->search(L, s);
  EXPECT_EQ(r->results.size(), 2u);  // x once (old row gone), z
  // Metadata-only updates keep the row and show the new text/metadata.
  ChunkPatch m;
  m.metadata = MetadataPatch{{"section", MetaValue(std::string("s1"))}};
  ASSERT_TRUE(db_->update_chunk(L, "z", m, std::nullopt).is_ok());
  r = db_->search(L, s);
  ASSERT_EQ(r->results.size(), 2u);
  EXPECT_EQ(std::get<std::string>(r->results[1].metadata->at("section")), "s1");
}

// Server-side embeddings: chunks without vectors and text queries go through the embedder.
TEST_F(EngineSearchTest, HashEmbedderEmbedsChunksAndQueries) {
  LibraryCreate in;
  in.name = "embedded";
  EmbedderConfig e;
  e.provider = "hash";
  e.dimension = 64;
  in.embedder = e;
  in.index = IndexConfig{"flat", {}};
  auto lib = db_->create_library(in);
  ASSERT_TRUE(lib.is_ok()) << lib.status().to_string();
  EXPECT_EQ(lib->library.dimension, 64u);
  const std::string L = lib->library.id;
  auto text_chunk = [](std::string id, std::string text) {
    ChunkInput c;
    c.id = std::move(id);
    c.text = std::move(text);
    return c;
  };
  make_document(L, "d", {text_chunk("apple", "red apple pie"), text_chunk("sky", "blue sky today"),
                         text_chunk("grass", "green grass field")});
  auto g = db_->get_chunk(L, "sky", true);
  ASSERT_TRUE(g.is_ok());
  ASSERT_EQ(g->embedding->size(), 64u);
  SearchRequest s;
  s.text = "blue sky today";
  s.k = 3;
  auto r = db_->search(L, s);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->results.size(), 3u);
  EXPECT_EQ(r->results[0].chunk_id, "sky");
  EXPECT_NEAR(r->results[0].score, 1.0, 1e-5);
  // A text-only patch is re-embedded.
  ChunkPatch p;
  p.text = "green grass field";
  ASSERT_TRUE(db_->update_chunk(L, "apple", p, std::nullopt).is_ok());
  s.text = "green grass field";
  r = db_->search(L, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_NEAR(r->results[0].score, 1.0, 1e-5);
  EXPECT_NEAR(r->results[1].score, 1.0, 1e-5);
  EXPECT_EQ(r->results[0].chunk_id, "apple");  // tie broken by id
  EXPECT_EQ(r->results[1].chunk_id, "grass");
}

// Recovery speed: 60,000 x 784-d chunks (the size of Fashion-MNIST's training set).
TEST_F(EngineSearchTest, RecoveryOf60kChunksIsFast) {
  constexpr uint32_t kDim = 784;
  auto lib = make_library("big", kDim);
  const std::string L = lib.library.id;
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> probe;
  for (int d = 0; d < 60; ++d) {
    std::vector<ChunkInput> cs;
    for (int c = 0; c < 1000; ++c) {
      std::vector<float> v(kDim);
      for (auto& x : v) x = u(rng);
      if (d == 37 && c == 500) probe = v;
      cs.push_back(chunk(std::nullopt, std::move(v), "t"));
    }
    make_document(L, "d" + std::to_string(d), std::move(cs));
  }
  const auto t0 = std::chrono::steady_clock::now();
  reopen();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - t0).count();
  std::printf("[ recovery ] reopen with 60000 x 784-d chunks took %lld ms\n",
              static_cast<long long>(ms));
  auto v = db_->get_library(L);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ(v->stats.chunk_count, 60000u);
  EXPECT_EQ(v->stats.document_count, 60u);
  SearchRequest s;
  s.vector = probe;
  s.k = 1;
  auto r = db_->search(L, s);
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->results[0].document_id, "d37");
  EXPECT_NEAR(r->results[0].score, 0.0, 1e-3);
}

}  // namespace
}  // namespace quiver::engine
