#include "engine/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "embed/embedder.h"
#include "index/registry.h"

// Stand-ins for other modules' validators, compiled only while their library is not part of
// the build (validate.cmake decides). They follow the documented contracts of
// index/registry.h and embed/embedder.h closely enough for the field paths tested here.
#if defined(QUIVER_VALIDATE_FAKE_INDEX)
namespace quiver::index {
Result<IndexConfig> normalize_index_config(const IndexConfig& in, std::string_view prefix) {
  if (in.type != "flat" && in.type != "kdtree" && in.type != "hnsw" && in.type != "ivf") {
    return Status::invalid_field(std::string(prefix) + ".type", "unknown index type");
  }
  return in;
}
Status validate_search_params(const SearchParams& p, std::string_view prefix) {
  std::vector<FieldError> errors;
  if (p.ef && (*p.ef < 1 || *p.ef > 10000))
    errors.push_back({std::string(prefix) + ".ef", "range"});
  if (p.nprobe && (*p.nprobe < 1 || *p.nprobe > 65536)) {
    errors.push_back({std::string(prefix) + ".nprobe", "range"});
  }
  return errors.empty() ? Status::ok() : Status::invalid("params", std::move(errors));
}
}  // namespace quiver::index
#endif
#if defined(QUIVER_VALIDATE_FAKE_EMBED)
namespace quiver::embed {
Status validate_config(const EmbedderConfig& c, std::string_view prefix) {
  if (c.provider != "hash" && c.provider != "openai" && c.provider != "cohere") {
    return Status::invalid_field(std::string(prefix) + ".provider", "unknown provider");
  }
  if (c.dimension < 1 || c.dimension > 16384) {
    return Status::invalid_field(std::string(prefix) + ".dimension", "range");
  }
  return Status::ok();
}
}  // namespace quiver::embed
#endif

namespace quiver::engine {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> fields_of(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const FieldError& e : errors) out.push_back(e.field);
  return out;
}

// The message of the only error, or a failure naming all of them.
std::string only_message(const std::vector<FieldError>& errors) {
  EXPECT_EQ(errors.size(), 1u);
  return errors.empty() ? std::string() : errors[0].message;
}

EmbedderConfig hash_embedder(uint32_t dimension) {
  EmbedderConfig c;
  c.provider = "hash";
  c.dimension = dimension;
  return c;
}

Library library(uint32_t dimension, Metric metric = Metric::kCosine, bool embedder = false) {
  Library lib;
  lib.id = "lib";
  lib.name = "lib";
  lib.dimension = dimension;
  lib.metric = metric;
  if (embedder) lib.embedder = hash_embedder(dimension);
  return lib;
}

ChunkInput chunk(std::optional<std::string> id, std::vector<float> embedding) {
  ChunkInput c;
  c.id = std::move(id);
  c.text = "some text";
  c.embedding = std::move(embedding);
  return c;
}

// ---- libraries ----------------------------------------------------------------------------

LibraryCreate good_library() {
  LibraryCreate in;
  in.name = "papers-2026";
  in.dimension = 4;
  return in;
}

std::vector<FieldError> check(const LibraryCreate& in) {
  std::vector<FieldError> errors;
  validate_library_create(in, errors);
  return errors;
}

TEST(ValidateLibraryTest, ValidCreateHasNoErrors) {
  EXPECT_THAT(check(good_library()), IsEmpty());
  LibraryCreate full = good_library();
  full.id = "lib:1_a.b-c";
  full.description = std::string(kMaxStringFieldBytes, 'd');
  full.metric = Metric::kDot;
  full.index = IndexConfig{"hnsw", {}};
  full.embedder = hash_embedder(4);
  full.metadata = {{"owner", "ann"}, {"tags", StringList{"x"}}};
  EXPECT_THAT(check(full), IsEmpty());
  // The embedder alone gives the dimension.
  LibraryCreate by_embedder = good_library();
  by_embedder.dimension.reset();
  by_embedder.embedder = hash_embedder(384);
  EXPECT_THAT(check(by_embedder), IsEmpty());
}

