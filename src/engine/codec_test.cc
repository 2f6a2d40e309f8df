#include "engine/codec.h"

#include <cstring>

#include <gtest/gtest.h>

namespace quiver::engine::codec {
namespace {

Metadata sample_metadata() {
  Metadata m;
  m["owner"] = std::string("ana");
  m["page"] = int64_t{-42};
  m["ratio"] = 0.25;
  m["flag"] = true;
  m["tags"] = StringList{"a", "", "long tag"};
  return m;
}

LibraryRecord sample_library() {
  LibraryRecord r;
  r.library.id = "lib-1";
  r.library.name = "books";
  r.library.description = "desc";
  r.library.dimension = 768;
  r.library.metric = Metric::kDot;
  r.library.index.type = "hnsw";
  r.library.index.params = {{"m", 16}, {"seed", -3}};
  EmbedderConfig e;
  e.provider = "hash";
  e.model = "m";
  e.dimension = 768;
  e.api_key_env = "KEY";
  r.library.embedder = e;
  r.library.metadata = sample_metadata();
  r.library.created_at = 1700000000123;
  r.library.updated_at = 1700000000456;
  r.library.version = 7;
  r.seq = 99;
  return r;
}

TEST(Codec, LibraryRoundTrip) {
  const LibraryRecord r = sample_library();
  LibraryRecord back;
  ASSERT_TRUE(decode_library(encode_library(r), back).is_ok());
  const Library& a = r.library;
  const Library& b = back.library;
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.dimension, b.dimension);
  EXPECT_EQ(a.metric, b.metric);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.embedder, b.embedder);
  EXPECT_EQ(a.metadata, b.metadata);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(r.seq, back.seq);
}

TEST(Codec, DocumentRoundTrip) {
  DocumentRecord r;
  r.document.id = "d";
  r.document.title = std::nullopt;
  r.document.metadata = sample_metadata();
  r.document.created_at = -5;  // negative timestamps survive zig-zag
  r.document.updated_at = 3;
  r.document.version = 2;
  r.document.chunk_count = 1000;
  r.seq = 1ull << 40;
  DocumentRecord back;
  ASSERT_TRUE(decode_document(encode_document(r), "lib", back).is_ok());
  EXPECT_EQ(back.document.id, "d");
  EXPECT_EQ(back.document.library_id, "lib");
  EXPECT_FALSE(back.document.title.has_value());
  EXPECT_EQ(back.document.metadata, r.document.metadata);
  EXPECT_EQ(back.document.created_at, -5);
  EXPECT_EQ(back.document.chunk_count, 1000u);
  EXPECT_EQ(back.seq, r.seq);
}

TEST(Codec, ChunkRoundTripKeepsEmbeddingBitExact) {
  ChunkRecord r;
  r.chunk.id = "c";
  r.chunk.document_id = "d";
  r.chunk.text = std::string("with\0nul", 8);
  r.chunk.metadata["position"] = int64_t{3};
  r.chunk.version = 4;
  r.position = 3;
  r.seq = 12345;
  const std::vector<float> v = {1.5f, -0.0f, 3.4e38f, 1e-45f};
  r.embedding_bytes = float_bytes(v);
  const std::string bytes = encode_chunk(r);
  ChunkRecord back;
  ASSERT_TRUE(decode_chunk(bytes, "lib", back).is_ok());
  EXPECT_EQ(back.chunk.text, r.chunk.text);
  EXPECT_EQ(back.chunk.metadata, r.chunk.metadata);
  EXPECT_EQ(back.position, 3u);
  EXPECT_EQ(back.seq, 12345u);
  ASSERT_EQ(back.dimension(), 4u);
  const auto f = back.embedding_floats();
  EXPECT_EQ(0, std::memcmp(f.data(), v.data(), 16));
}

TEST(Codec, EveryTruncationIsCorruption) {
  const std::string full = encode_library(sample_library());
  for (std::size_t n = 0; n < full.size(); ++n) {
    LibraryRecord back;
    const Status s = decode_library(std::string_view(full).substr(0, n), back);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "prefix of " << n << " bytes";
  }
}

TEST(Codec, TrailingBytesUnknownFormatAndBadTagsAreCorruption) {
  std::string full = encode_library(sample_library());
  LibraryRecord back;
  EXPECT_EQ(decode_library(full + "x", back).code(), StatusCode::kCorruption);
  std::string other = full;
  other[0] = 2;  // unknown format version
  EXPECT_EQ(decode_library(other, back).code(), StatusCode::kCorruption);

  DocumentRecord d;
  d.document.id = "d";
  d.document.metadata["k"] = std::string("v");
  std::string doc = encode_document(d);
  // Layout: fmt, id(2), title flag, count, name(2), TAG...
  const std::size_t tag_at = 1 + 2 + 1 + 1 + 2;
  ASSERT_EQ(doc[tag_at], 0);
  doc[tag_at] = 9;
  DocumentRecord dback;
  EXPECT_EQ(decode_document(doc, "l", dback).code(), StatusCode::kCorruption);
  // A huge length prefix must not allocate or read past the end.
  std::string huge = "\x01\xff\xff\xff\xff\xff\xff\xff\xff\x7f";
  EXPECT_EQ(decode_document(huge, "l", dback).code(), StatusCode::kCorruption);
}

TEST(Codec, RandomBytesNeverCrashAndFail) {
  uint32_t x = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const int len = i % 64;
    for (int j = 0; j < len; ++j) {
      x = x * 1664525u + 1013904223u;
      s.push_back(static_cast<char>(x >> 24));
    }
    s.insert(s.begin(), '\x01');
    ChunkRecord c;
    LibraryRecord l;
    // Either rejected, or (rarely) a valid record; never a crash or over-read (ASan).
    (void)decode_chunk(s, "l", c);
    (void)decode_library(s, l);
  }
}

TEST(Codec, KeysSortNumerically) {
  EXPECT_LT(library_order_key(255), library_order_key(256));
  EXPECT_LT(document_order_key("a", 1), document_order_key("a", 1ull << 32));
  EXPECT_LT(chunk_order_key("l", "d", 2, 100), chunk_order_key("l", "d", 10, 1));
  EXPECT_LT(chunk_order_key("l", "d", 2, 1), chunk_order_key("l", "d", 2, 2));
  EXPECT_EQ(get_be64(library_order_key(0x0102030405060708ull)), 0x0102030405060708ull);
  EXPECT_EQ(chunk_order_key("l", "d", 0, 0).size(), 4 + 17u);
}

TEST(Codec, Base64Url) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\0\xff\xfe\x01", 4)}) {
    const std::string e = base64url_encode(s);
    EXPECT_EQ(e.find_first_of("+/="), std::string::npos);
    auto d = base64url_decode(e);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_FALSE(base64url_decode("a").has_value());
  EXPECT_FALSE(base64url_decode("ab+/").has_value());
  EXPECT_FALSE(base64url_decode("Zh").has_value());  // non-canonical trailing bits
  EXPECT_TRUE(base64url_decode("Zg").has_value());
}

}  // namespace
}  // namespace quiver::engine::codec
