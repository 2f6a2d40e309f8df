#include "api/json_reader.h"

#include <gtest/gtest.h>

namespace quiver::api {
namespace {

std::string detail_of(const std::string& body) {
  auto r = parse_json(body);
  EXPECT_FALSE(r.is_ok()) << body;
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kMalformed);
  EXPECT_EQ(r.status().field_errors().size(), 1u);
  if (!r.status().field_errors().empty()) {
    EXPECT_EQ(r.status().field_errors()[0].field, "");
  }
  return r.status().message();
}

TEST(ParseJson, AcceptsValidDocuments) {
  auto r = parse_json(R"({"a":[1,2.5,"x"],"b":{"c":null}})");
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(r->is_object());
}

TEST(ParseJson, ReportsByteOffsetOfSyntaxErrors) {
  // Offsets computed by hand: the first byte the parser cannot accept.
  EXPECT_NE(detail_of(R"({"a": 1,})").find("at byte 8"), std::string::npos);
  EXPECT_NE(detail_of(R"({"name": "x" "dimension": 3})").find("at byte 13"), std::string::npos);
  EXPECT_NE(detail_of("[1, 2").find("at byte 5"), std::string::npos);
  EXPECT_NE(detail_of("").find("at byte 0"), std::string::npos);
  EXPECT_NE(detail_of("{} x").find("at byte 3"), std::string::npos);
}

TEST(ParseJson, RejectsInvalidUtf8WithOffset) {
  std::string body = "{\"a\": \"x\xff\"}";
  std::string d = detail_of(body);
  EXPECT_NE(d.find("at byte"), std::string::npos) << d;
}

std::string nested(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(ParseJson, DepthLimitIs64) {
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth)).is_ok());
  std::string d = detail_of(nested(kMaxJsonDepth + 1));
  EXPECT_NE(d.find("deeper than 64"), std::string::npos) << d;
  // Very deep bodies are refused without crashing (the error path is iterative).
  EXPECT_NE(detail_of(nested(100000)).find("deeper"), std::string::npos);
  EXPECT_FALSE(detail_of(std::string(100000, '[')).empty());
}

TEST(ParseJson, ElementsStayValidWithSpareCapacity) {
  std::string body = R"({"v":[0.1,0.2]})";
  body.reserve(body.size() + 64);
  auto r = parse_json(body);
  ASSERT_TRUE(r.is_ok());
  double d = 0;
  ASSERT_EQ((*r)["v"].at(1).get(d), simdjson::SUCCESS);
  EXPECT_DOUBLE_EQ(d, 0.2);
}

TEST(ParseJson, TrimKeepsDepthLimitAndParsing) {
  std::string big = "[" + std::string(6u << 20, ' ') + "1]";
  ASSERT_TRUE(parse_json(big).is_ok());
  trim_thread_parser();  // drops the big buffers; the next parse builds a fresh parser
  EXPECT_TRUE(parse_json("{\"a\":1}").is_ok());
  EXPECT_FALSE(parse_json(nested(kMaxJsonDepth + 1)).is_ok());
  trim_thread_parser();
  EXPECT_TRUE(parse_json(nested(kMaxJsonDepth)).is_ok());
}

TEST(LocateJsonError, NoErrorInValidText) {
  std::size_t offset = 0;
  std::string reason;
  EXPECT_FALSE(locate_json_error("{\"a\":1}", &offset, &reason));
}

}  // namespace
}  // namespace quiver::api