TEST(ValidateLibraryTest, IdSyntax) {
  for (const std::string& bad :
       std::vector<std::string>{"", "has space", "slash/", std::string(kMaxIdLength + 1, 'a')}) {
    LibraryCreate in = good_library();
    in.id = bad;
    auto errors = check(in);
    ASSERT_THAT(fields_of(errors), ElementsAre("id")) << bad;
    EXPECT_EQ(errors[0].message, "must match ^[A-Za-z0-9_.:-]{1,128}$");
  }
  LibraryCreate in = good_library();
  in.id = std::string(kMaxIdLength, 'a');
  EXPECT_THAT(check(in), IsEmpty());
}

TEST(ValidateLibraryTest, NameSyntax) {
  LibraryCreate in = good_library();
  in.name = "";
  EXPECT_THAT(fields_of(check(in)), ElementsAre("name"));
  EXPECT_EQ(only_message(check(in)), "must not be empty");
  in.name = "a:b";  // ':' is allowed in ids, not in names
  EXPECT_THAT(fields_of(check(in)), ElementsAre("name"));
  in.name = std::string(kMaxNameLength + 1, 'n');
  EXPECT_THAT(fields_of(check(in)), ElementsAre("name"));
  in.name = std::string(kMaxNameLength, 'n');
  EXPECT_THAT(check(in), IsEmpty());
}

TEST(ValidateLibraryTest, DescriptionBound) {
  LibraryCreate in = good_library();
  in.description = std::string(kMaxStringFieldBytes + 1, 'd');
  auto errors = check(in);
  ASSERT_THAT(fields_of(errors), ElementsAre("description"));
  EXPECT_EQ(errors[0].message, "must be at most 4096 bytes, got 4097");
}

TEST(ValidateLibraryTest, DimensionRangeAndPresence) {
  LibraryCreate in = good_library();
  in.dimension = 0;
  EXPECT_EQ(only_message(check(in)), "must be between 1 and 16384, got 0");
  in.dimension = kMaxDimension + 1;
  EXPECT_THAT(fields_of(check(in)), ElementsAre("dimension"));
  in.dimension = kMaxDimension;
  EXPECT_THAT(check(in), IsEmpty());
  in.dimension = 1;
  EXPECT_THAT(check(in), IsEmpty());

  in.dimension.reset();
  auto errors = check(in);
  ASSERT_THAT(fields_of(errors), ElementsAre("dimension"));
  EXPECT_EQ(errors[0].message, "required unless an embedder gives it");
}

TEST(ValidateLibraryTest, DimensionMustAgreeWithEmbedder) {
  LibraryCreate in = good_library();
  in.dimension = 768;
  in.embedder = hash_embedder(384);
  auto errors = check(in);
  ASSERT_THAT(fields_of(errors), ElementsAre("dimension"));
  EXPECT_EQ(errors[0].message, "must equal embedder.dimension (384), got 768");
}

TEST(ValidateLibraryTest, IndexAndEmbedderErrorsAreMergedUnderTheirPrefix) {
  LibraryCreate in = good_library();
  in.index = IndexConfig{"btree", {}};
  EXPECT_THAT(fields_of(check(in)), ElementsAre("index.type"));

  in = good_library();
  in.dimension.reset();
  in.embedder = hash_embedder(8);
  in.embedder->provider = "no-such-provider";
  auto errors = check(in);
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].field, "embedder.provider");
}

TEST(ValidateLibraryTest, MetadataUsesTheLibrarySchema) {
  LibraryCreate in = good_library();
  in.metadata = {{"author", "x"}, {"owner", int64_t{3}}};
  EXPECT_THAT(fields_of(check(in)), ElementsAre("metadata.author", "metadata.owner"));
}

TEST(ValidateLibraryTest, EveryProblemIsReported) {
  LibraryCreate in;
  in.id = "bad id";
  in.name = "bad name";
  in.metadata = {{"created_at", "now"}};
  EXPECT_THAT(fields_of(check(in)), ElementsAre("id", "name", "dimension", "metadata.created_at"));
}

