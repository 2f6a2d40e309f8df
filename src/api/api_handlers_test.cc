// Api dispatch and handlers against an in-memory fake Database that records its calls.
#include <cstring>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "api/api.h"
#include "api/router.h"

namespace quiver::api {
namespace {

using engine::IfMatch;

class FakeDb : public engine::Database {
 public:
  // What the last call received.
  std::string last_library_id, last_other_id;
  IfMatch last_if_match;
  bool last_with_embedding = false;
  engine::PageRequest last_page;
  engine::SearchRequest last_search;
  Status next_error;  // returned by every call when not OK

  engine::LibraryView library() const {
    engine::LibraryView v;
    v.library.id = "lib1";
    v.library.name = "docs";
    v.library.dimension = 2;
    v.library.index = {"hnsw", {{"m", 16}}};
    v.library.metadata["tags"] = engine::StringList{"a"};
    v.library.created_at = 0;
    v.library.updated_at = 1000;
    v.library.version = 4;
    v.index_status = {"hnsw", "ready", 3, 0};
    return v;
  }
  engine::Chunk chunk() const {
    engine::Chunk c;
    c.id = "c1";
    c.library_id = "lib1";
    c.document_id = "d1";
    c.text = "t";
    c.metadata["position"] = int64_t{0};
    c.version = 2;
    c.embedding = std::vector<float>{0.1f, -0.25f};
    return c;
  }

  template <typename T>
  Result<T> reply(T v) {
    if (!next_error.is_ok()) return next_error;
    return v;
  }
  Status reply_status() { return next_error; }

  Result<engine::LibraryView> create_library(const engine::LibraryCreate&) override {
    return reply(library());
  }
  Result<engine::Page<engine::LibraryView>> list_libraries(const engine::PageRequest& p) override {
    last_page = p;
    return reply(engine::Page<engine::LibraryView>{{library()}, std::string("next")});
  }
  Result<engine::LibraryView> get_library(std::string_view id) override {
    last_library_id = id;
    return reply(library());
  }
  Result<engine::LibraryView> update_library(std::string_view id, const engine::LibraryPatch&,
                                             IfMatch m) override {
    last_library_id = id;
    last_if_match = m;
    return reply(library());
  }
  Status delete_library(std::string_view id, IfMatch m) override {
    last_library_id = id;
    last_if_match = m;
    return reply_status();
  }
  Result<engine::Document> create_document(std::string_view, const engine::DocumentCreate& in) override {
    engine::Document d;
    d.id = "d1";
    d.chunk_count = in.chunks.size();
    return reply(d);
  }
  Result<engine::Page<engine::Document>> list_documents(std::string_view,
                                                        const engine::PageRequest& p) override {
    last_page = p;
    return reply(engine::Page<engine::Document>{});
  }
  Result<engine::Document> get_document(std::string_view l, std::string_view d) override {
    last_library_id = l;
    last_other_id = d;
    return reply(engine::Document{});
  }
  Result<engine::Document> update_document(std::string_view, std::string_view,
                                           const engine::DocumentPatch&, IfMatch m) override {
    last_if_match = m;
    return reply(engine::Document{});
  }
  Status delete_document(std::string_view, std::string_view, IfMatch m) override {
    last_if_match = m;
    return reply_status();
  }
  Result<std::vector<engine::Chunk>> create_chunks(std::string_view, std::string_view,
                                                   const std::vector<engine::ChunkInput>& in) override {
    return reply(std::vector<engine::Chunk>(in.size(), chunk()));
  }
  Result<engine::Page<engine::Chunk>> list_chunks(std::string_view, std::string_view,
                                                  const engine::PageRequest& p) override {
    last_page = p;
    return reply(engine::Page<engine::Chunk>{});
  }
  Result<engine::Chunk> get_chunk(std::string_view, std::string_view c, bool with) override {
    last_other_id = c;
    last_with_embedding = with;
    return reply(chunk());
  }
  Result<engine::Chunk> update_chunk(std::string_view, std::string_view, const engine::ChunkPatch&,
                                     IfMatch m) override {
    last_if_match = m;
    return reply(chunk());
  }
  Status delete_chunk(std::string_view, std::string_view, IfMatch m) override {
    last_if_match = m;
    return reply_status();
  }
  Result<engine::SearchResponse> search(std::string_view, const engine::SearchRequest& r) override {
    last_search = r;
    engine::SearchResponse out;
    engine::SearchHit h;
    h.chunk_id = "c1";
    h.document_id = "d1";
    h.score = 0.1f;
    h.text = "t";
    out.results.push_back(h);
    out.index = "hnsw";
    return reply(out);
  }
  Result<engine::IndexStatus> index_status(std::string_view) override {
    return reply(engine::IndexStatus{"hnsw", "ready", 3, 0});
  }
  Result<engine::IndexStatus> rebuild_index(std::string_view, const std::optional<engine::IndexConfig>&,
                                            bool) override {
    return reply(engine::IndexStatus{"hnsw", "building", 0, 3});
  }
};

class ApiTest : public ::testing::Test {
 protected:
  HttpResponse call(std::string method, std::string target, std::string body = "",
                    std::string content_type = "application/json",
                    std::optional<std::string> if_match = std::nullopt) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    r.body = std::move(body);
    r.content_type = r.body.empty() ? "" : content_type;
    if (if_match) {
      r.if_match = *if_match;
      r.has_if_match = true;
    }
    return api_.handle(r);
  }
  static std::string header(const HttpResponse& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }
  static std::string problem_type(const HttpResponse& r) {
    simdjson::dom::parser p;
    std::string_view t;
    if (p.parse(r.body).at_pointer("/type").get(t) != simdjson::SUCCESS) return "";
    return std::string(t);
  }
  static std::string first_error_field(const HttpResponse& r) {
    simdjson::dom::parser p;
    std::string_view f;
    if (p.parse(r.body).at_pointer("/errors/0/field").get(f) != simdjson::SUCCESS) return "<none>";
    return std::string(f);
  }
  void open() { api_.set_database(&db_); }

