#include "api/decoders.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "api/json_reader.h"

namespace quiver::api {
namespace {

simdjson::dom::element parse(const std::string& s) {
  auto r = parse_json(s);
  EXPECT_TRUE(r.is_ok()) << s;
  return *r;
}

// "field: message" pairs of a failed decode, for compact assertions.
std::vector<std::string> fields_of(const Status& s) {
  std::vector<std::string> out;
  for (const FieldError& e : s.field_errors()) out.push_back(e.field + ": " + e.message);
  return out;
}

bool has_field(const Status& s, const std::string& field, const std::string& message_part = "") {
  for (const FieldError& e : s.field_errors()) {
    if (e.field == field && e.message.find(message_part) != std::string::npos) return true;
  }
  return false;
}

TEST(DecodeLibraryCreate, FullBody) {
  auto r = decode_library_create(parse(R"({
    "id": "lib-1", "name": "docs", "description": "d", "dimension": 3, "metric": "l2",
    "index": {"type": "hnsw", "params": {"m": 32}},
    "embedder": {"provider": "hash", "model": "", "dimension": 3, "base_url": null},
    "metadata": {"tags": ["a", "b"], "owner": "me", "n": 5, "x": 1.5, "ok": true}})"));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(*r->id, "lib-1");
  EXPECT_EQ(r->name, "docs");
  EXPECT_EQ(*r->description, "d");
  EXPECT_EQ(*r->dimension, 3u);
  EXPECT_EQ(*r->metric, engine::Metric::kL2);
  EXPECT_EQ(r->index->type, "hnsw");
  EXPECT_EQ(r->index->params.at("m"), 32);
  EXPECT_EQ(r->embedder->provider, "hash");
  EXPECT_FALSE(r->embedder->base_url.has_value());
  EXPECT_EQ(std::get<engine::StringList>(r->metadata.at("tags")),
            (engine::StringList{"a", "b"}));
  EXPECT_EQ(std::get<std::string>(r->metadata.at("owner")), "me");
  EXPECT_EQ(std::get<int64_t>(r->metadata.at("n")), 5);
  EXPECT_EQ(std::get<double>(r->metadata.at("x")), 1.5);
  EXPECT_EQ(std::get<bool>(r->metadata.at("ok")), true);
}

TEST(DecodeLibraryCreate, CollectsAllErrorsWithPaths) {
  auto r = decode_library_create(parse(R"({
    "colour": 1, "dimension": "3", "metric": "hamming",
    "index": {"type": 5, "params": {"m": 1.5}, "extra": true},
    "metadata": {"tags": ["a", 2], "nested": {"x": 1}, "created_at": "now", "big": 1e2}})"));
  ASSERT_FALSE(r.is_ok());
  const Status s = r.status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(has_field(s, "colour", "unknown field"));
  EXPECT_TRUE(has_field(s, "name", "required"));
  EXPECT_TRUE(has_field(s, "dimension", "expected an integer"));
  EXPECT_TRUE(has_field(s, "metric", "one of"));
  EXPECT_TRUE(has_field(s, "index.type", "expected a string"));
  EXPECT_TRUE(has_field(s, "index.params.m", "expected an integer"));
  EXPECT_TRUE(has_field(s, "index.extra", "unknown field"));
  EXPECT_TRUE(has_field(s, "metadata.tags[1]", "expected a string"));
  EXPECT_TRUE(has_field(s, "metadata.nested", "object"));
  EXPECT_TRUE(has_field(s, "metadata.created_at", "server"));
  EXPECT_EQ(s.field_errors().size(), 10u) << ::testing::PrintToString(fields_of(s));
}

TEST(DecodeLibraryCreate, NumberMappingFollowsLiteralForm) {
  auto r = decode_library_create(
      parse(R"({"name":"n","metadata":{"a":3,"b":3.0,"c":1e2,"d":-7,"e":[]}})"));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(std::get<int64_t>(r->metadata.at("a")), 3);
  EXPECT_EQ(std::get<double>(r->metadata.at("b")), 3.0);
  EXPECT_EQ(std::get<double>(r->metadata.at("c")), 100.0);
  EXPECT_EQ(std::get<int64_t>(r->metadata.at("d")), -7);
  EXPECT_TRUE(std::get<engine::StringList>(r->metadata.at("e")).empty());
}

TEST(DecodeLibraryCreate, NullsInsideArraysAndTopLevelRejected) {
  auto r = decode_library_create(parse(R"({"name":"n","metadata":{"t":["a",null],"u":null}})"));
  ASSERT_FALSE(r.is_ok());
  EXPECT_TRUE(has_field(r.status(), "metadata.t[1]"));
  EXPECT_TRUE(has_field(r.status(), "metadata.u"));
}

TEST(DecodeBodies, NonObjectBodyIsFieldEmpty) {
  for (const char* body : {"[]", "3", "\"x\"", "null"}) {
    auto r = decode_search(parse(body));
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    ASSERT_EQ(r.status().field_errors().size(), 1u);
    EXPECT_EQ(r.status().field_errors()[0].field, "");
  }
}

TEST(DecodeChunks, EmbeddingsAndPaths) {
  auto r = decode_chunks_create(parse(R"({"chunks":[
      {"text":"a","embedding":[0.1, 2, -3e-2],"metadata":{"page":1}},
      {"text":"b","embedding":[1,"x",3],"colour":"red"},
      {"embedding":[1e39]}]})"));
  ASSERT_FALSE(r.is_ok());
  const Status s = r.status();
  EXPECT_TRUE(has_field(s, "chunks[1].embedding[1]", "expected a number, got a string"));
  EXPECT_TRUE(has_field(s, "chunks[1].colour", "unknown field"));
  EXPECT_TRUE(has_field(s, "chunks[2].text", "required"));
  EXPECT_TRUE(has_field(s, "chunks[2].embedding[0]", "finite"));
  EXPECT_EQ(s.field_errors().size(), 4u) << ::testing::PrintToString(fields_of(s));