TEST(ValidateLibraryTest, Patch) {
  std::vector<FieldError> errors;
  validate_library_patch(LibraryPatch{}, errors);
  EXPECT_THAT(errors, IsEmpty());

  LibraryPatch ok;
  ok.name = "new-name";
  ok.description = std::optional<std::string>();  // clearing is fine
  ok.dimension = 16;
  ok.metric = Metric::kL2;
  ok.index = IndexConfig{"flat", {}};
  ok.metadata = MetadataPatch{{"owner", std::nullopt}, {"tags", StringList{"a"}}};
  validate_library_patch(ok, errors);
  EXPECT_THAT(errors, IsEmpty());

  LibraryPatch bad;
  bad.name = "no spaces";
  bad.description = std::optional<std::string>(std::string(kMaxStringFieldBytes + 1, 'x'));
  bad.dimension = 0;
  bad.index = IndexConfig{"nope", {}};
  bad.metadata = MetadataPatch{{"updated_at", std::nullopt}};
  validate_library_patch(bad, errors);
  EXPECT_THAT(fields_of(errors),
              ElementsAre("name", "description", "dimension", "index.type", "metadata.updated_at"));
}

// ---- vectors ------------------------------------------------------------------------------

std::vector<FieldError> check_vector(const std::vector<float>& v, const Library& lib) {
  std::vector<FieldError> errors;
  validate_vector(v, lib, "vector", errors);
  return errors;
}

TEST(ValidateVectorTest, Length) {
  auto errors = check_vector(std::vector<float>(767, 1.0f), library(768));
  ASSERT_THAT(fields_of(errors), ElementsAre("vector"));
  EXPECT_EQ(errors[0].message, "expected 768 numbers, got 767");
  EXPECT_THAT(check_vector(std::vector<float>(768, 1.0f), library(768)), IsEmpty());
  EXPECT_THAT(fields_of(check_vector({}, library(2))), ElementsAre("vector"));
}

TEST(ValidateVectorTest, FirstNonFiniteElementIsNamed) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    std::vector<float> v(32, 0.5f);
    v[17] = bad;
    v[20] = bad;
    auto errors = check_vector(v, library(32, Metric::kL2));
    ASSERT_THAT(fields_of(errors), ElementsAre("vector[17]"));
    EXPECT_EQ(errors[0].message, "must be a finite number");
  }
}

TEST(ValidateVectorTest, ZeroVectorOnlyMattersForCosine) {
  const std::vector<float> zero(8, 0.0f);
  auto errors = check_vector(zero, library(8, Metric::kCosine));
  ASSERT_THAT(fields_of(errors), ElementsAre("vector"));
  EXPECT_EQ(errors[0].message, "a zero vector has no direction under the cosine metric");
  EXPECT_THAT(check_vector(zero, library(8, Metric::kL2)), IsEmpty());
  EXPECT_THAT(check_vector(zero, library(8, Metric::kDot)), IsEmpty());
  std::vector<float> negative_zero(8, -0.0f);
  EXPECT_THAT(fields_of(check_vector(negative_zero, library(8))), ElementsAre("vector"));
  std::vector<float> one_hot(8, 0.0f);
  one_hot[7] = -1.0f;
  EXPECT_THAT(check_vector(one_hot, library(8)), IsEmpty());
}

TEST(ValidateVectorTest, MagnitudesThatBreakFloatArithmetic) {
  // Finite values whose squared length overflows float32 would give infinite scores.
  std::vector<float> huge(4, 3e19f);
  EXPECT_THAT(fields_of(check_vector(huge, library(4, Metric::kDot))), ElementsAre("vector"));
  // Values whose squares underflow leave a cosine vector without a usable norm.
  std::vector<float> tiny(4, 1e-30f);
  EXPECT_THAT(fields_of(check_vector(tiny, library(4, Metric::kCosine))), ElementsAre("vector"));
  EXPECT_THAT(check_vector(tiny, library(4, Metric::kL2)), IsEmpty());
  std::vector<float> large_ok(4, 1e18f);
  EXPECT_THAT(check_vector(large_ok, library(4, Metric::kCosine)), IsEmpty());
}