  FakeDb db_;
  Api api_;
};

TEST_F(ApiTest, ReadinessLifecycle) {
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  HttpResponse r = call("GET", "/v1/libraries");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(problem_type(r), "urn:quiver:problem:unavailable");
  open();
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  EXPECT_EQ(call("GET", "/v1/libraries").status, 200);
  api_.begin_shutdown();
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
}

TEST_F(ApiTest, RoutingErrors) {
  open();
  HttpResponse r = call("GET", "/v2/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(problem_type(r), "urn:quiver:problem:route_not_found");
  EXPECT_EQ(r.content_type, "application/problem+json");
  r = call("PUT", "/v1/libraries/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, PATCH, DELETE");
  EXPECT_EQ(problem_type(r), "urn:quiver:problem:method_not_allowed");
  EXPECT_EQ(call("GET", "/metrics").status, 404);
}

TEST_F(ApiTest, EveryRouteHasAHandler) {
  open();
  for (const Route& route : route_table()) {
    std::string path(route.pattern);
    for (const char* p : {"{library_id}", "{document_id}", "{chunk_id}"}) {
      auto pos = path.find(p);
      if (pos != std::string::npos) path.replace(pos, std::strlen(p), "x");
    }
    for (std::string_view m : route.methods) {
      HttpResponse r = call(std::string(m), path, m == "POST" || m == "PATCH" ? "{}" : "");
      EXPECT_NE(r.status, 500) << m << " " << path << " " << r.body;
      EXPECT_NE(r.status, 404) << m << " " << path;
      EXPECT_NE(r.status, 405) << m << " " << path;
    }
  }
}

TEST_F(ApiTest, CreateLibraryShapeAndEtag) {
  open();
  HttpResponse r = call("POST", "/v1/libraries", R"({"name":"docs","dimension":2})",
                        "application/json; charset=utf-8");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(header(r, "ETag"), "\"4\"");
  EXPECT_EQ(r.body,
            R"({"id":"lib1","name":"docs","description":null,"dimension":2,"metric":"cosine",)"
            R"("index":{"type":"hnsw","params":{"m":16}},"embedder":null,)"
            R"("metadata":{"tags":["a"],"created_at":"1970-01-01T00:00:00.000Z",)"
            R"("updated_at":"1970-01-01T00:00:01.000Z"},"version":4,)"
            R"("stats":{"document_count":0,"chunk_count":0},)"
            R"("index_status":{"type":"hnsw","state":"ready","indexed_chunks":3,"pending_chunks":0}})");
}

TEST_F(ApiTest, BodyErrors) {
  open();
  HttpResponse r = call("POST", "/v1/libraries", "{}", "text/plain");
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(problem_type(r), "urn:quiver:problem:unsupported_media_type");
  r = call("POST", "/v1/libraries", "{\"name\": }");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("at byte 9"), std::string::npos) << r.body;
  EXPECT_EQ(first_error_field(r), "");
  r = call("POST", "/v1/libraries", "[1]");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(first_error_field(r), "");
  r = call("POST", "/v1/libraries", R"({"name":"x","colour":1})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(first_error_field(r), "colour");
  r = call("POST", "/v1/libraries", std::string(70, '[') + std::string(70, ']'));
  EXPECT_EQ(r.status, 400);
}

TEST_F(ApiTest, IfMatchForms) {
  open();
  for (const char* v : {"\"3\"", "3", "W/\"3\"", " 3 "}) {
    db_.last_if_match.reset();
    EXPECT_EQ(call("DELETE", "/v1/libraries/x", "", "", v).status, 204) << v;
    EXPECT_EQ(db_.last_if_match, IfMatch(3)) << v;
  }
  db_.last_if_match = 9;
  EXPECT_EQ(call("DELETE", "/v1/libraries/x", "", "", "*").status, 204);
  EXPECT_FALSE(db_.last_if_match.has_value());
  for (const char* v : {"abc", "\"3", "", "\"-1\"", "1, 2"}) {
    HttpResponse r = call("PATCH", "/v1/libraries/x", "{}", "application/json", v);
    EXPECT_EQ(r.status, 400) << v;
    EXPECT_EQ(first_error_field(r), "If-Match") << v;
  }
  db_.next_error = Status::precondition_failed("stale");
  EXPECT_EQ(call("DELETE", "/v1/libraries/x", "", "", "\"1\"").status, 412);
}

TEST_F(ApiTest, PaginationParams) {
  open();
  EXPECT_EQ(call("GET", "/v1/libraries?limit=5&cursor=abc&unknown=1").status, 200);
  EXPECT_EQ(db_.last_page.limit, 5u);
  EXPECT_EQ(db_.last_page.cursor, "abc");
  EXPECT_EQ(call("GET", "/v1/libraries").status, 200);
  EXPECT_EQ(db_.last_page.limit, 100u);
  HttpResponse r = call("GET", "/v1/libraries?limit=abc");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(first_error_field(r), "limit");
  for (const char* l : {"0", "1001", "-1"}) {
    r = call("GET", std::string("/v1/libraries/x/documents?limit=") + l);
    EXPECT_EQ(r.status, 422) << l;
    EXPECT_EQ(first_error_field(r), "limit");
  }
  db_.next_error = Status::malformed("bad cursor");
  r = call("GET", "/v1/libraries/x/documents/y/chunks?cursor=zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(first_error_field(r), "cursor");
}

TEST_F(ApiTest, PercentDecodedIdsReachTheEngine) {
  open();
  EXPECT_EQ(call("GET", "/v1/libraries/a%3Ab/documents/d%20x").status, 200);
  EXPECT_EQ(db_.last_library_id, "a:b");
  EXPECT_EQ(db_.last_other_id, "d x");
}

TEST_F(ApiTest, ChunkEmbeddingOnlyWhenAsked) {
  open();
  HttpResponse r = call("GET", "/v1/libraries/l/chunks/c1?include=embedding");
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(db_.last_with_embedding);
  EXPECT_NE(r.body.find(R"("embedding":[0.1,-0.25])"), std::string::npos) << r.body;
  EXPECT_EQ(header(r, "ETag"), "\"2\"");
  r = call("GET", "/v1/libraries/l/chunks/c1");
  EXPECT_FALSE(db_.last_with_embedding);
  EXPECT_EQ(r.body.find("embedding"), std::string::npos);
  r = call("POST", "/v1/libraries/l/documents/d/chunks", R"({"chunks":[{"text":"a"},{"text":"b"}]})");
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.body.find("embedding"), std::string::npos);
  EXPECT_EQ(r.body.rfind(R"({"chunks":[{"id":"c1")", 0), 0u) << r.body;
}

TEST_F(ApiTest, SearchEncodesScoresShortest) {
  open();
  HttpResponse r = call("POST", "/v1/libraries/l/search", R"({"vector":[0.1,0.2],"k":3})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(db_.last_search.k, 3u);
  EXPECT_EQ(r.body,
            R"({"results":[{"chunk_id":"c1","document_id":"d1","score":0.1,"text":"t"}],)"
            R"("index":"hnsw","exact":false})");
}

TEST_F(ApiTest, IndexRoutes) {
  open();
  EXPECT_EQ(call("POST", "/v1/libraries/l/index").status, 202);
  EXPECT_EQ(call("POST", "/v1/libraries/l/index?wait=true", R"({"type":"flat"})").status, 200);
  EXPECT_EQ(call("POST", "/v1/libraries/l/index?wait=maybe").status, 400);
  HttpResponse r = call("GET", "/v1/libraries/l/index");
  EXPECT_EQ(r.body, R"({"type":"hnsw","state":"ready","indexed_chunks":3,"pending_chunks":0,"params":{"m":16}})");
}

TEST_F(ApiTest, EngineErrorsBecomeProblems) {
  open();
  db_.next_error = Status::not_found("library 'x' does not exist");
  HttpResponse r = call("GET", "/v1/libraries/x");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(problem_type(r), "urn:quiver:problem:not_found");
  db_.next_error = Status::already_exists("dup", {{"name", "taken"}});
  r = call("POST", "/v1/libraries", R"({"name":"x"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(first_error_field(r), "name");
}

}  // namespace
}  // namespace quiver::api
