#include "engine/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

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

std::vector<FieldError> check(ResourceKind kind, const Metadata& m,
                              std::string_view prefix = "metadata") {
  std::vector<FieldError> errors;
  validate_metadata(kind, m, prefix, errors);
  return errors;
}

std::vector<FieldError> check_patch(ResourceKind kind, const MetadataPatch& p,
                                    std::string_view prefix = "metadata") {
  std::vector<FieldError> errors;
  validate_metadata_patch(kind, p, prefix, errors);
  return errors;
}

TEST(SchemaTest, ValidMetadataOfEveryKindHasNoErrors) {
  EXPECT_THAT(check(ResourceKind::kLibrary, {{"tags", StringList{"a", "b"}}, {"owner", "ann"}}),
              IsEmpty());
  EXPECT_THAT(check(ResourceKind::kDocument, {{"source", "https://x/y"},
                                              {"author", "bo"},
                                              {"language", "en"},
                                              {"tags", StringList{}}}),
              IsEmpty());
  EXPECT_THAT(check(ResourceKind::kChunk, {{"position", int64_t{0}},
                                           {"page", int64_t{12}},
                                           {"section", "intro"},
                                           {"tags", StringList{"x"}}}),
              IsEmpty());
  EXPECT_THAT(check(ResourceKind::kChunk, {}), IsEmpty());
}

TEST(SchemaTest, AllowedFieldsPerKind) {
  EXPECT_THAT(metadata_fields(ResourceKind::kLibrary), ElementsAre("owner", "tags"));
  EXPECT_THAT(metadata_fields(ResourceKind::kDocument),
              ElementsAre("author", "language", "source", "tags"));
  EXPECT_THAT(metadata_fields(ResourceKind::kChunk),
              ElementsAre("page", "position", "section", "tags"));
}

TEST(SchemaTest, ServerTimestampsAreRejected) {
  auto errors = check(ResourceKind::kDocument,
                      {{"created_at", "2026-01-01T00:00:00.000Z"}, {"updated_at", int64_t{1}}});
  EXPECT_THAT(fields_of(errors), ElementsAre("metadata.created_at", "metadata.updated_at"));
  for (const FieldError& e : errors) EXPECT_EQ(e.message, "set by the server; do not send it");

  auto patch_errors = check_patch(ResourceKind::kChunk, {{"created_at", std::nullopt}});
  EXPECT_THAT(fields_of(patch_errors), ElementsAre("metadata.created_at"));
}