// ---- chunks -------------------------------------------------------------------------------

std::vector<FieldError> check_chunks(const std::vector<ChunkInput>& in, const Library& lib,
                                     ChunkCount count = ChunkCount::kOneOrMore) {
  std::vector<FieldError> errors;
  validate_chunk_inputs(in, lib, "chunks", errors, count);
  return errors;
}

TEST(ValidateChunksTest, ValidInputsHaveNoErrors) {
  const Library lib = library(3);
  ChunkInput with_meta = chunk("c-2", {0.0f, 1.0f, 0.0f});
  with_meta.metadata = {{"position", int64_t{5}}, {"page", int64_t{1}}, {"section", "s"}};
  ChunkInput empty_text = chunk(std::nullopt, {1.0f, 0.0f, 0.0f});
  empty_text.text = "";  // allowed: an embedding is given
  EXPECT_THAT(check_chunks({chunk("c-1", {1, 2, 3}), with_meta, empty_text}, lib), IsEmpty());
}

TEST(ValidateChunksTest, Count) {
  const Library lib = library(2);
  auto errors = check_chunks({}, lib);
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks"));
  EXPECT_EQ(errors[0].message, "must hold 1 to 10000 chunks, got 0");
  EXPECT_THAT(check_chunks({}, lib, ChunkCount::kZeroOrMore), IsEmpty());

  std::vector<ChunkInput> many(kMaxChunksPerRequest, chunk(std::nullopt, {1, 1}));
  EXPECT_THAT(check_chunks(many, lib), IsEmpty());
  many.push_back(chunk(std::nullopt, {1, 1}));
  errors = check_chunks(many, lib, ChunkCount::kZeroOrMore);
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks"));
  EXPECT_EQ(errors[0].message, "must hold 0 to 10000 chunks, got 10001");
}

TEST(ValidateChunksTest, IdSyntaxAndDuplicates) {
  const Library lib = library(2);
  auto errors = check_chunks({chunk("a", {1, 0}), chunk("b c", {1, 0}), chunk("b", {1, 0}),
                              chunk("a", {1, 0}), chunk(std::nullopt, {1, 0}), chunk("b", {1, 0})},
                             lib);
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks[1].id", "chunks[3].id", "chunks[5].id"));
  EXPECT_EQ(errors[0].message, "must match ^[A-Za-z0-9_.:-]{1,128}$");
  EXPECT_EQ(errors[1].message, "duplicates chunks[0].id");
  EXPECT_EQ(errors[2].message, "duplicates chunks[2].id");
}

TEST(ValidateChunksTest, TextRules) {
  const Library lib = library(2);
  ChunkInput no_text = chunk(std::nullopt, {1, 0});
  no_text.text.reset();
  ChunkInput long_text = chunk(std::nullopt, {1, 0});
  long_text.text = std::string(kMaxTextBytes + 1, 't');
  ChunkInput max_text = chunk(std::nullopt, {1, 0});
  max_text.text = std::string(kMaxTextBytes, 't');
  auto errors = check_chunks({no_text, long_text, max_text}, lib);
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks[0].text", "chunks[1].text"));
  EXPECT_EQ(errors[0].message, "required");
  EXPECT_EQ(errors[1].message, "must be at most 1048576 bytes, got 1048577");

  // Empty text needs an embedding, even when the library could embed.
  ChunkInput empty = chunk(std::nullopt, {});
  empty.embedding.reset();
  empty.text = "";
  errors = check_chunks({empty}, library(2, Metric::kCosine, /*embedder=*/true));
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks[0].text"));
}

