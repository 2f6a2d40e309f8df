// Engine CRUD: every resource, every error class, cascades, pagination, ordering, reopen.
#include <set>

#include "engine/codec.h"
#include "engine/engine_test_util.h"

namespace quiver::engine {
namespace {

using testing::EngineFixture;

class EngineTest : public EngineFixture {};

std::vector<std::string> chunk_ids(const std::vector<Chunk>& v) {
  std::vector<std::string> out;
  for (const auto& c : v) out.push_back(c.id);
  return out;
}

std::vector<Chunk> all_chunks(Database& db, const std::string& lib, const std::string& doc,
                              uint32_t limit = 1000) {
  std::vector<Chunk> out;
  PageRequest p;
  p.limit = limit;
  for (;;) {
    auto page = db.list_chunks(lib, doc, p);
    EXPECT_TRUE(page.is_ok()) << page.status().to_string();
    if (!page.is_ok()) return out;
    for (auto& c : page->items) out.push_back(std::move(c));
    if (!page->next_cursor) return out;
    p.cursor = *page->next_cursor;
  }
}

TEST_F(EngineTest, LibraryCrudAndErrors) {
  LibraryCreate in;
  in.name = "books";
  in.dimension = 4;
  auto created = db_->create_library(in);
  ASSERT_TRUE(created.is_ok()) << created.status().to_string();
  const Library& lib = created->library;
  EXPECT_FALSE(lib.id.empty());
  EXPECT_EQ(lib.metric, Metric::kCosine);
  EXPECT_FALSE(lib.index.type.empty());
  EXPECT_FALSE(lib.index.params.empty() && lib.index.type != "flat");  // normalized
  EXPECT_EQ(lib.version, 1u);
  EXPECT_EQ(created->stats.document_count, 0u);

  auto got = db_->get_library(lib.id);
  ASSERT_TRUE(got.is_ok());
  EXPECT_EQ(got->library.name, "books");

  // Duplicate name and id.
  auto dup_name = db_->create_library(in);
  ASSERT_EQ(dup_name.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup_name.status().field_errors().at(0).field, "name");
  LibraryCreate dup_id = in;
  dup_id.name = "other";
  dup_id.id = lib.id;
  auto dup = db_->create_library(dup_id);
  ASSERT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field_errors().at(0).field, "id");

  // 422 from validation passes through.
  LibraryCreate bad = in;
  bad.name = "no spaces allowed";
  EXPECT_EQ(db_->create_library(bad).status().code(), StatusCode::kInvalidArgument);

  // Patch: version, If-Match, rename uniqueness.
  LibraryPatch patch;
  patch.description = std::optional<std::string>("about books");
  patch.metadata = MetadataPatch{{"owner", MetaValue(std::string("ana"))}};
  EXPECT_EQ(db_->update_library(lib.id, patch, 5).status().code(),
            StatusCode::kPreconditionFailed);
  auto updated = db_->update_library(lib.id, patch, 1);
  ASSERT_TRUE(updated.is_ok()) << updated.status().to_string();
  EXPECT_EQ(updated->library.version, 2u);
  EXPECT_EQ(updated->library.description, "about books");
  EXPECT_EQ(std::get<std::string>(updated->library.metadata.at("owner")), "ana");
  EXPECT_GE(updated->library.updated_at, lib.updated_at);