TEST(SchemaTest, UnknownFieldListsTheAllowedOnes) {
  auto errors = check(ResourceKind::kLibrary, {{"colour", "red"}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.colour"));
  EXPECT_EQ(errors[0].message, "unknown metadata field; allowed: owner, tags");

  // A field of another kind is unknown here.
  errors = check(ResourceKind::kLibrary, {{"position", int64_t{1}}});
  EXPECT_THAT(fields_of(errors), ElementsAre("metadata.position"));
  errors = check(ResourceKind::kChunk, {{"author", "x"}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.author"));
  EXPECT_EQ(errors[0].message, "unknown metadata field; allowed: page, position, section, tags");
}

TEST(SchemaTest, PrefixNamesTheChunk) {
  auto errors = check(ResourceKind::kChunk, {{"page", "one"}}, "chunks[3].metadata");
  ASSERT_THAT(fields_of(errors), ElementsAre("chunks[3].metadata.page"));
}

TEST(SchemaTest, WrongTypes) {
  auto errors = check(ResourceKind::kDocument, {{"author", int64_t{5}},
                                                {"language", StringList{"en"}},
                                                {"source", true},
                                                {"tags", "not-a-list"}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.author", "metadata.language",
                                             "metadata.source", "metadata.tags"));
  EXPECT_EQ(errors[0].message, "expected a string");
  EXPECT_EQ(errors[1].message, "expected a string");
  EXPECT_EQ(errors[2].message, "expected a string");
  EXPECT_EQ(errors[3].message, "expected an array of strings");
}

TEST(SchemaTest, IntegersMustBeNonNegativeInt64) {
  auto errors =
      check(ResourceKind::kChunk, {{"page", int64_t{-1}}, {"position", "3"}, {"section", "s"}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.page", "metadata.position"));
  EXPECT_EQ(errors[0].message, "expected an integer >= 0");
  EXPECT_EQ(errors[1].message, "expected an integer >= 0");

  errors = check(ResourceKind::kChunk, {{"position", 3.5}, {"page", 2.0}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.page", "metadata.position"));
  EXPECT_EQ(errors[0].message, "expected an integer");
  EXPECT_EQ(errors[1].message, "expected an integer");

  errors = check(ResourceKind::kChunk, {{"position", false}});
  EXPECT_THAT(fields_of(errors), ElementsAre("metadata.position"));

  EXPECT_THAT(check(ResourceKind::kChunk, {{"position", int64_t{0}}, {"page", INT64_MAX}}),
              IsEmpty());
}

TEST(SchemaTest, StringLengthBound) {
  EXPECT_THAT(check(ResourceKind::kLibrary, {{"owner", std::string(kMaxStringFieldBytes, 'a')}}),
              IsEmpty());
  auto errors =
      check(ResourceKind::kLibrary, {{"owner", std::string(kMaxStringFieldBytes + 1, 'a')}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.owner"));
  EXPECT_EQ(errors[0].message, "must be at most 4096 bytes, got 4097");
}

TEST(SchemaTest, TagBounds) {
  StringList max_tags(kMaxTagsPerList, "t");
  EXPECT_THAT(check(ResourceKind::kChunk, {{"tags", max_tags}}), IsEmpty());

  StringList too_many(kMaxTagsPerList + 1, "t");
  auto errors = check(ResourceKind::kChunk, {{"tags", too_many}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.tags"));
  EXPECT_THAT(errors[0].message, HasSubstr("at most 256 entries, got 257"));

  errors =
      check(ResourceKind::kDocument, {{"tags", StringList{"ok", "", std::string(kMaxTagBytes, 'x'),
                                                          std::string(kMaxTagBytes + 1, 'x')}}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.tags[1]", "metadata.tags[3]"));
  EXPECT_EQ(errors[0].message, "must not be empty");
  EXPECT_EQ(errors[1].message, "must be at most 256 bytes, got 257");
}

TEST(SchemaTest, ErrorsAreAppendedNotReplaced) {
  std::vector<FieldError> errors = {{"name", "earlier"}};
  validate_metadata(ResourceKind::kLibrary, {{"bad", "x"}}, "metadata", errors);
  EXPECT_THAT(fields_of(errors), ElementsAre("name", "metadata.bad"));
}

TEST(SchemaTest, PatchAllowsNullExceptPosition) {
  EXPECT_THAT(check_patch(ResourceKind::kChunk, {{"page", std::nullopt},
                                                 {"section", std::nullopt},
                                                 {"tags", std::nullopt},
                                                 {"position", int64_t{4}}}),
              IsEmpty());
  auto errors = check_patch(ResourceKind::kChunk, {{"position", std::nullopt}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.position"));
  EXPECT_THAT(errors[0].message, HasSubstr("cannot be removed"));

  // Removing an unknown field is still an unknown field.
  errors = check_patch(ResourceKind::kLibrary, {{"nope", std::nullopt}});
  EXPECT_THAT(fields_of(errors), ElementsAre("metadata.nope"));
}

TEST(SchemaTest, PatchValuesFollowTheSchema) {
  auto errors = check_patch(ResourceKind::kDocument, {{"author", MetaValue{int64_t{1}}},
                                                      {"tags", MetaValue{StringList{""}}}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.author", "metadata.tags[0]"));
  EXPECT_EQ(errors[0].message, "expected a string");
  errors = check_patch(ResourceKind::kChunk, {{"position", MetaValue{1.5}}});
  ASSERT_THAT(fields_of(errors), ElementsAre("metadata.position"));
  EXPECT_EQ(errors[0].message, "expected an integer");
}

TEST(SchemaTest, ApplyPatchReplacesRemovesAndKeeps) {
  const Metadata base = {
      {"position", int64_t{2}}, {"page", int64_t{7}}, {"tags", StringList{"a", "b"}}};
  const MetadataPatch patch = {{"page", std::nullopt},           // removed
                               {"tags", StringList{"c"}},        // replaced whole, not merged
                               {"section", MetaValue{"intro"}},  // added
                               {"author", std::nullopt}};        // removing an absent field
  const Metadata out = apply_metadata_patch(base, patch);
  const Metadata expected = {
      {"position", int64_t{2}}, {"section", "intro"}, {"tags", StringList{"c"}}};
  EXPECT_EQ(out, expected);
  // The base is untouched.
  EXPECT_EQ(base.at("page"), MetaValue{int64_t{7}});
  EXPECT_EQ(apply_metadata_patch(base, {}), base);
}

}  // namespace
}  // namespace quiver::engine