TEST(ValidateChunksTest, EmbeddingRequiredUnlessEmbedder) {
  ChunkInput text_only = chunk("t", {});
  text_only.embedding.reset();
  auto errors = check_chunks({text_only}, library(2));
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks[0].embedding"));
  EXPECT_THAT(errors[0].message, HasSubstr("required"));
  EXPECT_THAT(check_chunks({text_only}, library(2, Metric::kCosine, true)), IsEmpty());
  // A given embedding is still checked when the library has an embedder.
  errors = check_chunks({chunk("t", {1, 2, 3})}, library(2, Metric::kCosine, true));
  EXPECT_THAT(fields_of(errors), ElementsAre("chunks[0].embedding"));
}

TEST(ValidateChunksTest, EmbeddingErrorsNameTheChunkAndElement) {
  const Library lib = library(4, Metric::kCosine);
  std::vector<float> nan_at_2 = {1, 1, std::nanf(""), 1};
  auto errors = check_chunks({chunk("a", {1, 1, 1, 1}), chunk("b", {1, 1, 1}),
                              chunk("c", {0, 0, 0, 0}), chunk("d", nan_at_2)},
                             lib);
  ASSERT_THAT(fields_of(errors),
              ElementsAre("chunks[1].embedding", "chunks[2].embedding", "chunks[3].embedding[2]"));
  EXPECT_EQ(errors[0].message, "expected 4 numbers, got 3");
  EXPECT_EQ(errors[1].message, "a zero vector has no direction under the cosine metric");
  EXPECT_EQ(errors[2].message, "must be a finite number");
}

TEST(ValidateChunksTest, MetadataPrefixNamesTheChunk) {
  ChunkInput c = chunk("a", {1, 0});
  c.metadata = {{"position", int64_t{-2}}, {"author", "x"}};
  auto errors = check_chunks({chunk("z", {1, 0}), c}, library(2));
  EXPECT_THAT(fields_of(errors),
              ElementsAre("chunks[1].metadata.author", "chunks[1].metadata.position"));
}

TEST(ValidateChunksTest, PrefixIsUsedVerbatim) {
  std::vector<FieldError> errors;
  validate_chunk_inputs({chunk("a", {1})}, library(2), "items", errors);
  EXPECT_THAT(fields_of(errors), ElementsAre("items[0].embedding"));
}

// ---- documents ----------------------------------------------------------------------------

TEST(ValidateDocumentTest, Create) {
  const Library lib = library(2);
  DocumentCreate ok;
  ok.id = "doc-1";
  ok.title = "A title";
  ok.metadata = {{"source", "file.pdf"}, {"language", "de"}};
  std::vector<FieldError> errors;
  validate_document_create(ok, lib, errors);
  EXPECT_THAT(errors, IsEmpty());  // no chunks is fine for a document
  ok.chunks = {chunk("c", {1, 2})};
  validate_document_create(ok, lib, errors);
  EXPECT_THAT(errors, IsEmpty());

  DocumentCreate bad;
  bad.id = "";
  bad.title = std::string(kMaxStringFieldBytes + 1, 't');
  bad.metadata = {{"position", int64_t{1}}};
  bad.chunks = {chunk("c", {1, 2}), chunk("c", {1})};
  validate_document_create(bad, lib, errors);
  EXPECT_THAT(fields_of(errors), ElementsAre("id", "title", "metadata.position",
                                             "chunks[1].embedding", "chunks[1].id"));
}

TEST(ValidateDocumentTest, Patch) {
  std::vector<FieldError> errors;
  validate_document_patch(DocumentPatch{}, errors);
  DocumentPatch clear;
  clear.title = std::optional<std::string>();
  clear.metadata = MetadataPatch{{"author", std::nullopt}, {"source", MetaValue{"x"}}};
  validate_document_patch(clear, errors);
  EXPECT_THAT(errors, IsEmpty());

  DocumentPatch bad;
  bad.title = std::optional<std::string>(std::string(kMaxStringFieldBytes + 1, 't'));
  bad.metadata = MetadataPatch{{"page", MetaValue{int64_t{1}}}};
  validate_document_patch(bad, errors);
  EXPECT_THAT(fields_of(errors), ElementsAre("title", "metadata.page"));
}

// ---- chunk patch --------------------------------------------------------------------------

