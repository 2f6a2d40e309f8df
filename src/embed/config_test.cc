#include <gtest/gtest.h>

#include <string>

#include "embed/embedder.h"
#include "embed/remote_embedder.h"

namespace quiver::embed {
namespace {

EmbedderConfig hash_cfg(uint32_t dim = 16) {
  return EmbedderConfig{.provider = "hash", .model = "", .dimension = dim};
}

EmbedderConfig openai_cfg() {
  return EmbedderConfig{.provider = "openai", .model = "text-embedding-3-small",
                        .dimension = 1536, .base_url = std::nullopt,
                        .api_key_env = std::string("OPENAI_API_KEY")};
}

bool names_field(const Status& s, const std::string& field) {
  for (const FieldError& e : s.field_errors()) {
    if (e.field == field) return true;
  }
  return false;
}

TEST(ValidateConfig, AcceptsGoodConfigs) {
  EXPECT_TRUE(validate_config(hash_cfg(), "embedder").is_ok());
  EXPECT_TRUE(validate_config(hash_cfg(1), "embedder").is_ok());
  EXPECT_TRUE(validate_config(hash_cfg(16384), "embedder").is_ok());
  EXPECT_TRUE(validate_config(openai_cfg(), "embedder").is_ok());
  EmbedderConfig ollama{.provider = "openai", .model = "nomic-embed-text", .dimension = 768,
                        .base_url = std::string("http://localhost:11434")};
  EXPECT_TRUE(validate_config(ollama, "embedder").is_ok());
  EmbedderConfig cohere{.provider = "cohere", .model = "embed-english-v3.0", .dimension = 1024,
                        .api_key_env = std::string("_X9")};
  EXPECT_TRUE(validate_config(cohere, "embedder").is_ok());
}

TEST(ValidateConfig, NamesEachBadField) {
  auto expect_bad = [](const EmbedderConfig& cfg, const std::string& field) {
    const Status s = validate_config(cfg, "embedder");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << field;
    EXPECT_TRUE(names_field(s, field)) << s.to_string();
  };
  EmbedderConfig c = hash_cfg();
  c.provider = "word2vec";
  expect_bad(c, "embedder.provider");
  c = hash_cfg();
  c.provider = "";
  expect_bad(c, "embedder.provider");
  expect_bad(hash_cfg(0), "embedder.dimension");
  expect_bad(hash_cfg(16385), "embedder.dimension");
  c = openai_cfg();
  c.model = "";
  expect_bad(c, "embedder.model");
  c = openai_cfg();
  c.provider = "cohere";
  c.model = "";
  expect_bad(c, "embedder.model");
  for (const char* url : {"ftp://x", "localhost:11434", "", "http://a b", "http://x/?q=1"}) {
    c = openai_cfg();
    c.base_url = url;
    expect_bad(c, "embedder.base_url");
  }
  c = openai_cfg();
  c.base_url = "https://" + std::string(2040, 'a');  // 2048 bytes: one too many
  expect_bad(c, "embedder.base_url");
  c.base_url = "https://" + std::string(2039, 'a');  // 2047 bytes: fine
  EXPECT_TRUE(validate_config(c, "embedder").is_ok());
  for (const char* env : {"", "1ABC", "sk-live-123", "A B", "A-B"}) {
    c = openai_cfg();
    c.api_key_env = env;
    expect_bad(c, "embedder.api_key_env");
  }
  c = openai_cfg();
  c.api_key_env = std::string(128, 'A');
  EXPECT_TRUE(validate_config(c, "embedder").is_ok());
  c.api_key_env = std::string(129, 'A');
  expect_bad(c, "embedder.api_key_env");
}

TEST(ValidateConfig, ReportsEveryErrorUnderThePrefix) {
  EmbedderConfig c{.provider = "nope", .model = "", .dimension = 0,
                   .base_url = std::string("gopher://x"), .api_key_env = std::string("9")};
  const Status s = validate_config(c, "libraries[0].embedder");
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field_errors().size(), 4u);
  for (const char* f : {"provider", "dimension", "base_url", "api_key_env"}) {
    EXPECT_TRUE(names_field(s, std::string("libraries[0].embedder.") + f)) << f;
  }
}

TEST(MakeEmbedder, BuildsEachProviderAndRejectsInvalidConfigs) {
  auto h = make_embedder(hash_cfg(8));
  ASSERT_TRUE(h.is_ok());
  EXPECT_EQ((*h)->config().dimension, 8u);
  auto v = (*h)->embed({"x"}, InputType::kQuery);
  ASSERT_TRUE(v.is_ok());
  EXPECT_EQ((*v)[0].size(), 8u);

  auto o = make_embedder(openai_cfg());
  ASSERT_TRUE(o.is_ok());
  EXPECT_EQ((*o)->config(), openai_cfg());

  auto bad = make_embedder(hash_cfg(0));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(RemoteEmbedder, EndpointUrls) {
  EmbedderConfig c = openai_cfg();
  EXPECT_EQ(RemoteEmbedder(c, ApiFlavor::kOpenAI).url(), "https://api.openai.com/v1/embeddings");
  for (const char* base : {"http://localhost:11434", "http://localhost:11434/",
                           "http://localhost:11434/v1", "http://localhost:11434/v1/"}) {
    c.base_url = base;
    EXPECT_EQ(RemoteEmbedder(c, ApiFlavor::kOpenAI).url(), "http://localhost:11434/v1/embeddings")
        << base;
  }
  c.base_url = "http://h/prefix/xv1";
  EXPECT_EQ(RemoteEmbedder(c, ApiFlavor::kOpenAI).url(), "http://h/prefix/xv1/v1/embeddings");
  c.base_url.reset();
  c.provider = "cohere";
  EXPECT_EQ(RemoteEmbedder(c, ApiFlavor::kCohere).url(), "https://api.cohere.com/v2/embed");
}

TEST(RemoteEmbedder, RequestBodies) {
  EmbedderConfig c{.provider = "openai", .model = "m\"x", .dimension = 4};
  EXPECT_EQ(openai_request_body(c, {"a", "b\n", "c"}, 1, 3),
            "{\"model\":\"m\\\"x\",\"input\":[\"b\\n\",\"c\"]}");
  c.model = "text-embedding-3-large";
  EXPECT_EQ(openai_request_body(c, {"a"}, 0, 1),
            "{\"model\":\"text-embedding-3-large\",\"input\":[\"a\"],\"dimensions\":4}");
  c.provider = "cohere";
  c.model = "embed-v4.0";
  EXPECT_EQ(cohere_request_body(c, {"q"}, 0, 1, InputType::kQuery),
            "{\"model\":\"embed-v4.0\",\"texts\":[\"q\"],\"input_type\":\"search_query\","
            "\"embedding_types\":[\"float\"]}");
}

TEST(RemoteEmbedder, ParsesAndChecksResponses) {
  std::vector<std::vector<float>> out;
  ASSERT_TRUE(parse_openai_response(
                  R"({"data":[{"index":1,"embedding":[3,4]},{"index":0,"embedding":[1,2.5]}]})",
                  2, 2, "openai", &out)
                  .is_ok());
  EXPECT_EQ(out, (std::vector<std::vector<float>>{{1, 2.5f}, {3, 4}}));

  auto err = [](const Status& s) {
    EXPECT_EQ(s.code(), StatusCode::kUpstreamError);
    EXPECT_NE(s.message().find("openai"), std::string::npos) << s.message();
    return s.message();
  };
  out.clear();
  EXPECT_NE(err(parse_openai_response(R"({"data":[{"index":0,"embedding":[1,2,3]}]})", 1, 2,
                                      "openai", &out))
                .find("expected 2"),
            std::string::npos);
  err(parse_openai_response(R"({"data":[{"index":0,"embedding":[1,1e39]}]})", 1, 2, "openai",
                            &out));
  err(parse_openai_response(R"({"data":[{"index":0,"embedding":[1,"x"]}]})", 1, 2, "openai",
                            &out));
  err(parse_openai_response(R"({"data":[{"index":0,"embedding":[1,2]}]})", 2, 2, "openai", &out));
  err(parse_openai_response(
          R"({"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[1,2]}]})", 2, 2,
          "openai", &out));
  err(parse_openai_response(R"({"data":[{"index":5,"embedding":[1,2]}]})", 1, 2, "openai", &out));
  err(parse_openai_response("not json", 1, 2, "openai", &out));
  err(parse_openai_response(R"({"error":"x"})", 1, 2, "openai", &out));
  EXPECT_TRUE(out.empty());  // nothing appended on failure

  ASSERT_TRUE(parse_cohere_response(R"({"embeddings":{"float":[[1,2],[3,4]]}})", 2, 2, "cohere",
                                    &out)
                  .is_ok());
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(parse_cohere_response(R"({"embeddings":{"float":[[1,2]]}})", 2, 2, "cohere", &out)
                .code(),
            StatusCode::kUpstreamError);
  EXPECT_EQ(parse_cohere_response(R"({"embeddings":[[1,2]]})", 1, 2, "cohere", &out).code(),
            StatusCode::kUpstreamError);
}

}  // namespace
}  // namespace quiver::embed