  LibraryCreate second = in;
  second.name = "papers";
  ASSERT_TRUE(db_->create_library(second).is_ok());
  LibraryPatch rename;
  rename.name = "papers";
  auto clash = db_->update_library(lib.id, rename, std::nullopt);
  ASSERT_EQ(clash.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(clash.status().field_errors().at(0).field, "name");
  rename.name = "novels";
  ASSERT_TRUE(db_->update_library(lib.id, rename, std::nullopt).is_ok());
  // The old name is free again, the new one is taken.
  LibraryCreate reuse = in;
  EXPECT_TRUE(db_->create_library(reuse).is_ok());
  reuse.name = "novels";
  EXPECT_EQ(db_->create_library(reuse).status().code(), StatusCode::kAlreadyExists);

  // Delete with If-Match, then 404 everywhere.
  EXPECT_EQ(db_->delete_library(lib.id, 1).code(), StatusCode::kPreconditionFailed);
  ASSERT_TRUE(db_->delete_library(lib.id, 3).is_ok());
  EXPECT_EQ(db_->get_library(lib.id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->delete_library(lib.id, std::nullopt).code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->update_library(lib.id, patch, std::nullopt).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(db_->list_documents(lib.id, {}).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, DimensionAndMetricChangeOnlyWithoutChunks) {
  auto lib = make_library("dims", 3);
  LibraryPatch p;
  p.dimension = 5;
  auto r = db_->update_library(lib.library.id, p, std::nullopt);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->library.dimension, 5u);
  make_document(lib.library.id, "d", {chunk("c", {1, 2, 3, 4, 5})});
  p.dimension = 3;
  EXPECT_EQ(db_->update_library(lib.library.id, p, std::nullopt).status().code(),
            StatusCode::kConflict);
  LibraryPatch m;
  m.metric = Metric::kDot;
  EXPECT_EQ(db_->update_library(lib.library.id, m, std::nullopt).status().code(),
            StatusCode::kConflict);
  // Same values are not a change.
  m.metric = Metric::kL2;
  EXPECT_TRUE(db_->update_library(lib.library.id, m, std::nullopt).is_ok());
  // After the chunk goes, the change is allowed.
  ASSERT_TRUE(db_->delete_chunk(lib.library.id, "c", std::nullopt).is_ok());
  m.metric = Metric::kDot;
  EXPECT_TRUE(db_->update_library(lib.library.id, m, std::nullopt).is_ok());
}

TEST_F(EngineTest, DocumentCrudAndErrors) {
  auto lib = make_library("docs", 2);
  const std::string L = lib.library.id;
  auto doc = make_document(L, "d1", {chunk("a", {1, 0}), chunk("b", {0, 1})});
  EXPECT_EQ(doc.chunk_count, 2u);
  EXPECT_EQ(doc.version, 1u);
  EXPECT_EQ(doc.library_id, L);

  DocumentCreate dup;
  dup.id = "d1";
  auto r = db_->create_document(L, dup);
  ASSERT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().field_errors().at(0).field, "id");
  EXPECT_EQ(db_->create_document("nope", dup).status().code(), StatusCode::kNotFound);

  // A failing write changes nothing: an existing chunk id aborts the whole document.
  DocumentCreate clash;
  clash.id = "d2";
  clash.chunks = {chunk("fresh", {1, 1}), chunk("a", {1, 1})};
  auto cr = db_->create_document(L, clash);
  ASSERT_EQ(cr.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(cr.status().field_errors().at(0).field, "chunks[1].id");
  EXPECT_EQ(db_->get_document(L, "d2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->get_chunk(L, "fresh", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->get_library(L)->stats.chunk_count, 2u);

  // 422 passes through (wrong dimension).
  DocumentCreate bad;
  bad.chunks = {chunk(std::nullopt, {1, 2, 3})};
  EXPECT_EQ(db_->create_document(L, bad).status().code(), StatusCode::kInvalidArgument);

  DocumentPatch p;
  p.title = std::optional<std::string>("new title");
  p.metadata = MetadataPatch{{"author", MetaValue(std::string("bo"))}};
  EXPECT_EQ(db_->update_document(L, "d1", p, 7).status().code(), StatusCode::kPreconditionFailed);
  auto u = db_->update_document(L, "d1", p, 1);
  ASSERT_TRUE(u.is_ok()) << u.status().to_string();
  EXPECT_EQ(u->version, 2u);
  EXPECT_EQ(u->title, "new title");
  EXPECT_EQ(u->chunk_count, 2u);
  EXPECT_EQ(db_->update_document(L, "zz", p, std::nullopt).status().code(), StatusCode::kNotFound);

  // Adding chunks changes chunk_count, not the version.
  ASSERT_TRUE(db_->create_chunks(L, "d1", {chunk("c", {2, 2})}).is_ok());
  auto g = db_->get_document(L, "d1");
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->chunk_count, 3u);
  EXPECT_EQ(g->version, 2u);
  EXPECT_EQ(db_->get_library(L)->stats.chunk_count, 3u);
  EXPECT_EQ(db_->get_library(L)->stats.document_count, 1u);

  EXPECT_EQ(db_->delete_document(L, "d1", 1).code(), StatusCode::kPreconditionFailed);
  ASSERT_TRUE(db_->delete_document(L, "d1", 2).is_ok());
  EXPECT_EQ(db_->get_document(L, "d1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->delete_document(L, "d1", std::nullopt).code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, ChunkCrudAndErrors) {
  auto lib = make_library("chunks", 2);
  const std::string L = lib.library.id;
  make_document(L, "d");
  EXPECT_EQ(db_->create_chunks(L, "missing", {chunk("x", {1, 1})}).status().code(),
            StatusCode::kNotFound);
  auto made = db_->create_chunks(L, "d", {chunk("x", {1, 2}, "hello"), chunk(std::nullopt, {3, 4})});
  ASSERT_TRUE(made.is_ok()) << made.status().to_string();
  ASSERT_EQ(made->size(), 2u);
  EXPECT_EQ((*made)[0].id, "x");
  EXPECT_FALSE((*made)[1].id.empty());
  EXPECT_EQ((*made)[0].document_id, "d");
  EXPECT_EQ(std::get<int64_t>((*made)[1].metadata.at("position")), 1);

  auto dup = db_->create_chunks(L, "d", {chunk("y", {1, 1}), chunk("x", {1, 1})});
  ASSERT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(dup.status().field_errors().at(0).field, "chunks[1].id");
  EXPECT_EQ(db_->get_chunk(L, "y", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->create_chunks(L, "d", {}).status().code(), StatusCode::kInvalidArgument);

  auto g = db_->get_chunk(L, "x", true);
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(g->text, "hello");
  ASSERT_TRUE(g->embedding.has_value());
  EXPECT_EQ(*g->embedding, (std::vector<float>{1, 2}));
  EXPECT_FALSE(db_->get_chunk(L, "x", false)->embedding.has_value());

  ChunkPatch p;
  p.text = "bye";
  p.embedding = std::vector<float>{5, 6};
  EXPECT_EQ(db_->update_chunk(L, "x", p, 9).status().code(), StatusCode::kPreconditionFailed);
  auto u = db_->update_chunk(L, "x", p, 1);
  ASSERT_TRUE(u.is_ok()) << u.status().to_string();
  EXPECT_EQ(u->version, 2u);
  auto g2 = db_->get_chunk(L, "x", true);
  EXPECT_EQ(g2->text, "bye");
  EXPECT_EQ(*g2->embedding, (std::vector<float>{5, 6}));
  EXPECT_EQ(std::get<int64_t>(g2->metadata.at("position")), 0);
  // Text without embedding and no embedder: 422 from validation.
  ChunkPatch t;
  t.text = "only text";
  EXPECT_EQ(db_->update_chunk(L, "x", t, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->update_chunk(L, "nope", p, std::nullopt).status().code(), StatusCode::kNotFound);

  EXPECT_EQ(db_->delete_chunk(L, "x", 1).code(), StatusCode::kPreconditionFailed);
  ASSERT_TRUE(db_->delete_chunk(L, "x", 2).is_ok());
  EXPECT_EQ(db_->get_chunk(L, "x", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->delete_chunk(L, "x", std::nullopt).code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->get_document(L, "d")->chunk_count, 1u);
  EXPECT_EQ(db_->get_library(L)->stats.chunk_count, 1u);
}

TEST_F(EngineTest, ChunksAreOrderedByPositionThenCreation) {
  auto lib = make_library("order", 1);
  const std::string L = lib.library.id;
  make_document(L, "d", {chunk("p0", {1}), chunk("p1", {1}), chunk("p2", {1})});
  ASSERT_TRUE(db_->create_chunks(L, "d", {chunk("again1", {1}, "t", 1), chunk("p3", {1})}).is_ok());
  ASSERT_TRUE(db_->create_chunks(L, "d", {chunk("p9", {1}, "t", 9), chunk("p10", {1})}).is_ok());
  EXPECT_EQ(chunk_ids(all_chunks(*db_, L, "d")),
            (std::vector<std::string>{"p0", "p1", "again1", "p2", "p3", "p9", "p10"}));
  // Moving a chunk by patching its position.
  ChunkPatch move;
  move.metadata = MetadataPatch{{"position", MetaValue(int64_t{100})}};
  ASSERT_TRUE(db_->update_chunk(L, "p0", move, std::nullopt).is_ok());
  EXPECT_EQ(chunk_ids(all_chunks(*db_, L, "d", 2)),
            (std::vector<std::string>{"p1", "again1", "p2", "p3", "p9", "p10", "p0"}));
  ASSERT_TRUE(db_->create_chunks(L, "d", {chunk("last", {1})}).is_ok());
  EXPECT_EQ(std::get<int64_t>(db_->get_chunk(L, "last", false)->metadata.at("position")), 101);
}

TEST_F(EngineTest, Pagination) {
  auto lib = make_library("pages", 1);
  const std::string L = lib.library.id;
  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) {
    // Ids deliberately not in creation order: lists follow creation.
    const std::string id = "doc" + std::to_string((i * 7) % 25);
    make_document(L, id);
    expected.push_back(id);
  }
  std::vector<std::string> got;
  PageRequest p;
  p.limit = 10;
  int pages = 0;
  for (;;) {
    auto page = db_->list_documents(L, p);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    ++pages;
    EXPECT_LE(page->items.size(), 10u);
    for (const auto& d : page->items) got.push_back(d.id);
    if (!page->next_cursor) break;
    p.cursor = *page->next_cursor;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(got, expected);

  // Exactly a full last page: next_cursor is null.
  p = {};
  p.limit = 25;
  auto full = db_->list_documents(L, p);
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->items.size(), 25u);
  EXPECT_FALSE(full->next_cursor.has_value());

  // Bad cursors.
  p.limit = 10;
  for (std::string bad : {"!!!", "abc", "AAAAAAAAAAAA"}) {
    p.cursor = bad;
    auto r = db_->list_documents(L, p);
    ASSERT_EQ(r.status().code(), StatusCode::kMalformed) << bad;
    EXPECT_EQ(r.status().field_errors().at(0).field, "cursor");
  }
  // A cursor of another list.
  p = {};
  p.limit = 1;
  auto docs_page = db_->list_documents(L, p);
  ASSERT_TRUE(docs_page->next_cursor.has_value());
  p.cursor = *docs_page->next_cursor;
  EXPECT_EQ(db_->list_chunks(L, "doc0", p).status().code(), StatusCode::kMalformed);
  EXPECT_EQ(db_->list_libraries(p).status().code(), StatusCode::kMalformed);
  auto lib2 = make_library("pages2", 1);
  EXPECT_EQ(db_->list_documents(lib2.library.id, p).status().code(), StatusCode::kMalformed);
  // Limit out of range is a validation error.
  p = {};
  p.limit = 0;
  EXPECT_EQ(db_->list_documents(L, p).status().code(), StatusCode::kInvalidArgument);

  // Libraries list in creation order.
  p = {};
  p.limit = 1;
  std::vector<std::string> libs;
  for (;;) {
    auto page = db_->list_libraries(p);
    ASSERT_TRUE(page.is_ok());
    for (const auto& v : page->items) libs.push_back(v.library.name);
    if (!page->next_cursor) break;
    p.cursor = *page->next_cursor;
  }
  EXPECT_EQ(libs, (std::vector<std::string>{"pages", "pages2"}));
}

TEST_F(EngineTest, DocumentDeleteCascadesToChunksAndSearch) {
  auto lib = make_library("cascade", 2);
  const std::string L = lib.library.id;
  make_document(L, "keep", {chunk("k1", {1, 0})});
  make_document(L, "drop", {chunk("d1", {1, 0.1f}), chunk("d2", {1, 0.2f})});
  ASSERT_TRUE(db_->delete_document(L, "drop", std::nullopt).is_ok());
  EXPECT_EQ(db_->get_chunk(L, "d1", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->list_chunks(L, "drop", {}).status().code(), StatusCode::kNotFound);
  SearchRequest s;
  s.vector = std::vector<float>{1, 0};
  s.k = 10;
  auto r = db_->search(L, s);
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  ASSERT_EQ(r->results.size(), 1u);
  EXPECT_EQ(r->results[0].chunk_id, "k1");
  auto v = db_->get_library(L);
  EXPECT_EQ(v->stats.document_count, 1u);
  EXPECT_EQ(v->stats.chunk_count, 1u);
  // Chunk ids of a deleted document can be reused.
  EXPECT_TRUE(db_->create_chunks(L, "keep", {chunk("d1", {0, 1})}).is_ok());
}

TEST_F(EngineTest, LibraryDeleteRemovesEverything) {
  auto lib = make_library("gone", 2, Metric::kL2, std::string("lib-gone"));
  make_document("lib-gone", "d", {chunk("c", {1, 1})});
  ASSERT_TRUE(db_->delete_library("lib-gone", std::nullopt).is_ok());
  EXPECT_EQ(db_->get_chunk("lib-gone", "c", false).status().code(), StatusCode::kNotFound);
  // Same id and name again: a fresh, empty library (nothing left in storage).
  auto again = make_library("gone", 2, Metric::kL2, std::string("lib-gone"));
  EXPECT_EQ(again.stats.chunk_count, 0u);
  EXPECT_EQ(db_->get_document("lib-gone", "d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db_->get_chunk("lib-gone", "c", false).status().code(), StatusCode::kNotFound);
  reopen();
  EXPECT_EQ(db_->get_library("lib-gone")->stats.chunk_count, 0u);
  EXPECT_EQ(db_->get_chunk("lib-gone", "c", false).status().code(), StatusCode::kNotFound);
}

TEST_F(EngineTest, IndexStatusAndRebuild) {
  auto lib = make_library("idx", 2);
  const std::string L = lib.library.id;
  make_document(L, "d", {chunk("a", {1, 0}), chunk("b", {0, 1})});
  auto st = db_->index_status(L);
  ASSERT_TRUE(st.is_ok());
  EXPECT_EQ(st->type, "flat");
  EXPECT_EQ(st->state, "ready");
  EXPECT_EQ(st->indexed_chunks, 2u);
  auto rb = db_->rebuild_index(L, IndexConfig{"hnsw", {}}, true);
  ASSERT_TRUE(rb.is_ok()) << rb.status().to_string();
  EXPECT_EQ(rb->type, "hnsw");
  EXPECT_EQ(rb->indexed_chunks + rb->pending_chunks, 2u);
  auto v = db_->get_library(L);
  EXPECT_EQ(v->library.index.type, "hnsw");
  EXPECT_FALSE(v->library.index.params.empty());  // normalized
  EXPECT_EQ(db_->rebuild_index(L, IndexConfig{"nope", {}}, true).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->index_status("x").status().code(), StatusCode::kNotFound);
}

// Everything observable, as bytes, so that reopen can be compared exactly.
std::string dump(Database& db) {
  std::string out;
  PageRequest all;
  all.limit = 1000;
  auto libs = db.list_libraries(all);
  for (const auto& v : libs->items) {
    out += codec::encode_library({v.library, 0});
    out += "|" + std::to_string(v.stats.document_count) + "," + std::to_string(v.stats.chunk_count);
    auto docs = db.list_documents(v.library.id, all);
    for (const auto& d : docs->items) {
      out += codec::encode_document({d, 0});
      for (const auto& c : all_chunks(db, v.library.id, d.id, 3)) {
        auto full = db.get_chunk(v.library.id, c.id, true);
        codec::ChunkRecord rec;
        rec.chunk = *full;
        rec.embedding_bytes = codec::float_bytes(*full->embedding);
        out += codec::encode_chunk(rec);
      }
    }
    SearchRequest s;
    s.vector = std::vector<float>(v.library.dimension, 0.5f);
    s.k = 5;
    auto r = db.search(v.library.id, s);
    for (const auto& h : r->results) out += h.chunk_id + ":" + std::to_string(h.score) + ";";
  }
  return out;
}

TEST_F(EngineTest, ReopenRestoresIdenticalState) {
  std::mt19937 rng(7);
  auto a = make_library("a", 4, Metric::kCosine);
  auto b = make_library("b", 3, Metric::kDot);
  for (int d = 0; d < 5; ++d) {
    std::vector<ChunkInput> cs;
    for (int c = 0; c < 30; ++c) cs.push_back(chunk(std::nullopt, random_vector(rng, 4)));
    make_document(a.library.id, "doc" + std::to_string(d), cs);
  }
  make_document(b.library.id, "only", {chunk("x", {1, 2, 3}), chunk("y", {3, 2, 1})});
  ASSERT_TRUE(db_->delete_document(a.library.id, "doc2", std::nullopt).is_ok());
  auto some = db_->list_chunks(a.library.id, "doc1", {});
  ChunkPatch p;
  p.embedding = std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f};
  p.metadata = MetadataPatch{{"section", MetaValue(std::string("intro"))}};
  ASSERT_TRUE(db_->update_chunk(a.library.id, some->items[3].id, p, std::nullopt).is_ok());
  ASSERT_TRUE(db_->delete_chunk(a.library.id, some->items[4].id, std::nullopt).is_ok());
  LibraryPatch lp;
  lp.description = std::optional<std::string>("desc");
  ASSERT_TRUE(db_->update_library(b.library.id, lp, std::nullopt).is_ok());

  const std::string before = dump(*db_);
  reopen();
  const std::string after = dump(*db_);
  EXPECT_EQ(before, after);
  EXPECT_GT(before.size(), 1000u);
  // Sequences continue after the recovered maximum: new items sort last.
  make_document(a.library.id, "new");
  auto docs = db_->list_documents(a.library.id, {});
  EXPECT_EQ(docs->items.back().id, "new");
  ASSERT_TRUE(db_->create_chunks(b.library.id, "only", {chunk("z", {1, 1, 1})}).is_ok());
  EXPECT_EQ(std::get<int64_t>(db_->get_chunk(b.library.id, "z", false)->metadata.at("position")), 2);
}

}  // namespace
}  // namespace quiver::engine