std::vector<FieldError> check_patch(const ChunkPatch& p, const Library& lib) {
  std::vector<FieldError> errors;
  validate_chunk_patch(p, lib, errors);
  return errors;
}

TEST(ValidateChunkPatchTest, EmptyPatchIsValid) {
  EXPECT_THAT(check_patch(ChunkPatch{}, library(2)), IsEmpty());
}

TEST(ValidateChunkPatchTest, NewTextNeedsEmbeddingOrEmbedder) {
  ChunkPatch p;
  p.text = "new text";
  auto errors = check_patch(p, library(2));
  ASSERT_THAT(fields_of(errors), ElementsAre("embedding"));
  EXPECT_EQ(errors[0].message, "required when text changes and the library has no embedder");
  EXPECT_THAT(check_patch(p, library(2, Metric::kCosine, true)), IsEmpty());
  p.embedding = std::vector<float>{0.5f, 0.5f};
  EXPECT_THAT(check_patch(p, library(2)), IsEmpty());
}

TEST(ValidateChunkPatchTest, EmbeddingAndTextRules) {
  ChunkPatch p;
  p.embedding = std::vector<float>{1.0f, std::numeric_limits<float>::infinity(), 0.0f};
  EXPECT_THAT(fields_of(check_patch(p, library(3))), ElementsAre("embedding[1]"));
  p.embedding = std::vector<float>{1.0f};
  EXPECT_THAT(fields_of(check_patch(p, library(3))), ElementsAre("embedding"));
  p.embedding = std::vector<float>{0.0f, 0.0f, 0.0f};
  EXPECT_THAT(fields_of(check_patch(p, library(3))), ElementsAre("embedding"));
  EXPECT_THAT(check_patch(p, library(3, Metric::kL2)), IsEmpty());

  ChunkPatch empty_text;
  empty_text.text = "";
  EXPECT_THAT(fields_of(check_patch(empty_text, library(3, Metric::kCosine, true))),
              ElementsAre("text"));
  empty_text.embedding = std::vector<float>{1, 0, 0};
  EXPECT_THAT(check_patch(empty_text, library(3)), IsEmpty());

  ChunkPatch long_text;
  long_text.text = std::string(kMaxTextBytes + 1, 'x');
  EXPECT_THAT(fields_of(check_patch(long_text, library(3, Metric::kCosine, true))),
              ElementsAre("text"));
}

TEST(ValidateChunkPatchTest, MetadataPatch) {
  ChunkPatch p;
  p.metadata = MetadataPatch{{"position", std::nullopt}, {"page", MetaValue{2.5}}};
  EXPECT_THAT(fields_of(check_patch(p, library(2))),
              ElementsAre("metadata.page", "metadata.position"));
  p.metadata = MetadataPatch{{"position", MetaValue{int64_t{9}}}, {"page", std::nullopt}};
  EXPECT_THAT(check_patch(p, library(2)), IsEmpty());
}

// ---- search -------------------------------------------------------------------------------

std::vector<FieldError> check_search(const SearchRequest& r, const Library& lib) {
  std::vector<FieldError> errors;
  validate_search(r, lib, errors);
  return errors;
}

SearchRequest by_vector(std::vector<float> v) {
  SearchRequest r;
  r.vector = std::move(v);
  return r;
}

TEST(ValidateSearchTest, ValidRequests) {
  EXPECT_THAT(check_search(by_vector({1, 0}), library(2)), IsEmpty());
  SearchRequest text;
  text.text = "query";
  text.k = kMaxK;
  text.params.ef = 10000;
  text.params.nprobe = 1;
  EXPECT_THAT(check_search(text, library(2, Metric::kCosine, true)), IsEmpty());
}

TEST(ValidateSearchTest, ExactlyOneOfVectorOrText) {
  SearchRequest both = by_vector({1, 0});
  both.text = "q";
  auto errors = check_search(both, library(2, Metric::kCosine, true));
  ASSERT_THAT(fields_of(errors), ElementsAre("text"));
  EXPECT_EQ(errors[0].message, "give either vector or text, not both");

  errors = check_search(SearchRequest{}, library(2));
  ASSERT_THAT(fields_of(errors), ElementsAre("vector"));
  EXPECT_EQ(errors[0].message, "required (or text)");
}