  auto ok = decode_chunks_create(parse(R"({"chunks":[{"text":"a","embedding":[0.1,2,-0.03]}]})"));
  ASSERT_TRUE(ok.is_ok());
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ(*(*ok)[0].embedding, (std::vector<float>{0.1f, 2.0f, -0.03f}));
}

TEST(DecodeChunks, RequiresNonEmptyList) {
  EXPECT_TRUE(has_field(decode_chunks_create(parse("{}")).status(), "chunks", "required"));
  EXPECT_TRUE(has_field(decode_chunks_create(parse(R"({"chunks":[]})")).status(), "chunks"));
  EXPECT_TRUE(has_field(decode_chunks_create(parse(R"({"chunks":{}})")).status(), "chunks",
                        "expected an array"));
}

TEST(DecodeChunks, ErrorCountIsCapped) {
  std::string body = R"({"chunks":[{"text":"a","embedding":[)";
  for (int i = 0; i < 5000; ++i) body += (i ? ",\"x\"" : "\"x\"");
  body += "]}]}";
  auto r = decode_chunks_create(parse(body));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().field_errors().size(), kMaxFieldErrors);
}

TEST(DecodeDocument, CreateWithChunksAndPatchNulls) {
  auto r = decode_document_create(parse(
      R"({"id":"d1","title":"T","metadata":{"source":"u"},"chunks":[{"text":"x","embedding":[1]}]})"));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r->title, "T");
  EXPECT_EQ(r->chunks.size(), 1u);

  auto p = decode_document_patch(parse(R"({"title":null,"metadata":{"author":null,"tags":["x"]}})"));
  ASSERT_TRUE(p.is_ok());
  ASSERT_TRUE(p->title.has_value());
  EXPECT_FALSE(p->title->has_value());  // clear
  EXPECT_FALSE(p->metadata->at("author").has_value());  // remove
  EXPECT_TRUE(p->metadata->at("tags").has_value());

  auto bad = decode_document_patch(parse(R"({"metadata":{"updated_at":"x"},"chunks":[]})"));
  EXPECT_TRUE(has_field(bad.status(), "metadata.updated_at"));
  EXPECT_TRUE(has_field(bad.status(), "chunks", "unknown field"));
}

TEST(DecodeSearch, DefaultsAndIncludes) {
  auto r = decode_search(parse(R"({"vector":[1,0]})"));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->k, 10u);
  EXPECT_TRUE(r->include_text);
  EXPECT_TRUE(r->include_metadata);
  EXPECT_FALSE(r->include_embedding);

  auto r2 = decode_search(parse(
      R"({"vector":[1,0],"k":3,"include":["embedding"],"params":{"ef":99,"exact":true},"filter":{}})"));
  ASSERT_TRUE(r2.is_ok()) << r2.status().to_string();
  EXPECT_EQ(r2->k, 3u);
  EXPECT_FALSE(r2->include_text);
  EXPECT_TRUE(r2->include_embedding);
  EXPECT_EQ(*r2->params.ef, 99u);
  EXPECT_TRUE(r2->exact);
}

TEST(DecodeSearch, Errors) {
  auto r = decode_search(parse(
      R"({"k":"10","include":["txt"],"params":{"ef":-1,"probe":1},"filter":{"a":1}})"));
  ASSERT_FALSE(r.is_ok());
  const Status s = r.status();
  EXPECT_TRUE(has_field(s, "k", "expected an integer"));
  EXPECT_TRUE(has_field(s, "vector", "required"));
  EXPECT_TRUE(has_field(s, "include[0]"));
  EXPECT_TRUE(has_field(s, "params.ef"));
  EXPECT_TRUE(has_field(s, "params.probe", "unknown field"));
  EXPECT_TRUE(has_field(s, "filter"));
  EXPECT_TRUE(has_field(decode_search(parse(R"({"vector":[1],"k":0})")).status(), "k"));
  EXPECT_TRUE(has_field(decode_search(parse(R"({"vector":[1],"k":1001})")).status(), "k"));
  EXPECT_TRUE(has_field(decode_search(parse(R"({"vector":[1],"text":"x"})")).status(), "text"));
}

TEST(DecodeIndexRebuild, EmptyMeansCurrentConfig) {
  auto r = decode_index_rebuild(parse("{}"));
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
  auto r2 = decode_index_rebuild(parse(R"({"type":"flat"})"));
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ((*r2)->type, "flat");
  EXPECT_TRUE(has_field(decode_index_rebuild(parse(R"({"params":{}})")).status(), "type",
                        "required"));
}

TEST(DecodePatches, LibraryAndChunk) {
  auto l = decode_library_patch(parse(R"({"description":null,"name":"x","metadata":{"owner":null}})"));
  ASSERT_TRUE(l.is_ok());
  EXPECT_FALSE(l->description->has_value());
  EXPECT_EQ(*l->name, "x");
  auto bad = decode_library_patch(parse(R"({"id":"x"})"));
  EXPECT_TRUE(has_field(bad.status(), "id", "unknown field"));

  auto c = decode_chunk_patch(parse(R"({"text":"t","embedding":[0.5]})"));
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(*c->embedding, std::vector<float>{0.5f});
  EXPECT_TRUE(has_field(decode_chunk_patch(parse(R"({"embedding":[true]})")).status(),
                        "embedding[0]"));
}

}  // namespace
}  // namespace quiver::api
