#include "embed/hash_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "embed/json_text.h"

namespace quiver::embed {
namespace {

std::vector<float> embed1(std::string_view text, uint32_t dim) {
  std::vector<float> v;
  hash_embed_text(text, dim, &v);
  return v;
}

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += static_cast<double>(x) * x;
  return std::sqrt(s);
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return dot / (norm(a) * norm(b));
}

// Golden values computed once by an independent Python transcription of the algorithm
// (FNV-1a 64 + finalizer; unigram 1.0 / bigram 0.7 / trigram 0.25). If these change, every
// stored hash vector in every deployment silently stops matching new queries: bump the model
// name instead of editing the numbers.
TEST(HashEmbedder, StableHashGoldenValues) {
  EXPECT_EQ(stable_hash64(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(stable_hash64("quiver"), 0xfa7c9ad7702cb9c3ULL);
  EXPECT_EQ(stable_hash64("hello world"), 0x7c6d8c019b6ee5d5ULL);
}

TEST(HashEmbedder, VectorGoldenValuesAcrossBuilds) {
  const std::vector<double> want16 = {
      0.0, 0.10864432043411393, 0.0, 0.3259329613023418, -0.3259329613023418,
      0.1303731897015016, 0.0, 0.0, -0.5432216021705696, -0.10864432043411393,
      -0.3042040920349541, -0.4345772817364557, 0.0, -0.412848412469068, 0.0, 0.0};
  const std::vector<float> got16 = embed1("The quick brown fox", 16);
  ASSERT_EQ(got16.size(), want16.size());
  for (size_t i = 0; i < want16.size(); ++i) EXPECT_NEAR(got16[i], want16[i], 1e-6) << i;

  // Non-ASCII words: UTF-8 bytes are word characters, trigrams are per code point.
  const std::vector<double> want8 = {0.20910620101319355, -0.7109611033867794,
                                     0.10455310050659677, -0.18819557592639388,
                                     -0.6273186030395806, 0.0, 0.0, -0.10455310050659677};
  const std::vector<float> got8 = embed1("Caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9", 8);
  for (size_t i = 0; i < want8.size(); ++i) EXPECT_NEAR(got8[i], want8[i], 1e-6) << i;
}

TEST(HashEmbedder, DeterministicAcrossCallsAndInstances) {
  EmbedderConfig cfg{.provider = "hash", .model = "", .dimension = 64};
  HashEmbedder a(cfg), b(cfg);
  const std::vector<std::string> texts = {"alpha beta", "gamma", "", "alpha beta"};
  auto ra = a.embed(texts, InputType::kDocument);
  auto rb = b.embed(texts, InputType::kQuery);
  ASSERT_TRUE(ra.is_ok());
  ASSERT_TRUE(rb.is_ok());
  ASSERT_EQ(ra->size(), 4u);
  EXPECT_EQ(*ra, *rb);
  EXPECT_EQ((*ra)[0], (*ra)[3]);
  EXPECT_NE((*ra)[0], (*ra)[1]);
}

TEST(HashEmbedder, UnitNormAndDimensionRespected) {
  for (uint32_t dim : {1u, 2u, 7u, 64u, 384u, 16384u}) {
    for (const char* text : {"a", "hello world", "The quick brown fox jumps over the lazy dog",
                             "x y z 1 2 3", "", "   "}) {
      const std::vector<float> v = embed1(text, dim);
      ASSERT_EQ(v.size(), dim);
      EXPECT_NEAR(norm(v), 1.0, 1e-5) << "dim " << dim << " text '" << text << "'";
    }
  }
}

TEST(HashEmbedder, EmptyAfterNormalizationIsTheFixedUniformVector) {
  const uint32_t dim = 50;
  const float c = 1.0f / std::sqrt(50.0f);
  for (const char* text : {"", " ", "\t\n  \r", "!!! ... ---", "\x01\x02"}) {
    const std::vector<float> v = embed1(text, dim);
    for (float x : v) EXPECT_FLOAT_EQ(x, c) << "text '" << text << "'";
  }
}

TEST(HashEmbedder, NormalizationIgnoresCaseAndPunctuation) {
  EXPECT_EQ(embed1("Hello, World!", 32), embed1("hello world", 32));
  EXPECT_EQ(embed1("  HELLO\tworld  ", 32), embed1("hello world", 32));
  EXPECT_NE(embed1("hello world", 32), embed1("world hello", 32));  // bigrams keep order
}

TEST(HashEmbedder, Tokenize) {
  EXPECT_EQ(hash_tokenize("Hello, WORLD-42!"), (std::vector<std::string>{"hello", "world", "42"}));
  EXPECT_EQ(hash_tokenize("caf\xC3\xA9!"), (std::vector<std::string>{"caf\xC3\xA9"}));
  EXPECT_EQ(hash_tokenize("a\xFF" "b c"), (std::vector<std::string>{"a\xFF" "b", "c"}));
  EXPECT_TRUE(hash_tokenize(" .,;\t").empty());
}

TEST(HashEmbedder, SharedWordsAreCloserThanUnrelatedTexts) {
  const uint32_t dim = 256;
  struct Case {
    const char* a;
    const char* near;
    const char* far;
  };
  const Case cases[] = {
      {"the cat sat on the mat", "a cat sat on a mat", "stock prices fell sharply today"},
      {"vector database with hnsw index", "building an hnsw index for a vector database",
       "chocolate cake recipe with butter"},
      {"indexes", "index", "banana"},  // shared trigrams
  };
  for (const Case& c : cases) {
    const auto a = embed1(c.a, dim);
    EXPECT_GT(cosine(a, embed1(c.near, dim)), cosine(a, embed1(c.far, dim)) + 0.1) << c.a;
  }
}

TEST(HashEmbedder, ArbitraryBytesAndInvalidUtf8AreHandled) {
  const std::string cases[] = {
      std::string("\xFF\xFE\xFD"), std::string("\xC3"), std::string("\x80\x80 abc \xBF"),
      std::string("\xED\xA0\x80"), std::string("a\0b", 3), std::string("\xF4\x90\x80\x80 z")};
  for (const std::string& s : cases) {
    const auto v = embed1(s, 32);
    ASSERT_EQ(v.size(), 32u);
    for (float x : v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_NEAR(norm(v), 1.0, 1e-5);
    EXPECT_EQ(v, embed1(s, 32));
  }
  std::mt19937 rng(7);
  for (int iter = 0; iter < 300; ++iter) {
    std::string s(rng() % 200, '\0');
    for (char& ch : s) ch = static_cast<char>(rng() & 0xFF);
    const auto v = embed1(s, 1 + rng() % 100);
    for (float x : v) ASSERT_TRUE(std::isfinite(x));
    EXPECT_NEAR(norm(v), 1.0, 1e-5);
  }
}

TEST(JsonText, EscapesAndRepairsUtf8) {
  std::string out;
  append_json_string(&out, std::string("a\"b\\c\n\t\x01\x7F", 10));
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\\u0000\"");
  out.clear();
  append_json_string(&out, "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(out, "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  out.clear();
  append_json_string(&out, "x\xFFy\xC3");
  EXPECT_EQ(out, "\"x\xEF\xBF\xBDy\xEF\xBF\xBD\"");
  out.clear();
  append_json_string(&out, "\xED\xA0\x80");  // a UTF-16 surrogate encoded as UTF-8
  EXPECT_TRUE(is_valid_utf8(out));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));  // overlong '/'
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
}

}  // namespace
}  // namespace quiver::embed