TEST(ValidateSearchTest, TextNeedsAnEmbedder) {
  SearchRequest r;
  r.text = "q";
  auto errors = check_search(r, library(2));
  ASSERT_THAT(fields_of(errors), ElementsAre("text"));
  EXPECT_THAT(errors[0].message, HasSubstr("no embedder"));
  r.text = "";
  EXPECT_THAT(fields_of(check_search(r, library(2, Metric::kCosine, true))), ElementsAre("text"));
}

TEST(ValidateSearchTest, VectorRules) {
  auto errors = check_search(by_vector({1, 2, 3}), library(2));
  ASSERT_THAT(fields_of(errors), ElementsAre("vector"));
  EXPECT_EQ(errors[0].message, "expected 2 numbers, got 3");
  EXPECT_THAT(fields_of(check_search(by_vector({0, std::nanf("")}), library(2))),
              ElementsAre("vector[1]"));
  EXPECT_THAT(fields_of(check_search(by_vector({0, 0}), library(2))), ElementsAre("vector"));
  EXPECT_THAT(check_search(by_vector({0, 0}), library(2, Metric::kL2)), IsEmpty());
}

TEST(ValidateSearchTest, KRange) {
  SearchRequest r = by_vector({1, 0});
  r.k = 0;
  EXPECT_EQ(only_message(check_search(r, library(2))), "must be between 1 and 1000, got 0");
  r.k = kMaxK + 1;
  EXPECT_THAT(fields_of(check_search(r, library(2))), ElementsAre("k"));
  r.k = 1;
  EXPECT_THAT(check_search(r, library(2)), IsEmpty());
}

TEST(ValidateSearchTest, ParamsAreCheckedByTheIndexModule) {
  SearchRequest r = by_vector({1, 0});
  r.params.ef = 0;
  r.params.nprobe = 70000;
  EXPECT_THAT(fields_of(check_search(r, library(2))), ElementsAre("params.ef", "params.nprobe"));
}

// ---- pages and statuses -------------------------------------------------------------------

TEST(ValidatePageTest, LimitRange) {
  std::vector<FieldError> errors;
  validate_page(PageRequest{}, errors);
  validate_page(PageRequest{1, ""}, errors);
  validate_page(PageRequest{kMaxPageLimit, "c"}, errors);
  EXPECT_THAT(errors, IsEmpty());
  validate_page(PageRequest{0, ""}, errors);
  validate_page(PageRequest{kMaxPageLimit + 1, ""}, errors);
  ASSERT_THAT(fields_of(errors), ElementsAre("limit", "limit"));
  EXPECT_EQ(errors[1].message, "must be between 1 and 1000, got 1001");
}

TEST(ErrorsToStatusTest, EmptyIsOk) { EXPECT_TRUE(errors_to_status({}).is_ok()); }

TEST(ErrorsToStatusTest, DetailListsAtMostFiveAndAttachesAll) {
  std::vector<FieldError> errors;
  for (int i = 0; i < 7; ++i) errors.push_back({"f" + std::to_string(i), "m" + std::to_string(i)});
  Status s = errors_to_status(errors);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "7 invalid field(s): f0: m0; f1: m1; f2: m2; f3: m3; f4: m4");
  ASSERT_EQ(s.field_errors().size(), 7u);
  EXPECT_EQ(s.field_errors()[6].field, "f6");

  Status one = errors_to_status({{"chunks[3].embedding", "expected 768 numbers, got 767"}});
  EXPECT_EQ(one.message(),
            "1 invalid field(s): chunks[3].embedding: expected 768 numbers, got 767");
  Status body = errors_to_status({{"", "empty body"}});
  EXPECT_EQ(body.message(), "1 invalid field(s): empty body");
}

}  // namespace
}  // namespace quiver::engine
